#!/usr/bin/env bash
# Instructions per /verify request in the server's user space, counted by callgrind: immune
# to the noise of a shared machine, so it proves a cut that wrk's req/s cannot. Loopback only.
#   bench/callgrind.sh              (cached JWT, API key and session cookie, SECONDS_EACH=5 of
#                                    wrk -c64 each)
#   KEEP=/tmp/cg bench/callgrind.sh (keeps the callgrind.out files for callgrind_annotate)
#   BLOCKS=1000 bench/callgrind.sh  (with that many address blocks, none of them the client's,
#                                    over 4 prefix lengths: the cost of the check before routing)
# Prints, for each credential, instructions per request (Ir / requests wrk completed).
set -euo pipefail
cd "$(dirname "$0")/.."
make -j"$(nproc)" >/dev/null
S=${SECONDS_EACH:-5}
WORK=$(mktemp -d /tmp/gh-cg-XXXXXX)
GPID=""
cleanup() { [ -n "$GPID" ] && kill "$GPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
. bench/lib.sh

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
PASSWORD='Bench-Sturdy-Gate-2026!'
serve() { # the server as bench/run.sh runs it, under "$@"
  GATEHOUSE_RATE_LIMIT_GLOBAL=0 GATEHOUSE_RATE_LIMIT_AUTH=0 GATEHOUSE_PUBLIC_URL=$BASE \
    GATEHOUSE_ADMIN_PASSWORD=$PASSWORD "$@" build/gatehouse serve --listen "127.0.0.1:$PORT" \
    --data-dir "$WORK/data" > "$WORK/server.log" 2>&1 & GPID=$!
  wait_http "$BASE/healthz"
}

# Credentials from a plain run (bcrypt and key generation are slow under callgrind).
serve env
ACCESS=$(curl -fs "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" |
  /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
APIKEY=$(curl -fs "$BASE/api/v1/api-keys" -H "Authorization: Bearer $ACCESS" \
  -H 'Content-Type: application/json' -d '{"name":"bench"}' |
  /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["key"])')
SID=$(curl -fs -D - -o /dev/null "$BASE/api/v1/auth/login?mode=cookie" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" | sed -n 's/^Set-Cookie: gh_sid=\([^;]*\);.*/\1/p')
if [ "${BLOCKS:-0}" -gt 0 ]; then
  BASE=$BASE ACCESS=$ACCESS N=$BLOCKS /usr/bin/python3 - <<'PY'
import json, os, urllib.request
base, n = os.environ["BASE"], int(os.environ["N"])
h = {"Authorization": "Bearer " + os.environ["ACCESS"], "Content-Type": "application/json"}
for i in range(n):  # /32, /24, /16 of IPv4 and /64 of IPv6: 4 prefix lengths
    k = i % 4
    cidr = [f"10.{i >> 8 & 255}.{i & 255}.1", f"172.{16 + (i >> 8 & 15)}.{i & 255}.0/24",
            f"100.{64 + (i & 63)}.0.0/16", f"2001:db8:{i:x}::/64"][k]
    body = json.dumps({"cidr": cidr, "reason": "bench"}).encode()
    try:
        urllib.request.urlopen(urllib.request.Request(base + "/api/v1/edge/blocks", body, h),
                               timeout=10).read()
    except urllib.error.HTTPError as e:
        if e.code != 409:  # the same range twice is fine
            raise
PY
fi
kill "$GPID"; wait "$GPID" || true

OUT=${KEEP:-$WORK}
mkdir -p "$OUT"
serve valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out.%p"
for cred in "Authorization: Bearer $ACCESS" "X-API-Key: $APIKEY" "Cookie: gh_sid=$SID"; do
  name=${cred%%:*}
  curl -fs -o /dev/null "$BASE/api/v1/auth/verify" -H "$cred" # warm the caches
  callgrind_control -i on "$GPID" >/dev/null
  D=$((S + 30)) run_wrk "$WORK/wrk.txt" -t1 -c64 -d"${S}s" -H "$cred" "$BASE/api/v1/auth/verify"
  callgrind_control -i off "$GPID" >/dev/null
  callgrind_control -d "$name" "$GPID" >/dev/null
  N=$(requests "$WORK/wrk.txt")
  F=$(ls -t "$OUT"/callgrind.out.*.* | head -1)
  IR=$(awk '/^totals:/ {print $2}' "$F")
  echo "$name: $N requests (non-2xx $(non2xx "$WORK/wrk.txt")), $IR Ir, $(awk -v i="$IR" -v n="$N" 'BEGIN {printf "%.0f", i / n}') Ir/request ($F)"
done

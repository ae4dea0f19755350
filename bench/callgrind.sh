#!/usr/bin/env bash
# Instructions per /verify request in the server's user space, counted by callgrind: immune
# to the noise of a shared machine, so it proves a cut that wrk's req/s cannot. Loopback only.
#   bench/callgrind.sh              (cached JWT, API key and session cookie, SECONDS_EACH=5 of
#                                    wrk -c64 each)
#   KEEP=/tmp/cg bench/callgrind.sh (keeps the callgrind.out files for callgrind_annotate)
#   BLOCKS=1000 bench/callgrind.sh  (with that many address blocks, none of them the client's,
#                                    over 4 prefix lengths: the cost of the check before routing)
#   H2=1 bench/callgrind.sh         (server.h2c on; the cached JWT over HTTP/1.1 with wrk, then
#                                    over h2c with h2load -c8 -m8: the HTTP/2 path's own cost)
#   GATEHOUSE_BIN=/tmp/gh-before bench/callgrind.sh   (another binary, no build)
# Prints, for each credential, instructions per request (Ir / requests wrk completed).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${GATEHOUSE_BIN:-build/gatehouse}
H2C=false; [ -z "${H2:-}" ] || H2C=true
[ -n "${GATEHOUSE_BIN:-}" ] || make -j"$(nproc)" >/dev/null
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
    GATEHOUSE_SERVER_H2C=$H2C GATEHOUSE_ADMIN_PASSWORD=$PASSWORD "$@" "$BIN" serve --listen "127.0.0.1:$PORT" \
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
# load NAME CREDENTIAL: counts around one load (wrk, or h2load for the name h2c).
load() {
  local name=$1 cred=$2 n
  curl -fs -o /dev/null "$BASE/api/v1/auth/verify" -H "$cred" # warm the caches
  callgrind_control -i on "$GPID" >/dev/null
  if [ "$name" = h2c ]; then
    timeout $((S + 30)) h2load -t1 -c8 -m8 -D "$S" -H "$cred" "$BASE/api/v1/auth/verify" \
      > "$WORK/load.txt" 2>&1
    n=$(awk '/^requests:/ {print $8}' "$WORK/load.txt") # succeeded
  else
    D=$((S + 30)) run_wrk "$WORK/load.txt" -t1 -c64 -d"${S}s" -H "$cred" "$BASE/api/v1/auth/verify"
    n=$(requests "$WORK/load.txt")
  fi
  callgrind_control -i off "$GPID" >/dev/null
  callgrind_control -d "$name" "$GPID" >/dev/null
  local f ir
  f=$(ls -t "$OUT"/callgrind.out.*.* | head -1)
  ir=$(awk '/^totals:/ {print $2}' "$f")
  echo "$name: $n requests (non-2xx $(non2xx "$WORK/load.txt")), $ir Ir, $(awk -v i="$ir" -v n="$n" 'BEGIN {printf "%.0f", i / n}') Ir/request ($f)"
}
if [ -n "${H2:-}" ]; then
  load Authorization "Authorization: Bearer $ACCESS"
  load h2c "Authorization: Bearer $ACCESS"
else
  for cred in "Authorization: Bearer $ACCESS" "X-API-Key: $APIKEY" "Cookie: gh_sid=$SID"; do
    load "${cred%%:*}" "$cred"
  done
fi

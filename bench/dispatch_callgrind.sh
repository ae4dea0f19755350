#!/usr/bin/env bash
# Instructions the dispatcher spends per request, counted by callgrind: Gatehouse runs
# under `valgrind --tool=callgrind --toggle-collect=gh_api_dispatch` (only what runs
# inside gh_api_dispatch is counted), N keep-alive requests are sent to each of a few
# paths, and the inclusive instruction counts of the dispatcher and of its route lookup
# are printed per request. Deterministic: no timing, any load on the machine is fine.
#
#   bench/dispatch_callgrind.sh [N]      (default 2000 requests per path)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-2000}
make -s -j2 all >/dev/null
WORK=$(mktemp -d)
trap 'kill "$GPID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"

run() { # run LABEL PATH [bearer]: N requests on one connection, then the counts
  local label=$1 path=$2 header=${3:-} tag
  tag=$(tr -c 'a-z0-9' _ <<<"$path")
  GATEHOUSE_ADMIN_PASSWORD=Zu7-quaint-Otter-93! GATEHOUSE_AUTH_ALGORITHM=ES256 \
  GATEHOUSE_PASSWORD_BCRYPT_COST=4 GATEHOUSE_RATE_LIMIT_GLOBAL=0 GATEHOUSE_RATE_LIMIT_AUTH=0 \
  GATEHOUSE_LOG_ACCESS=false \
    timeout 600 valgrind -q --tool=callgrind --toggle-collect=gh_api_dispatch \
      --callgrind-out-file="$WORK/cg.$tag" build/gatehouse serve --listen "127.0.0.1:$PORT" \
      --data-dir "$WORK/data" > "$WORK/out.$tag" 2>&1 &
  GPID=$!
  wait_http "$BASE/healthz"
  local auth=""
  if [ -n "$header" ]; then
    auth=$(curl -fs "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
      -d '{"username":"admin","password":"Zu7-quaint-Otter-93!"}' |
      /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
  fi
  /usr/bin/python3 - "$PORT" "$path" "$N" "$auth" <<'PY'
import http.client, sys
port, path, n, token = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
h = {"Authorization": "Bearer " + token} if token else {}
for _ in range(n):
    c.request("GET", path, headers=h)
    c.getresponse().read()
PY
  kill "$GPID"; wait "$GPID" || true
  # The 1 (health check) + login requests dispatched before the N are counted too: a
  # fixed few against N.
  [ -n "${KEEP:-}" ] && cp "$WORK/cg.$tag" "$KEEP.$tag"
  callgrind_annotate --inclusive=yes "$WORK/cg.$tag" 2>/dev/null |
    awk -v n="$N" -v label="$label" '
      /gh_api_dispatch[^_]/ && !d { gsub(",", "", $1); d = $1 }
      /gh_router_match|gh_api_path_matches/ && !l { gsub(",", "", $1); l = $1 }
      END { printf "%-28s dispatch %7.0f Ir/request, route lookup %6.0f Ir/request\n",
            label, d / n, l / n }'
}

run "GET /api/v1/auth/verify" /api/v1/auth/verify bearer
run "GET /healthz" /healthz
run "GET /metrics (last route)" /metrics
run "GET /nope (404)" /nope

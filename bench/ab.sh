#!/usr/bin/env bash
# Figures a and a2 (/verify with a cached JWT and with an API key, per server CPU-second
# against nginx `return 200`) for two builds in one run: nginx, A and B serve side by side
# and each round measures nginx, A's JWT and key, then B's, back to back, so a change is
# compared with what it changes under the same load. Loopback only; wrk -d and timeout
# bound every load.
#   A=/tmp/gatehouse-before B=build/gatehouse bench/ab.sh
#   DURATION=8 ROUNDS=5 A=... B=... bench/ab.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${A:?A=path of the first gatehouse binary}" "${B:?B=path of the second}"
D=${DURATION:-8}
ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d /tmp/gh-ab-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
. bench/lib.sh

NPORT=$(free_port)
start_nginx "$WORK/nginx" "
  server { listen 127.0.0.1:$NPORT; location / { return 200 \"ok\"; } }"
wait_http "http://127.0.0.1:$NPORT/"

# start NAME BIN: a server with run.sh's settings, its pid, base URL, token and key in NAME_*.
PASSWORD='Bench-Sturdy-Gate-2026!'
start() {
  local name=$1 bin=$2 port; port=$(free_port)
  GATEHOUSE_RATE_LIMIT_GLOBAL=0 GATEHOUSE_RATE_LIMIT_AUTH=0 GATEHOUSE_ADMIN_PASSWORD=$PASSWORD \
    "$bin" serve --listen "127.0.0.1:$port" --data-dir "$WORK/$name" \
    > "$WORK/$name.log" 2> "$WORK/$name.err" & PIDS+=($!)
  printf -v "${name}_PID" '%s' "$!"
  printf -v "${name}_BASE" '%s' "http://127.0.0.1:$port"
  wait_http "http://127.0.0.1:$port/healthz"
  local access key
  access=$(curl -fs "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" |
    /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
  key=$(curl -fs "http://127.0.0.1:$port/api/v1/api-keys" -H "Authorization: Bearer $access" \
    -H 'Content-Type: application/json' -d '{"name":"bench"}' |
    /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["key"])')
  printf -v "${name}_JWT" '%s' "$access"
  printf -v "${name}_KEY" '%s' "$key"
}
start A "$A"
start B "$B"

declare -A R
for r in $(seq 1 "$ROUNDS"); do
  run_wrk_cpu "$WORK/n-$r" "$NGPID" -t1 -c64 -d"${D}s" "http://127.0.0.1:$NPORT/"
  N=$(per_cpu "$WORK/n-$r")
  line="round $r: nginx $N req/CPU-s"
  for s in A B; do
    pid=${s}_PID base=${s}_BASE jwt=${s}_JWT key=${s}_KEY
    run_wrk_cpu "$WORK/$s-jwt-$r" "${!pid}" -t1 -c64 -d"${D}s" -H "Authorization: Bearer ${!jwt}" \
      "${!base}/api/v1/auth/verify"
    run_wrk_cpu "$WORK/$s-key-$r" "${!pid}" -t1 -c64 -d"${D}s" -H "X-API-Key: ${!key}" \
      "${!base}/api/v1/auth/verify"
    J=$(per_cpu "$WORK/$s-jwt-$r"); K=$(per_cpu "$WORK/$s-key-$r")
    R[$s-jwt]="${R[$s-jwt]:-} $(ratio "$J" "$N")"; R[$s-key]="${R[$s-key]:-} $(ratio "$K" "$N")"
    line="$line; $s JWT $J ($(ratio "$J" "$N")), key $K ($(ratio "$K" "$N"))"
  done
  echo "$line (load $(cut -d' ' -f1 /proc/loadavg))"
done
for s in A B; do
  echo "$s: a. JWT / nginx per server CPU-second:${R[$s-jwt]} median $(echo "${R[$s-jwt]}" | median);" \
    "a2. API key:${R[$s-key]} median $(echo "${R[$s-key]}" | median)"
done

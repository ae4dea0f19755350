#!/usr/bin/env bash
# /verify over HTTP/2 cleartext (h2load) against HTTP/1.1 (wrk), side by side, on one server
# (server.h2c on), the same cached RS256 token, in ROUNDS rounds (issue 17). Loopback only;
# every load is bounded by -D / -d and timeout.
#   bench/h2.sh                       10 s per load, 3 rounds
#   DURATION=5 ROUNDS=1 bench/h2.sh   a smoke run
#   GATEHOUSE_BIN=build-x/gatehouse bench/h2.sh
# Prints req/s and requests per server CPU-second (utime + stime from /proc/PID/stat around
# each load) of:
#   h1     wrk    -t1 -c64                  64 connections, one request in flight each
#   h2     h2load -t1 -c64 -m1              the same concurrency over h2c
#   h2-mux h2load -t1 -c8  -m8              64 requests in flight on 8 connections
# and the ratios h2/h1 of both measures (medians of the per-round ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
D=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
BIN=${GATEHOUSE_BIN:-build/gatehouse}
[ -n "${GATEHOUSE_BIN:-}" ] || make -j"$(nproc)" >/dev/null
scripts/deps.sh bench
WORK=$(mktemp -d /tmp/gh-h2-XXXXXX)
GPID=""
cleanup() { [ -n "$GPID" ] && kill "$GPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
. bench/lib.sh

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
PASSWORD='Bench-Sturdy-Gate-2026!'
GATEHOUSE_RATE_LIMIT_GLOBAL=0 GATEHOUSE_RATE_LIMIT_AUTH=0 GATEHOUSE_SERVER_H2C=true \
  GATEHOUSE_ADMIN_PASSWORD=$PASSWORD "$BIN" serve --listen "127.0.0.1:$PORT" \
  --data-dir "$WORK/data" > "$WORK/server.log" 2>&1 & GPID=$!
wait_http "$BASE/healthz"
ACCESS=$(curl -fs "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" |
  /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
AUTH="Authorization: Bearer $ACCESS"
URL="$BASE/api/v1/auth/verify"
curl -fs -o /dev/null "$URL" -H "$AUTH" # warm the token cache

# h2load's summary as wrk's two lines the lib's helpers read.
run_h2load() {
  local out=$1; shift
  local c0; c0=$(cpu_s "$GPID")
  timeout $((D + 30)) h2load -t1 -D "$D" -H "$AUTH" "$@" "$URL" > "$out.raw" 2>&1
  awk -v a="$c0" -v b="$(cpu_s "$GPID")" 'BEGIN { printf "%.2f\n", b - a }' > "$out.cpu"
  awk '/^finished in/ { gsub(/,/, ""); rps = $4 }
       /^requests:/ { done = $8 }
       /^status codes:/ { ok = $3 }
       END { printf "%d requests in\nRequests/sec: %s\nh2 2xx: %d\n", done, rps, ok }' \
    "$out.raw" > "$out"
}

declare -a R1 C1 R2 C2 RM CM
for r in $(seq 1 "$ROUNDS"); do
  run_wrk_cpu "$WORK/h1" "$GPID" -t1 -c64 -d"${D}s" -H "$AUTH" "$URL"
  run_h2load "$WORK/h2" -c64 -m1
  run_h2load "$WORK/mux" -c8 -m8
  printf 'round %d: h1 %s req/s %s/cpu-s (non-2xx %s) | h2 %s req/s %s/cpu-s (%s) | h2-mux %s req/s %s/cpu-s (%s)\n' \
    "$r" "$(rps "$WORK/h1")" "$(per_cpu "$WORK/h1")" "$(non2xx "$WORK/h1")" \
    "$(rps "$WORK/h2")" "$(per_cpu "$WORK/h2")" "$(awk '/h2 2xx/ {print $3 " 2xx"}' "$WORK/h2")" \
    "$(rps "$WORK/mux")" "$(per_cpu "$WORK/mux")" "$(awk '/h2 2xx/ {print $3 " 2xx"}' "$WORK/mux")"
  R1+=("$(rps "$WORK/h1")"); C1+=("$(per_cpu "$WORK/h1")")
  R2+=("$(ratio "$(rps "$WORK/h2")" "$(rps "$WORK/h1")")")
  C2+=("$(ratio "$(per_cpu "$WORK/h2")" "$(per_cpu "$WORK/h1")")")
  RM+=("$(ratio "$(rps "$WORK/mux")" "$(rps "$WORK/h1")")")
  CM+=("$(ratio "$(per_cpu "$WORK/mux")" "$(per_cpu "$WORK/h1")")")
done
echo "median ratios (h2 / h1): h2 -c64 -m1 req/s $(echo "${R2[*]}" | median), per cpu-s $(echo "${C2[*]}" | median);" \
  "h2 -c8 -m8 req/s $(echo "${RM[*]}" | median), per cpu-s $(echo "${CM[*]}" | median)"
echo "idle RSS after the runs: $(awk '/VmRSS/ {print $2 " kB"}' "/proc/$GPID/status")"

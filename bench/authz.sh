#!/usr/bin/env bash
# Issue 4 figures: authorization costs measured against plain /verify in the same run,
# printed as ratios, and org scaling (10 orgs vs 10,000 orgs x 10 members, side by side).
# Loopback only; every load is bounded by wrk -d and timeout.
#   bench/authz.sh                 (DURATION=10 s per load by default)
#   DURATION=2 bench/authz.sh      a quick smoke run
#   ONLY="l m" bench/authz.sh      some figures only (l m n)
#   ROUNDS=5 bench/authz.sh        rounds of figures l/m (median reported; default 3)
#   GATEHOUSE_BIN=build-t/gatehouse bench/authz.sh   another binary (no build then)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench
if [ -z "${GATEHOUSE_BIN:-}" ]; then
  make -j"$(nproc)" >/dev/null
  GATEHOUSE_BIN=build/gatehouse
fi

D=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d /tmp/gh-bench-authz-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

. bench/lib.sh
json() { /usr/bin/python3 -c "import json,sys;print(json.load(sys.stdin)$1)"; }

PASSWORD='Bench-Sturdy-Gate-2026!'
USER_PASSWORD='Gh-7f3e9a1c2b-Pw!'
RULES='GET /files/** file:read; GET /open/** authenticated'

# start NAME DATA_DIR: a Gatehouse with its defaults (RS256-4096, bcrypt 12, access log on)
# and the route rules, but the request rate limits off (wrk from one address is exactly
# what they refuse); sets PORT and the pid in SERVER_PID.
start() {
  PORT=$(free_port)
  GATEHOUSE_ADMIN_PASSWORD=$PASSWORD GATEHOUSE_FORWARD_AUTH_RULES=$RULES \
    GATEHOUSE_RATE_LIMIT_GLOBAL=0 GATEHOUSE_RATE_LIMIT_AUTH=0 \
    "$GATEHOUSE_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$2" \
    > "$WORK/$1.log" 2> "$WORK/$1.err" & SERVER_PID=$!; PIDS+=($SERVER_PID)
  wait_http "http://127.0.0.1:$PORT/healthz"
}
stop() { kill "$1"; for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; echo "server $1 did not stop" >&2; exit 1; }
post() { curl -fsS "$1" -H 'Content-Type: application/json' ${3:+-H "Authorization: Bearer $3"} -d "$2"; }
token() { post "$1/api/v1/auth/login" "{\"username\":\"$2\",\"password\":\"$3\"${4:+,\"org_id\":\"$4\"}}" | json '["access_token"]'; }

# ---- l/m: authz/check and /verify with a permission rule vs plain /verify ----
if want l || want m; then
start main "$WORK/main"
BASE="http://127.0.0.1:$PORT"
post "$BASE/api/v1/auth/register" \
  "{\"username\":\"bencher\",\"email\":\"bencher@example.com\",\"password\":\"$USER_PASSWORD\"}" >/dev/null
ACCESS=$(token "$BASE" bencher "$USER_PASSWORD")   # a plain member: file:read file:write org:read
CHECK_BODY='{"permission":"file:read"}'
[ "$(post "$BASE/api/v1/authz/check" "$CHECK_BODY" "$ACCESS" | json '["allowed"]')" = True ]
curl -fs -o /dev/null "$BASE/api/v1/auth/verify" -H "Authorization: Bearer $ACCESS" \
  -H 'X-Forwarded-Method: GET' -H 'X-Forwarded-Uri: /files/report.pdf' -H 'X-Forwarded-Host: app.test'

RH=""; RI=""; RI2=""
for r in $(seq 1 "$ROUNDS"); do
  run_wrk "$WORK/plain-$r.txt" -t1 -c64 -d"${D}s" --latency -H "Authorization: Bearer $ACCESS" \
    "$BASE/api/v1/auth/verify"
  P_RPS=$(rps "$WORK/plain-$r.txt")
  LINE="== l/m round $r (wrk -t1 -c64 -d${D}s): plain verify $P_RPS req/s (p99 $(p99 "$WORK/plain-$r.txt"), non-2xx $(non2xx "$WORK/plain-$r.txt"))"
  if want l; then
    GH_BODY=$CHECK_BODY run_wrk "$WORK/check-$r.txt" -t1 -c64 -d"${D}s" --latency -s bench/authz.lua \
      -H "Authorization: Bearer $ACCESS" "$BASE/api/v1/authz/check"
    C_RPS=$(rps "$WORK/check-$r.txt")
    LINE="$LINE; authz/check $C_RPS (p99 $(p99 "$WORK/check-$r.txt"), non-2xx $(non2xx "$WORK/check-$r.txt")) ratio $(ratio "$C_RPS" "$P_RPS")"
    RH="$RH $(ratio "$C_RPS" "$P_RPS")"
  fi
  if want m; then
    run_wrk "$WORK/rule-$r.txt" -t1 -c64 -d"${D}s" --latency -H "Authorization: Bearer $ACCESS" \
      -H 'X-Forwarded-Method: GET' -H 'X-Forwarded-Uri: /files/report.pdf' \
      -H 'X-Forwarded-Host: app.test' "$BASE/api/v1/auth/verify"
    # The same forwarded request under an "authenticated" rule: what the permission adds.
    run_wrk "$WORK/open-$r.txt" -t1 -c64 -d"${D}s" --latency -H "Authorization: Bearer $ACCESS" \
      -H 'X-Forwarded-Method: GET' -H 'X-Forwarded-Uri: /open/report.pdf' \
      -H 'X-Forwarded-Host: app.test' "$BASE/api/v1/auth/verify"
    R_RPS=$(rps "$WORK/rule-$r.txt"); O_RPS=$(rps "$WORK/open-$r.txt")
    LINE="$LINE; verify + rule file:read $R_RPS (p99 $(p99 "$WORK/rule-$r.txt"), non-2xx $(non2xx "$WORK/rule-$r.txt")) ratio $(ratio "$R_RPS" "$P_RPS"); same request under an authenticated rule $O_RPS (p99 $(p99 "$WORK/open-$r.txt")), file:read / authenticated $(ratio "$R_RPS" "$O_RPS")"
    RI="$RI $(ratio "$R_RPS" "$P_RPS")"; RI2="$RI2 $(ratio "$R_RPS" "$O_RPS")"
  fi
  echo "$LINE"
done
want l && echo "== l. authz/check / plain verify: median ratio $(median <<<"$RH") (rounds:$RH; target >= 0.90)"
want m && echo "== m. verify with a file:read rule / plain verify: median ratio $(median <<<"$RI") (rounds:$RI; target >= 0.90); / the same forwarded request under an authenticated rule: $(median <<<"$RI2") (rounds:$RI2)"
stop "$SERVER_PID"
fi

# ---- n: a user's org list and authz/check at 10 orgs and at 10,000 orgs (x 10 members) ----
# Each size gets its own data dir: started once (fresh database, bootstrap admin), the
# measured user registers and makes 3 orgs through the API, the server stops, N orgs x 10
# members (each a fresh user) are inserted with plain SQL into its SQLite database
# (bench/seed_orgs.py), and the server starts again. Both servers then run side by side and
# are measured alternately, ROUNDS times; the median of the per-round ratios is reported.
# The check asks about one of the user's orgs other than the token's (a membership lookup).
if want n; then
declare -A JBASE JTOKEN JBODY
for N in 10 10000; do
  start "scale$N" "$WORK/scale$N"
  BASE="http://127.0.0.1:$PORT"
  post "$BASE/api/v1/auth/register" \
    "{\"username\":\"bencher\",\"email\":\"bencher@example.com\",\"password\":\"$USER_PASSWORD\"}" >/dev/null
  ACCESS=$(token "$BASE" bencher "$USER_PASSWORD")
  for k in 1 2 3; do post "$BASE/api/v1/orgs" "{\"name\":\"bench-$k\"}" "$ACCESS" >/dev/null; done
  stop "$SERVER_PID"
  SEED_START=$(date +%s.%N)
  /usr/bin/python3 bench/seed_orgs.py "$WORK/scale$N" "$N" 10
  echo "   seeding $N orgs x 10 members took $(awk -v a="$SEED_START" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
  start "scale$N" "$WORK/scale$N"
  JBASE[$N]="http://127.0.0.1:$PORT"
  JTOKEN[$N]=$(token "${JBASE[$N]}" bencher "$USER_PASSWORD")   # the default org's
  ORG=$(curl -fsS "${JBASE[$N]}/api/v1/orgs" -H "Authorization: Bearer ${JTOKEN[$N]}" |
        /usr/bin/python3 -c 'import json,sys;print([o["id"] for o in json.load(sys.stdin)["items"] if o["name"]=="bench-2"][0])')
  JBODY[$N]="{\"permission\":\"org:write\",\"org_id\":\"$ORG\"}"
  [ "$(post "${JBASE[$N]}/api/v1/authz/check" "${JBODY[$N]}" "${JTOKEN[$N]}" | json '["allowed"]')" = True ]
done
RL=""; RC=""
for r in $(seq 1 "$ROUNDS"); do
  LINE="== n round $r (wrk -t1 -c32 -d${D}s)"
  declare -A L C
  for N in 10 10000; do
    run_wrk "$WORK/orgs$N-$r.txt" -t1 -c32 -d"${D}s" --latency \
      -H "Authorization: Bearer ${JTOKEN[$N]}" "${JBASE[$N]}/api/v1/orgs"
    GH_BODY=${JBODY[$N]} run_wrk "$WORK/check$N-$r.txt" -t1 -c32 -d"${D}s" --latency \
      -s bench/authz.lua -H "Authorization: Bearer ${JTOKEN[$N]}" "${JBASE[$N]}/api/v1/authz/check"
    L[$N]=$(rps "$WORK/orgs$N-$r.txt"); C[$N]=$(rps "$WORK/check$N-$r.txt")
    LINE="$LINE; $N orgs: GET /api/v1/orgs (the user's 4) ${L[$N]} req/s (p99 $(p99 "$WORK/orgs$N-$r.txt"), non-2xx $(non2xx "$WORK/orgs$N-$r.txt")), authz/check ${C[$N]} (p99 $(p99 "$WORK/check$N-$r.txt"), non-2xx $(non2xx "$WORK/check$N-$r.txt"))"
  done
  echo "$LINE"
  RL="$RL $(ratio "${L[10000]}" "${L[10]}")"; RC="$RC $(ratio "${C[10000]}" "${C[10]}")"
done
echo "== n. 10,000 orgs / 10 orgs (x 10 members): org list median ratio $(median <<<"$RL") (rounds:$RL), authz/check median ratio $(median <<<"$RC") (rounds:$RC) (target: no growth, ~1.00)"
fi

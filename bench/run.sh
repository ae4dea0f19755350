#!/usr/bin/env bash
# Gatehouse benchmarks, each against a baseline measured in the same run, printed as
# ratios. Loopback only; every load is bounded by wrk -d and timeout.
#   bench/run.sh            (DURATION=10 by default; DURATION=20 for steadier figures)
#   ONLY="a f g" bench/run.sh   only some figures (a a2 b c d e f g h i j k o s l)
#   ROUNDS=5 bench/run.sh       rounds of figures a/a2 and h/i (median reported; default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench
make -j"$(nproc)" >/dev/null

D=${DURATION:-10}
CORES=$(nproc)
WORK=$(mktemp -d /tmp/gh-bench-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

. bench/lib.sh

# ---- baseline: nginx return 200, one process (master_process off: the worker is the
# process we measure the CPU time of) ----
NPORT=$(free_port)
start_nginx "$WORK/nginx" "
  server { listen 127.0.0.1:$NPORT; location / { return 200 \"ok\"; } }"
wait_http "http://127.0.0.1:$NPORT/"

# ---- gatehouse with its defaults (RS256-4096, bcrypt 12, access log on) ----
# except the request rate limits: wrk from one address is what they exist to refuse.
# Figures h and i measure what they cost.
GPORT=$(free_port)
PASSWORD='Bench-Sturdy-Gate-2026!'
GATEHOUSE_RATE_LIMIT_GLOBAL=0 GATEHOUSE_RATE_LIMIT_AUTH=0 \
GATEHOUSE_ADMIN_PASSWORD=$PASSWORD build/gatehouse serve --listen "127.0.0.1:$GPORT" \
  --data-dir "$WORK/data" > "$WORK/gatehouse.log" 2> "$WORK/gatehouse.err" & GPID=$!; PIDS+=($GPID)
BASE="http://127.0.0.1:$GPORT"
wait_http "$BASE/healthz"
sleep 1
RSS_IDLE=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$GPID/status")

login() { curl -fs "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}"; }
ACCESS=$(login | /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
curl -fs -o /dev/null "$BASE/api/v1/auth/verify" -H "Authorization: Bearer $ACCESS"
APIKEY=$(curl -fs "$BASE/api/v1/api-keys" -H "Authorization: Bearer $ACCESS" \
  -H 'Content-Type: application/json' -d '{"name":"bench"}' |
  /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["key"])')
curl -fs -o /dev/null "$BASE/api/v1/auth/verify" -H "X-API-Key: $APIKEY"

if want a || want a2; then
# This machine's figures drift between runs: ROUNDS rounds of nginx, JWT and API key back to
# back, and the median of the per-round ratios, in req/s and in requests per server
# CPU-second (utime + stime of the server process around each wrk run).
ROUNDS=${ROUNDS:-3}
RA=""; RK=""; CA=""; CK=""
for r in $(seq 1 "$ROUNDS"); do
  run_wrk_cpu "$WORK/nginx-$r.txt" "$NGPID" -t1 -c64 -d"${D}s" --latency "http://127.0.0.1:$NPORT/"
  run_wrk_cpu "$WORK/verify-$r.txt" "$GPID" -t1 -c64 -d"${D}s" --latency -H "Authorization: Bearer $ACCESS" \
    "$BASE/api/v1/auth/verify"
  run_wrk_cpu "$WORK/verify_key-$r.txt" "$GPID" -t1 -c64 -d"${D}s" --latency -H "X-API-Key: $APIKEY" \
    "$BASE/api/v1/auth/verify"
  N_RPS=$(rps "$WORK/nginx-$r.txt"); V_RPS=$(rps "$WORK/verify-$r.txt"); K_RPS=$(rps "$WORK/verify_key-$r.txt")
  N_CPU=$(per_cpu "$WORK/nginx-$r.txt"); V_CPU=$(per_cpu "$WORK/verify-$r.txt"); K_CPU=$(per_cpu "$WORK/verify_key-$r.txt")
  echo "== a/a2 round $r (wrk -t1 -c64 -d${D}s): nginx return 200 $N_RPS req/s, $N_CPU req/CPU-s (p99 $(p99 "$WORK/nginx-$r.txt")); verify JWT $V_RPS req/s, $V_CPU req/CPU-s (p99 $(p99 "$WORK/verify-$r.txt"), non-2xx $(non2xx "$WORK/verify-$r.txt")) ratios $(ratio "$V_RPS" "$N_RPS") / $(ratio "$V_CPU" "$N_CPU"); verify API key $K_RPS req/s, $K_CPU req/CPU-s (p99 $(p99 "$WORK/verify_key-$r.txt"), non-2xx $(non2xx "$WORK/verify_key-$r.txt")) ratios $(ratio "$K_RPS" "$N_RPS") / $(ratio "$K_CPU" "$N_CPU")"
  RA="$RA $(ratio "$V_RPS" "$N_RPS")"; RK="$RK $(ratio "$K_RPS" "$N_RPS")"
  CA="$CA $(ratio "$V_CPU" "$N_CPU")"; CK="$CK $(ratio "$K_CPU" "$N_CPU")"
done
echo "== a. verify (cached JWT) / nginx: median ratio req/s $(median <<<"$RA") (rounds:$RA); per server CPU-second $(median <<<"$CA") (rounds:$CA)"
echo "== a2. verify (API key) / nginx: median ratio req/s $(median <<<"$RK") (rounds:$RK); per server CPU-second $(median <<<"$CK") (rounds:$CK)"
fi

if want f; then
echo "== f. /verify with the token cache off (RS256-4096 verify each time) vs openssl speed -verify x $CORES cores"
VERIFY1=$(openssl speed -seconds 3 rsa4096 2>/dev/null | awk '/^rsa 4096 bits/ {print $7}')
FPORT=$(free_port)
GATEHOUSE_AUTH_TOKEN_CACHE_SIZE=0 GATEHOUSE_LOG_ACCESS=false GATEHOUSE_PUBLIC_URL=$BASE build/gatehouse serve \
  --listen "127.0.0.1:$FPORT" --data-dir "$WORK/data" > "$WORK/nocache.log" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$FPORT/healthz"
run_wrk "$WORK/nocache.txt" -t1 -c32 -d"${D}s" --latency -H "Authorization: Bearer $ACCESS" \
  "http://127.0.0.1:$FPORT/api/v1/auth/verify"
C_RPS=$(rps "$WORK/nocache.txt")
BOUND_V=$(awk -v s="$VERIFY1" -v c="$CORES" 'BEGIN {printf "%.0f", s * c}')
echo "openssl $VERIFY1 verify/s/core, bound $BOUND_V/s; verify (no cache, no access log) $C_RPS req/s (p99 $(p99 "$WORK/nocache.txt"), non-2xx $(non2xx "$WORK/nocache.txt")), ratio $(ratio "$C_RPS" "$BOUND_V")"
fi

if want g; then
echo "== g. nginx -> auth_request -> Gatehouse -> upstream vs nginx -> upstream"
XPORT=$(free_port); UPORT=$(free_port)
start_nginx "$WORK/chain" "
  upstream app { server 127.0.0.1:$UPORT; keepalive 64; }
  upstream gatehouse { server 127.0.0.1:$GPORT; keepalive 64; }
  server { listen 127.0.0.1:$UPORT; location / { return 200 \"app\"; } }
  server {
    listen 127.0.0.1:$XPORT;
    proxy_http_version 1.1;
    proxy_set_header Connection \"\";
    location /plain/ { proxy_pass http://app; }
    location /guarded/ {
      auth_request /_gatehouse;
      auth_request_set \$auth_user \$upstream_http_x_auth_user_id;
      proxy_set_header Connection \"\";
      proxy_set_header X-Auth-User-Id \$auth_user;
      proxy_pass http://app;
    }
    location = /_gatehouse {
      internal;
      proxy_pass http://gatehouse/api/v1/auth/verify;
      proxy_pass_request_body off;
      # proxy_set_header in a location replaces the inherited ones: keep-alive needs this
      proxy_set_header Connection \"\";
      proxy_set_header Content-Length \"\";
      proxy_set_header X-Original-URI \$request_uri;
      proxy_set_header X-Original-Method \$request_method;
    }
  }"
wait_http "http://127.0.0.1:$XPORT/plain/"
curl -fs -o /dev/null "http://127.0.0.1:$XPORT/guarded/x" -H "Authorization: Bearer $ACCESS"
run_wrk "$WORK/chain_plain.txt" -t1 -c64 -d"${D}s" --latency "http://127.0.0.1:$XPORT/plain/x"
run_wrk "$WORK/chain_auth.txt" -t1 -c64 -d"${D}s" --latency -H "Authorization: Bearer $ACCESS" \
  "http://127.0.0.1:$XPORT/guarded/x"
P_RPS=$(rps "$WORK/chain_plain.txt"); A_RPS=$(rps "$WORK/chain_auth.txt")
echo "nginx -> upstream $P_RPS req/s (p99 $(p99 "$WORK/chain_plain.txt")); with auth_request to Gatehouse $A_RPS req/s (p99 $(p99 "$WORK/chain_auth.txt"), non-2xx $(non2xx "$WORK/chain_auth.txt")), ratio $(ratio "$A_RPS" "$P_RPS")"
fi

if want b; then
echo "== b. /refresh (RS256-4096 signing) vs openssl speed rsa4096 sign/s x $CORES cores"
SIGN=$(openssl speed -seconds 3 rsa4096 2>/dev/null | awk '/^rsa 4096 bits/ {print $6}')
: > "$WORK/refresh.tokens"
for _ in $(seq 1 4); do
  login | /usr/bin/python3 -c 'import json,sys;print(json.load(sys.stdin)["refresh_token"])' >> "$WORK/refresh.tokens"
done
GH_REFRESH_FILE="$WORK/refresh.tokens" run_wrk "$WORK/refresh.txt" -t4 -c4 -d"${D}s" \
  -s bench/refresh.lua "$BASE"
R_RPS=$(rps "$WORK/refresh.txt")
BOUND_R=$(awk -v s="$SIGN" -v c="$CORES" 'BEGIN {printf "%.1f", s * c}')
echo "openssl $SIGN sign/s/core, bound $BOUND_R/s; refresh $R_RPS req/s (non-2xx $(non2xx "$WORK/refresh.txt")), ratio $(ratio "$R_RPS" "$BOUND_R")"

fi

if want c; then
echo "== c. /login (bcrypt cost 12) vs the hashing-pool bound"
HASH_THREADS=$(( CORES / 2 > 0 ? CORES / 2 : 1 ))
SECS=$(/usr/bin/python3 -c '
import bcrypt, time
s = bcrypt.gensalt(12); n = 5; t = time.perf_counter()
for _ in range(n): bcrypt.hashpw(b"x" * 44, s)
print((time.perf_counter() - t) / n)')
BOUND_L=$(awk -v t="$HASH_THREADS" -v s="$SECS" 'BEGIN {printf "%.2f", t / s}')
GH_USER=admin GH_PASSWORD=$PASSWORD run_wrk "$WORK/login.txt" -t2 -c4 -d"$((D * 2))s" \
  -s bench/login.lua "$BASE/api/v1/auth/login"
L_RPS=$(rps "$WORK/login.txt")
echo "bcrypt-12 $(awk -v s="$SECS" 'BEGIN {printf "%.0f", s * 1000}') ms/hash x $HASH_THREADS thread(s): bound $BOUND_L/s; login $L_RPS req/s (non-2xx $(non2xx "$WORK/login.txt")), ratio $(ratio "$L_RPS" "$BOUND_L")"

fi

if want d; then
echo "== d. /verify while logins saturate the hashing pool"
GH_USER=admin GH_PASSWORD=$PASSWORD run_wrk "$WORK/flood.txt" -t1 -c16 -d"$((D + 4))s" \
  -s bench/login.lua "$BASE/api/v1/auth/login" & FLOOD=$!
sleep 2
run_wrk "$WORK/verify_loaded.txt" -t1 -c16 -d"${D}s" --latency \
  -H "Authorization: Bearer $ACCESS" "$BASE/api/v1/auth/verify"
wait "$FLOOD" || true
echo "verify $(rps "$WORK/verify_loaded.txt") req/s, p99 $(p99 "$WORK/verify_loaded.txt") (target < 5 ms); login flood: $(rps "$WORK/flood.txt") req/s, $(non2xx "$WORK/flood.txt") answered 503 by the bounded queue"

fi

if want h || want i; then
# The same /verify (cached JWT) with the request limiter on, its limit so high that it
# never refuses (an override of 1,000,000 a second for /verify: 1,000,000 a minute, the
# global limit's most, is used up after a few rounds at these rates), against the
# server above (limits off): in-process (h) and Redis (i, a redis-server of its own).
# Rounds as for a/a2; the limited servers share the data dir and public URL, so the
# token is theirs too.
ROUNDS=${ROUNDS:-3}
limited() { # port, then extra NAME=value settings
  local port=$1; shift
  env "$@" GATEHOUSE_RATE_LIMIT_GLOBAL=1000000 GATEHOUSE_RATE_LIMIT_AUTH=1000000 \
    GATEHOUSE_RATE_LIMIT_ROUTES="* /api/v1/auth/verify 1000000/1s" \
    GATEHOUSE_PUBLIC_URL=$BASE build/gatehouse serve --listen "127.0.0.1:$port" \
    --data-dir "$WORK/data" > "$WORK/limited-$port.log" 2>&1 & PIDS+=($!)
  wait_http "http://127.0.0.1:$port/healthz"
}
HPORT=$(free_port); limited "$HPORT" GATEHOUSE_RATE_LIMIT_BACKEND=memory
if want i; then
  RPORT=$(free_port); IPORT=$(free_port)
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
    > "$WORK/redis.log" 2>&1 & PIDS+=($!)
  for _ in $(seq 1 100); do redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  limited "$IPORT" GATEHOUSE_RATE_LIMIT_BACKEND=redis GATEHOUSE_RATE_LIMIT_REDIS="127.0.0.1:$RPORT"
fi
RH=""; RI=""
for r in $(seq 1 "$ROUNDS"); do
  run_wrk "$WORK/rl_off-$r.txt" -t1 -c64 -d"${D}s" --latency -H "Authorization: Bearer $ACCESS" \
    "$BASE/api/v1/auth/verify"
  OFF=$(rps "$WORK/rl_off-$r.txt")
  LINE="== h/i round $r (wrk -t1 -c64 -d${D}s): limits off $OFF req/s (p99 $(p99 "$WORK/rl_off-$r.txt"))"
  if want h; then
    run_wrk "$WORK/rl_mem-$r.txt" -t1 -c64 -d"${D}s" --latency -H "Authorization: Bearer $ACCESS" \
      "http://127.0.0.1:$HPORT/api/v1/auth/verify"
    MEM=$(rps "$WORK/rl_mem-$r.txt"); RH="$RH $(ratio "$MEM" "$OFF")"
    LINE="$LINE; in-process $MEM (p99 $(p99 "$WORK/rl_mem-$r.txt"), non-2xx $(non2xx "$WORK/rl_mem-$r.txt")) ratio $(ratio "$MEM" "$OFF")"
  fi
  if want i; then
    run_wrk "$WORK/rl_redis-$r.txt" -t1 -c64 -d"${D}s" --latency -H "Authorization: Bearer $ACCESS" \
      "http://127.0.0.1:$IPORT/api/v1/auth/verify"
    RED=$(rps "$WORK/rl_redis-$r.txt"); RI="$RI $(ratio "$RED" "$OFF")"
    LINE="$LINE; Redis $RED (p99 $(p99 "$WORK/rl_redis-$r.txt"), non-2xx $(non2xx "$WORK/rl_redis-$r.txt")) ratio $(ratio "$RED" "$OFF")"
  fi
  echo "$LINE"
done
want h && echo "== h. verify, in-process limiter on / off: median ratio $(median <<<"$RH") (rounds:$RH; target >= 0.95)"
want i && echo "== i. verify, Redis limiter on / off: median ratio $(median <<<"$RI") (rounds:$RI; reported)"
fi

if want j; then
echo "== j. a flood of distinct client addresses against the in-process limiter (default limits)"
JPORT=$(free_port)
GATEHOUSE_LOG_ACCESS=false build/gatehouse serve --listen "127.0.0.1:$JPORT" \
  --data-dir "$WORK/data" > "$WORK/flood-server.log" 2>&1 & JPID=$!; PIDS+=($JPID)
wait_http "http://127.0.0.1:$JPORT/healthz"
RSS_J0=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$JPID/status")
run_wrk "$WORK/flood.txt" -t1 -c64 -d"$((D * 2))s" -s bench/flood.lua "http://127.0.0.1:$JPORT/healthz"
RSS_J1=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$JPID/status")
SENT=$(awk '/requests in/ {print $1}' "$WORK/flood.txt")
echo "$SENT requests, each from a new address ($(rps "$WORK/flood.txt") req/s, non-2xx $(non2xx "$WORK/flood.txt")); RSS $RSS_J0 MB before, $RSS_J1 MB after (bound: the table, rate_limit.max_clients 65536 x 32 B, 2 MiB, allocated at start and counted in RSS as its pages are first touched)"
fi

if want k; then
echo "== k. audit record cost on the calling thread (batched writer), bench/audit_cost.c"
make -j"$(nproc)" build/bench/audit_cost >/dev/null
mkdir -p "$WORK/audit"
timeout 120 build/bench/audit_cost "$WORK/audit"
fi

if want o; then
echo "== o. 10,000 idle keep-alive connections: RSS and a normal client meanwhile (bench/idle_conns.py)"
ulimit -n "$(ulimit -Hn)"
OPORT=$(free_port)
GATEHOUSE_LOG_ACCESS=false build/gatehouse serve --listen "127.0.0.1:$OPORT" \
  --data-dir "$WORK/data" > "$WORK/idle-server.log" 2>&1 & OPID=$!; PIDS+=($OPID)
wait_http "http://127.0.0.1:$OPORT/healthz"
timeout 300 /usr/bin/python3 bench/idle_conns.py "$OPORT" "$OPID" 10000
fi

if want s; then
# /verify with a browser session cookie against the same with the JWT, back to back, and
# the login page's server CPU per request (no password hashed: the GET).
SID=$(curl -fs -D - -o /dev/null "$BASE/api/v1/auth/login?mode=cookie" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" | sed -n 's/^Set-Cookie: gh_sid=\([^;]*\);.*/\1/p')
curl -fs -o /dev/null "$BASE/api/v1/auth/verify" -H "Cookie: gh_sid=$SID"
ROUNDS=${ROUNDS:-3}
RS=""
for r in $(seq 1 "$ROUNDS"); do
  run_wrk_cpu "$WORK/s-jwt-$r.txt" "$GPID" -t1 -c64 -d"${D}s" -H "Authorization: Bearer $ACCESS" \
    "$BASE/api/v1/auth/verify"
  run_wrk_cpu "$WORK/s-sid-$r.txt" "$GPID" -t1 -c64 -d"${D}s" -H "Cookie: gh_sid=$SID" \
    "$BASE/api/v1/auth/verify"
  J_CPU=$(per_cpu "$WORK/s-jwt-$r.txt"); S_CPU=$(per_cpu "$WORK/s-sid-$r.txt")
  echo "== s round $r (wrk -t1 -c64 -d${D}s): verify JWT $(rps "$WORK/s-jwt-$r.txt") req/s, $J_CPU req/CPU-s; verify session $(rps "$WORK/s-sid-$r.txt") req/s, $S_CPU req/CPU-s (non-2xx $(non2xx "$WORK/s-sid-$r.txt")); session/JWT per CPU-s $(ratio "$S_CPU" "$J_CPU")"
  RS="$RS $(ratio "$S_CPU" "$J_CPU")"
done
echo "== s. /verify with a session cookie / with the JWT, per server CPU-second, median of $ROUNDS: $(echo $RS | median) (target >= 0.95)"
run_wrk_cpu "$WORK/l-login.txt" "$GPID" -t1 -c16 -d"${D}s" "$BASE/login"
L_CPU=$(per_cpu "$WORK/l-login.txt")
echo "== l. GET /login: $(rps "$WORK/l-login.txt") req/s, $L_CPU req/CPU-s = $(awk -v c="$L_CPU" 'BEGIN {printf "%.1f", 1e6 / c}') us of server CPU per page (target < 1000)"
fi

RSS_AFTER=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$GPID/status")
echo "== e. memory: idle RSS $RSS_IDLE MB (target < 20 MB), after the runs $RSS_AFTER MB"

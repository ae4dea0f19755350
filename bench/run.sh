#!/usr/bin/env bash
# Gatehouse benchmarks, each against a baseline measured in the same run, printed as
# ratios. Loopback only; every load is bounded by wrk -d and timeout.
#   bench/run.sh            (DURATION=10 by default; DURATION=20 for steadier figures)
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

free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 300); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1=="99%" {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$1" | grep . || echo 0; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
run_wrk() { local out=$1; shift; timeout $((D + 30)) wrk "$@" > "$out" 2>&1; }

# ---- baseline: nginx return 200, one worker (as in the HTTP-library bake-off) ----
NPORT=$(free_port)
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx;
  fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  server { listen 127.0.0.1:$NPORT; location / { return 200 "ok"; } }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" & PIDS+=($!)
wait_http "http://127.0.0.1:$NPORT/"

# ---- gatehouse with its defaults (RS256-4096, bcrypt 12, access log on) ----
GPORT=$(free_port)
PASSWORD='Bench-Sturdy-Gate-2026!'
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

echo "== a. /verify (cached JWT) vs nginx return 200: wrk -t1 -c64 -d${D}s"
run_wrk "$WORK/nginx.txt" -t1 -c64 -d"${D}s" --latency "http://127.0.0.1:$NPORT/"
run_wrk "$WORK/verify.txt" -t1 -c64 -d"${D}s" --latency -H "Authorization: Bearer $ACCESS" \
  "$BASE/api/v1/auth/verify"
N_RPS=$(rps "$WORK/nginx.txt"); V_RPS=$(rps "$WORK/verify.txt")
echo "nginx $N_RPS req/s (p99 $(p99 "$WORK/nginx.txt")), verify $V_RPS req/s (p99 $(p99 "$WORK/verify.txt"), non-2xx $(non2xx "$WORK/verify.txt")), ratio $(ratio "$V_RPS" "$N_RPS")"

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

echo "== d. /verify while logins saturate the hashing pool"
GH_USER=admin GH_PASSWORD=$PASSWORD run_wrk "$WORK/flood.txt" -t1 -c16 -d"$((D + 4))s" \
  -s bench/login.lua "$BASE/api/v1/auth/login" & FLOOD=$!
sleep 2
run_wrk "$WORK/verify_loaded.txt" -t1 -c16 -d"${D}s" --latency \
  -H "Authorization: Bearer $ACCESS" "$BASE/api/v1/auth/verify"
wait "$FLOOD" || true
echo "verify $(rps "$WORK/verify_loaded.txt") req/s, p99 $(p99 "$WORK/verify_loaded.txt") (target < 5 ms); login flood: $(rps "$WORK/flood.txt") req/s, $(non2xx "$WORK/flood.txt") answered 503 by the bounded queue"

RSS_AFTER=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$GPID/status")
echo "== e. memory: idle RSS $RSS_IDLE MB (target < 20 MB), after the runs $RSS_AFTER MB"

#!/usr/bin/env bash
# SQLite vs PostgreSQL, side by side in one run (issue 16): login and refresh per second on
# one node of each, and /verify with a cached token through nginx to two PostgreSQL nodes
# vs through the same nginx to one SQLite node (a cached check must not touch the store). PostgreSQL is a server of the run's own (tests/scripts/pgtmp.sh).
#   DURATION=10 bench/storage.sh
# Logins use bcrypt cost 4 so that the store, not the hash, is what differs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench test
make -j"$(nproc)" >/dev/null
. bench/lib.sh
D=${DURATION:-10}
. bench/nodes.sh
SPORT=$(free_port); PPORT=$(free_port); QPORT=$(free_port)
node sqlite "$SPORT"
node pg "$PPORT" GATEHOUSE_STORAGE_BACKEND=postgres GATEHOUSE_STORAGE_DSN="$DSN"
mkdir -p "$WORK/data-pg2"; cp -a "$WORK/data-pg/keys" "$WORK/data-pg2/"
node pg2 "$QPORT" GATEHOUSE_STORAGE_BACKEND=postgres GATEHOUSE_STORAGE_DSN="$DSN"

NPORT=$(free_port); SNPORT=$(free_port)
start_nginx "$WORK/nginx" "
  upstream gh { server 127.0.0.1:$PPORT; server 127.0.0.1:$QPORT; keepalive 64; }
  upstream one { server 127.0.0.1:$SPORT; keepalive 64; }
  server { listen 127.0.0.1:$NPORT;
    location / { proxy_pass http://gh; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }
  server { listen 127.0.0.1:$SNPORT;
    location / { proxy_pass http://one; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
wait_http "http://127.0.0.1:$NPORT/healthz"
wait_http "http://127.0.0.1:$SNPORT/healthz"

tokens() { # base -> one login's JSON
  curl -fs "$1/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}"
}
field() { /usr/bin/python3 -c "import json,sys;print(json.load(sys.stdin)['$1'])"; }

for store in sqlite pg; do
  port=$SPORT; [ "$store" = pg ] && port=$PPORT
  base="http://127.0.0.1:$port"
  GH_USER=admin GH_PASSWORD=$PASSWORD run_wrk "$WORK/login-$store.txt" -t2 -c8 -d"${D}s" \
    -s bench/login.lua "$base/api/v1/auth/login"
  : > "$WORK/rt-$store"
  for _ in 1 2 3 4 5 6 7 8; do tokens "$base" | field refresh_token >> "$WORK/rt-$store"; done
  GH_REFRESH_FILE="$WORK/rt-$store" run_wrk "$WORK/refresh-$store.txt" -t8 -c8 -d"${D}s" \
    -s bench/refresh.lua "$base/api/v1/auth/refresh"
done
ACCESS=$(tokens "http://127.0.0.1:$SPORT" | field access_token)
PACCESS=$(tokens "http://127.0.0.1:$PPORT" | field access_token)
run_wrk "$WORK/verify-sqlite.txt" --latency -t1 -c64 -d"${D}s" -H "Authorization: Bearer $ACCESS" \
  "http://127.0.0.1:$SNPORT/api/v1/auth/verify"
run_wrk "$WORK/verify-pg-lb.txt" --latency -t1 -c64 -d"${D}s" -H "Authorization: Bearer $PACCESS" \
  "http://127.0.0.1:$NPORT/api/v1/auth/verify"

echo "== login/s (bcrypt 4):   SQLite $(rps "$WORK/login-sqlite.txt"), PostgreSQL $(rps "$WORK/login-pg.txt") (non-2xx $(non2xx "$WORK/login-sqlite.txt") / $(non2xx "$WORK/login-pg.txt"))"
echo "== refresh/s:            SQLite $(rps "$WORK/refresh-sqlite.txt"), PostgreSQL $(rps "$WORK/refresh-pg.txt") (non-2xx $(non2xx "$WORK/refresh-sqlite.txt") / $(non2xx "$WORK/refresh-pg.txt"))"
echo "== /verify (cached JWT) through nginx: to 1 SQLite node $(rps "$WORK/verify-sqlite.txt"), to 2 PostgreSQL nodes $(rps "$WORK/verify-pg-lb.txt") (p99 $(p99 "$WORK/verify-sqlite.txt") / $(p99 "$WORK/verify-pg-lb.txt"); ratio $(ratio "$(rps "$WORK/verify-pg-lb.txt")" "$(rps "$WORK/verify-sqlite.txt")"))"

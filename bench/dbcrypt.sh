#!/usr/bin/env bash
# storage.encrypt's write cost (issue 18 item 5): login and refresh on a plain SQLite node
# and on an encrypted one (crypto/dbcrypt.c), same run, alternating rounds, medians of
# ROUNDS (5): requests per second, and requests per server CPU-second (utime + stime
# around each run: steadier than wall-clock rates on a shared machine); then
# build/bench/dbcrypt_cost (CPU per write transaction and per cold page read, no HTTP);
# and both nodes' idle RSS after start.
#   DURATION=5 ROUNDS=5 bench/dbcrypt.sh
# Logins use bcrypt cost 4 and ES256 so that the store, not the hash or the signature, is
# what weighs; both write (a refresh token, an audit record) on every request.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench
make -j"$(nproc)" all build/bench/dbcrypt_cost >/dev/null
. bench/lib.sh
D=${DURATION:-5}
R=${ROUNDS:-5}
WORK=$(mktemp -d /tmp/gh-bench-XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
PASSWORD='Bench-Sturdy-Gate-2026!'

node() { # name port [VAR=value...]
  local name=$1 port=$2; shift 2
  env "$@" GATEHOUSE_RATE_LIMIT_GLOBAL=0 GATEHOUSE_RATE_LIMIT_AUTH=0 GATEHOUSE_LOGIN_BACKOFF=off \
    GATEHOUSE_PASSWORD_BCRYPT_COST=4 GATEHOUSE_AUTH_ALGORITHM=ES256 \
    GATEHOUSE_ADMIN_PASSWORD=$PASSWORD \
    build/gatehouse serve --listen "127.0.0.1:$port" --data-dir "$WORK/data-$name" \
    > "$WORK/$name.log" 2>&1 & PIDS+=($!)
  wait_http "http://127.0.0.1:$port/healthz"
}
PPORT=$(free_port); EPORT=$(free_port)
node plain "$PPORT"
node enc "$EPORT" GATEHOUSE_STORAGE_ENCRYPT=true
sleep 2
rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
RSS_PLAIN=$(rss "${PIDS[0]}"); RSS_ENC=$(rss "${PIDS[1]}")

refresh_tokens() { # base -> 8 refresh tokens, one a line
  for _ in 1 2 3 4 5 6 7 8; do
    curl -fs "$1/api/v1/auth/login" -H 'Content-Type: application/json' \
      -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" |
      /usr/bin/python3 -c "import json,sys;print(json.load(sys.stdin)['refresh_token'])"
  done
}
declare -A L=() F=() LC=() FC=()
for r in $(seq 1 "$R"); do
  for n in plain enc; do
    port=$PPORT pid=${PIDS[0]}; [ "$n" = enc ] && port=$EPORT pid=${PIDS[1]}
    base="http://127.0.0.1:$port"
    GH_USER=admin GH_PASSWORD=$PASSWORD run_wrk_cpu "$WORK/login-$n-$r.txt" "$pid" -t2 -c8 \
      -d"${D}s" -s bench/login.lua "$base/api/v1/auth/login"
    refresh_tokens "$base" > "$WORK/rt-$n"
    GH_REFRESH_FILE="$WORK/rt-$n" run_wrk_cpu "$WORK/refresh-$n-$r.txt" "$pid" -t8 -c8 \
      -d"${D}s" -s bench/refresh.lua "$base/api/v1/auth/refresh"
    L[$n]="${L[$n]:-} $(rps "$WORK/login-$n-$r.txt")"
    F[$n]="${F[$n]:-} $(rps "$WORK/refresh-$n-$r.txt")"
    LC[$n]="${LC[$n]:-} $(per_cpu "$WORK/login-$n-$r.txt")"
    FC[$n]="${FC[$n]:-} $(per_cpu "$WORK/refresh-$n-$r.txt")"
  done
done
for n in plain enc; do
  for f in "$WORK"/login-$n-*.txt "$WORK"/refresh-$n-*.txt; do
    [ "$(non2xx "$f")" = 0 ] || echo "warning: $f: $(non2xx "$f") non-2xx answers" >&2
  done
done
lp=$(echo "${L[plain]}" | median); le=$(echo "${L[enc]}" | median)
fp=$(echo "${F[plain]}" | median); fe=$(echo "${F[enc]}" | median)
echo "== login/s (bcrypt 4, ES256), median of $R x ${D}s: plain $lp, encrypted $le (ratio $(ratio "$le" "$lp")); rounds plain${L[plain]}, encrypted${L[enc]}"
echo "== refresh/s, median of $R x ${D}s: plain $fp, encrypted $fe (ratio $(ratio "$fe" "$fp")); rounds plain${F[plain]}, encrypted${F[enc]}"
lcp=$(echo "${LC[plain]}" | median); lce=$(echo "${LC[enc]}" | median)
fcp=$(echo "${FC[plain]}" | median); fce=$(echo "${FC[enc]}" | median)
echo "== login per server CPU-second: plain $lcp, encrypted $lce (ratio $(ratio "$lce" "$lcp")); rounds plain${LC[plain]}, encrypted${LC[enc]}"
echo "== refresh per server CPU-second: plain $fcp, encrypted $fce (ratio $(ratio "$fce" "$fcp")); rounds plain${FC[plain]}, encrypted${FC[enc]}"
echo "== library, CPU time, median of $R rounds:"
build/bench/dbcrypt_cost "$WORK" "$R"
echo "== idle RSS after start: plain $RSS_PLAIN MB, encrypted $RSS_ENC MB"

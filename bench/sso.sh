#!/usr/bin/env bash
# Issue 15's figures: provider-token logins per second against a local mock provider
# (oauth2-mock-server) with the userinfo cache cold (a new token each request) and warm
# (one token); an OIDC code flow's time in Gatehouse beside the provider's own
# (bench/sso_flow.mjs, medians over FLOWS=50 flows); and /verify's p99 alone and while 50
# browser SSO sign-ins wait at their callback on a provider whose token endpoint hangs.
#   bench/sso.sh               (DURATION=10 s per wrk run)
#   DURATION=5 bench/sso.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench
command -v node >/dev/null || { echo "bench/sso.sh needs node (scripts/deps.sh test)" >&2; exit 1; }
[ -d tests/sso/node_modules/oauth2-mock-server ] && [ -d tests/sso/node_modules/oidc-provider ] ||
  (cd tests/sso && npm ci --no-audit --no-fund --loglevel=error)
B=${BUILD:-build}
make -j"$(nproc)" BUILD="$B" "$B/gatehouse" >/dev/null

D=${DURATION:-10}
WAITERS=${WAITERS:-50}
WORK=$(mktemp -d /tmp/gh-bench-sso-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
. bench/lib.sh

node bench/sso_mock.mjs > "$WORK/mock.txt" 2>&1 & PIDS+=($!)
for _ in $(seq 1 300); do grep -q '^hang' "$WORK/mock.txt" && break; sleep 0.1; done
MOCK=$(awk '$1=="mock" {print $2}' "$WORK/mock.txt")
HANG=$(awk '$1=="hang" {print $2}' "$WORK/mock.txt")
[ -n "$MOCK" ] && [ -n "$HANG" ] || { cat "$WORK/mock.txt" >&2; exit 1; }

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
export GATEHOUSE_ADMIN_PASSWORD="Bench-Only-Passphrase-1" GATEHOUSE_AUTH_ALGORITHM=ES256 \
  GATEHOUSE_RATE_LIMIT_GLOBAL=0 GATEHOUSE_RATE_LIMIT_AUTH=0 GATEHOUSE_LOG_ACCESS=false \
  GATEHOUSE_PASSWORD_BCRYPT_COST=4 GATEHOUSE_AUTH_ACCESS_TTL=1h GATEHOUSE_SSO_TIMEOUT=60s
"$B/gatehouse" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/gh" \
  > "$WORK/server.log" 2>&1 & SPID=$!; PIDS+=($SPID)
wait_http "$BASE/healthz"
TOKEN=$(curl -fs -H 'Content-Type: application/json' "$BASE/api/v1/auth/login" \
  -d "{\"username\":\"admin\",\"password\":\"$GATEHOUSE_ADMIN_PASSWORD\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
provider() { # name, base URL of its endpoints, userinfo path
  curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    "$BASE/api/v1/sso/providers" -d "{\"name\":\"$1\",\"type\":\"oauth2\",\"client_id\":\"bench\",
    \"client_secret\":\"bench-secret\",\"authorization_endpoint\":\"$2/authorize\",
    \"token_endpoint\":\"$2/token\",\"userinfo_endpoint\":\"$2$3\",\"auto_create_user\":true}"
}
provider mock "$MOCK" /userinfo
provider hang "$HANG" /userinfo

echo "== provider-token login against oauth2-mock-server, wrk -t1 -c4 -d${D}s"
for mode in cold warm; do
  GH_PROVIDER=mock GH_COLD=$([ $mode = cold ] && echo 1 || echo 0) \
    run_wrk "$WORK/$mode.txt" -t1 -c4 -d"${D}s" --latency -s bench/oauth_login.lua \
    "$BASE/api/v1/auth/oauth/login"
  echo "$mode: $(rps "$WORK/$mode.txt") logins/s, p99 $(p99 "$WORK/$mode.txt"), non-2xx $(non2xx "$WORK/$mode.txt")"
done
echo "warm/cold: $(ratio "$(rps "$WORK/warm.txt")" "$(rps "$WORK/cold.txt")")"

echo "== an OIDC code flow's added latency: browser-less flows against oidc-provider, one at a time"
BASE="$BASE" TOKEN="$TOKEN" FLOWS="${FLOWS:-50}" timeout 600 node bench/sso_flow.mjs

echo "== /verify p99 (cached ES256 JWT, wrk -t1 -c16 -d${D}s): alone, then with $WAITERS SSO sign-ins waiting"
run_wrk "$WORK/alone.txt" -t1 -c16 -d"${D}s" --latency -H "Authorization: Bearer $TOKEN" \
  "$BASE/api/v1/auth/verify"
# each waiter: a browser's start (its gh_sso cookie and state), then its callback, whose
# code exchange waits on the hanging token endpoint (all started first: the starts share
# the SSO pool with the waiting callbacks)
for i in $(seq 1 "$WAITERS"); do
  curl -s -o /dev/null -c "$WORK/jar$i" -w '%{redirect_url}\n' \
    "$BASE/api/v1/auth/sso/authorize?provider=hang" > "$WORK/loc$i"
done
for i in $(seq 1 "$WAITERS"); do
  state=$(sed -n 's/.*[?&]state=\([^&]*\).*/\1/p' "$WORK/loc$i")
  timeout $((D + 90)) curl -s -o /dev/null -b "$WORK/jar$i" -w '%{http_code}\n' \
    "$BASE/api/v1/auth/sso/callback?state=$state&code=bench" >> "$WORK/waiters.txt" &
  PIDS+=($!)
done
sleep 2
run_wrk "$WORK/busy.txt" -t1 -c16 -d"${D}s" --latency -H "Authorization: Bearer $TOKEN" \
  "$BASE/api/v1/auth/verify"
echo "alone: $(rps "$WORK/alone.txt") req/s, p99 $(p99 "$WORK/alone.txt")"
echo "with $WAITERS waiting: $(rps "$WORK/busy.txt") req/s, p99 $(p99 "$WORK/busy.txt")"
# the I/O pool's routes meanwhile (GET /login runs there): the waits hold only the SSO pool
echo "GET /login meanwhile (s): $(for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total} ' \
  --max-time 30 "$BASE/login"; done)"
echo "callbacks answered so far (they wait up to sso.timeout): $(wc -l < "$WORK/waiters.txt")"

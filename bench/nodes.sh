# What bench/storage.sh and bench/scale.sh share (sourced after bench/lib.sh): a work dir
# removed on exit with every process started into PIDS, a PostgreSQL server of the run's
# own (tests/scripts/pgtmp.sh) whose DSN is $DSN, and
#   node NAME PORT [NAME=value...]
# which starts a Gatehouse on data dir $WORK/data-NAME (bcrypt cost 4 so that the store,
# not the hash, is measured; rate limits and the login backoff off) and waits for it.
WORK=$(mktemp -d /tmp/gh-bench-XXXXXX)
chmod 711 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  tests/scripts/pgtmp.sh stop "$WORK/pg" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
DSN=$(tests/scripts/pgtmp.sh start "$WORK/pg")
PASSWORD='Bench-Sturdy-Gate-2026!'

node() {
  local name=$1 port=$2; shift 2
  env "$@" GATEHOUSE_RATE_LIMIT_GLOBAL=0 GATEHOUSE_RATE_LIMIT_AUTH=0 GATEHOUSE_LOGIN_BACKOFF=off \
    GATEHOUSE_PASSWORD_BCRYPT_COST=4 GATEHOUSE_AUTH_ISSUER=https://gatehouse.bench \
    GATEHOUSE_ADMIN_PASSWORD=$PASSWORD \
    build/gatehouse serve --listen "127.0.0.1:$port" --data-dir "$WORK/data-$name" \
    > "$WORK/$name.log" 2>&1 & PIDS+=($!)
  wait_http "http://127.0.0.1:$port/healthz"
}

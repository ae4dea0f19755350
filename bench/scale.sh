#!/usr/bin/env bash
# Does a big install stay flat? (issue 16): login, refresh, /verify and the audit query on
# SQLite and on PostgreSQL, a small install (SMALL_USERS users, SMALL_TOKENS issued refresh
# tokens) beside a big one (USERS users, TOKENS refresh tokens): four servers at once,
# measured in ROUNDS interleaved rounds (small then big, figure by figure) so that the
# machine's drift falls on both sides of each ratio; the medians of the ratios are printed.
# /verify with a cached token reads no database: its ratio shows the noise. The seeded rows
# are written with SQL
# (the CLI tools of each database) so that seeding a million rows takes seconds, not the
# hours a million logins would; they share the admin's password hash (bcrypt cost 4, so the
# store, not the hash, is what is measured).
#   DURATION=5 ROUNDS=3 bench/scale.sh
#   USERS=100000 TOKENS=1000000 SMALL_USERS=100 SMALL_TOKENS=1000 bench/scale.sh   (defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench test
make -j"$(nproc)" >/dev/null
. bench/lib.sh
D=${DURATION:-5}
USERS=${USERS:-100000}
TOKENS=${TOKENS:-1000000}
SMALL_USERS=${SMALL_USERS:-100}
SMALL_TOKENS=${SMALL_TOKENS:-1000}
ROUNDS=${ROUNDS:-3}
. bench/nodes.sh
psql -q "$DSN" -c 'CREATE DATABASE small' -c 'CREATE DATABASE big'
declare -A PORT DB
for size in small big; do
  PORT[sqlite-$size]=$(free_port); PORT[pg-$size]=$(free_port)
  DB[pg-$size]=${DSN%/postgres}/$size
  node "sqlite-$size" "${PORT[sqlite-$size]}"
  node "pg-$size" "${PORT[pg-$size]}" GATEHOUSE_STORAGE_BACKEND=postgres \
    GATEHOUSE_STORAGE_DSN="${DB[pg-$size]}"
done

# sql SERVER: runs stdin against that server's database (the server keeps running: SQLite in
# WAL mode takes a second writer that waits its turn).
sql() {
  if [[ $1 == sqlite-* ]]; then
    sqlite3 -cmd '.timeout 60000' "$WORK/data-$1/gatehouse.db" >/dev/null
  else
    psql -q -v ON_ERROR_STOP=1 "${DB[$1]}" >/dev/null
  fi
}

# seed SERVER USERS TOKENS: adds users scale<n> (the admin's hash, members of the default
# org) up to USERS in all, and refresh tokens (random hashes, spread over them) up to
# TOKENS. Ids are UUID-shaped from their number.
seed() {
  local store=$1 users=$2 tokens=$3 series now
  if [[ $store == sqlite-* ]]; then
    series() { echo "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)"; }
    now="CAST(strftime('%s','now') AS INTEGER)"
  else
    series() { echo "WITH n(i) AS (SELECT generate_series($1, $2))"; }
    now="CAST(extract(epoch FROM now()) AS BIGINT)"
  fi
  local uid="printf('00000000-0000-4000-8000-%012d', i)"
  local rid="printf('10000000-0000-4000-8000-%012d', i)"
  local fid="printf('20000000-0000-4000-8000-%012d', i)"
  local owner="printf('00000000-0000-4000-8000-%012d', 1 + i % $users)"
  local hash="randomblob(32)"
  if [[ $store == pg-* ]]; then
    uid="format('00000000-0000-4000-8000-%s', lpad(i::text, 12, '0'))"
    rid="format('10000000-0000-4000-8000-%s', lpad(i::text, 12, '0'))"
    fid="format('20000000-0000-4000-8000-%s', lpad(i::text, 12, '0'))"
    owner="format('00000000-0000-4000-8000-%s', lpad((1 + i % $users)::text, 12, '0'))"
    hash="sha256(i::text::bytea)"
  fi
  sql "$store" <<SQL
BEGIN;
$(series 1 "$users")
INSERT INTO users (id, username, email, full_name, password_hash, primary_org_id, created_at,
                   updated_at)
SELECT $uid, 'scale' || i, 'scale' || i || '@bench.example', '',
       (SELECT password_hash FROM users WHERE username = 'admin'),
       (SELECT id FROM orgs WHERE name = 'default'), $now, $now FROM n;
$(series 1 "$users")
INSERT INTO memberships (org_id, user_id, role_id, created_at)
SELECT o.id, $uid, r.id, $now FROM n, orgs o JOIN roles r ON r.org_id = o.id AND r.name = 'member'
WHERE o.name = 'default';
$(series 1 "$tokens")
INSERT INTO refresh_tokens (id, token_hash, user_id, family_id, org_id, created_at, expires_at)
SELECT $rid, $hash, $owner, $fid, (SELECT id FROM orgs WHERE name = 'default'), $now,
       $now + 2592000 FROM n;
COMMIT;
SQL
}
count() { # SERVER QUERY -> the answer
  if [[ $1 == sqlite-* ]]; then sqlite3 -cmd '.timeout 60000' "$WORK/data-$1/gatehouse.db" "$2"
  else psql -At "${DB[$1]}" -c "$2"; fi
}

login_json() { # base user -> one login's JSON
  curl -fs "$1/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$2\",\"password\":\"$PASSWORD\"}"
}
field() { /usr/bin/python3 -c "import json,sys;print(json.load(sys.stdin)['$1'])"; }

# measure FIGURE SERVER OUT: one wrk run of that figure against that server.
measure() {
  local figure=$1 server=$2 out=$3 base="http://127.0.0.1:${PORT[$2]}" user=${USER_OF[$2]}
  case $figure in
  login)
    GH_USER=$user GH_PASSWORD=$PASSWORD run_wrk "$out" --latency -t2 -c8 -d"${D}s" \
      -s bench/login.lua "$base/api/v1/auth/login" ;;
  refresh)
    : > "$out.rt"
    for _ in 1 2 3 4 5 6 7 8; do login_json "$base" "$user" | field refresh_token >> "$out.rt"; done
    GH_REFRESH_FILE="$out.rt" run_wrk "$out" --latency -t8 -c8 -d"${D}s" \
      -s bench/refresh.lua "$base/api/v1/auth/refresh" ;;
  verify)
    run_wrk "$out" --latency -t1 -c64 -d"${D}s" \
      -H "Authorization: Bearer $(login_json "$base" "$user" | field access_token)" \
      "$base/api/v1/auth/verify" ;;
  audit)
    run_wrk "$out" --latency -t1 -c4 -d"${D}s" \
      -H "Authorization: Bearer $(login_json "$base" admin | field access_token)" \
      "$base/api/v1/audit/logs?user_id=${UID_OF[$2]}&limit=50" ;;
  esac
}

declare -A USER_OF UID_OF
for store in sqlite pg; do
  seed "$store-small" "$SMALL_USERS" "$SMALL_TOKENS"
  t0=$(date +%s)
  seed "$store-big" "$USERS" "$TOKENS"
  echo "seeded $store to $USERS users and $TOKENS refresh tokens in $(( $(date +%s) - t0 )) s" >&2
  USER_OF[$store-small]=scale$((SMALL_USERS / 2)); USER_OF[$store-big]=scale$((USERS / 2))
  for size in small big; do
    UID_OF[$store-$size]=$(count "$store-$size" \
      "SELECT id FROM users WHERE username = '${USER_OF[$store-$size]}'")
  done
done

declare -A RATIOS
for r in $(seq 1 "$ROUNDS"); do
  for figure in login refresh verify audit; do
    for store in sqlite pg; do
      for size in small big; do
        measure "$figure" "$store-$size" "$WORK/$figure-$store-$size-$r.txt"
      done
      s="$WORK/$figure-$store-small-$r.txt" b="$WORK/$figure-$store-big-$r.txt"
      printf '== round %s %-8s %-7s small %9s req/s (p99 %s, non-2xx %s)  big %9s req/s (p99 %s, non-2xx %s)  big/small %s\n' \
        "$r" "$figure" "$store" "$(rps "$s")" "$(p99 "$s")" "$(non2xx "$s")" \
        "$(rps "$b")" "$(p99 "$b")" "$(non2xx "$b")" "$(ratio "$(rps "$b")" "$(rps "$s")")"
      RATIOS[$figure-$store]+=" $(ratio "$(rps "$b")" "$(rps "$s")")"
    done
  done
done
for figure in login refresh verify audit; do
  for store in sqlite pg; do
    printf '== %-8s %-7s %s users / %s tokens vs %s / %s: median big/small %s (rounds:%s)\n' \
      "$figure" "$store" "$USERS" "$TOKENS" "$SMALL_USERS" "$SMALL_TOKENS" \
      "$(echo "${RATIOS[$figure-$store]}" | median)" "${RATIOS[$figure-$store]}"
  done
done

#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, in a temporary directory on a free loopback
# port, with password (SCRAM) authentication.
#   tests/scripts/pgtmp.sh start DIR   prints the DSN (a libpq URI) on stdout
#   tests/scripts/pgtmp.sh stop DIR    stops it (the caller removes DIR)
#   tests/scripts/pgtmp.sh pgctl DIR ARGS...   pg_ctl on it (stop/start in failure tests)
# PostgreSQL refuses to run as root: as root the server runs as the user "postgres"
# (Debian's package makes it), which is given DIR.
set -euo pipefail
cmd=${1:?usage: $0 start|stop|pgctl DIR}
dir=${2:?usage: $0 start|stop|pgctl DIR}
shift 2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pgtmp: no PostgreSQL server (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pgctl() {
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 "$@" >/dev/null
}

case "$cmd" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  chmod 700 "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  ( umask 077; printf '%s\n' "$pw" > "$dir/pw" )
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/pw"
  as_owner "$bin/initdb" -D "$dir/data" -U gatehouse --pwfile="$dir/pw" -A scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 32MB
CONF
  echo "$port" > "$dir/port"
  pgctl start
  echo "postgresql://gatehouse:$pw@127.0.0.1:$port/postgres"
  ;;
stop)
  [ -f "$dir/data/postmaster.pid" ] && pgctl stop -m fast || true
  ;;
pgctl)
  pgctl "$@"
  ;;
*)
  echo "usage: $0 start|stop|pgctl DIR" >&2
  exit 2
  ;;
esac

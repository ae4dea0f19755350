# Helpers the bench scripts source. Loopback only; every load is bounded by timeout.
# The caller sets D (seconds per wrk run) before calling run_wrk.
free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 300); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1=="99%" {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$1" | grep . || echo 0; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
run_wrk() { local out=$1; shift; timeout $((D + 30)) wrk "$@" > "$out" 2>&1; }
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# CPU seconds (user + system) a process has used so far: fields 14 and 15 of /proc/PID/stat,
# counted after the ")" that ends the command name.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"; }
requests() { awk '/requests in/ {print $1}' "$1"; }
# run_wrk_cpu OUT PID wrk-args...: run_wrk, and write the server's CPU seconds to OUT.cpu.
run_wrk_cpu() {
  local out=$1 pid=$2; shift 2
  local c0; c0=$(cpu_s "$pid")
  run_wrk "$out" "$@"
  awk -v a="$c0" -v b="$(cpu_s "$pid")" 'BEGIN { printf "%.2f\n", b - a }' > "$out.cpu"
}
# Requests per server CPU-second of a run_wrk_cpu output.
per_cpu() { awk -v n="$(requests "$1")" -v c="$(cat "$1.cpu")" 'BEGIN { if (c > 0) printf "%.0f", n / c; else print 0 }'; }
# start_nginx DIR HTTP_BLOCK: one nginx process serving HTTP_BLOCK (server and upstream
# blocks) from DIR, its pid in NGPID and PIDS. master_process off: that pid is the worker,
# the process whose CPU time the figures count.
start_nginx() {
  local dir=$1 body=$2
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
master_process off;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir; proxy_temp_path $dir;
  fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
$body
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" & NGPID=$!; PIDS+=("$NGPID")
}

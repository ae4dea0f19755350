"""Real reverse proxies in front of Gatehouse, for the ForwardAuth tests.

nginx (auth_request) and Caddy (forward_auth) run the configs shipped in examples/, with
only their addresses replaced by free local ports, so the shipped files are the tested
ones.  Behind them an echo upstream answers every request with what it received and
counts the hits: a denied request must leave the count unchanged.

The upstream routes on the raw path, as Node, Go's ServeMux, Express and most Python
stacks do: each record names the handler that would run ("admin" when the raw path, or
what a URL parser makes of it, starts with /admin), so a test sees a path trick that
Gatehouse judged as one path reach another.

Requests are sent with http.client (never requests/urllib3, which remove dot segments
from the path and so would hide the path tricks under test).
"""
import http.client
import http.server
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

from conftest import REPO, free_port

EXAMPLES = REPO / "examples"
NGINX_EXAMPLE = EXAMPLES / "nginx" / "gatehouse.conf"
CADDY_EXAMPLE = EXAMPLES / "caddy" / "Caddyfile"
NGINX_PORTAL = EXAMPLES / "nginx" / "portal.conf"
CADDY_PORTAL = EXAMPLES / "caddy" / "Caddyfile.portal"
# The portal examples' host names, and the test domain that replaces example.com.
PORTAL_DOMAIN = "example.test"

# Addresses written in the examples, and what the tests put in their place.
EX_GATEHOUSE = "127.0.0.1:8080"
EX_APP = "127.0.0.1:3000"
TIMEOUT = 15
START_TIMEOUT = 15


# -- the echo upstream ---------------------------------------------------------------

def raw_handler(target):
    """The handler an app routing on the raw request target runs: "admin" when the raw
    path starts with /admin (req.url.startsWith) or when a URL parser resolving it
    against the site does ("//public/admin/x" is host "public", path "/admin/x");
    "public" likewise for /public; else "app"."""
    raw = target.split("?", 1)[0]
    parsed = urllib.parse.urlsplit(urllib.parse.urljoin("http://app.example.test/", raw)).path
    for name in ("admin", "public"):
        if raw.startswith("/" + name) or parsed.startswith("/" + name):
            return name
    return "app"


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {}
        for k, v in self.headers.items():
            headers.setdefault(k.lower(), []).append(v)
        # From the request line: http.server turns a leading "//" of self.path into "/".
        target = self.requestline.split()[1]
        record = {"method": self.command, "path": target, "headers": headers,
                  "body_length": len(body), "handler": raw_handler(target)}
        self.server.upstream._record(record)
        body = json.dumps(record).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer

    def log_message(self, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a proxy closing an idle keep-alive connection is not an error


class EchoUpstream:
    """An HTTP server in a thread: 200 + JSON {method, path (raw), headers, handler};
    counts hits."""

    def __init__(self):
        self.port = free_port()
        self.records = []
        self._lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", self.port), _EchoHandler)
        self.httpd.upstream = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _record(self, record):
        with self._lock:
            self.records.append(record)

    @property
    def hits(self):
        with self._lock:
            return len(self.records)

    def since(self, n):
        with self._lock:
            return list(self.records[n:])

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# -- rendering the shipped configs ----------------------------------------------------

def _replace(text, old, new, name):
    assert old in text, f"{name}: expected {old!r} in the shipped example"
    return text.replace(old, new)


def render_nginx(gatehouse_port, app_port, listen_port, log_dir):
    text = NGINX_EXAMPLE.read_text()
    text = _replace(text, EX_GATEHOUSE, f"127.0.0.1:{gatehouse_port}", "nginx")
    text = _replace(text, EX_APP, f"127.0.0.1:{app_port}", "nginx")
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{listen_port};", "nginx")
    text = _replace(text, "/var/log/nginx/", f"{log_dir}/", "nginx")
    return text


def render_caddy(gatehouse_port, app_port, listen_port):
    text = CADDY_EXAMPLE.read_text()
    text = _replace(text, EX_GATEHOUSE, f"127.0.0.1:{gatehouse_port}", "caddy")
    text = _replace(text, EX_APP, f"127.0.0.1:{app_port}", "caddy")
    text = _replace(text, "app.example.com {", f"http://127.0.0.1:{listen_port} {{", "caddy")
    return text


def render_nginx_portal(gatehouse_port, app_port, listen_port, log_dir):
    text = NGINX_PORTAL.read_text()
    text = _replace(text, EX_GATEHOUSE, f"127.0.0.1:{gatehouse_port}", "nginx portal")
    text = _replace(text, EX_APP, f"127.0.0.1:{app_port}", "nginx portal")
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{listen_port};", "nginx portal")
    return text.replace("example.com", PORTAL_DOMAIN)


def render_caddy_portal(gatehouse_port, app_port, listen_port):
    text = CADDY_PORTAL.read_text()
    text = _replace(text, EX_GATEHOUSE, f"127.0.0.1:{gatehouse_port}", "caddy portal")
    text = _replace(text, EX_APP, f"127.0.0.1:{app_port}", "caddy portal")
    text = _replace(text, "auth.example.com {", f"http://auth.example.com:{listen_port} {{",
                    "caddy portal")
    text = _replace(text, "app.example.com, app2.example.com {",
                    f"http://app.example.com:{listen_port}, http://app2.example.com:{listen_port} {{",
                    "caddy portal")
    return text.replace("example.com", PORTAL_DOMAIN)


# -- the proxies ---------------------------------------------------------------------

class Proxy:
    """nginx or Caddy, running the shipped example from a temp dir, on a free port."""

    def __init__(self, kind, gatehouse_port, app_port, portal=False, port=None):
        assert kind in ("nginx", "caddy"), kind
        self.kind = kind
        self.gatehouse_port = gatehouse_port
        self.app_port = app_port
        self.portal = portal  # the portal examples (sibling hosts) instead of the one app
        self.port = port
        self.proc = None
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix=f"gh-{kind}-"))
        self.log_path = self.dir / "proxy.log"
        self._log = None

    def _nginx_cmd(self):
        d = self.dir
        (d / "tmp").mkdir()
        (d / "logs").mkdir()
        render = render_nginx_portal if self.portal else render_nginx
        (d / "gatehouse.conf").write_text(
            render(self.gatehouse_port, self.app_port, self.port, d / "logs"))
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (d / "nginx.conf").write_text(f"""{user}worker_processes 1;
events {{ worker_connections 256; }}
http {{
    access_log {d}/logs/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    include {d}/gatehouse.conf;
}}
""")
        return ["nginx", "-e", "stderr", "-p", str(d), "-c", str(d / "nginx.conf"),
                "-g", f"daemon off; pid {d}/nginx.pid; error_log stderr;"], None

    def _caddy_cmd(self):
        d = self.dir
        for sub in ("home", "data", "config"):
            (d / sub).mkdir()
        (d / "Caddyfile").write_text(
            "{\n\tadmin off\n\tauto_https off\n"
            f"\tstorage file_system {d}/data\n}}\n\n"
            + (render_caddy_portal if self.portal else render_caddy)(
                self.gatehouse_port, self.app_port, self.port))
        env = dict(os.environ, HOME=str(d / "home"), XDG_DATA_HOME=str(d / "data"),
                   XDG_CONFIG_HOME=str(d / "config"))
        return ["caddy", "run", "--config", str(d / "Caddyfile"), "--adapter", "caddyfile"], env

    def start(self):
        """Starts the proxy and waits (bounded) until it listens; on failure everything
        is cleaned up and the error carries the proxy's output."""
        try:
            self._start()
        except BaseException as exc:
            log = self.log_text()
            self.cleanup()
            raise RuntimeError(f"{self.kind} did not start: {exc}\n{log}") from exc
        return self

    def _start(self):
        self.port = self.port or free_port()
        cmd, env = self._nginx_cmd() if self.kind == "nginx" else self._caddy_cmd()
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=self.dir,
                                     start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited with {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"not listening after {START_TIMEOUT}s")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            # SIGTERM to the process group: nginx's master and its worker.
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        """The proxy's own output and, for nginx, its access logs."""
        paths = [self.log_path] + sorted((self.dir / "logs").glob("*.log"))
        out = []
        for p in paths:
            try:
                out.append(p.read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join(out)

    def request(self, method, path, headers=None, body=None):
        return raw_request(self.port, method, path, headers, body)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage: case-insensitive, get_all()
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {dict(self.headers)} {self.body[:300]!r}>"


def raw_request(port, method, path, headers=None, body=None):
    """One request with the path exactly as given (no normalization, no encoding)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        body = r.read()
        return Response(r.status, r.headers, body)
    finally:
        conn.close()


class Stack:
    """A proxy in front of a Gatehouse and the echo upstream."""

    def __init__(self, gh, upstream, proxy):
        self.gh = gh
        self.up = upstream
        self.proxy = proxy
        self.kind = proxy.kind

    def call(self, path, headers=None, method="GET", body=None):
        """(response, the upstream's records of this request: [] when it never arrived)."""
        before = self.up.hits
        r = self.proxy.request(method, path, headers, body)
        return r, self.up.since(before)

    def passes(self, path, headers=None, method="GET", body=None):
        """The request must reach the upstream exactly once; returns what it got."""
        r, seen = self.call(path, headers, method, body)
        assert r.status == 200, (self.kind, path, r)
        assert len(seen) == 1, (self.kind, path, seen)
        echo = seen[0]
        if method != "HEAD":
            assert r.json() == echo, (r.body, echo)
        return echo

    def denied(self, path, headers=None, method="GET", status=401, body=None):
        """The request must be refused with `status` and never reach the upstream."""
        r, seen = self.call(path, headers, method, body)
        assert seen == [], (self.kind, path, r.status, seen)
        assert r.status == status, (self.kind, path, r)
        if status == 401:
            www = r.headers.get("WWW-Authenticate") or ""
            assert "bearer" in www.lower(), (self.kind, path, r)
        return r


def start_stack(kind, gh, upstream):
    p = Proxy(kind, gh.port, upstream.port)
    p.start()
    return Stack(gh, upstream, p)


def auth_headers(echo):
    """The X-Auth-* headers the upstream got: {lower-case name: [values]}."""
    return {k: v for k, v in echo["headers"].items() if k.startswith("x-auth-")}


def which(kind):
    return shutil.which(kind) is not None

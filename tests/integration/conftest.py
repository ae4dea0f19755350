"""Shared fixtures for the Gatehouse black-box integration tests.

The tests only talk to the real binary ($GATEHOUSE_BIN) over HTTP, read its
SQLite database and key file, and run its CLI.  See README.md.
"""
import base64
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("GATEHOUSE_BIN") or str(REPO / "build" / "gatehouse")
ADMIN_PASSWORD = "Tq8-vexing-Walrus-51!"
TIMEOUT = 15  # seconds, for every HTTP call
MY_INVITATIONS = "/api/v1/auth/me/invitations"
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def pytest_make_parametrize_id(config, val, argname):
    """A random UUID in a parameter gets a fixed test id, so that every pytest-xdist worker
    collects the same tests (make integration runs them in parallel)."""
    if isinstance(val, str) and UUID_TEXT.search(val):
        return UUID_TEXT.sub("uuid", val)
    return None


# Environment given to every server unless a test overrides it.
BASE_ENV = {
    "GATEHOUSE_ADMIN_PASSWORD": ADMIN_PASSWORD,
    "GATEHOUSE_PASSWORD_BCRYPT_COST": "4",
    "GATEHOUSE_AUTH_CLOCK_LEEWAY": "0s",
    # Not under test here; keep them out of the way of the many logins.
    "GATEHOUSE_RATE_LIMIT_GLOBAL": "0",
    "GATEHOUSE_RATE_LIMIT_AUTH": "0",
    "GATEHOUSE_LOGIN_BACKOFF": "off",
}

SECURITY_HEADERS = (
    "X-Request-Id",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Content-Security-Policy",
    "Permissions-Policy",
)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def clean_environ():
    """The caller's environment without any GATEHOUSE_* variable (hermetic)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}


def run_cli(args, data_dir=None, env=None, input=None, timeout=60):
    """Run the gatehouse CLI; returns CompletedProcess (text)."""
    e = clean_environ()
    e.update(BASE_ENV)
    if env:
        e.update(env)
    for k in [k for k, v in e.items() if v is None]:
        del e[k]
    cmd = [BIN] + list(args)
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    return subprocess.run(cmd, input=input, capture_output=True, text=True,
                          env=e, timeout=timeout)


class Server:
    """One gatehouse process on a free port with its own data directory."""

    def __init__(self, env=None, data_dir=None, config=None, args=None):
        self.env = dict(BASE_ENV)
        if env:
            self.env.update(env)
        self._own_dir = data_dir is None
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="gh-it-"))
        self.data_dir = pathlib.Path(data_dir) if data_dir else self.root / "data"
        self.config = config
        self.args = list(args or [])
        self.proc = None
        self.port = None
        self.generation = 0
        self.returncode = None

    # -- life cycle ---------------------------------------------------------
    # A first start makes an RS256-4096 signing key: seconds on a quiet machine, past 30 s
    # on a loaded one (seen in CI), so the wait allows for it.
    def start(self, wait=True, timeout=90, port=None):
        """Starts on port (a free one when None)."""
        self.port = port or free_port()
        self.generation += 1
        self.stdout_path = self.root / f"stdout.{self.generation}.log"
        self.stderr_path = self.root / f"stderr.{self.generation}.log"
        e = clean_environ()
        e.update(self.env)
        for k in [k for k, v in e.items() if v is None]:
            del e[k]
        cmd = [BIN, "serve", "--listen", f"127.0.0.1:{self.port}",
               "--data-dir", str(self.data_dir)]
        if self.config:
            cmd += ["--config", str(self.config)]
        cmd += self.args
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL, env=e)
        self.returncode = None
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gatehouse exited with {self.proc.returncode} during start-up:\n"
                    + self.stderr_text())
            try:
                r = requests.get(self.url("/healthz"), timeout=2)
                if r.status_code == 200:
                    return
                last = r.status_code
            except requests.RequestException as exc:
                last = exc
            time.sleep(0.05)
        raise RuntimeError(f"gatehouse not healthy after {timeout}s ({last}):\n"
                           + self.stderr_text())

    def wait_exit(self, timeout=120):
        """For a server that must stop by itself (one refusing its configuration): waits at
        most timeout seconds for the exit and returns its code, None while it still runs.
        Waiting on the exit, not on a failed health check, tells a refusal from a slow
        start on a loaded machine."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signal the server and wait; returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                self.returncode = None
                self._close()
                self.proc = None
                return None
        self.returncode = self.proc.returncode
        self._close()
        self.proc = None
        return self.returncode

    def stop_ok(self):
        """Stop, and assert a clean exit; a crash shows the server's stderr (an abort from
        a sanitizer report) in the failure."""
        rc = self.stop()
        assert rc == 0, f"server exited with {rc}; stderr:\n{self.stderr_text()[-4000:]}"

    def _close(self):
        for f in (self._out, self._err):
            try:
                f.close()
            except Exception:
                pass

    def restart(self, env=None, wait=True):
        rc = self.stop()
        if env:
            self.env.update(env)
        self.start(wait=wait)
        return rc

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- access -------------------------------------------------------------
    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base + path

    def get(self, path, **kw):
        kw.setdefault("timeout", TIMEOUT)
        return requests.get(self.url(path), **kw)

    def head(self, path, **kw):
        kw.setdefault("timeout", TIMEOUT)
        return requests.head(self.url(path), **kw)

    def post(self, path, json_body=None, **kw):
        kw.setdefault("timeout", TIMEOUT)
        if json_body is not None:
            kw["json"] = json_body
        return requests.post(self.url(path), **kw)

    def request(self, method, path, **kw):
        kw.setdefault("timeout", TIMEOUT)
        return requests.request(method, self.url(path), **kw)

    def stdout_text(self):
        out = []
        for p in sorted(self.root.glob("stdout.*.log")):
            out.append(p.read_text(errors="replace"))
        return "".join(out)

    def stderr_text(self):
        out = []
        for p in sorted(self.root.glob("stderr.*.log")):
            out.append(p.read_text(errors="replace"))
        return "".join(out)

    def log_text(self):
        return self.stdout_text() + self.stderr_text()

    def db(self):
        """A read-only connection to the server's SQLite database."""
        path = self.data_dir / "gatehouse.db"
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        con.row_factory = sqlite3.Row
        return con

    def query(self, sql, params=()):
        con = self.db()
        try:
            return [dict(r) for r in con.execute(sql, params).fetchall()]
        finally:
            con.close()

    @property
    def key_path(self):
        return self.data_dir / "keys" / "signing.pem"

    # -- domain helpers -----------------------------------------------------
    def register(self, username=None, password=None, email=None, full_name=None):
        username = username or unique_name()
        password = password or strong_password()
        email = email or f"{username}@example.test"
        body = {"username": username, "email": email, "password": password}
        if full_name is not None:
            body["full_name"] = full_name
        r = self.post("/api/v1/auth/register", body)
        assert r.status_code == 201, (r.status_code, r.text)
        u = r.json()
        u["password"] = password
        return u

    def login(self, username, password, expect=200):
        r = self.post("/api/v1/auth/login", {"username": username, "password": password})
        if expect is not None:
            assert r.status_code == expect, (r.status_code, r.text)
        return r

    def tokens(self, username, password):
        return self.login(username, password).json()

    def accept_invitation(self, invitee_headers, org_id):
        """The invitee (its credential headers) accepts its one live invitation to org_id;
        returns the new membership ({id, name, role})."""
        r = self.get(MY_INVITATIONS, headers=invitee_headers, params={"limit": 1000})
        assert r.status_code == 200, (r.status_code, r.text)
        ids = [i["id"] for i in r.json()["items"] if i["org_id"] == org_id]
        assert len(ids) == 1, (org_id, r.text)
        r = self.post(f"{MY_INVITATIONS}/{ids[0]}/accept", headers=invitee_headers)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def join(self, headers, org_id, user, role="member"):
        """Makes user (a dict with id, username, password and maybe "h") a member of
        org_id with role the way an org admin (headers) must: an invitation (202) that the
        user accepts with its own token. Returns the membership."""
        r = self.post(f"/api/v1/orgs/{org_id}/members", {"user_id": user["id"], "role": role},
                      headers=headers)
        assert r.status_code == 202, (r.status_code, r.text)
        h = user.get("h") or bearer(self.tokens(user["username"], user["password"])["access_token"])
        return self.accept_invitation(h, org_id)

    def jwks(self):
        r = self.get("/.well-known/jwks.json")
        assert r.status_code == 200, r.text
        return r.json()

    def openid(self):
        r = self.get("/.well-known/openid-configuration")
        assert r.status_code == 200, r.text
        return r.json()


def unique_name(prefix="u"):
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def strong_password():
    return f"Gh-{uuid.uuid4().hex[:10]}-Pw!"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), s


def assert_error(r, status, code=None, codes=None):
    """Check the common error envelope."""
    assert r.status_code == status, (r.status_code, r.headers, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err.get("code"), str), body
    assert isinstance(err.get("message"), str) and err["message"], body
    assert err.get("request_id") == r.headers.get("X-Request-Id"), (body, r.headers)
    assert r.headers.get("X-Request-Id"), r.headers
    if code is not None:
        assert err["code"] == code, body
    if codes is not None:
        assert err["code"] in codes, body
    return err


def assert_security_headers(r):
    for h in SECURITY_HEADERS:
        assert r.headers.get(h), f"missing {h}: {dict(r.headers)}"
    assert r.headers["X-Content-Type-Options"].lower() == "nosniff"
    assert r.headers["X-Frame-Options"].upper() == "DENY"


# -- fixtures -----------------------------------------------------------------

@pytest.fixture(scope="session")
def server():
    """One default server (RS256 4096, bcrypt cost 4) shared by the whole session."""
    s = Server()
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


@pytest.fixture
def make_server():
    """Factory for throwaway servers with a different configuration."""
    made = []

    def make(env=None, start=True, **kw):
        s = Server(env=env, **kw)
        made.append(s)
        if start:
            s.start()
        return s

    yield make
    for s in made:
        s.cleanup()


@pytest.fixture
def user(server):
    """A freshly registered user on the session server (with its password)."""
    return server.register(full_name="Test User")


@pytest.fixture
def tokens(server, user):
    t = server.tokens(user["username"], user["password"])
    t["user"] = user
    return t


@pytest.fixture
def admin_tokens(server):
    return server.tokens("admin", ADMIN_PASSWORD)


def eventually(check, timeout=30.0, interval=0.05):
    """Polls check() until it returns something true or timeout seconds pass; returns its
    last answer (for the assertion and its message). For what a server does after it
    answers (a metric, a log line, a delivery), instead of a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(interval)


def wait_audit(server, action, timeout=5.0, **where):
    """Poll audit_events until a row with this action (and column values) exists."""
    clauses = ["action = ?"]
    params = [action]
    for k, v in where.items():
        clauses.append(f"{k} = ?")
        params.append(v)
    sql = "SELECT * FROM audit_events WHERE " + " AND ".join(clauses) + " ORDER BY id"
    deadline = time.monotonic() + timeout
    while True:
        rows = server.query(sql, params)
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of the tests' own (tests/integration/pg.py) for the session."""
    from pg import Postgres
    pg = Postgres()
    try:
        yield pg
    finally:
        pg.cleanup()

"""Several nodes: two gatehouse processes on one PostgreSQL and one Redis (all of the tests'
own, on 127.0.0.1), behind nginx. A revocation on one node is refused on the other within
1 s through the revocation bus (Redis pub/sub) and, with Redis away, through the database
feed alone (the delays are measured and printed); the API through the balancer (one
winner of 50 refreshes); the cluster through a node killed with SIGKILL mid-write (every
201 kept), the database restarted under load (503 meanwhile, never 500, recovery without
restart) and Redis going away and coming back. Every wait is bounded."""
import concurrent.futures
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from conftest import ADMIN_PASSWORD, bearer, free_port, strong_password, unique_name
from redis_server import Redis

VERIFY = "/api/v1/auth/verify"
ME = "/api/v1/auth/me"
KEYS = "/api/v1/api-keys"
REDIS_PASSWORD = "Redis-pass-for-tests-1"


@pytest.fixture
def redis():
    r = Redis(password=REDIS_PASSWORD).start()
    try:
        yield r
    finally:
        r.cleanup()


def cluster(make_server, postgres, redis, **extra):
    """Two nodes on a fresh database, one issuer, one key directory, the revocation bus."""
    env = {"GATEHOUSE_STORAGE_BACKEND": "postgres",
           "GATEHOUSE_STORAGE_DSN": postgres.new_database(),
           "GATEHOUSE_AUTH_ISSUER": "https://gatehouse.test",
           "GATEHOUSE_REVOCATION_REDIS": f"127.0.0.1:{redis.port}",
           "GATEHOUSE_REDIS_PASSWORD": REDIS_PASSWORD}
    env.update(extra)
    a = make_server(env)
    b = make_server(env, data_dir=a.data_dir)
    return a, b


def until(predicate, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if predicate():
            return time.monotonic() - t0
        time.sleep(0.002)
    return None


def revoke_and_measure(a, b, user, revoke):
    """Logs user in on a, warms b's caches, revokes on a with revoke(headers): the seconds
    until b refuses the token on /verify (None: not within 1 s)."""
    t = a.tokens(user["username"], user["password"])
    h = bearer(t["access_token"])
    for _ in range(3):
        assert b.get(VERIFY, headers=h).status_code == 200
    revoke(h)
    return until(lambda: b.get(VERIFY, headers=h).status_code == 401, 1.0)


def test_revocations_reach_the_other_node_within_1s(make_server, postgres, redis):
    a, b = cluster(make_server, postgres, redis)
    u = a.register()
    delays = {}

    def logout_all(h):
        assert a.post("/api/v1/auth/logout-all", headers=h).status_code == 204

    delays["logout-all"] = revoke_and_measure(a, b, u, logout_all)

    def change_password(h):
        new = "N3w-" + u["password"]
        r = a.post("/api/v1/auth/change-password",
                   {"current_password": u["password"], "new_password": new}, headers=h)
        assert r.status_code in (200, 204), r.text
        u["password"] = new

    delays["password change"] = revoke_and_measure(a, b, u, change_password)

    # an API key revoked on a is refused on b
    h = bearer(a.tokens(u["username"], u["password"])["access_token"])
    key = a.post(KEYS, {"name": "k1"}, headers=h).json()
    xk = {"X-API-Key": key["key"]}
    for _ in range(3):
        assert b.get(VERIFY, headers=xk).status_code == 200
    assert a.request("DELETE", f"{KEYS}/{key['id']}", headers=h).status_code == 204
    delays["API key"] = until(lambda: b.get(VERIFY, headers=xk).status_code == 401, 1.0)

    # disabling, then deleting, the user through the admin API on a
    admin = bearer(a.tokens("admin", ADMIN_PASSWORD)["access_token"])
    me = a.get(ME, headers=bearer(a.tokens(u["username"], u["password"])["access_token"]))
    uid = me.json()["id"]

    def disable(h):
        r = a.request("PATCH", f"/api/v1/users/{uid}", json={"disabled": True}, headers=admin)
        assert r.status_code == 200, r.text

    delays["disable"] = revoke_and_measure(a, b, u, disable)
    assert a.request("PATCH", f"/api/v1/users/{uid}", json={"disabled": False},
                     headers=admin).status_code == 200

    def delete(h):
        assert a.request("DELETE", f"/api/v1/users/{uid}", headers=admin).status_code == 204

    delays["delete"] = revoke_and_measure(a, b, u, delete)

    for what, d in delays.items():
        assert d is not None, f"{what}: node b still accepts after 1 s"
        print(f"bus: {what} on node a refused on node b after {d * 1000:.1f} ms")


def test_feed_carries_revocations_while_redis_is_away(make_server, postgres, redis):
    a, b = cluster(make_server, postgres, redis)
    u = a.register()
    redis.kill()

    def logout_all(h):
        assert a.post("/api/v1/auth/logout-all", headers=h).status_code == 204

    d = revoke_and_measure(a, b, u, logout_all)
    assert d is not None, "node b still accepts after 1 s with Redis away"
    print(f"feed (Redis away): logout-all on node a refused on node b after {d * 1000:.1f} ms")
    redis.start()  # the bus comes back by itself
    d = None
    for _ in range(30):
        time.sleep(0.2)
        d = revoke_and_measure(a, b, u, logout_all)
        if d is not None and d < 0.05:
            break
    assert d is not None


def test_wrong_redis_password_falls_back_to_the_feed(make_server, postgres, redis):
    a, b = cluster(make_server, postgres, redis, GATEHOUSE_REDIS_PASSWORD="not-it")
    u = a.register()

    def logout_all(h):
        assert a.post("/api/v1/auth/logout-all", headers=h).status_code == 204

    assert revoke_and_measure(a, b, u, logout_all) is not None
    assert "not-it" not in a.stderr_text() + a.stdout_text()


# -- a two-node cluster behind nginx, through failures ------------------------------------

class Balancer:
    """nginx on a free loopback port spreading requests over the nodes (round robin); a
    node that refuses connections is skipped (proxy_next_upstream error)."""

    def __init__(self, ports):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="gh-lb-"))
        self.port = free_port()
        servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=1s;\n"
                          for p in ports)
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (self.dir / "tmp").mkdir()
        (self.dir / "nginx.conf").write_text(f"""{user}worker_processes 1;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {self.dir}/tmp/body;
  proxy_temp_path {self.dir}/tmp/proxy;
  upstream gatehouse {{
{servers}  }}
  server {{
    listen 127.0.0.1:{self.port};
    location / {{
      proxy_pass http://gatehouse;
      proxy_next_upstream error timeout;
      proxy_connect_timeout 1s;
      proxy_set_header X-Forwarded-For $remote_addr;
    }}
  }}
}}
""")
        self.proc = subprocess.Popen(
            ["nginx", "-e", "stderr", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
             "-g", f"daemon off; pid {self.dir}/nginx.pid; error_log stderr;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(600):  # 30 s: the machine may be loaded
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def post(self, path, body, headers=None):
        return requests.post(self.url(path), json=body, headers=headers, timeout=15)

    def get(self, path, headers=None):
        return requests.get(self.url(path), headers=headers, timeout=15)

    def cleanup(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def stack(make_server, postgres, redis):
    a, b = cluster(make_server, postgres, redis,
                   GATEHOUSE_RATE_LIMIT_BACKEND="redis",
                   GATEHOUSE_RATE_LIMIT_REDIS=f"127.0.0.1:{redis.port}",
                   GATEHOUSE_RATE_LIMIT_GLOBAL="100000",
                   GATEHOUSE_RATE_LIMIT_AUTH="100000")
    lb = Balancer([a.port, b.port])
    try:
        yield a, b, lb
    finally:
        lb.cleanup()


def register(lb):
    name = unique_name("c")
    pw = strong_password()
    r = lb.post("/api/v1/auth/register",
                {"username": name, "email": f"{name}@example.com", "password": pw})
    return r.status_code, {"username": name, "password": pw}


def login(lb, u):
    return lb.post("/api/v1/auth/login", {"username": u["username"], "password": u["password"]})


def test_cluster_through_the_balancer(stack):
    a, b, lb = stack
    code, u = register(lb)
    assert code == 201
    t = login(lb, u).json()
    rt = t["refresh_token"]
    for _ in range(4):  # alternating nodes
        r = lb.post("/api/v1/auth/refresh", {"refresh_token": rt})
        assert r.status_code == 200, r.text
        rt = r.json()["refresh_token"]
    # 50 refreshes of one token at once through the balancer: one winner
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        codes = list(ex.map(lambda _: lb.post("/api/v1/auth/refresh",
                                              {"refresh_token": rt}).status_code, range(50)))
    assert codes.count(200) == 1, codes


def test_cluster_survives_a_node_killed_mid_write(stack):
    a, b, lb = stack
    answered, stop = [], threading.Event()

    def writer():
        while not stop.is_set() and len(answered) < 400:
            try:
                code, u = register(lb)
            except requests.RequestException:
                continue
            if code == 201:
                answered.append(u)

    th = threading.Thread(target=writer)
    th.start()
    time.sleep(1.0)
    a.stop(sig=signal.SIGKILL)
    time.sleep(1.5)
    stop.set()
    th.join(timeout=60)
    assert len(answered) > 10
    # everything answered 201 was committed: every one logs in (through b)
    for u in answered:
        assert login(lb, u).status_code == 200, u
    # the node comes back on its port and serves again
    a.start(port=a.port)
    assert until(lambda: a.get("/readyz").status_code == 200, 20) is not None
    assert a.login(answered[0]["username"], answered[0]["password"]).status_code == 200


def test_cluster_survives_the_database_restarting_under_load(stack, postgres):
    a, b, lb = stack
    code, u = register(lb)
    assert code == 201
    h = bearer(login(lb, u).json()["access_token"])
    codes, stop = [], threading.Event()

    def load():
        while not stop.is_set() and len(codes) < 5000:
            try:
                codes.append(login(lb, u).status_code)
            except requests.RequestException:
                codes.append(0)

    th = threading.Thread(target=load)
    th.start()
    time.sleep(0.5)
    postgres.stop()
    try:
        assert until(lambda: a.get("/readyz").status_code == 503
                     and b.get("/readyz").status_code == 503, 10) is not None
        # cached access tokens still verify on both nodes while the database is away
        assert a.get(VERIFY, headers=h).status_code in (200, 503)
    finally:
        postgres.start()
    assert until(lambda: a.get("/readyz").status_code == 200
                 and b.get("/readyz").status_code == 200, 30) is not None
    time.sleep(0.5)
    stop.set()
    th.join(timeout=60)
    assert set(codes) <= {200, 503}, sorted(set(codes))  # refused plainly, never a 500
    assert 503 in codes and codes[-1] == 200
    assert a.proc.poll() is None and b.proc.poll() is None


def test_cluster_survives_redis_going_away(stack, redis):
    a, b, lb = stack
    code, u = register(lb)
    assert code == 201
    redis.kill()
    # limits fail open, logins go on; a revocation still reaches the other node (feed)
    for _ in range(10):
        assert login(lb, u).status_code == 200
    t = a.tokens(u["username"], u["password"])
    h = bearer(t["access_token"])
    assert b.get(VERIFY, headers=h).status_code == 200
    assert a.post("/api/v1/auth/logout-all", headers=h).status_code == 204
    assert until(lambda: b.get(VERIFY, headers=h).status_code == 401, 1.0) is not None
    redis.start()
    # the bus and the limiter come back by themselves
    assert until(lambda: "X-RateLimit-Remaining" in login(lb, u).headers, 20) is not None
    def bus_back():
        log = a.stdout_text()
        away = log.find("revocation bus: redis unreachable")
        return away >= 0 and log.find("revocation bus: redis connected", away) > away

    assert until(bus_back, 20) is not None
    assert a.stdout_text().count("revocation bus: redis unreachable") == 1  # logged once

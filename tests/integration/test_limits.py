"""Worker pool saturation and graceful shutdown."""
import threading
import time

import requests

from conftest import TIMEOUT, bearer, strong_password, unique_name

LOGIN = "/api/v1/auth/login"
VERIFY = "/api/v1/auth/verify"


def test_hash_pool_saturation_503_and_verify_not_queued(make_server):
    s = make_server({"GATEHOUSE_WORKERS_HASH_THREADS": "1",
                     "GATEHOUSE_WORKERS_HASH_QUEUE": "1",
                     "GATEHOUSE_PASSWORD_BCRYPT_COST": "12",
                     "GATEHOUSE_AUTH_ALGORITHM": "ES256"})
    name = unique_name()
    pw = strong_password()
    r = s.post("/api/v1/auth/register",
               {"username": name, "email": f"{name}@example.test", "password": pw})
    assert r.status_code == 201, r.text
    at = s.tokens(name, pw)["access_token"]

    n = 8
    barrier = threading.Barrier(n + 1)
    results = [None] * n

    def worker(i):
        try:
            barrier.wait(timeout=10)
            r = requests.post(s.url(LOGIN), json={"username": name, "password": pw},
                              timeout=60)
            results[i] = r
        except Exception as exc:  # pragma: no cover
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait(timeout=10)
    time.sleep(0.05)
    # token checks are answered while the hash pool is busy
    verify_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        v = s.get(VERIFY, headers=bearer(at), timeout=5)
        verify_times.append(time.perf_counter() - t0)
        assert v.status_code == 200, v.text
    for t in threads:
        t.join(timeout=60)

    statuses = [getattr(r, "status_code", r) for r in results]
    assert 200 in statuses, statuses
    assert 503 in statuses, statuses
    assert all(st in (200, 503) for st in statuses), statuses
    for r in results:
        if r.status_code == 503:
            body = r.json()
            assert body["error"]["code"] == "unavailable", body
            assert body["error"]["request_id"] == r.headers["X-Request-Id"]
            ra = r.headers.get("Retry-After")
            assert ra and ra.isdigit() and int(ra) >= 1, r.headers
    # a bcrypt-12 hash takes ~0.2 s; verifies must not wait behind ~2 of them
    assert max(verify_times) < 0.15, verify_times
    # the server recovers by itself
    s.login(name, pw)


def test_graceful_stop_finishes_inflight_login(make_server):
    s = make_server({"GATEHOUSE_PASSWORD_BCRYPT_COST": "12",
                     "GATEHOUSE_AUTH_ALGORITHM": "EdDSA"})
    name = unique_name()
    pw = strong_password()
    r = s.post("/api/v1/auth/register",
               {"username": name, "email": f"{name}@example.test", "password": pw})
    assert r.status_code == 201
    out = {}

    def do_login():
        try:
            out["r"] = requests.post(s.url(LOGIN), json={"username": name, "password": pw},
                                     timeout=TIMEOUT)
        except Exception as exc:
            out["r"] = exc

    th = threading.Thread(target=do_login)
    th.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    rc = s.stop(timeout=15)
    th.join(timeout=20)
    r = out.get("r")
    assert getattr(r, "status_code", r) == 200, (r, getattr(r, "text", None))
    assert "access_token" in r.json()
    assert rc == 0, s.stderr_text()
    assert time.monotonic() - t0 < 15


def test_sigint_exits_zero(make_server):
    import signal
    s = make_server({"GATEHOUSE_AUTH_ALGORITHM": "EdDSA"})
    assert s.stop(sig=signal.SIGINT) == 0


def test_idle_stop_is_fast(make_server):
    s = make_server({"GATEHOUSE_AUTH_ALGORITHM": "EdDSA"})
    # an idle keep-alive connection must not hold the shutdown for long
    sess = requests.Session()
    assert sess.get(s.url("/healthz"), timeout=5).status_code == 200
    t0 = time.monotonic()
    s.stop_ok()
    assert time.monotonic() - t0 < 12
    sess.close()


def test_many_parallel_requests(server, tokens):
    """A burst of parallel token checks and health probes all succeed."""
    errors = []
    at = tokens["access_token"]

    def worker():
        sess = requests.Session()
        for _ in range(20):
            try:
                r = sess.get(server.url(VERIFY), headers=bearer(at), timeout=TIMEOUT)
                if r.status_code != 200:
                    errors.append(r.status_code)
            except Exception as exc:
                errors.append(repr(exc))

    ths = [threading.Thread(target=worker) for _ in range(10)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(timeout=60)
    assert not errors, errors[:5]


def test_slow_client_is_dropped_and_others_served(make_server):
    import socket
    s = make_server({"GATEHOUSE_AUTH_ALGORITHM": "EdDSA",
                     "GATEHOUSE_SERVER_CONNECTION_TIMEOUT": "1s"})
    slow = []
    for _ in range(20):
        sk = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        sk.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
        slow.append(sk)
    # the server keeps answering others meanwhile
    assert s.get("/healthz", timeout=5).status_code == 200
    t0 = time.monotonic()
    for sk in slow:
        sk.settimeout(10)
        try:
            data = sk.recv(1024)
        except ConnectionResetError:
            data = b""
        # closed without a successful answer
        assert not data.startswith(b"HTTP/1.1 200"), data[:100]
        sk.close()
    assert time.monotonic() - t0 < 8
    assert s.get("/healthz", timeout=5).status_code == 200

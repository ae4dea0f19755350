"""The Redis rate-limit backend against a real redis-server started here (on a free
port, no persistence, killed at teardown): two Gatehouse nodes share one limit; when
Redis dies, fail-open and fail-closed nodes behave as configured, log it once, count it
in the metrics and audit RATE_LIMIT_BACKEND_DOWN once; when Redis is back on the same
port they recover by themselves (RATE_LIMIT_BACKEND_UP).
"""
import json
import time

import pytest

from conftest import assert_error, free_port, wait_audit
from redis_server import Redis


@pytest.fixture
def redis():
    r = Redis().start()
    try:
        yield r
    finally:
        r.cleanup()


def node(make_server, redis, failure="open", limit="4"):
    return make_server({
        "GATEHOUSE_RATE_LIMIT_BACKEND": "redis",
        "GATEHOUSE_RATE_LIMIT_REDIS": f"127.0.0.1:{redis.port}",
        "GATEHOUSE_RATE_LIMIT_REDIS_TIMEOUT_MS": "500",
        "GATEHOUSE_RATE_LIMIT_REDIS_FAILURE": failure,
        "GATEHOUSE_RATE_LIMIT_GLOBAL": limit,
        "GATEHOUSE_RATE_LIMIT_AUTH": "0",
        "GATEHOUSE_RATE_LIMIT_ROUTES": "GET /metrics 0/1m",
    })


def client(n):
    return {"X-Forwarded-For": f"203.0.113.{n}"}


def metric(s, name):
    for line in s.get("/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.split()[-1])
    raise AssertionError(f"no {name}")


def test_two_nodes_share_one_limit(make_server, redis):
    a, b = node(make_server, redis), node(make_server, redis)
    h = client(1)
    seen = []
    for s in (a, b, a, b):
        r = s.get("/healthz", headers=h)
        assert r.status_code == 200
        seen.append(int(r.headers["X-RateLimit-Remaining"]))
    assert seen == [3, 2, 1, 0]
    for s in (a, b):
        r = s.get("/healthz", headers=h)
        assert_error(r, 429, "rate_limited")
        assert 1 <= int(r.headers["Retry-After"]) <= 15
    # another client is fresh on both nodes
    assert b.get("/healthz", headers=client(2)).headers["X-RateLimit-Remaining"] == "3"
    # the script cache flushed (as after a Redis restart): EVALSHA falls back to EVAL
    assert redis.command("SCRIPT", "FLUSH") == b"+OK\r\n"
    assert a.get("/healthz", headers=client(3)).headers["X-RateLimit-Remaining"] == "3"
    assert b.get("/healthz", headers=client(3)).headers["X-RateLimit-Remaining"] == "2"
    # keys expire with the state they hold
    ttl = redis.command("PTTL", "gatehouse:rl:0:" + "0" * 20 + "ffff" + "cb007103")
    assert ttl.startswith(b":") and 0 < int(ttl[1:]) <= 61000, ttl
    assert metric(a, "gatehouse_rate_limit_backend_up") == 1


def test_outage_open_closed_and_recovery(make_server, redis):
    opened, closed = node(make_server, redis, "open"), node(make_server, redis, "closed")
    for s in (opened, closed):
        assert s.get("/healthz", headers=client(10)).headers["X-RateLimit-Limit"] == "4"

    redis.kill()
    for _ in range(10):
        r = opened.get("/healthz", headers=client(11))
        assert r.status_code == 200  # fail-open: let through, without limit headers
        assert "X-RateLimit-Remaining" not in r.headers
        r = closed.get("/healthz", headers=client(11))
        assert_error(r, 503, "unavailable")
        assert r.headers["Retry-After"] == "1"
    # far past the limit of 4, nothing was refused on the open node
    for s in (opened, closed):
        assert metric(s, "gatehouse_rate_limit_backend_up") == 0
        assert metric(s, "gatehouse_rate_limit_backend_errors_total") >= 1
        rows = wait_audit(s, "RATE_LIMIT_BACKEND_DOWN")
        assert len(rows) == 1, rows
    time.sleep(0.3)
    for s, mode in ((opened, "open"), (closed, "closed")):
        rows = s.query("SELECT * FROM audit_events WHERE action LIKE 'RATE_LIMIT_BACKEND_%'")
        assert [r["action"] for r in rows] == ["RATE_LIMIT_BACKEND_DOWN"], rows
        assert json.loads(rows[0]["metadata"]) == {"backend": "redis", "failure": mode}
        lines = [l for l in s.stdout_text().splitlines() if "does not answer" in l]
        assert len(lines) == 1, lines  # logged once per outage, not per request
        assert f"failing {mode}" in lines[0]

    redis.start()  # the same port
    deadline = time.monotonic() + 20
    back = set()
    while time.monotonic() < deadline and len(back) < 2:
        for name, s in (("open", opened), ("closed", closed)):
            r = s.get("/healthz", headers=client(12))
            if r.status_code == 200 and "X-RateLimit-Remaining" in r.headers:
                back.add(name)
        time.sleep(0.2)
    assert back == {"open", "closed"}, "no recovery within 20 s"
    for s in (opened, closed):
        assert wait_audit(s, "RATE_LIMIT_BACKEND_UP")
        assert metric(s, "gatehouse_rate_limit_backend_up") == 1
        # every connection of the outage is replaced: no second outage on the way back
        for _ in range(10):
            assert s.get("/healthz", headers=client(14)).status_code in (200, 429)
        time.sleep(0.3)
        rows = s.query("SELECT action FROM audit_events WHERE action LIKE 'RATE_LIMIT_BACKEND_%' "
                       "ORDER BY id")
        assert [r["action"] for r in rows] == ["RATE_LIMIT_BACKEND_DOWN", "RATE_LIMIT_BACKEND_UP"]
        assert any("answers again" in l for l in s.stdout_text().splitlines())
        # limiting again, against the (fresh) shared state
        h = client(13)
        codes = [s.get("/healthz", headers=h).status_code for _ in range(5)]
    assert codes.count(429) >= 1


def test_restart_while_idle_is_not_an_outage(make_server, redis):
    s = node(make_server, redis, "closed")
    for n in range(40, 46):  # use every connection of the pool
        assert s.get("/healthz", headers=client(n)).status_code == 200
    redis.kill()
    redis.start()
    # the idle connections died with the old Redis: each is replaced on the spot
    for n in range(40, 46):
        r = s.get("/healthz", headers=client(n))
        assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "3"
    time.sleep(0.3)
    assert not s.query("SELECT id FROM audit_events WHERE action LIKE 'RATE_LIMIT_BACKEND_%'")
    assert metric(s, "gatehouse_rate_limit_backend_errors_total") == 0


def test_unreachable_from_the_start(make_server):
    port = free_port()  # nothing listens there
    s = make_server({
        "GATEHOUSE_RATE_LIMIT_BACKEND": "redis",
        "GATEHOUSE_RATE_LIMIT_REDIS": f"127.0.0.1:{port}",
        "GATEHOUSE_RATE_LIMIT_GLOBAL": "2",
        "GATEHOUSE_RATE_LIMIT_AUTH": "0",
    })
    # fail-open is the default: the server started and answers
    for _ in range(5):
        assert s.get("/healthz", headers=client(20)).status_code == 200
    assert wait_audit(s, "RATE_LIMIT_BACKEND_DOWN")


def test_bad_redis_settings_refused(make_server):
    for env in ({"GATEHOUSE_RATE_LIMIT_BACKEND": "memcached"},
                {"GATEHOUSE_RATE_LIMIT_REDIS": "redis.example:6379"},
                {"GATEHOUSE_RATE_LIMIT_REDIS": "127.0.0.1"},
                {"GATEHOUSE_RATE_LIMIT_REDIS_FAILURE": "maybe"},
                {"GATEHOUSE_RATE_LIMIT_REDIS_TIMEOUT_MS": "0"}):
        s = make_server(env, start=False)
        with pytest.raises(Exception):
            s.start(timeout=10)
        assert "RATE_LIMIT" in s.stderr_text().upper()


def test_leases_never_pass_more_than_the_shared_limit(make_server, redis):
    """A limit of 200 a minute: each node takes 10 requests at a time from Redis (a lease);
    both nodes together still pass 200 at most (plus what the time the requests took adds
    back), the headers count down, and a refusal comes with Retry-After."""
    a, b = node(make_server, redis, limit="200"), node(make_server, redis, limit="200")
    codes = []
    remaining = []
    t0 = time.monotonic()
    for i in range(260):
        r = (a, b)[i % 2].get("/healthz", headers=client(40))
        codes.append(r.status_code)
        if r.status_code == 200 and i % 2 == 0:
            remaining.append(int(r.headers["X-RateLimit-Remaining"]))
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
    passed = codes.count(200)
    # what the time the requests took added back (200 a minute), plus one in flight
    grown = int((time.monotonic() - t0) * 200 / 60) + 2
    assert 190 <= passed <= 200 + grown, (passed, grown)
    assert codes.count(429) == 260 - passed
    assert remaining[0] >= 180 and min(remaining) <= 20  # counted down to the end
    # Redis saw the leases (about 20) and the refusals (60), not each request
    stats = redis.command("INFO", "commandstats").decode()
    calls = sum(int(line.split("calls=")[1].split(",")[0]) for line in stats.splitlines()
                if line.startswith(("cmdstat_evalsha:", "cmdstat_eval:")))
    assert calls <= 100, stats


def test_redis_over_tls_with_a_password(make_server, tmp_path):
    """redis.tls with the server's CA and redis.password: the shared limit works; a CA that
    did not sign the server's certificate is refused (the limiter fails open, logged)."""
    r = Redis(password="tls-pass-1", tls=True).start()
    try:
        env = {"GATEHOUSE_REDIS_TLS": "true",
               "GATEHOUSE_REDIS_TLS_CA_FILE": r.ca, "GATEHOUSE_REDIS_PASSWORD": "tls-pass-1"}
        a = node(make_server, r, limit="4")
        a.restart(env=env)
        seen = [a.get("/healthz", headers=client(50)).headers.get("X-RateLimit-Remaining")
                for _ in range(5)]
        assert seen[:4] == ["3", "2", "1", "0"], seen
        assert r.command("DBSIZE").startswith(b":")
        other = Redis(tls=True)  # another CA
        try:
            b = node(make_server, r, limit="4")
            b.restart(env={**env, "GATEHOUSE_REDIS_TLS_CA_FILE": other.ca})
            resp = b.get("/healthz", headers=client(51))
            assert resp.status_code == 200 and "X-RateLimit-Remaining" not in resp.headers
            assert "handshake with 127.0.0.1 failed" in b.stdout_text()
            assert "tls-pass-1" not in b.stdout_text() + b.stderr_text()
        finally:
            other.cleanup()
    finally:
        r.cleanup()

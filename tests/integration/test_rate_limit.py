"""Request rate limits (API.md "Rate limits"): per client, global and auth limits,
per-route overrides, X-RateLimit-* headers, 429 rate_limited with Retry-After, the
environment switches, and who "the client" is behind a proxy (in-process backend).

conftest's BASE_ENV turns both limits off for every other suite; here each test sets
its own.  Each test speaks for fresh client addresses through X-Forwarded-For (loopback is
a trusted proxy by default), so the start-up polling of /healthz counts for nobody here.
"""
import json
import time

import pytest

from conftest import ADMIN_PASSWORD, assert_error, bearer, unique_name, wait_audit

LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def client(n):
    """Headers of a client behind the (trusted, loopback) proxy."""
    return {"X-Forwarded-For": f"203.0.113.{n}"}


def limits(global_=None, auth=None, **extra):
    env = {"GATEHOUSE_RATE_LIMIT_GLOBAL": global_, "GATEHOUSE_RATE_LIMIT_AUTH": auth}
    env.update(extra)
    return env


def login(s, headers, body=None):
    return s.post("/api/v1/auth/login", body or {"username": "nobody", "password": "wrong-1"},
                  headers=headers)


def test_headers_then_429(make_server):
    s = make_server(limits("3", "0"))
    h = client(1)
    start = int(time.time())
    for remaining in (2, 1, 0):
        r = s.get("/healthz", headers=h)
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Limit"] == "3"
        assert r.headers["X-RateLimit-Remaining"] == str(remaining)
        reset = int(r.headers["X-RateLimit-Reset"])
        assert start <= reset <= start + 62
    r = s.get("/healthz", headers=h)
    assert_error(r, 429, "rate_limited")
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 20  # one more request every 60/3 s
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert "internal" not in r.text
    # another client is not affected; every route shares the global limit
    assert s.get("/healthz", headers=client(2)).status_code == 200
    assert_error(s.get("/.well-known/jwks.json", headers=h), 429, "rate_limited")
    # unknown paths and wrong methods count, and are refused like the rest
    assert_error(s.get("/nowhere", headers=h), 429, "rate_limited")
    r = s.get("/nowhere", headers=client(2))
    assert_error(r, 404, "not_found")
    assert r.headers["X-RateLimit-Remaining"] == "1"


def test_refused_before_json_and_authentication(make_server):
    s = make_server(limits("0", "1"))
    h = client(3)
    assert_error(login(s, h), 401, "invalid_credentials")
    # malformed JSON, a wrong content type, a huge body: still 429, never parsed
    r = s.post("/api/v1/auth/login", data=b"{not json", headers=dict(h, **{
        "Content-Type": "application/json"}))
    assert_error(r, 429, "rate_limited")
    r = s.post("/api/v1/auth/login", data=b"x=1", headers=dict(h, **{
        "Content-Type": "application/x-www-form-urlencoded"}))
    assert_error(r, 429, "rate_limited")
    # even the right password waits
    r = login(s, h, {"username": "admin", "password": ADMIN_PASSWORD})
    assert_error(r, 429, "rate_limited")


def test_auth_limit_shared_by_auth_routes_global_elsewhere(make_server):
    s = make_server(limits("20", "2", GATEHOUSE_AUTH_REGISTRATION="true"))
    h = client(4)
    r = login(s, h)
    assert r.headers["X-RateLimit-Limit"] == "2"
    r = s.post("/api/v1/auth/refresh", {"refresh_token": "nope"}, headers=h)
    assert r.status_code == 401 and r.headers["X-RateLimit-Remaining"] == "0"
    assert_error(s.post("/api/v1/auth/register", {"username": unique_name(), "password": "x"},
                        headers=h), 429, "rate_limited")
    # MFA routes, wherever they land under /api/v1/auth/mfa, count as auth
    assert_error(s.post("/api/v1/auth/mfa/verify", {"code": "123456"}, headers=h), 429,
                 "rate_limited")
    assert_error(s.get("/api/v1/auth/mfa", headers=h), 429, "rate_limited")
    # other routes answer under the global limit
    r = s.get("/api/v1/auth/me", headers=h)
    assert_error(r, 401)
    assert r.headers["X-RateLimit-Limit"] == "20"
    assert r.headers["X-RateLimit-Remaining"] == "19"
    r = s.post("/api/v1/auth/logout", {"refresh_token": "x"}, headers=h)
    assert r.headers["X-RateLimit-Limit"] == "20"
    # another client has its own auth allowance
    r = login(s, client(5), {"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "1"


def test_route_override(make_server):
    s = make_server(limits("50", "0", GATEHOUSE_RATE_LIMIT_ROUTES=(
        "GET /.well-known/jwks.json 2/1m\n* /healthz 0/1m\nPOST /api/v1/sql/* 1/10s")))
    h = client(6)
    for remaining in ("1", "0"):
        r = s.get("/.well-known/jwks.json", headers=h)
        assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "2"
        assert r.headers["X-RateLimit-Remaining"] == remaining
    r = s.get("/.well-known/jwks.json", headers=h)
    assert_error(r, 429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= 30
    # an override of 0: that route is not limited at all
    for _ in range(5):
        r = s.get("/healthz", headers=h)
        assert r.status_code == 200
        assert not any(k in r.headers for k in LIMIT_HEADERS)
    # the override has its own counter; other routes still see the global limit
    r = s.get("/.well-known/openid-configuration", headers=h)
    assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "50"
    # a prefix override, period in seconds
    tok = s.tokens("admin", ADMIN_PASSWORD)["access_token"]
    body = {"sql": "SELECT 1"}
    r = s.post("/api/v1/sql/validate", body, headers=dict(h, **bearer(tok)))
    assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "1"
    r = s.post("/api/v1/sql/validate", body, headers=dict(h, **bearer(tok)))
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) <= 10


@pytest.mark.parametrize("routes", ["GET /x", "GET /x 5", "GET /x 5/0", "get /x 5/1m",
                                    "GET x 5/1m", "GET /x 5/1m extra"])
def test_bad_override_refused(make_server, routes):
    s = make_server(limits(GATEHOUSE_RATE_LIMIT_ROUTES=routes), start=False)
    with pytest.raises(Exception):
        s.start(timeout=10)
    assert "rate_limit.routes" in s.stderr_text()


def test_env_switches_and_zero_is_off(make_server):
    # BASE_ENV: both off -> no headers anywhere, no refusals
    s = make_server()
    for _ in range(8):
        r = login(s, client(7))
        assert r.status_code == 401
        assert not any(k in r.headers for k in LIMIT_HEADERS)
    # unset: the defaults, 100 a minute and 5 for auth
    s2 = make_server(limits(None, None))
    assert s2.get("/healthz", headers=client(8)).headers["X-RateLimit-Limit"] == "100"
    r = login(s2, client(8))
    assert r.headers["X-RateLimit-Limit"] == "5"
    for _ in range(4):
        assert login(s2, client(8)).status_code == 401
    assert_error(login(s2, client(8)), 429, "rate_limited")
    # only the auth limit on
    s3 = make_server(limits("0", "1"))
    assert not any(k in s3.get("/healthz", headers=client(9)).headers for k in LIMIT_HEADERS)
    assert login(s3, client(9)).headers["X-RateLimit-Limit"] == "1"
    # out of range
    s4 = make_server(limits("1000001", "0"), start=False)
    with pytest.raises(Exception):
        s4.start(timeout=10)
    assert "GATEHOUSE_RATE_LIMIT_GLOBAL" in s4.stderr_text()


def test_forwarded_for_only_from_trusted_proxies(make_server):
    # loopback is not a trusted proxy here: X-Forwarded-For is anyone's to write
    s = make_server(limits("3", "0", GATEHOUSE_SERVER_TRUSTED_PROXIES="10.0.0.0/8"))
    # start-up polled /healthz from 127.0.0.1: spend whatever is left
    while s.get("/.well-known/jwks.json").status_code == 200:
        pass
    for n in range(20, 25):
        assert_error(s.get("/healthz", headers=client(n)), 429, "rate_limited")
    # trusted (the default, loopback): each forwarded client has its own allowance, and
    # what the client itself prepends is not believed
    t = make_server(limits("2", "0"))
    for n in range(30, 33):
        assert t.get("/healthz", headers=client(n)).status_code == 200
    spoof = {"X-Forwarded-For": "198.51.100.1, 203.0.113.40"}
    assert t.get("/healthz", headers=spoof).status_code == 200
    assert t.get("/healthz", headers={"X-Forwarded-For": "198.51.100.2, 203.0.113.40"}
                 ).status_code == 200
    assert_error(t.get("/healthz", headers=client(40)), 429, "rate_limited")


def test_unreadable_forwarded_for_counts_apart(make_server):
    """A client the proxy forwards for without a readable address has a counter of its
    own: not the proxy's (which would let it spend the proxy's allowance, or pass with it
    when the proxy's ran out), and not the all-zero address "::"."""
    s = make_server(limits("10", "0"))
    proxy = int(s.get("/healthz").headers["X-RateLimit-Remaining"])
    shapes = ["junk", "9.9.9.9, junk", "unknown", "9.9.9.9:99999", "[9.9.9.9]"]
    for i, xff in enumerate(shapes):
        r = s.get("/healthz", headers={"X-Forwarded-For": xff})
        assert r.headers["X-RateLimit-Remaining"] == str(9 - i), (xff, r.headers)
    assert int(s.get("/healthz").headers["X-RateLimit-Remaining"]) == proxy - 1
    r = s.get("/healthz", headers={"X-Forwarded-For": "::"})
    assert r.headers["X-RateLimit-Remaining"] == "9", r.headers


def test_verify_limited_by_the_original_client(make_server):
    s = make_server(limits("2", "0"))
    tok = s.tokens("admin", ADMIN_PASSWORD)["access_token"]

    def verify(n):
        h = {"X-Forwarded-For": f"198.51.100.{n}", "X-Forwarded-Method": "GET",
             "X-Forwarded-Uri": "/app/page", "X-Forwarded-Proto": "https"}
        h.update(bearer(tok))
        return s.get("/api/v1/auth/verify", headers=h)

    assert verify(1).status_code == 200
    r = verify(1)
    assert r.status_code == 200 and r.headers["X-Auth-User-Id"]
    assert all(k in r.headers for k in LIMIT_HEADERS)
    assert_error(verify(1), 429, "rate_limited")
    # the proxy itself, and other clients behind it, are not held back by that client
    for n in range(2, 6):
        assert verify(n).status_code == 200


def test_refusals_audited_aggregated_and_counted(make_server):
    s = make_server(limits("1", "0", GATEHOUSE_RATE_LIMIT_ROUTES="GET /metrics 0/1m",
                           GATEHOUSE_AUDIT_AGGREGATE_WINDOW="2s"))
    h = client(50)
    before = s.get("/metrics").text
    assert s.get("/healthz", headers=h).status_code == 200
    for _ in range(30):
        assert s.get("/healthz", headers=h).status_code == 429
    assert wait_audit(s, "RATE_LIMITED", ip_address="203.0.113.50")
    # the first refusal is a record; the window's 29 repeats become one summary
    deadline = time.monotonic() + 10
    while True:
        rows = s.query("SELECT * FROM audit_events WHERE action = 'RATE_LIMITED' AND "
                       "ip_address = ? ORDER BY id", ("203.0.113.50",))
        if len(rows) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(rows) == 2, rows
    assert json.loads(rows[0]["metadata"]) == {"limit": "global"}
    summary = json.loads(rows[1]["metadata"])
    assert summary["suppressed"] == 29 and summary["of"] == {"limit": "global"}
    assert rows[0]["status"] == 429 and rows[1]["status"] == 429

    def hits(text):
        for line in text.splitlines():
            if line.startswith("gatehouse_rate_limit_hits_total "):
                return float(line.split()[1])
        raise AssertionError("no gatehouse_rate_limit_hits_total")

    after = s.get("/metrics").text
    assert hits(after) - hits(before) == 30

"""Refresh token rotation, reuse detection, concurrency, logout."""
import threading

import requests

from conftest import TIMEOUT, assert_error, bearer, jwt_parts, wait_audit

REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
VERIFY = "/api/v1/auth/verify"


def refresh(server, rt):
    return server.post(REFRESH, {"refresh_token": rt})


def test_refresh_rotates(server, tokens):
    r = refresh(server, tokens["refresh_token"])
    assert r.status_code == 200, r.text
    t2 = r.json()
    assert t2["token_type"] == "Bearer" and t2["expires_in"] == 900
    assert t2["refresh_token"] != tokens["refresh_token"]
    assert t2["access_token"] != tokens["access_token"]
    assert "no-store" in r.headers.get("Cache-Control", "")
    c1 = jwt_parts(tokens["access_token"])[1]
    c2 = jwt_parts(t2["access_token"])[1]
    assert c2["sub"] == c1["sub"] and c2["org"] == c1["org"]
    assert c2["jti"] != c1["jti"]
    assert server.get(VERIFY, headers=bearer(t2["access_token"])).status_code == 200
    # the old one is spent
    assert_error(refresh(server, tokens["refresh_token"]), 401, "invalid_token")


def test_refresh_chain(server, tokens):
    rt = tokens["refresh_token"]
    for _ in range(4):
        r = refresh(server, rt)
        assert r.status_code == 200, r.text
        rt = r.json()["refresh_token"]
    wait_audit(server, "TOKEN_REFRESH", user_id=tokens["user"]["id"])
    rows = server.query("SELECT * FROM audit_events WHERE action='TOKEN_REFRESH' AND user_id=?",
                        (tokens["user"]["id"],))
    assert len(rows) >= 4


def test_reuse_revokes_family(server, tokens):
    old = tokens["refresh_token"]
    r = refresh(server, old)
    assert r.status_code == 200
    legit = r.json()
    # attacker replays the spent token
    assert_error(refresh(server, old), 401, "invalid_token")
    # the legitimate successor is now dead too
    assert_error(refresh(server, legit["refresh_token"]), 401, "invalid_token")
    rows = wait_audit(server, "TOKEN_REUSE_DETECTED", user_id=tokens["user"]["id"])
    assert rows, server.query("SELECT action, user_id FROM audit_events ORDER BY id DESC LIMIT 20")


def test_reuse_does_not_touch_other_families(server, user):
    a = server.tokens(user["username"], user["password"])
    b = server.tokens(user["username"], user["password"])
    assert refresh(server, a["refresh_token"]).status_code == 200
    assert refresh(server, a["refresh_token"]).status_code == 401  # reuse: family a dies
    r = refresh(server, b["refresh_token"])
    assert r.status_code == 200, r.text


def test_unknown_refresh_token(server):
    for rt in ("nope", "A" * 43, "", "x" * 4000):
        r = refresh(server, rt)
        assert r.status_code in (400, 401), r.text
        if r.status_code == 401:
            assert r.json()["error"]["code"] == "invalid_token"


def test_concurrent_refresh_exactly_one_wins(server, tokens):
    n = 10
    barrier = threading.Barrier(n)
    results = [None] * n
    url = server.url(REFRESH)
    rt = tokens["refresh_token"]

    def worker(i):
        sess = requests.Session()
        try:
            barrier.wait(timeout=10)
            r = sess.post(url, json={"refresh_token": rt}, timeout=TIMEOUT)
            results[i] = (r.status_code, r.text)
        except Exception as exc:  # pragma: no cover
            results[i] = ("exc", repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    statuses = [s for s, _ in results]
    assert statuses.count(200) == 1, results
    assert all(s in (200, 401) for s in statuses), results


def test_logout(server, tokens):
    r = server.post(LOGOUT, {"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_error(refresh(server, tokens["refresh_token"]), 401, "invalid_token")
    assert wait_audit(server, "LOGOUT", user_id=tokens["user"]["id"])


def test_logout_unknown_token_204(server):
    for rt in ("does-not-exist", "A" * 43):
        r = server.post(LOGOUT, {"refresh_token": rt})
        assert r.status_code == 204, r.text


def test_logout_twice_204(server, tokens):
    assert server.post(LOGOUT, {"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert server.post(LOGOUT, {"refresh_token": tokens["refresh_token"]}).status_code == 204


def test_logout_needs_no_bearer_and_leaves_other_sessions(server, user):
    a = server.tokens(user["username"], user["password"])
    b = server.tokens(user["username"], user["password"])
    assert server.post(LOGOUT, {"refresh_token": a["refresh_token"]}).status_code == 204
    assert refresh(server, b["refresh_token"]).status_code == 200

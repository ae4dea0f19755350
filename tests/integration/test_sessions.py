"""Browser sessions: ?mode=cookie login, the cookies' flags, the session as a credential,
refresh and logout by cookie, the sessions list, what ends every session, timeouts."""
import json
import secrets
import time

import pytest

from browser_support import Browser, attrs, set_cookies, sid_hash
from conftest import ADMIN_PASSWORD, Server, assert_error, bearer, unique_name, wait_audit

ME = "/api/v1/auth/me"
SESSIONS = "/api/v1/auth/sessions"
FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}


@pytest.fixture(scope="module")
def srv():
    s = Server(env=FAST)
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


def signed_in(srv, user=None):
    user = user or srv.register()
    b = Browser(srv)
    b.login(user["username"], user["password"])
    b.user = user
    return b


def test_cookie_login_sets_three_cookies_with_their_flags(srv):
    u = srv.register()
    b = Browser(srv)
    r = b.login(u["username"], u["password"])
    body = r.json()
    assert set(body) == {"access_token", "expires_in"}  # no refresh token in the body
    c = set_cookies(r)
    assert set(c) == {"gh_sid", "gh_rid", "gh_csrf"}
    sid, rid, csrf = attrs(c["gh_sid"]), attrs(c["gh_rid"]), attrs(c["gh_csrf"])
    assert sid["path"] == "/" and sid["httponly"] is True and sid["samesite"] == "Lax"
    assert rid["path"] == "/api/v1/auth" and rid["httponly"] is True
    assert rid["samesite"] == "Strict"
    assert csrf["path"] == "/" and "httponly" not in csrf and csrf["samesite"] == "Lax"
    for a in (sid, rid, csrf):
        assert "secure" not in a  # the public URL is http here
        assert "domain" not in a
    assert len(b.sid) == 43 and len(b.csrf) == 43
    # the session id is stored only as its SHA-256
    rows = srv.query("SELECT session_hash, user_id FROM sessions WHERE user_id = ?", (u["id"],))
    assert len(rows) == 1 and bytes(rows[0]["session_hash"]) == sid_hash(b.sid)
    assert srv.query("SELECT count(*) AS n FROM sessions WHERE session_hash = ?",
                     (b.sid,))[0]["n"] == 0
    login = wait_audit(srv, "LOGIN", user_id=u["id"])
    assert json.loads(login[-1]["metadata"])["method"] == "password"


def test_secure_and_domain_when_configured(make_server):
    s = make_server(env={**FAST, "GATEHOUSE_PUBLIC_URL": "https://auth.example.test",
                         "GATEHOUSE_SESSION_COOKIE_DOMAIN": "example.test"})
    u = s.register()
    b = Browser(s)
    r = b.login(u["username"], u["password"])
    for line in set_cookies(r).values():
        a = attrs(line)
        assert a["secure"] is True and a["domain"] == "example.test"


def test_bad_cookie_domain_refused_at_start(make_server):
    s = make_server(env={**FAST, "GATEHOUSE_SESSION_COOKIE_DOMAIN": "exa mple;x"}, start=False)
    s.start(wait=False)
    assert s.proc.wait(timeout=15) != 0
    assert "session.cookie_domain" in s.stderr_text()


def test_session_cookie_is_a_credential(srv):
    b = signed_in(srv)
    r = b.get(ME)
    assert r.status_code == 200 and r.json()["username"] == b.user["username"]
    r = b.get("/api/v1/auth/verify")
    assert r.status_code == 200
    assert r.headers["X-Auth-Method"] == "session"
    assert r.headers["X-Auth-User-Id"] == b.user["id"]


@pytest.mark.parametrize("sid", [
    "A" * 43, secrets.token_urlsafe(32), "short", "!" * 43, "A" * 44, "",
], ids=["same-char", "random", "short", "bad-chars", "long", "empty"])
def test_forged_session_ids_refused(srv, sid):
    r = srv.get(ME, headers={"Cookie": f"gh_sid={sid}"})
    assert_error(r, 401)


def test_two_session_cookies_are_ambiguous(srv):
    b = signed_in(srv)
    r = srv.get(ME, headers={"Cookie": f"gh_sid={b.sid}; gh_sid={b.sid}"})
    assert_error(r, 400, "invalid_request")


def test_bearer_wins_over_a_session_cookie(srv):
    b = signed_in(srv)
    other = srv.register()
    at = srv.tokens(other["username"], other["password"])["access_token"]
    r = b.get(ME, headers=bearer(at))
    assert r.json()["id"] == other["id"]


def test_refresh_cookie_rotates_and_reuse_ends_the_session(srv):
    b = signed_in(srv)
    old_rid = b.s.cookies.get("gh_rid")
    r = b.send("POST", "/api/v1/auth/refresh", {})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"access_token", "expires_in"}
    new_rid = b.s.cookies.get("gh_rid")
    assert new_rid and new_rid != old_rid
    assert attrs(set_cookies(r)["gh_rid"])["path"] == "/api/v1/auth"
    # the spent one again: reuse, the family and its session end
    r = srv.post("/api/v1/auth/refresh", {"refresh_token": old_rid})
    assert_error(r, 401, "invalid_token")
    assert wait_audit(srv, "TOKEN_REUSE_DETECTED", user_id=b.user["id"])
    assert b.get(ME).status_code == 401
    r = b.send("POST", "/api/v1/auth/refresh", {})
    assert_error(r, 401, "invalid_token")


def test_refresh_by_cookie_needs_csrf(srv):
    b = signed_in(srv)
    assert_error(b.send("POST", "/api/v1/auth/refresh", {}, csrf=False), 403, "csrf_failed")
    assert_error(b.send("POST", "/api/v1/auth/refresh", {}, origin=False), 403, "csrf_failed")
    assert_error(srv.post("/api/v1/auth/refresh", {}), 400, "invalid_request")


def test_logout_by_cookie_clears_and_revokes(srv):
    b = signed_in(srv)
    sid, rid = b.sid, b.s.cookies.get("gh_rid")
    r = b.send("POST", "/api/v1/auth/logout", {})
    assert r.status_code == 204, r.text
    for line in set_cookies(r).values():
        assert attrs(line)["max-age"] == "0"
    assert srv.get(ME, headers={"Cookie": f"gh_sid={sid}"}).status_code == 401
    r = srv.post("/api/v1/auth/refresh", {"refresh_token": rid})
    assert_error(r, 401)
    assert wait_audit(srv, "LOGOUT", user_id=b.user["id"])
    # an unknown or spent one: 204 all the same (no oracle)
    r = srv.post("/api/v1/auth/logout", {"refresh_token": rid})
    assert r.status_code == 204


def test_sessions_list_and_revoke(srv):
    u = srv.register()
    one, two = signed_in(srv, u), signed_in(srv, u)
    r = one.get(SESSIONS)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 2 and r.json()["next_offset"] is None
    cur = [i for i in items if i["current"]]
    assert len(cur) == 1
    for i in items:
        assert set(i) == {"id", "created_at", "last_seen_at", "expires_at", "ip_address",
                          "user_agent", "current"}
        assert i["ip_address"] == "127.0.0.1"
    other = [i for i in items if not i["current"]][0]
    # another user's session ids are not found; malformed ids neither
    stranger = signed_in(srv)
    assert_error(stranger.send("DELETE", f"{SESSIONS}/{other['id']}"), 404, "not_found")
    assert_error(one.send("DELETE", f"{SESSIONS}/not-an-id"), 404, "not_found")
    # without the CSRF token: refused
    assert_error(one.send("DELETE", f"{SESSIONS}/{other['id']}", csrf=False), 403, "csrf_failed")
    assert two.get(ME).status_code == 200
    r = one.send("DELETE", f"{SESSIONS}/{other['id']}")
    assert r.status_code == 204, r.text
    assert two.get(ME).status_code == 401
    assert one.get(ME).status_code == 200
    assert wait_audit(srv, "SESSION_REVOKED", user_id=u["id"])
    assert_error(one.send("DELETE", f"{SESSIONS}/{other['id']}"), 404)
    # a bearer token lists them too (no current one)
    at = srv.tokens(u["username"], u["password"])["access_token"]
    items = srv.get(SESSIONS, headers=bearer(at)).json()["items"]
    assert len(items) == 1 and not items[0]["current"]


@pytest.mark.parametrize("how", ["logout_all", "change_password", "disable", "delete"])
def test_what_ends_every_session(srv, how):
    u = srv.register()
    a, b = signed_in(srv, u), signed_in(srv, u)
    if how == "logout_all":
        r = a.send("POST", "/api/v1/auth/logout-all")
        assert r.status_code == 204, r.text
    elif how == "change_password":
        r = a.send("POST", "/api/v1/auth/change-password",
                   {"current_password": u["password"], "new_password": "N3w-" + u["password"]})
        assert r.status_code == 204, r.text
    else:
        adm = bearer(srv.tokens("admin", ADMIN_PASSWORD)["access_token"])
        if how == "disable":
            r = srv.request("PATCH", f"/api/v1/users/{u['id']}", json={"disabled": True},
                            headers=adm)
            assert r.status_code == 200, r.text
        else:
            r = srv.request("DELETE", f"/api/v1/users/{u['id']}", headers=adm)
            assert r.status_code == 204, r.text
    assert a.get(ME).status_code == 401
    assert b.get(ME).status_code == 401
    assert b.get("/api/v1/auth/verify").status_code == 401


def test_idle_and_absolute_timeouts(make_server):
    s = make_server(env={**FAST, "GATEHOUSE_SESSION_IDLE_TIMEOUT": "10s",
                         "GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT": "14s"})
    u = s.register()
    idle, busy = signed_in(s, u), signed_in(s, u)
    start = time.monotonic()
    # busy stays alive past the idle timeout by being used; idle dies
    while time.monotonic() - start < 12:
        assert busy.get(ME).status_code == 200
        time.sleep(2)
    assert idle.get(ME).status_code == 401
    # the absolute timeout ends even a busy session
    while time.monotonic() - start < 15:
        time.sleep(0.5)
    assert busy.get(ME).status_code == 401


def test_idle_timeout_cannot_exceed_absolute(make_server):
    s = make_server(env={**FAST, "GATEHOUSE_SESSION_IDLE_TIMEOUT": "2h",
                         "GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT": "1h"}, start=False)
    s.start(wait=False)
    assert s.proc.wait(timeout=15) != 0
    assert "session.idle_timeout" in s.stderr_text()


def test_form_body_on_json_route_refused(srv):
    r = srv.request("POST", "/api/v1/auth/login", data="username=a&password=b",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415, "unsupported_media_type")

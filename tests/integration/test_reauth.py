"""The re-authentication window of dangerous actions (API.md "Incident response"):
auth_time in access tokens and sessions, kept through refresh rotation; 403
reauth_required outside auth.reauth_window; POST /api/v1/auth/reauth (password, and the
code with TOTP on) for tokens and sessions; API keys refused unless named as an
automation; wrong passwords and codes audited and backed off."""
import time

import pytest

from browser_support import Browser, totp_now
from conftest import (ADMIN_PASSWORD, Server, assert_error, bearer, free_port, jwt_parts,
                      run_cli, wait_audit)

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
STALE = dict(FAST, GATEHOUSE_AUTH_REAUTH_WINDOW="1s")
REAUTH = "/api/v1/auth/reauth"
SETUP = "/api/v1/auth/mfa/totp/setup"
CONFIRM = "/api/v1/auth/mfa/totp/confirm"


@pytest.fixture(scope="module")
def fresh():
    """The default window (10 minutes): every credential made here is fresh."""
    s = Server(env=FAST)
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


@pytest.fixture(scope="module")
def stale():
    """A 1-second window: a credential is stale once the test slept 2 seconds."""
    s = Server(env=STALE)
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


def let_it_age():
    time.sleep(2.2)


def admin(srv):
    return srv.tokens("admin", ADMIN_PASSWORD)


def victim(srv):
    return srv.register()["id"]


def reauth_required(r):
    assert_error(r, 403, "reauth_required")
    assert r.json()["error"]["details"]["reauth_url"] == REAUTH


def test_access_token_carries_auth_time_kept_through_refresh(fresh):
    u = fresh.register()
    t = fresh.tokens(u["username"], u["password"])
    claims = jwt_parts(t["access_token"])[1]
    assert abs(claims["auth_time"] - claims["iat"]) <= 1
    time.sleep(1.1)
    r = fresh.post("/api/v1/auth/refresh", {"refresh_token": t["refresh_token"]})
    assert r.status_code == 200, r.text
    again = jwt_parts(r.json()["access_token"])[1]
    assert again["auth_time"] == claims["auth_time"]  # a rotation is no sign-in
    assert again["iat"] > claims["auth_time"]


def test_fresh_sign_in_may_delete_a_user(fresh):
    h = bearer(admin(fresh)["access_token"])
    r = fresh.request("DELETE", f"/api/v1/users/{victim(fresh)}", headers=h)
    assert r.status_code == 204, r.text


def test_stale_token_refused_until_reauthenticated(stale):
    t = admin(stale)
    h = bearer(t["access_token"])
    target = victim(stale)
    let_it_age()
    r = stale.request("DELETE", f"/api/v1/users/{target}", headers=h)
    reauth_required(r)
    assert wait_audit(stale, "REAUTH_REQUIRED", path=f"/api/v1/users/{target}")
    assert stale.get(f"/api/v1/users/{target}", headers=h).status_code == 200  # not deleted

    r = stale.post(REAUTH, {"password": "not the password"}, headers=h)
    assert_error(r, 401, "invalid_credentials")
    r = stale.post(REAUTH, {"password": ADMIN_PASSWORD}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and "refresh_token" not in body
    claims = jwt_parts(body["access_token"])[1]
    assert claims["auth_time"] > jwt_parts(t["access_token"])[1]["auth_time"]
    assert claims["org"] == jwt_parts(t["access_token"])[1]["org"]
    assert wait_audit(stale, "REAUTH", username="admin")

    r = stale.request("DELETE", f"/api/v1/users/{target}",
                      headers=bearer(body["access_token"]))
    assert r.status_code == 204, r.text
    # the old token is still stale; the refresh family keeps the first sign-in's time
    reauth_required(stale.request("DELETE", f"/api/v1/users/{victim(stale)}", headers=h))


def test_reauth_bad_input(stale):
    h = bearer(admin(stale)["access_token"])
    assert_error(stale.post(REAUTH, {}, headers=h), 400, "invalid_request")
    assert_error(stale.post(REAUTH, {"password": 5}, headers=h), 400, "invalid_request")
    assert_error(stale.post(REAUTH, {"password": ADMIN_PASSWORD}), 401)


def test_wrong_password_is_audited_and_backed_off(make_server):
    s = make_server(dict(STALE, GATEHOUSE_LOGIN_BACKOFF="on",
                         GATEHOUSE_LOGIN_BACKOFF_BASE="30s"))
    u = s.register()
    h = bearer(s.tokens(u["username"], u["password"])["access_token"])
    assert_error(s.post(REAUTH, {"password": "wrong " + u["password"]}, headers=h), 401,
                 "invalid_credentials")
    assert wait_audit(s, "LOGIN_FAILED", username=u["username"])
    r = s.post(REAUTH, {"password": u["password"]}, headers=h)
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1


def test_api_keys_never_pass_unless_a_named_automation(make_server):
    s = make_server(FAST)
    h = bearer(admin(s)["access_token"])
    r = s.post("/api/v1/api-keys", {"name": "deploy"}, headers=h)
    assert r.status_code == 201, r.text
    key, key_id = r.json()["key"], r.json()["id"]
    kh = {"X-API-Key": key}
    reauth_required(s.request("DELETE", f"/api/v1/users/{victim(s)}", headers=kh))
    reauth_required(s.post(REAUTH, {"password": ADMIN_PASSWORD}, headers=kh))

    s.stop()
    s.env["GATEHOUSE_AUTH_REAUTH_AUTOMATIONS"] = f"nightly-cleanup {key_id}"
    s.start()
    r = s.request("DELETE", f"/api/v1/users/{victim(s)}", headers=kh)
    assert r.status_code == 204, r.text


def test_automation_lines_are_checked_at_start(tmp_path):
    r = run_cli(["serve", "--listen", f"127.0.0.1:{free_port()}", "--data-dir",
                 str(tmp_path / "d")],
                env={"GATEHOUSE_AUTH_REAUTH_AUTOMATIONS": "deploy not-a-key-id"}, timeout=30)
    assert r.returncode != 0
    assert "auth.reauth_automations: line 1: expected NAME API_KEY_ID" in r.stderr


def enrolled(srv):
    u = srv.register()
    h = bearer(srv.tokens(u["username"], u["password"])["access_token"])
    secret = srv.post(SETUP, headers=h).json()["secret"]
    r = srv.post(CONFIRM, {"code": totp_now(secret)}, headers=h)
    assert r.status_code == 200, r.text
    u.update(secret=secret, codes=r.json()["backup_codes"])
    return u


def mfa_token(srv, u, code):
    r = srv.post("/api/v1/auth/login", {"username": u["username"], "password": u["password"]})
    r = srv.post("/api/v1/auth/mfa/verify",
                 {"mfa_token": r.json()["mfa_token"], "code": code})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_with_totp_the_code_is_required_and_wrong_codes_audited(stale):
    u = enrolled(stale)
    h = bearer(mfa_token(stale, u, u["codes"][0]))
    org = stale.post("/api/v1/orgs", {"name": f"o-{u['username']}"}, headers=h).json()["id"]
    let_it_age()
    reauth_required(stale.request("DELETE", f"/api/v1/orgs/{org}", headers=h))

    assert_error(stale.post(REAUTH, {"password": u["password"]}, headers=h), 401,
                 "mfa_required")
    r = stale.post(REAUTH, {"password": u["password"], "code": "000000"}, headers=h)
    assert_error(r, 401, "invalid_credentials")
    assert wait_audit(stale, "MFA_FAILED", username=u["username"])
    r = stale.post(REAUTH, {"password": u["password"], "code": u["codes"][1]}, headers=h)
    assert r.status_code == 200, r.text
    fresh_h = bearer(r.json()["access_token"])
    assert stale.request("DELETE", f"/api/v1/orgs/{org}", headers=fresh_h).status_code == 204
    # the backup code is spent
    r = stale.post(REAUTH, {"password": u["password"], "code": u["codes"][1]}, headers=h)
    assert_error(r, 401, "invalid_credentials")


def test_session_reauth_carries_to_the_session_and_its_refresh_family(stale):
    u = stale.register()
    b = Browser(stale)
    b.login(u["username"], u["password"])
    org = b.send("POST", "/api/v1/orgs", {"name": f"s-{u['username']}"}).json()["id"]
    let_it_age()
    reauth_required(b.send("DELETE", f"/api/v1/orgs/{org}"))
    # CSRF applies: a cookie alone does not re-authenticate
    assert_error(b.send("POST", REAUTH, {"password": u["password"]}, csrf=False), 403,
                 "csrf_failed")
    r = b.send("POST", REAUTH, {"password": u["password"]})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"auth_time"}
    assert b.send("DELETE", f"/api/v1/orgs/{org}").status_code == 204
    # the session's refresh cookie now mints tokens with the new time
    r = b.send("POST", "/api/v1/auth/refresh", {})
    assert r.status_code == 200, r.text
    claims = jwt_parts(r.json()["access_token"])[1]
    assert time.time() - claims["auth_time"] < 30


def test_granting_admin_needs_a_fresh_sign_in_member_does_not(stale):
    h = bearer(admin(stale)["access_token"])
    org = stale.post("/api/v1/orgs", {"name": f"g-{time.time_ns()}"}, headers=h).json()["id"]
    a, b = stale.register(), stale.register()
    let_it_age()
    r = stale.post(f"/api/v1/orgs/{org}/members", {"user_id": a["id"], "role": "member"},
                   headers=h)
    assert r.status_code in (201, 202), r.text
    reauth_required(stale.post(f"/api/v1/orgs/{org}/members",
                               {"user_id": b["id"], "role": "admin"}, headers=h))
    reauth_required(stale.request("PATCH", f"/api/v1/users/{a['id']}",
                                  json={"disabled": True}, headers=h))
    # a change that is not dangerous passes with the stale token
    r = stale.request("PATCH", f"/api/v1/users/{a['id']}", json={"full_name": "A"}, headers=h)
    assert r.status_code == 200, r.text

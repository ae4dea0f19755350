"""logout-all, change-password, hash upgrade, audit trail."""
import json

from conftest import (assert_error, bearer, strong_password, unique_name, wait_audit)

ME = "/api/v1/auth/me"
VERIFY = "/api/v1/auth/verify"
REFRESH = "/api/v1/auth/refresh"
CHPW = "/api/v1/auth/change-password"


def refresh(server, rt):
    return server.post(REFRESH, {"refresh_token": rt})


def assert_access_dead(server, at):
    r = server.get(ME, headers=bearer(at))
    assert_error(r, 401, codes={"invalid_token", "token_expired"})
    r = server.get(VERIFY, headers=bearer(at))
    assert_error(r, 401, codes={"invalid_token", "token_expired"})
    assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", "")


def test_logout_all(server, user):
    a = server.tokens(user["username"], user["password"])
    b = server.tokens(user["username"], user["password"])
    # warm any verification cache
    for _ in range(2):
        assert server.get(VERIFY, headers=bearer(a["access_token"])).status_code == 200
        assert server.get(ME, headers=bearer(b["access_token"])).status_code == 200
    r = server.post("/api/v1/auth/logout-all", headers=bearer(a["access_token"]))
    assert r.status_code == 204, r.text
    assert r.content == b""
    for t in (a, b):
        assert_error(refresh(server, t["refresh_token"]), 401, "invalid_token")
        assert_access_dead(server, t["access_token"])
    # a fresh login works again
    c = server.tokens(user["username"], user["password"])
    assert server.get(ME, headers=bearer(c["access_token"])).status_code == 200
    assert server.get(VERIFY, headers=bearer(c["access_token"])).status_code == 200
    assert refresh(server, c["refresh_token"]).status_code == 200


def test_logout_all_leaves_other_users(server, user):
    other = server.register()
    ot = server.tokens(other["username"], other["password"])
    mine = server.tokens(user["username"], user["password"])
    assert server.post("/api/v1/auth/logout-all",
                       headers=bearer(mine["access_token"])).status_code == 204
    assert server.get(VERIFY, headers=bearer(ot["access_token"])).status_code == 200
    assert refresh(server, ot["refresh_token"]).status_code == 200


def test_change_password_wrong_current(server, tokens):
    r = server.post(CHPW, {"current_password": "Not-The-Password-1",
                           "new_password": strong_password()},
                    headers=bearer(tokens["access_token"]))
    assert_error(r, 401, "invalid_credentials")
    # nothing was revoked
    assert server.get(ME, headers=bearer(tokens["access_token"])).status_code == 200


def test_change_password_weak_new(server, tokens):
    r = server.post(CHPW, {"current_password": tokens["user"]["password"],
                           "new_password": "password123"},
                    headers=bearer(tokens["access_token"]))
    err = assert_error(r, 422, "password_policy")
    assert "common" in err["details"]["rules"]
    r = server.post(CHPW, {"current_password": tokens["user"]["password"],
                           "new_password": "short"},
                    headers=bearer(tokens["access_token"]))
    err = assert_error(r, 422, "password_policy")
    assert "too_short" in err["details"]["rules"]


def test_change_password_ill_typed(server, tokens):
    r = server.post(CHPW, {"current_password": tokens["user"]["password"]},
                    headers=bearer(tokens["access_token"]))
    assert_error(r, 400, "invalid_request")
    r = server.post(CHPW, {"current_password": 1, "new_password": strong_password()},
                    headers=bearer(tokens["access_token"]))
    assert_error(r, 400, "invalid_request")


def test_change_password_success(server, tokens):
    u = tokens["user"]
    other_session = server.tokens(u["username"], u["password"])
    for t in (tokens, other_session):
        assert server.get(VERIFY, headers=bearer(t["access_token"])).status_code == 200
    new = strong_password()
    r = server.post(CHPW, {"current_password": u["password"], "new_password": new},
                    headers=bearer(tokens["access_token"]))
    assert r.status_code == 204, r.text
    for t in (tokens, other_session):
        assert_error(refresh(server, t["refresh_token"]), 401, "invalid_token")
        assert_access_dead(server, t["access_token"])
    assert_error(server.login(u["username"], u["password"], expect=None), 401,
                 "invalid_credentials")
    t2 = server.tokens(u["username"], new)
    assert server.get(ME, headers=bearer(t2["access_token"])).status_code == 200
    assert wait_audit(server, "PASSWORD_CHANGE", user_id=u["id"])


def test_password_hash_upgrade(make_server):
    s = make_server({"GATEHOUSE_AUTH_ALGORITHM": "EdDSA"})
    u = s.register()
    before = s.query("SELECT password_hash FROM users WHERE id=?", (u["id"],))[0]["password_hash"]
    assert "$2b$04$" in before, before
    assert u["password"] not in before
    rc = s.restart(env={"GATEHOUSE_PASSWORD_BCRYPT_COST": "5"})
    assert rc == 0
    s.login(u["username"], u["password"])
    after = None
    import time
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        after = s.query("SELECT password_hash FROM users WHERE id=?", (u["id"],))[0]["password_hash"]
        if "$2b$05$" in after:
            break
        time.sleep(0.05)
    assert "$2b$05$" in after, after
    # still logs in, with the same password; wrong one still fails
    s.login(u["username"], u["password"])
    assert s.login(u["username"], "Wrong-Password-42", expect=None).status_code == 401
    # the key survived the restart: tokens from before remain verifiable? (same key file)
    assert s.jwks()["keys"]


def test_restart_keeps_key_and_tokens(make_server):
    # the default issuer is http://<listen>, and the port changes on restart: pin it
    s = make_server({"GATEHOUSE_AUTH_ALGORITHM": "ES256",
                     "GATEHOUSE_AUTH_ISSUER": "https://id.example.test"})
    u = s.register()
    t = s.tokens(u["username"], u["password"])
    kid = s.jwks()["keys"][0]["kid"]
    assert s.restart() == 0
    assert s.jwks()["keys"][0]["kid"] == kid
    assert s.get(VERIFY, headers=bearer(t["access_token"])).status_code == 200
    assert refresh(s, t["refresh_token"]).status_code == 200
    # no second admin was bootstrapped
    assert len(s.query("SELECT id FROM users WHERE lower(username)='admin'")) == 1


def test_audit_rows(server):
    u = server.register()
    assert wait_audit(server, "REGISTER", user_id=u["id"]) or \
        wait_audit(server, "REGISTER", username=u["username"])
    server.login(u["username"], "Wrong-Password-42", expect=401)
    t = server.tokens(u["username"], u["password"])
    r = refresh(server, t["refresh_token"])
    assert r.status_code == 200
    t2 = r.json()
    assert server.post("/api/v1/auth/logout",
                       {"refresh_token": t2["refresh_token"]}).status_code == 204

    login = wait_audit(server, "LOGIN", user_id=u["id"])
    assert login, "no LOGIN row"
    row = login[-1]
    assert row["ip_address"] == "127.0.0.1"
    assert row["path"] == "/api/v1/auth/login"
    assert row["method"] == "POST"
    assert row["status"] == 200
    assert row["user_agent"] and "python-requests" in row["user_agent"]
    assert row["ts"] and row["username"] == u["username"]
    assert row["org_id"]

    failed = wait_audit(server, "LOGIN_FAILED", username=u["username"]) or \
        wait_audit(server, "LOGIN_FAILED", user_id=u["id"])
    assert failed, "no LOGIN_FAILED row"
    assert failed[-1]["status"] == 401
    assert wait_audit(server, "TOKEN_REFRESH", user_id=u["id"]), "no TOKEN_REFRESH row"
    assert wait_audit(server, "LOGOUT", user_id=u["id"]), "no LOGOUT row"


def test_audit_failed_login_unknown_user(server):
    name = unique_name("ghost")
    server.login(name, "Wrong-Password-42", expect=401)
    rows = wait_audit(server, "LOGIN_FAILED", username=name)
    assert rows
    assert rows[-1]["user_id"] is None


def test_audit_never_stores_secrets(server):
    u = server.register()
    t = server.tokens(u["username"], u["password"])
    server.login(u["username"], "Wrong-Password-42", expect=401)
    refresh(server, t["refresh_token"])
    wait_audit(server, "TOKEN_REFRESH", user_id=u["id"])
    rows = server.query("SELECT * FROM audit_events")
    dump = json.dumps(rows, default=lambda b: b.hex())  # prev_hash, hash: BLOBs
    assert u["password"] not in dump
    assert "Wrong-Password-42" not in dump
    assert t["refresh_token"] not in dump
    assert t["access_token"] not in dump


def test_refresh_tokens_stored_hashed(server, tokens):
    rows = server.query("SELECT * FROM refresh_tokens WHERE user_id=?", (tokens["user"]["id"],))
    assert rows
    dump = repr(rows)
    assert tokens["refresh_token"] not in dump

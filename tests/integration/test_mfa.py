"""TOTP MFA: setup (secret, otpauth URI, SVG QR), confirm (ten backup codes), login with
mfa_required and a single-use mfa_token, codes (skew, replay, backup codes once), the
backoff, disabling with password and code, the audit trail."""
import json
import re
import sqlite3
import urllib.parse

import pyotp
import pytest

from browser_support import Browser, totp_now, wait_next_step
from conftest import Server, assert_error, bearer, wait_audit

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
SETUP = "/api/v1/auth/mfa/totp/setup"
CONFIRM = "/api/v1/auth/mfa/totp/confirm"
TOTP = "/api/v1/auth/mfa/totp"
VERIFY = "/api/v1/auth/mfa/verify"
LOGIN = "/api/v1/auth/login"


@pytest.fixture(scope="module")
def srv():
    s = Server(env=FAST)
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


def enrolled(srv):
    """A user with TOTP enabled: {..., secret, codes, h}."""
    u = srv.register()
    h = bearer(srv.tokens(u["username"], u["password"])["access_token"])
    r = srv.post(SETUP, headers=h)
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    r = srv.post(CONFIRM, {"code": totp_now(secret)}, headers=h)
    assert r.status_code == 200, r.text
    u.update(secret=secret, codes=r.json()["backup_codes"], h=h)
    return u


def challenge(srv, u, params=None):
    r = srv.post(LOGIN, {"username": u["username"], "password": u["password"]}, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mfa_required"] is True and body["methods"] == ["totp", "backup_code"]
    assert "access_token" not in body and "refresh_token" not in body
    return body["mfa_token"]


def test_setup_answers_secret_uri_and_qr(srv):
    u = srv.register()
    h = bearer(srv.tokens(u["username"], u["password"])["access_token"])
    r = srv.post(SETUP, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    uri = urllib.parse.urlsplit(body["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert urllib.parse.unquote(uri.path) == f"/Gatehouse:{u['username']}"
    q = urllib.parse.parse_qs(uri.query)
    assert q["secret"] == [body["secret"]] and q["issuer"] == ["Gatehouse"]
    assert q["digits"] == ["6"] and q["period"] == ["30"]
    assert body["qr_svg"].startswith("<svg ") and body["qr_svg"].endswith("</svg>")
    assert "style" not in body["qr_svg"] and "script" not in body["qr_svg"]
    # not enabled until confirmed; stored sealed, never in the clear
    assert srv.get("/api/v1/auth/me", headers=h).json()["mfa_enabled"] is False
    row = srv.query("SELECT secret FROM mfa_totp WHERE user_id = ?", (u["id"],))[0]
    assert row["secret"].startswith("enc:v1:") and body["secret"] not in row["secret"]
    # a wrong or malformed code does not confirm it
    for bad in ("000000", "12345", "abcdef", ""):
        r = srv.post(CONFIRM, {"code": bad}, headers=h)
        assert_error(r, 401, "invalid_code")
    assert_error(srv.post(CONFIRM, {}, headers=h), 400, "invalid_request")
    assert_error(srv.post(CONFIRM, {"code": 123456}, headers=h), 400, "invalid_request")


def test_confirm_gives_ten_backup_codes_once(srv):
    u = enrolled(srv)
    assert len(u["codes"]) == 10 and len(set(u["codes"])) == 10
    for c in u["codes"]:
        assert re.fullmatch(r"[a-z2-7]{5}-[a-z2-7]{5}", c)
    assert srv.get("/api/v1/auth/me", headers=u["h"]).json()["mfa_enabled"] is True
    rows = srv.query("SELECT code_hash FROM mfa_backup_codes WHERE user_id = ?", (u["id"],))
    assert len(rows) == 10
    assert all(c.encode() not in bytes(r["code_hash"]) for r in rows for c in u["codes"])
    assert_error(srv.post(CONFIRM, {"code": totp_now(u["secret"])}, headers=u["h"]), 409)
    assert_error(srv.post(SETUP, headers=u["h"]), 409, "conflict")
    assert wait_audit(srv, "MFA_ENABLED", user_id=u["id"])


def test_login_asks_for_the_second_factor(srv):
    u = enrolled(srv)
    token = challenge(srv, u)
    assert srv.query("SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ?",
                     (u["id"],))[0]["n"] == 1  # only the enrolling login's
    wait_next_step()  # the confirming code's step is spent
    r = srv.post(VERIFY, {"mfa_token": token, "code": totp_now(u["secret"])})
    assert r.status_code == 200, r.text
    assert set(r.json()) >= {"access_token", "refresh_token", "token_type", "expires_in"}
    login = wait_audit(srv, "LOGIN", user_id=u["id"])
    assert json.loads(login[-1]["metadata"])["method"] == "password+totp"
    # the token is single use
    r = srv.post(VERIFY, {"mfa_token": token, "code": totp_now(u["secret"])})
    assert_error(r, 401, "invalid_token")


def test_used_step_refused_and_skew_accepted(srv):
    u = enrolled(srv)
    wait_next_step()
    code = totp_now(u["secret"])
    r = srv.post(VERIFY, {"mfa_token": challenge(srv, u), "code": code})
    assert r.status_code == 200, r.text
    token = challenge(srv, u)
    r = srv.post(VERIFY, {"mfa_token": token, "code": code})  # replay
    assert_error(r, 401, "invalid_code")
    assert wait_audit(srv, "MFA_FAILED", user_id=u["id"])
    # the next step's code (clock skew) is accepted with the same token
    r = srv.post(VERIFY, {"mfa_token": token, "code": totp_now(u["secret"], 1)})
    assert r.status_code == 200, r.text


def test_two_steps_off_refused(srv):
    u = enrolled(srv)
    token = challenge(srv, u)
    for off in (-3, 3):
        r = srv.post(VERIFY, {"mfa_token": token, "code": totp_now(u["secret"], off)})
        assert_error(r, 401, "invalid_code")


def test_backup_codes_single_use(srv):
    u = enrolled(srv)
    code = u["codes"][0]
    r = srv.post(VERIFY, {"mfa_token": challenge(srv, u), "code": code.replace("-", "").upper()})
    assert r.status_code == 200, r.text
    assert wait_audit(srv, "BACKUP_CODE_USED", user_id=u["id"])
    login = wait_audit(srv, "LOGIN", user_id=u["id"])
    assert json.loads(login[-1]["metadata"])["method"] == "backup_code"
    r = srv.post(VERIFY, {"mfa_token": challenge(srv, u), "code": code})
    assert_error(r, 401, "invalid_code")
    # another user's backup code is no code of this one
    other = enrolled(srv)
    r = srv.post(VERIFY, {"mfa_token": challenge(srv, u), "code": other["codes"][0]})
    assert_error(r, 401, "invalid_code")
    r = srv.post(VERIFY, {"mfa_token": challenge(srv, u), "code": u["codes"][1]})
    assert r.status_code == 200


def test_mfa_token_dies_after_five_minutes(srv):
    u = enrolled(srv)
    token = challenge(srv, u)
    rows = srv.query("SELECT rowid, created_at, expires_at FROM mfa_challenges "
                     "WHERE user_id = ? ORDER BY created_at DESC, rowid DESC", (u["id"],))
    assert rows[0]["expires_at"] - rows[0]["created_at"] == 300
    # five minutes and a second pass (the clock of the row, not of the server, moves)
    con = sqlite3.connect(str(srv.data_dir / "gatehouse.db"), timeout=10)
    with con:
        con.execute("UPDATE mfa_challenges SET created_at = created_at - 301, "
                    "expires_at = expires_at - 301 WHERE rowid = ?", (rows[0]["rowid"],))
    con.close()
    r = srv.post(VERIFY, {"mfa_token": token, "code": u["codes"][0]})
    assert_error(r, 401, "invalid_token")
    # the code itself was good: a live token takes it
    r = srv.post(VERIFY, {"mfa_token": challenge(srv, u), "code": u["codes"][0]})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "A" * 500])
def test_unknown_mfa_tokens(srv, token):
    r = srv.post(VERIFY, {"mfa_token": token, "code": "123456"})
    assert_error(r, 401, "invalid_token")


def test_mfa_with_cookies(srv):
    u = enrolled(srv)
    b = Browser(srv)
    token = challenge(srv, u, params={"mode": "cookie"})
    assert not b.s.cookies.get("gh_sid")
    r = b.s.post(srv.url(VERIFY), params={"mode": "cookie"},
                 json={"mfa_token": token, "code": u["codes"][2]})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"access_token", "expires_in"}
    assert b.get("/api/v1/auth/me").status_code == 200
    s = srv.query("SELECT method FROM sessions WHERE user_id = ?", (u["id"],))
    assert [x["method"] for x in s] == ["backup_code"]


def test_disable_needs_password_and_code(srv):
    u = enrolled(srv)
    wait_next_step()
    assert_error(srv.request("DELETE", TOTP, json={"password": "wrong", "code": u["codes"][0]},
                             headers=u["h"]), 401, "invalid_credentials")
    assert_error(srv.request("DELETE", TOTP, json={"password": u["password"], "code": "000000"},
                             headers=u["h"]), 401, "invalid_credentials")
    assert_error(srv.request("DELETE", TOTP, json={"password": u["password"]}, headers=u["h"]),
                 400, "invalid_request")
    r = srv.request("DELETE", TOTP, json={"password": u["password"],
                                          "code": totp_now(u["secret"])}, headers=u["h"])
    assert r.status_code == 204, r.text
    assert wait_audit(srv, "MFA_DISABLED", user_id=u["id"])
    assert srv.get("/api/v1/auth/me", headers=u["h"]).json()["mfa_enabled"] is False
    r = srv.post(LOGIN, {"username": u["username"], "password": u["password"]})
    assert "access_token" in r.json()
    r = srv.request("DELETE", TOTP, json={"password": u["password"], "code": "123456"},
                    headers=u["h"])
    assert_error(r, 404, "not_found")


def test_wrong_codes_count_toward_the_backoff(make_server):
    s = make_server(env={**FAST, "GATEHOUSE_LOGIN_BACKOFF": "on",
                         "GATEHOUSE_LOGIN_BACKOFF_BASE": "30s"})
    u = enrolled(s)
    token = challenge(s, u)
    r = s.post(VERIFY, {"mfa_token": token, "code": "000000"})
    assert_error(r, 401, "invalid_code")
    r = s.post(VERIFY, {"mfa_token": token, "code": totp_now(u["secret"])})
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0
    assert wait_audit(s, "RATE_LIMITED")
    # and the password login from that client waits too
    r = s.post(LOGIN, {"username": u["username"], "password": u["password"]})
    assert_error(r, 429, "rate_limited")

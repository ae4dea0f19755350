"""The sign-in portal's pages over plain HTTP: the CSP and headers of a page, the login
form (errors, no user enumeration, rd never an open redirect), the MFA step, registration,
the account forms' CSRF token, the admin page's access, bad bodies."""
import re
import urllib.parse

import pytest
import requests

from browser_support import totp_now, wait_next_step
from conftest import ADMIN_PASSWORD, TIMEOUT, Server, assert_error, bearer, wait_audit

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256",
        "GATEHOUSE_PORTAL_ALLOWED_REDIRECT_HOSTS": "app.example.test *.apps.example.test"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def srv():
    s = Server(env=FAST)
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


class Web:
    """A browser without JavaScript: cookies, the Origin of its own pages, no redirects
    followed unless asked."""

    def __init__(self, srv):
        self.srv = srv
        self.s = requests.Session()

    def get(self, path, **kw):
        kw.setdefault("allow_redirects", False)
        return self.s.get(self.srv.url(path), timeout=TIMEOUT, **kw)

    def post(self, path, data, origin=True, **kw):
        h = {"Origin": self.srv.base} if origin else {}
        h.update(kw.pop("headers", {}))
        kw.setdefault("allow_redirects", False)
        return self.s.post(self.srv.url(path), data=data, headers=h, timeout=TIMEOUT, **kw)

    def csrf(self, path="/account"):
        page = self.get(path).text
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def login(self, username, password, rd=None):
        data = {"username": username, "password": password}
        if rd is not None:
            data["rd"] = rd
        return self.post("/login", data)


def test_page_headers_and_stylesheet(srv):
    r = Web(srv).get("/login")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert "<script" not in r.text and "style=" not in r.text and "<style" not in r.text
    assert '<html lang="en">' in r.text and 'for="f-username"' in r.text
    css = Web(srv).get("/static/gatehouse.css")
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    # the API keeps its own policy and referrer
    api = srv.get("/healthz")
    assert api.headers["Referrer-Policy"] == "no-referrer"
    assert api.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_login_sets_the_session_and_goes_to_the_account(srv):
    u = srv.register()
    w = Web(srv)
    r = w.login(u["username"], u["password"])
    assert r.status_code == 303 and r.headers["Location"] == "/account"
    assert {"gh_sid", "gh_rid", "gh_csrf"} <= set(w.s.cookies.keys())
    r = w.get("/account")
    assert r.status_code == 200 and u["username"] in r.text
    rows = wait_audit(srv, "LOGIN", user_id=u["id"])
    assert rows and rows[-1]["path"] == "/login"


def test_wrong_password_and_unknown_user_read_the_same(srv):
    u = srv.register()
    a = Web(srv).login(u["username"], "wrong-Password-1")
    b = Web(srv).login("nobody-" + u["username"], "wrong-Password-1")
    assert a.status_code == b.status_code == 401
    msg = lambda r: re.search(r'role="alert"[^>]*>([^<]+)<', r.text).group(1)
    assert msg(a) == msg(b) == "The username or the password is wrong."
    assert 'aria-invalid="true"' in a.text and 'aria-describedby="form-error"' in a.text


@pytest.mark.parametrize("rd", [
    "//evil.example", "//evil.example/x", "https:evil.example", "https:/evil.example",
    "javascript:alert(1)", "https://good.example@evil.example",
    "https://app.example.test@evil.example", "/%5cevil.example", "/\\evil.example",
    "/%2f%2fevil.example", "https://evil.example/", "http://app.example.test.evil.example/",
    "https://apps.example.test/", "/x y", "HTTPS://evil.example",
])
def test_rd_is_never_an_open_redirect(srv, rd):
    u = srv.register()
    r = Web(srv).login(u["username"], u["password"], rd=rd)
    assert r.status_code == 303 and r.headers["Location"] == "/account"


def test_rd_with_control_characters_is_refused_whole(srv):
    u = srv.register()
    w = Web(srv)
    r = w.login(u["username"], u["password"], rd="/x\r\nSet-Cookie: a=b")
    refused_page(r, 400, "malformed")  # the form parser refuses control characters
    assert "gh_sid" not in w.s.cookies


@pytest.mark.parametrize("rd,where", [
    ("/admin?tab=audit", "/admin?tab=audit"),
    ("https://app.example.test/dash", "https://app.example.test/dash"),
    ("https://one.apps.example.test/x?y=1", "https://one.apps.example.test/x?y=1"),
])
def test_rd_to_the_portal_or_an_allowed_host(srv, rd, where):
    u = srv.register()
    r = Web(srv).login(u["username"], u["password"], rd=rd)
    if where.startswith("/"):
        assert r.status_code == 303 and r.headers["Location"] == where
    else:  # another host: a page that moves on (a form may not redirect there: CSP)
        assert r.status_code == 200
        assert f'content="0;url={where}"'.replace("&", "&amp;") in r.text


def test_signed_in_visit_of_login_goes_on(srv):
    u = srv.register()
    w = Web(srv)
    w.login(u["username"], u["password"])
    r = w.get("/login?rd=/admin")
    assert r.status_code == 303 and r.headers["Location"] == "/admin"
    r = w.get("/login?rd=//evil.example")
    assert r.headers["Location"] == "/account"


def test_anonymous_forms_need_the_public_origin(srv):
    u = srv.register()
    w = Web(srv)
    for h in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {}):
        r = w.post("/login", {"username": u["username"], "password": u["password"]},
                   origin=False, headers=h)
        assert r.status_code == 403 and "not sent from this site" in r.text
        assert "gh_sid" not in w.s.cookies


def refused_page(r, status, words):
    """A form's refusal: a page (with the pages' CSP) whose alert says what went wrong."""
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    alert = re.search(r'role="alert"[^>]*>([^<]*)<', r.text)
    assert alert and words in alert.group(1), r.text


def test_bad_bodies(srv):
    w = Web(srv)
    r = w.s.post(srv.url("/login"), json={"username": "a", "password": "b"},
                 headers={"Origin": srv.base}, timeout=TIMEOUT)
    refused_page(r, 415, "not sent as a web form")
    r = w.post("/login", "username=a&password=%zz", headers=FORM)
    refused_page(r, 400, "malformed")
    r = w.post("/login", "username=a&username=b&password=c", headers=FORM)
    assert r.status_code == 400 and "Enter your username" in r.text
    assert "gh_sid" not in w.s.cookies


@pytest.mark.parametrize("path,fields", [
    ("/login", {"username": "a", "password": "p" * 5000}),
    ("/login", {"username": "u" * 5000, "password": "b"}),
    ("/register", {"username": "bob", "email": "a@b.test", "password": "x" * 5000}),
    ("/login", {f"f{i}": "x" for i in range(40)}),  # too many fields
    ("/login", {"n" * 100: "x"}),  # a name past the limit
])
def test_oversized_form_fields_answer_a_page(srv, path, fields):
    w = Web(srv)
    refused_page(w.post(path, fields), 400, "too long, or it has too many fields")
    assert "gh_sid" not in w.s.cookies


def test_body_past_the_server_limit(srv):
    # refused by the HTTP layer before any route is known (server.max_body): JSON 413
    r = Web(srv).post("/login", {"username": "a" * 70000, "password": "b"})
    assert_error(r, 413, "payload_too_large")


def test_account_needs_a_session(srv):
    r = Web(srv).get("/account")
    assert r.status_code == 303 and r.headers["Location"] == "/login?rd=/account"
    r = Web(srv).get("/admin")
    assert r.status_code == 303


def test_account_forms_need_the_csrf_token(srv):
    u = srv.register()
    w = Web(srv)
    w.login(u["username"], u["password"])
    token = w.csrf()
    other = Web(srv)
    v = srv.register()
    other.login(v["username"], v["password"])
    for data, origin in (({"name": "k1"}, True), ({"name": "k1", "csrf_token": token}, False),
                         ({"name": "k1", "csrf_token": other.csrf()}, True),
                         ({"name": "k1", "csrf_token": "A" * 43}, True)):
        r = w.post("/account/keys", data, origin=origin)
        assert r.status_code == 403, (data, origin)
    r = w.post("/account/keys", {"name": "k1", "csrf_token": token})
    assert r.status_code == 201 and re.search(r'id="api-key">ak_', r.text)


def test_mfa_step_in_pages(srv):
    u = srv.register()
    h = bearer(srv.tokens(u["username"], u["password"])["access_token"])
    secret = srv.post("/api/v1/auth/mfa/totp/setup", headers=h).json()["secret"]
    srv.post("/api/v1/auth/mfa/totp/confirm", {"code": totp_now(secret)}, headers=h)
    w = Web(srv)
    r = w.login(u["username"], u["password"], rd="/admin")
    assert r.status_code == 303 and r.headers["Location"].startswith("/login/mfa?rd=")
    assert "gh_sid" not in w.s.cookies and "gh_mfa" in w.s.cookies
    assert w.get(r.headers["Location"]).status_code == 200
    r = w.post("/login/mfa", {"code": "000000", "rd": "/admin"})
    assert r.status_code == 401 and "wrong or was used" in r.text
    assert wait_audit(srv, "MFA_FAILED", user_id=u["id"])
    r = w.post("/login/mfa", {"code": totp_now(secret, 1), "rd": "/admin"})
    assert r.status_code == 303 and r.headers["Location"] == "/admin"
    assert "gh_sid" in w.s.cookies
    # without the challenge cookie the step starts over
    r = Web(srv).post("/login/mfa", {"code": "123456"})
    assert r.status_code == 303 and r.headers["Location"] == "/login?expired=1"


def test_registration_page_and_closed(srv, make_server):
    w = Web(srv)
    r = w.post("/register", {"username": "pg" + "x" * 5, "email": "bad", "password": "x"})
    assert r.status_code in (422,) and 'role="alert"' in r.text
    r = w.post("/register", {"username": "pgok1", "email": "pgok1@example.test",
                             "password": "Amber-Lantern-Quiet-77"})
    assert r.status_code == 303 and r.headers["Location"] == "/login?registered=1"
    closed = make_server(env={**FAST, "GATEHOUSE_AUTH_REGISTRATION": "false"})
    assert Web(closed).get("/register").status_code == 404
    assert "/register" not in Web(closed).get("/login").text


def test_admin_page_access(srv):
    u = srv.register()
    w = Web(srv)
    w.login(u["username"], u["password"])
    assert w.get("/admin").status_code == 403
    a = Web(srv)
    a.login("admin", ADMIN_PASSWORD)
    for tab in ("users", "orgs", "audit"):
        r = a.get(f"/admin?tab={tab}")
        assert r.status_code == 200, tab
    r = a.get("/admin?tab=audit&action=LOGIN")
    assert r.status_code == 200 and "<td>LOGIN</td>" in r.text and "<td>REGISTER</td>" not in r.text
    r = a.get("/admin?tab=audit&since=not-a-time")
    assert "is malformed" in r.text


def test_logout_page(srv):
    u = srv.register()
    w = Web(srv)
    w.login(u["username"], u["password"])
    sid = w.s.cookies["gh_sid"]
    assert w.post("/logout", {}).status_code == 403  # no token
    r = w.post("/logout", {"csrf_token": w.csrf()})
    assert r.status_code == 303 and r.headers["Location"] == "/login?signed_out=1"
    assert srv.get("/api/v1/auth/me", headers={"Cookie": f"gh_sid={sid}"}).status_code == 401


def test_account_page_answers_invitations(srv):
    a, b, c = srv.register(), srv.register(), srv.register()
    ha = bearer(srv.tokens(a["username"], a["password"])["access_token"])
    org = srv.post("/api/v1/orgs", {"name": "Invite Page Co"}, headers=ha).json()
    for who in (b, c):
        r = srv.post(f"/api/v1/orgs/{org['id']}/members", {"user_id": who["id"], "role": "member"},
                     headers=ha)
        assert r.status_code == 202, r.text
    w = Web(srv)
    w.login(b["username"], b["password"])
    page = w.get("/account").text
    assert "Invite Page Co" in page and a["username"] in page
    ids = re.findall(r'action="/account/invitations/accept".*?name="id" value="([^"]+)"', page,
                     re.S)
    assert len(ids) == 1
    # Another user cannot answer it, nor can b without the CSRF token.
    other = Web(srv)
    other.login(c["username"], c["password"])
    r = other.post("/account/invitations/accept", {"id": ids[0], "csrf_token": other.csrf()})
    assert r.status_code == 404
    assert w.post("/account/invitations/accept", {"id": ids[0]}).status_code == 403
    r = w.post("/account/invitations/accept", {"id": ids[0], "csrf_token": w.csrf()})
    assert r.status_code == 200 and "You joined the organization." in r.text
    assert "Invite Page Co (member)" in r.text and "No pending invitations." in r.text
    # Accepted twice: refused.
    r = w.post("/account/invitations/accept", {"id": ids[0], "csrf_token": w.csrf()})
    assert r.status_code == 404
    assert wait_audit(srv, "INVITATION_ACCEPTED", user_id=b["id"])
    # c declines its own.
    page = other.get("/account").text
    cid = re.findall(r'action="/account/invitations/decline".*?name="id" value="([^"]+)"', page,
                     re.S)
    assert len(cid) == 1
    r = other.post("/account/invitations/decline", {"id": cid[0], "csrf_token": other.csrf()})
    assert r.status_code == 200 and "The invitation was declined." in r.text
    assert "Invite Page Co" not in r.text

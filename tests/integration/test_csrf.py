"""Browser CSRF: a state-changing request proven by the session cookie needs the signed
token of that session in X-CSRF-Token and an Origin (or Referer) of the public origin;
bearer and API-key requests are exempt. And /verify's 302 for browsers, never an open
redirect."""
import urllib.parse

import pytest

from browser_support import Browser
from conftest import Server, assert_error, bearer, wait_audit

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
KEYS = "/api/v1/api-keys"


@pytest.fixture(scope="module")
def srv():
    s = Server(env=FAST)
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


@pytest.fixture
def b(srv):
    u = srv.register()
    br = Browser(srv)
    br.login(u["username"], u["password"])
    br.user = u
    return br


def create_key(b, **kw):
    return b.send("POST", KEYS, {"name": "k-" + b.user["username"]}, **kw)


def test_token_and_origin_pass(b):
    r = create_key(b)
    assert r.status_code == 201, r.text


def test_referer_instead_of_origin(b):
    r = create_key(b, origin=False, headers={"Referer": b.origin + "/account"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("origin", [
    None, "null", "https://evil.example", "http://127.0.0.1", "http://127.0.0.1:1",
    "HTTP://127.0.0.1.evil.example", "http://evil.127.0.0.1",
])
def test_missing_or_foreign_origin_refused(srv, b, origin):
    h = {"Origin": origin} if origin else {}
    r = create_key(b, origin=False, headers=h)
    assert_error(r, 403, "csrf_failed")


def test_origin_suffix_and_subdomain_tricks(srv, b):
    host = b.origin.split("//")[1]
    for o in (f"http://{host}.evil.example", f"http://x.{host}", f"http://{host}@evil.example"):
        assert_error(create_key(b, origin=False, headers={"Origin": o}), 403, "csrf_failed")
    r = create_key(b, origin=False, headers={"Referer": f"http://{host}.evil.example/"})
    assert_error(r, 403, "csrf_failed")


def test_missing_token_refused_and_audited(srv, b):
    assert_error(create_key(b, csrf=False), 403, "csrf_failed")
    rows = wait_audit(srv, "CSRF_FAILED", user_id=b.user["id"])
    assert rows and '"token_missing"' in rows[-1]["metadata"]


def test_token_of_another_session_refused(srv, b):
    other = Browser(srv)
    u = srv.register()
    other.login(u["username"], u["password"])
    r = create_key(b, csrf=False, headers={"X-CSRF-Token": other.csrf})
    assert_error(r, 403, "csrf_failed")
    # the same user's second session has a token of its own too
    second = Browser(srv)
    second.login(b.user["username"], b.user["password"])
    assert second.csrf != b.csrf
    assert_error(create_key(b, csrf=False, headers={"X-CSRF-Token": second.csrf}), 403)


def test_planted_cookie_and_header_pair_refused(srv, b):
    """The naive double submit falls to a planted gh_csrf cookie; the signed one does not."""
    planted = "A" * 43
    b.s.cookies.set("gh_csrf", planted)
    r = create_key(b, csrf=False, headers={"X-CSRF-Token": planted})
    assert_error(r, 403, "csrf_failed")


def test_bearer_and_api_key_exempt(srv, b):
    at = srv.tokens(b.user["username"], b.user["password"])["access_token"]
    r = srv.post(KEYS, {"name": "by-bearer"}, headers=bearer(at))
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    r = srv.request("DELETE", KEYS + "/" + r.json()["id"], headers={"X-API-Key": key})
    assert r.status_code in (204, 403), r.text  # a key without apikey:delete: not CSRF
    assert r.status_code != 403 or r.json()["error"]["code"] == "forbidden"


def test_get_needs_no_token(b):
    assert b.get(KEYS).status_code == 200


# ---- /verify for browsers ----

VERIFY = "/api/v1/auth/verify"


def nav(srv, uri="/app/page?x=1", host="app.example.test", method="GET",
        accept="text/html,application/xhtml+xml", proto="https", cookie=None):
    h = {"X-Forwarded-Method": method, "X-Forwarded-Uri": uri, "X-Forwarded-Host": host,
         "X-Forwarded-Proto": proto, "Accept": accept}
    if cookie:
        h["Cookie"] = cookie
    return srv.get(VERIFY, headers=h, allow_redirects=False)


def test_browser_navigation_is_sent_to_login(srv):
    r = nav(srv)
    assert r.status_code == 302
    loc = urllib.parse.urlsplit(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}" == srv.base and loc.path == "/login"
    rd = urllib.parse.parse_qs(loc.query)["rd"][0]
    assert rd == "https://app.example.test/app/page?x=1"


@pytest.mark.parametrize("kw", [
    {"accept": "application/json"}, {"accept": "*/*"}, {"method": "POST"},
    {"method": "DELETE"},
])
def test_api_clients_keep_401(srv, kw):
    r = nav(srv, **kw)
    assert_error(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_invalid_session_is_sent_to_login_too(srv):
    r = nav(srv, cookie="gh_sid=" + "A" * 43)
    assert r.status_code == 302


def test_valid_session_passes_verify(srv, b):
    r = nav(srv, cookie="gh_sid=" + b.sid)
    assert r.status_code == 200
    assert r.headers["X-Auth-Method"] == "session"
    assert r.headers["X-Auth-Username"] == b.user["username"]


def test_host_with_strange_characters_gives_no_rd(srv):
    r = nav(srv, host="evil.example/\\@x")
    assert r.status_code == 302
    assert r.headers["Location"] == srv.base + "/login"


def test_portal_off_keeps_401(make_server):
    s = make_server(env={**FAST, "GATEHOUSE_PORTAL_ENABLED": "false"})
    assert_error(nav(s), 401)

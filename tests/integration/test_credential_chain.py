"""The credential chain (api/credential.c) and the route body kinds, seen from outside:
which credential proves the caller when several are sent, the refusals of disagreeing
ones on API routes and on /verify alike, a session cookie while no session verifier is
plugged in, a form posted to a JSON route, and the one CSP header of API answers."""
import http.client

from conftest import ADMIN_PASSWORD, assert_error, bearer, unique_name

ME = "/api/v1/auth/me"
VERIFY = "/api/v1/auth/verify"
KEYS = "/api/v1/api-keys"


def admin(server):
    return bearer(server.tokens("admin", ADMIN_PASSWORD)["access_token"])


def new_key(server, h):
    r = server.post(KEYS, {"name": unique_name("k")}, headers=h)
    assert r.status_code == 201, r.text
    return r.json()["key"]


def raw(server, method, path, headers, body=b""):
    """A request with a list of (name, value) headers, duplicates allowed; (status,
    response headers as a list, body)."""
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers:
            c.putheader(k, v)
        if body:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders(body or None)
        resp = c.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        c.close()


def test_a_jwt_and_a_different_api_key_are_400_everywhere(server):
    h = admin(server)
    key = new_key(server, h)
    for path in (ME, VERIFY, KEYS):
        r = server.get(path, headers={**h, "X-API-Key": key})
        assert_error(r, 400, "invalid_request")
        assert "WWW-Authenticate" not in r.headers


def test_the_same_key_in_both_headers_is_one_credential(server):
    key = new_key(server, admin(server))
    r = server.get(VERIFY, headers={"Authorization": f"Bearer {key}", "X-API-Key": key})
    assert r.status_code == 200, r.text
    assert r.headers["X-Auth-Method"] == "api_key"


def test_header_credentials_win_over_a_session_cookie(server):
    h = admin(server)
    key = new_key(server, h)
    cookie = {"Cookie": "gh_sid=" + "A" * 43}
    r = server.get(VERIFY, headers={**h, **cookie})
    assert r.status_code == 200, r.text
    assert r.headers["X-Auth-Method"] == "jwt"
    r = server.get(VERIFY, headers={"X-API-Key": key, **cookie})
    assert r.status_code == 200, r.text
    assert r.headers["X-Auth-Method"] == "api_key"
    assert server.get(ME, headers={**h, **cookie}).status_code == 200


def test_an_unknown_or_repeated_session_cookie_is_refused(server):
    # The session verifier is plugged in (issue 13): an unknown session is an invalid
    # credential, two gh_sid cookies are ambiguous.
    r = server.get(ME, headers={"Cookie": "gh_sid=" + "A" * 43})
    assert_error(r, 401, "invalid_token")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = server.get(VERIFY, headers={"Cookie": "gh_sid=" + "A" * 43})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    r = server.get(ME, headers={"Cookie": "gh_sid=a; gh_sid=b"})
    assert_error(r, 400, "invalid_request")


def test_an_invalid_bearer_is_not_rescued_by_another_source(server):
    r = server.get(ME, headers={"Authorization": "Bearer nope", "Cookie": "gh_sid=x"})
    assert_error(r, 401, "invalid_token")
    r = server.get(ME, headers={"Authorization": "Basic dTpw"})
    assert_error(r, 401, "invalid_token")


def test_a_form_on_a_json_route_is_415(server):
    body = b"username=admin&password=x"
    for ct in ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8"):
        status, _, text = raw(server, "POST", "/api/v1/auth/login",
                              [("Content-Type", ct)], body)
        assert status == 415, text
        assert b'"unsupported_media_type"' in text


def test_api_answers_carry_one_strict_csp(server):
    for path in ("/healthz", ME, "/nope"):
        _, headers, _ = raw(server, "GET", path, [])
        csp = [v for k, v in headers if k.lower() == "content-security-policy"]
        assert len(csp) == 1, headers
        assert csp[0].startswith("default-src 'none'") and "form-action 'none'" in csp[0]

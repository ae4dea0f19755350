"""ForwardAuth /api/v1/auth/verify called directly with the headers a proxy sends:
route rules, media tokens, path normalization, trusted proxies, rule config errors."""
import datetime
import http.client
import json
import time
import uuid

import pytest

from conftest import (ADMIN_PASSWORD, Server, assert_error, bearer, run_cli, unique_name,
                      wait_audit)

VERIFY = "/api/v1/auth/verify"
KEYS = "/api/v1/api-keys"
AUTH_HEADERS = ("X-Auth-User-Id", "X-Auth-Username", "X-Auth-Org-Id", "X-Auth-Roles",
                "X-Auth-Method")
RULES = ("GET /public/** public; "
         "GET,HEAD /media/** authenticated media; "
         "* /admin/** org:admin; "
         "POST /files/* file:write; "
         "GET /files/** file:read; "
         "* /public/** org:admin; "
         "GET /reports/*/summary user:read")
FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}


@pytest.fixture(scope="module")
def fa():
    """One server with route rules for the whole module (tests use their own users)."""
    s = Server(env={**FAST, "GATEHOUSE_FORWARD_AUTH_RULES": RULES})
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


def member(s):
    u = s.register()
    t = s.tokens(u["username"], u["password"])
    u["at"] = t["access_token"]
    u["h"] = bearer(t["access_token"])
    return u


def admin(s):
    t = s.tokens("admin", ADMIN_PASSWORD)
    return {"at": t["access_token"], "h": bearer(t["access_token"])}


def new_key(s, headers, **body):
    body.setdefault("name", unique_name("k"))
    r = s.post(KEYS, body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def fwd(uri, method="GET", style="traefik"):
    if style == "traefik":
        return {"X-Forwarded-Method": method, "X-Forwarded-Uri": uri,
                "X-Forwarded-Host": "app.example.test", "X-Forwarded-Proto": "https"}
    return {"X-Original-Method": method, "X-Original-URI": uri}


def verify(s, uri=None, method="GET", headers=None, style="traefik", verb="GET"):
    h = dict(headers or {})
    if uri is not None:
        h.update(fwd(uri, method, style))
    return s.request(verb, VERIFY, headers=h)


def raw_verify(s, headers):
    """/verify with a list of (name, value) headers, repeats allowed: (status, body)."""
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=15)
    try:
        c.putrequest("GET", VERIFY, skip_accept_encoding=True)
        for k, v in headers:
            c.putheader(k, v)
        c.endheaders()
        resp = c.getresponse()
        return resp.status, resp.read()
    finally:
        c.close()


def assert_401(r):
    assert_error(r, 401)
    assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", ""), r.headers
    assert not any(h in r.headers for h in AUTH_HEADERS), r.headers


def assert_ok_for(r, u, method="jwt"):
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers["X-Auth-User-Id"] == u["id"]
    assert r.headers["X-Auth-Username"] == u["username"]
    assert r.headers["X-Auth-Org-Id"]
    assert r.headers["X-Auth-Method"] == method


def assert_no_identity(r):
    assert r.status_code == 200, r.text
    assert not any(h in r.headers for h in AUTH_HEADERS), r.headers


# -- basics ----------------------------------------------------------------------------

@pytest.mark.parametrize("verb", ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_any_method_without_credentials_401(fa, verb):
    r = fa.request(verb, VERIFY)
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", "")


@pytest.mark.parametrize("verb", ["GET", "HEAD", "POST", "PUT", "DELETE"])
def test_any_method_with_credentials_200(fa, verb):
    u = member(fa)
    r = fa.request(verb, VERIFY, headers=u["h"])
    assert r.status_code == 200, r.text
    assert r.headers["X-Auth-User-Id"] == u["id"]


def test_jwt_identity_headers(fa):
    u = member(fa)
    r = verify(fa, "/anything", headers=u["h"])
    assert_ok_for(r, u, "jwt")
    me = fa.get("/api/v1/auth/me", headers=u["h"]).json()
    assert r.headers["X-Auth-Org-Id"] == me["primary_org_id"]
    assert r.headers["X-Auth-Roles"].split(",") == ["member"]


def test_api_key_identity_headers(fa):
    u = member(fa)
    k = new_key(fa, u["h"])
    for h in ({"X-API-Key": k["key"]}, {"Authorization": "Bearer " + k["key"]},
              {"Authorization": "bearer " + k["key"]}):
        assert_ok_for(verify(fa, "/anything", headers=h), u, "api_key")


def test_admin_roles(fa):
    a = admin(fa)
    r = verify(fa, "/admin/x", headers=a["h"])
    assert r.status_code == 200, r.text
    assert "admin" in r.headers["X-Auth-Roles"].split(",")
    assert r.headers["X-Auth-Username"] == "admin"


@pytest.mark.parametrize("cred", [
    {"Authorization": "Bearer garbage"},
    {"Authorization": "Bearer a.b.c"},
    {"Authorization": "Basic YWRtaW46eA=="},
    {"X-API-Key": "ak_" + "0" * 43},
    {"X-API-Key": "nope"},
    {"Authorization": "Bearer ak_short"},
])
def test_invalid_credentials_401(fa, cred):
    assert_401(verify(fa, "/anything", headers=cred))


def test_revoked_key_401_at_once(fa):
    u = member(fa)
    k = new_key(fa, u["h"])
    assert verify(fa, "/files/a", headers={"X-API-Key": k["key"]}).status_code == 200
    assert fa.request("DELETE", f"{KEYS}/{k['id']}", headers=u["h"]).status_code == 204
    assert_401(verify(fa, "/files/a", headers={"X-API-Key": k["key"]}))
    assert_401(verify(fa, "/public/a", method="POST", headers={"X-API-Key": k["key"]}))


def test_logged_out_everywhere_jwt_401(fa):
    u = member(fa)
    assert verify(fa, "/files/a", headers=u["h"]).status_code == 200
    assert fa.post("/api/v1/auth/logout-all", headers=u["h"]).status_code == 204
    assert_401(verify(fa, "/files/a", headers=u["h"]))


def test_disabled_user_401(fa):
    u = member(fa)
    k = new_key(fa, u["h"])
    assert verify(fa, "/x", headers=u["h"]).status_code == 200
    r = run_cli(["user", "disable", u["username"]], data_dir=fa.data_dir)
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 3
    while verify(fa, "/x", headers={"X-API-Key": k["key"]}).status_code != 401:
        assert time.monotonic() < deadline, "key of a disabled user still passes /verify"
        time.sleep(0.05)
    assert_401(verify(fa, "/x", headers=u["h"]))


def test_expired_access_token_401(make_server):
    s = make_server({**FAST, "GATEHOUSE_AUTH_ACCESS_TTL": "10s"})  # the shortest allowed
    t0 = time.time()
    u = member(s)
    assert verify(s, "/x", headers=u["h"]).status_code == 200
    time.sleep(max(0.0, t0 + 11.5 - time.time()))
    r = verify(s, "/x", headers=u["h"])
    assert_401(r)
    assert r.json()["error"]["code"] in ("token_expired", "invalid_token")


def test_expired_key_401(fa):
    a = admin(fa)
    exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2))
    k = new_key(fa, a["h"], expires_at=exp.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert verify(fa, "/x", headers={"X-API-Key": k["key"]}).status_code == 200
    time.sleep(max(0.0, exp.timestamp() - time.time()) + 1.2)
    assert_401(verify(fa, "/x", headers={"X-API-Key": k["key"]}))


# -- route rules ---------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["traefik", "nginx"])
def test_public_path(fa, style):
    assert_no_identity(verify(fa, "/public/index.html", style=style))
    assert_no_identity(verify(fa, "/public/a/b/c", style=style))
    assert_no_identity(verify(fa, "/public/x", headers={"Authorization": "Bearer junk"},
                              style=style))
    assert_no_identity(verify(fa, "/public/x", headers={"X-API-Key": "ak_" + "1" * 43},
                              style=style))
    u = member(fa)
    assert_ok_for(verify(fa, "/public/x", headers=u["h"], style=style), u)


def test_public_rule_is_per_method_first_match_wins(fa):
    # GET /public/** public comes first; other methods fall to "* /public/** org:admin"
    assert_no_identity(verify(fa, "/public/x", method="GET"))
    assert_401(verify(fa, "/public/x", method="POST"))
    u = member(fa)
    assert_error(verify(fa, "/public/x", method="DELETE", headers=u["h"]), 403, "forbidden")
    assert verify(fa, "/public/x", method="DELETE", headers=admin(fa)["h"]).status_code == 200


def test_admin_rule(fa):
    u = member(fa)
    r = verify(fa, "/admin/users", headers=u["h"])
    assert_error(r, 403, "forbidden")
    assert_401(verify(fa, "/admin/users"))
    assert verify(fa, "/admin/users", headers=admin(fa)["h"]).status_code == 200
    for m in ("POST", "DELETE", "PATCH"):
        assert_error(verify(fa, "/admin/x/y", method=m, headers=u["h"]), 403, "forbidden")
    rows = wait_audit(fa, "PERMISSION_DENIED", user_id=u["id"])
    assert rows, "no PERMISSION_DENIED audit row"


def test_admin_prefix_is_segment_bound(fa):
    u = member(fa)
    # /administrator is not under /admin/**
    assert verify(fa, "/administrator", headers=u["h"]).status_code == 200
    assert verify(fa, "/admin", headers=u["h"]).status_code in (200, 403)


@pytest.mark.parametrize("style", ["traefik", "nginx"])
def test_method_selects_rule(fa, style):
    u = member(fa)
    ro = new_key(fa, admin(fa)["h"], scopes=["file:read"])
    kh = {"X-API-Key": ro["key"]}
    assert verify(fa, "/files/a", method="POST", headers=u["h"], style=style).status_code == 200
    assert_error(verify(fa, "/files/a", method="POST", headers=kh, style=style), 403, "forbidden")
    assert verify(fa, "/files/a", method="GET", headers=kh, style=style).status_code == 200
    # `*` is one segment: POST /files/a/b does not match "POST /files/*" -> authenticated
    assert verify(fa, "/files/a/b", method="POST", headers=kh, style=style).status_code == 200
    # `**` is the rest
    assert verify(fa, "/files/a/b/c", method="GET", headers=kh, style=style).status_code == 200


def test_single_star_in_the_middle(fa):
    u = member(fa)
    a = admin(fa)
    assert_error(verify(fa, "/reports/2024/summary", headers=u["h"]), 403, "forbidden")
    assert verify(fa, "/reports/2024/summary", headers=a["h"]).status_code == 200
    # two segments in place of `*`: unmatched -> authenticated only
    assert verify(fa, "/reports/2024/01/summary", headers=u["h"]).status_code == 200


def test_method_case_and_query_do_not_bypass(fa):
    u = member(fa)
    assert_error(verify(fa, "/admin/x?y=1", headers=u["h"]), 403, "forbidden")
    assert_error(verify(fa, "/admin/x#frag", headers=u["h"]), 403, "forbidden")
    r = verify(fa, "/admin/x", method="get", headers=u["h"])
    assert r.status_code in (400, 403), r.text


def test_scoped_key_cut_on_rules(fa):
    a = admin(fa)
    k = new_key(fa, a["h"], scopes=["file:read"])
    assert_error(verify(fa, "/admin/x", headers={"X-API-Key": k["key"]}), 403, "forbidden")
    assert verify(fa, "/files/x", headers={"X-API-Key": k["key"]}).status_code == 200


def test_without_rules_everything_needs_auth(server):
    assert_401(server.get(VERIFY, headers=fwd("/public/x")))
    assert_401(server.get(VERIFY, headers=fwd("/media/x")))
    u = server.register()
    at = server.tokens(u["username"], u["password"])["access_token"]
    assert server.get(VERIFY, headers={**fwd("/admin/x"), **bearer(at)}).status_code == 200


def test_default_policy_deny(make_server):
    s = make_server({**FAST, "GATEHOUSE_FORWARD_AUTH_RULES": "GET /public/** public; "
                     "GET /app/** authenticated",
                     "GATEHOUSE_FORWARD_AUTH_DEFAULT_POLICY": "deny"})
    u = member(s)
    assert verify(s, "/app/x", headers=u["h"]).status_code == 200
    assert_no_identity(verify(s, "/public/x"))
    assert_error(verify(s, "/other", headers=u["h"]), 403, "forbidden")
    assert_error(verify(s, "/app/x", method="POST", headers=u["h"]), 403, "forbidden")
    assert_error(verify(s, "/other", headers=admin(s)["h"]), 403, "forbidden")
    r = verify(s, "/other")
    assert r.status_code in (401, 403)


# -- media tokens ---------------------------------------------------------------------------

def test_media_token(fa):
    u = member(fa)
    r = verify(fa, f"/media/movie.mp4?token={u['at']}")
    assert_ok_for(r, u, "jwt")
    r = verify(fa, f"/media/a/b.jpg?w=100&token={u['at']}&h=5", method="HEAD")
    assert_ok_for(r, u, "jwt")
    r = verify(fa, f"/media/a.jpg?token={u['at']}", style="nginx")
    assert_ok_for(r, u, "jwt")


def test_media_token_only_on_media_rules(fa):
    u = member(fa)
    assert_401(verify(fa, f"/files/a?token={u['at']}"))
    assert_401(verify(fa, f"/other?token={u['at']}"))
    assert_401(verify(fa, f"/admin/x?token={u['at']}"))
    # POST is not in the media rule's methods
    assert_401(verify(fa, f"/media/a.jpg?token={u['at']}", method="POST"))


def test_media_token_never_an_api_key(fa):
    u = member(fa)
    k = new_key(fa, u["h"])
    assert_401(verify(fa, f"/media/a.jpg?token={k['key']}"))


def test_media_token_not_with_header_credential(fa):
    u = member(fa)
    # a bad header credential is not rescued by a good token
    assert_401(verify(fa, f"/media/a.jpg?token={u['at']}",
                      headers={"Authorization": "Bearer junk"}))
    # another user's valid header decides: the token is ignored
    v = member(fa)
    r = verify(fa, f"/media/a.jpg?token={u['at']}", headers=v["h"])
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert r.headers["X-Auth-User-Id"] == v["id"]


def test_media_token_only_one(fa):
    u, v = member(fa), member(fa)
    assert verify(fa, f"/media/a.jpg?token={u['at']}&token={v['at']}").status_code in (400, 401)
    assert verify(fa, f"/media/a.jpg?token={u['at']}&token={u['at']}").status_code in (400, 401)


@pytest.mark.parametrize("tok", ["", "junk", "a.b.c", "ak_" + "0" * 43])
def test_media_bad_token_401(fa, tok):
    assert_401(verify(fa, f"/media/a.jpg?token={tok}"))


def test_media_without_token_401(fa):
    assert_401(verify(fa, "/media/a.jpg"))
    assert_401(verify(fa, "/media/a.jpg?tok=x"))


def test_media_token_from_logged_out_user_401(fa):
    u = member(fa)
    assert verify(fa, f"/media/a.jpg?token={u['at']}").status_code == 200
    assert fa.post("/api/v1/auth/logout-all", headers=u["h"]).status_code == 204
    assert_401(verify(fa, f"/media/a.jpg?token={u['at']}"))


def test_media_token_in_verify_query_not_accepted(fa):
    """The token counts only in the forwarded URI, not in /verify's own query string."""
    u = member(fa)
    r = fa.get(f"{VERIFY}?token={u['at']}", headers=fwd("/media/a.jpg"))
    assert_401(r)


# -- path normalization -----------------------------------------------------------------------

@pytest.mark.parametrize("uri", [
    "/public/../admin/x",
    "/public/./../admin/x",
    "//admin/x",
    "/admin//x",
    "/./admin/x",
    "/%61dmin/x",
    "/ADMIN/../admin/x",
    "/admin;jsessionid=1/x",
    "/public;x=1/../admin/x",
    "/public/%2e%2e/admin/x",
    "/public/%2E%2E/admin/x",
    "/public/.%2e/admin/x",
    "/files/../admin/x",
])
def test_normalized_into_admin(fa, uri):
    u = member(fa)
    assert_error(verify(fa, uri, headers=u["h"]), 403, "forbidden")
    r = verify(fa, uri)
    assert r.status_code in (401, 403), (uri, r.status_code)
    assert not (r.status_code == 200), uri


@pytest.mark.parametrize("uri", [
    "/public/a%2Fb",
    "/public/a%2fb",
    "/public/..%2Fadmin/x",
    "/public/a%5Cb",
    "/public/a%5cb",
    "/public/a%00b",
    "/public/a\\b",
    "/public\\..\\admin",
    "/../public/x",
    "/public/../../x",
    "/public/%2e%2e/%2e%2e/x",
])
def test_ambiguous_paths_403(fa, uri):
    assert_error(verify(fa, uri), 403, "forbidden")
    assert_error(verify(fa, uri, headers=admin(fa)["h"]), 403, "forbidden")


@pytest.mark.parametrize("uri", ["/public/a;v=1", "/public/%41", "/public/caf%C3%A9",
                                 "/public/x/", "/public/.x/x./..y/...", "/public/a%3Bb"])
def test_benign_paths_still_public(fa, uri):
    assert_no_identity(verify(fa, uri))


# REGRESSION (authz/rules.c): dot segments were resolved after ;params were stripped and
# %2e decoded, and empty segments merged, so these were judged as /public/x (200 to
# anyone) or as a path under the catch-all rule, while an app routing on the raw path
# (Node, Go's ServeMux, Express, most Python stacks) runs its /admin handler. Each is now
# refused with 403, whoever asks. Was: 200 anonymously, or 401 / 200 with a member token.
DOT_SEGMENTS = [
    # back out of /admin into a public path
    "/admin/../public/x",
    "/admin/..;/public/x",
    "/admin/..;x/public/x",
    "/admin/..;jsessionid=1/public/x",
    "/admin/%2e%2e/public/x",
    "/admin/%2E%2E/public/x",
    "/admin/%2e%2E/public/x",
    "/admin/.%2e/public/x",
    "/admin/%2e./public/x",
    "/admin/.%2E/public/x",
    "/admin/%2e%2e;x/public/x",
    "/admin;x/../public/x",
    "/admin/./../public/x",
    "/admin/x/../../public/x",
    # double encoding: an app that decodes twice reads '..'
    "/admin/%252e%252e/public/x",
    "/admin/%252E%252E/public/x",
    "/admin/..%252f/public/x",
    "/public/%252e%252e/admin",
    # ';' encoded: an app that decodes before it strips ;params reads '..'
    "/admin/..%3b/public/x",
    "/admin/..%3Bx/public/x",
    # overlong UTF-8 for '.', which a lax decoder reads as '..'
    "/admin/%c0%ae%c0%ae/public/x",
    "/admin/%e0%80%ae%e0%80%ae/public/x",
    "/admin/%C0%AE/x",
    "/public/%c0%ae%c0%ae/admin/x",
    # back out of /admin into the catch-all rule
    "/admin/..;/x",
    "/admin/../x",
    "/admin/%2e%2e/x",
    # '.' segments, which change nothing but are never sent by a browser
    "/admin/./x",
    "/admin/%2e/x",
    "/admin/.;/x",
    "/admin/.;x/x",
    "/public/./x",
    "/public/x/.",
    "/public/x/..",
    "/public/a/../b",
    # empty segments: merged by some apps, read as a host by URL parsers ("//public")
    "//public/admin/x",
    "//admin/x",
    "/admin//x",
    "/public//x",
    "/;x/admin/x",
    "/public/;x/a",
]


@pytest.fixture(scope="module")
def fa_callers(fa):
    """Headers of a plain member and of the admin, for the many requests below."""
    return {"member": member(fa)["h"], "admin": admin(fa)["h"]}


@pytest.mark.parametrize("style", ["traefik", "nginx"])
@pytest.mark.parametrize("uri", DOT_SEGMENTS)
def test_dot_and_empty_segments_refused(fa, fa_callers, uri, style):
    # the admin, who may enter /admin, is refused too: the path is not judged at all
    for who, headers in (("anonymous", None), ("member", fa_callers["member"]),
                         ("admin", fa_callers["admin"])):
        r = verify(fa, uri, headers=headers, style=style)
        assert r.status_code == 403, (uri, who, r.status_code, r.text)
        assert_error(r, 403, "forbidden")
        assert not any(h in r.headers for h in AUTH_HEADERS), (uri, who, r.headers)


def test_dot_segment_refusal_audited(fa):
    """A refused dot segment is a PERMISSION_DENIED like the other /verify refusals."""
    sql = ("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'PERMISSION_DENIED' "
           "AND metadata LIKE '%ambiguous_uri%'")
    before = fa.query(sql)[0]["n"]
    # a User-Agent of its own: repeats of the same denial are aggregated
    ua = {"User-Agent": unique_name("ua")}
    assert_error(verify(fa, "/admin/..;/public/x", headers=ua), 403, "forbidden")
    deadline = time.monotonic() + 5
    while fa.query(sql)[0]["n"] == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fa.query(sql)[0]["n"] == before + 1
# -- repeated and empty forwarded headers ------------------------------------------------------

def forbidden(status_body):
    status, body = status_body
    assert status == 403, (status, body)
    assert json.loads(body)["error"]["code"] == "forbidden", body


@pytest.mark.parametrize("values", [("/admin/x", "/admin/x"), ("/admin/x", "/public/x"),
                                    ("/public/x", "/admin/x")])
@pytest.mark.parametrize("name", ["X-Forwarded-Uri", "X-Original-URI"])
def test_uri_sent_twice_403_not_no_rule(fa, name, values):
    """Twice, even alike, the URI must not fall back to "no original request" (any
    credential passes): the member is refused on /admin/x once, and so twice."""
    u = member(fa)
    cred = ("Authorization", "Bearer " + u["at"])
    assert raw_verify(fa, [cred, (name, "/admin/x")])[0] == 403
    forbidden(raw_verify(fa, [cred] + [(name, v) for v in values]))
    forbidden(raw_verify(fa, [(name, v) for v in values]))


@pytest.mark.parametrize("name,uri", [("X-Forwarded-Method", "X-Forwarded-Uri"),
                                      ("X-Original-Method", "X-Original-URI")])
def test_method_sent_twice_403(fa, name, uri):
    # POST /public/x is org:admin; a method that went missing would make it GET (public)
    assert_401(verify(fa, "/public/x", method="POST",
                      style="traefik" if name.startswith("X-F") else "nginx"))
    for values in (("POST", "POST"), ("POST", "GET"), ("GET", "POST")):
        forbidden(raw_verify(fa, [(uri, "/public/x")] + [(name, v) for v in values]))
    # without a URI the method picks nothing, but twice it is still refused
    forbidden(raw_verify(fa, [(name, "GET"), (name, "GET"), ("Authorization",
                                                              "Bearer " + member(fa)["at"])]))


def test_empty_forwarded_headers_403(fa):
    u = member(fa)
    cred = ("Authorization", "Bearer " + u["at"])
    for name in ("X-Forwarded-Uri", "X-Original-URI"):
        forbidden(raw_verify(fa, [cred, (name, "")]))
        forbidden(raw_verify(fa, [cred, (name, ""), (name, "/admin/x")]))
    # an empty form beside a set one disagrees with it
    forbidden(raw_verify(fa, [cred, ("X-Forwarded-Uri", ""), ("X-Original-URI", "/admin/x")]))
    forbidden(raw_verify(fa, [cred, ("X-Forwarded-Uri", "/public/x"),
                              ("X-Forwarded-Method", "")]))


def test_repeated_headers_under_default_deny_403_audited(make_server):
    s = make_server({**FAST, "GATEHOUSE_FORWARD_AUTH_RULES": "GET /public/** public; "
                     "GET /app/** authenticated",
                     "GATEHOUSE_FORWARD_AUTH_DEFAULT_POLICY": "deny"})
    u = member(s)
    cred = ("Authorization", "Bearer " + u["at"])
    assert raw_verify(s, [cred, ("X-Forwarded-Uri", "/other")])[0] == 403
    forbidden(raw_verify(s, [cred, ("X-Forwarded-Uri", "/other"), ("X-Forwarded-Uri", "/other")]))
    forbidden(raw_verify(s, [cred, ("X-Original-URI", "/app/x"), ("X-Original-URI", "/other")]))
    # audited like any refusal before credentials (repeats aggregate into one record)
    deadline = time.monotonic() + 5
    while True:
        rows = [r for r in s.query("SELECT * FROM audit_events WHERE action = "
                                   "'PERMISSION_DENIED'")
                if "conflicting_headers" in (r["metadata"] or "")]
        if rows or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert rows and rows[0]["status"] == 403 and rows[0]["path"] == VERIFY, rows


# -- trusted proxies ---------------------------------------------------------------------------

def test_untrusted_peer_forwarded_headers_ignored(make_server):
    s = make_server({**FAST, "GATEHOUSE_FORWARD_AUTH_RULES": RULES,
                     "GATEHOUSE_SERVER_TRUSTED_PROXIES": "10.0.0.0/8"})
    assert_401(verify(s, "/public/x"))
    assert_401(verify(s, "/public/x", style="nginx"))
    u = member(s)
    # rules are not applied from untrusted headers either: /admin is not selected
    r = verify(s, "/admin/x", headers=u["h"])
    assert r.status_code == 200, r.text
    # media tokens in an untrusted forwarded URI are not accepted
    assert_401(verify(s, f"/media/a.jpg?token={u['at']}"))


# -- bad rule configuration ---------------------------------------------------------------------

@pytest.mark.parametrize("rule", [
    "GET /x bogus-access",
    "G@T /x public",
    "GET nopath public",
    "GET /x",
    "GET /x public media extra",
    "GET /a/**/b public",
    "GET /x public weird",
])
def test_bad_rule_refuses_to_start(make_server, rule):
    s = make_server({**FAST, "GATEHOUSE_FORWARD_AUTH_RULES": "GET /ok/** public; " + rule},
                    start=False)
    with pytest.raises(RuntimeError):
        s.start(timeout=10)
    assert s.stop() not in (0, None)
    err = s.stderr_text()
    assert rule.split()[0] in err and rule.split()[1] in err, err


def test_bad_default_policy_refuses_to_start(make_server):
    s = make_server({**FAST, "GATEHOUSE_FORWARD_AUTH_DEFAULT_POLICY": "maybe"}, start=False)
    with pytest.raises(RuntimeError):
        s.start(timeout=10)
    err = s.stderr_text().lower()
    assert "maybe" in err or "default_policy" in err or "default policy" in err, err


def test_refusals_before_credentials_are_audited(fa):
    """A 403 for an ambiguous URI or disagreeing headers is a denial like any other."""
    token = fa.tokens("admin", ADMIN_PASSWORD)["access_token"]
    r = fa.get(VERIFY, headers={"X-Forwarded-Uri": f"/media/%2e%2e%2Fx?token={token}"})
    assert_error(r, 403, "forbidden")
    r2 = fa.get(VERIFY, headers={"X-Forwarded-Uri": "/public/x", "X-Original-URI": "/admin/x"})
    assert_error(r2, 403, "forbidden")
    deadline = time.monotonic() + 5
    while True:
        rows = fa.query("SELECT metadata, path FROM audit_events WHERE action = "
                        "'PERMISSION_DENIED' AND metadata LIKE '%reason%'")
        reasons = [row["metadata"] or "" for row in rows]
        if (any("ambiguous_uri" in m for m in reasons)
                and any("conflicting_headers" in m for m in reasons)) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert any("ambiguous_uri" in m for m in reasons), rows
    assert any("conflicting_headers" in m for m in reasons), rows
    # a media token is never kept
    assert not any(token in (row["metadata"] or "") + (row["path"] or "") for row in rows)

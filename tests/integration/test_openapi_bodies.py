"""docs/openapi.json's schemas held to what the server really answers (issue 17, item 5).

Every operation must document its request body and each answer's body with a schema that
says something (properties, items or a reference), and a representative call of every
route, driven through the real server, must answer a status the operation documents with
a body that validates against that status's schema (python3-jsonschema, draft 2020-12, the
dialect of OpenAPI 3.1), and every JSON body the server took must fit the request schema.
The calls are the RBAC matrix's rows (test_rbac_matrix.py: each
row's world, path and body), one success and one refusal each, the public routes, and a
malformed body for each JSON route; an operation that no call reached fails too."""
import json
import re

import pyotp
import pytest
from jsonschema import Draft202012Validator

from conftest import REPO, Server, bearer, strong_password, unique_name
from rbac_support import call, new_actor
from test_rbac_matrix import APP_PERMISSIONS, KINDS, MATRIX, REAUTH, World, body_for

METHODS = ("get", "post", "put", "patch", "delete")
DOC = json.loads((REPO / "docs" / "openapi.json").read_text())
# Routes a call here answers only with a refusal: their success needs an identity provider
# or a sealed server, and is held to the schema in the suites that have one.
REFUSED_ONLY = {
    ("get", "/api/v1/auth/sso/callback"),   # tests/sso
    ("post", "/api/v1/auth/oauth/login"),   # tests/sso
    ("get", "/api/v1/auth/saml/login"),     # test_saml.py
    ("get", "/api/v1/auth/saml/metadata"),  # test_saml.py
    ("post", "/api/v1/auth/saml/acs"),      # test_saml.py
    ("post", "/api/v1/sys/unseal"),         # test_sealing.py
    ("post", "/login/mfa"),                 # test_pages.py
}


def operations():
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op


def resolve(obj):
    """A components reference followed to what it names."""
    while isinstance(obj, dict) and "$ref" in obj:
        node = DOC
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def says_something(schema):
    """A schema that constrains: a reference, properties, items, an enum, a const or a
    combination; not a bare {"type": "object"}."""
    s = schema or {}
    return any(k in s for k in ("$ref", "properties", "items", "enum", "const", "oneOf",
                                "anyOf", "allOf", "additionalProperties")) or \
        s.get("type") in ("string", "integer", "boolean", "number")


def test_every_operation_has_schemas():
    bare = []
    for method, path, op in operations():
        where = f"{method.upper()} {path}"
        body = resolve(op.get("requestBody"))
        for ctype, media in (body or {}).get("content", {}).items():
            if not says_something(media.get("schema")):
                bare.append(f"{where} request {ctype}")
        for status, resp in op["responses"].items():
            for ctype, media in resolve(resp).get("content", {}).items():
                if not says_something(media.get("schema")):
                    bare.append(f"{where} {status} {ctype}")
    assert bare == [], "operations without a real schema"


def test_the_schemas_are_valid_json_schema():
    for name, schema in DOC["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    for method, path, op in operations():
        for status, resp in op["responses"].items():
            for media in resolve(resp).get("content", {}).values():
                Draft202012Validator.check_schema(media["schema"])


# -- the recording server --------------------------------------------------------------------

TEMPLATES = sorted(((re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", p) + "$"), p)
                    for p in DOC["paths"]), key=lambda t: t[1].count("{"))


def template_of(path):
    """The document's path for a request path: the literal one before one with parameters."""
    path = path.split("?")[0]
    for rx, tmpl in TEMPLATES:
        if rx.match(path):
            return tmpl
    return None


class Checker:
    """Holds answers to the document: what failed, and which operations were reached."""

    def __init__(self):
        self.seen = {}      # (method, template) -> set of statuses
        self.failures = []

    def check(self, method, path, r, sent=None):
        """r: the answer; sent: the JSON body of the request, held to the request schema
        when the server took it (a 2xx)."""
        tmpl = template_of(path)
        op = DOC["paths"].get(tmpl, {}).get(method)
        where = f"{method.upper()} {path} -> {r.status_code}"
        if op is None:
            self.failures.append(f"{where}: no operation")
            return
        self.seen.setdefault((method, tmpl), set()).add(r.status_code)
        if sent is not None and 200 <= r.status_code < 300:
            media = resolve(op.get("requestBody", {})).get("content", {}).get("application/json")
            if media is None:
                self.failures.append(f"{where}: took a JSON body it does not document")
            else:
                self.validate(f"{where} request", media["schema"], sent)
        resp = op["responses"].get(str(r.status_code))
        if resp is None:
            self.failures.append(f"{where}: status not documented ({r.text[:200]})")
            return
        content = resolve(resp).get("content")
        if not content:
            if r.content:
                self.failures.append(f"{where}: documented without a body, has one")
            return
        ctype = r.headers.get("Content-Type", "").split(";")[0].strip()
        media = content.get(ctype)
        if media is None:
            self.failures.append(f"{where}: Content-Type {ctype} not documented")
            return
        if ctype != "application/json":
            return
        self.validate(where, media["schema"], r.json())

    def validate(self, where, schema, value):
        root = {"components": DOC["components"], **schema}
        errors = sorted(Draft202012Validator(root).iter_errors(value), key=str)
        for e in errors[:3]:
            self.failures.append(f"{where}: {'/'.join(map(str, e.absolute_path))}: "
                                 f"{e.message[:300]}")


class Recording(Server, Checker):
    """A server whose every answer is checked against the document as it comes (redirects
    not followed: a 302 is an answer of its own)."""

    def __init__(self, **kw):
        Server.__init__(self, **kw)
        Checker.__init__(self)

    def request(self, method, path, **kw):
        kw.setdefault("allow_redirects", False)
        r = super().request(method, path, **kw)
        self.check(method.lower(), path, r, kw.get("json"))
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        if json_body is not None:
            kw["json"] = json_body
        return self.request("POST", path, **kw)


@pytest.fixture(scope="module")
def rs():
    s = Recording(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256",
                       "GATEHOUSE_AUTHZ_PERMISSIONS": " ".join(APP_PERMISSIONS),
                       "GATEHOUSE_SSO_CHECK_ON_SAVE": "false"})
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


def success_kind(row):
    """The caller whose answer is a success (the org's admin first), and one refused."""
    ok = [k for k in ("admin", "super", "other", "member") if
          isinstance(row["expect"][k], int) and row["expect"][k] < 300]
    bad = [k for k in KINDS if row["expect"][k] != REAUTH and row["expect"][k] >= 400]
    return (ok[0] if ok else None), (bad[0] if bad else None)


def drive_matrix(s):
    shared = World(s)
    for (method, route), row in MATRIX.items():
        good, bad = success_kind(row)
        for kind in (good, bad):
            if kind is None:
                continue
            w = World(s) if row["mut"] and kind == good else shared
            who, headers = w.caller(kind)
            verbs = ("GET", "POST") if method == "*" else (method,)
            for verb in verbs:
                call(s, verb, row["path"](w), headers, body_for(row, w, who))
        if row["body"] is not None:  # malformed JSON, another media type, missing fields
            _, headers = shared.caller(good or "admin")
            path = row["path"](shared)
            s.request(method, path, headers={**headers, "Content-Type": "application/json"},
                      data="{")
            s.request(method, path, headers=headers, data="x=1")
            if not row["mut"]:
                s.request(method, path, headers=headers, json={})
    return shared


def drive_public(s, w):
    u = s.register(full_name="Open Api")
    s.post("/api/v1/auth/register", {"username": u["username"], "email": "x@example.test",
                                     "password": strong_password()})  # 409
    s.post("/api/v1/auth/register", {"username": "ab", "email": "y@example.test",
                                     "password": strong_password()})  # 422
    t = s.login(u["username"], u["password"]).json()
    s.post("/api/v1/auth/login", {"username": u["username"], "password": "wrong-password-1"})
    t = s.post("/api/v1/auth/refresh", {"refresh_token": t["refresh_token"]}).json()
    s.post("/api/v1/auth/refresh", {"refresh_token": "nope"})
    s.post("/api/v1/auth/logout", {"refresh_token": t["refresh_token"]})
    s.post("/api/v1/auth/mfa/verify", {"mfa_token": "nope", "code": "000000"})
    for path in ("/healthz", "/readyz", "/.well-known/jwks.json", "/openapi.json",
                 "/.well-known/openid-configuration", "/docs", "/static/gatehouse.css",
                 "/login", "/login/mfa", "/register", "/account", "/admin"):
        s.get(path)
    s.get("/metrics")
    s.get("/metrics", headers=w.super.h)
    form = {"headers": {"Content-Type": "application/x-www-form-urlencoded"}, "data": "a=b"}
    for path in ("/login", "/login/mfa", "/register", "/logout", "/account/password",
                 "/account/mfa/setup", "/account/mfa/confirm", "/account/mfa/disable",
                 "/account/keys", "/account/keys/revoke", "/account/sessions/revoke",
                 "/account/identities/unlink", "/account/invitations/accept",
                 "/account/invitations/decline", "/account/reauth"):
        s.request("POST", path, **form)
    s.post("/api/v1/sys/unseal", {"share": "nope"})
    s.get("/api/v1/auth/sso/authorize", params={"provider": "nope"})
    s.get("/api/v1/auth/sso/callback", params={"state": "nope", "code": "x"})
    s.post("/api/v1/auth/oauth/login", {"provider": "nope", "access_token": "x"})
    s.get("/api/v1/auth/saml/login", params={"provider": "nope"})
    s.get("/api/v1/auth/saml/metadata", params={"provider": "nope"})
    s.request("POST", "/api/v1/auth/saml/acs", **form)
    # An SSO provider of the operator's: its authorize answers the redirect.
    name = unique_name("p").lower()
    call(s, "POST", "/api/v1/sso/providers", w.super.h,
         {"name": name, "type": "oauth2", "client_id": "c", "client_secret": "s",
          "authorization_endpoint": "http://127.0.0.1:9/auth",
          "token_endpoint": "http://127.0.0.1:9/token",
          "userinfo_endpoint": "http://127.0.0.1:9/userinfo"})
    s.get("/api/v1/auth/sso/authorize", params={"provider": name})
    # A browser session of the user's, listed and ended with its bearer token.
    s.post("/api/v1/auth/login?mode=cookie", {"username": u["username"],
                                              "password": u["password"]})
    h = bearer(s.tokens(u["username"], u["password"])["access_token"])
    for item in call(s, "GET", "/api/v1/auth/sessions", h).json()["items"]:
        call(s, "DELETE", f"/api/v1/auth/sessions/{item['id']}", h)


def drive_pages(s):
    """The sign-in and registration forms, posted as a browser does (the Origin of the
    pages), right and wrong."""
    origin = {"headers": {"Origin": s.base}}
    u = s.register()
    for password in (u["password"], "wrong-password-1"):
        s.request("POST", "/login", data={"username": u["username"], "password": password},
                  **origin)
    name = unique_name("pg")
    for email in (f"{name}@example.test", "bad"):
        s.request("POST", "/register", data={"username": name, "email": email,
                                             "password": strong_password()}, **origin)


def drive_mfa(s):
    """TOTP enabled, a login through its second step (a backup code: the time step is spent
    by the confirmation), then disabled with another."""
    a = new_actor(s, prefix="oamfa")
    setup = call(s, "POST", "/api/v1/auth/mfa/totp/setup", a.h).json()
    codes = call(s, "POST", "/api/v1/auth/mfa/totp/confirm", a.h,
                 {"code": pyotp.TOTP(setup["secret"]).now()}).json()["backup_codes"]
    first = s.post("/api/v1/auth/login", {"username": a.username, "password": a.password})
    token = first.json()["mfa_token"]
    s.post("/api/v1/auth/mfa/verify", {"mfa_token": token, "code": "wrong0"})
    s.post("/api/v1/auth/mfa/verify", {"mfa_token": token, "code": codes[0]})
    first = s.post("/api/v1/auth/login", {"username": a.username, "password": a.password})
    t = s.post("/api/v1/auth/mfa/verify", {"mfa_token": first.json()["mfa_token"],
                                           "code": codes[1]}).json()
    call(s, "DELETE", "/api/v1/auth/mfa/totp", bearer(t["access_token"]),
         {"password": a.password, "code": codes[2]})


def test_every_answer_matches_its_schema(rs):
    drive_public(rs, drive_matrix(rs))
    drive_pages(rs)
    drive_mfa(rs)
    assert rs.failures == [], "\n".join(rs.failures)
    unreached = [f"{m.upper()} {p}" for m, p, _ in operations() if (m, p) not in rs.seen]
    assert unreached == [], "operations no call reached: " + ", ".join(unreached)
    no_success = [f"{m.upper()} {p}" for (m, p), codes in rs.seen.items()
                  if (m, p) not in REFUSED_ONLY and not any(c < 400 for c in codes)]
    assert no_success == [], "operations never answered with success: " + ", ".join(no_success)


def test_a_wrong_body_is_caught():
    """The check itself: an answer without a required field, an undocumented status, an
    undocumented media type and a request body outside its schema each fail it."""

    class Answer:
        def __init__(self, status, body, ctype="application/json"):
            self.status_code, self.headers = status, {"Content-Type": ctype}
            self.content = self.text = json.dumps(body)
            self.json = lambda: body

    c = Checker()
    c.check("get", "/healthz", Answer(200, {"status": "ok"}))
    assert c.failures == []
    c.check("get", "/healthz", Answer(200, {}))
    c.check("get", "/healthz", Answer(418, {"status": "ok"}))
    c.check("get", "/healthz", Answer(200, "ok", "text/plain"))
    assert len(c.failures) == 3, c.failures
    assert "'status' is a required property" in c.failures[0]
    assert "not documented" in c.failures[1] and "text/plain" in c.failures[2]
    # a request body the server took but the request schema refuses
    org = {"id": "0190b6d2-7c1e-7000-8000-000000000000", "name": "a",
           "created_at": "2026-01-01T00:00:00Z"}
    c.check("post", "/api/v1/orgs", Answer(201, org), sent={"name": "a"})
    assert len(c.failures) == 3, c.failures
    c.check("post", "/api/v1/orgs", Answer(201, org), sent={"title": "a"})
    assert "request" in c.failures[3] and "'name' is a required property" in c.failures[3]

"""The RBAC matrix: every route of the product x every kind of caller, with the status
each cell must answer.  The route list is read from src/api/dispatch.c's routes[] table,
so a route added without a row here fails test_every_route_has_a_row.

Caller kinds (each cell gets a fresh world when the route changes state):
  super   an operator with the global superadmin flag, not a member of org A
  admin   admin of org A (its creator), token for A
  member  plain member of A (file:read file:write org:read), token for A
  custom  member of A with a custom role holding only file:read and org:read
  other   admin of another org B, token for B (so *:* there, nothing in A)
  key     API key of A's admin for A, scoped to org:read only
  admin_key  API key of A's admin for A without scopes (the admin's *:* there): as the
          admin, but never an operator and never outside A
  anon    no credentials

Another org's resources answer 404, never 403 (no existence leak); every 403 is
`forbidden` and audited as PERMISSION_DENIED, except REAUTH: 403 `reauth_required`
audited REAUTH_REQUIRED, for an API key on a dangerous action it may otherwise take
(keys never pass the re-authentication window; API.md "Incident response")."""
import uuid

import pytest

from conftest import REPO, Server, assert_error, strong_password, unique_name, wait_audit
from rbac_support import (APP_PERMISSIONS, KEYS, ORGS, USERS, add_member, call, create_org,
                          create_role, key_h, make_key, new_actor, new_id, route_table,
                          superadmin)

KINDS = ("super", "admin", "member", "custom", "other", "key", "admin_key", "anon")
REAUTH = "reauth"  # a cell's 403 reauth_required


@pytest.fixture(scope="module")
def ms():
    s = Server(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256",
                    "GATEHOUSE_AUTHZ_PERMISSIONS": " ".join(APP_PERMISSIONS),
                    # /metrics by permission only, so that it is a protected route here
                    "GATEHOUSE_METRICS_ALLOW": "",
                    # providers that name no reachable issuer (test_sso_providers.py)
                    "GATEHOUSE_SSO_CHECK_ON_SAVE": "false"})
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


class World:
    """Org A with its admin, a member, a custom-role holder, an API key and a few
    targets; org B with its admin; an operator. Fresh users every time."""

    def __init__(self, s):
        self.s = s
        root = superadmin(s)
        self.admin = new_actor(s, prefix="madm")
        self.A = create_org(s, self.admin.h, unique_name("mA"))["id"]
        self.admin.relogin(self.A)
        self.other = new_actor(s, prefix="moth")
        self.B = create_org(s, self.other.h, unique_name("mB"))["id"]
        self.other.relogin(self.B)
        self.reader = create_role(s, self.admin.h, self.A, ["file:read", "org:read"])
        self.member = new_actor(s, prefix="mmem")
        self.custom = new_actor(s, prefix="mcus")
        self.target = new_actor(s, prefix="mtgt")    # a member of A to change or remove
        self.outsider = new_actor(s, prefix="mout")  # nobody's member but the default org's
        add_member(s, self.admin.h, self.A, self.member, "member")
        add_member(s, self.admin.h, self.A, self.custom, self.reader["name"])
        add_member(s, self.admin.h, self.A, self.target, "member")
        self.member.relogin(self.A)
        self.custom.relogin(self.A)
        # A pending invitation to A, addressed to B's admin (who may accept or decline it).
        r = call(s, "POST", f"{ORGS}/{self.A}/members", self.admin.h,
                 {"user_id": self.other.id, "role": "member"})
        assert r.status_code == 202, r.text
        self.invitation = r.json()["invitation"]["id"]
        self.victim_role = create_role(s, self.admin.h, self.A, ["doc:read"])
        self.key = make_key(s, self.admin.h, scopes=["org:read"], org_id=self.A)
        self.admin_key = make_key(s, self.admin.h, org_id=self.A)  # one to revoke
        self.wide_key = make_key(s, self.admin.h, org_id=self.A)
        # The operator: a fresh user made superadmin by the bootstrap admin.
        self.super = new_actor(s, prefix="msup")
        r = call(s, "PATCH", f"{USERS}/{self.super.id}", root.h, {"superadmin": True})
        assert r.status_code == 200, r.text
        self.super.relogin()

    def exclusive(self):
        """The target user, made a member of A only (it leaves the default org)."""
        if not getattr(self, "_exclusive", False):
            me = call(self.s, "GET", "/api/v1/auth/me", self.target.h).json()
            others = [o["id"] for o in me["orgs"] if o["id"] != self.A]
            for oid in others:
                r = call(self.s, "DELETE", f"{ORGS}/{oid}/members/{self.target.id}",
                         self.super.h)
                assert r.status_code == 204, r.text
            self._exclusive = True
        return self.target

    def caller(self, kind):
        if kind == "anon":
            return None, {}
        if kind == "key":
            return None, key_h(self.key)
        if kind == "admin_key":
            return None, key_h(self.wide_key)
        a = getattr(self, kind)
        return a, a.h


def sso_body(w):
    return {"name": unique_name("p").lower(), "type": "oidc", "issuer": "http://127.0.0.1:9/idp",
            "client_id": "matrix", "client_secret": "matrix-secret"}


def sso_provider(w):
    """The path of an SSO provider, made once per world by the operator."""
    if not hasattr(w, "_sso"):
        body = sso_body(w)
        r = call(w.s, "POST", "/api/v1/sso/providers", w.super.h, body)
        assert r.status_code == 201, r.text
        w._sso = f"/api/v1/sso/providers/{body['name']}"
    return w._sso


def block_body(w):
    n = uuid.uuid4().int
    return {"cidr": f"198.51.{n % 256}.{(n >> 8) % 256}", "reason": "matrix"}


def block(w):
    """The path of an address block, made once per world by the operator."""
    if not hasattr(w, "_block"):
        r = call(w.s, "POST", "/api/v1/edge/blocks", w.super.h, block_body(w))
        assert r.status_code == 201, r.text
        w._block = f"/api/v1/edge/blocks/{r.json()['id']}"
    return w._block


def sealed(w):
    """A ciphertext of org A (field "f"), made once per world by A's admin."""
    if not hasattr(w, "_sealed"):
        r = call(w.s, "POST", "/api/v1/crypto/encrypt", w.admin.h,
                 {"plaintext": "p", "field": "f", "org_id": w.A})
        assert r.status_code == 200, r.text
        w._sealed = r.json()["ciphertext"]
    return w._sealed


def vault_item(w):
    """The path of a vault item of org A, written once per world by A's admin."""
    path = f"{ORGS}/{w.A}/vault/item"
    if not hasattr(w, "_vault"):
        r = call(w.s, "PUT", path, w.admin.h, {"value": "v"})
        assert r.status_code == 204, r.text
        w._vault = True
    return path


# -- the matrix ---------------------------------------------------------------------------
# (method, route path as in dispatch.c) -> (path builder, body builder, {kind: status})
# "mut" marks rows that change state: each of their cells gets a fresh world.

def row(path, body=None, mut=False, **expect):
    assert set(expect) == set(KINDS), sorted(set(KINDS) ^ set(expect))
    return {"path": path, "body": body, "mut": mut, "expect": expect}


def st(code, **over):
    """Every kind answers code, anon 401, except what over says."""
    d = {k: code for k in KINDS}
    d["anon"] = 401
    d.update(over)
    if "admin_key" not in over:
        d["admin_key"] = d["admin"]  # the admin's key answers as the admin, unless told
    return d


MATRIX = {
    ("POST", "/api/v1/authz/check"):
        row(lambda w: "/api/v1/authz/check", lambda w: {"permission": "file:read"},
            **st(200)),
    ("GET", "/api/v1/orgs"):
        row(lambda w: ORGS, **st(200)),
    ("POST", "/api/v1/orgs"):
        row(lambda w: ORGS, lambda w: {"name": unique_name("new")}, mut=True,
            **st(201, key=403)),
    ("GET", "/api/v1/orgs/*"):
        row(lambda w: f"{ORGS}/{w.A}", **st(200, other=404)),
    ("PATCH", "/api/v1/orgs/*"):
        row(lambda w: f"{ORGS}/{w.A}", lambda w: {"name": unique_name("ren")}, mut=True,
            **st(200, member=403, custom=403, other=404, key=403)),
    ("DELETE", "/api/v1/orgs/*"):
        row(lambda w: f"{ORGS}/{w.A}", mut=True,
            **st(204, member=403, custom=403, other=404, key=403, admin_key=REAUTH)),
    ("GET", "/api/v1/orgs/*/members"):
        row(lambda w: f"{ORGS}/{w.A}/members", **st(200, other=404)),
    # An operator adds at once; an org's admin (or its key) invites.
    ("POST", "/api/v1/orgs/*/members"):
        row(lambda w: f"{ORGS}/{w.A}/members",
            lambda w: {"user_id": w.outsider.id, "role": "member"}, mut=True,
            **st(202, super=201, member=403, custom=403, other=404, key=403)),
    ("GET", "/api/v1/orgs/*/invitations"):
        row(lambda w: f"{ORGS}/{w.A}/invitations",
            **st(200, member=403, custom=403, other=404, key=403)),
    ("DELETE", "/api/v1/orgs/*/invitations/*"):
        row(lambda w: f"{ORGS}/{w.A}/invitations/{w.invitation}", mut=True,
            **st(204, member=403, custom=403, other=404, key=403)),
    # The invitee's own: only B's admin is invited; anyone else's answer is 404.
    ("GET", "/api/v1/auth/me/invitations"):
        row(lambda w: "/api/v1/auth/me/invitations", **st(200, key=403)),
    ("POST", "/api/v1/auth/me/invitations/*/accept"):
        row(lambda w: f"/api/v1/auth/me/invitations/{w.invitation}/accept", mut=True,
            **st(404, other=200, key=403)),
    ("POST", "/api/v1/auth/me/invitations/*/decline"):
        row(lambda w: f"/api/v1/auth/me/invitations/{w.invitation}/decline", mut=True,
            **st(404, other=204, key=403)),
    ("PATCH", "/api/v1/orgs/*/members/*"):
        row(lambda w: f"{ORGS}/{w.A}/members/{w.target.id}", lambda w: {"role": "admin"},
            mut=True, **st(200, member=403, custom=403, other=404, key=403, admin_key=REAUTH)),
    ("DELETE", "/api/v1/orgs/*/members/*"):
        row(lambda w: f"{ORGS}/{w.A}/members/{w.target.id}", mut=True,
            **st(204, member=403, custom=403, other=404, key=403)),
    ("GET", "/api/v1/orgs/*/roles"):   # role:read: not in the member role
        row(lambda w: f"{ORGS}/{w.A}/roles",
            **st(200, member=403, custom=403, other=404, key=403)),
    ("POST", "/api/v1/orgs/*/roles"):
        row(lambda w: f"{ORGS}/{w.A}/roles",
            lambda w: {"name": unique_name("r"), "permissions": ["file:read"]}, mut=True,
            **st(201, member=403, custom=403, other=404, key=403)),
    ("PATCH", "/api/v1/orgs/*/roles/*"):
        row(lambda w: f"{ORGS}/{w.A}/roles/{w.victim_role['id']}",
            lambda w: {"permissions": ["doc:read", "doc:write"]}, mut=True,
            **st(200, member=403, custom=403, other=404, key=403)),
    ("DELETE", "/api/v1/orgs/*/roles/*"):
        row(lambda w: f"{ORGS}/{w.A}/roles/{w.victim_role['id']}", mut=True,
            **st(204, member=403, custom=403, other=404, key=403)),
    ("PUT", "/api/v1/auth/me/primary-org"):
        row(lambda w: "/api/v1/auth/me/primary-org", lambda w: {"org_id": w.A}, mut=True,
            **st(204, super=404, other=404, key=403)),
    ("GET", "/api/v1/users"):
        row(lambda w: USERS, **st(200, member=403, custom=403, key=403)),
    ("GET", "/api/v1/users/*"):
        row(lambda w: f"{USERS}/{w.target.id}",
            **st(200, member=403, custom=403, other=404, key=403)),
    # Writes aim at a user who belongs to A only (an org admin may administer those).
    ("PATCH", "/api/v1/users/*"):
        row(lambda w: f"{USERS}/{w.exclusive().id}", lambda w: {"full_name": "Renamed"},
            mut=True, **st(200, member=403, custom=403, other=404, key=403)),
    ("DELETE", "/api/v1/users/*"):
        row(lambda w: f"{USERS}/{w.exclusive().id}", mut=True,
            **st(204, member=403, custom=403, other=404, key=403, admin_key=REAUTH)),
    # The password again, each its own; a key has no sign-in to renew.
    ("POST", "/api/v1/auth/reauth"):
        row(lambda w: "/api/v1/auth/reauth", "reauth", **st(200, key=REAUTH, admin_key=REAUTH)),
    ("GET", "/api/v1/permissions"):
        row(lambda w: "/api/v1/permissions", **st(200)),
    ("POST", "/api/v1/permissions"):   # declaring an app permission: operators only
        row(lambda w: "/api/v1/permissions", lambda w: {"name": f"{unique_name('app')}:read"},
            mut=True, **st(403, super=201)),
    # -- the routes of earlier issues, for every kind too --
    ("POST", "/api/v1/auth/logout-all"):
        row(lambda w: "/api/v1/auth/logout-all", mut=True, **st(204, key=403)),
    ("POST", "/api/v1/auth/change-password"):
        row(lambda w: "/api/v1/auth/change-password", "change-password", mut=True,
            **st(204, key=403)),
    ("GET", "/api/v1/auth/me"):
        row(lambda w: "/api/v1/auth/me", **st(200)),
    # A user's own second factor and sessions: a scoped key may not touch them.
    ("POST", "/api/v1/auth/mfa/totp/setup"):
        row(lambda w: "/api/v1/auth/mfa/totp/setup", mut=True, **st(200, key=403)),
    ("POST", "/api/v1/auth/mfa/totp/confirm"):
        row(lambda w: "/api/v1/auth/mfa/totp/confirm", lambda w: {"code": "000000"}, mut=True,
            **st(409, key=403)),
    ("DELETE", "/api/v1/auth/mfa/totp"):
        row(lambda w: "/api/v1/auth/mfa/totp", lambda w: {"password": "x", "code": "000000"},
            mut=True, **st(404, key=403)),
    ("GET", "/api/v1/auth/sessions"):
        row(lambda w: "/api/v1/auth/sessions", **st(200, key=403)),
    ("DELETE", "/api/v1/auth/sessions/*"):
        row(lambda w: f"/api/v1/auth/sessions/{uuid.uuid4()}", mut=True, **st(404, key=403)),
    ("*", "/api/v1/auth/verify"):
        row(lambda w: "/api/v1/auth/verify", **st(200)),
    ("POST", "/api/v1/api-keys"):
        row(lambda w: KEYS, lambda w: {"name": unique_name("k")}, mut=True, **st(201, key=403)),
    ("GET", "/api/v1/api-keys"):
        row(lambda w: KEYS, **st(200, key=403)),
    ("DELETE", "/api/v1/api-keys"):
        row(lambda w: KEYS, mut=True, **st(204, key=403)),
    ("DELETE", "/api/v1/api-keys/*"):
        row(lambda w: f"{KEYS}/{w.admin_key['id']}", mut=True,
            **st(404, admin=204, key=403)),
    ("POST", "/api/v1/sql/validate"):
        row(lambda w: "/api/v1/sql/validate", lambda w: {"sql": "SELECT 1"}, **st(200)),
    # An org's own records for its admins; the chain's proof covers every org: operators.
    ("GET", "/api/v1/audit/logs"):
        row(lambda w: "/api/v1/audit/logs", **st(200, member=403, custom=403, key=403)),
    ("GET", "/api/v1/audit/verify"):
        row(lambda w: "/api/v1/audit/verify", **st(403, super=200)),
    # An application's own event, in the body's org (A): 403 for another org's member as
    # for a missing org (api/audit_events.c), so nothing tells whether A exists.
    ("POST", "/api/v1/audit/events"):
        row(lambda w: "/api/v1/audit/events",
            lambda w: {"action": "INVOICE_EXPORTED", "org_id": w.A}, mut=True,
            **st(201, member=403, custom=403, other=403, key=403)),
    # Address blocks: Gatehouse-wide, operators (or edge:admin in the default org) only.
    ("GET", "/api/v1/edge/blocks"):
        row(lambda w: "/api/v1/edge/blocks", **st(403, super=200)),
    ("POST", "/api/v1/edge/blocks"):
        row(lambda w: "/api/v1/edge/blocks", block_body, mut=True, **st(403, super=201)),
    ("DELETE", "/api/v1/edge/blocks/*"):
        row(block, mut=True, **st(403, super=204)),
    # A token for one audience, minted by anyone signed in; never by a scoped API key.
    ("POST", "/api/v1/auth/gateway-token"):
        row(lambda w: "/api/v1/auth/gateway-token", lambda w: {"audience": "matrix"},
            **st(200, key=403)),
    # SSO identity providers: Gatehouse-wide, operators only.
    ("GET", "/api/v1/sso/providers"):
        row(lambda w: "/api/v1/sso/providers", **st(403, super=200)),
    ("POST", "/api/v1/sso/providers"):
        row(lambda w: "/api/v1/sso/providers", sso_body, mut=True, **st(403, super=201)),
    ("GET", "/api/v1/sso/providers/*"):
        row(sso_provider, **st(403, super=200)),
    ("PATCH", "/api/v1/sso/providers/*"):
        row(sso_provider, lambda w: {"enabled": False}, mut=True, **st(403, super=200)),
    ("DELETE", "/api/v1/sso/providers/*"):
        row(sso_provider, mut=True, **st(403, super=204)),
    # Data protection: the org of the body (crypto) or of the path (vault).
    ("POST", "/api/v1/crypto/encrypt"):
        row(lambda w: "/api/v1/crypto/encrypt",
            lambda w: {"plaintext": "p", "field": "f", "org_id": w.A},
            **st(200, member=403, custom=403, other=404, key=403)),
    ("POST", "/api/v1/crypto/decrypt"):
        row(lambda w: "/api/v1/crypto/decrypt",
            lambda w: {"ciphertext": sealed(w), "field": "f", "org_id": w.A},
            **st(200, member=403, custom=403, other=404, key=403)),
    ("POST", "/api/v1/crypto/rewrap"):
        row(lambda w: "/api/v1/crypto/rewrap",
            lambda w: {"ciphertext": sealed(w), "field": "f", "org_id": w.A},
            **st(200, member=403, custom=403, other=404, key=403)),
    ("GET", "/api/v1/orgs/*/vault"):
        row(lambda w: f"{ORGS}/{w.A}/vault",
            **st(200, member=403, custom=403, other=404, key=403)),
    ("PUT", "/api/v1/orgs/*/vault/*"):
        row(lambda w: f"{ORGS}/{w.A}/vault/new", lambda w: {"value": "v"}, mut=True,
            **st(204, member=403, custom=403, other=404, key=403)),
    ("GET", "/api/v1/orgs/*/vault/*"):
        row(vault_item, **st(200, member=403, custom=403, other=404, key=403)),
    ("DELETE", "/api/v1/orgs/*/vault/*"):
        row(vault_item, mut=True, **st(204, member=403, custom=403, other=404, key=403)),
    ("GET", "/metrics"):
        # Gatehouse-wide figures: an org's own admin (*:* there) is no operator.
        row(lambda w: "/metrics", **st(403, super=200, anon=403)),
}

# Routes anyone may call: not in the matrix, but they must be listed here.
PUBLIC = {
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/openid-configuration"), ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"), ("GET", "/openapi.json"),
    ("POST", "/api/v1/auth/mfa/verify"),
    # the portal's pages find the session themselves (tests/integration/test_pages.py)
    ("GET", "/static/gatehouse.css"), ("GET", "/login"), ("POST", "/login"),
    ("GET", "/login/mfa"), ("POST", "/login/mfa"), ("GET", "/register"), ("POST", "/register"),
    ("POST", "/logout"), ("GET", "/account"), ("GET", "/admin"), ("POST", "/account/password"),
    ("POST", "/account/mfa/setup"), ("POST", "/account/mfa/confirm"),
    ("POST", "/account/mfa/disable"), ("POST", "/account/keys"), ("POST", "/account/keys/revoke"),
    ("POST", "/account/sessions/revoke"), ("POST", "/account/identities/unlink"),
    ("POST", "/account/invitations/accept"), ("POST", "/account/invitations/decline"),
    ("POST", "/account/reauth"),
    # From admin.allow addresses; the Shamir share is the credential (test_sealing.py).
    ("POST", "/api/v1/sys/unseal"),
    # the browser's SSO sign-in: the state and the provider's answer are the credential
    # (tests/sso)
    ("GET", "/api/v1/auth/sso/authorize"), ("GET", "/api/v1/auth/sso/callback"),
    # the provider's access token is the credential (tests/sso/token.test.mjs)
    ("POST", "/api/v1/auth/oauth/login"),
    # the SAML flow's ends: the relay state and the IdP's signed answer (test_saml.py)
    ("GET", "/api/v1/auth/saml/login"), ("GET", "/api/v1/auth/saml/metadata"),
    ("POST", "/api/v1/auth/saml/acs"),
    # the API reference page (test_openapi.py)
    ("GET", "/docs"),
}


def missing_rows(routes):
    return sorted(set(routes) - set(MATRIX) - PUBLIC)


def test_every_route_has_a_row():
    routes = set(route_table())
    missing = missing_rows(routes)
    assert not missing, f"routes without a matrix row (add them to MATRIX or PUBLIC): {missing}"
    stale = sorted(set(MATRIX) - routes)
    assert not stale, f"matrix rows for routes the server does not have: {stale}"


def test_a_new_route_without_a_row_is_caught():
    """The guard itself: a row added to dispatch.c's table (any layout) shows up missing."""
    text = (REPO / "src" / "api" / "dispatch.c").read_text()
    new = ('    {"/api/v1/orgs/*/secrets", GH_GET | GH_POST,\n     gh_h_secrets, AUTH,'
           ' ON_IO_POOL, "org:read"}, /* a comment */\n')
    at = text.index("routes[] = {") + len("routes[] = {\n")
    routes = route_table(text[:at] + new + text[at:])
    assert missing_rows(routes) == [("GET", "/api/v1/orgs/*/secrets"),
                                    ("POST", "/api/v1/orgs/*/secrets")]


def test_matrix_is_complete():
    assert set(KNOWN_BUGS) <= {(m, p, k) for (m, p) in MATRIX for k in KINDS}
    for key, r in MATRIX.items():
        assert set(r["expect"]) == set(KINDS), key
        # Another org's resources: 404 or allowed, never a telling 403.
        if "/orgs/*" in key[1]:
            assert r["expect"]["other"] == 404, key


@pytest.fixture(scope="module")
def shared_world(ms):
    return World(ms)


# Cells the server still answers wrongly, each with the bug (strict: a fix turns the xfail
# into a failure, so the mark is removed with the fix).
# (method, route, kind) -> the bug, for cells the server answers wrongly: marked strict
# xfail, so that the fix turns them into failures and the mark goes with the fix. The
# first run found nine (keys scoped to org:read changing their owner's account; /metrics
# 403s not audited), fixed in b2cb572.
KNOWN_BUGS = {}

CELLS = [pytest.param(m, p, k, id=f"{m} {p} {k}",
                      marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(m, p, k)])]
                      if (m, p, k) in KNOWN_BUGS else [])
         for (m, p) in MATRIX for k in KINDS]


def body_for(r, w, who):
    b = r["body"]
    if b == "change-password":
        # The right current password: the key's is its owner's (A's admin).
        current = who.password if who else w.admin.password
        return {"current_password": current, "new_password": strong_password()}
    if b == "reauth":
        return {"password": who.password if who else w.admin.password}
    return b(w) if b else None


@pytest.mark.parametrize("method,route,kind", CELLS)
def test_cell(ms, shared_world, method, route, kind):
    r = MATRIX[(method, route)]
    w = World(ms) if r["mut"] else shared_world
    who, headers = w.caller(kind)
    ua = f"rbac-matrix/{uuid.uuid4().hex}"  # finds this very request in the audit log
    headers = {**headers, "User-Agent": ua}
    path = r["path"](w)
    verb = "GET" if method == "*" else method
    resp = call(ms, verb, path, headers, body_for(r, w, who))
    want = r["expect"][kind]
    if want == REAUTH:
        assert_error(resp, 403, "reauth_required")
        assert wait_audit(ms, "REAUTH_REQUIRED", user_agent=ua, path=path, status=403)
        return
    assert resp.status_code == want, (method, path, kind, resp.status_code, resp.text)
    if want == 401:
        assert_error(resp, 401)
        assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer")
    elif want == 403:
        assert_error(resp, 403)
        rows = wait_audit(ms, "PERMISSION_DENIED", user_agent=ua, path=path, status=403)
        assert rows, (method, path, kind, "403 not audited as PERMISSION_DENIED")
    elif want == 404:
        assert_error(resp, 404, code="not_found")


# -- dead credentials and HEAD, over every row -----------------------------------------------

@pytest.fixture(scope="module")
def dead(ms):
    """Credentials that were good once: revoked by logout-all, a revoked key, a token and a
    key of a deleted org, and garbage."""
    w = World(ms)
    out = {"garbage jwt": {"Authorization": "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln"},
           "garbage key": {"X-API-Key": "ak_" + "x" * 43}}
    u = new_actor(ms, prefix="mdead")
    old = dict(u.h)
    assert call(ms, "POST", "/api/v1/auth/logout-all", u.h).status_code == 204
    out["jwt after logout-all"] = old
    k = make_key(ms, w.admin.h, org_id=w.A)
    assert call(ms, "DELETE", f"{KEYS}/{k['id']}", w.admin.h).status_code == 204
    out["revoked key"] = key_h(k)
    g = new_actor(ms, prefix="mgone")
    G = create_org(ms, g.h)["id"]
    g.relogin(G)
    gk = make_key(ms, g.h, org_id=G)
    assert call(ms, "DELETE", f"{ORGS}/{G}", g.h).status_code == 204
    out["jwt of a deleted org"] = g.h
    out["key of a deleted org"] = key_h(gk)
    return w, out


@pytest.mark.parametrize("method,route", list(MATRIX), ids=[f"{m} {p}" for m, p in MATRIX])
def test_dead_credentials_are_401_on_every_row(ms, dead, method, route):
    w, creds = dead
    r = MATRIX[(method, route)]
    for name, h in creds.items():
        body = body_for(r, w, w.admin)
        resp = call(ms, "GET" if method == "*" else method, r["path"](w), h, body)
        assert resp.status_code == 401, (name, resp.status_code, resp.text)
        assert_error(resp, 401)
        assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer"), resp.headers


GET_ROWS = [(m, p) for m, p in MATRIX if m == "GET"]


@pytest.mark.parametrize("method,route", GET_ROWS, ids=[p for _, p in GET_ROWS])
def test_head_answers_as_get_for_every_kind(ms, shared_world, method, route):
    r = MATRIX[(method, route)]
    for kind in KINDS:
        _, headers = shared_world.caller(kind)
        resp = ms.head(r["path"](shared_world), headers=headers)
        assert resp.status_code == r["expect"][kind], (kind, resp.status_code)
        assert resp.content == b""


ID_ROWS = [(m, p) for m, p in MATRIX if "*" in p.split("/")]
ODD_IDS = ("x", "..%2F", "a" * 300, "%C3%A9", "*", "%00", "%2e%2e")
# Segments that are names a caller chooses, not ids: only what no name may be is odd there.
NAME_SEGMENTS = {"/api/v1/orgs/*/vault/*": {6}, "/api/v1/sso/providers/*": {5}}
ODD_NAMES = ("..%2F", "a" * 300, "%C3%A9", "*", "%00", "%2e%2e", ".hidden")


@pytest.mark.parametrize("method,route", ID_ROWS, ids=[f"{m} {p}" for m, p in ID_ROWS])
def test_odd_and_foreign_ids_are_404(ms, method, route):
    """Each id of a path, replaced by an id of nothing, a near miss, another case, garbage
    or another org's (the admin only): 404 for the operator and the admin (400 for NUL;
    a caller refused on the real path is refused everywhere and skipped),
    never a 2xx, 403 or 5xx. A fresh world per row: nothing may change."""
    w = World(ms)
    r = MATRIX[(method, route)]
    real = r["path"](w).split("/")
    tmpl = route.split("/")
    near = [w.A.upper(), w.A[:-1], w.A + "0", new_id(), w.B, w.other.id]
    for who in ("super", "admin"):
        if r["expect"][who] == 403:
            continue  # refused whatever the id (an operator's route): nothing to tell
        h = w.caller(who)[1]
        for i in [i for i, part in enumerate(tmpl) if part == "*"]:
            names = i in NAME_SEGMENTS.get(route, ())
            for odd in ODD_NAMES if names else ODD_IDS + tuple(near):
                if odd == real[i] or (who == "super" and odd in (w.B, w.other.id)):
                    continue
                path = "/".join(real[:i] + [odd] + real[i + 1:])
                resp = call(ms, method, path, h, body_for(r, w, w.admin))
                want = 400 if odd == "%00" else 404
                assert resp.status_code == want, (who, path, resp.status_code, resp.text)

"""Helpers shared by the RBAC suites (test_rbac_*.py): actors, org/role/member calls,
the route table read from src/api/dispatch.c, and a reference model of permissions.

Black-box like the rest of tests/integration: HTTP, plus reading the source's route
table so that a route added without a matrix row fails the suite."""
import re
import uuid

from conftest import ADMIN_PASSWORD, REPO, bearer, unique_name

ORGS = "/api/v1/orgs"
CHECK = "/api/v1/authz/check"
ME = "/api/v1/auth/me"
VERIFY = "/api/v1/auth/verify"
KEYS = "/api/v1/api-keys"
USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
PRIMARY = "/api/v1/auth/me/primary-org"
MY_INVITATIONS = "/api/v1/auth/me/invitations"

# Permissions the RBAC servers declare for their apps (config), beyond Gatehouse's own.
APP_PERMISSIONS = ("file:read", "file:write", "file:delete", "doc:read", "doc:write")
GH_RESOURCES = ("user", "org", "role", "apikey", "audit", "metrics")
GH_ACTIONS = ("read", "write", "delete", "admin")


# -- actors -----------------------------------------------------------------------------

class Actor:
    """A user with a password and an access token for one org (or a credential header)."""

    def __init__(self, server, user, org_id=None, tokens=None):
        self.server = server
        self.user = user
        self.id = user["id"]
        self.username = user["username"]
        self.password = user["password"]
        self.org_id = org_id
        self.tokens = tokens
        self.h = bearer(tokens["access_token"]) if tokens else {}

    def relogin(self, org_id=None):
        """A fresh token pair (for org_id when given); returns self."""
        self.tokens = login(self.server, self.username, self.password, org_id or self.org_id)
        self.h = bearer(self.tokens["access_token"])
        return self

    def __repr__(self):
        return f"Actor({self.username})"


def login(server, username, password, org_id=None, expect=200):
    body = {"username": username, "password": password}
    if org_id is not None:
        body["org_id"] = org_id
    r = server.post(LOGIN, body)
    if expect is not None:
        assert r.status_code == expect, (r.status_code, r.text)
    return r.json() if r.status_code == 200 else r


def new_actor(server, org_id=None, prefix="u"):
    """A freshly registered user logged in (to org_id when given)."""
    u = server.register(username=unique_name(prefix))
    a = Actor(server, u)
    a.org_id = org_id
    return a.relogin(org_id) if org_id else a.relogin()


def superadmin(server):
    u = {"id": None, "username": "admin", "password": ADMIN_PASSWORD}
    a = Actor(server, u)
    a.relogin()
    me = server.get(ME, headers=a.h).json()
    a.id = me["id"]
    a.user["id"] = me["id"]
    return a


# -- calls --------------------------------------------------------------------------------

def call(server, method, path, headers=None, body=None, params=None):
    kw = {"headers": dict(headers or {})}
    if body is not None:
        kw["json"] = body
    if params is not None:
        kw["params"] = params
    return server.request(method, path, **kw)


def ok(r, status):
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text)
    return r.json() if r.content else None


def create_org(server, headers, name=None, expect=201):
    r = call(server, "POST", ORGS, headers, {"name": name or unique_name("org")})
    return ok(r, expect)


def add_member(server, headers, org_id, invitee, role="member", expect=201):
    """Makes invitee (an Actor) a member of org_id with role as the caller (headers) may:
    a superadmin's add takes effect at once (201); anyone else's is an invitation (202)
    that invitee accepts here, and the member is returned as a 201 would show it. Another
    expect (403, 404, 422...) is the status of the add itself."""
    r = call(server, "POST", f"{ORGS}/{org_id}/members", headers,
             {"user_id": invitee.id, "role": role})
    if r.status_code == 202 and expect == 201:
        server.accept_invitation(invitee.h, org_id)
        return {"user_id": invitee.id, "username": invitee.username, "role": role}
    return ok(r, expect)


def set_member_role(server, headers, org_id, user_id, role, expect=200):
    r = call(server, "PATCH", f"{ORGS}/{org_id}/members/{user_id}", headers, {"role": role})
    return ok(r, expect)


def remove_member(server, headers, org_id, user_id, expect=204):
    r = call(server, "DELETE", f"{ORGS}/{org_id}/members/{user_id}", headers)
    return ok(r, expect)


def create_role(server, headers, org_id, permissions, name=None, expect=201):
    r = call(server, "POST", f"{ORGS}/{org_id}/roles", headers,
             {"name": name or unique_name("role"), "permissions": list(permissions)})
    return ok(r, expect)


def list_all(server, headers, path):
    """Every item of a paginated list (bounded: at most 50 pages)."""
    items, offset = [], 0
    for _ in range(50):
        r = call(server, "GET", path, headers, params={"limit": 1000, "offset": offset})
        page = ok(r, 200)
        items += page["items"]
        if page.get("next_offset") is None:
            return items
        offset = page["next_offset"]
    raise AssertionError(f"{path}: more than 50 pages")


def roles_by_name(server, headers, org_id):
    return {r["name"]: r for r in list_all(server, headers, f"{ORGS}/{org_id}/roles")}


def check(server, headers, permission, org_id=None, owner_id=None):
    """POST /authz/check; returns the parsed answer (asserting its shape)."""
    body = {"permission": permission}
    if org_id is not None:
        body["org_id"] = org_id
    if owner_id is not None:
        body["owner_id"] = owner_id
    r = call(server, "POST", CHECK, headers, body)
    out = ok(r, 200)
    assert isinstance(out.get("allowed"), bool), out
    assert isinstance(out.get("reason"), str) and out["reason"], out
    return out


def make_key(server, headers, scopes=None, org_id=None, expect=201):
    body = {"name": unique_name("k")}
    if scopes is not None:
        body["scopes"] = list(scopes)
    if org_id is not None:
        body["org_id"] = org_id
    r = call(server, "POST", KEYS, headers, body)
    return ok(r, expect)


def key_h(key):
    return {"X-API-Key": key["key"] if isinstance(key, dict) else key}


# -- the route table ---------------------------------------------------------------------

ROUTE_RE = re.compile(
    r'\{\s*"(?P<path>/[^"]*)"\s*,\s*(?P<methods>[A-Z_| 0-9]+?)\s*,\s*(?P<handler>gh_h_\w+)\s*,'
    r'\s*(?P<flags>[A-Z_| 0-9]+?)\s*,', re.S)


def route_table(text=None):
    """(method, path) for every route of src/api/dispatch.c's routes[] array (or of text).

    A route with ANY_METHOD (or methods 0) is listed once with method "*"; a route taking
    several methods is listed once per method. Path templates keep the table's "*"."""
    if text is None:
        text = (REPO / "src" / "api" / "dispatch.c").read_text()
    start = text.index("routes[] = {")
    end = text.index("};", start)
    # Drop comments, not a "/*" inside a string such as "/api/v1/api-keys/*".
    body = re.sub(r'("(?:[^"\\]|\\.)*")|/\*.*?\*/', lambda m: m.group(1) or " ",
                  text[start:end], flags=re.S)
    out = []
    for m in ROUTE_RE.finditer(body):
        methods = [x.strip() for x in m.group("methods").split("|")]
        flags = [x.strip() for x in m.group("flags").split("|")]
        if "ANY_METHOD" in flags or methods == ["0"]:
            out.append(("*", m.group("path")))
            continue
        for x in methods:
            assert x.startswith("GH_"), (x, m.group(0))
            out.append((x[3:], m.group("path")))
    rows = body.count('{"')
    assert out and len(ROUTE_RE.findall(body)) == rows, \
        f"dispatch.c routes[]: {rows} rows, {len(ROUTE_RE.findall(body))} parsed"
    return out


# -- the reference model -----------------------------------------------------------------

PART = re.compile(r"^(\*|[a-z0-9_.-]{1,64})$")


def split_perm(p):
    """(resource, action, own) or None for a malformed permission."""
    parts = p.split(":")
    if len(parts) == 3 and parts[2] == "own":
        res, act, own = parts[0], parts[1], True
    elif len(parts) == 2:
        res, act, own = parts[0], parts[1], False
    else:
        return None
    if not PART.match(res) or not PART.match(act):
        return None
    return res, act, own


def part_covers(g, w):
    return g == "*" or g == w


def covers(granted, wanted, owner_is_caller=False):
    """The model of one granted permission covering a wanted one (both concrete or not):
    every concrete permission wanted stands for is granted; an :own grant counts only
    when the resource is the caller's."""
    g, w = split_perm(granted), split_perm(wanted)
    if g is None or w is None:
        return False
    if g[2] and not owner_is_caller:
        return False
    if w[2]:
        return False  # checks ask for plain resource:action; ownership comes from owner_id
    return part_covers(g[0], w[0]) and part_covers(g[1], w[1])


def allows(perms, wanted, owner_is_caller=False):
    return any(covers(g, wanted, owner_is_caller) for g in perms)


def allows_grant(perms, wanted):
    """What a role author must hold to hand out wanted (a grant, ":own" or not): an
    unqualified grant covers its ":own" form, never the reverse."""
    w = split_perm(wanted)
    for granted in perms:
        g = split_perm(granted)
        if g and w and part_covers(g[0], w[0]) and part_covers(g[1], w[1]) and (not g[2] or w[2]):
            return True
    return False


def new_id():
    return str(uuid.uuid4())

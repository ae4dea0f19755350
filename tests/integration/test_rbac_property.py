"""RBAC property tests: seeded random sequences (3 seeds x 40 steps, each on a fresh
server) of member adds and removals, role changes, role creations, edits ("grants" and
"revokes"), deletions, org creations and deletions, API keys with random scopes, and
management requests by anyone (whose answer, 2xx/403/404/409, the model predicts);
after each step POST /api/v1/authz/check, asked with each user's long-lived token and
with the keys, must agree with a reference model written here (wildcards, admin = *:*,
non-members and unknown orgs denied, ":own" with owner_id, the declared-permission
catalog, key scopes intersected with the owner's role now).  Also wildcard and ":own"
matching through authz/check and /verify rules, and the catalog.

Reproduce a failure with its seed: the assertion message carries the seed and the steps."""
import random

import pytest

from conftest import Server, assert_error, bearer, unique_name
from rbac_support import (APP_PERMISSIONS, CHECK, KEYS, ME, ORGS, VERIFY, add_member, allows,
                          allows_grant, call, check, create_org, create_role, key_h, login,
                          new_actor, new_id, split_perm, superadmin)

SEEDS = (1, 7, 2026)
STEPS = 40
CHECKS_PER_STEP = 6
N_USERS = 6
ADMIN_PERMS = {"*:*"}
MEMBER_PERMS = {"file:read", "file:write", "org:read"}

# What custom roles are made of: app and Gatehouse permissions, wildcards, ":own" forms.
# org:admin (listed twice: drawn more often), role:* and org:* make delegated admins, who
# manage only within what they hold.
GRANTABLE = ("file:read", "file:write", "file:delete", "doc:read", "doc:write", "org:read",
             "role:read", "user:read", "file:*", "*:read", "doc:*", "*:write", "*:*",
             "file:read:own", "file:write:own", "file:*:own", "doc:write:own",
             "org:admin", "org:admin", "role:write", "role:delete", "role:*", "org:*")
# What checks ask about: known, wildcard and unknown permissions (the last ones never allowed).
WANTED = ("file:read", "file:write", "file:delete", "doc:read", "doc:write", "org:read",
          "org:write", "role:read", "user:read", "apikey:read", "audit:read", "file:*",
          "*:read", "*:*", "nosuch:read", "file:nosuch", "photo:write")


def catalog():
    own = {f"{r}:{a}" for r in ("user", "org", "role", "apikey", "audit", "metrics")
           for a in ("read", "write", "delete", "admin")}
    return own | set(APP_PERMISSIONS)


CATALOG = catalog()


def known(perm):
    """The catalog rule: a permission is known when it stands for a declared one."""
    p = split_perm(perm)
    if p is None:
        return False
    res, act, _ = p
    return any((res == "*" or res == c.split(":")[0]) and (act == "*" or act == c.split(":")[1])
               for c in CATALOG)


CONCRETE_ASKS = ("file:read", "file:write", "file:delete", "doc:read", "doc:write", "org:read")
# /verify rules, one path per permission: /p/file/read needs file:read, and so on.
RULES = "; ".join(f"* /p/{a.replace(':', '/')}/** {a}" for a in CONCRETE_ASKS)
SERVER_ENV = {"GATEHOUSE_AUTH_ALGORITHM": "ES256",
              "GATEHOUSE_AUTHZ_PERMISSIONS": " ".join(APP_PERMISSIONS),
              "GATEHOUSE_FORWARD_AUTH_RULES": RULES}


@pytest.fixture(scope="module")
def rs():
    """The server of the wildcard tests (the random sequences get one each)."""
    s = Server(env=SERVER_ENV)
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


# -- the reference model -------------------------------------------------------------------

class Org:
    def __init__(self, oid, name):
        self.id = oid
        self.name = name
        self.roles = {"admin": set(ADMIN_PERMS), "member": set(MEMBER_PERMS)}
        self.role_ids = {}
        self.members = {}  # user id -> role name

    def admins(self):
        return [u for u, r in self.members.items() if r == "admin"]

    def custom_roles(self):
        return [r for r in self.roles if r not in ("admin", "member")]


class Model:
    def __init__(self):
        self.orgs = {}
        self.gone = []  # ids of deleted orgs

    def allowed(self, uid, wanted, org_id, owner_id):
        org = self.orgs.get(org_id)
        if org is None or uid not in org.members or not known(wanted):
            return False
        return allows(org.roles[org.members[uid]], wanted, owner_id == uid)


class World:
    """The server side of the model: actors, the model, and a log of what happened."""

    def __init__(self, server, seed):
        self.s = server
        self.rng = random.Random(seed)
        self.seed = seed
        self.log = []
        self.outcomes = {True: 0, False: 0}
        self.reasons = set()
        self.model = Model()
        self.keys = []  # {"h", "uid", "org", "scopes" (None: unscoped), "alive"}
        self.root = superadmin(server)
        me = server.get(ME, headers=self.root.h).json()
        self.default_org = me["primary_org_id"]
        self.users = [new_actor(server, prefix=f"p{seed}_") for _ in range(N_USERS)]
        self.by_id = {u.id: u for u in self.users}
        # A fresh server: the default org holds the bootstrap admin and our users.
        d = Org(self.default_org, "default")
        for u in self.users:
            d.members[u.id] = "member"
        d.members[self.root.id] = "admin"
        self.model.orgs[d.id] = d
        for creator in self.users[:3]:
            self.new_org(creator)

    def fail(self, msg):
        tail = "\n".join(self.log[-15:])
        return f"seed {self.seed}: {msg}\nlast steps:\n{tail}"

    def role_list(self, org_id, who):
        r = call(self.s, "GET", f"{ORGS}/{org_id}/roles", who.h, params={"limit": 1000})
        assert r.status_code == 200, self.fail(f"list roles {r.status_code} {r.text}")
        return r.json()["items"]

    def actor(self, uid):
        return self.root if uid == self.root.id else self.by_id[uid]

    def an_admin(self, org):
        return self.actor(self.rng.choice(org.admins()))

    def expect(self, r, status, what):
        self.log.append(f"{what} -> {r.status_code}")
        assert r.status_code == status, self.fail(f"{what}: want {status}, got "
                                                  f"{r.status_code} {r.text}")

    # -- operations: each changes the server and the model alike -------------------------
    def new_org(self, creator):
        o = create_org(self.s, creator.h, unique_name("porg"))
        self.log.append(f"{creator.username} creates org {o['id']}")
        org = Org(o["id"], o["name"])
        org.members[creator.id] = "admin"
        org.role_ids = {r["name"]: r["id"] for r in self.role_list(org.id, creator)}
        self.model.orgs[org.id] = org

    def op_create_org(self):
        if len(self.model.orgs) < 6:
            self.new_org(self.rng.choice(self.users))

    def op_delete_org(self):
        orgs = [o for o in self.model.orgs.values() if o.id != self.default_org]
        if len(orgs) <= 2:
            return
        org = self.rng.choice(orgs)
        a = self.an_admin(org)
        self.expect(call(self.s, "DELETE", f"{ORGS}/{org.id}", a.h), 204,
                    f"{a.username} deletes org {org.id}")
        for uid in list(org.members):
            self.member_gone(org, uid)
        del self.model.orgs[org.id]
        self.model.gone.append(org.id)

    def op_add_member(self):
        org = self.pick_org()
        outside = [u for u in self.users if u.id not in org.members]
        if not outside:
            return
        u = self.rng.choice(outside)
        role = self.rng.choice(list(org.roles))
        a = self.an_admin(org)
        r = call(self.s, "POST", f"{ORGS}/{org.id}/members", a.h,
                 {"user_id": u.id, "role": role})
        self.expect(r, 202, f"{a.username} invites {u.username} to {org.id} as {role}")
        self.s.accept_invitation(u.h, org.id)
        self.log.append(f"{u.username} accepts")
        org.members[u.id] = role

    def op_set_role(self):
        org = self.pick_org()
        inside = [u for u in self.users if u.id in org.members]
        if not inside:
            return
        u = self.rng.choice(inside)
        role = self.rng.choice(list(org.roles))
        a = self.an_admin(org)
        last = org.members[u.id] == "admin" and role != "admin" and len(org.admins()) == 1
        r = call(self.s, "PATCH", f"{ORGS}/{org.id}/members/{u.id}", a.h, {"role": role})
        self.expect(r, 409 if last else 200,
                    f"{a.username} sets {u.username} in {org.id} to {role}")
        if not last:
            org.members[u.id] = role

    def op_remove_member(self):
        org = self.pick_org()
        inside = [u for u in self.users if u.id in org.members]
        if not inside:
            return
        u = self.rng.choice(inside)
        a = self.an_admin(org)
        last = org.members[u.id] == "admin" and len(org.admins()) == 1
        r = call(self.s, "DELETE", f"{ORGS}/{org.id}/members/{u.id}", a.h)
        self.expect(r, 409 if last else 204, f"{a.username} removes {u.username} from {org.id}")
        if not last:
            self.member_gone(org, u.id)

    def member_gone(self, org, uid):
        """uid leaves org: its API keys for org are revoked with the membership, and its
        access tokens for org end (its epoch there moves, issue 17), so it signs in again;
        a token for another org lives on."""
        del org.members[uid]
        for k in self.keys:
            if k["uid"] == uid and k["org"] == org.id:
                k["alive"] = False
        u = self.by_id[uid]
        if u.org_id in (org.id, None):  # None: its primary org's, which may be org
            u.org_id = None
            u.relogin()
            self.log.append(f"{u.username} signs in again")

    def op_make_key(self):
        if len(self.keys) >= 12:
            return
        u = self.rng.choice(self.users)
        org = self.model.orgs[self.rng.choice([o for o, x in self.model.orgs.items()
                                               if u.id in x.members])]
        scopes = None if self.rng.random() < 0.3 else \
            set(self.rng.sample(GRANTABLE, self.rng.randint(1, 3)))
        body = {"name": unique_name("pk"), "org_id": org.id}
        if scopes is not None:
            body["scopes"] = sorted(scopes)
        held = org.roles[org.members[u.id]]
        fits = scopes is None or all(allows_grant(held, x) for x in scopes)
        r = call(self.s, "POST", KEYS, u.h, body)
        self.expect(r, 201 if fits else 422,
                    f"{u.username} makes a key for {org.id} scopes {body.get('scopes')} "
                    f"holding {sorted(held)}")
        if fits:
            self.keys.append({"h": key_h(r.json()["key"]), "uid": u.id, "org": org.id,
                              "scopes": scopes, "alive": True, "name": body["name"]})
        else:
            assert r.json()["error"]["code"] == "invalid_scope", self.fail(r.text)

    def random_perms(self):
        return set(self.rng.sample(GRANTABLE, self.rng.randint(1, 4)))

    def op_create_role(self):
        org = self.pick_org()
        if len(org.custom_roles()) >= 4:
            return
        perms = self.random_perms()
        a = self.an_admin(org)
        name = unique_name("pr")
        r = call(self.s, "POST", f"{ORGS}/{org.id}/roles", a.h,
                 {"name": name, "permissions": sorted(perms)})
        self.expect(r, 201, f"{a.username} creates role {name} {sorted(perms)} in {org.id}")
        body = r.json()
        assert body["system"] is False and set(body["permissions"]) == perms, self.fail(body)
        org.roles[name] = perms
        org.role_ids[name] = body["id"]

    def edit_role(self, org, name, perms):
        a = self.an_admin(org)
        r = call(self.s, "PATCH", f"{ORGS}/{org.id}/roles/{org.role_ids[name]}", a.h,
                 {"permissions": sorted(perms)})
        self.expect(r, 200, f"{a.username} sets role {name} in {org.id} to {sorted(perms)}")
        assert set(r.json()["permissions"]) == perms, self.fail(r.text)
        org.roles[name] = set(perms)

    def editable(self, org):
        # The member role's permissions may change; admin is immutable (its own test).
        return org.custom_roles() + ["member"]

    def op_grant(self):
        org = self.pick_org()
        name = self.rng.choice(self.editable(org))
        self.edit_role(org, name, org.roles[name] | {self.rng.choice(GRANTABLE)})

    def op_revoke(self):
        org = self.pick_org()
        name = self.rng.choice(self.editable(org))
        perms = org.roles[name]
        if len(perms) > 1:
            self.edit_role(org, name, perms - {self.rng.choice(sorted(perms))})

    def op_delete_role(self):
        org = self.pick_org()
        if not org.custom_roles():
            return
        name = self.rng.choice(org.custom_roles())
        held = name in org.members.values()
        a = self.an_admin(org)
        self.expect(call(self.s, "DELETE", f"{ORGS}/{org.id}/roles/{org.role_ids[name]}", a.h),
                    409 if held else 204, f"{a.username} deletes role {name} in {org.id}")
        if not held:
            del org.roles[name]
            del org.role_ids[name]

    def pick_org(self):
        # The default org holds every user and their tokens' org: it is only checked.
        return self.rng.choice([o for o in self.model.orgs.values()
                                if o.id != self.default_org])

    # -- a management request by anyone: what it answers follows from the model --------
    def may(self, org, uid, perm):
        """None when uid is not a member (404), else whether its role covers perm."""
        if uid not in org.members:
            return None
        return allows_grant(org.roles[org.members[uid]], perm)

    def holds(self, org, uid, perms):
        return all(allows_grant(org.roles[org.members[uid]], p) for p in perms)

    def op_attempt(self):
        org = self.rng.choice(list(self.model.orgs.values()))
        if org.id == self.default_org:
            return
        u = self.rng.choice(self.users)
        kind = self.rng.choice(("add", "set", "remove", "create", "edit", "delete"))
        base = f"{ORGS}/{org.id}"
        role = self.rng.choice(list(org.roles))
        target = self.rng.choice(self.users)
        custom = org.custom_roles()
        if kind in ("add", "set"):
            need = "org:admin"
            if kind == "add":
                req = ("POST", f"{base}/members", {"user_id": target.id, "role": role})
            else:
                req = ("PATCH", f"{base}/members/{target.id}", {"role": role})
        elif kind == "remove":
            need = "org:admin"
            req = ("DELETE", f"{base}/members/{target.id}", None)
        elif kind == "create":
            need = "role:write"
            perms = self.random_perms()
            req = ("POST", f"{base}/roles", {"name": unique_name("pa"),
                                             "permissions": sorted(perms)})
        else:
            role = self.rng.choice(custom + ["member", "admin"])  # system roles too
            need = "role:write" if kind == "edit" else "role:delete"
            perms = self.random_perms()
            req = ("PATCH", f"{base}/roles/{org.role_ids[role]}",
                   {"permissions": sorted(perms)}) if kind == "edit" else \
                ("DELETE", f"{base}/roles/{org.role_ids[role]}", None)
        may = self.may(org, u.id, need)
        leaving = kind == "remove" and target.id == u.id
        if may is None:
            want = 404
        elif leaving:
            want = 409 if org.members[u.id] == "admin" and len(org.admins()) == 1 else 204
        elif not may:
            want = 403
        elif kind == "add":
            # An invitation, whether the target is a member already or not (no telling).
            want = 403 if not self.holds(org, u.id, org.roles[role]) else 202
        elif kind in ("set", "remove") and target.id not in org.members:
            want = 404
        elif kind in ("set", "remove") and \
                not self.holds(org, u.id, org.roles[org.members[target.id]]):
            want = 403  # touching a member needs holding what its role grants now
        elif kind == "set":
            last = (org.members[target.id] == "admin" and role != "admin"
                    and len(org.admins()) == 1)
            want = (403 if not self.holds(org, u.id, org.roles[role]) else
                    409 if last else 200)
        elif kind == "remove":
            last = org.members[target.id] == "admin" and len(org.admins()) == 1
            want = 409 if last else 204
        elif kind == "create":
            want = 201 if self.holds(org, u.id, perms) else 403
        elif role == "admin" or (kind == "delete" and role == "member"):
            want = 409  # immutable: admin's permissions, and both system roles' existence
        elif kind == "edit":
            ok_perms = self.holds(org, u.id, perms) and self.holds(org, u.id, org.roles[role])
            want = 200 if ok_perms else 403
        else:
            want = 409 if role in org.members.values() else 204
        r = call(self.s, req[0], req[1], u.h, req[2])
        self.expect(r, want, f"attempt by {u.username} ({org.members.get(u.id, 'outsider')}): "
                             f"{req[0]} {req[1]} {req[2]}")
        if want == 202 and target.id not in org.members:
            self.s.accept_invitation(target.h, org.id)
            self.log.append(f"{target.username} accepts")
            org.members[target.id] = role
        elif want == 200 and kind == "set":
            org.members[target.id] = role
        elif want == 204 and kind == "remove":
            self.member_gone(org, target.id)
        elif want == 201:
            org.roles[req[2]["name"]] = perms
            org.role_ids[req[2]["name"]] = r.json()["id"]
        elif want == 200:
            org.roles[role] = perms
        elif want == 204:
            del org.roles[role]
            del org.role_ids[role]

    OPS = (("op_make_key", 3), ("op_attempt", 6), ("op_add_member", 5), ("op_set_role", 4),
           ("op_remove_member", 3), ("op_create_role", 3), ("op_grant", 4), ("op_revoke", 3),
           ("op_delete_role", 2), ("op_create_org", 1), ("op_delete_org", 1))

    def step(self):
        names = [n for n, _ in self.OPS]
        weights = [w for _, w in self.OPS]
        getattr(self, self.rng.choices(names, weights)[0])()

    # -- checks -----------------------------------------------------------------------
    def check_sample(self, n=CHECKS_PER_STEP):
        orgs = list(self.model.orgs) + self.model.gone[-2:] + [new_id()]
        for _ in range(n):
            u = self.rng.choice(self.users)
            wanted = self.rng.choice(WANTED)
            org_id = self.rng.choice(orgs)
            owner = self.rng.choice([None, u.id, self.rng.choice(self.users).id])
            self.assert_check(u, wanted, org_id, owner)
        # The operator: every declared permission in every existing org, nothing else.
        wanted, org_id = self.rng.choice(WANTED), self.rng.choice(orgs)
        got = check(self.s, self.root.h, wanted, org_id=org_id)
        want = known(wanted) and org_id in self.model.orgs
        assert got["allowed"] is want, self.fail(f"superadmin {wanted} {org_id}: {got}")
        for _ in range(min(2, len(self.keys))):
            self.assert_key_check(self.rng.choice(self.keys), self.rng.choice(WANTED),
                                  self.rng.choice([None, None, self.rng.choice(orgs)]),
                                  self.rng.choice([None, self.rng.choice(self.users).id]))

    def assert_key_check(self, k, wanted, org_id, owner):
        """Through an API key: the intersection of its scopes with its owner's role now."""
        body = {"permission": wanted}
        if org_id is not None:
            body["org_id"] = org_id
        if owner is not None:
            body["owner_id"] = owner
        r = call(self.s, "POST", CHECK, k["h"], body)
        ctx = f"key {k['name']} of {k['uid']} for {k['org']} scopes {k['scopes']}: {body}"
        if not k["alive"]:
            assert r.status_code == 401, self.fail(f"{ctx}: revoked key answered {r.text}")
            return
        assert r.status_code == 200, self.fail(f"{ctx}: {r.status_code} {r.text}")
        mine = owner == k["uid"]
        if org_id not in (None, k["org"]):
            want = False
        else:
            want = self.model.allowed(k["uid"], wanted, k["org"], owner) and \
                (k["scopes"] is None or allows(k["scopes"], wanted, mine))
        org = self.model.orgs[k["org"]]
        got = r.json()["allowed"]
        assert got is want, self.fail(f"{ctx}: role {sorted(org.roles[org.members[k['uid']]])}"
                                      f" model {want}, server {r.json()}")
        self.outcomes[want] += 1

    def assert_check(self, u, wanted, org_id, owner):
        want = self.model.allowed(u.id, wanted, org_id, owner)
        got = check(self.s, u.h, wanted, org_id=org_id, owner_id=owner)
        org = self.model.orgs.get(org_id)
        ctx = (f"check {u.username} {wanted} org={org_id} owner="
               f"{'self' if owner == u.id else owner} role="
               f"{org.members.get(u.id) if org else 'no org'} perms="
               f"{sorted(org.roles[org.members[u.id]]) if org and u.id in org.members else '-'}")
        assert got["allowed"] is want, self.fail(f"{ctx}: model {want}, server {got}")
        self.outcomes[want] += 1
        self.reasons.add(got["reason"])


@pytest.mark.parametrize("seed", SEEDS)
def test_random_sequences_agree_with_model(make_server, seed):
    w = World(make_server(SERVER_ENV), seed)
    w.check_sample(12)
    for _ in range(STEPS):
        w.step()
        w.check_sample()
    # Finally every user x every org x a few permissions, exhaustively.
    for u in w.users:
        for org_id in list(w.model.orgs) + w.model.gone:
            for wanted in ("file:read", "org:read", "doc:write", "role:read"):
                w.assert_check(u, wanted, org_id, None)
    # The run was not vacuous: state changed, and both answers and several reasons came up.
    changes = [x for x in w.log if " -> 20" in x or " -> 409" in x]
    assert len(changes) >= STEPS // 2, w.log
    assert min(w.outcomes.values()) >= 20, w.outcomes
    assert {"granted", "not_granted", "not_a_member", "unknown_permission"} <= w.reasons, w.reasons
    print(f"seed {seed}: {len(changes)} changes, checks {w.outcomes}, reasons {sorted(w.reasons)}")


# -- wildcard and ":own" matching through the API ------------------------------------------

GRANTS = ("file:read", "file:*", "*:read", "*:*", "file:read:own", "file:*:own", "*:write:own",
          "doc:write")
ASKS = ("file:read", "file:write", "file:delete", "doc:read", "doc:write", "org:read",
        "file:*", "*:read", "*:*")


@pytest.fixture(scope="module")
def one_perm_users(rs):
    """One org; for each single grant, a user whose custom role holds only it."""
    owner = new_actor(rs, prefix="wo")
    org = create_org(rs, owner.h)
    users = {}
    for g in GRANTS:
        role = create_role(rs, owner.h, org["id"], [g])
        u = new_actor(rs, prefix="wu")
        add_member(rs, owner.h, org["id"], u, role["name"])
        users[g] = u
    return org["id"], users, owner


@pytest.mark.parametrize("grant", GRANTS)
def test_wildcard_matching_through_api(rs, one_perm_users, grant):
    org_id, users, owner = one_perm_users
    u = users[grant]
    for ask in ASKS:
        for who, owner_id in (("none", None), ("self", u.id), ("other", owner.id)):
            want = known(ask) and allows({grant}, ask, owner_id == u.id)
            got = check(rs, u.h, ask, org_id=org_id, owner_id=owner_id)
            assert got["allowed"] is want, (grant, ask, who, got)


@pytest.mark.parametrize("grant", GRANTS)
def test_wildcard_matching_in_verify_rules(rs, one_perm_users, grant):
    """/verify's route rules decide with the same code: a token for the org, each rule's
    permission against the single grant (":own" never counts: a route has no owner)."""
    org_id, users, _ = one_perm_users
    u = users[grant]
    tok = login(rs, u.username, u.password, org_id=org_id)
    for ask in CONCRETE_ASKS:
        r = rs.get(VERIFY, headers={**bearer(tok["access_token"]),
                                    "X-Forwarded-Method": "GET",
                                    "X-Forwarded-Uri": f"/p/{ask.replace(':', '/')}/x",
                                    "X-Forwarded-Host": "app.example.test"})
        want = 200 if allows({grant}, ask) else 403
        assert r.status_code == want, (grant, ask, r.status_code, r.text)


def test_specific_grant_never_covers_wildcard_ask(rs, one_perm_users):
    org_id, users, _ = one_perm_users
    u = users["file:read"]
    for ask in ("file:*", "*:read", "*:*"):
        assert check(rs, u.h, ask, org_id=org_id)["allowed"] is False, ask


def test_check_defaults_to_token_org(rs):
    owner = new_actor(rs, prefix="td")
    org = create_org(rs, owner.h)
    role = create_role(rs, owner.h, org["id"], ["doc:write"])
    u = new_actor(rs, prefix="tdu")
    add_member(rs, owner.h, org["id"], u, role["name"])
    # The token of the default org: the member role there has no doc:write.
    assert check(rs, u.h, "doc:write")["allowed"] is False
    assert check(rs, u.h, "doc:write", org_id=org["id"])["allowed"] is True
    u.relogin(org["id"])
    assert check(rs, u.h, "doc:write")["allowed"] is True
    assert check(rs, u.h, "file:read")["allowed"] is False


def test_unknown_permissions_denied_even_for_admin(rs):
    a = new_actor(rs, prefix="ua")
    org = create_org(rs, a.h)
    for perm in ("nosuch:read", "file:frobnicate", "*:frobnicate", "nosuch:*"):
        got = check(rs, a.h, perm, org_id=org["id"])
        assert got["allowed"] is False, (perm, got)
    for perm in ("file:read", "org:write", "role:delete", "*:*", "file:*"):
        assert check(rs, a.h, perm, org_id=org["id"])["allowed"] is True, perm


@pytest.mark.parametrize("perm", ["nosuch:read", "file:frobnicate", "nosuch:*", "*:frobnicate"])
def test_unknown_permissions_refused_in_roles(rs, perm):
    a = new_actor(rs, prefix="ur")
    org = create_org(rs, a.h)
    r = call(rs, "POST", f"{ORGS}/{org['id']}/roles", a.h,
             {"name": unique_name("r"), "permissions": ["file:read", perm]})
    err = assert_error(r, 422, code="invalid_value")
    assert err.get("details") == {"field": "permissions", "permission": perm}, err
    role = create_role(rs, a.h, org["id"], ["file:read"])
    r = call(rs, "PATCH", f"{ORGS}/{org['id']}/roles/{role['id']}", a.h,
             {"permissions": [perm, "doc:read"]})
    err = assert_error(r, 422, code="invalid_value")
    assert err.get("details") == {"field": "permissions", "permission": perm}, err
    roles = {x["id"]: x for x in call(rs, "GET", f"{ORGS}/{org['id']}/roles", a.h).json()["items"]}
    assert roles[role["id"]]["permissions"] == ["file:read"]


def test_declared_permission_becomes_grantable_and_checkable(rs):
    """A permission declared through the API is known at once: grantable and checkable."""
    root = superadmin(rs)
    perm = f"{unique_name('app')}:run"
    a = new_actor(rs, prefix="dp")
    org = create_org(rs, a.h)
    assert check(rs, a.h, perm, org_id=org["id"])["reason"] == "unknown_permission"
    r = call(rs, "POST", f"{ORGS}/{org['id']}/roles", a.h,
             {"name": unique_name("r"), "permissions": [perm]})
    assert r.status_code == 422, r.text
    assert call(rs, "POST", "/api/v1/permissions", root.h, {"name": perm}).status_code == 201
    role = create_role(rs, a.h, org["id"], [perm])
    u = new_actor(rs, prefix="dpu")
    add_member(rs, a.h, org["id"], u, role["name"])
    got = check(rs, u.h, perm, org_id=org["id"])
    assert got == {"allowed": True, "reason": "granted"}, got
    assert check(rs, a.h, perm.split(":")[0] + ":*", org_id=org["id"])["allowed"] is True

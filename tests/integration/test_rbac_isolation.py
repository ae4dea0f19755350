"""Tenant isolation: no request of one org sees or changes another org's org record,
members, roles or API keys (another org's things answer 404, exactly like things that do
not exist); a token cannot be switched into an org its user is not in; demotion, removal
and org deletion take effect on the very next /verify and protected request, for cached
tokens, refresh tokens and API keys alike."""
import concurrent.futures
import time

import pytest
import requests

from conftest import Server, assert_error, bearer, unique_name, wait_audit
from rbac_support import (APP_PERMISSIONS, CHECK, KEYS, ME, ORGS, PRIMARY, REFRESH, USERS,
                          VERIFY, add_member, call, check, create_org, create_role, key_h,
                          list_all, login, make_key, new_actor, new_id, ok, superadmin)

RULES = ("* /admin/** org:write; "
         "GET /files/** file:read; "
         "* /docs/** doc:write; "
         "* /** authenticated")


@pytest.fixture(scope="module")
def iso():
    s = Server(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256",
                    "GATEHOUSE_AUTHZ_PERMISSIONS": " ".join(APP_PERMISSIONS),
                    "GATEHOUSE_FORWARD_AUTH_RULES": RULES})
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


class Tenants:
    """Two orgs: A (admin a, member m, custom-role holder c) and B (admin b, member n)."""

    def __init__(self, s):
        self.s = s
        self.a = new_actor(s, prefix="ia")
        self.b = new_actor(s, prefix="ib")
        self.A = create_org(s, self.a.h, unique_name("orgA"))
        self.B = create_org(s, self.b.h, unique_name("orgB"))
        self.a.relogin(self.A["id"])
        self.b.relogin(self.B["id"])
        self.m = new_actor(s, prefix="im")
        self.n = new_actor(s, prefix="in")
        self.c = new_actor(s, prefix="ic")
        self.role_a = create_role(s, self.a.h, self.A["id"], ["doc:write", "org:read"])
        self.role_b = create_role(s, self.b.h, self.B["id"], ["doc:read"])
        add_member(s, self.a.h, self.A["id"], self.m, "member")
        add_member(s, self.a.h, self.A["id"], self.c, self.role_a["name"])
        add_member(s, self.b.h, self.B["id"], self.n, "member")
        self.m.relogin(self.A["id"])
        self.c.relogin(self.A["id"])
        self.n.relogin(self.B["id"])
        self.key_a = make_key(s, self.a.h, org_id=self.A["id"])

    def snapshot_A(self):
        """What org A looks like to its admin: the org, its members, its roles."""
        s, h, oid = self.s, self.a.h, self.A["id"]
        org = ok(call(s, "GET", f"{ORGS}/{oid}", h), 200)
        members = sorted((x["user_id"], x["role"]) for x in list_all(s, h, f"{ORGS}/{oid}/members"))
        roles = sorted((x["id"], x["name"], tuple(sorted(x["permissions"])))
                       for x in list_all(s, h, f"{ORGS}/{oid}/roles"))
        return org, members, roles


@pytest.fixture
def t(iso):
    return Tenants(iso)


def assert_404(r):
    assert_error(r, 404, code="not_found")


def fwd(uri, method="GET"):
    return {"X-Forwarded-Method": method, "X-Forwarded-Uri": uri,
            "X-Forwarded-Host": "app.example.test", "X-Forwarded-Proto": "https"}


def verify(s, headers, uri=None, method="GET"):
    h = dict(headers)
    if uri is not None:
        h.update(fwd(uri, method))
    return s.get(VERIFY, headers=h)


# -- another org's things are 404, and stay unchanged -------------------------------------------

def foreign_requests(t):
    """Every request org B's admin (and API key) could aim at org A's things."""
    A, uid_m, rid = t.A["id"], t.m.id, t.role_a["id"]
    return [
        ("GET", f"{ORGS}/{A}", None),
        ("PATCH", f"{ORGS}/{A}", {"name": unique_name("stolen")}),
        ("DELETE", f"{ORGS}/{A}", None),
        ("GET", f"{ORGS}/{A}/members", None),
        ("POST", f"{ORGS}/{A}/members", {"user_id": t.b.id, "role": "admin"}),
        ("POST", f"{ORGS}/{A}/members", {"user_id": t.n.id, "role": "member"}),
        ("PATCH", f"{ORGS}/{A}/members/{uid_m}", {"role": "admin"}),
        ("PATCH", f"{ORGS}/{A}/members/{t.a.id}", {"role": "member"}),
        ("DELETE", f"{ORGS}/{A}/members/{uid_m}", None),
        ("DELETE", f"{ORGS}/{A}/members/{t.a.id}", None),
        ("GET", f"{ORGS}/{A}/roles", None),
        ("POST", f"{ORGS}/{A}/roles", {"name": unique_name("r"), "permissions": ["file:read"]}),
        ("PATCH", f"{ORGS}/{A}/roles/{rid}", {"permissions": ["*:*"]}),
        ("DELETE", f"{ORGS}/{A}/roles/{rid}", None),
    ]


def test_other_orgs_things_are_404_and_unchanged(t):
    before = t.snapshot_A()
    key_b = make_key(t.s, t.b.h, org_id=t.B["id"])
    for who, h in (("admin b", t.b.h), ("member n", t.n.h), ("key of b", key_h(key_b))):
        for method, path, body in foreign_requests(t):
            r = call(t.s, method, path, h, body)
            assert r.status_code == 404, (who, method, path, r.status_code, r.text)
            assert_404(r)
    assert t.snapshot_A() == before


def test_foreign_and_unknown_ids_answer_alike(t):
    """404 bodies for another org's ids equal those for ids that never existed."""
    for method, path, body in foreign_requests(t):
        fake = path.replace(t.A["id"], new_id()).replace(t.m.id, new_id())
        fake = fake.replace(t.role_a["id"], new_id())
        r1 = call(t.s, method, path, t.b.h, body)
        r2 = call(t.s, method, fake, t.b.h, body)
        e1, e2 = r1.json()["error"], r2.json()["error"]
        assert (r1.status_code, e1["code"], e1["message"]) == \
            (r2.status_code, e2["code"], e2["message"]), (method, path, r1.text, r2.text)


def test_ids_of_one_org_do_not_work_through_another(t):
    """A's role id under B's path, B's member under A's path: 404, even for admins."""
    s, A, B, ra, rb = t.s, t.A["id"], t.B["id"], t.role_a["id"], t.role_b["id"]
    widen = {"permissions": ["*:*"]}
    for r in (
        call(s, "PATCH", f"{ORGS}/{B}/roles/{ra}", t.b.h, widen),
        call(s, "DELETE", f"{ORGS}/{B}/roles/{ra}", t.b.h),
        call(s, "PATCH", f"{ORGS}/{A}/roles/{rb}", t.a.h, widen),
        call(s, "DELETE", f"{ORGS}/{A}/roles/{rb}", t.a.h),
        call(s, "PATCH", f"{ORGS}/{A}/members/{t.n.id}", t.a.h, {"role": "admin"}),
        call(s, "DELETE", f"{ORGS}/{A}/members/{t.n.id}", t.a.h),
        call(s, "PATCH", f"{ORGS}/{B}/members/{t.m.id}", t.b.h, {"role": "admin"}),
    ):
        assert_404(r)
    # B's role is unchanged.
    roles = {x["id"]: x for x in list_all(s, t.b.h, f"{ORGS}/{t.B['id']}/roles")}
    assert roles[t.role_b["id"]]["permissions"] == ["doc:read"]


def test_role_names_of_another_org_are_unknown(t):
    """Adding to A with the name of B's custom role: that role does not exist in A."""
    u = new_actor(t.s, prefix="irn")
    r = call(t.s, "POST", f"{ORGS}/{t.A['id']}/members", t.a.h,
             {"user_id": u.id, "role": t.role_b["name"]})
    assert r.status_code in (404, 422), r.text
    assert check(t.s, u.h, "doc:read", org_id=t.A["id"])["allowed"] is False


def test_org_list_shows_only_own_orgs(t):
    ids = {o["id"] for o in list_all(t.s, t.b.h, ORGS)}
    assert t.B["id"] in ids and t.A["id"] not in ids
    ids = {o["id"] for o in list_all(t.s, t.m.h, ORGS)}
    assert t.A["id"] in ids and t.B["id"] not in ids
    me = ok(call(t.s, "GET", ME, t.b.h), 200)
    assert {o["id"] for o in me["orgs"]} >= {t.B["id"]}
    assert t.A["id"] not in {o["id"] for o in me["orgs"]}


def test_member_lists_show_only_that_orgs_members(t):
    got = {x["user_id"] for x in list_all(t.s, t.a.h, f"{ORGS}/{t.A['id']}/members")}
    assert got == {t.a.id, t.m.id, t.c.id}
    got = {x["user_id"] for x in list_all(t.s, t.b.h, f"{ORGS}/{t.B['id']}/members")}
    assert got == {t.b.id, t.n.id}


def test_api_keys_stay_with_their_owner_and_org(t):
    s = t.s
    # b cannot make a key for A, nor see or revoke a's keys.
    r = call(s, "POST", KEYS, t.b.h, {"name": unique_name("k"), "org_id": t.A["id"]})
    assert_404(r)
    ids = {k["id"] for k in list_all(s, t.b.h, KEYS)}
    assert t.key_a["id"] not in ids
    assert_404(call(s, "DELETE", f"{KEYS}/{t.key_a['id']}", t.b.h))
    assert verify(s, key_h(t.key_a)).status_code == 200
    # a's key acts in A only: B's things are 404 to it, its identity is A.
    r = verify(s, key_h(t.key_a))
    assert r.headers["X-Auth-Org-Id"] == t.A["id"]
    assert_404(call(s, "GET", f"{ORGS}/{t.B['id']}", key_h(t.key_a)))
    assert check(s, key_h(t.key_a), "org:read", org_id=t.B["id"])["allowed"] is False


def test_key_cannot_be_aimed_at_another_org_by_its_owner(t):
    """A key made for A cannot act in the default org, even though its owner is there."""
    r = call(t.s, "GET", ME, key_h(t.key_a))
    assert r.status_code == 200
    got = check(t.s, key_h(t.key_a), "file:read", org_id=t.B["id"])
    assert got["allowed"] is False


def test_users_admin_api_does_not_cross_orgs(t):
    """An org admin (whose *:* covers user:*) is no operator: the users API answers it no
    more than its own org's users, and nothing of another org's."""
    s = t.s
    r = call(s, "GET", USERS, t.b.h)
    if r.status_code == 200:
        seen = {u["id"] for u in list_all(s, t.b.h, USERS)}
        assert t.a.id not in seen and t.m.id not in seen and t.c.id not in seen
    else:
        assert r.status_code in (403, 404), r.text
    for method, body in (("GET", None), ("PATCH", {"disabled": True}), ("DELETE", None)):
        r = call(s, method, f"{USERS}/{t.m.id}", t.b.h, body)
        assert r.status_code in (403, 404), (method, r.status_code, r.text)
    # m is untouched.
    assert verify(s, t.m.h).status_code == 200


def test_changes_in_an_org_are_audited_in_that_org(t):
    """A's admin acting with a token of the default org: the audit rows are A's."""
    s, A = t.s, t.A["id"]
    tok = login(s, t.a.username, t.a.password)  # the default org's token
    h = bearer(tok["access_token"])
    u = new_actor(s, prefix="iau")
    add_member(s, h, A, u, "member")
    role = create_role(s, h, A, ["file:read"])
    ok(call(s, "PATCH", f"{ORGS}/{A}/members/{u.id}", h, {"role": role["name"]}), 200)
    ok(call(s, "DELETE", f"{ORGS}/{A}/members/{u.id}", h), 204)
    def about_u():
        rows = wait_audit(s, "MEMBERSHIP_CHANGE", user_id=t.a.id)
        return [r for r in rows if u.id in (r["metadata"] or "")]
    rows = poll(lambda: len(about_u()) == 2 and about_u())
    assert rows and {r["org_id"] for r in rows} == {A}, rows
    # The add was an invitation (by the admin) and its acceptance (by u): both A's too.
    for action, who in (("MEMBER_INVITED", t.a.id), ("INVITATION_ACCEPTED", u.id)):
        rows = wait_audit(s, action, user_id=who)
        assert rows and {r["org_id"] for r in rows} == {A}, (action, rows)
    rows = wait_audit(s, "ROLE_CHANGE", user_id=t.a.id)
    assert rows and {r["org_id"] for r in rows} == {A}, rows


def test_denials_in_an_org_are_audited_in_that_org(t):
    s, A = t.s, t.A["id"]
    tok = login(s, t.m.username, t.m.password)  # m is a plain member of A; default token
    h = bearer(tok["access_token"])
    assert_error(call(s, "PATCH", f"{ORGS}/{A}", h, {"name": unique_name("x")}), 403)
    rows = wait_audit(s, "PERMISSION_DENIED", user_id=t.m.id, path=f"{ORGS}/{A}")
    assert rows and rows[-1]["org_id"] == A, rows


# -- token org switching ----------------------------------------------------------------------

def test_login_into_foreign_or_unknown_org_is_404(t):
    r1 = login(t.s, t.b.username, t.b.password, org_id=t.A["id"], expect=None)
    r2 = login(t.s, t.b.username, t.b.password, org_id=new_id(), expect=None)
    for r in (r1, r2):
        assert_404(r)
    assert r1.json()["error"]["message"] == r2.json()["error"]["message"]


def test_login_into_own_org_scopes_the_token(t):
    tok = login(t.s, t.c.username, t.c.password, org_id=t.A["id"])
    h = bearer(tok["access_token"])
    r = verify(t.s, h)
    assert r.status_code == 200
    assert r.headers["X-Auth-Org-Id"] == t.A["id"]
    assert r.headers["X-Auth-Roles"] == t.role_a["name"]
    assert verify(t.s, h, "/docs/x", "POST").status_code == 200
    assert verify(t.s, h, "/files/x").status_code == 403


def test_refresh_cannot_switch_into_foreign_org(t):
    """A foreign or unknown org_id on refresh: 404 alike, and the refresh token is not
    spent by the refusal (it was only looked at)."""
    tok = login(t.s, t.b.username, t.b.password)
    bodies = []
    for org in (t.A["id"], new_id()):
        r = t.s.post(REFRESH, {"refresh_token": tok["refresh_token"], "org_id": org})
        assert_404(r)
        bodies.append(r.json()["error"]["message"])
    assert bodies[0] == bodies[1]
    r = t.s.post(REFRESH, {"refresh_token": tok["refresh_token"], "org_id": t.B["id"]})
    assert r.status_code == 200, r.text
    h = bearer(r.json()["access_token"])
    assert verify(t.s, h).headers["X-Auth-Org-Id"] == t.B["id"]
    # And back into the default org with the next one: the family goes on.
    default = ok(call(t.s, "GET", ME, h), 200)["primary_org_id"]
    r = t.s.post(REFRESH, {"refresh_token": r.json()["refresh_token"], "org_id": default})
    assert r.status_code == 200, r.text
    assert verify(t.s, bearer(r.json()["access_token"])).headers["X-Auth-Org-Id"] == default


def test_refresh_into_an_org_left_is_404(t):
    s, A = t.s, t.A["id"]
    tok = login(s, t.c.username, t.c.password)  # the default org's
    ok(call(s, "DELETE", f"{ORGS}/{A}/members/{t.c.id}", t.c.h), 204)  # c leaves A
    assert_404(s.post(REFRESH, {"refresh_token": tok["refresh_token"], "org_id": A}))
    assert_404(login(s, t.c.username, t.c.password, org_id=A, expect=None))


def test_primary_org_must_be_own(t):
    s = t.s
    assert_404(call(s, "PUT", PRIMARY, t.b.h, {"org_id": t.A["id"]}))
    assert_404(call(s, "PUT", PRIMARY, t.b.h, {"org_id": new_id()}))
    assert ok(call(s, "GET", ME, t.b.h), 200)["primary_org_id"] != t.A["id"]
    r = call(s, "PUT", PRIMARY, t.n.h, {"org_id": t.B["id"]})
    assert r.status_code == 204, r.text
    tok = login(s, t.n.username, t.n.password)
    assert verify(s, bearer(tok["access_token"])).headers["X-Auth-Org-Id"] == t.B["id"]


def test_forged_org_in_body_is_ignored(t):
    """Handlers take the org from the identity and the path, never from a body field."""
    s = t.s
    r = call(s, "POST", CHECK, t.b.h, {"permission": "org:write", "org_id": t.A["id"]})
    assert ok(r, 200)["allowed"] is False
    r = call(s, "POST", f"{ORGS}/{t.B['id']}/roles", t.b.h,
             {"name": unique_name("r"), "permissions": ["doc:read"], "org_id": t.A["id"]})
    assert r.status_code in (201, 400), r.text
    ids = {x["id"] for x in list_all(s, t.a.h, f"{ORGS}/{t.A['id']}/roles")}
    if r.status_code == 201:
        assert r.json()["id"] not in ids


# -- demotion, removal and deletion take effect at once ---------------------------------------

def warm(s, h, uri=None, method="GET"):
    """Use a credential twice so that any cache holds it."""
    for _ in range(2):
        assert verify(s, h, uri, method).status_code == 200


def test_demotion_reaches_cached_token_and_key(t):
    s, A = t.s, t.A["id"]
    ok(call(s, "PATCH", f"{ORGS}/{A}/members/{t.m.id}", t.a.h, {"role": "admin"}), 200)
    t.m.relogin(A)
    key = make_key(s, t.m.h, org_id=A)
    for h in (t.m.h, key_h(key)):
        warm(s, h, "/admin/x", "POST")
        ok(call(s, "PATCH", f"{ORGS}/{A}", h, {"name": unique_name("ren")}), 200)
    ok(call(s, "PATCH", f"{ORGS}/{A}/members/{t.m.id}", t.a.h, {"role": "member"}), 200)
    for h in (t.m.h, key_h(key)):
        assert verify(s, h, "/admin/x", "POST").status_code == 403
        assert_error(call(s, "PATCH", f"{ORGS}/{A}", h, {"name": unique_name("ren")}), 403,
                     code="forbidden")
        assert check(s, h, "org:write")["allowed"] is False
        assert check(s, h, "file:read")["allowed"] is True
        assert verify(s, h, "/files/x").status_code == 200
    # The token's roles reflect the change too.
    assert verify(s, t.m.h).headers["X-Auth-Roles"] == "member"


@pytest.mark.parametrize("via", ["verify", "authz/check", "route"])
def test_no_stale_answer_after_a_demotion_returns(t, via):
    """Requests hammering with a cached token while the admin demotes: every request sent
    after the demotion's answer arrived is refused (no stale cache), through /verify with
    a rule, authz/check, and a route needing role:read."""
    s, A = t.s, t.A["id"]
    ok(call(s, "PATCH", f"{ORGS}/{A}/members/{t.m.id}", t.a.h, {"role": "admin"}), 200)
    t.m.relogin(A)
    warm(s, t.m.h, "/admin/x", "POST")
    done = time.monotonic() + 60  # replaced by the demotion's end
    seen = []
    stop = time.monotonic() + 10

    def hammer():
        with requests.Session() as sess:
            h = {**t.m.h, **fwd("/admin/x", "POST")}
            while time.monotonic() < stop and len(seen) < 4000:
                t0 = time.monotonic()
                if via == "verify":
                    code = sess.get(s.url(VERIFY), headers=h, timeout=15).status_code
                elif via == "route":
                    code = sess.get(s.url(f"{ORGS}/{A}/roles"), headers=t.m.h,
                                    timeout=15).status_code
                else:
                    r = sess.post(s.url(CHECK), json={"permission": "org:write"},
                                  headers=t.m.h, timeout=15)
                    code = 200 if r.json().get("allowed") is True else 403
                seen.append((t0, code))
                if t0 > done + 0.3:
                    return

    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        futs = [ex.submit(hammer) for _ in range(3)]
        poll(lambda: len(seen) > 30, 5.0)
        ok(call(s, "PATCH", f"{ORGS}/{A}/members/{t.m.id}", t.a.h, {"role": "member"}), 200)
        done = time.monotonic()
        for f in futs:
            f.result(timeout=30)
    after = [c for t0, c in seen if t0 > done]
    before = [c for t0, c in seen if t0 < done - 1.0]
    assert len(after) >= 3 and set(after) == {403}, (len(after), sorted(set(after)))
    assert set(before) <= {200}, sorted(set(before))


def test_role_edit_reaches_cached_token(t):
    s, A = t.s, t.A["id"]
    warm(s, t.c.h, "/docs/x", "POST")
    ok(call(s, "PATCH", f"{ORGS}/{A}/roles/{t.role_a['id']}", t.a.h,
            {"permissions": ["org:read"]}), 200)
    assert verify(s, t.c.h, "/docs/x", "POST").status_code == 403
    assert check(s, t.c.h, "doc:write")["allowed"] is False
    ok(call(s, "PATCH", f"{ORGS}/{A}/roles/{t.role_a['id']}", t.a.h,
            {"permissions": ["org:read", "file:read"]}), 200)
    assert verify(s, t.c.h, "/files/x").status_code == 200


def test_removal_reaches_cached_token_refresh_and_key(t):
    s, A = t.s, t.A["id"]
    tok = login(s, t.m.username, t.m.password, org_id=A)
    h = bearer(tok["access_token"])
    key = make_key(s, h, org_id=A)
    for cred in (h, key_h(key)):
        warm(s, cred, "/files/x")
    ok(call(s, "DELETE", f"{ORGS}/{A}/members/{t.m.id}", t.a.h), 204)
    # Credentials scoped to A die with the membership: 401 everywhere, cached or not.
    for cred in (h, key_h(key)):
        assert verify(s, cred, "/files/x").status_code == 401
        assert verify(s, cred).status_code == 401
        assert_error(call(s, "GET", f"{ORGS}/{A}", cred), 401)
        assert_error(call(s, "POST", CHECK, cred, {"permission": "file:read"}), 401)
    r = s.post(REFRESH, {"refresh_token": tok["refresh_token"]})
    assert_error(r, 401)
    # m's other credentials still work (the default org), and a's view of A has no m.
    assert t.m.id not in {x["user_id"] for x in list_all(s, t.a.h, f"{ORGS}/{A}/members")}
    # Still a user: the default org works.
    tok = login(s, t.m.username, t.m.password)
    assert verify(s, bearer(tok["access_token"])).status_code == 200


def test_org_deletion_revokes_what_is_scoped_to_it(t):
    s, A = t.s, t.A["id"]
    tok = login(s, t.c.username, t.c.password, org_id=A)
    h = bearer(tok["access_token"])
    key_c = make_key(s, h, org_id=A)
    for cred in (h, key_h(key_c), key_h(t.key_a), t.a.h):
        warm(s, cred)
    ok(call(s, "DELETE", f"{ORGS}/{A}", t.a.h), 204)
    for cred in (h, key_h(key_c), key_h(t.key_a), t.a.h):
        assert verify(s, cred).status_code == 401
    assert s.post(REFRESH, {"refresh_token": tok["refresh_token"]}).status_code == 401
    # The users remain; their default org works; A is gone for everyone.
    tok = login(s, t.a.username, t.a.password)
    h = bearer(tok["access_token"])
    assert verify(s, h).status_code == 200
    assert_404(call(s, "GET", f"{ORGS}/{A}", h))
    assert A not in {o["id"] for o in list_all(s, h, ORGS)}
    assert_404(login(s, t.c.username, t.c.password, org_id=A, expect=None))
    # B did not notice.
    assert verify(s, t.b.h).status_code == 200
    assert ok(call(s, "GET", f"{ORGS}/{t.B['id']}", t.b.h), 200)["id"] == t.B["id"]


def test_last_admin_cannot_leave_or_be_demoted(t):
    s, A = t.s, t.A["id"]
    assert_error(call(s, "PATCH", f"{ORGS}/{A}/members/{t.a.id}", t.a.h, {"role": "member"}),
                 409, code="conflict")
    assert_error(call(s, "DELETE", f"{ORGS}/{A}/members/{t.a.id}", t.a.h), 409, code="conflict")
    # A second admin makes both possible.
    ok(call(s, "PATCH", f"{ORGS}/{A}/members/{t.m.id}", t.a.h, {"role": "admin"}), 200)
    ok(call(s, "PATCH", f"{ORGS}/{A}/members/{t.a.id}", t.a.h, {"role": "member"}), 200)
    assert verify(s, t.a.h, "/admin/x", "POST").status_code == 403


def test_org_admin_cannot_write_users_shared_with_other_orgs(t):
    """n is in B and the default org: A's admin, after n joins A too, sees n, but may not
    disable, change or delete a user other orgs share."""
    s = t.s
    add_member(s, t.a.h, t.A["id"], t.n, "member")
    assert ok(call(s, "GET", f"{USERS}/{t.n.id}", t.a.h), 200)["id"] == t.n.id
    for method, body in (("PATCH", {"disabled": True}), ("PATCH", {"full_name": "x"}),
                         ("DELETE", None)):
        assert_error(call(s, method, f"{USERS}/{t.n.id}", t.a.h, body), 403, code="forbidden")
    assert verify(s, t.n.h).status_code == 200


def test_users_api_shows_no_other_orgs_ids(t):
    """B's admin, after adding a user of A to B, administers that user within B; what it
    reads of the user names no org of A's (the primary org is A here)."""
    s = t.s
    v = new_actor(s, prefix="iv")
    add_member(s, t.a.h, t.A["id"], v, "member")
    assert call(s, "PUT", PRIMARY, v.h, {"org_id": t.A["id"]}).status_code == 204
    add_member(s, t.b.h, t.B["id"], v, "member")
    r = call(s, "GET", f"{USERS}/{v.id}", t.b.h)
    assert r.status_code == 200, r.text
    assert t.A["id"] not in r.text, r.text
    listed = [u for u in list_all(s, t.b.h, USERS) if u["id"] == v.id]
    assert listed and t.A["id"] not in str(listed), listed
    # The operator sees it all.
    root = superadmin(s)
    assert ok(call(s, "GET", f"{USERS}/{v.id}", root.h), 200)["primary_org_id"] == t.A["id"]


def test_org_admin_disabling_its_own_user_reaches_cached_credentials(t):
    """A user of A only (it left the default org) disabled by A's admin: its cached token
    and key fail at once; A's other members do not notice."""
    s, A = t.s, t.A["id"]
    x = new_actor(s, prefix="ix")
    add_member(s, t.a.h, A, x, "member")
    default = ok(call(s, "GET", ME, x.h), 200)["primary_org_id"]
    ok(call(s, "DELETE", f"{ORGS}/{default}/members/{x.id}", x.h), 204)
    x.relogin(A)
    key = make_key(s, x.h, org_id=A)
    for cred in (x.h, key_h(key)):
        warm(s, cred)
    ok(call(s, "PATCH", f"{USERS}/{x.id}", t.a.h, {"disabled": True}), 200)
    for cred in (x.h, key_h(key)):
        assert verify(s, cred).status_code == 401
        assert_error(call(s, "GET", f"{ORGS}/{A}", cred), 401)
    assert verify(s, t.m.h).status_code == 200
    login(s, x.username, x.password, org_id=A, expect=401)


def test_org_admin_cannot_make_operators(t):
    s = t.s
    excl = new_actor(s, prefix="iop")
    add_member(s, t.a.h, t.A["id"], excl, "member")
    for who in (excl.id, t.a.id):
        assert_error(call(s, "PATCH", f"{USERS}/{who}", t.a.h, {"superadmin": True}), 403)
    assert ok(call(s, "GET", ME, t.a.h), 200)["superadmin"] is False


def test_delegated_admin_cannot_escalate(t):
    """A custom role with org:admin and role:write but little else cannot hand out, or
    give itself, more than it holds."""
    s, A = t.s, t.A["id"]
    deleg = create_role(s, t.a.h, A, ["org:admin", "org:read", "role:read", "role:write",
                                      "file:read"])
    d = new_actor(s, prefix="idl")
    add_member(s, t.a.h, A, d, deleg["name"])
    d.relogin(A)
    u = new_actor(s, prefix="idu")
    for method, path, body in (
        ("POST", f"{ORGS}/{A}/roles", {"name": unique_name("r"), "permissions": ["*:*"]}),
        ("POST", f"{ORGS}/{A}/roles", {"name": unique_name("r"), "permissions": ["file:write"]}),
        ("PATCH", f"{ORGS}/{A}/roles/{deleg['id']}", {"permissions": ["*:*"]}),
        ("PATCH", f"{ORGS}/{A}/roles/{t.role_a['id']}", {"permissions": ["file:read"]}),
        ("POST", f"{ORGS}/{A}/members", {"user_id": u.id, "role": "admin"}),
        ("POST", f"{ORGS}/{A}/members", {"user_id": u.id, "role": "member"}),
        ("PATCH", f"{ORGS}/{A}/members/{d.id}", {"role": "admin"}),
        ("PATCH", f"{ORGS}/{A}/members/{t.m.id}", {"role": "admin"}),
    ):
        r = call(s, method, path, d.h, body)
        assert_error(r, 403, code="forbidden")
    # Within what it holds it may act.
    small = ok(call(s, "POST", f"{ORGS}/{A}/roles", d.h,
                    {"name": unique_name("r"), "permissions": ["file:read"]}), 201)
    add_member(s, d.h, A, u, small["name"])
    assert check(s, d.h, "file:write")["allowed"] is False
    assert check(s, u.h, "file:read", org_id=A)["allowed"] is True


@pytest.mark.parametrize("race", ["demote each other", "both leave", "demote and leave"])
def test_last_admin_survives_concurrent_changes(iso, race):
    """Two admins at once each taking away the other's (or their own) admin role: one
    wins, the org keeps an admin."""
    for _ in range(5):
        a = new_actor(iso, prefix="ira")
        A = create_org(iso, a.h)["id"]
        b = new_actor(iso, prefix="irb")
        add_member(iso, a.h, A, b, "admin")
        reqs = {
            "demote each other": [("PATCH", f"{ORGS}/{A}/members/{b.id}", a.h, {"role": "member"}),
                                  ("PATCH", f"{ORGS}/{A}/members/{a.id}", b.h, {"role": "member"})],
            "both leave": [("DELETE", f"{ORGS}/{A}/members/{a.id}", a.h, None),
                           ("DELETE", f"{ORGS}/{A}/members/{b.id}", b.h, None)],
            "demote and leave": [("PATCH", f"{ORGS}/{A}/members/{a.id}", a.h, {"role": "member"}),
                                 ("DELETE", f"{ORGS}/{A}/members/{b.id}", b.h, None)],
        }[race]
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            codes = sorted(ex.map(lambda q: call(iso, *q).status_code, reqs))
        assert codes[0] in (200, 204) and codes[1] in (403, 409), codes
        admins = [m for m in list_all(iso, superadmin(iso).h, f"{ORGS}/{A}/members")
                  if m["role"] == "admin"]
        assert len(admins) == 1, (race, codes, admins)


def poll(fn, timeout=5.0):
    """fn() until truthy or the deadline (bounded); returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.02)


def test_demotion_reaches_another_server_on_the_same_database(iso, t):
    """A second process sharing the data dir (another node) sees demotion, removal, a role
    edit and org deletion through the revocation feed: within a bounded time (2 s; the
    promise is 100 ms), for credentials it has cached."""
    s2 = Server(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256",
                     "GATEHOUSE_AUTHZ_PERMISSIONS": " ".join(APP_PERMISSIONS),
                     "GATEHOUSE_FORWARD_AUTH_RULES": RULES,
                     "GATEHOUSE_PUBLIC_URL": iso.base},  # the same issuer
                data_dir=iso.data_dir)
    try:
        s2.start()
        A = t.A["id"]
        ok(call(iso, "PATCH", f"{ORGS}/{A}/members/{t.m.id}", t.a.h, {"role": "admin"}), 200)
        t.m.relogin(A)
        warm(s2, t.m.h, "/admin/x", "POST")
        ok(call(iso, "PATCH", f"{ORGS}/{A}/members/{t.m.id}", t.a.h, {"role": "member"}), 200)
        assert poll(lambda: verify(s2, t.m.h, "/admin/x", "POST").status_code == 403, 2.0)
        assert check(s2, t.m.h, "org:write")["allowed"] is False
        # Removal too: the token dies there.
        ok(call(iso, "DELETE", f"{ORGS}/{A}/members/{t.m.id}", t.a.h), 204)
        assert poll(lambda: verify(s2, t.m.h).status_code == 401, 2.0)
        # A role edit: c's custom role loses doc:write.
        warm(s2, t.c.h, "/docs/x", "POST")
        ok(call(iso, "PATCH", f"{ORGS}/{A}/roles/{t.role_a['id']}", t.a.h,
                {"permissions": ["org:read"]}), 200)
        assert poll(lambda: verify(s2, t.c.h, "/docs/x", "POST").status_code == 403, 2.0)
        # Deleting the org: its tokens and keys die there too.
        warm(s2, key_h(t.key_a))
        ok(call(iso, "DELETE", f"{ORGS}/{A}", t.a.h), 204)
        for cred in (t.c.h, t.a.h, key_h(t.key_a)):
            assert poll(lambda: verify(s2, cred).status_code == 401, 2.0)
    finally:
        s2.cleanup()


def test_superadmin_reaches_every_org(iso, t):
    """An operator acts in every org as its admin, with its token (never with a key)."""
    root = superadmin(iso)
    A = t.A["id"]
    assert ok(call(iso, "GET", f"{ORGS}/{A}", root.h), 200)["id"] == A
    assert A in {o["id"] for o in list_all(iso, root.h, ORGS)}
    assert check(iso, root.h, "org:write", org_id=A)["allowed"] is True
    assert check(iso, root.h, "org:write", org_id=new_id())["allowed"] is False
    key = make_key(iso, root.h)
    assert_404(call(iso, "GET", f"{ORGS}/{A}", key_h(key)))
    assert check(iso, key_h(key), "org:read", org_id=A)["allowed"] is False

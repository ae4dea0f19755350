"""Invitations to an org, the fix for a finding: any user could read every user's email,
full name and superadmin flag by making an org, adding anyone (the superadmin too) as a
member without their consent, switching the token to that org and reading
/api/v1/users.  Now an org admin's add is an invitation (202) that answers the same
whoever it names; its org sees nothing of the invitee until the invitee accepts; the
default org's member list is its admins' only.  Black-box over HTTP (and the audit table).

The attack tests (-k attack) fail on a server without the fix."""
import json
import time
import uuid

import pytest

from conftest import (ADMIN_PASSWORD, MY_INVITATIONS, Server, assert_error, bearer, unique_name,
                      wait_audit)

ORGS = "/api/v1/orgs"
USERS = "/api/v1/users"
ME = "/api/v1/auth/me"
CHECK = "/api/v1/authz/check"
AUDIT = "/api/v1/audit/logs"
FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
TTL = 7 * 86400  # orgs.invitation_ttl's default


@pytest.fixture(scope="module")
def srv():
    s = Server(env=FAST)
    s.start()
    yield s
    s.cleanup()


def person(s, org_id=None):
    u = s.register(full_name=f"Full {unique_name('n')}")
    u["h"] = login_to(s, u, org_id)
    return u


def login_to(s, u, org_id=None):
    body = {"username": u["username"], "password": u["password"]}
    if org_id is not None:
        body["org_id"] = org_id
    r = s.post("/api/v1/auth/login", body)
    assert r.status_code == 200, r.text
    return bearer(r.json()["access_token"])


def root(s):
    h = bearer(s.tokens("admin", ADMIN_PASSWORD)["access_token"])
    me = s.get(ME, headers=h).json()
    return {"id": me["id"], "username": me["username"], "email": me["email"], "h": h,
            "default": me["primary_org_id"]}


def new_org(s, h):
    r = s.post(ORGS, {"name": unique_name("org")}, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def invite(s, h, org_id, role="member", **who):
    """POST members as an org admin: the invitation."""
    r = s.post(f"{ORGS}/{org_id}/members", {**who, "role": role}, headers=h)
    assert r.status_code == 202, r.text
    body = r.json()
    assert set(body) == {"invitation"}, body
    return body["invitation"]


def mine(s, h):
    r = s.get(MY_INVITATIONS, headers=h)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def org_invitations(s, h, org_id):
    r = s.get(f"{ORGS}/{org_id}/invitations", headers=h)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def answer(s, h, inv_id, verb):
    return s.post(f"{MY_INVITATIONS}/{inv_id}/{verb}", headers=h)


def user_ids(s, h):
    r = s.get(f"{USERS}?limit=1000", headers=h)
    assert r.status_code == 200, r.text
    return {u["id"] for u in r.json()["items"]}


def shape(inv):
    """An invitation with what differs per call (id, times) taken out."""
    assert inv["expires_at"] > inv["created_at"], inv
    return {k: v for k, v in inv.items() if k not in ("id", "created_at", "expires_at")}


# -- the attack ---------------------------------------------------------------------------

def test_attack_own_org_reads_nobody_until_they_accept(srv):
    """The finding end to end: an ordinary user makes an org, "adds" the superadmin and
    another user, switches its token there and reads /users: it sees nothing of them while
    the invitations are pending, and only the one who accepts once that one accepts."""
    op = root(srv)
    mallory, victim = person(srv), person(srv)
    org = new_org(srv, mallory["h"])
    for target in (op, victim):
        r = srv.post(f"{ORGS}/{org['id']}/members", {"user_id": target["id"], "role": "member"},
                     headers=mallory["h"])
        assert r.status_code == 202, r.text  # not a membership: an invitation
    hm = login_to(srv, mallory, org["id"])

    def traces(t):
        # The operator's username is "admin", which is also a role name: its id and email
        # stand for it.
        return [t["id"], t["email"]] + ([t["username"], t["full_name"]] if "full_name" in t
                                        else [])

    def sees_nothing_of(*targets):
        for t in targets:
            assert_error(srv.get(f"{USERS}/{t['id']}", headers=hm), 404, "not_found")
            for path in (f"{USERS}?limit=1000", f"{ORGS}/{org['id']}/members",
                         f"{ORGS}/{org['id']}/invitations", f"{AUDIT}?limit=1000"):
                page = srv.get(path, headers=hm)
                assert page.status_code == 200, page.text
                for trace in traces(t):
                    assert trace not in page.text, (path, trace, page.text)

    sees_nothing_of(op, victim)
    assert user_ids(srv, hm) == {mallory["id"]}
    # The victim accepts: now a member, and visible to its org's admin as members are.
    invs = mine(srv, victim["h"])
    assert [i["org_id"] for i in invs] == [org["id"]]
    assert answer(srv, victim["h"], invs[0]["id"], "accept").status_code == 200
    assert user_ids(srv, hm) == {mallory["id"], victim["id"]}
    got = srv.get(f"{USERS}/{victim['id']}", headers=hm)
    assert got.status_code == 200 and got.json()["email"] == victim["email"]
    sees_nothing_of(op)  # the superadmin never accepted


def test_attack_default_org_member_list_is_for_its_admins(srv):
    """Every registered user is a member of the default org: its member list is the user
    base, so a plain member is refused (403, as for any permission it lacks, audited)."""
    op = root(srv)
    m = person(srv)
    path = f"{ORGS}/{op['default']}/members"
    assert_error(srv.get(path, headers=m["h"]), 403, "forbidden")
    assert_error(srv.get(f"{path}?limit=1", headers=m["h"]), 403, "forbidden")
    rows = wait_audit(srv, "PERMISSION_DENIED", user_id=m["id"], path=path)
    assert rows and json.loads(rows[-1]["metadata"]) == {"permission": "org:admin"}, rows
    # The member still sees itself, and the org itself.
    me = srv.get(ME, headers=m["h"]).json()
    assert me["email"] == m["email"] and op["default"] in [o["id"] for o in me["orgs"]]
    assert srv.get(f"{ORGS}/{op['default']}", headers=m["h"]).status_code == 200
    # Its admins see it: the operator, and a user made admin there.
    assert srv.get(path, headers=op["h"]).status_code == 200
    a = person(srv)
    r = srv.request("PATCH", f"{path}/{a['id']}", json={"role": "admin"}, headers=op["h"])
    assert r.status_code == 200, r.text
    listed = srv.get(f"{path}?limit=1000", headers=a["h"])
    assert listed.status_code == 200 and m["id"] in listed.text
    # Another org's plain members still list their own org's members.
    org = new_org(srv, a["h"])
    srv.join(a["h"], org["id"], m)
    assert srv.get(f"{ORGS}/{org['id']}/members", headers=m["h"]).status_code == 200


# -- no enumeration -------------------------------------------------------------------------

def test_an_invitation_answers_alike_whoever_it_names(srv):
    """A user, nobody, a member, one invited already; by id, username or email in any case:
    the same 202, the same listing, the same audit record. Only the real one reaches a user."""
    a, real, twice = person(srv), person(srv), person(srv)
    org = new_org(srv, a["h"])
    invite(srv, a["h"], org["id"], user_id=twice["id"])
    bodies = [
        {"user_id": real["id"]}, {"user_id": str(uuid.uuid4())}, {"user_id": a["id"]},
        {"user_id": twice["id"]}, {"username": real["username"].upper()},
        {"username": unique_name("nobody")}, {"username": real["email"]},
        {"email": real["email"].upper()}, {"email": f"{unique_name('nobody')}@example.test"},
        {"email": real["username"] + "@"},
    ]
    seen = []
    for body in bodies:
        r = srv.post(f"{ORGS}/{org['id']}/members", {**body, "role": "member"}, headers=a["h"])
        assert r.status_code == 202, (body, r.text)
        if seen:
            assert sorted(r.headers) == sorted(seen[0]), (body, r.headers)
        assert list(r.json()) == ["invitation"], r.text
        inv = r.json()["invitation"]
        assert shape(inv) == {"org_id": org["id"], "role": "member", "status": "pending"}, inv
        seen.append(r.headers)
    listed = org_invitations(srv, a["h"], org["id"])
    assert len(listed) == len(bodies) + 1
    assert {json.dumps(shape(i), sort_keys=True) for i in listed} == \
        {json.dumps({"org_id": org["id"], "role": "member", "status": "pending"})}
    for t in (real, twice):
        assert t["id"] not in json.dumps(listed) and t["email"] not in json.dumps(listed)
    # Each MEMBER_INVITED record names the invitation and the role, never the invitee.
    rows = wait_audit(srv, "MEMBER_INVITED", org_id=org["id"])
    assert len(rows) == len(bodies) + 1, rows
    for row in rows:
        assert set(json.loads(row["metadata"])) == {"invitation_id", "role"}, row
        assert row["user_id"] == a["id"] and row["status"] == 202
    # One live invitation per user and org: those named again by username and email, like
    # those to a member or to nobody, can never be accepted.
    assert [i["org_id"] for i in mine(srv, real["h"])] == [org["id"]]
    assert [i["org_id"] for i in mine(srv, twice["h"])] == [org["id"]]
    assert mine(srv, a["h"]) == []


def test_expires_in_ttl(srv):
    a, b = person(srv), person(srv)
    org = new_org(srv, a["h"])
    invite(srv, a["h"], org["id"], user_id=b["id"])
    inv = mine(srv, b["h"])[0]
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    span = time.mktime(time.strptime(inv["expires_at"], fmt)) - \
        time.mktime(time.strptime(inv["created_at"], fmt))
    assert span == TTL, inv


# -- the invitee's answer -------------------------------------------------------------------

def test_accept_makes_a_member_at_once_once(srv):
    a, b, c = person(srv), person(srv), person(srv)
    org = new_org(srv, a["h"])
    role = srv.post(f"{ORGS}/{org['id']}/roles",
                    {"name": "reader", "permissions": ["file:read"]}, headers=a["h"])
    assert role.status_code == 201, role.text
    invite(srv, a["h"], org["id"], role="reader", user_id=b["id"])
    items = mine(srv, b["h"])
    assert len(items) == 1
    inv = items[0]
    assert set(inv) == {"id", "org_id", "org_name", "role", "invited_by_username", "created_at",
                        "expires_at"}, inv
    assert (inv["org_id"], inv["org_name"], inv["role"], inv["invited_by_username"]) == \
        (org["id"], org["name"], "reader", a["username"])
    # Not b's: another user, the inviter, an unknown id, a malformed one.
    for h, inv_id in ((c["h"], inv["id"]), (a["h"], inv["id"]), (b["h"], str(uuid.uuid4())),
                      (b["h"], "not-an-id")):
        for verb in ("accept", "decline"):
            assert_error(answer(srv, h, inv_id, verb), 404, "not_found")
    # Before: b holds nothing in org. Accepting takes effect at once, on a live token too.
    assert srv.post(CHECK, {"permission": "file:read", "org_id": org["id"]},
                    headers=b["h"]).json()["reason"] == "not_a_member"
    r = answer(srv, b["h"], inv["id"], "accept")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": org["id"], "name": org["name"], "role": "reader"}
    assert srv.post(CHECK, {"permission": "file:read", "org_id": org["id"]},
                    headers=b["h"]).json()["reason"] == "granted"
    assert {"id": org["id"], "name": org["name"], "role": "reader"} in \
        srv.get(ME, headers=b["h"]).json()["orgs"]
    login_to(srv, b, org["id"])
    # Twice: the invitation is spent (404), and nothing more happens.
    assert_error(answer(srv, b["h"], inv["id"], "accept"), 404, "not_found")
    assert_error(answer(srv, b["h"], inv["id"], "decline"), 404, "not_found")
    members = srv.get(f"{ORGS}/{org['id']}/members", headers=a["h"]).json()["items"]
    assert [m["role"] for m in members if m["user_id"] == b["id"]] == ["reader"]
    assert mine(srv, b["h"]) == [] and org_invitations(srv, a["h"], org["id"]) == []
    rows = wait_audit(srv, "INVITATION_ACCEPTED", user_id=b["id"])
    assert len(rows) == 1 and rows[0]["org_id"] == org["id"], rows
    assert json.loads(rows[0]["metadata"]) == {"invitation_id": inv["id"], "role": "reader"}


def test_accept_by_a_member_already_is_409(srv):
    op = root(srv)
    a, b = person(srv), person(srv)
    org = new_org(srv, a["h"])
    invite(srv, a["h"], org["id"], user_id=b["id"])
    inv = mine(srv, b["h"])[0]
    r = srv.post(f"{ORGS}/{org['id']}/members", {"user_id": b["id"], "role": "member"},
                 headers=op["h"])
    assert r.status_code == 201, r.text  # the operator adds at once meanwhile
    assert_error(answer(srv, b["h"], inv["id"], "accept"), 409, "conflict")
    assert answer(srv, b["h"], inv["id"], "decline").status_code == 204


def test_decline(srv):
    a, b = person(srv), person(srv)
    org = new_org(srv, a["h"])
    ha = login_to(srv, a, org["id"])
    inv = invite(srv, a["h"], org["id"], user_id=b["id"])
    assert len(org_invitations(srv, a["h"], org["id"])) == 1
    r = answer(srv, b["h"], inv["id"], "decline")
    assert r.status_code == 204 and r.content == b""
    assert mine(srv, b["h"]) == [] and org_invitations(srv, a["h"], org["id"]) == []
    assert_error(answer(srv, b["h"], inv["id"], "accept"), 404, "not_found")
    assert_error(answer(srv, b["h"], inv["id"], "decline"), 404, "not_found")
    assert b["id"] not in srv.get(f"{ORGS}/{org['id']}/members", headers=a["h"]).text
    assert_error(srv.get(f"{USERS}/{b['id']}", headers=ha), 404, "not_found")
    # Recorded for operators, outside any org: the org's admins do not learn who declined.
    rows = wait_audit(srv, "INVITATION_DECLINED", user_id=b["id"])
    assert len(rows) == 1 and rows[0]["org_id"] is None, rows
    assert json.loads(rows[0]["metadata"]) == {"invitation_id": inv["id"]}
    logs = srv.get(f"{AUDIT}?limit=1000", headers=ha)
    assert logs.status_code == 200 and b["id"] not in logs.text
    # A new invitation after a decline reaches the user again.
    invite(srv, a["h"], org["id"], user_id=b["id"])
    assert len(mine(srv, b["h"])) == 1


def test_revoked_by_the_org(srv):
    a, b, m, other = person(srv), person(srv), person(srv), person(srv)
    org = new_org(srv, a["h"])
    srv.join(a["h"], org["id"], m)
    hm = login_to(srv, m, org["id"])
    inv = invite(srv, a["h"], org["id"], user_id=b["id"])
    base = f"{ORGS}/{org['id']}/invitations"
    # A plain member may neither list nor revoke (403, audited); another org's admin: 404.
    assert_error(srv.get(base, headers=hm), 403, "forbidden")
    assert_error(srv.request("DELETE", f"{base}/{inv['id']}", headers=hm), 403, "forbidden")
    assert wait_audit(srv, "PERMISSION_DENIED", user_id=m["id"], path=f"{base}/{inv['id']}")
    assert_error(srv.get(base, headers=other["h"]), 404, "not_found")
    assert_error(srv.request("DELETE", f"{base}/{inv['id']}", headers=other["h"]), 404)
    # Revoked through another org's path: not there.
    org2 = new_org(srv, a["h"])
    assert_error(srv.request("DELETE", f"{ORGS}/{org2['id']}/invitations/{inv['id']}",
                             headers=a["h"]), 404, "not_found")
    assert len(mine(srv, b["h"])) == 1
    r = srv.request("DELETE", f"{base}/{inv['id']}", headers=a["h"])
    assert r.status_code == 204, r.text
    assert mine(srv, b["h"]) == [] and org_invitations(srv, a["h"], org["id"]) == []
    assert_error(answer(srv, b["h"], inv["id"], "accept"), 404, "not_found")
    assert_error(srv.request("DELETE", f"{base}/{inv['id']}", headers=a["h"]), 404, "not_found")
    assert_error(srv.request("DELETE", f"{base}/not-an-id", headers=a["h"]), 404, "not_found")
    rows = wait_audit(srv, "INVITATION_REVOKED", org_id=org["id"])
    assert len(rows) == 1 and rows[0]["user_id"] == a["id"], rows
    assert json.loads(rows[0]["metadata"]) == {"invitation_id": inv["id"]}


def test_org_deleted_before_the_answer(srv):
    a, b = person(srv), person(srv)
    org = new_org(srv, a["h"])
    inv = invite(srv, a["h"], org["id"], user_id=b["id"])
    assert srv.request("DELETE", f"{ORGS}/{org['id']}", headers=a["h"]).status_code == 204
    assert mine(srv, b["h"]) == []
    assert_error(answer(srv, b["h"], inv["id"], "accept"), 404, "not_found")


def test_listings_page(srv):
    a, b = person(srv), person(srv)
    orgs = [new_org(srv, a["h"]) for _ in range(3)]
    for o in orgs:
        invite(srv, a["h"], o["id"], user_id=b["id"])
    first = srv.get(f"{MY_INVITATIONS}?limit=2", headers=b["h"]).json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    rest = srv.get(f"{MY_INVITATIONS}?limit=2&offset=2", headers=b["h"]).json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    assert {i["org_id"] for i in first["items"] + rest["items"]} == {o["id"] for o in orgs}
    for q in ("limit=0", "limit=1001", "limit=x", "offset=-1"):
        assert_error(srv.get(f"{MY_INVITATIONS}?{q}", headers=b["h"]), 400, "invalid_request")
        assert_error(srv.get(f"{ORGS}/{orgs[0]['id']}/invitations?{q}", headers=a["h"]), 400,
                     "invalid_request")


# -- the checks of an add still apply -------------------------------------------------------

def test_role_checks_and_bad_inputs(srv):
    a, b = person(srv), person(srv)
    org = new_org(srv, a["h"])
    base = f"{ORGS}/{org['id']}/members"
    h = a["h"]
    cases = [
        # (body, status, code, field)
        ({"user_id": b["id"], "role": "nope"}, 422, "invalid_value", "role"),
        ({"user_id": "x", "role": "member"}, 422, "invalid_value", "user_id"),
        ({"username": "", "role": "member"}, 422, "invalid_value", "username"),
        ({"username": "u" * 65, "role": "member"}, 422, "invalid_value", "username"),
        ({"email": "no-at-sign", "role": "member"}, 422, "invalid_value", "email"),
        ({"email": "a@" + "b" * 319, "role": "member"}, 422, "invalid_value", "email"),
        ({"user_id": b["id"]}, 400, "invalid_request", "role"),
        ({"role": "member"}, 400, "invalid_request", "user_id"),
        ({"user_id": b["id"], "email": b["email"], "role": "member"}, 400, "invalid_request",
         "user_id"),
        ({"user_id": 5, "role": "member"}, 400, "invalid_request", "user_id"),
        ({"username": ["x"], "role": "member"}, 400, "invalid_request", "username"),
        ({"email": {"a": 1}, "role": "member"}, 400, "invalid_request", "email"),
        ({"user_id": b["id"], "role": 3}, 400, "invalid_request", "role"),
    ]
    for body, status, code, field in cases:
        err = assert_error(srv.post(base, body, headers=h), status, code)
        assert err.get("details") == {"field": field}, (body, err)
    # Malformed JSON, not an object, a NUL in a string, another type.
    for data in ("{", "[]", "null", '{"username": "x\\u0000y", "role": "member"}'):
        r = srv.request("POST", base, data=data, headers={**h, "Content-Type": "application/json"})
        assert_error(r, 400, "invalid_json")
    # An oversize string is a bad value of its field.
    r = srv.post(base, {"username": "x" * 5000, "role": "member"}, headers=h)
    assert assert_error(r, 422, "invalid_value").get("details") == {"field": "username"}
    r = srv.request("POST", base, data="user_id=x", headers={**h, "Content-Type": "text/plain"})
    assert_error(r, 415)
    # Missing or bad credentials, on every invitation route.
    inv = invite(srv, h, org["id"], user_id=b["id"])
    routes = [("POST", base, {"user_id": b["id"], "role": "member"}),
              ("GET", f"{ORGS}/{org['id']}/invitations", None),
              ("DELETE", f"{ORGS}/{org['id']}/invitations/{inv['id']}", None),
              ("GET", MY_INVITATIONS, None),
              ("POST", f"{MY_INVITATIONS}/{inv['id']}/accept", None),
              ("POST", f"{MY_INVITATIONS}/{inv['id']}/decline", None)]
    for method, path, body in routes:
        for bad in ({}, {"Authorization": "Bearer nope"}, {"X-API-Key": "ak_nope"}):
            assert_error(srv.request(method, path, json=body, headers=bad), 401)
    assert len(mine(srv, b["h"])) == 1  # nothing happened
    # Another org, an unknown org: 404 before anything else.
    theirs = new_org(srv, b["h"])
    for org_id in (theirs["id"], str(uuid.uuid4())):
        assert_error(srv.post(f"{ORGS}/{org_id}/members", {"user_id": b["id"], "role": "member"},
                              headers=h), 404, "not_found")
    # A delegated admin invites with no more than it holds; a plain member not at all.
    deputy_role = srv.post(f"{ORGS}/{org['id']}/roles",
                           {"name": "deputy", "permissions": ["org:admin", "org:read"]},
                           headers=h).json()
    d, m = person(srv), person(srv)
    srv.join(h, org["id"], d, deputy_role["name"])
    srv.join(h, org["id"], m)
    hd, hm = login_to(srv, d, org["id"]), login_to(srv, m, org["id"])
    assert_error(srv.post(base, {"user_id": b["id"], "role": "admin"}, headers=hd), 403,
                 "forbidden")
    assert_error(srv.post(base, {"user_id": b["id"], "role": "member"}, headers=hd), 403,
                 "forbidden")  # member holds file:read/write, the deputy does not
    assert srv.post(base, {"user_id": b["id"], "role": "deputy"}, headers=hd).status_code == 202
    assert_error(srv.post(base, {"user_id": b["id"], "role": "member"}, headers=hm), 403,
                 "forbidden")
    assert wait_audit(srv, "PERMISSION_DENIED", user_id=m["id"], path=base)


def test_api_keys(srv):
    """A key of an org's admin invites like its owner; a narrow key may not answer."""
    a, b = person(srv), person(srv)
    org = new_org(srv, a["h"])
    ha = login_to(srv, a, org["id"])
    wide = srv.post("/api/v1/api-keys", {"name": "w"}, headers=ha).json()["key"]
    r = srv.post(f"{ORGS}/{org['id']}/members", {"user_id": b["id"], "role": "member"},
                 headers={"X-API-Key": wide})
    assert r.status_code == 202, r.text
    narrow = srv.post("/api/v1/api-keys", {"name": "n", "scopes": ["org:read"]},
                      headers=b["h"]).json()["key"]
    inv = mine(srv, b["h"])[0]
    assert_error(srv.get(MY_INVITATIONS, headers={"X-API-Key": narrow}), 403, "forbidden")
    assert_error(answer(srv, {"X-API-Key": narrow}, inv["id"], "accept"), 403, "forbidden")
    assert len(mine(srv, b["h"])) == 1


# -- superadmins and the operator ------------------------------------------------------------

def test_superadmin_adds_at_once(srv):
    op = root(srv)
    a, b, c = person(srv), person(srv), person(srv)
    org = new_org(srv, a["h"])
    base = f"{ORGS}/{org['id']}/members"
    r = srv.post(base, {"user_id": b["id"], "role": "member"}, headers=op["h"])
    assert r.status_code == 201, r.text
    assert r.json() == {"user_id": b["id"], "username": b["username"], "role": "member"}
    r = srv.post(base, {"email": c["email"].upper(), "role": "admin"}, headers=op["h"])
    assert r.status_code == 201 and r.json()["user_id"] == c["id"], r.text
    for body in ({"user_id": str(uuid.uuid4())}, {"username": unique_name("nobody")},
                 {"email": "nobody@example.test"}):
        assert_error(srv.post(base, {**body, "role": "member"}, headers=op["h"]), 404)
    assert_error(srv.post(base, {"user_id": b["id"], "role": "member"}, headers=op["h"]), 409)
    assert mine(srv, b["h"]) == []
    assert wait_audit(srv, "MEMBERSHIP_CHANGE", org_id=org["id"], user_id=op["id"])


def test_superadmin_direct_add_can_be_switched_off(make_server):
    s = make_server(env={**FAST, "GATEHOUSE_ORGS_SUPERADMIN_DIRECT_ADD": "false"})
    op = root(s)
    a, b = person(s), person(s)
    org = new_org(s, a["h"])
    inv = invite(s, op["h"], org["id"], user_id=b["id"])
    assert [i["id"] for i in mine(s, b["h"])] == [inv["id"]]
    assert b["id"] not in s.get(f"{ORGS}/{org['id']}/members", headers=a["h"]).text


def test_expired_invitation(make_server):
    s = make_server(env={**FAST, "GATEHOUSE_ORGS_INVITATION_TTL": "1s"})
    a, b = person(s), person(s)
    org = new_org(s, a["h"])
    inv = invite(s, a["h"], org["id"], user_id=b["id"])
    assert len(mine(s, b["h"])) == 1
    deadline = time.monotonic() + 10
    while mine(s, b["h"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert mine(s, b["h"]) == [] and org_invitations(s, a["h"], org["id"]) == []
    assert_error(answer(s, b["h"], inv["id"], "accept"), 410, "expired")
    assert_error(answer(s, b["h"], inv["id"], "decline"), 410, "expired")
    assert b["id"] not in s.get(f"{ORGS}/{org['id']}/members", headers=a["h"]).text
    # Dead, it no longer stands in the way of a new one, and the org may still revoke it.
    invite(s, a["h"], org["id"], user_id=b["id"])
    assert len(mine(s, b["h"])) == 1
    r = s.request("DELETE", f"{ORGS}/{org['id']}/invitations/{inv['id']}", headers=a["h"])
    assert r.status_code == 204, r.text


def test_pending_invitations_per_org_are_bounded(make_server):
    s = make_server(env={**FAST, "GATEHOUSE_ORGS_MAX_PENDING_INVITATIONS": "3"})
    a, b = person(s), person(s)
    org = new_org(s, a["h"])
    made = [invite(s, a["h"], org["id"], user_id=str(uuid.uuid4())) for _ in range(3)]
    # one more is refused, whoever it names, until one is gone
    for who in ({"user_id": b["id"]}, {"user_id": str(uuid.uuid4())}):
        r = s.post(f"{ORGS}/{org['id']}/members", {**who, "role": "member"}, headers=a["h"])
        assert_error(r, 409, "conflict")
    assert mine(s, b["h"]) == []
    r = s.request("DELETE", f"{ORGS}/{org['id']}/invitations/{made[0]['id']}", headers=a["h"])
    assert r.status_code == 204, r.text
    inv = invite(s, a["h"], org["id"], user_id=b["id"])
    assert [i["id"] for i in mine(s, b["h"])] == [inv["id"]]
    # the bound is per org: another org of the same admin is not held back
    other = new_org(s, a["h"])
    invite(s, a["h"], other["id"], user_id=str(uuid.uuid4()))


@pytest.mark.parametrize("value", ["0", "-1s", "soon", "400d"])
def test_invitation_ttl_is_validated(make_server, value):
    s = make_server(env={**FAST, "GATEHOUSE_ORGS_INVITATION_TTL": value}, start=False)
    s.start(wait=False)
    assert s.proc.wait(timeout=30) != 0
    assert "GATEHOUSE_ORGS_INVITATION_TTL: expected a duration" in s.stderr_text()


# -- nothing else tells an org about a user outside it --------------------------------------

def test_no_other_route_leaks_a_non_member(srv):
    a, b = person(srv), person(srv)
    org = new_org(srv, a["h"])
    ha = login_to(srv, a, org["id"])
    invite(srv, a["h"], org["id"], user_id=b["id"])
    invite(srv, a["h"], org["id"], email=b["email"])
    for path in (USERS, f"{USERS}/{b['id']}", f"{ORGS}/{org['id']}/members",
                 f"{ORGS}/{org['id']}/invitations", f"{AUDIT}?limit=1000",
                 f"{AUDIT}?user_id={b['id']}"):
        r = srv.get(path, headers=ha)
        assert b["email"] not in r.text and b["username"] not in r.text, (path, r.text)
        assert b["full_name"] not in r.text, (path, r.text)
    assert_error(srv.get(f"{USERS}/{b['id']}", headers=ha), 404, "not_found")
    # Changing or removing a non-member: 404 whether the user exists or not.
    for uid in (b["id"], str(uuid.uuid4())):
        assert_error(srv.request("PATCH", f"{ORGS}/{org['id']}/members/{uid}",
                                 json={"role": "admin"}, headers=ha), 404, "not_found")
        assert_error(srv.request("DELETE", f"{USERS}/{uid}", headers=ha), 404, "not_found")
    # authz/check with an owner answers a decision, nothing about the owner.
    for uid in (b["id"], str(uuid.uuid4())):
        r = srv.post(CHECK, {"permission": "file:read", "owner_id": uid}, headers=ha)
        assert r.status_code == 200 and set(r.json()) == {"allowed", "reason"}
        assert r.json()["reason"] == "granted"

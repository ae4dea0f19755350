"""Roles: system roles, custom role CRUD, declared permissions, no escalation, and role
edits that reach live tokens and keys at once.  Black-box over HTTP."""
import uuid

import pytest

from conftest import ADMIN_PASSWORD, Server, assert_error, bearer, unique_name, wait_audit

ORGS = "/api/v1/orgs"
VERIFY = "/api/v1/auth/verify"
CHECK = "/api/v1/authz/check"


@pytest.fixture(scope="module")
def srv():
    s = Server(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256",
                    "GATEHOUSE_AUTHZ_PERMISSIONS": "file:read file:write file:delete doc:read",
                    "GATEHOUSE_AUTHZ_MEMBER_PERMISSIONS": "file:read org:read"})
    s.start()
    yield s
    s.cleanup()


def person(s, org_id=None):
    u = s.register()
    body = {"username": u["username"], "password": u["password"]}
    if org_id:
        body["org_id"] = org_id
    u["h"] = bearer(s.post("/api/v1/auth/login", body).json()["access_token"])
    return u


def login_into(s, u, org_id):
    r = s.post("/api/v1/auth/login", {"username": u["username"], "password": u["password"],
                                      "org_id": org_id})
    assert r.status_code == 200, r.text
    return bearer(r.json()["access_token"])


def setup_org(s):
    a = person(s)
    org = s.post(ORGS, {"name": unique_name("o")}, headers=a["h"]).json()
    a["h"] = login_into(s, a, org["id"])
    return a, org


def roles(s, h, org):
    r = s.get(f"{ORGS}/{org['id']}/roles", headers=h)
    assert r.status_code == 200, r.text
    return {x["name"]: x for x in r.json()["items"]}


def create_role(s, h, org, name, perms, expect=201):
    r = s.post(f"{ORGS}/{org['id']}/roles", {"name": name, "permissions": perms}, headers=h)
    assert r.status_code == expect, r.text
    return r.json()


def test_system_roles_and_member_default_from_config(srv):
    a, org = setup_org(srv)
    rs = roles(srv, a["h"], org)
    assert rs["admin"]["permissions"] == ["*:*"] and rs["admin"]["system"] is True
    assert rs["member"]["permissions"] == ["file:read", "org:read"]
    assert set(rs["member"]) == {"id", "name", "permissions", "system"}


def test_system_roles_are_immutable(srv):
    a, org = setup_org(srv)
    rs = roles(srv, a["h"], org)
    base = f"{ORGS}/{org['id']}/roles"
    for rid, body in [(rs["admin"]["id"], {"permissions": ["file:read"]}),
                      (rs["admin"]["id"], {"name": "boss"}),
                      (rs["member"]["id"], {"name": "people"})]:
        assert_error(srv.request("PATCH", f"{base}/{rid}", json=body, headers=a["h"]),
                     409, "immutable")
    for rid in (rs["admin"]["id"], rs["member"]["id"]):
        assert_error(srv.request("DELETE", f"{base}/{rid}", headers=a["h"]), 409, "immutable")
    # member's permissions may change; the same name is not a rename
    r = srv.request("PATCH", f"{base}/{rs['member']['id']}",
                    json={"name": "member", "permissions": ["file:read", "file:write"]},
                    headers=a["h"])
    assert r.status_code == 200 and r.json()["permissions"] == ["file:read", "file:write"]


def test_custom_role_crud(srv):
    a, org = setup_org(srv)
    role = create_role(srv, a["h"], org, "editor", ["file:*", "doc:read:own"])
    assert role["system"] is False and role["permissions"] == ["file:*", "doc:read:own"]
    create_role(srv, a["h"], org, "editor", ["file:read"], expect=409)
    base = f"{ORGS}/{org['id']}/roles/{role['id']}"
    r = srv.request("PATCH", base, json={"name": "writer"}, headers=a["h"])
    assert r.status_code == 200 and r.json()["name"] == "writer"
    assert r.json()["permissions"] == ["file:*", "doc:read:own"]
    assert srv.request("DELETE", base, headers=a["h"]).status_code == 204
    assert_error(srv.request("DELETE", base, headers=a["h"]), 404, "not_found")
    assert_error(srv.request("PATCH", f"{ORGS}/{org['id']}/roles/{uuid.uuid4()}",
                             json={"name": "x"}, headers=a["h"]), 404, "not_found")
    assert wait_audit(srv, "ROLE_CHANGE", org_id=org["id"])


def test_role_bad_inputs(srv):
    a, org = setup_org(srv)
    base = f"{ORGS}/{org['id']}/roles"
    for name in ["", "Editor", "a b", "x" * 65, "a,b", "\u00e9"]:
        r = srv.post(base, {"name": name, "permissions": ["file:read"]}, headers=a["h"])
        assert_error(r, 422, "invalid_value")
        assert r.json()["error"]["details"]["field"] == "name"
    for perm in ["billing:read", "file:purge", "FILE:read", "file", "file:read:mine", "*"]:
        r = srv.post(base, {"name": "r1", "permissions": [perm]}, headers=a["h"])
        err = assert_error(r, 422, "invalid_value")
        assert err["details"] == {"field": "permissions", "permission": perm}
    assert_error(srv.post(base, {"name": "r1", "permissions": "file:read"}, headers=a["h"]),
                 400, "invalid_request")
    assert_error(srv.post(base, {"name": "r1", "permissions": [1]}, headers=a["h"]),
                 400, "invalid_request")
    assert_error(srv.post(base, {"name": "r1"}, headers=a["h"]), 400, "invalid_request")
    assert_error(srv.post(base, {"name": "r1", "permissions": ["file:read"] * 65},
                          headers=a["h"]), 400, "invalid_request")
    # wildcards standing for something declared are fine
    create_role(srv, a["h"], org, "reader", ["*:read", "doc:*", "*:*:own"])


def test_declared_permissions_api(srv):
    h = bearer(srv.tokens("admin", ADMIN_PASSWORD)["access_token"])
    a, org = setup_org(srv)
    items = srv.get("/api/v1/permissions", headers=a["h"]).json()["items"]
    sources = {i["name"]: i["source"] for i in items}
    assert sources["user:admin"] == "builtin" and sources["doc:read"] == "config"
    create_role(srv, a["h"], org, "biller", ["billing:read"], expect=422)
    assert_error(srv.post("/api/v1/permissions", {"name": "billing:read"}, headers=a["h"]),
                 403, "forbidden")
    r = srv.post("/api/v1/permissions", {"name": "billing:read"}, headers=h)
    assert r.status_code == 201 and r.json() == {"name": "billing:read", "source": "api"}
    assert_error(srv.post("/api/v1/permissions", {"name": "billing:read"}, headers=h), 409)
    assert_error(srv.post("/api/v1/permissions", {"name": "file:read"}, headers=h), 409)
    for bad in ["billing:*", "billing", "billing:read:own", "Billing:read"]:
        assert_error(srv.post("/api/v1/permissions", {"name": bad}, headers=h),
                     422, "invalid_value")
    create_role(srv, a["h"], org, "biller", ["billing:read"])


def test_no_escalation_through_roles(srv):
    a, org = setup_org(srv)
    lead = create_role(srv, a["h"], org, "lead", ["role:read", "role:write", "file:read"])
    m = person(srv)
    srv.join(a["h"], org["id"], m, "lead")
    hm = login_into(srv, m, org["id"])
    # may write roles within what it holds
    create_role(srv, hm, org, "viewer", ["file:read"])
    for perms in (["*:*"], ["file:write"], ["org:admin"]):
        assert_error(srv.post(f"{ORGS}/{org['id']}/roles", {"name": "boss", "permissions": perms},
                              headers=hm), 403, "forbidden")
    assert_error(srv.request("PATCH", f"{ORGS}/{org['id']}/roles/{lead['id']}",
                             json={"permissions": ["*:*"]}, headers=hm), 403, "forbidden")
    assert_error(srv.request("PATCH", f"{ORGS}/{org['id']}/members/{m['id']}",
                             json={"role": "admin"}, headers=hm), 403, "forbidden")


def test_role_in_use_cannot_be_deleted(srv):
    a, org = setup_org(srv)
    role = create_role(srv, a["h"], org, "ops", ["file:read"])
    m = person(srv)
    srv.join(a["h"], org["id"], m, "ops")
    assert_error(srv.request("DELETE", f"{ORGS}/{org['id']}/roles/{role['id']}", headers=a["h"]),
                 409, "conflict")


def test_role_edit_reaches_live_tokens_and_keys(srv):
    a, org = setup_org(srv)
    role = create_role(srv, a["h"], org, "uploader", ["file:read", "file:write"])
    m = person(srv)
    srv.join(a["h"], org["id"], m, "uploader")
    hm = login_into(srv, m, org["id"])
    key = srv.post("/api/v1/api-keys", {"name": "k"}, headers=hm).json()["key"]
    hk = {"X-API-Key": key}
    for h in (hm, hk):
        r = srv.post(CHECK, {"permission": "file:write"}, headers=h)
        assert r.json() == {"allowed": True, "reason": "granted"}
    r = srv.request("PATCH", f"{ORGS}/{org['id']}/roles/{role['id']}",
                    json={"permissions": ["file:read"]}, headers=a["h"])
    assert r.status_code == 200
    for h in (hm, hk):
        r = srv.post(CHECK, {"permission": "file:write"}, headers=h)
        assert r.json() == {"allowed": False, "reason": "not_granted"}
        assert srv.post(CHECK, {"permission": "file:read"}, headers=h).json()["allowed"]
    # a rename shows in X-Auth-Roles at once
    srv.request("PATCH", f"{ORGS}/{org['id']}/roles/{role['id']}", json={"name": "reader2"},
                headers=a["h"])
    assert srv.get(VERIFY, headers=hm).headers["X-Auth-Roles"] == "reader2"


def test_member_role_cannot_read_roles(srv):
    a, org = setup_org(srv)
    m = person(srv)
    srv.join(a["h"], org["id"], m)
    hm = login_into(srv, m, org["id"])
    assert_error(srv.get(f"{ORGS}/{org['id']}/roles", headers=hm), 403, "forbidden")


def test_roles_per_org_are_bounded(srv):
    a, org = setup_org(srv)
    for i in range(254):  # with admin and member: 256
        create_role(srv, a["h"], org, f"r{i}", ["file:read"])
    r = srv.post(f"{ORGS}/{org['id']}/roles", {"name": "one-more", "permissions": ["file:read"]},
                 headers=a["h"])
    assert_error(r, 422, "invalid_value")
    page = srv.get(f"{ORGS}/{org['id']}/roles?limit=1000", headers=a["h"]).json()
    assert len(page["items"]) == 256 and page["next_offset"] is None


def test_a_delegated_admin_cannot_touch_stronger_members(srv):
    a, org = setup_org(srv)
    create_role(srv, a["h"], org, "deputy", ["org:admin", "org:read"])
    d, a2, m = person(srv), person(srv), person(srv)
    base = f"{ORGS}/{org['id']}/members"
    for u, role in ((d, "deputy"), (a2, "admin"), (m, "member")):
        srv.join(a["h"], org["id"], u, role)
    hd = login_into(srv, d, org["id"])
    for method, target, body in (("PATCH", a2["id"], {"role": "member"}),
                                 ("DELETE", a2["id"], None),
                                 ("PATCH", m["id"], {"role": "deputy"}),  # member has file:read
                                 ("DELETE", m["id"], None)):
        assert_error(srv.request(method, f"{base}/{target}", json=body, headers=hd), 403,
                     "forbidden")
    # one it could have made itself: allowed
    v = person(srv)
    srv.join(a["h"], org["id"], v, "deputy")
    assert srv.request("DELETE", f"{base}/{v['id']}", headers=hd).status_code == 204

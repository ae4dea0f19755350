"""POST /api/v1/authz/check and /verify route rules: one decision, ownership, orgs,
unknown permissions, API-key scopes, bad inputs.  Black-box over HTTP."""
import uuid

import pytest

from conftest import ADMIN_PASSWORD, Server, assert_error, bearer, unique_name, wait_audit

CHECK = "/api/v1/authz/check"
ORGS = "/api/v1/orgs"
VERIFY = "/api/v1/auth/verify"


@pytest.fixture(scope="module")
def srv():
    s = Server(env={
        "GATEHOUSE_AUTH_ALGORITHM": "ES256",
        "GATEHOUSE_AUTHZ_PERMISSIONS": "file:read file:write file:delete",
        "GATEHOUSE_FORWARD_AUTH_RULES": "GET /files/** file:read; DELETE /files/** file:delete",
    })
    s.start()
    yield s
    s.cleanup()


def person(s):
    u = s.register()
    u["h"] = bearer(s.tokens(u["username"], u["password"])["access_token"])
    return u


def check(s, h, expect=200, **body):
    r = s.post(CHECK, body, headers=h)
    assert r.status_code == expect, r.text
    return r.json()


def test_member_defaults(srv):
    m = person(srv)
    assert check(srv, m["h"], permission="file:read") == {"allowed": True, "reason": "granted"}
    assert check(srv, m["h"], permission="org:read")["allowed"]
    assert check(srv, m["h"], permission="file:delete") == {"allowed": False,
                                                             "reason": "not_granted"}
    assert check(srv, m["h"], permission="file:*") == {"allowed": False, "reason": "not_granted"}


def test_unknown_permission_and_bad_inputs(srv):
    m = person(srv)
    assert check(srv, m["h"], permission="billing:read") == {
        "allowed": False, "reason": "unknown_permission"}
    for bad in ["file", "FILE:read", "file:read ", "", "file:read:mine", "a" * 200 + ":b"]:
        assert_error(srv.post(CHECK, {"permission": bad}, headers=m["h"]), 422, "invalid_value")
    assert_error(srv.post(CHECK, {"permission": 1}, headers=m["h"]), 400, "invalid_request")
    assert_error(srv.post(CHECK, {}, headers=m["h"]), 400, "invalid_request")
    assert_error(srv.post(CHECK, {"permission": "file:read", "org_id": "x"}, headers=m["h"]),
                 422, "invalid_value")
    assert_error(srv.post(CHECK, {"permission": "file:read", "owner_id": 5}, headers=m["h"]),
                 400, "invalid_request")
    assert_error(srv.post(CHECK, {"permission": "file:read"}), 401, "unauthenticated")
    assert_error(srv.post(CHECK, {"permission": "file:read"},
                          headers=bearer("eyJhbGciOiJub25lIn0.e30.")), 401, "invalid_token")
    r = srv.request("POST", CHECK, data='{"permission":"file:read","permission":"x:y"}',
                    headers={**m["h"], "Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")
    r = srv.request("POST", CHECK, data="permission=file:read",
                    headers={**m["h"], "Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415)
    assert_error(srv.get(CHECK, headers=m["h"]), 405, "method_not_allowed")


def test_orgs(srv):
    a, b = person(srv), person(srv)
    org = srv.post(ORGS, {"name": unique_name("o")}, headers=a["h"]).json()
    assert check(srv, a["h"], permission="file:delete", org_id=org["id"]) == {
        "allowed": True, "reason": "granted"}
    for org_id in (org["id"], str(uuid.uuid4())):
        assert check(srv, b["h"], permission="file:read", org_id=org_id) == {
            "allowed": False, "reason": "not_a_member"}
    h = bearer(srv.tokens("admin", ADMIN_PASSWORD)["access_token"])
    assert check(srv, h, permission="file:delete", org_id=org["id"]) == {
        "allowed": True, "reason": "superadmin"}
    assert check(srv, h, permission="file:delete", org_id=str(uuid.uuid4()))["reason"] == \
        "not_a_member"


def test_ownership(srv):
    a, other = person(srv), person(srv)
    org = srv.post(ORGS, {"name": unique_name("o")}, headers=a["h"]).json()
    base = f"{ORGS}/{org['id']}"
    role = srv.post(f"{base}/roles", {"name": "self", "permissions": ["file:delete:own",
                                                                      "file:read"]},
                    headers=a["h"]).json()
    assert role["permissions"] == ["file:delete:own", "file:read"]
    m = person(srv)
    srv.join(a["h"], org["id"], m, "self")
    hm = bearer(srv.post("/api/v1/auth/login", {"username": m["username"],
                                                "password": m["password"],
                                                "org_id": org["id"]}).json()["access_token"])
    assert check(srv, hm, permission="file:delete", owner_id=m["id"]) == {
        "allowed": True, "reason": "owner"}
    assert check(srv, hm, permission="file:delete", owner_id=other["id"]) == {
        "allowed": False, "reason": "not_granted"}
    assert check(srv, hm, permission="file:delete") == {"allowed": False,
                                                        "reason": "not_granted"}
    assert check(srv, hm, permission="file:read", owner_id=other["id"])["reason"] == "granted"


def test_api_key_scope_intersects(srv):
    m = person(srv)
    key = srv.post("/api/v1/api-keys", {"name": "k", "scopes": ["file:read"]},
                   headers=m["h"]).json()["key"]
    hk = {"X-API-Key": key}
    assert check(srv, hk, permission="file:read")["allowed"]
    assert not check(srv, hk, permission="file:write")["allowed"]
    assert not check(srv, hk, permission="org:read")["allowed"]
    org = srv.post(ORGS, {"name": unique_name("o")}, headers=m["h"]).json()
    assert check(srv, hk, permission="file:read", org_id=org["id"])["reason"] == "not_a_member"


def test_verify_rules_use_the_same_decision(srv):
    m = person(srv)
    fw = {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/files/a.txt",
          "X-Forwarded-Host": "app"}
    assert srv.get(VERIFY, headers={**m["h"], **fw}).status_code == 200
    fw["X-Forwarded-Method"] = "DELETE"
    assert srv.get(VERIFY, headers={**m["h"], **fw}).status_code == 403
    assert wait_audit(srv, "PERMISSION_DENIED", user_id=m["id"])
    h = bearer(srv.tokens("admin", ADMIN_PASSWORD)["access_token"])
    assert srv.get(VERIFY, headers={**h, **fw}).status_code == 200  # superadmin

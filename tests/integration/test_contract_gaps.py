"""What a new user trips over (issue 17, item 7): answers that must follow the contract.

Long values are bad values of a named field (422), not malformed JSON; the bootstrap
password's refusal names its rules; every user keeps an org (an org's deletion too); a
removal ends that org's tokens for good and no other's; org names tell no tenant of another; RBAC and API-key records name their
resource.  Black-box over HTTP against the real binary."""
import pytest

from conftest import ADMIN_PASSWORD, Server, assert_error, bearer, unique_name, wait_audit

ORGS = "/api/v1/orgs"
ME = "/api/v1/auth/me"
VERIFY = "/api/v1/auth/verify"
LONG = "x" * 10_000


@pytest.fixture(scope="module")
def srv():
    s = Server(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256"})
    s.start()
    yield s
    s.cleanup()


def person(s):
    u = s.register()
    t = s.tokens(u["username"], u["password"])
    u["h"] = bearer(t["access_token"])
    return u


def login(s, u, org_id=None, expect=200):
    body = {"username": u["username"], "password": u["password"]}
    if org_id:
        body["org_id"] = org_id
    r = s.post("/api/v1/auth/login", body)
    assert r.status_code == expect, r.text
    return r


def new_org(s, h, name=None):
    r = s.post(ORGS, {"name": name or unique_name("org")}, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("field", ["username", "email", "password", "full_name"])
def test_long_registration_value_names_its_field(srv, field):
    body = {"username": unique_name(), "email": f"{unique_name()}@example.test",
            "password": "correct horse battery staple 42", "full_name": "New User"}
    body[field] = LONG
    r = srv.post("/api/v1/auth/register", body)
    assert_error(r, 422, "invalid_value")
    assert r.json()["error"]["details"] == {"field": field}


def test_long_values_elsewhere_name_their_field(srv):
    u = person(srv)
    r = srv.post(ORGS, {"name": LONG}, headers=u["h"])
    assert_error(r, 422, "invalid_value")
    assert r.json()["error"]["details"] == {"field": "name"}
    r = srv.post("/api/v1/auth/login", {"username": LONG, "password": "x"})
    assert_error(r, 422, "invalid_value")
    assert r.json()["error"]["details"] == {"field": "username"}
    # inside an array: the member holding it is named
    r = srv.post("/api/v1/api-keys", {"name": "k", "scopes": ["a:b", LONG]}, headers=u["h"])
    assert_error(r, 422, "invalid_value")
    assert r.json()["error"]["details"] == {"field": "scopes"}
    # deep nesting and long keys stay malformed input
    assert_error(srv.post(ORGS, {LONG: "x"}, headers=u["h"]), 400, "invalid_json")
    deep = {}
    for _ in range(200):
        deep = {"a": deep}
    assert_error(srv.post(ORGS, deep, headers=u["h"]), 400, "invalid_json")


def test_weak_bootstrap_password_names_the_failed_rules(make_server):
    s = make_server(env={"GATEHOUSE_ADMIN_PASSWORD": "short"}, start=False)
    s.start(wait=False)
    assert s.proc.wait(timeout=60) != 0
    text = s.log_text()
    assert "breaks the password policy" in text
    assert "too_short" in text


def test_leaving_the_last_org_is_refused(srv):
    u = person(srv)
    me = srv.get(ME, headers=u["h"]).json()
    assert len(me["orgs"]) == 1
    r = srv.request("DELETE", f"{ORGS}/{me['primary_org_id']}/members/{u['id']}", headers=u["h"])
    assert_error(r, 409, "conflict")
    # with a second org, leaving the first works and the primary org moves
    org = new_org(srv, u["h"])
    r = srv.request("DELETE", f"{ORGS}/{me['primary_org_id']}/members/{u['id']}", headers=u["h"])
    assert r.status_code == 204, r.text
    t = login(srv, u).json()  # no org_id: the primary org, which exists
    me = srv.get(ME, headers=bearer(t["access_token"])).json()
    assert me["primary_org_id"] == org["id"]
    # and now that one is the last
    r = srv.request("DELETE", f"{ORGS}/{org['id']}/members/{u['id']}",
                    headers=bearer(t["access_token"]))
    assert_error(r, 409, "conflict")


def remove(srv, admin_h, org_id, user):
    r = srv.request("DELETE", f"{ORGS}/{org_id}/members/{user['id']}", headers=admin_h)
    assert r.status_code == 204, r.text


def only_in_a_new_org(srv):
    """An org's admin a and a member m whose only org it is (m has left the default org),
    m's token for it, and the default org's id."""
    a, m = person(srv), person(srv)
    org = new_org(srv, a["h"])
    srv.join(a["h"], org["id"], m)
    hm = bearer(login(srv, m, org["id"]).json()["access_token"])
    default = srv.get(ME, headers=m["h"]).json()["primary_org_id"]
    remove(srv, hm, default, m)
    return a, m, org, hm, default


def test_removed_from_the_last_org_falls_back_to_default(srv):
    a, m, org, _, default = only_in_a_new_org(srv)
    remove(srv, a["h"], org["id"], m)
    t = login(srv, m).json()  # a login without org_id still finds an org
    me = srv.get(ME, headers=bearer(t["access_token"])).json()
    assert [o["id"] for o in me["orgs"]] == [default]
    assert me["primary_org_id"] == default


def test_removal_ends_that_orgs_tokens_for_good(srv):
    a, m = person(srv), person(srv)
    org = new_org(srv, a["h"])
    srv.join(a["h"], org["id"], m)
    old = bearer(login(srv, m, org["id"]).json()["access_token"])
    elsewhere = m["h"]  # m's token for the default org
    assert srv.get(VERIFY, headers=old).status_code == 200
    remove(srv, a["h"], org["id"], m)
    assert srv.get(VERIFY, headers=old).status_code == 401
    # the removal is from one org: m's tokens for its other orgs work on
    assert srv.get(VERIFY, headers=elsewhere).status_code == 200
    assert srv.get(ME, headers=elsewhere).status_code == 200
    srv.join(a["h"], org["id"], m)  # re-added: the old token stays dead
    assert srv.get(VERIFY, headers=old).status_code == 401
    assert srv.get(ME, headers=old).status_code == 401
    fresh = bearer(login(srv, m, org["id"]).json()["access_token"])
    assert srv.get(VERIFY, headers=fresh).status_code == 200
    # a second removal and re-add ends the token of the second membership too
    remove(srv, a["h"], org["id"], m)
    srv.join(a["h"], org["id"], m)
    assert srv.get(VERIFY, headers=fresh).status_code == 401
    assert srv.get(VERIFY, headers=elsewhere).status_code == 200


def test_deleting_an_org_leaves_its_members_an_org(srv):
    a, m, org, hm, default = only_in_a_new_org(srv)
    assert srv.get(ME, headers=hm).json()["primary_org_id"] == org["id"]
    r = srv.request("DELETE", f"{ORGS}/{org['id']}", headers=a["h"])
    assert r.status_code == 204, r.text
    assert srv.get(VERIFY, headers=hm).status_code == 401
    # m falls back to the default org as a member, as a removal from a last org does
    t = login(srv, m).json()  # a login without org_id finds it
    me = srv.get(ME, headers=bearer(t["access_token"])).json()
    assert [(o["id"], o["role"]) for o in me["orgs"]] == [(default, "member")]
    assert me["primary_org_id"] == default
    # a, still in the default org, was not moved: the record says how many were
    rows = wait_audit(srv, "ORG_DELETE", resource_id=org["id"])
    assert rows and '"moved_to_default":1' in rows[0]["metadata"].replace(" ", ""), rows


def test_org_names_tell_nothing_of_other_tenants(srv):
    a, b = person(srv), person(srv)
    name = unique_name("Acme ")
    first = new_org(srv, a["h"], name)
    second = new_org(srv, b["h"], name)  # no 409: a tenant learns nothing of another's names
    assert first["id"] != second["id"]
    r = srv.request("PATCH", f"{ORGS}/{second['id']}", json={"name": name.upper()},
                    headers=b["h"])
    assert r.status_code == 200, r.text
    # the default org's name is the server's
    for taken in ("default", "DEFAULT"):
        r = srv.post(ORGS, {"name": taken}, headers=a["h"])
        assert_error(r, 422, "invalid_value")


def test_rbac_and_key_records_name_their_resource(srv):
    u = person(srv)
    org = new_org(srv, u["h"])
    assert wait_audit(srv, "ORG_CREATE", resource_type="org", resource_id=org["id"])
    r = srv.post(f"{ORGS}/{org['id']}/roles", {"name": "viewer", "permissions": ["org:read"]},
                 headers=u["h"])
    assert r.status_code == 201, r.text
    role = r.json()
    assert wait_audit(srv, "ROLE_CHANGE", resource_type="role", resource_id=role["id"])
    v = person(srv)
    r = srv.post(f"{ORGS}/{org['id']}/members", {"user_id": v["id"], "role": "viewer"},
                 headers=u["h"])
    assert r.status_code == 202, r.text
    inv = r.json()["invitation"]["id"]
    assert wait_audit(srv, "MEMBER_INVITED", resource_type="invitation", resource_id=inv)
    k = srv.post("/api/v1/api-keys", {"name": "ci"}, headers=u["h"])
    assert k.status_code == 201, k.text
    kid = k.json()["id"]
    assert wait_audit(srv, "API_KEY_CREATE", resource_type="api_key", resource_id=kid)
    assert srv.request("DELETE", f"/api/v1/api-keys/{kid}", headers=u["h"]).status_code == 204
    assert wait_audit(srv, "API_KEY_REVOKE", resource_type="api_key", resource_id=kid)
    # the audit API's filters find them
    h = bearer(srv.tokens("admin", ADMIN_PASSWORD)["access_token"])
    r = srv.get("/api/v1/audit/logs", headers=h,
                params={"resource_type": "api_key", "resource_id": kid})
    assert r.status_code == 200, r.text
    assert {i["action"] for i in r.json()["items"]} == {"API_KEY_CREATE", "API_KEY_REVOKE"}

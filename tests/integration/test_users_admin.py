"""/api/v1/users: superadmin and user:admin access, pagination, PATCH and DELETE with their
bad inputs, and revocation of everything a deleted or disabled user holds.  Black-box."""
import uuid

import pytest

from conftest import ADMIN_PASSWORD, Server, assert_error, bearer, unique_name, wait_audit

USERS = "/api/v1/users"
ORGS = "/api/v1/orgs"
VERIFY = "/api/v1/auth/verify"
FIELDS = {"id", "username", "email", "full_name", "primary_org_id", "disabled", "superadmin",
          "created_at", "updated_at"}


@pytest.fixture(scope="module")
def srv():
    s = Server(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256"})
    s.start()
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def root(srv):
    t = srv.tokens("admin", ADMIN_PASSWORD)
    me = srv.get("/api/v1/auth/me", headers=bearer(t["access_token"])).json()
    return {"h": bearer(t["access_token"]), "id": me["id"]}


def person(s):
    u = s.register()
    t = s.tokens(u["username"], u["password"])
    u["h"] = bearer(t["access_token"])
    u["refresh"] = t["refresh_token"]
    return u


def test_list_paginates(srv, root):
    for _ in range(3):
        person(srv)
    page = srv.get(f"{USERS}?limit=2", headers=root["h"]).json()
    assert len(page["items"]) == 2 and page["next_offset"] == 2
    assert set(page["items"][0]) == FIELDS
    assert all("password" not in str(k) for k in page["items"][0])
    seen = []
    offset = 0
    while offset is not None:
        p = srv.get(f"{USERS}?limit=2&offset={offset}", headers=root["h"]).json()
        seen += [u["id"] for u in p["items"]]
        offset = p["next_offset"]
    assert len(seen) == len(set(seen)) >= 4
    assert srv.get(USERS, headers=root["h"]).json()["next_offset"] is None
    for q in ["limit=0", "limit=1001", "limit=abc", "offset=x", "limit=-1"]:
        assert_error(srv.get(f"{USERS}?{q}", headers=root["h"]), 400, "invalid_request")


def test_members_are_refused(srv):
    m = person(srv)
    assert_error(srv.get(USERS, headers=m["h"]), 403, "forbidden")
    assert_error(srv.get(f"{USERS}/{m['id']}", headers=m["h"]), 403, "forbidden")
    assert_error(srv.request("PATCH", f"{USERS}/{m['id']}", json={"full_name": "x"},
                             headers=m["h"]), 403, "forbidden")
    assert_error(srv.request("DELETE", f"{USERS}/{m['id']}", headers=m["h"]), 403, "forbidden")
    assert_error(srv.get(USERS), 401, "unauthenticated")
    assert wait_audit(srv, "PERMISSION_DENIED", user_id=m["id"])


def test_get_and_404(srv, root):
    m = person(srv)
    r = srv.get(f"{USERS}/{m['id']}", headers=root["h"])
    assert r.status_code == 200 and r.json()["username"] == m["username"]
    assert_error(srv.get(f"{USERS}/{uuid.uuid4()}", headers=root["h"]), 404, "not_found")
    assert_error(srv.get(f"{USERS}/nope", headers=root["h"]), 404, "not_found")


def test_patch(srv, root):
    m = person(srv)
    url = f"{USERS}/{m['id']}"
    r = srv.request("PATCH", url, json={"full_name": "New Name", "email": "n@example.test"},
                    headers=root["h"])
    assert r.status_code == 200, r.text
    assert r.json()["full_name"] == "New Name" and r.json()["email"] == "n@example.test"
    for body, status, code in [
        ({"email": "no-at"}, 422, "invalid_value"),
        ({"full_name": "tab\there"}, 422, "invalid_value"),
        ({"full_name": "x" * 300}, 422, "invalid_value"),
        ({"disabled": "yes"}, 400, "invalid_request"),
        ({"superadmin": 1}, 400, "invalid_request"),
        ({"email": 5}, 400, "invalid_request"),
    ]:
        assert_error(srv.request("PATCH", url, json=body, headers=root["h"]), status, code)
    other = person(srv)
    assert_error(srv.request("PATCH", url, json={"email": other["email"].upper()},
                             headers=root["h"]), 409, "conflict")
    assert wait_audit(srv, "USER_UPDATE")


def test_superadmin_flag(srv, root):
    m = person(srv)
    r = srv.request("PATCH", f"{USERS}/{m['id']}", json={"superadmin": True}, headers=root["h"])
    assert r.status_code == 200 and r.json()["superadmin"] is True
    # takes effect at once for the existing token
    assert srv.get(USERS, headers=m["h"]).status_code == 200
    srv.request("PATCH", f"{USERS}/{m['id']}", json={"superadmin": False}, headers=root["h"])
    assert srv.get(USERS, headers=m["h"]).status_code == 403
    # nobody may lock itself out
    assert_error(srv.request("PATCH", f"{USERS}/{root['id']}", json={"disabled": True},
                             headers=root["h"]), 409, "conflict")
    assert_error(srv.request("PATCH", f"{USERS}/{root['id']}", json={"superadmin": False},
                             headers=root["h"]), 409, "conflict")
    assert_error(srv.request("DELETE", f"{USERS}/{root['id']}", headers=root["h"]), 409)


def test_disable_revokes_at_once(srv, root):
    m = person(srv)
    key = srv.post("/api/v1/api-keys", {"name": "k"}, headers=m["h"]).json()["key"]
    assert srv.get(VERIFY, headers=m["h"]).status_code == 200
    assert srv.get(VERIFY, headers={"X-API-Key": key}).status_code == 200
    r = srv.request("PATCH", f"{USERS}/{m['id']}", json={"disabled": True}, headers=root["h"])
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert srv.get(VERIFY, headers=m["h"]).status_code == 401
    assert srv.get(VERIFY, headers={"X-API-Key": key}).status_code == 401
    assert srv.post("/api/v1/auth/refresh", {"refresh_token": m["refresh"]}).status_code == 401
    srv.login(m["username"], m["password"], expect=401)


def test_delete_revokes_everything(srv, root):
    m = person(srv)
    key = srv.post("/api/v1/api-keys", {"name": "k"}, headers=m["h"]).json()["key"]
    assert srv.get(VERIFY, headers=m["h"]).status_code == 200
    assert srv.request("DELETE", f"{USERS}/{m['id']}", headers=root["h"]).status_code == 204
    assert srv.get(VERIFY, headers=m["h"]).status_code == 401
    assert srv.get(VERIFY, headers={"X-API-Key": key}).status_code == 401
    assert srv.post("/api/v1/auth/refresh", {"refresh_token": m["refresh"]}).status_code == 401
    assert_error(srv.get(f"{USERS}/{m['id']}", headers=root["h"]), 404)
    assert_error(srv.request("DELETE", f"{USERS}/{m['id']}", headers=root["h"]), 404)
    assert wait_audit(srv, "USER_DELETE")


def test_sole_admin_cannot_be_deleted(srv, root):
    a = person(srv)
    srv.post(ORGS, {"name": unique_name("o")}, headers=a["h"])
    assert_error(srv.request("DELETE", f"{USERS}/{a['id']}", headers=root["h"]), 409, "conflict")


def test_org_user_admin_sees_its_members_only(srv, root):
    a = person(srv)
    org = srv.post(ORGS, {"name": unique_name("o")}, headers=a["h"]).json()
    ha = bearer(srv.post("/api/v1/auth/login", {"username": a["username"],
                                                "password": a["password"],
                                                "org_id": org["id"]}).json()["access_token"])
    m, outsider = person(srv), person(srv)
    srv.join(ha, org["id"], m)
    ids = {u["id"] for u in srv.get(USERS, headers=ha).json()["items"]}
    assert ids == {a["id"], m["id"]}
    assert srv.get(f"{USERS}/{m['id']}", headers=ha).status_code == 200
    assert_error(srv.get(f"{USERS}/{outsider['id']}", headers=ha), 404, "not_found")
    # m also belongs to the default org: an org admin may not change it
    assert_error(srv.request("PATCH", f"{USERS}/{m['id']}", json={"full_name": "x"},
                             headers=ha), 403, "forbidden")
    assert_error(srv.request("PATCH", f"{USERS}/{a['id']}", json={"superadmin": True},
                             headers=ha), 403, "forbidden")


def test_org_admin_never_reads_another_orgs_id(srv, root):
    a = person(srv)
    org = srv.post(ORGS, {"name": unique_name("o")}, headers=a["h"]).json()
    ha = bearer(srv.post("/api/v1/auth/login", {"username": a["username"],
                                                "password": a["password"],
                                                "org_id": org["id"]}).json()["access_token"])
    m = person(srv)  # primary org: default
    srv.join(ha, org["id"], m)
    assert srv.get(f"{USERS}/{m['id']}", headers=ha).json()["primary_org_id"] is None
    listed = [u for u in srv.get(USERS, headers=ha).json()["items"] if u["id"] == m["id"]]
    assert listed and listed[0]["primary_org_id"] is None
    assert srv.get(f"{USERS}/{m['id']}", headers=root["h"]).json()["primary_org_id"]

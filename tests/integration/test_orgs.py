"""Organizations and memberships: create/list/get/update/delete, members add/change/remove,
the last-admin rule, the primary org, token org switching, 404-not-403 across orgs and
immediate revocation after a demotion or removal.  Black-box over HTTP."""
import uuid

import pytest

from conftest import ADMIN_PASSWORD, assert_error, bearer, unique_name, wait_audit

ORGS = "/api/v1/orgs"
ME = "/api/v1/auth/me"
VERIFY = "/api/v1/auth/verify"
FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}


@pytest.fixture(scope="module")
def srv(make_server_module):
    return make_server_module


@pytest.fixture(scope="module")
def make_server_module():
    from conftest import Server
    s = Server(env=FAST)
    s.start()
    yield s
    s.cleanup()


def login(s, u, org_id=None, expect=200):
    body = {"username": u["username"], "password": u["password"]}
    if org_id:
        body["org_id"] = org_id
    r = s.post("/api/v1/auth/login", body)
    assert r.status_code == expect, r.text
    return r.json()


def person(s):
    u = s.register()
    t = login(s, u)
    u["h"] = bearer(t["access_token"])
    u["refresh"] = t["refresh_token"]
    return u


def admin(s):
    return bearer(s.tokens("admin", ADMIN_PASSWORD)["access_token"])


def new_org(s, h, name=None):
    r = s.post(ORGS, {"name": name or unique_name("org")}, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def add(s, h, org, user, role="member"):
    """Makes user (a person) a member of org as its admin (h) must: invited, then accepted."""
    return s.join(h, org, user, role)


def test_create_makes_creator_admin(srv):
    a = person(srv)
    org = new_org(srv, a["h"], "Acme Inc.")
    assert set(org) == {"id", "name", "created_at"}
    assert org["name"] == "Acme Inc."
    uuid.UUID(org["id"])
    r = srv.get(f"{ORGS}/{org['id']}/members", headers=a["h"])
    assert r.status_code == 200
    body = r.json()
    assert body["next_offset"] is None
    assert body["items"] == [{"user_id": a["id"], "username": a["username"], "role": "admin"}]
    rows = wait_audit(srv, "ORG_CREATE", org_id=org["id"])
    assert rows


def test_create_bad_inputs(srv):
    a = person(srv)
    for name in ["", " lead", "trail ", "x" * 65, "bad/name", "tab\tname", "caf\u00e9", "a,b"]:
        assert_error(srv.post(ORGS, {"name": name}, headers=a["h"]), 422, "invalid_value")
    assert_error(srv.post(ORGS, {"name": 5}, headers=a["h"]), 400, "invalid_request")
    assert_error(srv.post(ORGS, {}, headers=a["h"]), 400, "invalid_request")
    r = srv.request("POST", ORGS, data="{", headers={**a["h"], "Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")
    assert_error(srv.post(ORGS, {"name": "x"}), 401, "unauthenticated")
    # names repeat (a 409 would tell of other tenants' orgs); "default" is the server's
    name = unique_name("dup")
    first = new_org(srv, a["h"], name)
    assert new_org(srv, a["h"], name.upper())["id"] != first["id"]
    assert_error(srv.post(ORGS, {"name": "Default"}, headers=a["h"]), 422, "invalid_value")


def test_list_shows_own_orgs_and_superadmin_sees_all(srv):
    a, b = person(srv), person(srv)
    oa = new_org(srv, a["h"])
    ob = new_org(srv, b["h"])
    ids = [o["id"] for o in srv.get(ORGS, headers=a["h"]).json()["items"]]
    assert oa["id"] in ids and ob["id"] not in ids
    assert any(o["name"] == "default" for o in srv.get(ORGS, headers=a["h"]).json()["items"])
    every = []
    offset = 0
    while offset is not None:
        page = srv.get(f"{ORGS}?limit=1&offset={offset}", headers=admin(srv)).json()
        assert len(page["items"]) <= 1
        every += [o["id"] for o in page["items"]]
        offset = page["next_offset"]
    assert oa["id"] in every and ob["id"] in every
    for q in ["limit=0", "limit=1001", "limit=x", "offset=-1"]:
        assert_error(srv.get(f"{ORGS}?{q}", headers=a["h"]), 400, "invalid_request")


def test_other_orgs_answer_404_never_403(srv):
    a, b = person(srv), person(srv)
    ob = new_org(srv, b["h"])
    base = f"{ORGS}/{ob['id']}"
    for method, path, body in [
        ("GET", base, None), ("PATCH", base, {"name": "hijack"}), ("DELETE", base, None),
        ("GET", base + "/members", None),
        ("POST", base + "/members", {"user_id": a["id"], "role": "admin"}),
        ("PATCH", f"{base}/members/{b['id']}", {"role": "member"}),
        ("DELETE", f"{base}/members/{b['id']}", None),
        ("GET", base + "/roles", None),
        ("POST", base + "/roles", {"name": "x", "permissions": ["file:read"]}),
    ]:
        r = srv.request(method, path, json=body, headers=a["h"])
        assert_error(r, 404, "not_found")
    # unknown and malformed ids too
    assert_error(srv.get(f"{ORGS}/{uuid.uuid4()}", headers=a["h"]), 404, "not_found")
    assert_error(srv.get(f"{ORGS}/not-an-id", headers=a["h"]), 404, "not_found")
    assert srv.get(base, headers=b["h"]).status_code == 200


def test_member_without_permission_gets_403_audited(srv):
    a, m = person(srv), person(srv)
    org = new_org(srv, a["h"])
    add(srv, a["h"], org["id"], m)
    hm = bearer(login(srv, m, org["id"])["access_token"])
    assert srv.get(f"{ORGS}/{org['id']}", headers=hm).status_code == 200  # org:read
    assert_error(srv.request("PATCH", f"{ORGS}/{org['id']}", json={"name": "mine"}, headers=hm),
                 403, "forbidden")
    assert_error(srv.request("DELETE", f"{ORGS}/{org['id']}", headers=hm), 403, "forbidden")
    assert_error(srv.post(f"{ORGS}/{org['id']}/members", {"user_id": m["id"], "role": "admin"},
                          headers=hm), 403, "forbidden")
    assert wait_audit(srv, "PERMISSION_DENIED", user_id=m["id"])


def test_update_and_delete(srv):
    a = person(srv)
    org = new_org(srv, a["h"])
    r = srv.request("PATCH", f"{ORGS}/{org['id']}", json={"name": "Renamed Co"}, headers=a["h"])
    assert r.status_code == 200 and r.json()["name"] == "Renamed Co"
    assert_error(srv.request("PATCH", f"{ORGS}/{org['id']}", json={"name": ""}, headers=a["h"]),
                 422, "invalid_value")
    r = srv.request("DELETE", f"{ORGS}/{org['id']}", headers=a["h"])
    assert r.status_code == 204
    assert_error(srv.get(f"{ORGS}/{org['id']}", headers=a["h"]), 404)
    assert wait_audit(srv, "ORG_DELETE", org_id=org["id"])


def test_default_org_is_immutable(srv):
    h = admin(srv)
    default = [o for o in srv.get(ORGS, headers=h).json()["items"] if o["name"] == "default"][0]
    assert_error(srv.request("DELETE", f"{ORGS}/{default['id']}", headers=h), 409, "immutable")


def test_members_add_change_remove_and_bad_inputs(srv):
    a, m = person(srv), person(srv)
    org = new_org(srv, a["h"])
    base = f"{ORGS}/{org['id']}/members"
    r = add(srv, a["h"], org["id"], m)
    assert r == {"id": org["id"], "name": org["name"], "role": "member"}
    listed = srv.get(base, headers=a["h"]).json()["items"]
    assert {"user_id": m["id"], "username": m["username"], "role": "member"} in listed
    # A member again, or nobody at all: an invitation like any other, and nothing changes.
    for who in (m["id"], str(uuid.uuid4())):
        r = srv.post(base, {"user_id": who, "role": "admin"}, headers=a["h"])
        assert r.status_code == 202, r.text
    assert srv.get("/api/v1/auth/me/invitations", headers=m["h"]).json()["items"] == []
    assert srv.get(base, headers=a["h"]).json()["items"] == listed
    o = person(srv)
    assert_error(srv.post(base, {"user_id": o["id"], "role": "nope"}, headers=a["h"]),
                 422, "invalid_value")
    assert_error(srv.post(base, {"user_id": "x", "role": "member"}, headers=a["h"]),
                 422, "invalid_value")
    assert_error(srv.post(base, {"user_id": o["id"]}, headers=a["h"]), 400, "invalid_request")
    r = srv.request("PATCH", f"{base}/{m['id']}", json={"role": "admin"}, headers=a["h"])
    assert r.status_code == 200 and r.json()["role"] == "admin"
    assert_error(srv.request("PATCH", f"{base}/{o['id']}", json={"role": "admin"},
                             headers=a["h"]), 404, "not_found")
    assert srv.request("DELETE", f"{base}/{m['id']}", headers=a["h"]).status_code == 204
    assert_error(srv.request("DELETE", f"{base}/{m['id']}", headers=a["h"]), 404)
    assert wait_audit(srv, "MEMBERSHIP_CHANGE", org_id=org["id"])


def test_last_admin_cannot_leave_or_be_demoted(srv):
    a, m = person(srv), person(srv)
    org = new_org(srv, a["h"])
    base = f"{ORGS}/{org['id']}/members"
    assert_error(srv.request("PATCH", f"{base}/{a['id']}", json={"role": "member"},
                             headers=a["h"]), 409, "conflict")
    assert_error(srv.request("DELETE", f"{base}/{a['id']}", headers=a["h"]), 409, "conflict")
    add(srv, a["h"], org["id"], m, role="admin")
    r = srv.request("PATCH", f"{base}/{a['id']}", json={"role": "member"}, headers=a["h"])
    assert r.status_code == 200


def test_member_may_leave(srv):
    a, m = person(srv), person(srv)
    org = new_org(srv, a["h"])
    add(srv, a["h"], org["id"], m)
    r = srv.request("DELETE", f"{ORGS}/{org['id']}/members/{m['id']}", headers=m["h"])
    assert r.status_code == 204


def test_token_follows_the_org_login_and_refresh(srv):
    a = person(srv)
    org = new_org(srv, a["h"])
    t = login(srv, a, org["id"])
    v = srv.get(VERIFY, headers=bearer(t["access_token"]))
    assert v.status_code == 200
    assert v.headers["X-Auth-Org-Id"] == org["id"] and v.headers["X-Auth-Roles"] == "admin"
    # refresh into the default org, then back
    me = srv.get(ME, headers=a["h"]).json()
    r = srv.post("/api/v1/auth/refresh", {"refresh_token": t["refresh_token"],
                                          "org_id": me["primary_org_id"]})
    assert r.status_code == 200, r.text
    v = srv.get(VERIFY, headers=bearer(r.json()["access_token"]))
    assert v.headers["X-Auth-Org-Id"] == me["primary_org_id"]
    assert v.headers["X-Auth-Roles"] == "member"
    # an org the user is not in: 404, and the refresh token stays usable
    other = new_org(srv, person(srv)["h"])
    nxt = r.json()["refresh_token"]
    assert_error(srv.post("/api/v1/auth/refresh", {"refresh_token": nxt, "org_id": other["id"]}),
                 404, "not_found")
    assert srv.post("/api/v1/auth/refresh", {"refresh_token": nxt}).status_code == 200
    assert_error(srv.post("/api/v1/auth/refresh", {"refresh_token": "x", "org_id": "bad"}),
                 422, "invalid_value")
    login(srv, a, other["id"], expect=404)


def test_primary_org(srv):
    a = person(srv)
    org = new_org(srv, a["h"])
    r = srv.request("PUT", "/api/v1/auth/me/primary-org", json={"org_id": org["id"]},
                    headers=a["h"])
    assert r.status_code == 204
    assert srv.get(ME, headers=a["h"]).json()["primary_org_id"] == org["id"]
    t = login(srv, a)
    assert srv.get(VERIFY, headers=bearer(t["access_token"])).headers["X-Auth-Org-Id"] == org["id"]
    other = new_org(srv, person(srv)["h"])
    assert_error(srv.request("PUT", "/api/v1/auth/me/primary-org", json={"org_id": other["id"]},
                             headers=a["h"]), 404, "not_found")
    assert_error(srv.request("PUT", "/api/v1/auth/me/primary-org", json={"org_id": 3},
                             headers=a["h"]), 400, "invalid_request")
    # deleting the primary org moves the user to another org of theirs
    assert srv.request("DELETE", f"{ORGS}/{org['id']}", headers=a["h"]).status_code == 204
    me = srv.get(ME, headers=a["h"]).json()
    assert me["primary_org_id"] and me["primary_org_id"] != org["id"]


def test_demotion_and_removal_apply_at_once(srv):
    a, m = person(srv), person(srv)
    org = new_org(srv, a["h"])
    add(srv, a["h"], org["id"], m, role="admin")
    hm = bearer(login(srv, m, org["id"])["access_token"])
    # warm every cache, then demote
    for _ in range(3):
        v = srv.get(VERIFY, headers=hm)
        assert v.status_code == 200 and v.headers["X-Auth-Roles"] == "admin"
    key = srv.post("/api/v1/api-keys", {"name": "k"}, headers=hm).json()["key"]
    assert srv.get(VERIFY, headers={"X-API-Key": key}).headers["X-Auth-Roles"] == "admin"
    base = f"{ORGS}/{org['id']}/members/{m['id']}"
    assert srv.request("PATCH", base, json={"role": "member"}, headers=a["h"]).status_code == 200
    v = srv.get(VERIFY, headers=hm)
    assert v.status_code == 200 and v.headers["X-Auth-Roles"] == "member"
    assert srv.get(VERIFY, headers={"X-API-Key": key}).headers["X-Auth-Roles"] == "member"
    assert_error(srv.request("PATCH", f"{ORGS}/{org['id']}", json={"name": "n2"}, headers=hm),
                 403, "forbidden")
    # removal: the token for that org and the key stop working
    assert srv.request("DELETE", base, headers=a["h"]).status_code == 204
    assert srv.get(VERIFY, headers=hm).status_code == 401
    assert srv.get(VERIFY, headers={"X-API-Key": key}).status_code == 401
    assert srv.get(ME, headers=hm).status_code == 401


def test_org_delete_revokes_tokens_scoped_to_it(srv):
    a, m = person(srv), person(srv)
    org = new_org(srv, a["h"])
    add(srv, a["h"], org["id"], m)
    tm = login(srv, m, org["id"])
    hm = bearer(tm["access_token"])
    assert srv.get(VERIFY, headers=hm).status_code == 200
    assert srv.request("DELETE", f"{ORGS}/{org['id']}", headers=a["h"]).status_code == 204
    assert srv.get(VERIFY, headers=hm).status_code == 401
    assert_error(srv.post("/api/v1/auth/refresh", {"refresh_token": tm["refresh_token"]}),
                 401, "invalid_token")
    # tokens for other orgs are untouched
    assert srv.get(VERIFY, headers=m["h"]).status_code == 200


def test_superadmin_acts_in_any_org(srv):
    a = person(srv)
    org = new_org(srv, a["h"])
    h = admin(srv)
    assert srv.get(f"{ORGS}/{org['id']}", headers=h).status_code == 200
    assert srv.get(f"{ORGS}/{org['id']}/members", headers=h).status_code == 200


def test_api_key_acts_in_its_org_only(srv):
    a = person(srv)
    org = new_org(srv, a["h"])
    key = srv.post("/api/v1/api-keys", {"name": "k"}, headers=a["h"]).json()["key"]
    hk = {"X-API-Key": key}
    items = srv.get(ORGS, headers=hk).json()["items"]
    assert len(items) == 1 and items[0]["name"] == "default"
    assert_error(srv.get(f"{ORGS}/{org['id']}", headers=hk), 404, "not_found")
    assert_error(srv.post(ORGS, {"name": unique_name("o")}, headers=hk), 403, "forbidden")


def test_cli_org_and_role_reach_a_running_server(srv):
    import time
    from conftest import run_cli
    a = person(srv)
    name = unique_name("cli")
    r = run_cli(["org", "create", "--name", name, "--owner", a["username"]], srv.data_dir)
    assert r.returncode == 0, r.stderr
    assert name in run_cli(["org", "list", "--user", a["username"]], srv.data_dir).stdout
    m = person(srv)
    r = run_cli(["org", "add-member", "--org", name, "--user", m["username"], "--role", "admin"],
                srv.data_dir)
    assert r.returncode == 0, r.stderr
    org = [o for o in srv.get(ORGS, headers=m["h"]).json()["items"] if o["name"] == name][0]
    hm = bearer(login(srv, m, org["id"])["access_token"])
    assert srv.get(VERIFY, headers=hm).headers["X-Auth-Roles"] == "admin"
    r = run_cli(["role", "create", "--org", name, "--name", "viewer", "--perm", "file:read"],
                srv.data_dir)
    assert r.returncode == 0, r.stderr
    assert run_cli(["role", "set", "--org", name, "--user", m["username"], "--role", "viewer"],
                   srv.data_dir).returncode == 0
    deadline = time.monotonic() + 2
    while srv.get(VERIFY, headers=hm).headers.get("X-Auth-Roles") != "viewer":
        assert time.monotonic() < deadline, "the CLI's change did not reach the server"
        time.sleep(0.05)
    assert "viewer" in run_cli(["role", "list", "--org", org["id"]], srv.data_dir).stdout
    assert run_cli(["role", "delete", "--org", name, "--name", "viewer"],
                   srv.data_dir).returncode == 1  # held
    assert run_cli(["role", "delete", "--org", name, "--name", "admin"],
                   srv.data_dir).returncode == 1
    assert run_cli(["role", "create", "--org", name, "--name", "x", "--perm", "nope:x"],
                   srv.data_dir).returncode == 1
    for cmd in (["org"], ["role"], ["org", "frob"], ["role", "create", "--org", name]):
        assert run_cli(cmd, srv.data_dir).returncode == 2
    for cmd in (["org", "--help"], ["role", "--help"], ["org", "create", "--help"]):
        r = run_cli(cmd)
        assert r.returncode == 0 and "usage" in r.stdout
    # names repeat; a repeated name no longer names one org at the CLI
    assert run_cli(["org", "create", "--name", name, "--owner", a["username"]],
                   srv.data_dir).returncode == 0
    r = run_cli(["role", "list", "--org", name], srv.data_dir)
    assert r.returncode == 1 and "several orgs bear that name" in r.stderr


def test_an_org_admin_does_not_read_gatehouse_wide_metrics(make_server):
    s = make_server(env={**FAST, "GATEHOUSE_METRICS_ALLOW": ""})
    a = person(s)
    org = new_org(s, a["h"])
    h = bearer(login(s, a, org["id"])["access_token"])  # admin (*:*) of its own org
    assert_error(s.get("/metrics", headers=h), 403, "ip_not_allowed")
    assert s.get("/metrics", headers=admin(s)).status_code == 200


def test_a_narrow_key_cannot_act_on_its_owners_account(srv):
    a = person(srv)
    org = new_org(srv, a["h"])
    key = srv.post("/api/v1/api-keys", {"name": "narrow", "scopes": ["org:read"]},
                   headers=a["h"]).json()["key"]
    hk = {"X-API-Key": key}
    for method, path, body in [
        ("PUT", "/api/v1/auth/me/primary-org", {"org_id": org["id"]}),
        ("POST", "/api/v1/auth/logout-all", None),
        ("POST", "/api/v1/auth/change-password",
         {"current_password": a["password"], "new_password": "Another-long-pass-9!"}),
        ("POST", "/api/v1/api-keys", {"name": "child"}),
    ]:
        assert_error(srv.request(method, path, json=body, headers=hk), 403, "forbidden")
    # the user's own token may; so may a key that holds user:write (an org admin's, *:*)
    ha = bearer(login(srv, a, org["id"])["access_token"])
    wide = srv.post("/api/v1/api-keys", {"name": "wide"}, headers=ha).json()["key"]
    r = srv.request("PUT", "/api/v1/auth/me/primary-org", json={"org_id": org["id"]},
                    headers={"X-API-Key": wide})
    assert r.status_code == 204
    r = srv.request("PUT", "/api/v1/auth/me/primary-org", json={"org_id": org["id"]},
                    headers=a["h"])
    assert r.status_code == 204


def test_concurrent_demotions_keep_one_admin(srv):
    import threading
    a, b = person(srv), person(srv)
    org = new_org(srv, a["h"])
    add(srv, a["h"], org["id"], b, role="admin")
    base = f"{ORGS}/{org['id']}/members"
    results = []
    go = threading.Barrier(2)
    op = admin(srv)  # an operator demotes both admins at once: one demotion must lose

    def demote(target):
        go.wait()
        r = srv.request("PATCH", f"{base}/{target}", json={"role": "member"}, headers=op)
        results.append(r.status_code)

    threads = [threading.Thread(target=demote, args=(u,)) for u in (a["id"], b["id"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409], results
    roles = [m["role"] for m in srv.get(base, headers=admin(srv)).json()["items"]]
    assert roles.count("admin") == 1


def test_members_list_pages(srv):
    a = person(srv)
    org = new_org(srv, a["h"])
    for _ in range(3):
        add(srv, a["h"], org["id"], person(srv))
    base = f"{ORGS}/{org['id']}/members"
    first = srv.get(f"{base}?limit=3", headers=a["h"]).json()
    assert len(first["items"]) == 3 and first["next_offset"] == 3
    last = srv.get(f"{base}?limit=3&offset=3", headers=a["h"]).json()
    assert len(last["items"]) == 1 and last["next_offset"] is None
    names = [m["username"] for m in first["items"] + last["items"]]
    assert names == sorted(names, key=str.lower)


def test_a_denial_is_audited_in_the_org_of_the_path(srv):
    a, m = person(srv), person(srv)
    org = new_org(srv, a["h"])
    add(srv, a["h"], org["id"], m)
    # m's token is for the default org; the refusal happens in org
    assert_error(srv.request("DELETE", f"{ORGS}/{org['id']}", headers=m["h"]), 403)
    rows = wait_audit(srv, "PERMISSION_DENIED", user_id=m["id"], path=f"{ORGS}/{org['id']}")
    assert rows and rows[-1]["org_id"] == org["id"], rows


def test_a_key_cannot_make_its_owner_leave(srv):
    a, m = person(srv), person(srv)
    org = new_org(srv, a["h"])
    add(srv, a["h"], org["id"], m)
    hm = bearer(login(srv, m, org["id"])["access_token"])
    key = srv.post("/api/v1/api-keys", {"name": "k"}, headers=hm).json()["key"]
    r = srv.request("DELETE", f"{ORGS}/{org['id']}/members/{m['id']}",
                    headers={"X-API-Key": key})
    assert_error(r, 403, "forbidden")
    assert srv.request("DELETE", f"{ORGS}/{org['id']}/members/{m['id']}",
                       headers=hm).status_code == 204


def test_a_spent_refresh_token_with_org_id_is_still_reuse(srv):
    a = person(srv)
    other = new_org(srv, person(srv)["h"])
    t = login(srv, a)
    r = srv.post("/api/v1/auth/refresh", {"refresh_token": t["refresh_token"]})
    assert r.status_code == 200
    nxt = r.json()["refresh_token"]
    # the spent token again, aimed at an org the user is not in: reuse, not 404
    r = srv.post("/api/v1/auth/refresh", {"refresh_token": t["refresh_token"],
                                          "org_id": other["id"]})
    assert_error(r, 401, "invalid_token")
    assert wait_audit(srv, "TOKEN_REUSE_DETECTED", user_id=a["id"])
    assert_error(srv.post("/api/v1/auth/refresh", {"refresh_token": nxt}), 401, "invalid_token")

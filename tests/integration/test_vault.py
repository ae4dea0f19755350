"""The vault: /api/v1/orgs/{id}/vault (issue 14, item 3).

Versioned values up to 64 KiB per org, vault:read / vault:write in the org, another org's
vault is 404, reads and writes audited with the name and version and never the value.
"""
import pytest

from conftest import assert_error, wait_audit
from rbac_support import add_member, call, create_org, new_actor, ok

SECRET = "sk_live_51Hx9dQ2eZvKYlo2C0123456789"


def vault(org, name=None):
    return f"/api/v1/orgs/{org}/vault" + (f"/{name}" if name else "")


@pytest.fixture(scope="module")
def world(server):
    alice, bob, carol = (new_actor(server, prefix=p) for p in ("valice", "vbob", "vcarol"))
    org_a = create_org(server, alice.h)["id"]
    org_b = create_org(server, bob.h)["id"]
    add_member(server, alice.h, org_a, carol)  # a member: no vault permission
    return {"alice": alice, "bob": bob, "carol": carol, "a": org_a, "b": org_b}


def test_put_get_versions_list_delete(server, world):
    alice, a = world["alice"], world["a"]
    r = call(server, "PUT", vault(a, "stripe"), alice.h, {"value": "v1"})
    assert r.status_code == 204 and r.content == b""
    ok(call(server, "PUT", vault(a, "stripe"), alice.h, {"value": SECRET}), 204)
    ok(call(server, "PUT", vault(a, "github.token"), alice.h, {"value": "ghp_x"}), 204)
    got = ok(call(server, "GET", vault(a, "stripe"), alice.h), 200)
    assert got["name"] == "stripe" and got["value"] == SECRET and got["version"] == 2
    assert got["updated_at"].endswith("Z")
    page = ok(call(server, "GET", vault(a), alice.h), 200)
    assert [(i["name"], i["version"]) for i in page["items"]] == [("github.token", 1), ("stripe", 2)]
    assert page["next_offset"] is None
    assert all("value" not in i for i in page["items"])
    page = ok(call(server, "GET", vault(a), alice.h, params={"limit": 1}), 200)
    assert len(page["items"]) == 1 and page["next_offset"] == 1
    # Stored sealed: the database never holds the value.
    rows = server.query("SELECT sealed, key_id FROM vault_entries WHERE org_id = ?", (a,))
    assert rows and all(SECRET.encode() not in bytes(r["sealed"]) for r in rows)
    ok(call(server, "DELETE", vault(a, "stripe"), alice.h), 204)
    assert_error(call(server, "GET", vault(a, "stripe"), alice.h), 404, "not_found")
    assert_error(call(server, "DELETE", vault(a, "stripe"), alice.h), 404, "not_found")


def test_audited_without_values(server, world):
    alice, a = world["alice"], world["a"]
    ok(call(server, "PUT", vault(a, "audited"), alice.h, {"value": SECRET}), 204)
    ok(call(server, "GET", vault(a, "audited"), alice.h), 200)
    writes = wait_audit(server, "VAULT_WRITE", org_id=a)
    reads = wait_audit(server, "VAULT_READ", org_id=a)
    assert any('"name":"audited"' in (r["metadata"] or "") for r in writes)
    assert any('"name":"audited"' in (r["metadata"] or "") for r in reads)
    for r in server.query("SELECT * FROM audit_events"):
        assert SECRET not in str(dict(r))


def test_another_orgs_vault_is_404_and_members_need_permission(server, world):
    alice, bob, carol, a, b = (world[k] for k in ("alice", "bob", "carol", "a", "b"))
    ok(call(server, "PUT", vault(a, "mine"), alice.h, {"value": "x"}), 204)
    for method, path, body in (("GET", vault(a, "mine"), None), ("GET", vault(a), None),
                               ("PUT", vault(a, "mine"), {"value": "y"}),
                               ("DELETE", vault(a, "mine"), None)):
        assert_error(call(server, method, path, bob.h, body), 404, "not_found")
        assert_error(call(server, method, path, carol.h, body), 403, "forbidden")
    # bob's own org has no such name: the same name does not leak across.
    assert_error(call(server, "GET", vault(b, "mine"), bob.h), 404, "not_found")
    assert ok(call(server, "GET", vault(a, "mine"), alice.h), 200)["value"] == "x"
    assert server.get(vault(a, "mine")).status_code == 401


def test_bad_inputs(server, world):
    alice, a = world["alice"], world["a"]
    assert_error(call(server, "PUT", vault(a, "e"), alice.h, {"value": ""}), 422, "invalid_value")
    assert_error(call(server, "PUT", vault(a, "e"), alice.h, {"value": 5}), 400, "invalid_request")
    assert_error(call(server, "PUT", vault(a, "e"), alice.h, {}), 400, "invalid_request")
    for bad in ("a%20b", "x" * 129, "%C3%A9", ".hidden", "%2e%2e"):
        assert_error(call(server, "PUT", vault(a, bad), alice.h, {"value": "v"}), 404, "not_found")
    assert_error(call(server, "GET", vault("not-an-org", "x"), alice.h), 404, "not_found")


def test_sixty_four_kib_values(make_server):
    from rbac_support import superadmin
    s = make_server(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256", "GATEHOUSE_SERVER_MAX_BODY": "256KiB"})
    admin = superadmin(s)
    org = create_org(s, admin.h)["id"]
    big = "v" * 65536
    ok(call(s, "PUT", vault(org, "big"), admin.h, {"value": big}), 204)
    assert ok(call(s, "GET", vault(org, "big"), admin.h), 200)["value"] == big
    r = call(s, "PUT", vault(org, "big"), admin.h, {"value": big + "!"})
    assert_error(r, 422, "invalid_value")
    assert ok(call(s, "GET", vault(org, "big"), admin.h), 200)["version"] == 1

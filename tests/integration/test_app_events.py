"""Applications' own audit events: POST /api/v1/audit/events (issue 18, item 1).

An app with audit:write in an org writes its events into the same hash chain; it cannot
use Gatehouse's own action names, its metadata is a bounded object, and who wrote the
record (identity, address, user agent) comes from the request, never from the body.
"""
import json
import pathlib
import re
import threading

import pytest

from conftest import ADMIN_PASSWORD, assert_error, bearer, run_cli, unique_name

EVENTS = "/api/v1/audit/events"
LOGS = "/api/v1/audit/logs"
SRC = pathlib.Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def app_org(server):
    """A user who created an org (its admin: audit:write there) and that org's id."""
    u = server.register()
    h = bearer(server.tokens(u["username"], u["password"])["access_token"])
    r = server.post("/api/v1/orgs", {"name": unique_name("org")}, headers=h)
    assert r.status_code == 201, r.text
    u["h"] = h
    return u, r.json()["id"]


def post(server, h, body, **kw):
    return server.post(EVENTS, body, headers={**h, "User-Agent": "billing-app/2.1"}, **kw)


def records(server, org_id, action):
    admin = bearer(server.tokens("admin", ADMIN_PASSWORD)["access_token"])
    r = server.get(LOGS, headers=admin, params={"org_id": org_id, "action": action})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_event_joins_the_chain_with_the_requests_origin(server, app_org):
    u, org = app_org
    body = {"action": "INVOICE_EXPORTED", "resource_type": "invoice", "resource_id": "inv-42",
            "org_id": org, "status": 200, "duration_ms": 125,
            "metadata": {"format": "csv", "rows": 3},
            # Fields Gatehouse records itself: ignored when a body carries them.
            "ip_address": "203.0.113.66", "user_agent": "forged/1", "username": "admin"}
    r = post(server, u["h"], body)
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"id"} and isinstance(r.json()["id"], int)
    items = records(server, org, "INVOICE_EXPORTED")
    assert [i["id"] for i in items] == [r.json()["id"]]
    rec = items[0]
    assert rec["ip_address"] == "127.0.0.1"
    assert rec["user_agent"] == "billing-app/2.1"
    assert rec["user_id"] == u["id"] and rec["username"] == u["username"]
    assert (rec["method"], rec["path"]) == ("POST", EVENTS)
    assert (rec["resource_type"], rec["resource_id"], rec["status"]) == ("invoice", "inv-42", 200)
    assert rec["metadata"] == {"format": "csv", "rows": 3, "duration_ms": 125,
                               "recorded_by": {"user_id": u["id"], "username": u["username"],
                                               "credential": "jwt"}}
    # The same filters as Gatehouse's own records find it.
    admin = bearer(server.tokens("admin", ADMIN_PASSWORD)["access_token"])
    r = server.get(LOGS, headers=admin, params={"resource_type": "invoice",
                                                "resource_id": "inv-42"})
    assert [i["action"] for i in r.json()["items"]] == ["INVOICE_EXPORTED"]


def test_an_api_key_writes_and_is_named(server, app_org):
    u, org = app_org
    r = server.post("/api/v1/api-keys", {"name": "billing", "org_id": org,
                                         "scopes": ["audit:write"]}, headers=u["h"])
    assert r.status_code == 201, r.text
    key = r.json()
    r = post(server, {"X-API-Key": key["key"]}, {"action": "REPORT_RUN"})
    assert r.status_code == 201, r.text
    rec = records(server, org, "REPORT_RUN")[0]
    assert rec["metadata"]["recorded_by"] == {"user_id": u["id"], "username": u["username"],
                                              "credential": "api_key", "api_key_id": key["id"]}
    # The key acts in its own org only.
    other = server.post("/api/v1/orgs", {"name": unique_name("org")}, headers=u["h"]).json()
    assert_error(post(server, {"X-API-Key": key["key"]}, {"action": "REPORT_RUN",
                                                          "org_id": other["id"]}),
                 403, "forbidden")


def own_actions():
    """Every action name Gatehouse may record: each upper snake case literal of src/
    (actions reach the audit calls through variables and tables too), but the SQL checker's
    word lists and environment variable names."""
    names = set()
    for path in SRC.rglob("*.c"):
        if path.name != "sqlcheck.c":
            names.update(re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', path.read_text()))
    names = {n for n in names if not n.startswith("GATEHOUSE_")}
    assert {"LOGIN_FAILED", "PERMISSION_DENIED", "MASTER_KEY_SPLIT"} <= names
    return sorted(names | {"LOGIN", "LOGOUT", "REGISTER", "REAUTH"})


def test_the_own_list_names_every_action_of_the_source():
    """Fails fast (no server) when a new action was not added to audit/appevent.c's list."""
    listed = set(re.findall(r'^    "([A-Z0-9_]+)",$', (SRC / "audit" / "appevent.c").read_text(),
                            re.M))
    assert set(own_actions()) - listed == set()


@pytest.mark.parametrize("action", own_actions())
def test_gatehouse_actions_cannot_be_forged(server, app_org, action):
    u, org = app_org
    before = records(server, org, action)  # Gatehouse's own (ORG_CREATE for this org)
    err = assert_error(post(server, u["h"], {"action": action, "org_id": org}), 422,
                       "invalid_value")
    assert err["details"]["field"] == "action"
    assert records(server, org, action) == before


@pytest.mark.parametrize("action", ["", "invoice_exported", "Invoice", "1ST", "A-B", "A B",
                                    "A" * 65, "É"])
def test_malformed_actions(server, app_org, action):
    u, org = app_org
    err = assert_error(post(server, u["h"], {"action": action, "org_id": org}), 422,
                       "invalid_value")
    assert err["details"]["field"] == "action"


def test_the_longest_action_passes(server, app_org):
    u, org = app_org
    assert post(server, u["h"], {"action": "A" * 64, "org_id": org}).status_code == 201


def metadata_of(size):
    """An object whose compact JSON is exactly size bytes."""
    base = len(json.dumps({"k": ""}, separators=(",", ":")))
    return {"k": "x" * (size - base)}


def test_metadata_bounds(server, app_org):
    u, org = app_org
    r = post(server, u["h"], {"action": "BIG_EVENT", "org_id": org,
                              "metadata": metadata_of(8192)})
    assert r.status_code == 201, r.text
    err = assert_error(post(server, u["h"], {"action": "BIG_EVENT", "org_id": org,
                                             "metadata": metadata_of(8193)}), 422, "invalid_value")
    assert err["details"]["field"] == "metadata"
    assert len(records(server, org, "BIG_EVENT")) == 1


@pytest.mark.parametrize("metadata", [[1, 2], "text", 3, True])
def test_metadata_must_be_an_object(server, app_org, metadata):
    u, org = app_org
    err = assert_error(post(server, u["h"], {"action": "X_EVENT", "org_id": org,
                                             "metadata": metadata}), 400, "invalid_request")
    assert err["details"]["field"] == "metadata"


@pytest.mark.parametrize("key", ["recorded_by", "duration_ms"])
def test_metadata_cannot_claim_gatehouse_keys(server, app_org, key):
    u, org = app_org
    err = assert_error(post(server, u["h"], {"action": "X_EVENT", "org_id": org,
                                             "metadata": {key: "admin"}}), 422, "invalid_value")
    assert err["details"]["field"] == "metadata"


@pytest.mark.parametrize("field,value,status", [
    ("status", 99, 422), ("status", 1000, 422), ("status", "200", 400),
    ("duration_ms", -1, 422), ("duration_ms", 86400001, 422), ("duration_ms", 1.5, 400),
    ("resource_type", "", 422), ("resource_type", "x" * 257, 422), ("resource_id", "a\nb", 422),
    ("resource_id", 7, 400), ("user_id", "not-an-id", 422), ("org_id", "nope", 422),
])
def test_bad_fields(server, app_org, field, value, status):
    u, org = app_org
    body = {"action": "X_EVENT", "org_id": org, field: value}
    if field == "org_id":
        body[field] = value
    err = assert_error(post(server, u["h"], body), status)
    assert err["details"]["field"] == field


def test_user_of_another_org_is_refused(server, app_org):
    u, org = app_org
    stranger = server.register()  # a member of the default org only
    err = assert_error(post(server, u["h"], {"action": "X_EVENT", "org_id": org,
                                             "user_id": stranger["id"]}), 422, "invalid_value")
    assert err["details"]["field"] == "user_id"
    # A member of the org is a fine subject.
    server.join(u["h"], org, stranger)
    r = post(server, u["h"], {"action": "SUBJECT_EVENT", "org_id": org, "user_id": stranger["id"]})
    assert r.status_code == 201, r.text
    rec = records(server, org, "SUBJECT_EVENT")[0]
    assert rec["user_id"] == stranger["id"]
    assert rec["metadata"]["recorded_by"]["user_id"] == u["id"]


def test_without_audit_write_or_in_another_org(server, app_org):
    u, org = app_org
    member = server.register()
    h = bearer(server.tokens(member["username"], member["password"])["access_token"])
    assert_error(post(server, h, {"action": "X_EVENT"}), 403, "forbidden")
    assert_error(post(server, h, {"action": "X_EVENT", "org_id": org}), 403, "forbidden")
    assert_error(post(server, {}, {"action": "X_EVENT"}), 401)


def test_missing_action_and_bad_body(server, app_org):
    u, _ = app_org
    assert_error(post(server, u["h"], {}), 400, "invalid_request")
    r = server.post(EVENTS, data="[1]", headers={**u["h"], "Content-Type": "application/json"})
    assert r.status_code == 400


def test_a_burst_is_batched_and_the_chain_verifies(server, app_org):
    u, org = app_org
    ids, errors = [], []

    def send(n):
        for i in range(n):
            r = post(server, u["h"], {"action": "BURST_EVENT", "org_id": org,
                                      "metadata": {"i": i}})
            (ids if r.status_code == 201 else errors).append(
                r.json().get("id") if r.status_code == 201 else r.text)

    threads = [threading.Thread(target=send, args=(10,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(ids)) == 80
    assert sorted(i["id"] for i in records(server, org, "BURST_EVENT")) == sorted(ids)
    admin = bearer(server.tokens("admin", ADMIN_PASSWORD)["access_token"])
    v = server.get("/api/v1/audit/verify", headers=admin).json()
    assert v["valid"] is True, v


def test_export_carries_app_events(make_server):
    s = make_server()
    admin = bearer(s.tokens("admin", ADMIN_PASSWORD)["access_token"])
    r = s.post(EVENTS, {"action": "EXPORTED_EVENT", "metadata": {"n": 1}}, headers=admin)
    assert r.status_code == 201, r.text
    s.stop_ok()
    p = run_cli(["audit", "export"], data_dir=s.data_dir, env=s.env)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(x) for x in p.stdout.splitlines() if x]
    rec = [x for x in lines if x["action"] == "EXPORTED_EVENT"]
    assert len(rec) == 1 and rec[0]["id"] == r.json()["id"]
    assert rec[0]["metadata"]["n"] == 1
    p = run_cli(["audit", "verify"], data_dir=s.data_dir, env=s.env)
    assert p.returncode == 0, p.stdout + p.stderr

"""The tamper-evident audit trail: records, query API, verification, checkpoints,
retention, export, failure semantics and flood aggregation (issue 5, item 4).

Tampering is done the way an intruder with the database file would: with the sqlite3
module on the server's own database, while it runs.
"""
import json
import os
import sqlite3
import stat
import time
import uuid

import pytest
import requests

from conftest import (ADMIN_PASSWORD, Server, assert_error, bearer, run_cli, strong_password,
                      unique_name, wait_audit)

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature

LOGS = "/api/v1/audit/logs"
VERIFY = "/api/v1/audit/verify"


def admin_headers(s):
    return bearer(s.tokens("admin", ADMIN_PASSWORD)["access_token"])


def rw(s):
    """A read-write connection to the server's database (the intruder's)."""
    con = sqlite3.connect(str(s.data_dir / "gatehouse.db"), timeout=10)
    return con


def execute(s, sql, params=()):
    con = rw(s)
    try:
        cur = con.execute(sql, params)
        con.commit()
        return cur.lastrowid
    finally:
        con.close()


def verify_api(s, headers):
    r = s.get(VERIFY, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def verify_cli(s):
    p = run_cli(["audit", "verify"], data_dir=s.data_dir, env=s.env)
    return p.returncode, p.stdout + p.stderr


def make_records(s, n):
    """n LOGIN_FAILED records (cheap, synchronous)."""
    for _ in range(n):
        r = s.login("admin", "wrong-" + uuid.uuid4().hex, expect=401)
        assert r.status_code == 401


@pytest.fixture
def srv(make_server):
    return make_server(env={"GATEHOUSE_AUDIT_CHECKPOINT_EVERY": "1000"})


# -- records and the query API ----------------------------------------------------

def test_records_appear_for_actions(server, admin_tokens):
    h = bearer(admin_tokens["access_token"])
    u = server.register()
    server.login(u["username"], "not-" + u["password"], expect=401)
    t = server.tokens(u["username"], u["password"])
    r = server.post("/api/v1/auth/refresh", {"refresh_token": t["refresh_token"]})
    assert r.status_code == 200, r.text
    t2 = r.json()
    ub = bearer(t2["access_token"])
    r = server.post("/api/v1/api-keys", {"name": "k1"}, headers=ub)
    assert r.status_code == 201, r.text
    kid = r.json()["id"]
    assert server.request("DELETE", f"/api/v1/api-keys/{kid}", headers=ub).status_code == 204
    pw2 = strong_password()
    r = server.post("/api/v1/auth/change-password",
                    {"current_password": u["password"], "new_password": pw2}, headers=ub)
    assert r.status_code == 204, r.text
    t3 = server.tokens(u["username"], pw2)
    r = server.post("/api/v1/auth/logout", {"refresh_token": t3["refresh_token"]})
    assert r.status_code == 204

    r = server.get(LOGS, params={"user_id": u["id"], "limit": 1000}, headers=h)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    actions = [i["action"] for i in items]
    for a in ("REGISTER", "LOGIN_FAILED", "LOGIN", "TOKEN_REFRESH", "API_KEY_CREATE",
              "API_KEY_REVOKE", "PASSWORD_CHANGE", "LOGOUT"):
        assert a in actions, (a, actions)
    ids = [i["id"] for i in items]
    assert ids == sorted(ids, reverse=True), "newest first"
    login = next(i for i in items if i["action"] == "LOGIN")
    assert set(login) == {"id", "timestamp", "action", "user_id", "username", "org_id",
                          "resource_type", "resource_id", "ip_address", "user_agent", "method",
                          "path", "status", "metadata"}
    assert login["ip_address"] == "127.0.0.1" and login["status"] == 200
    assert login["path"] == "/api/v1/auth/login" and login["method"] == "POST"
    assert login["timestamp"].endswith("Z")
    failed = next(i for i in items if i["action"] == "LOGIN_FAILED")
    assert failed["metadata"] == {"reason": "bad_password"}
    assert failed["status"] == 401


def test_filters_and_pagination(server, admin_tokens):
    h = bearer(admin_tokens["access_token"])
    u = server.register()
    for _ in range(5):
        server.login(u["username"], "bad" + uuid.uuid4().hex, expect=401)
    q = {"user_id": u["id"], "action": "LOGIN_FAILED"}
    r = server.get(LOGS, params=dict(q, limit=2), headers=h)
    body = r.json()
    assert r.status_code == 200 and len(body["items"]) == 2 and body["next_offset"] == 2
    seen = [i["id"] for i in body["items"]]
    r = server.get(LOGS, params=dict(q, limit=2, offset=2), headers=h).json()
    assert r["next_offset"] == 4
    seen += [i["id"] for i in r["items"]]
    r = server.get(LOGS, params=dict(q, limit=2, offset=4), headers=h).json()
    assert r["next_offset"] is None and len(r["items"]) == 1
    seen += [i["id"] for i in r["items"]]
    assert len(set(seen)) == 5 and seen == sorted(seen, reverse=True)
    all5 = server.get(LOGS, params=q, headers=h).json()["items"]
    assert [i["id"] for i in all5] == seen
    assert all(i["action"] == "LOGIN_FAILED" and i["user_id"] == u["id"] for i in all5)

    ts = all5[0]["timestamp"]
    r = server.get(LOGS, params=dict(q, since=ts, until=ts), headers=h).json()["items"]
    assert r and all(i["timestamp"] == ts for i in r)
    r = server.get(LOGS, params=dict(q, since="2100-01-01T00:00:00Z"), headers=h).json()
    assert r["items"] == [] and r["next_offset"] is None
    r = server.get(LOGS, params=dict(q, until="2000-01-01T00:00:00Z"), headers=h).json()
    assert r["items"] == []
    r = server.get(LOGS, params={"resource_type": "nothing-" + uuid.uuid4().hex}, headers=h)
    assert r.status_code == 200 and r.json()["items"] == []
    r = server.get(LOGS, params={"org_id": all5[0]["org_id"] or str(uuid.uuid4()),
                                 "action": "REGISTER", "user_id": u["id"]}, headers=h)
    assert r.status_code == 200


@pytest.mark.parametrize("params", [
    {"limit": "0"}, {"limit": "1001"}, {"limit": "abc"}, {"limit": "-1"}, {"limit": "1e3"},
    {"offset": "-1"}, {"offset": "x"}, {"offset": "99999999999999999999"},
    {"since": "yesterday"}, {"until": "2026-13-01T00:00:00Z"},
    {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    {"action": "login"}, {"action": "LOGIN;DROP"}, {"user_id": "x" * 300},
    {"resource_id": "a\x01b"}, {"org_id": ""},
])
def test_bad_filters_are_400(server, admin_tokens, params):
    r = server.get(LOGS, params=params, headers=bearer(admin_tokens["access_token"]))
    err = assert_error(r, 400, "invalid_request")
    assert "field" in r.json()["error"].get("details", {}) or True


def test_audit_read_required(server, tokens):
    h = bearer(tokens["access_token"])
    for path in (LOGS, VERIFY):
        assert_error(server.get(path, headers=h), 403, "forbidden")
        assert_error(server.get(path), 401)
        assert_error(server.get(path, headers=bearer("garbage")), 401)
    rows = wait_audit(server, "PERMISSION_DENIED", user_id=tokens["user"]["id"])
    assert rows and json.loads(rows[0]["metadata"])["permission"] == "audit:read"


def test_org_scope_without_superadmin(make_server):
    s = make_server()
    u = s.register()
    # Give the member role audit:read (what an org admin role will carry).
    execute(s, "UPDATE roles SET permissions = permissions || ' audit:read' WHERE name = 'member'")
    h = bearer(s.tokens(u["username"], u["password"])["access_token"])
    s.login("nobody-" + uuid.uuid4().hex, "x", expect=401)  # a record without an org
    r = s.get(LOGS, params={"limit": 1000}, headers=h)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    me = s.get("/api/v1/auth/me", headers=h).json()
    org = me["orgs"][0]["id"]
    assert items and all(i["org_id"] == org for i in items)
    assert_error(s.get(LOGS, params={"org_id": str(uuid.uuid4())}, headers=h), 403, "forbidden")
    assert s.get(LOGS, params={"org_id": org}, headers=h).status_code == 200


# -- verification catches alteration, deletion, insertion ------------------------------

def row(s, id_):
    return s.query("SELECT * FROM audit_events WHERE id = ?", (id_,))[0]


def test_verify_catches_altered_deleted_inserted(srv):
    s = srv
    h = admin_headers(s)
    make_records(s, 6)
    v = verify_api(s, h)
    assert v["valid"] is True and v["records"] >= 7 and "first_bad_id" not in v
    rc, out = verify_cli(s)
    assert rc == 0 and "valid" in out, out
    target = s.query("SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET 3")[0]["id"]

    # altered
    orig = row(s, target)
    execute(s, "UPDATE audit_events SET ip_address = '203.0.113.9' WHERE id = ?", (target,))
    v = verify_api(s, h)
    assert v["valid"] is False and v["first_bad_id"] == target, v
    rc, out = verify_cli(s)
    assert rc != 0 and f"record {target}" in out, out
    execute(s, "UPDATE audit_events SET ip_address = ? WHERE id = ?", (orig["ip_address"], target))
    assert verify_api(s, h)["valid"] is True

    # metadata, timestamp and hash columns count too
    for col, val in (("metadata", '{"reason":"ok"}'), ("ts", orig["ts"] + 1),
                     ("status", 200), ("hash", b"\x00" * 32)):
        execute(s, f"UPDATE audit_events SET {col} = ? WHERE id = ?", (val, target))
        v = verify_api(s, h)
        assert v["valid"] is False and v["first_bad_id"] == target, (col, v)
        execute(s, f"UPDATE audit_events SET {col} = ? WHERE id = ?", (orig[col], target))
    assert verify_api(s, h)["valid"] is True

    # deleted
    execute(s, "DELETE FROM audit_events WHERE id = ?", (target,))
    v = verify_api(s, h)
    assert v["valid"] is False and v["first_bad_id"] == target, v
    rc, out = verify_cli(s)
    assert rc != 0 and f"record {target}" in out, out
    cols = list(orig)
    execute(s, f"INSERT INTO audit_events ({', '.join(cols)}) VALUES "
               f"({', '.join('?' * len(cols))})", tuple(orig[c] for c in cols))
    assert verify_api(s, h)["valid"] is True

    # inserted (at the end, as AUTOINCREMENT places it)
    new_id = execute(s, "INSERT INTO audit_events (ts, action, user_id, status) "
                        "VALUES (?, 'LOGIN', 'mallory', 200)", (int(time.time()),))
    v = verify_api(s, h)
    assert v["valid"] is False and v["first_bad_id"] == new_id, v
    rc, out = verify_cli(s)
    assert rc != 0 and f"record {new_id}" in out, out


def test_verify_catches_deleted_tail_and_first(srv):
    s = srv
    h = admin_headers(s)
    make_records(s, 4)
    ids = [r["id"] for r in s.query("SELECT id FROM audit_events ORDER BY id")]
    execute(s, "DELETE FROM audit_events WHERE id = ?", (ids[-1],))
    v = verify_api(s, h)
    assert v["valid"] is False and v["first_bad_id"] == ids[-1], v
    s2_first = ids[0]
    execute(s, "DELETE FROM audit_events WHERE id = ?", (s2_first,))
    v = verify_api(s, h)
    assert v["valid"] is False and v["first_bad_id"] == s2_first, v


# -- checkpoints -----------------------------------------------------------------------

def test_checkpoints_are_signed_and_checked(make_server):
    s = make_server(env={"GATEHOUSE_AUDIT_CHECKPOINT_EVERY": "3"})
    h = admin_headers(s)
    make_records(s, 8)
    v = verify_api(s, h)
    assert v["valid"] is True and v["checkpoints"] >= 2, v
    assert v["checkpoint"]["id"] >= 6 and v["checkpoint"]["key_id"] == v["key_id"]
    cps = s.query("SELECT * FROM audit_checkpoints ORDER BY seq")
    assert len(cps) >= 2
    # The signature checks with the published public key, independently of the server.
    pk = Ed25519PublicKey.from_public_bytes(bytes.fromhex(v["public_key"]))
    for cp in cps:
        assert len(cp["signature"]) == 64 and len(cp["hash"]) == 32
        assert cp["hash"] == row(s, cp["seq"])["hash"]
        msg = (b"gatehouse.audit.checkpoint.v1\x00" + cp["seq"].to_bytes(8, "big")
               + cp["ts"].to_bytes(8, "big", signed=True) + cp["hash"])
        pk.verify(cp["signature"], msg)
    # The key file: 0600, 32 bytes, beside the other keys.
    key = s.data_dir / "keys" / "audit_checkpoint.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.stat().st_size == 32

    target = cps[0]["seq"]
    bad = bytes([cps[0]["signature"][0] ^ 1]) + cps[0]["signature"][1:]
    execute(s, "UPDATE audit_checkpoints SET signature = ? WHERE seq = ?", (bad, target))
    v = verify_api(s, h)
    assert v["valid"] is False and v["first_bad_id"] == target and v["reason"] == "signature"
    rc, out = verify_cli(s)
    assert rc != 0 and f"record {target}" in out
    execute(s, "UPDATE audit_checkpoints SET signature = ? WHERE seq = ?",
            (cps[0]["signature"], target))
    assert verify_api(s, h)["valid"] is True

    # A forger who rewrites a record and every hash after it still meets the checkpoint.
    # (Here: the checkpointed hash itself is changed to match nothing.)
    execute(s, "UPDATE audit_checkpoints SET hash = ? WHERE seq = ?", (b"\x01" * 32, target))
    v = verify_api(s, h)
    assert v["valid"] is False and v["first_bad_id"] == target
    execute(s, "UPDATE audit_checkpoints SET hash = ? WHERE seq = ?", (cps[0]["hash"], target))

    # verify with a pinned public key that is not the signer's
    other = "11" * 32
    p = run_cli(["audit", "verify", "--public-key", other], data_dir=s.data_dir, env=s.env)
    assert p.returncode == 1 and "signature" in p.stdout
    p = run_cli(["audit", "verify", "--public-key", v["public_key"]], data_dir=s.data_dir,
                env=s.env)
    assert p.returncode == 0, p.stdout + p.stderr
    p = run_cli(["audit", "verify", "--public-key", "zz"], data_dir=s.data_dir, env=s.env)
    assert p.returncode == 2


def test_checkpoint_by_time(make_server):
    s = make_server(env={"GATEHOUSE_AUDIT_CHECKPOINT_INTERVAL": "1s"})
    make_records(s, 2)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        cps = s.query("SELECT max(seq) AS m FROM audit_checkpoints")
        head = s.query("SELECT max(id) AS m FROM audit_events")[0]["m"]
        if cps[0]["m"] == head:
            break
        time.sleep(0.2)
    assert cps[0]["m"] == head


def test_loose_checkpoint_key_refused(tmp_path):
    s = Server(data_dir=tmp_path / "data")
    try:
        s.start()
        s.stop()
        key = s.data_dir / "keys" / "audit_checkpoint.key"
        os.chmod(key, 0o644)
        with pytest.raises(RuntimeError):
            s.start(timeout=10)
        assert "audit_checkpoint.key" in s.stderr_text()
        p = run_cli(["audit", "verify"], data_dir=s.data_dir)
        assert p.returncode != 0 and "chmod 600" in p.stderr
    finally:
        s.cleanup()


# -- retention -------------------------------------------------------------------------

def test_retention_purges_behind_a_checkpoint(make_server):
    s = make_server(env={"GATEHOUSE_AUDIT_CHECKPOINT_EVERY": "3",
                         "GATEHOUSE_AUDIT_RETENTION": "2s"})
    make_records(s, 9)
    before = s.query("SELECT min(id) AS lo, count(*) AS n FROM audit_events")[0]
    time.sleep(3)
    s.restart()  # retention runs at start (and every ten minutes)
    after = s.query("SELECT min(id) AS lo, count(*) AS n FROM audit_events")[0]
    assert after["lo"] > before["lo"] and after["n"] < before["n"] + 2, (before, after)
    anchor = s.query("SELECT seq FROM audit_checkpoints WHERE seq = ?", (after["lo"],))
    assert anchor, "the first remaining record is a checkpointed one"
    h = admin_headers(s)
    v = verify_api(s, h)
    assert v["valid"] is True, v
    rc, out = verify_cli(s)
    assert rc == 0, out
    assert v["checkpoint"] is not None
    # Altering the anchor is caught: its checkpoint vouches for its hash.
    execute(s, "UPDATE audit_events SET user_id = 'mallory' WHERE id = ?", (after["lo"],))
    v = verify_api(s, h)
    assert v["valid"] is False and v["first_bad_id"] == after["lo"], v


# -- export ----------------------------------------------------------------------------

def test_export_json_lines(srv):
    s = srv
    make_records(s, 3)
    p = run_cli(["audit", "export"], data_dir=s.data_dir, env=s.env)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(lines) >= 3
    ids = [l["id"] for l in lines]
    assert ids == sorted(ids)
    assert all(len(l["hash"]) == 64 and len(l["prev_hash"]) == 64 for l in lines)
    for a, b in zip(lines, lines[1:]):
        assert b["prev_hash"] == a["hash"]
    p = run_cli(["audit", "export", "--since", "2100-01-01T00:00:00Z"], data_dir=s.data_dir,
                env=s.env)
    assert p.returncode == 0 and p.stdout == ""
    p = run_cli(["audit", "export", "--until", "2000-01-01T00:00:00Z"], data_dir=s.data_dir,
                env=s.env)
    assert p.returncode == 0 and p.stdout == ""
    p = run_cli(["audit", "export", "--since", "soon"], data_dir=s.data_dir, env=s.env)
    assert p.returncode == 2
    p = run_cli(["audit", "nonsense"], data_dir=s.data_dir, env=s.env)
    assert p.returncode == 2


# -- no silent loss --------------------------------------------------------------------

READ_ONLY = ("CREATE TRIGGER audit_read_only BEFORE INSERT ON audit_events "
             "BEGIN SELECT RAISE(ABORT, 'audit store read-only'); END")


def test_unwritable_audit_fails_the_action(srv):
    s = srv
    u = s.register()
    t = s.tokens(u["username"], u["password"])
    h = bearer(t["access_token"])
    tokens_before = s.query("SELECT count(*) AS n FROM refresh_tokens")[0]["n"]
    keys_before = s.query("SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL")[0]["n"]
    execute(s, READ_ONLY)
    try:
        assert_error(s.login(u["username"], u["password"], expect=None), 503, "unavailable")
        assert s.query("SELECT count(*) AS n FROM refresh_tokens")[0]["n"] == tokens_before
        r = s.post("/api/v1/api-keys", {"name": "never"}, headers=h)
        assert_error(r, 503, "unavailable")
        assert s.query("SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL")[0]["n"] \
            == keys_before
        r = s.post("/api/v1/auth/refresh", {"refresh_token": t["refresh_token"]})
        assert_error(r, 503, "unavailable")
        pw2 = strong_password()
        r = s.post("/api/v1/auth/change-password",
                   {"current_password": u["password"], "new_password": pw2}, headers=h)
        assert_error(r, 503, "unavailable")
        r = s.post("/api/v1/auth/register", {"username": unique_name(), "password":
                                             strong_password(), "email": "x@example.test"})
        assert_error(r, 503, "unavailable")
        # a wrong password is not answered as an ordinary failure either
        assert_error(s.login(u["username"], "wrong", expect=None), 503, "unavailable")
        p = run_cli(["user", "disable", u["username"]], data_dir=s.data_dir, env=s.env)
        assert p.returncode != 0
    finally:
        execute(s, "DROP TRIGGER audit_read_only")
    # Nothing took effect: the old password works, the user is enabled.
    s.login(u["username"], u["password"])
    assert s.query("SELECT disabled FROM users WHERE id = ?", (u["id"],))[0]["disabled"] == 0
    assert verify_api(s, admin_headers(s))["valid"] is True


# -- flood resistance and the CLI --------------------------------------------------------

def test_denial_flood_is_aggregated(make_server):
    s = make_server(env={"GATEHOUSE_AUDIT_AGGREGATE_WINDOW": "4s"})
    u = s.register()
    h = bearer(s.tokens(u["username"], u["password"])["access_token"])
    n = 60
    sess = requests.Session()
    for _ in range(n):
        assert sess.get(s.url(LOGS), headers=h, timeout=10).status_code == 403
    time.sleep(0.5)
    rows = s.query("SELECT * FROM audit_events WHERE action = 'PERMISSION_DENIED' "
                   "AND user_id = ?", (u["id"],))
    assert 1 <= len(rows) <= 3, len(rows)  # a slow machine may see a second window begin
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        rows = s.query("SELECT * FROM audit_events WHERE action = 'PERMISSION_DENIED' "
                       "AND user_id = ?", (u["id"],))
        total = sum(1 + json.loads(r["metadata"]).get("suppressed", 0) - (
            1 if "suppressed" in json.loads(r["metadata"]) else 0) for r in rows)
        if total == n:
            break
        time.sleep(0.3)
    assert total == n, [r["metadata"] for r in rows]
    summary = [r for r in rows if "suppressed" in json.loads(r["metadata"])]
    assert summary and summary[0]["ip_address"] == "127.0.0.1"
    assert verify_api(s, admin_headers(s))["valid"] is True


def test_cli_actions_are_chained(srv):
    s = srv
    u = s.register()
    for cmd in (["user", "disable", u["username"]], ["user", "enable", u["username"]]):
        p = run_cli(cmd, data_dir=s.data_dir, env=s.env)
        assert p.returncode == 0, p.stderr
    rows = s.query("SELECT action, metadata FROM audit_events WHERE user_id = ? ORDER BY id",
                   (u["id"],))
    actions = [r["action"] for r in rows]
    assert "USER_DISABLE" in actions and "USER_ENABLE" in actions
    make_records(s, 2)  # the server appends after the CLI: one chain
    v = verify_api(s, admin_headers(s))
    assert v["valid"] is True, v
    rc, out = verify_cli(s)
    assert rc == 0, out


def test_key_rotation_and_operator_actions_are_recorded(tmp_path):
    d = tmp_path / "data"
    p = run_cli(["keygen", "--rotate", "--alg", "EdDSA"], data_dir=d)
    assert p.returncode == 0, p.stderr
    pw = strong_password()
    p = run_cli(["user", "create", "--username", "carol", "--email", "carol@x.io",
                 "--password-stdin"], data_dir=d, input=pw + "\n")
    assert p.returncode == 0, p.stderr
    p = run_cli(["user", "set-password", "carol", "--password-stdin"], data_dir=d,
                input=strong_password() + "\n")
    assert p.returncode == 0, p.stderr
    p = run_cli(["audit", "export"], data_dir=d)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    actions = [x["action"] for x in lines]
    assert "KEY_ROTATION" in actions and "REGISTER" in actions and "PASSWORD_CHANGE" in actions
    rot = next(x for x in lines if x["action"] == "KEY_ROTATION")
    assert rot["metadata"]["by"] == "cli" and rot["metadata"]["kid"]
    p = run_cli(["audit", "verify"], data_dir=d)
    assert p.returncode == 0, p.stdout + p.stderr


def test_login_to_a_foreign_org_writes_no_login(srv):
    s = srv
    u = s.register()
    other = str(uuid.uuid4())
    r = s.post("/api/v1/auth/login", {"username": u["username"], "password": u["password"],
                                      "org_id": other})
    assert r.status_code in (403, 404), r.text
    assert not s.query("SELECT id FROM audit_events WHERE action = 'LOGIN' AND user_id = ?",
                       (u["id"],))


def test_concurrent_writers_keep_one_chain(srv):
    """Server threads and CLI processes appending at once never fork the chain."""
    import threading
    s = srv
    u = s.register()
    errors = []

    def fail_logins():
        try:
            for _ in range(15):
                s.login("admin", "nope-" + uuid.uuid4().hex, expect=401)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fail_logins) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(4):
        p = run_cli(["user", "disable" if i % 2 == 0 else "enable", u["username"]],
                    data_dir=s.data_dir, env=s.env)
        assert p.returncode == 0, p.stderr
    for t in threads:
        t.join()
    assert not errors, errors
    ids = [r["id"] for r in s.query("SELECT id FROM audit_events ORDER BY id")]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    v = verify_api(s, admin_headers(s))
    assert v["valid"] is True, v


def test_records_with_odd_bytes_are_still_listed(srv):
    s = srv
    h = admin_headers(s)
    # A client may send any bytes in its User-Agent: the record is kept and shown.
    sess = requests.Session()
    req = requests.Request("POST", s.url("/api/v1/auth/login"),
                           json={"username": "admin", "password": "wrong"}).prepare()
    req.headers["User-Agent"] = "bad\xff\xfeagent caf\xc3\xa9"
    r = sess.send(req, timeout=10)
    assert r.status_code == 401
    items = s.get(LOGS, params={"action": "LOGIN_FAILED", "limit": 1}, headers=h).json()["items"]
    assert items and items[0]["user_agent"] == "bad\\xff\\xfeagent caf\u00e9", items[0]
    assert "agent" in items[0]["user_agent"]
    p = run_cli(["audit", "export"], data_dir=s.data_dir, env=s.env)
    assert p.returncode == 0, p.stderr
    assert any("agent" in (json.loads(x)["user_agent"] or "") for x in p.stdout.splitlines())
    assert verify_api(s, h)["valid"] is True

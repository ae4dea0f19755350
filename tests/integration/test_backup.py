"""gatehouse backup create / restore (issue 14, item 6 of the issue).

A server with users, orgs, API keys, audit records and vault entries is backed up while
it runs and restored into a fresh data dir that a new server starts from: everything is
there and the audit chain verifies. Wrong keys, tampered, truncated and other-version
files are refused before anything is touched."""
import hashlib
import os
import shutil

from conftest import ADMIN_PASSWORD, Server, assert_error, bearer, run_cli
from rbac_support import call, create_org, ok, superadmin

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
PASS = "correct horse battery staple"


def populate(s):
    admin = superadmin(s)
    user = s.register()
    org = create_org(s, admin.h)["id"]
    ok(call(s, "PUT", f"/api/v1/orgs/{org}/vault/stripe", admin.h, {"value": "sk_live_x"}), 204)
    key = ok(call(s, "POST", "/api/v1/api-keys", admin.h, {"name": "ci"}), 201)["key"]
    return {"user": user, "org": org, "key": key}


def files_digest(d):
    h = hashlib.sha256()
    for root, _, names in sorted(os.walk(d)):
        for n in sorted(names):
            p = os.path.join(root, n)
            h.update(p.encode())
            with open(p, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def restore(path, data_dir, env=None, passphrase=None):
    args = ["backup", "restore", str(path)] + (["--passphrase-stdin"] if passphrase else [])
    return run_cli(args, data_dir=data_dir, env=env,
                   input=(passphrase + "\n") if passphrase else None)


def check_restored(tmp_path, data_dir, world, env):
    s = Server(env=dict(FAST, **env), data_dir=data_dir)
    try:
        s.start()
        r = s.post("/api/v1/auth/login", {"username": world["user"]["username"],
                                          "password": world["user"]["password"]})
        assert r.status_code == 200, r.text
        admin = superadmin(s)
        got = ok(call(s, "GET", f"/api/v1/orgs/{world['org']}/vault/stripe", admin.h), 200)
        assert got["value"] == "sk_live_x"
        assert s.get("/api/v1/auth/me", headers={"X-API-Key": world["key"]}).status_code == 200
        s.stop_ok()
    finally:
        s.cleanup()
    r = run_cli(["audit", "verify"], data_dir=data_dir)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "valid" in r.stdout


def test_encrypted_round_trip_with_the_master_key(make_server, tmp_path):
    s = make_server(env=FAST)
    world = populate(s)
    out = tmp_path / "b.ghbk"
    r = run_cli(["backup", "create", "--encrypt", "--out", str(out)], data_dir=s.data_dir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(out)
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    rows = s.query("SELECT metadata FROM audit_events WHERE action = 'BACKUP_CREATED'")
    assert [r["metadata"] for r in rows] == ['{"mode":"master_key"}']
    raw = out.read_bytes()
    assert raw[:8] == b"GHBACKUP" and raw[9] == 1
    assert b"sk_live_x" not in raw and b"BEGIN" not in raw
    # The same master key, given through the environment, opens it in a new data dir.
    master = (s.data_dir / "keys" / "master.key").read_bytes().hex()
    fresh = tmp_path / "restored"
    r = restore(out, fresh, env={"GATEHOUSE_MASTER_KEY": master})
    assert r.returncode == 0, r.stderr
    assert "encrypted" in r.stderr
    check_restored(tmp_path, fresh, world, {"GATEHOUSE_MASTER_KEY": master})
    # --out never replaces a file.
    r = run_cli(["backup", "create", "--encrypt", "--out", str(out)], data_dir=s.data_dir)
    assert r.returncode == 1


def test_passphrase_round_trip_and_refusals(make_server, tmp_path):
    s = make_server(env=FAST)
    world = populate(s)
    out = tmp_path / "p.ghbk"
    r = run_cli(["backup", "create", "--passphrase-stdin", "--out", str(out)],
                data_dir=s.data_dir, input=PASS + "\n")
    assert r.returncode == 0, r.stderr
    raw = out.read_bytes()
    assert raw[9] == 2
    master = (s.data_dir / "keys" / "master.key").read_bytes().hex()
    env = {"GATEHOUSE_MASTER_KEY": master}

    # A data dir with a live database: every refusal leaves it exactly as it was.
    target = tmp_path / "target"
    shutil.copytree(s.data_dir, target)
    before = files_digest(target)
    cases = []
    cases.append(("wrong passphrase", raw, "another passphrase here", "does not open"))
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 1
    cases.append(("a changed byte", bytes(flipped), PASS, "does not open"))
    cases.append(("truncated", raw[:-100], PASS, "truncated or damaged"))
    cases.append(("truncated to its header", raw[:40], PASS, "truncated or damaged"))
    other = bytearray(raw)
    other[8] = 2
    cases.append(("another version", bytes(other), PASS, "format version 2"))
    cases.append(("not a backup", b"SQLite format 3\0" + raw[16:], PASS, "not a Gatehouse backup"))
    salted = bytearray(raw)
    salted[25] ^= 1
    cases.append(("a changed header", bytes(salted), PASS, "does not open"))
    for what, data, passphrase, message in cases:
        bad = tmp_path / "bad.ghbk"
        bad.write_bytes(data)
        r = restore(bad, target, env=env, passphrase=passphrase)
        assert r.returncode == 1, what
        assert message in r.stderr, (what, r.stderr)
        assert "nothing restored" in r.stderr, what
        assert files_digest(target) == before, what
    r = restore(out, target, env=env)  # no passphrase given
    assert r.returncode == 1 and "--passphrase-stdin" in r.stderr

    fresh = tmp_path / "fresh"
    r = restore(out, fresh, env=env, passphrase=PASS)
    assert r.returncode == 0, r.stderr
    check_restored(tmp_path, fresh, world, env)


def test_plain_backup_holds_the_database_only(make_server, tmp_path):
    s = make_server(env=FAST)
    world = populate(s)
    out = tmp_path / "plain.ghbk"
    r = run_cli(["backup", "create", "--out", str(out)], data_dir=s.data_dir)
    assert r.returncode == 0, r.stderr
    assert "not encrypted" in r.stderr
    raw = out.read_bytes()
    assert raw[9] == 0 and b"BEGIN PRIVATE KEY" not in raw
    damaged = bytearray(raw)
    damaged[len(raw) // 2] ^= 1
    bad = tmp_path / "d.ghbk"
    bad.write_bytes(bytes(damaged))
    fresh = tmp_path / "fresh"
    r = restore(bad, fresh)
    assert r.returncode == 1 and "damaged" in r.stderr
    assert not (fresh / "gatehouse.db").exists()
    # A plain file is not authenticated: one that carries a key file (a signing key an
    # attacker chose) is refused whole, whatever its digest says.
    import struct
    hdr = raw[:36]
    payload = raw[36:-32]
    extra = (struct.pack(">H", 18) + b"keyset/evil-1.pem" + b"x" +
             struct.pack(">Q", 4) + b"EVIL")
    forged = hdr + payload[:-2] + extra + payload[-2:]
    forged += hashlib.sha256(forged).digest()
    bad.write_bytes(forged)
    r = restore(bad, fresh)
    assert r.returncode == 1 and "does not write" in r.stderr, r.stderr
    assert not (fresh / "gatehouse.db").exists()
    # Restored with the key files kept apart (copied back by the operator).
    shutil.copytree(s.data_dir / "keys", fresh / "keys")
    r = restore(out, fresh)
    assert r.returncode == 0, r.stderr
    check_restored(tmp_path, fresh, world, {})


def test_backup_cli_refusals(make_server, tmp_path):
    s = make_server(env=FAST)
    for args in (["backup"], ["backup", "make"], ["backup", "restore"],
                 ["backup", "restore", "a", "b"], ["backup", "create", "extra"]):
        assert run_cli(args, data_dir=s.data_dir).returncode == 2, args
    r = run_cli(["backup", "create", "--passphrase-stdin", "--out", str(tmp_path / "x")],
                data_dir=s.data_dir, input="short\n")
    assert r.returncode == 1 and "12 characters" in r.stderr

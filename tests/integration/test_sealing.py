"""Sealing (issue 14, item 5 of the issue / item 4 of the plan): gatehouse key split,
crypto.sealed, /readyz 503 sealed, data routes 503, POST /api/v1/sys/unseal and
gatehouse key unseal, and the refusals of wrong, mistyped, mixed and duplicate shares."""
import os
import subprocess

from conftest import BASE_ENV, BIN, assert_error, clean_environ, run_cli, wait_audit
from rbac_support import call, create_org, ok, superadmin

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
UNSEAL = "/api/v1/sys/unseal"


def split(s, n=5, m=3):
    r = run_cli(["key", "split", "--shares", str(n), "--threshold", str(m)], data_dir=s.data_dir)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split()
    assert len(lines) == n and len(set(lines)) == n
    assert all(x.startswith("ghs1.") for x in lines)
    assert "any %d of which" % m in r.stderr
    rows = s.query("SELECT metadata FROM audit_events WHERE action = 'MASTER_KEY_SPLIT'")
    assert rows and rows[-1]["metadata"] == '{"shares":%d,"threshold":%d}' % (n, m)
    return lines


def seal(s):
    s.stop()
    os.remove(s.data_dir / "keys" / "master.key")
    s.env["GATEHOUSE_CRYPTO_SEALED"] = "true"
    s.start()


def post(s, share):
    return s.post(UNSEAL, {"share": share})


def test_split_seal_refusals_and_unseal_over_http(make_server):
    s = make_server(env=FAST)
    admin = superadmin(s)
    org = create_org(s, admin.h)["id"]
    ok(call(s, "PUT", f"/api/v1/orgs/{org}/vault/api", admin.h, {"value": "kept"}), 204)
    shares = split(s)
    other_split = split(s)  # the same key, another split: its shares do not mix with these
    seal(s)

    assert s.get("/healthz").status_code == 200
    assert_error(s.get("/readyz"), 503, "sealed")
    assert_error(s.post("/api/v1/auth/login", {"username": "admin", "password": "x"}), 503,
                 "unavailable")
    assert_error(call(s, "GET", f"/api/v1/orgs/{org}/vault/api", admin.h), 503, "unavailable")

    assert_error(post(s, "not a share"), 422, "invalid_share")
    mistyped = shares[0][:20] + ("A" if shares[0][20] != "A" else "B") + shares[0][21:]
    assert_error(post(s, mistyped), 422, "invalid_share")
    r = ok(post(s, shares[0]), 200)
    assert r == {"sealed": True, "shares": 1, "threshold": 3}
    assert_error(post(s, shares[0]), 409, "duplicate_share")
    assert_error(post(s, other_split[1]), 422, "share_mismatch")
    assert_error(s.get("/readyz"), 503, "sealed")
    r = ok(post(s, shares[3]), 200)
    assert r["shares"] == 2
    r = ok(post(s, shares[4]), 200)
    assert r == {"sealed": False, "shares": 3, "threshold": 3}
    assert s.get("/readyz").status_code == 200
    admin = superadmin(s)
    assert ok(call(s, "GET", f"/api/v1/orgs/{org}/vault/api", admin.h), 200)["value"] == "kept"
    assert_error(post(s, shares[1]), 409, "not_sealed")
    assert wait_audit(s, "UNSEALED")
    refused = [r for r in s.query("SELECT status FROM audit_events WHERE action = 'UNSEAL_SHARE'")
               if r["status"] != 200]
    assert len(refused) == 4
    for row in s.query("SELECT * FROM audit_events"):
        assert shares[0] not in str(dict(row))


def test_unseal_cli_from_stdin_and_foreign_shares(make_server):
    s = make_server(env=FAST)
    shares = split(s, 3, 2)
    foreign_server = make_server(env=FAST)
    foreign = split(foreign_server, 2, 2)
    seal(s)
    e = clean_environ()
    e.update(BASE_ENV)
    e.update(FAST)
    cmd = [BIN, "key", "unseal", "--listen", f"127.0.0.1:{s.port}", "--data-dir", str(s.data_dir)]
    # Another server's complete set of shares: combined, they do not open the data keys.
    r = subprocess.run(cmd, input="\n".join(foreign) + "\n", capture_output=True, text=True,
                       env=e, timeout=60)
    assert r.returncode == 1
    assert "do not make the master key" in r.stderr
    assert_error(s.get("/readyz"), 503, "sealed")
    # A mistyped line is named; the rest unseal.
    bad = shares[0][:-1] + ("0" if shares[0][-1] != "0" else "1")
    r = subprocess.run(cmd, input=f"{bad}\n\n{shares[2]}\n{shares[0]}\n", capture_output=True,
                       text=True, env=e, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "share 1 refused" in r.stderr and "mistyped" in r.stderr
    assert r.stdout.strip() == "unsealed"
    assert s.get("/readyz").status_code == 200
    s.stop_ok()


def test_split_refusals(make_server):
    s = make_server(env=FAST)
    for args in (["--shares", "3", "--threshold", "1"], ["--shares", "2", "--threshold", "3"],
                 ["--shares", "256", "--threshold", "2"], ["--shares", "3"], []):
        r = run_cli(["key", "split"] + args, data_dir=s.data_dir)
        assert r.returncode == 2, (args, r.stderr)
    # Sealed, with no master key here: split cannot run.
    seal(s)
    r = run_cli(["key", "split", "--shares", "3", "--threshold", "2"], data_dir=s.data_dir,
                env={"GATEHOUSE_CRYPTO_SEALED": "true"})
    assert r.returncode == 1 and "crypto.sealed" in r.stderr
    assert not (s.data_dir / "keys" / "master.key").exists()

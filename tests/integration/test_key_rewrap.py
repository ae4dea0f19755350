"""gatehouse key rotate / rewrap (issue 14, items 1-2): rotation while serving, a rewrap
in batches with progress on stderr, killed with SIGKILL half-way and run again: every
value ends under the newest key and still opens."""
import signal
import subprocess
import time

from conftest import BASE_ENV, BIN, clean_environ, run_cli
from rbac_support import call, create_org, ok, superadmin

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
N = 600


def fill(s, admin, org):
    sess = __import__("requests").Session()
    for i in range(N):
        r = sess.put(s.url(f"/api/v1/orgs/{org}/vault/item{i}"), json={"value": f"value-{i}"},
                     headers=admin.h, timeout=15)
        assert r.status_code == 204, r.text


def test_rotate_then_rewrap_killed_and_resumed(make_server):
    s = make_server(env=FAST)
    admin = superadmin(s)
    org = create_org(s, admin.h)["id"]
    fill(s, admin, org)
    r = run_cli(["key", "rotate"], data_dir=s.data_dir)
    assert r.returncode == 0, r.stderr
    assert "data key 2 is now the current key" in r.stdout

    # Rewrap online in small batches, and kill -9 it once it has moved some values.
    e = clean_environ()
    e.update(BASE_ENV)
    p = subprocess.Popen([BIN, "key", "rewrap", "--batch", "5", "--data-dir", str(s.data_dir)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        moved = s.query("SELECT count(*) AS n FROM vault_entries WHERE key_id = 2")[0]["n"]
        if moved >= 20 or p.poll() is not None:
            break
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    moved = s.query("SELECT count(*) AS n FROM vault_entries WHERE key_id = 2")[0]["n"]
    assert 0 < moved < N, moved  # killed half-way
    # Everything still opens meanwhile, old key or new.
    for i in (0, N // 2, N - 1):
        assert ok(call(s, "GET", f"/api/v1/orgs/{org}/vault/item{i}", admin.h), 200)["value"] == f"value-{i}"

    r = run_cli(["key", "rewrap", "--batch", "100"], data_dir=s.data_dir)
    assert r.returncode == 0, r.stderr
    assert "values moved to data key 2" in r.stderr  # progress
    assert f"done, {N - moved} values moved to data key 2" in r.stdout
    assert s.query("SELECT count(*) AS n FROM vault_entries WHERE key_id <> 2")[0]["n"] == 0
    for i in range(N):
        got = ok(call(s, "GET", f"/api/v1/orgs/{org}/vault/item{i}", admin.h), 200)
        assert got["value"] == f"value-{i}" and got["version"] == 1
    rows = s.query("SELECT action, metadata FROM audit_events WHERE action IN "
                   "('DATA_KEY_ROTATED', 'DATA_KEYS_REWRAPPED') ORDER BY id")
    assert rows[0]["action"] == "DATA_KEY_ROTATED" and rows[0]["metadata"] == '{"key_id":2}'
    assert rows[-1]["action"] == "DATA_KEYS_REWRAPPED" and '"moved":' in rows[-1]["metadata"]
    # Nothing left: a third run moves nothing.
    r = run_cli(["key", "rewrap"], data_dir=s.data_dir)
    assert r.returncode == 0 and "done, 0 values" in r.stdout


def test_key_cli_refusals(make_server):
    s = make_server(env=FAST)
    for args in (["key"], ["key", "spin"], ["key", "rotate", "--batch", "3"],
                 ["key", "rewrap", "--batch", "0"], ["key", "rewrap", "--batch", "x"]):
        r = run_cli(args, data_dir=s.data_dir)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
    # Another master key opens nothing and rotates nothing.
    r = run_cli(["key", "rotate"], data_dir=s.data_dir, env={"GATEHOUSE_MASTER_KEY": "33" * 32})
    assert r.returncode == 1 and "does not open the stored data keys" in r.stderr
    assert len(s.query("SELECT id FROM data_keys")) == 1

"""storage.encrypt (issue 18, item 5): the SQLite database sealed page by page under a key
derived from the master key (crypto/dbcrypt.c). The sqlite3 shell cannot read it and no
row text shows in its files; Gatehouse reads it after a restart and after a kill -9 in the
middle of writes; a wrong key, a plain file under storage.encrypt and an encrypted file
without it stop the start with the cause and leave the files as they were; gatehouse
storage encrypt converts a stopped server's database keeping users, tokens and the audit
chain; security audit reports a plain database."""
import hashlib
import os
import signal
import subprocess
import threading
import time

from conftest import Server, run_cli, unique_name, strong_password

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
ENC = dict(FAST, GATEHOUSE_STORAGE_ENCRYPT="true")
OTHER_KEY = "ab" * 32


def files(s):
    db = s.data_dir / "gatehouse.db"
    return [p for p in (db, db.with_name("gatehouse.db-wal")) if p.exists()]


def digest(s):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files(s)}


def start_fails(s, env):
    """Starts s with env added; the start must fail. Returns its stderr."""
    s.env.update(env)
    s.start(wait=False)
    try:
        s.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        s.stop()
        raise AssertionError("the server started")
    rc = s.stop()
    assert rc not in (0, None), rc
    return s.stderr_text()


def test_unreadable_by_sqlite3_and_read_back_after_restart(make_server):
    s = make_server(env=ENC)
    u = s.register(username=unique_name("cipher"))
    tok = s.tokens(u["username"], u["password"])
    # While the server runs its WAL holds the newest rows: sealed too.
    for p in files(s):
        data = p.read_bytes()
        assert u["username"].encode() not in data and u["email"].encode() not in data, p
        assert b"SQLite format 3" not in data and b"CREATE TABLE" not in data, p
    s.stop_ok()
    shell = subprocess.run(["sqlite3", str(s.data_dir / "gatehouse.db"), ".tables"],
                           capture_output=True, text=True, timeout=30)
    assert shell.returncode != 0 and "not a database" in shell.stderr
    s.start()
    s.tokens(u["username"], u["password"])
    r = s.post("/api/v1/auth/refresh", {"refresh_token": tok["refresh_token"]})
    assert r.status_code == 200, r.text


def test_kill9_mid_writes_loses_no_committed_row(make_server):
    s = make_server(env=ENC)
    done, stop = [], threading.Event()

    def writer():
        deadline = time.monotonic() + 20
        for i in range(400):
            if stop.is_set() or time.monotonic() > deadline:
                return
            name = unique_name("k9")
            try:
                r = s.post("/api/v1/auth/register",
                           {"username": name, "email": f"{name}@example.test",
                            "password": "Kill-Nine-Passphrase-4242"})
            except Exception:
                return
            if r.status_code == 201:
                done.append(name)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(done) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    s.proc.send_signal(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    s.stop()
    assert len(done) >= 10, len(done)
    assert (s.data_dir / "gatehouse.db-wal").exists()  # recovery has frames to replay
    s.start()
    for name in done:
        s.login(name, "Kill-Nine-Passphrase-4242")
    v = run_cli(["audit", "verify"], data_dir=s.data_dir, env=s.env)
    assert v.returncode == 0, v.stdout + v.stderr


def test_wrong_key_plain_and_missing_switch_refused_nothing_written(make_server):
    s = make_server(env=ENC)
    s.register()
    s.stop_ok()
    before = digest(s)
    err = start_fails(s, {"GATEHOUSE_MASTER_KEY": OTHER_KEY})
    assert "does not open under the database key" in err and "GATEHOUSE_MASTER_KEY" in err
    assert digest(s) == before
    del s.env["GATEHOUSE_MASTER_KEY"]
    err = start_fails(s, {"GATEHOUSE_STORAGE_ENCRYPT": "false"})
    assert "not a plain SQLite database" in err and "storage.encrypt" in err
    assert digest(s) == before

    p = make_server(env=FAST)
    p.stop_ok()
    before = digest(p)
    err = start_fails(p, {"GATEHOUSE_STORAGE_ENCRYPT": "true"})
    assert "plain database" in err and "gatehouse storage encrypt" in err
    assert digest(p) == before


def test_refused_with_sealed_start_or_postgres(make_server):
    s = make_server(env=ENC, start=False)
    err = start_fails(s, {"GATEHOUSE_CRYPTO_SEALED": "true"})
    assert "storage.encrypt" in err and "crypto.sealed" in err
    err = start_fails(s, {"GATEHOUSE_CRYPTO_SEALED": "false", "GATEHOUSE_STORAGE_BACKEND": "postgres",
                          "GATEHOUSE_STORAGE_DSN": "postgresql://127.0.0.1:1/x"})
    assert "storage.encrypt: SQLite only" in err


def test_conversion_keeps_users_tokens_and_the_audit_chain(make_server):
    s = make_server(env=FAST)
    u = s.register(username=unique_name("conv"))
    tok = s.tokens(u["username"], u["password"])
    # A running server's database is not converted.
    r = run_cli(["storage", "encrypt"], data_dir=s.data_dir, env=s.env)
    assert r.returncode == 1 and "stop the server" in r.stderr, r.stderr
    s.stop_ok()
    plain = digest(s)
    r = run_cli(["storage", "encrypt"], data_dir=s.data_dir, env=s.env)
    assert r.returncode == 0, r.stderr
    assert "encrypted" in r.stdout and "storage.encrypt: true" in r.stdout
    assert digest(s) != plain and not (s.data_dir / "gatehouse.db.convert").exists()
    assert u["username"].encode() not in (s.data_dir / "gatehouse.db").read_bytes()
    again = run_cli(["storage", "encrypt"], data_dir=s.data_dir, env=s.env)
    assert again.returncode == 1 and "encrypted already" in again.stderr

    s.env.update(GATEHOUSE_STORAGE_ENCRYPT="true")
    v = run_cli(["audit", "verify"], data_dir=s.data_dir, env=s.env)
    assert v.returncode == 0, v.stdout + v.stderr
    s.start()
    s.tokens(u["username"], u["password"])
    r = s.post("/api/v1/auth/refresh", {"refresh_token": tok["refresh_token"]})
    assert r.status_code == 200, r.text
    v2 = s.register()
    s.stop_ok()

    # And back: decrypt, then a plain start reads every user.
    r = run_cli(["storage", "decrypt"], data_dir=s.data_dir, env=s.env)
    assert r.returncode == 0, r.stderr
    s.env.update(GATEHOUSE_STORAGE_ENCRYPT="false")
    s.start()
    s.tokens(v2["username"], v2["password"])
    s.tokens(u["username"], u["password"])
    v = run_cli(["audit", "verify"], data_dir=s.data_dir, env=s.env)
    assert v.returncode == 0, v.stdout + v.stderr


def test_conversion_refuses_a_missing_database_and_postgres(tmp_path):
    r = run_cli(["storage", "encrypt"], data_dir=tmp_path, env=FAST)
    assert r.returncode == 1 and "nothing to convert" in r.stderr
    r = run_cli(["storage", "rot13"], data_dir=tmp_path, env=FAST)
    assert r.returncode == 2


def test_security_audit_reports_a_plain_database(make_server):
    s = make_server(env=FAST)
    r = run_cli(["security", "audit"], data_dir=s.data_dir, env=s.env)
    assert "V14.2.4" in r.stdout and "database not encrypted at rest" in r.stdout
    e = make_server(env=ENC)
    r = run_cli(["security", "audit"], data_dir=e.data_dir, env=e.env)
    assert "database not encrypted" not in r.stdout, r.stdout + r.stderr


def test_backup_of_an_encrypted_database_restores_under_the_same_master_key(make_server, tmp_path):
    s = make_server(env=ENC)
    u = s.register()
    out = tmp_path / "b.ghb"
    r = run_cli(["backup", "create", "--out", str(out)], data_dir=s.data_dir, env=s.env)
    assert r.returncode == 0, r.stderr
    assert u["username"].encode() not in out.read_bytes()
    s.stop_ok()
    fresh = tmp_path / "fresh"
    (fresh / "keys").mkdir(parents=True, mode=0o700)
    hexkey = (s.data_dir / "keys" / "master.key").read_bytes().hex()
    r = run_cli(["backup", "restore", str(out)], data_dir=fresh,
                env=dict(s.env, GATEHOUSE_MASTER_KEY=hexkey))
    assert r.returncode == 0, r.stderr
    r = run_cli(["user", "list"], data_dir=fresh, env=dict(s.env, GATEHOUSE_MASTER_KEY=hexkey))
    assert r.returncode == 0 and u["username"] in r.stdout, r.stderr
    # Without the master key it was sealed under, nothing is restored.
    other = tmp_path / "other"
    (other / "keys").mkdir(parents=True, mode=0o700)
    r = run_cli(["backup", "restore", str(out)], data_dir=other,
                env=dict(s.env, GATEHOUSE_MASTER_KEY=OTHER_KEY))
    assert r.returncode != 0

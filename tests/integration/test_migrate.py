"""gatehouse migrate --from sqlite:PATH --to postgres:DSN on a running single-node install:
progress on stderr, every record in PostgreSQL (a user logs in, a refresh token and an API
key issued on SQLite work on a PostgreSQL node), the audit chain verifying afterwards, an
occupied target refused, the DSN's password in no output."""
import subprocess

from conftest import ADMIN_PASSWORD, BIN, BASE_ENV, bearer, clean_environ, unique_name

KEYS = "/api/v1/api-keys"
ME = "/api/v1/auth/me"


def migrate(args, dsn_env=None, data_dir=None):
    env = clean_environ()
    env.update(BASE_ENV)
    if dsn_env:
        env["GATEHOUSE_STORAGE_DSN"] = dsn_env
    cmd = [BIN, "migrate"] + args
    if data_dir:
        cmd += ["--data-dir", str(data_dir)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def test_migrate_a_running_install(postgres, make_server):
    s = make_server()  # SQLite, running during the copy
    users = [s.register() for _ in range(3)]
    t = s.tokens(users[0]["username"], users[0]["password"])
    h = bearer(t["access_token"])
    key = s.post(KEYS, {"name": unique_name("k")}, headers=h)
    assert key.status_code == 201, key.text
    admin_h = bearer(s.tokens("admin", ADMIN_PASSWORD)["access_token"])
    org = s.post("/api/v1/orgs", {"name": unique_name("org")}, headers=admin_h)
    assert org.status_code == 201, org.text

    dsn = postgres.new_database()
    db = s.data_dir / "gatehouse.db"
    r = migrate(["--from", f"sqlite:{db}", "--to", "postgres:"], dsn_env=dsn,
                data_dir=s.data_dir)
    assert r.returncode == 0, r.stderr
    assert "migrate: users" in r.stderr and "migrate: audit_events" in r.stderr
    assert "migrated: audit chain up to record" in r.stdout
    assert postgres.password not in r.stdout + r.stderr
    s.stop()

    # a node on PostgreSQL with the install's keys serves what SQLite held
    p = make_server({"GATEHOUSE_STORAGE_BACKEND": "postgres", "GATEHOUSE_STORAGE_DSN": dsn},
                    data_dir=s.data_dir)
    for u in users:
        assert p.login(u["username"], u["password"]).status_code == 200
    r = p.post("/api/v1/auth/refresh", {"refresh_token": t["refresh_token"]})
    assert r.status_code == 200, r.text
    assert p.get(ME, headers={"X-API-Key": key.json()["key"]}).status_code == 200
    orgs = p.get("/api/v1/orgs", headers=bearer(p.tokens("admin", ADMIN_PASSWORD)["access_token"]))
    assert org.json()["id"] in orgs.text
    p.stop()

    # the chain verifies on PostgreSQL
    env = clean_environ()
    env.update(BASE_ENV)
    env.update({"GATEHOUSE_STORAGE_BACKEND": "postgres", "GATEHOUSE_STORAGE_DSN": dsn})
    v = subprocess.run([BIN, "audit", "verify", "--data-dir", str(s.data_dir)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert v.returncode == 0, v.stdout + v.stderr

    # a second copy into the same database is refused, nothing changes
    r = migrate(["--from", f"sqlite:{db}", "--to", f"postgres:{dsn}"], data_dir=s.data_dir)
    assert r.returncode == 1 and "already holds" in r.stderr
    assert postgres.password not in r.stdout + r.stderr


def test_migrate_usage_and_bad_sources(postgres, tmp_path):
    for args in ([], ["--from", "mysql:x", "--to", "postgres:"], ["--from", "sqlite:"],
                 ["--from", "sqlite:/x.db", "--to", "oracle:y"]):
        r = migrate(args, data_dir=tmp_path)
        assert r.returncode == 2, (args, r.stderr)
        assert "usage: gatehouse migrate" in r.stderr
    r = migrate(["--from", f"sqlite:{tmp_path}", "--to", "postgres:"],
                dsn_env=postgres.new_database(), data_dir=tmp_path)
    assert r.returncode == 1 and "cannot open the SQLite database" in r.stderr
    r = migrate(["--from", f"sqlite:{tmp_path / 'x.db'}", "--to",
                 "postgres:postgresql://gatehouse:Secr3t-pw@127.0.0.1:1/x"], data_dir=tmp_path)
    assert r.returncode == 1 and "DSN not shown" in r.stderr
    assert "Secr3t-pw" not in r.stdout + r.stderr

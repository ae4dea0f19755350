"""storage.backend postgres on a real PostgreSQL server of the tests' own (pg.py): the API
on one node, two nodes sharing one database (log in on one, refresh on the other, one
winner of a refresh raced across both, a revocation on one refused on the other within
1 s), the database going away and coming back under a running node, and a DSN whose
password never reaches a message."""
import concurrent.futures
import subprocess
import time



from conftest import (BIN, BASE_ENV, assert_error, bearer, clean_environ, free_port,
                      strong_password, unique_name)

ME = "/api/v1/auth/me"
VERIFY = "/api/v1/auth/verify"
REFRESH = "/api/v1/auth/refresh"


def pg_env(dsn, **extra):
    env = {"GATEHOUSE_STORAGE_BACKEND": "postgres", "GATEHOUSE_STORAGE_DSN": dsn}
    env.update(extra)
    return env


def refresh(node, rt):
    return node.post(REFRESH, {"refresh_token": rt})


def two_nodes(make_server, dsn):
    """Two nodes on one database sharing one key directory and one issuer, as behind a load
    balancer (the first makes the keys and the bootstrap admin, then the second starts)."""
    env = pg_env(dsn, GATEHOUSE_AUTH_ISSUER="https://gatehouse.test")
    a = make_server(env)
    b = make_server(env, data_dir=a.data_dir)
    return a, b


def until(predicate, timeout):
    """Polls predicate every 10 ms for at most timeout seconds: the seconds it took, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if predicate():
            return time.monotonic() - t0
        time.sleep(0.01)
    return None


def test_one_node_on_postgres(postgres, make_server):
    s = make_server(pg_env(postgres.new_database()))
    assert s.get("/readyz").status_code == 200
    u = s.register(full_name="On Postgres")
    t = s.tokens(u["username"], u["password"])
    r = s.get(ME, headers=bearer(t["access_token"]))
    assert r.status_code == 200 and r.json()["username"] == u["username"]
    r = refresh(s, t["refresh_token"])
    assert r.status_code == 200, r.text
    # the spent token again: reuse, the family is revoked
    assert_error(refresh(s, t["refresh_token"]), 401, "invalid_token")
    assert_error(refresh(s, r.json()["refresh_token"]), 401, "invalid_token")
    # duplicate username: the same conflict as on SQLite
    r = s.post("/api/v1/auth/register", {"username": u["username"], "email": "x@example.com",
                                          "password": strong_password()})
    assert_error(r, 409)


def test_audit_chain_verifies_on_postgres(postgres, make_server):
    dsn = postgres.new_database()
    a, b = two_nodes(make_server, dsn)
    for node in (a, b, a, b):
        u = node.register()
        node.tokens(u["username"], u["password"])
    a.stop()
    b.stop()
    env = clean_environ()
    env.update(BASE_ENV)
    env.update(pg_env(dsn))
    r = subprocess.run([BIN, "audit", "verify", "--data-dir", str(a.data_dir)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_two_nodes_share_users_and_tokens(postgres, make_server):
    a, b = two_nodes(make_server, postgres.new_database())
    u = a.register()
    t = b.tokens(u["username"], u["password"])
    assert a.get(ME, headers=bearer(t["access_token"])).status_code == 200
    rt = t["refresh_token"]
    for node in (a, b, a, b):
        r = refresh(node, rt)
        assert r.status_code == 200, r.text
        rt = r.json()["refresh_token"]
        assert node.get(ME, headers=bearer(r.json()["access_token"])).status_code == 200


def test_refresh_raced_across_two_nodes_has_one_winner(postgres, make_server):
    a, b = two_nodes(make_server, postgres.new_database())
    u = a.register()
    rt = a.tokens(u["username"], u["password"])["refresh_token"]
    nodes = [a, b] * 25

    def go(node):
        return refresh(node, rt).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        codes = list(ex.map(go, nodes))
    assert codes.count(200) == 1, codes
    assert codes.count(401) == 49, codes


def test_revocation_on_one_node_refused_on_the_other_within_1s(postgres, make_server):
    a, b = two_nodes(make_server, postgres.new_database())
    u = a.register()
    t = a.tokens(u["username"], u["password"])
    h = bearer(t["access_token"])
    for _ in range(3):  # warm b's caches
        assert b.get(VERIFY, headers=h).status_code == 200
        assert b.get(ME, headers=h).status_code == 200
    assert a.post("/api/v1/auth/logout-all", headers=h).status_code == 204
    took = until(lambda: b.get(VERIFY, headers=h).status_code == 401, 1.0)
    assert took is not None, "node b still accepts the token 1 s after logout-all on node a"
    print(f"logout-all on a refused on b after {took * 1000:.0f} ms")
    assert b.get(ME, headers=h).status_code == 401

    # a password change on b ends the sessions a had cached
    t = b.tokens(u["username"], u["password"])
    h = bearer(t["access_token"])
    assert a.get(VERIFY, headers=h).status_code == 200
    r = b.post("/api/v1/auth/change-password",
               {"current_password": u["password"], "new_password": strong_password()},
               headers=h)
    assert r.status_code in (200, 204), r.text
    assert until(lambda: a.get(VERIFY, headers=h).status_code == 401, 1.0) is not None


def test_database_away_and_back(postgres, make_server):
    s = make_server(pg_env(postgres.new_database()))
    u = s.register()
    t = s.tokens(u["username"], u["password"])
    h = bearer(t["access_token"])
    assert s.get(VERIFY, headers=h).status_code == 200
    postgres.stop()
    try:
        assert until(lambda: s.get("/readyz").status_code == 503, 10) is not None
        r = s.get("/readyz")
        assert_error(r, 503, "unavailable")
        # a write cannot be made: 503 unavailable, not a 5xx without a body
        r = s.post("/api/v1/auth/login", {"username": u["username"], "password": u["password"]})
        assert_error(r, 503, "unavailable")
        assert s.get("/healthz").status_code == 200
    finally:
        postgres.start()
    # back without a restart of the node
    assert until(lambda: s.get("/readyz").status_code == 200, 20) is not None
    assert s.tokens(u["username"], u["password"])["access_token"]
    assert s.proc.poll() is None
    assert "PostgreSQL is back" in s.stderr_text()
    assert postgres.password not in s.stderr_text() + s.stdout_text()


def test_dsn_password_never_in_messages(postgres, make_server, tmp_path):
    secret = "Sw0rdfish-" + unique_name("pw")
    # a DSN the configuration refuses (a control character): named, never quoted
    env = clean_environ()
    env.update(BASE_ENV)
    env.update(pg_env(f"postgresql://gatehouse:{secret}@127.0.0.1:1/x\x01"))
    r = subprocess.run([BIN, "serve", "--data-dir", str(tmp_path / "a")], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "GATEHOUSE_STORAGE_DSN" in r.stderr and "hidden" in r.stderr
    assert secret not in r.stdout + r.stderr
    # a server that is not there (nothing listens on the port): refused, never quoted
    s = make_server(pg_env(f"postgresql://gatehouse:{secret}@127.0.0.1:{free_port()}/x"),
                    start=False)
    s.start(wait=False)
    assert s.proc.wait(timeout=30) != 0
    err = s.stderr_text()
    assert "storage.dsn" in err
    assert secret not in err + s.stdout_text()
    # the right server, a wrong password
    s = make_server(pg_env(postgres.dsn.replace(postgres.password, secret)), start=False)
    s.start(wait=False)
    assert s.proc.wait(timeout=30) != 0
    assert "password authentication failed" in s.stderr_text()
    assert secret not in s.stderr_text() + s.stdout_text()
    # postgres without a DSN
    env = clean_environ()
    env.update(BASE_ENV)
    env.update({"GATEHOUSE_STORAGE_BACKEND": "postgres"})
    r = subprocess.run([BIN, "serve", "--data-dir", str(tmp_path / "b")], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "storage.dsn" in r.stderr


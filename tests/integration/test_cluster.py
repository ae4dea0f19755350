"""Several nodes: two gatehouse processes on one PostgreSQL and one Redis (all of the tests'
own, on 127.0.0.1). A revocation on one node is refused on the other within 1 s through
the revocation bus (Redis pub/sub) and, with Redis away, through the database feed alone;
the delays are measured and printed. Redis with a password (redis.password)."""
import time

import pytest

from conftest import bearer
from redis_server import Redis

VERIFY = "/api/v1/auth/verify"
ME = "/api/v1/auth/me"
KEYS = "/api/v1/api-keys"
REDIS_PASSWORD = "Redis-pass-for-tests-1"


@pytest.fixture
def redis():
    r = Redis(password=REDIS_PASSWORD).start()
    try:
        yield r
    finally:
        r.cleanup()


def cluster(make_server, postgres, redis, **extra):
    """Two nodes on a fresh database, one issuer, one key directory, the revocation bus."""
    env = {"GATEHOUSE_STORAGE_BACKEND": "postgres",
           "GATEHOUSE_STORAGE_DSN": postgres.new_database(),
           "GATEHOUSE_AUTH_ISSUER": "https://gatehouse.test",
           "GATEHOUSE_REVOCATION_REDIS": f"127.0.0.1:{redis.port}",
           "GATEHOUSE_REDIS_PASSWORD": REDIS_PASSWORD}
    env.update(extra)
    a = make_server(env)
    b = make_server(env, data_dir=a.data_dir)
    return a, b


def until(predicate, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if predicate():
            return time.monotonic() - t0
        time.sleep(0.002)
    return None


def revoke_and_measure(a, b, user, revoke):
    """Logs user in on a, warms b's caches, revokes on a with revoke(headers): the seconds
    until b refuses the token on /verify (None: not within 1 s)."""
    t = a.tokens(user["username"], user["password"])
    h = bearer(t["access_token"])
    for _ in range(3):
        assert b.get(VERIFY, headers=h).status_code == 200
    revoke(h)
    return until(lambda: b.get(VERIFY, headers=h).status_code == 401, 1.0)


def test_revocations_reach_the_other_node_within_1s(make_server, postgres, redis):
    a, b = cluster(make_server, postgres, redis)
    u = a.register()
    delays = {}

    def logout_all(h):
        assert a.post("/api/v1/auth/logout-all", headers=h).status_code == 204

    delays["logout-all"] = revoke_and_measure(a, b, u, logout_all)

    def change_password(h):
        new = "N3w-" + u["password"]
        r = a.post("/api/v1/auth/change-password",
                   {"current_password": u["password"], "new_password": new}, headers=h)
        assert r.status_code in (200, 204), r.text
        u["password"] = new

    delays["password change"] = revoke_and_measure(a, b, u, change_password)

    # an API key revoked on a is refused on b
    h = bearer(a.tokens(u["username"], u["password"])["access_token"])
    key = a.post(KEYS, {"name": "k1"}, headers=h).json()
    xk = {"X-API-Key": key["key"]}
    for _ in range(3):
        assert b.get(VERIFY, headers=xk).status_code == 200
    assert a.request("DELETE", f"{KEYS}/{key['id']}", headers=h).status_code == 204
    delays["API key"] = until(lambda: b.get(VERIFY, headers=xk).status_code == 401, 1.0)

    for what, d in delays.items():
        assert d is not None, f"{what}: node b still accepts after 1 s"
        print(f"bus: {what} on node a refused on node b after {d * 1000:.1f} ms")


def test_feed_carries_revocations_while_redis_is_away(make_server, postgres, redis):
    a, b = cluster(make_server, postgres, redis)
    u = a.register()
    redis.kill()

    def logout_all(h):
        assert a.post("/api/v1/auth/logout-all", headers=h).status_code == 204

    d = revoke_and_measure(a, b, u, logout_all)
    assert d is not None, "node b still accepts after 1 s with Redis away"
    print(f"feed (Redis away): logout-all on node a refused on node b after {d * 1000:.1f} ms")
    redis.start()  # the bus comes back by itself
    d = None
    for _ in range(30):
        time.sleep(0.2)
        d = revoke_and_measure(a, b, u, logout_all)
        if d is not None and d < 0.05:
            break
    assert d is not None


def test_wrong_redis_password_falls_back_to_the_feed(make_server, postgres, redis):
    a, b = cluster(make_server, postgres, redis, GATEHOUSE_REDIS_PASSWORD="not-it")
    u = a.register()

    def logout_all(h):
        assert a.post("/api/v1/auth/logout-all", headers=h).status_code == 204

    assert revoke_and_measure(a, b, u, logout_all) is not None
    assert "not-it" not in a.stderr_text() + a.stdout_text()

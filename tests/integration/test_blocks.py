"""Address blocks (API.md "Address blocks"): the API and the CLI, the bad inputs, a block
refused on every route and at /verify (directly and behind nginx), its expiry, the audit
records, and an alert rule's automatic block with its cap and its protected addresses.

Clients other than 127.0.0.1 are played through X-Forwarded-For from loopback (a trusted
proxy by default), or, behind nginx, by connecting from 127.0.0.2."""
import http.client
import json
import time

import pytest

from conftest import (ADMIN_PASSWORD, assert_error, bearer, eventually, run_cli,
                      unique_name, wait_audit)
from proxies import EchoUpstream, Proxy, which

BLOCKS = "/api/v1/edge/blocks"
VERIFY = "/api/v1/auth/verify"
FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}


def xff(ip, headers=None):
    h = dict(headers or {})
    h["X-Forwarded-For"] = ip
    return h


def admin_h(s):
    return bearer(s.tokens("admin", ADMIN_PASSWORD)["access_token"])


def blocked(s, ip, path="/healthz", headers=None):
    r = s.get(path, headers=xff(ip, headers))
    if r.status_code != 403:
        return False
    assert_error(r, 403, "ip_blocked")
    return True


def listed(s, h):
    r = s.get(BLOCKS, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["next_offset"] is None
    return r.json()["items"]


@pytest.fixture
def gh(make_server):
    return make_server(dict(FAST))


def test_block_api_and_every_route_refused(gh):
    h = admin_h(gh)
    member = gh.register()
    mh = bearer(gh.tokens(member["username"], member["password"])["access_token"])
    r = gh.post(BLOCKS, {"cidr": "203.0.113.0/24", "reason": "scanner"}, headers=h)
    assert r.status_code == 201, r.text
    b = r.json()
    assert set(b) >= {"id", "cidr", "reason", "expires_at", "created_at", "created_by"}
    assert b["cidr"] == "203.0.113.0/24" and b["reason"] == "scanner"
    assert b["expires_at"] is None and b["created_by"] == "admin"
    assert [i["id"] for i in listed(gh, h)] == [b["id"]]

    # Every route, /verify included, with or without credentials; other clients pass.
    for path in ("/healthz", VERIFY, "/api/v1/auth/me", "/no/such/route"):
        assert blocked(gh, "203.0.113.9", path, mh), path
    assert gh.get("/healthz", headers=xff("203.0.114.1")).status_code == 200
    assert gh.get(VERIFY, headers=xff("198.51.100.1", mh)).status_code == 200
    denied = wait_audit(gh, "PERMISSION_DENIED", ip_address="203.0.113.9")
    assert denied and json.loads(denied[0]["metadata"])["reason"] == "ip_blocked"
    made = wait_audit(gh, "IP_BLOCKED")
    assert made and json.loads(made[0]["metadata"])["cidr"] == "203.0.113.0/24"

    # IPv6, written in any form: stored canonical.
    r = gh.post(BLOCKS, {"cidr": "2001:DB8:0::/32", "reason": "v6 scanner"}, headers=h)
    assert r.status_code == 201 and r.json()["cidr"] == "2001:db8::/32", r.text
    assert blocked(gh, "2001:db8::1")
    assert blocked(gh, "[2001:db8:ffff::2]:443")
    assert gh.get("/healthz", headers=xff("2001:db9::1")).status_code == 200

    # A plain member may not list, add or remove (audited like any denial).
    assert_error(gh.get(BLOCKS, headers=mh), 403, "forbidden")
    assert_error(gh.post(BLOCKS, {"cidr": "192.0.2.1", "reason": "x"}, headers=mh), 403,
                 "forbidden")
    assert_error(gh.request("DELETE", f"{BLOCKS}/{b['id']}", headers=mh), 403, "forbidden")
    assert_error(gh.get(BLOCKS), 401)

    assert gh.request("DELETE", f"{BLOCKS}/{b['id']}", headers=h).status_code == 204
    assert_error(gh.request("DELETE", f"{BLOCKS}/{b['id']}", headers=h), 404, "not_found")
    assert_error(gh.request("DELETE", f"{BLOCKS}/not-an-id", headers=h), 404, "not_found")
    assert gh.get("/healthz", headers=xff("203.0.113.9")).status_code == 200
    gone = wait_audit(gh, "IP_UNBLOCKED")
    assert gone and json.loads(gone[0]["metadata"])["block_id"] == b["id"]
    assert [i["cidr"] for i in listed(gh, h)] == ["2001:db8::/32"]


@pytest.mark.parametrize("body, status, code, field", [
    ({"cidr": "0.0.0.0/0", "reason": "all"}, 422, "invalid_value", "cidr"),
    ({"cidr": "::/0", "reason": "all"}, 422, "invalid_value", "cidr"),
    ({"cidr": "::/1", "reason": "holds all of IPv4"}, 422, "invalid_value", "cidr"),
    ({"cidr": "::ffff:0.0.0.0/96", "reason": "all of IPv4"}, 422, "invalid_value", "cidr"),
    ({"cidr": "10.0.0.1/8", "reason": "host bits"}, 422, "invalid_value", "cidr"),
    ({"cidr": "10.0.0.0/33", "reason": "too long"}, 422, "invalid_value", "cidr"),
    ({"cidr": "example.com", "reason": "a name"}, 422, "invalid_value", "cidr"),
    ({"cidr": "1.2.3.4" + " " * 60, "reason": "long"}, 422, "invalid_value", "cidr"),
    ({"cidr": "192.0.2.1", "reason": ""}, 422, "invalid_value", "reason"),
    ({"cidr": "192.0.2.1", "reason": "x" * 257}, 422, "invalid_value", "reason"),
    ({"cidr": "192.0.2.1", "reason": "bell\x07"}, 422, "invalid_value", "reason"),
    ({"cidr": "192.0.2.1", "reason": "old", "expires_at": "2001-01-01T00:00:00Z"}, 422,
     "invalid_value", "expires_at"),
    ({"cidr": "192.0.2.1", "reason": "bad", "expires_at": "tomorrow"}, 422, "invalid_value",
     "expires_at"),
    ({"cidr": "192.0.2.1"}, 400, "invalid_request", None),
    ({"reason": "no cidr"}, 400, "invalid_request", None),
    ({"cidr": 3232235521, "reason": "a number"}, 400, "invalid_request", None),
])
def test_bad_blocks_refused(server, body, status, code, field):
    h = bearer(server.tokens("admin", ADMIN_PASSWORD)["access_token"])
    err = assert_error(server.post(BLOCKS, body, headers=h), status, code)
    if field is not None:
        assert err["details"]["field"] == field, err
    assert all(i["reason"] != body.get("reason") for i in listed(server, h))


def test_duplicate_and_expiry(gh):
    h = admin_h(gh)
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
    r = gh.post(BLOCKS, {"cidr": "192.0.2.77", "reason": "brief", "expires_at": soon}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["cidr"] == "192.0.2.77/32" and r.json()["expires_at"] == soon
    assert_error(gh.post(BLOCKS, {"cidr": "192.0.2.77/32", "reason": "again"}, headers=h), 409,
                 "conflict")
    assert blocked(gh, "192.0.2.77")
    # Once expired: never listed as active, and the address passes (within a poll).
    assert eventually(lambda: listed(gh, h) == [], timeout=10)
    assert eventually(lambda: gh.get("/healthz", headers=xff("192.0.2.77")).status_code == 200,
                      timeout=5)
    # Its range may be blocked again.
    r = gh.post(BLOCKS, {"cidr": "192.0.2.77", "reason": "back"}, headers=h)
    assert r.status_code == 201, r.text


def test_cli_reaches_a_running_server(gh):
    d = gh.data_dir
    r = run_cli(["block", "add", "198.51.100.7", "--reason", "from the shell", "--for", "1h"],
                data_dir=d)
    assert r.returncode == 0, r.stderr
    block_id, cidr = r.stdout.split()
    assert cidr == "198.51.100.7/32"
    # Another process wrote it: the server learns it from the database (epoch poll).
    assert eventually(lambda: blocked(gh, "198.51.100.7"), timeout=5)
    r = run_cli(["block", "list"], data_dir=d)
    assert r.returncode == 0 and block_id in r.stdout and "from the shell" in r.stdout
    assert "\tcli\t" in r.stdout
    for args, why in [(["block", "add", "0.0.0.0/0", "--reason", "x"], "every address"),
                      (["block", "add", "::/0", "--reason", "x"], "every address"),
                      (["block", "add", "198.51.100.7", "--reason", "x"], "blocked already"),
                      (["block", "add", "198.51.100.8", "--reason", "x", "--for", "soon"],
                       "--for"),
                      (["block", "remove", "00000000-0000-4000-8000-000000000000"],
                       "no such block")]:
        r = run_cli(args, data_dir=d)
        assert r.returncode != 0 and why in r.stderr, (args, r.stderr)
    r = run_cli(["block", "remove", block_id], data_dir=d)
    assert r.returncode == 0, r.stderr
    assert eventually(lambda: gh.get("/healthz", headers=xff("198.51.100.7")).status_code == 200,
                      timeout=5)
    rows = wait_audit(gh, "IP_UNBLOCKED")
    assert rows and rows[0]["username"] == "cli"


# -- alert rules that block -----------------------------------------------------------

def fail_login(s, ip):
    r = s.post("/api/v1/auth/login", {"username": unique_name("x"), "password": "wrong-Pw-1!"},
               headers=xff(ip))
    assert r.status_code in (401, 403), r.text
    return r


def test_alert_rule_blocks_then_the_block_expires(make_server):
    env = dict(FAST)
    env["GATEHOUSE_ALERTS_RULES"] = "brute LOGIN_FAILED by ip >= 3 in 1m -> block 8s"
    env["GATEHOUSE_ALERTS_WEBHOOKS"] = ""
    env["GATEHOUSE_BLOCKS_AUTO_MAX"] = "2"
    s = make_server(env)
    h = admin_h(s)
    for _ in range(3):
        fail_login(s, "192.0.2.10")
    assert eventually(lambda: blocked(s, "192.0.2.10"), timeout=5)
    items = listed(s, h)
    assert [(i["cidr"], i["created_by"], i["automatic"]) for i in items] == [
        ("192.0.2.10/32", "alert:brute", True)]
    assert items[0]["expires_at"] is not None
    rows = wait_audit(s, "IP_BLOCKED")
    assert rows and json.loads(rows[0]["metadata"])["created_by"] == "alert:brute"
    # Loopback is a trusted proxy: it fires the rule but is never blocked.
    for _ in range(3):
        r = s.post("/api/v1/auth/login", {"username": unique_name("y"), "password": "bad-Pw-1!"})
        assert r.status_code == 401
    assert eventually(lambda: "never blocked automatically" in s.log_text(), timeout=5)
    assert s.get("/healthz").status_code == 200
    # The cap: a second address is blocked, a third is not (logged).
    for ip in ("192.0.2.11", "192.0.2.12"):
        for _ in range(3):
            fail_login(s, ip)
    assert eventually(lambda: blocked(s, "192.0.2.11"), timeout=5)
    assert eventually(lambda: "blocks.auto_max" in s.log_text(), timeout=5)
    assert s.get("/healthz", headers=xff("192.0.2.12")).status_code == 200
    # The block expires by itself.
    assert eventually(lambda: s.get("/healthz", headers=xff("192.0.2.10")).status_code == 200,
                      timeout=25)
    assert all(i["cidr"] != "192.0.2.10/32" for i in listed(s, h))


def test_block_rule_syntax_refused(tmp_path):
    for rule, why in [("b LOGIN_FAILED by user >= 3 in 1m -> block 1h", "needs a rule"),
                      ("b LOGIN_FAILED by ip >= 3 in 1m -> block 9d", "expected a DURATION"),
                      ("b LOGIN_FAILED by ip >= 3 in 1m -> block", "not one of alerts.webhooks"),
                      ("b LOGIN_FAILED by ip >= 3 in 1m -> block 1h more", "too many words")]:
        env = dict(FAST, GATEHOUSE_ALERTS_RULES=rule, GATEHOUSE_ALERTS_WEBHOOKS="")
        r = run_cli(["serve", "--listen", "127.0.0.1:1"], data_dir=tmp_path / "d", env=env,
                    timeout=30)
        assert r.returncode != 0 and why in r.stderr + r.stdout, (rule, r.stderr)


# -- behind nginx -----------------------------------------------------------------------

def request_from(source, port, path, headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                      source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


@pytest.mark.skipif(not which("nginx"), reason="nginx is not installed (scripts/deps.sh test)")
def test_blocked_address_refused_at_verify_behind_nginx(make_server):
    s = make_server(dict(FAST))
    up = EchoUpstream().start()
    proxy = Proxy("nginx", s.port, up.port)
    try:
        proxy.start()
        user = s.register()
        h = bearer(s.tokens(user["username"], user["password"])["access_token"])
        assert request_from("127.0.0.2", proxy.port, "/app/page", h) == 200
        seen = up.hits
        r = s.post(BLOCKS, {"cidr": "127.0.0.2", "reason": "nginx client"}, headers=admin_h(s))
        assert r.status_code == 201, r.text
        # nginx's auth_request hands Gatehouse's 403 to the client; the app never sees it.
        assert request_from("127.0.0.2", proxy.port, "/app/page", h) == 403
        assert up.hits == seen
        assert request_from("127.0.0.1", proxy.port, "/app/page", h) == 200
        rows = wait_audit(s, "PERMISSION_DENIED", ip_address="127.0.0.2")
        assert rows and json.loads(rows[0]["metadata"])["reason"] == "ip_blocked"
    finally:
        proxy.cleanup()
        up.stop()


# -- several nodes ------------------------------------------------------------------------

def test_blocks_reach_the_other_node_through_the_database(make_server, postgres):
    """Two nodes on one PostgreSQL database: a block made on one is refused on the other
    within seconds (the store's block epoch, polled every 100 ms; the deadline leaves room
    for a loaded machine), and so is its removal."""
    env = dict(FAST, GATEHOUSE_STORAGE_BACKEND="postgres",
               GATEHOUSE_STORAGE_DSN=postgres.new_database())
    a = make_server(env)
    b = make_server(env, data_dir=a.data_dir)
    h = admin_h(a)
    assert b.get("/healthz", headers=xff("192.0.2.99")).status_code == 200
    r = a.post(BLOCKS, {"cidr": "192.0.2.96/28", "reason": "cluster"}, headers=h)
    assert r.status_code == 201, r.text
    t0 = time.monotonic()
    assert eventually(lambda: blocked(b, "192.0.2.99"), timeout=3.0, interval=0.01)
    print(f"block reached the other node in {time.monotonic() - t0:.3f} s")
    assert [i["cidr"] for i in listed(b, admin_h(b))] == ["192.0.2.96/28"]
    r = b.request("DELETE", f"{BLOCKS}/{r.json()['id']}", headers=admin_h(b))
    assert r.status_code == 204
    assert eventually(
        lambda: a.get("/healthz", headers=xff("192.0.2.99")).status_code == 200,
        timeout=3.0, interval=0.01)

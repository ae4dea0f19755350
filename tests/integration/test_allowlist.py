"""Address allowlists per route group (API.md "Allowlists"): the admin API (every path
under /api/v1/users and /api/v1/audit, whatever routes land there) behind admin.allow,
/metrics behind metrics.allow (or metrics:read).  Refusals are 403 ip_not_allowed and
audited as PERMISSION_DENIED with reason ip_not_allowed, aggregated per client.

The admin routes are written on other branches: here an allowed caller gets past the
allowlist to whatever is there (404 until they land); a refused one never gets that far.
"""
import json
import time

import pytest

from conftest import ADMIN_PASSWORD, assert_error, bearer, wait_audit

ADMIN_PATHS = ["/api/v1/users", "/api/v1/users/", "/api/v1/users/3f1c/roles", "/api/v1/audit",
               "/api/v1/audit/logs", "/api/v1/audit/verify"]


def fwd(ip):
    return {"X-Forwarded-For": ip}


def past_allowlist(r):
    """Answered by routing or a handler, not by the allowlist."""
    if r.status_code == 403:
        assert r.json()["error"]["code"] != "ip_not_allowed", r.text
    return True


def test_default_admin_api_open_to_any_address(make_server):
    s = make_server()
    for ip in ("203.0.113.9", "2001:db8::9", "10.1.1.1"):
        for p in ADMIN_PATHS:
            assert past_allowlist(s.get(p, headers=fwd(ip)))


def test_only_10_slash_8(make_server):
    s = make_server({"GATEHOUSE_ADMIN_ALLOW": "10.0.0.0/8"})
    tok = s.tokens("admin", ADMIN_PASSWORD)["access_token"]
    for p in ADMIN_PATHS:
        # loopback itself, and clients outside the range, even with a superadmin token
        assert_error(s.get(p), 403, "ip_not_allowed")
        assert_error(s.get(p, headers=bearer(tok)), 403, "ip_not_allowed")
        assert_error(s.post(p, {"x": 1}, headers=fwd("203.0.113.7")), 403, "ip_not_allowed")
        assert_error(s.request("DELETE", p, headers=fwd("2001:db8::1")), 403, "ip_not_allowed")
        # inside the range (through the trusted loopback proxy): past the allowlist
        assert past_allowlist(s.get(p, headers=dict(fwd("10.20.30.40"), **bearer(tok))))
        assert past_allowlist(s.get(p, headers=fwd("::ffff:10.0.0.1")))
    # other paths are not in the group: a prefix is a whole segment
    for p in ("/api/v1/usersx", "/api/v1/auditing", "/api/v1/auth/me"):
        r = s.get(p)
        assert r.status_code in (401, 404), (p, r.text)
    # not believed from an untrusted peer
    u = make_server({"GATEHOUSE_ADMIN_ALLOW": "10.0.0.0/8",
                     "GATEHOUSE_SERVER_TRUSTED_PROXIES": "192.0.2.0/24"})
    assert_error(u.get("/api/v1/users", headers=fwd("10.1.2.3")), 403, "ip_not_allowed")


def test_only_loopback_v4_and_v6(make_server):
    # loopback v4 is the only trusted proxy, so a forwarded ::1 is a client address
    s = make_server({"GATEHOUSE_ADMIN_ALLOW": "::1, 127.0.0.1",
                     "GATEHOUSE_SERVER_TRUSTED_PROXIES": "127.0.0.1/32"})
    for p in ADMIN_PATHS:
        assert past_allowlist(s.get(p))
        assert past_allowlist(s.get(p, headers=fwd("::1")))
        assert past_allowlist(s.get(p, headers=fwd("127.0.0.1")))
        for ip in ("::2", "127.0.0.2", "10.0.0.1", "2001:db8::1"):
            assert_error(s.get(p, headers=fwd(ip)), 403, "ip_not_allowed")


def test_refusal_audited_aggregated(make_server):
    s = make_server({"GATEHOUSE_ADMIN_ALLOW": "10.0.0.0/8",
                     "GATEHOUSE_AUDIT_AGGREGATE_WINDOW": "2s"})
    for _ in range(25):
        assert_error(s.get("/api/v1/audit/logs", headers=fwd("198.51.100.77")), 403,
                     "ip_not_allowed")
    assert wait_audit(s, "PERMISSION_DENIED", ip_address="198.51.100.77")
    deadline = time.monotonic() + 10
    while True:
        rows = s.query("SELECT * FROM audit_events WHERE action = 'PERMISSION_DENIED' AND "
                       "ip_address = ? ORDER BY id", ("198.51.100.77",))
        if len(rows) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(rows) == 2, rows  # the first, then one summary of the window's repeats
    assert json.loads(rows[0]["metadata"]) == {"reason": "ip_not_allowed"}
    assert rows[0]["status"] == 403 and rows[0]["path"] == "/api/v1/audit/logs"
    summary = json.loads(rows[1]["metadata"])
    assert summary["suppressed"] == 24 and summary["of"] == {"reason": "ip_not_allowed"}


@pytest.mark.parametrize("value", ["10.0.0.1/8", "not-an-address", "::1/129"])
def test_bad_admin_allow_refused(make_server, value):
    s = make_server({"GATEHOUSE_ADMIN_ALLOW": value}, start=False)
    with pytest.raises(Exception):
        s.start(timeout=10)
    assert "admin.allow" in s.stderr_text()


def test_metrics_group_keeps_its_rules(make_server):
    # the metrics allowlist is the same mechanism: allowed addresses, or metrics:read
    s = make_server({"GATEHOUSE_METRICS_ALLOW": "10.0.0.0/8"})
    assert_error(s.get("/metrics"), 403, "ip_not_allowed")
    assert s.get("/metrics", headers=fwd("10.9.9.9")).status_code == 200
    tok = s.tokens("admin", ADMIN_PASSWORD)["access_token"]
    assert s.get("/metrics", headers=bearer(tok)).status_code == 200
    assert_error(s.get("/metrics", headers=bearer("x.y.z")), 401, "invalid_token")
    assert wait_audit(s, "PERMISSION_DENIED", ip_address="127.0.0.1")



def test_unreadable_forwarded_client_is_not_loopback(make_server):
    # metrics.allow lets loopback in by default; a client the loopback proxy forwards for
    # without a readable address is unknown, not the proxy
    s = make_server({"GATEHOUSE_AUTH_ALGORITHM": "ES256"})
    assert s.get("/metrics").status_code == 200
    for xff in ("junk", "127.0.0.1, junk", "127.0.0.1:99999", "[127.0.0.1]", ""):
        assert_error(s.get("/metrics", headers=fwd(xff)), 403, "ip_not_allowed")
    assert wait_audit(s, "PERMISSION_DENIED", ip_address="unknown")
    # the forms a proxy writes with a port or brackets are read
    assert s.get("/metrics", headers=fwd("127.0.0.1:5000")).status_code == 200
    assert s.get("/metrics", headers=fwd("[::1]:5000")).status_code == 200

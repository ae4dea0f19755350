"""gatehouse security audit [--json] [--fix] (issue 14, item 7 of the issue): findings
with OWASP ASVS 5.0 ids and severities, exit status 1 with findings and 0 when clean,
--fix tightening file modes only and saying so."""
import json
import os
import sqlite3
import stat

from conftest import ADMIN_PASSWORD, run_cli
from rbac_support import call, superadmin

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
CLEAN = dict(FAST, GATEHOUSE_AUTH_REGISTRATION="false", GATEHOUSE_RATE_LIMIT_GLOBAL="100",
             GATEHOUSE_RATE_LIMIT_AUTH="5", GATEHOUSE_LOGIN_BACKOFF="on",
             GATEHOUSE_STORAGE_ENCRYPT="true")


def audit(s, *args, env=None):
    r = run_cli(["security", "audit", "--json"] + list(args), data_dir=s.data_dir,
                env=dict(s.env, **(env or {})))
    doc = json.loads(r.stdout)
    return r, doc, {(f["asvs"], f["title"]) for f in doc["findings"]}


def test_findings_on_a_default_deployment(make_server):
    s = make_server(env=FAST)
    r, doc, found = audit(s)
    assert r.returncode == 1
    assert ("V6.3.2", "bootstrap admin password still in use") in found
    assert ("V6.3.7", "open self-registration") in found
    assert ("V2.4.1", "rate limits off") in found   # the test environment turns them off
    assert ("V6.3.1", "login backoff off") in found
    for f in doc["findings"]:
        assert f["severity"] in ("high", "medium", "low")
        assert ADMIN_PASSWORD not in f["detail"]
    assert doc["open"] == len(doc["findings"])
    # The text form says the same.
    t = run_cli(["security", "audit"], data_dir=s.data_dir, env=s.env)
    assert t.returncode == 1 and "V6.3.2" in t.stdout and "findings" in t.stdout


def test_fix_tightens_modes_and_says_so(make_server):
    s = make_server(env=CLEAN)
    keys = s.data_dir / "keys"
    for name in ("master.key", "api_key.pepper"):
        os.chmod(keys / name, 0o644)
    os.chmod(s.data_dir, 0o755)
    r, doc, found = audit(s)
    modes = [f for f in doc["findings"] if f["asvs"] == "V13.3.1"]
    assert len(modes) == 3 and all(f["fixable"] for f in modes)
    assert any("master.key" in f["detail"] and "0644" in f["detail"] for f in modes)
    r = run_cli(["security", "audit", "--fix"], data_dir=s.data_dir, env=s.env)
    assert "fixed: " in r.stderr and "master.key to 0600" in r.stderr
    assert stat.S_IMODE(os.stat(keys / "master.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(s.data_dir).st_mode) == 0o700
    r, doc, found = audit(s)
    assert not [f for f in doc["findings"] if f["asvs"] == "V13.3.1"]


def test_clean_deployment_exits_zero_and_a_broken_chain_is_found(make_server):
    s = make_server(env=CLEAN)
    admin = superadmin(s)
    r = call(s, "POST", "/api/v1/auth/change-password", admin.h,
             {"current_password": ADMIN_PASSWORD, "new_password": "Another-Long-Passphrase-77"})
    assert r.status_code == 204, r.text
    r, doc, found = audit(s, env={"GATEHOUSE_ADMIN_PASSWORD": None})
    assert r.returncode == 0, doc
    assert doc == {"findings": [], "open": 0}
    t = run_cli(["security", "audit"], data_dir=s.data_dir,
                env=dict(s.env, GATEHOUSE_ADMIN_PASSWORD=None))
    assert t.returncode == 0 and "no findings" in t.stdout
    s.stop()
    # Decrypted to be changed behind Gatehouse's back with the sqlite3 module.
    assert run_cli(["storage", "decrypt"], data_dir=s.data_dir, env=s.env).returncode == 0
    s.env["GATEHOUSE_STORAGE_ENCRYPT"] = "false"
    db = sqlite3.connect(s.data_dir / "gatehouse.db")
    db.execute("UPDATE audit_events SET ip_address = '203.0.113.9' WHERE id = 1")
    db.commit()
    db.close()
    r, doc, found = audit(s, env={"GATEHOUSE_ADMIN_PASSWORD": None})
    assert r.returncode == 1
    assert ("V16.4.2", "audit chain invalid") in found
    assert ("V14.2.4", "database not encrypted at rest") in found


def test_weak_keys_open_listen_and_sealed_key_on_disk(make_server):
    s = make_server(env=dict(CLEAN, GATEHOUSE_STORAGE_ENCRYPT="false"))  # sealed refuses it
    s.stop()
    r, doc, found = audit(s, env={"GATEHOUSE_AUTH_ALGORITHM": "RS256",
                                  "GATEHOUSE_AUTH_RSA_BITS": "2048",
                                  "GATEHOUSE_SERVER_LISTEN": "0.0.0.0:8080",
                                  "GATEHOUSE_CRYPTO_SEALED": "true",
                                  "GATEHOUSE_AUTH_ACCESS_TTL": "12h"})
    assert ("V11.2.3", "signing key below 128-bit security") in found
    assert ("V12.2.1", "TLS off on a non-loopback address") in found
    assert ("V13.3.1", "sealed master key kept on disk") in found
    assert ("V7.3.2", "token lifetimes above sensible bounds") in found
    r = run_cli(["security", "lint"], data_dir=s.data_dir)
    assert r.returncode == 2


def test_cors_open_to_every_origin_is_a_finding(make_server):
    s = make_server(env=CLEAN)
    r, doc, found = audit(s)
    assert ("V3.4.2", "CORS open to every origin") not in found
    r, doc, found = audit(s, env={"GATEHOUSE_CORS_ALLOWED_ORIGINS": "*"})
    assert r.returncode == 1
    assert ("V3.4.2", "CORS open to every origin") in found

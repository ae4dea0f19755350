#!/usr/bin/env python3
"""Resident memory of the server idle, then once lasso is loaded by a SAML provider and
after one SAML sign-in through the test IdP (tests/saml/idp.cjs; npm ci in tests/saml
first). lasso is opened on first SAML use (authn/saml_lasso.c), so the idle figure must
not include it.  usage: GATEHOUSE_BIN=build/gatehouse bench/saml_rss.py [ROUNDS]"""
import pathlib
import shutil
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "integration"))
import test_saml as t  # noqa: E402
from conftest import ADMIN_PASSWORD, Server, bearer  # noqa: E402


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def one_round():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="gh-saml-rss-"))
    t.key_pair(tmp, "idp")
    t.key_pair(tmp, "other")
    key, cert = t.key_pair(tmp, "sp")
    srv = Server()
    srv.start(timeout=60)
    time.sleep(2)
    idle = rss_kb(srv.proc.pid)
    idp = t.Idp(tmp, srv.url(t.ACS))
    root = bearer(srv.tokens("admin", ADMIN_PASSWORD)["access_token"])
    r = srv.post(t.PROVIDERS, {"name": "rss", "type": "saml", "idp_metadata_xml": idp.metadata(),
                               "sp_private_key": key, "sp_certificate": cert,
                               "auto_create_user": True}, headers=root)
    assert r.status_code == 201, r.text
    loaded = rss_kb(srv.proc.pid)
    env = {"srv": srv, "idp": idp, "name": "rss"}
    b, fields = t.start(env)
    assert t.post(env, b, fields).status_code == 303
    signed_in = rss_kb(srv.proc.pid)
    idp.stop()
    srv.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)
    return idle, loaded, signed_in


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for _ in range(rounds):
        idle, loaded, signed_in = one_round()
        print(f"idle {idle / 1024:.1f} MB, lasso loaded (provider saved) {loaded / 1024:.1f} MB, "
              f"after one SAML sign-in {signed_in / 1024:.1f} MB")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Wall time of the SAML sign-in's two server steps, as a browser sees them: GET
/api/v1/auth/saml/login (the signed AuthnRequest) and POST /api/v1/auth/saml/acs (the
signed Response checked, the session made), N of each, against the test IdP
(tests/saml/idp.cjs; npm ci in tests/saml first). Prints each step's median and spread.
usage: GATEHOUSE_BIN=build/gatehouse bench/saml_latency.py [N]"""
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "integration"))
import test_saml as t  # noqa: E402
from conftest import ADMIN_PASSWORD, Server, bearer  # noqa: E402


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="gh-saml-lat-"))
    t.key_pair(tmp, "idp")
    t.key_pair(tmp, "other")
    key, cert = t.key_pair(tmp, "sp")
    srv = Server()
    srv.start(timeout=60)
    idp = t.Idp(tmp, srv.url(t.ACS))
    try:
        root = bearer(srv.tokens("admin", ADMIN_PASSWORD)["access_token"])
        r = srv.post(t.PROVIDERS, {"name": "lat", "type": "saml",
                                   "idp_metadata_xml": idp.metadata(), "sp_private_key": key,
                                   "sp_certificate": cert, "auto_create_user": True,
                                   "trust_email": True}, headers=root)
        assert r.status_code == 201, r.text
        env = {"srv": srv, "idp": idp, "name": "lat"}
        t.post(env, *t.start(env))  # lasso loaded, the user made: not timed
        login, acs = [], []
        for _ in range(n):
            started = time.monotonic()
            b, fields = t.start(env)  # the login redirect, then the IdP's form
            login.append(time.monotonic() - started)
            started = time.monotonic()
            assert t.post(env, b, fields).status_code == 303
            acs.append(time.monotonic() - started)
        # t.start's time includes the IdP's answer: time the login redirect alone too
        alone = []
        for _ in range(n):
            started = time.monotonic()
            r = requests.get(srv.url("/api/v1/auth/saml/login?provider=lat"),
                             allow_redirects=False, timeout=10)
            alone.append(time.monotonic() - started)
            assert r.status_code == 302
        for label, xs in (("login (302 alone)", alone), ("login + IdP form", login),
                          ("acs (303)", acs)):
            xs = sorted(x * 1000 for x in xs)
            print(f"{label:18} median {statistics.median(xs):7.1f} ms  "
                  f"min {xs[0]:7.1f}  max {xs[-1]:7.1f}  (n={len(xs)})")
    finally:
        idp.stop()
        srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""A SAML provider whose IdP metadata is given by URL (docs/SSO.md "Metadata by URL"):
fetched on save with the discovery client's rules (no redirect followed, size-bounded)
and judged as inline metadata is; kept, so sign-in does not wait on the metadata host;
fetched again when a signature fails against it (an IdP's key rotation), at most once per
ten minutes per provider. The metadata host is a python http.server here, serving the
real IdP's (tests/saml/idp.cjs) metadata. Black-box."""
import http.server
import pathlib
import re
import shutil
import sqlite3
import tempfile
import threading
import time

import pytest

from conftest import ADMIN_PASSWORD, Server, bearer, unique_name
from test_saml import ACS, PROVIDERS, Idp, key_pair, post, refused, start

# the same needs as test_saml.py (node and samlp)
from test_saml import pytestmark  # noqa: F401


class MetadataHost:
    """Serves documents by path (set at will) and counts the GETs of each."""

    def __init__(self):
        self.docs = {}
        self.hits = {}
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                host.hits[self.path] = host.hits.get(self.path, 0) + 1
                status, headers, body = host.docs.get(self.path, (404, {}, b"no"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def serve(self, path, text, status=200, headers=None):
        self.docs[path] = (status, headers or {"Content-Type": "application/xml"},
                           text.encode() if isinstance(text, str) else text)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def cert_b64(pem):
    return "".join(pem.strip().splitlines()[1:-1])


@pytest.fixture(scope="module")
def env():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="gh-samlurl-"))
    _, idp_cert = key_pair(tmp, "idp")
    _, other_cert = key_pair(tmp, "other")
    sp_key, sp_cert = key_pair(tmp, "sp")
    srv = Server()
    srv.start(timeout=60)
    idp = Idp(tmp, srv.url(ACS))
    host = MetadataHost()
    root = bearer(srv.tokens("admin", ADMIN_PASSWORD)["access_token"])
    yield {"srv": srv, "idp": idp, "host": host, "root": root, "sp_key": sp_key,
           "sp_cert": sp_cert, "idp_cert": idp_cert, "other_cert": other_cert}
    host.stop()
    idp.stop()
    srv.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


def create(env, **fields):
    body = {"name": unique_name("samlurl").lower(), "type": "saml",
            "sp_private_key": env["sp_key"], "sp_certificate": env["sp_cert"],
            "auto_create_user": True, "trust_email": True}
    body.update(fields)
    return body["name"], env["srv"].post(PROVIDERS, body, headers=env["root"])


def person(tag):
    """Another IdP user: each provider here signs in its own (one email, one account)."""
    return {"id": f"{tag}-0001", "email": f"{tag}@example.com", "username": tag}


def field_of(r):
    assert r.status_code == 422, r.text
    return r.json()["error"]["details"]["field"]


def test_saved_from_url_and_signs_in(env):
    env["host"].serve("/good", env["idp"].metadata())
    name, r = create(env, idp_metadata_url=env["host"].base + "/good")
    assert r.status_code == 201, r.text
    assert r.json()["idp_metadata_url"] == env["host"].base + "/good"
    assert "EntityDescriptor" in r.json()["idp_metadata_xml"]
    # the document is kept: sign-in works with the metadata host gone
    env["host"].serve("/good", "gone", status=500)
    b, fields = start(env, provider=name)
    r = post(env, b, fields)
    assert r.status_code == 303, r.text
    assert "gh_sid" in r.cookies


@pytest.mark.parametrize("path,doc", [
    ("/garbage", (200, "this is not XML")),
    ("/not-idp", (200, '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
                       'entityID="x"/>')),
    ("/huge", (200, "<x>" + "a" * 40000 + "</x>")),
    ("/missing", (404, "no")),
    ("/redirect", (302, "")),
    ("unreachable", None),
])
def test_bad_urls_are_422(env, path, doc):
    host = env["host"]
    url = host.base + path
    if path == "/redirect":  # to another host serving good metadata: not followed
        host.serve("/good2", env["idp"].metadata())
        host.serve(path, "", status=302,
                   headers={"Location": host.base.replace("127.0.0.1", "localhost") + "/good2"})
    elif doc is None:
        url = "http://127.0.0.1:9/metadata"  # the discard port: nothing listens
    else:
        host.serve(path, doc[1], status=doc[0])
    name, r = create(env, idp_metadata_url=url)
    assert field_of(r) == "idp_metadata_url"
    got = env["srv"].get(f"{PROVIDERS}/{name}", headers=env["root"])
    assert got.status_code == 404  # nothing stored


def test_one_source_of_metadata(env):
    env["host"].serve("/good", env["idp"].metadata())
    _, r = create(env, idp_metadata_url=env["host"].base + "/good",
                  idp_metadata_xml=env["idp"].metadata())
    assert field_of(r) == "idp_metadata_url"
    # not https and not loopback: refused before any fetch
    _, r = create(env, idp_metadata_url="http://idp.example.com/metadata")
    assert field_of(r) == "idp_metadata_url"
    _, r = create(env)
    assert field_of(r) == "idp_metadata_xml"


def test_rotated_key_refreshes_once(env):
    host = env["host"]
    host.serve("/rot", env["idp"].metadata())
    name, r = create(env, idp_metadata_url=host.base + "/rot")
    assert r.status_code == 201, r.text
    assert host.hits["/rot"] == 1
    # the IdP rotates to its other key and publishes it
    rotated = env["idp"].metadata().replace(cert_b64(env["idp_cert"]),
                                            cert_b64(env["other_cert"]))
    assert rotated != env["idp"].metadata()
    host.serve("/rot", rotated)
    env["idp"].next_answer(alt=True, user=person("rot"))
    b, fields = start(env, provider=name)
    r = post(env, b, fields)
    assert r.status_code == 303, r.text  # the failed signature fetched the new metadata
    assert host.hits["/rot"] == 2
    got = env["srv"].get(f"{PROVIDERS}/{name}", headers=env["root"]).json()
    assert cert_b64(env["other_cert"]) in re.sub(r"\s", "", got["idp_metadata_xml"])
    # a Response signed by the old key now: refused, and no fetch within ten minutes
    b, fields = start(env, provider=name)
    refused(env, lambda: post(env, b, fields), "signature")
    assert host.hits["/rot"] == 2


def test_failed_refresh_keeps_the_stored_document(env):
    host = env["host"]
    host.serve("/keep", env["idp"].metadata())
    name, r = create(env, idp_metadata_url=host.base + "/keep")
    assert r.status_code == 201, r.text
    host.serve("/keep", "garbage now")
    env["idp"].next_answer(alt=True)  # a bad signature: triggers a refresh, which fails
    b, fields = start(env, provider=name)
    refused(env, lambda: post(env, b, fields), "signature")
    assert host.hits["/keep"] == 2
    env["idp"].next_answer(user=person("keep"))
    b, fields = start(env, provider=name)  # the kept document still signs in
    r = post(env, b, fields)
    assert r.status_code == 303, r.text


def test_day_old_document_refreshed_in_the_background(env):
    """A document fetched over a day ago is fetched again without any sign-in (the check
    runs every minute on the SSO pool)."""
    host = env["host"]
    host.serve("/daily", env["idp"].metadata())
    name, r = create(env, idp_metadata_url=host.base + "/daily")
    assert r.status_code == 201, r.text
    con = sqlite3.connect(str(env["srv"].data_dir / "gatehouse.db"), timeout=10)
    try:
        with con:
            con.execute("UPDATE sso_providers SET idp_metadata_at = 1 WHERE name = ?", (name,))
    finally:
        con.close()
    deadline = time.monotonic() + 150  # one minute between checks, a loaded machine
    while host.hits["/daily"] < 2 and time.monotonic() < deadline:
        time.sleep(1)
    assert host.hits["/daily"] == 2
    while time.monotonic() < deadline:  # the new time stored: not fetched again
        row = env["srv"].query("SELECT idp_metadata_at FROM sso_providers WHERE name = ?",
                               (name,))
        if row[0]["idp_metadata_at"] > 1:
            break
        time.sleep(0.5)
    assert row[0]["idp_metadata_at"] > 1

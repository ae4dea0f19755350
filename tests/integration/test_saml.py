"""The SAML 2.0 service provider (API.md "SSO", SAML 2.0 SP) against a real identity
provider on loopback (tests/saml/idp.cjs: auth0's samlp behind express, started here):
the SP metadata, the HTTP-Redirect AuthnRequest, the HTTP-POST ACS ending in a browser
session, and the refusals built from the IdP's own output: an unsigned assertion, one
signed by another key, the known signature-wrapping variants, another SP's audience, an
expired assertion, a replay (on the same node and on another one sharing the store),
another request's answer, another browser. Black-box."""
import base64
import datetime
import html
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from conftest import ADMIN_PASSWORD, Server, bearer, unique_name, wait_audit

HERE = pathlib.Path(__file__).resolve().parent
IDP_DIR = HERE.parent / "saml"
PROVIDERS = "/api/v1/sso/providers"
ACS = "/api/v1/auth/saml/acs"

# CI (scripts/test.sh) installs them; a developer's run without them skips, CI's fails.
pytestmark = pytest.mark.skipif(
    not os.environ.get("CI") and (shutil.which("node") is None or
                                  not (IDP_DIR / "node_modules" / "samlp").is_dir()),
    reason="node and tests/saml/node_modules (npm ci in tests/saml) are needed")


def key_pair(directory, name):
    """An RSA key and its self-signed certificate as PEM files; the PEM texts."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    (directory / f"{name}.key").write_text(key_pem)
    (directory / f"{name}.crt").write_text(cert_pem)
    return key_pem, cert_pem


class Idp:
    """tests/saml/idp.cjs on a free loopback port."""

    def __init__(self, directory, acs):
        port_file = directory / "idp.port"
        self.proc = subprocess.Popen(
            ["node", str(IDP_DIR / "idp.cjs"), str(port_file),
             str(directory / "idp.key"), str(directory / "idp.crt"),
             str(directory / "other.key"), str(directory / "other.crt"), acs],
            stdout=subprocess.DEVNULL, stderr=open(directory / "idp.log", "wb"))
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            assert self.proc.poll() is None, (directory / "idp.log").read_text()
            assert time.monotonic() < deadline, "the IdP did not start"
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{port_file.read_text()}"

    def metadata(self):
        return requests.get(self.base + "/metadata", timeout=10).text

    def next_answer(self, **kw):
        """The IdP's next answer only: another audience, lifetime, key..."""
        requests.post(self.base + "/control", json=kw, timeout=10).raise_for_status()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def env():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="gh-saml-"))
    key_pair(tmp, "idp")
    key_pair(tmp, "other")
    sp_key, sp_cert = key_pair(tmp, "sp")
    srv = Server()
    srv.start(timeout=60)
    idp = Idp(tmp, srv.url(ACS))
    root = bearer(srv.tokens("admin", ADMIN_PASSWORD)["access_token"])
    name = unique_name("saml").lower()
    r = srv.post(PROVIDERS, {"name": name, "type": "saml", "idp_metadata_xml": idp.metadata(),
                             "sp_private_key": sp_key, "sp_certificate": sp_cert,
                             "auto_create_user": True, "trust_email": True}, headers=root)
    assert r.status_code == 201, r.text
    yield {"srv": srv, "idp": idp, "root": root, "name": name, "sp_key": sp_key,
           "sp_cert": sp_cert, "tmp": tmp}
    idp.stop()
    srv.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


def start(env, browser=None, redirect_to="/account", provider=None):
    """A sign-in started in browser: the IdP's auto-post form (SAMLResponse, RelayState)."""
    b = browser or requests.Session()
    r = b.get(env["srv"].url(f"/api/v1/auth/saml/login?provider={provider or env['name']}"
                             f"&redirect_to={urllib.parse.quote(redirect_to)}"),
              allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    assert "gh_saml" in b.cookies
    location = r.headers["Location"]
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert location.startswith(env["idp"].base + "/sso?")
    assert set(q) >= {"SAMLRequest", "RelayState", "SigAlg", "Signature"}
    form = b.get(location, timeout=10)
    assert form.status_code == 200, form.text
    fields = dict(re.findall(r'name="(SAMLResponse|RelayState)"\s+value="([^"]*)"', form.text))
    assert set(fields) == {"SAMLResponse", "RelayState"}, form.text
    assert fields["RelayState"] == q["RelayState"][0]
    return b, {k: html.unescape(v) for k, v in fields.items()}


def post(env, browser, fields):
    return browser.post(env["srv"].url(ACS), data=fields, allow_redirects=False, timeout=30)


def xml_of(fields):
    return base64.b64decode(fields["SAMLResponse"]).decode()


def with_xml(fields, xml):
    return dict(fields, SAMLResponse=base64.b64encode(xml.encode()).decode())


def failures(env):
    rows = env["srv"].query("SELECT metadata FROM audit_events WHERE action = ? ORDER BY id",
                            ("SSO_LOGIN_FAILED",))
    return [json.loads(x["metadata"]).get("reason") for x in rows]


def refused(env, send, reason):
    """send() is refused with 401, no session, and one SSO_LOGIN_FAILED naming reason."""
    before = len(failures(env))
    r = send()
    assert r.status_code == 401, r.text
    assert "gh_sid" not in r.cookies
    deadline = time.monotonic() + 5
    while len(failures(env)) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert failures(env)[before:] == [reason]


def test_metadata_and_provider_never_show_the_key(env):
    srv = env["srv"]
    r = srv.get(f"/api/v1/auth/saml/metadata?provider={env['name']}")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/samlmetadata+xml")
    body = "".join(env["sp_cert"].splitlines()[1:-1])
    assert body in r.text
    assert f'Location="{srv.url(ACS)}"' in r.text
    assert "HTTP-POST" in r.text and "PRIVATE" not in r.text
    assert srv.get("/api/v1/auth/saml/metadata?provider=nope").status_code == 404
    p = srv.get(f"{PROVIDERS}/{env['name']}", headers=env["root"]).json()
    assert p["type"] == "saml" and p["has_sp_private_key"] is True
    assert "sp_private_key" not in p and "PRIVATE KEY" not in json.dumps(p)
    stored = srv.query("SELECT sp_private_key FROM sso_providers WHERE name = ?",
                       (env["name"],))[0]["sp_private_key"]
    assert stored.startswith("enc:v1:") and "PRIVATE" not in stored


def test_provider_values_checked(env):
    srv, root = env["srv"], env["root"]
    base = {"type": "saml", "idp_metadata_xml": env["idp"].metadata(),
            "sp_private_key": env["sp_key"], "sp_certificate": env["sp_cert"]}
    bad = [({"idp_metadata_xml": "<not metadata/>"}, "idp_metadata_xml"),
           ({"sp_private_key": (env["tmp"] / "other.key").read_text()}, "sp_private_key"),
           ({"sp_certificate": "garbage"}, "sp_private_key"),
           ({"sp_private_key": None}, "sp_private_key")]
    for change, field in bad:
        body = dict(base, name=unique_name("bad").lower(), **change)
        body = {k: v for k, v in body.items() if v is not None}
        r = srv.post(PROVIDERS, body, headers=root)
        assert r.status_code == 422, (change, r.text)
        assert r.json()["error"]["details"]["field"] == field


def test_sign_in_ends_in_a_session(env):
    srv = env["srv"]
    b, fields = start(env, redirect_to="/account?tab=keys")
    r = post(env, b, fields)
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == "/account?tab=keys"
    assert "gh_sid" in r.cookies
    me = b.get(srv.url("/api/v1/auth/me"), timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "ann@example.com"
    rows = wait_audit(srv, "SSO_LOGIN")
    assert rows and json.loads(rows[-1]["metadata"])["provider"] == env["name"]
    assert wait_audit(srv, "SSO_USER_CREATED")
    # nothing of the assertion in the audit trail or the log
    assertion = xml_of(fields)
    for needle in (fields["SAMLResponse"][:40], "ann-0001", fields["RelayState"]):
        assert needle not in srv.log_text()
        assert not srv.query("SELECT 1 FROM audit_events WHERE metadata LIKE ?",
                             (f"%{needle}%",))
    assert "Assertion" in assertion


def test_email_links_only_when_trusted(env):
    """SAML has no email_verified: an IdP's email links to an existing account (or becomes
    a new user's) only when the provider says trust_email; by default it does not."""
    srv, root = env["srv"], env["root"]
    local = srv.register(email=f"{unique_name('bob').lower()}@example.com")
    name = unique_name("samlt").lower()
    r = srv.post(PROVIDERS, {"name": name, "type": "saml", "idp_metadata_xml": env["idp"].metadata(),
                             "sp_private_key": env["sp_key"], "sp_certificate": env["sp_cert"],
                             "link_by_email": True}, headers=root)
    assert r.status_code == 201, r.text
    assert r.json()["trust_email"] is False
    idp_user = {"id": unique_name("bob-idp"), "email": local["email"]}

    env["idp"].next_answer(user=idp_user)
    b, fields = start(env, provider=name)
    before = len(failures(env))
    r = post(env, b, fields)
    assert r.status_code == 403, r.text
    assert "gh_sid" not in r.cookies
    deadline = time.monotonic() + 5
    while len(failures(env)) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert failures(env)[before:] == ["no_account"]

    r = srv.request("PATCH", f"{PROVIDERS}/{name}", json={"trust_email": True}, headers=root)
    assert r.status_code == 200 and r.json()["trust_email"] is True, r.text
    env["idp"].next_answer(user=idp_user)
    b, fields = start(env, provider=name)
    r = post(env, b, fields)
    assert r.status_code == 303, r.text
    me = b.get(srv.url("/api/v1/auth/me"), timeout=10).json()
    assert me["id"] == local["id"] and me["username"] == local["username"]


def pem_body(pem):
    return "".join(pem.strip().splitlines()[1:-1])


def test_provider_change_takes_effect_at_once(env):
    """lasso's server for a provider is kept between sign-ins: a changed provider (the
    IdP's metadata now naming another signing key) is used from its next sign-in on."""
    srv, root = env["srv"], env["root"]
    name = unique_name("samlc").lower()
    metadata = env["idp"].metadata()
    r = srv.post(PROVIDERS, {"name": name, "type": "saml", "idp_metadata_xml": metadata,
                             "sp_private_key": env["sp_key"], "sp_certificate": env["sp_cert"],
                             "auto_create_user": True}, headers=root)
    assert r.status_code == 201, r.text
    assert post(env, *start(env, provider=name)).status_code == 303
    idp_cert = (env["tmp"] / "idp.crt").read_text()
    other_cert = (env["tmp"] / "other.crt").read_text()
    assert pem_body(idp_cert) in metadata
    rolled = metadata.replace(pem_body(idp_cert), pem_body(other_cert))
    r = srv.request("PATCH", f"{PROVIDERS}/{name}", json={"idp_metadata_xml": rolled},
                    headers=root)
    assert r.status_code == 200, r.text
    env["idp"].next_answer(alt=True)
    assert post(env, *start(env, provider=name)).status_code == 303
    b, fields = start(env, provider=name)
    refused(env, lambda: post(env, b, fields), "signature")


def public_key_pem(cert_pem):
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return cert.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def encrypt_for(env, cert_pem=None, **kw):
    """The IdP's next answer with its assertion encrypted for cert_pem (ours by default)."""
    cert_pem = cert_pem or env["sp_cert"]
    env["idp"].next_answer(encryptFor=cert_pem, encryptKey=public_key_pem(cert_pem), **kw)


def test_metadata_offers_the_encryption_key(env):
    r = env["srv"].get(f"/api/v1/auth/saml/metadata?provider={env['name']}")
    assert 'use="encryption"' in r.text and "rsa-oaep-mgf1p" in r.text
    assert r.text.count(pem_body(env["sp_cert"])) == 2


@pytest.mark.parametrize("algorithm", [None, "http://www.w3.org/2001/04/xmlenc#aes256-cbc"])
def test_encrypted_assertion_signs_in(env, algorithm):
    """An IdP that honours our metadata's encryption key (AES-256-GCM by default, or CBC,
    the key by RSA-OAEP): decrypted, then every check of a plain assertion."""
    encrypt_for(env, **({"encryptionAlgorithm": algorithm} if algorithm else {}))
    b, fields = start(env)
    xml = xml_of(fields)
    assert "EncryptedAssertion" in xml and "ann@example.com" not in xml
    assert "rsa-oaep-mgf1p" in xml
    r = post(env, b, fields)
    assert r.status_code == 303, r.text
    me = b.get(env["srv"].url("/api/v1/auth/me"), timeout=10).json()
    assert me["email"] == "ann@example.com"
    refused(env, lambda: post(env, b, fields), "state")


def test_encrypted_for_another_key_refused(env):
    encrypt_for(env, cert_pem=(env["tmp"] / "other.crt").read_text())
    b, fields = start(env)
    refused(env, lambda: post(env, b, fields), "signature")


def test_tampered_ciphertext_refused(env):
    encrypt_for(env)
    b, fields = start(env)
    xml = xml_of(fields)
    values = re.findall(r"<(?:\w+:)?CipherValue>([^<]+)</(?:\w+:)?CipherValue>", xml)
    assert len(values) == 2, xml  # the key's, then the content's
    raw = bytearray(base64.b64decode(values[1]))
    raw[len(raw) // 2] ^= 1
    xml = xml.replace(values[1], base64.b64encode(bytes(raw)).decode())
    refused(env, lambda: post(env, b, with_xml(fields, xml)), "signature")


def test_encrypted_unsigned_assertion_in_unsigned_response_refused(env):
    encrypt_for(env, signAssertion=False)
    b, fields = start(env)
    assert "Signature" not in xml_of(fields)
    refused(env, lambda: post(env, b, fields), "signature")


def test_encrypted_unsigned_assertion_in_signed_response_signs_in(env):
    encrypt_for(env, signAssertion=False, signResponse=True)
    b, fields = start(env)
    r = post(env, b, fields)
    assert r.status_code == 303, r.text


def test_rsa_1_5_key_transport_refused(env):
    """RSA PKCS#1 v1.5 (a padding oracle) is refused before anything is decrypted."""
    encrypt_for(env)
    b, fields = start(env)
    xml = xml_of(fields).replace("xmlenc#rsa-oaep-mgf1p", "xmlenc#rsa-1_5")
    refused(env, lambda: post(env, b, with_xml(fields, xml)), "encryption_method")


def test_encrypted_and_plain_assertion_refused(env):
    encrypt_for(env)
    b, fields = start(env)
    plain = split(xml_of(start(env)[1]))[1]
    xml = xml_of(fields).replace("</samlp:Response>", plain + "</samlp:Response>")
    refused(env, lambda: post(env, b, with_xml(fields, xml)), "assertion_count")


def test_trust_email_is_saml_only(env):
    r = env["srv"].post(PROVIDERS, {"name": unique_name("o").lower(), "type": "oidc",
                                    "issuer": "https://idp.example.com", "client_id": "c",
                                    "trust_email": True}, headers=env["root"])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["field"] == "trust_email"


def test_open_redirect_goes_to_account(env):
    b, fields = start(env, redirect_to="//evil.example/x")
    r = post(env, b, fields)
    assert r.status_code == 303 and r.headers["Location"] == "/account"


def test_replay_refused(env):
    b, fields = start(env)
    assert post(env, b, fields).status_code == 303
    refused(env, lambda: post(env, b, fields), "state")
    # and from another browser with the same cookie jar copied: still single use
    other = requests.Session()
    other.cookies.update(b.cookies)
    refused(env, lambda: post(env, other, fields), "state")


def test_unsigned_assertion_refused(env):
    env["idp"].next_answer(signAssertion=False)
    b, fields = start(env)
    assert "Signature" not in xml_of(fields)
    refused(env, lambda: post(env, b, fields), "signature")


def test_signed_by_another_key_refused(env):
    env["idp"].next_answer(alt=True)
    b, fields = start(env)
    refused(env, lambda: post(env, b, fields), "signature")


def test_changed_after_signing_refused(env):
    b, fields = start(env)
    xml = xml_of(fields).replace("ann-0001", "admin-0001")
    refused(env, lambda: post(env, b, with_xml(fields, xml)), "signature")


def evil_copy(assertion, new_id):
    """The signed assertion made to name someone else, under another ID, unsigned."""
    evil = re.sub(r"<ds:Signature.*?</ds:Signature>", "", assertion, flags=re.S)
    evil = evil.replace("ann-0001", "mallory").replace("ann@example.com", "mallory@evil.example")
    return re.sub(r'ID="[^"]+"', f'ID="{new_id}"', evil, count=1)


def split(xml):
    m = re.search(r"<saml:Assertion\b.*?</saml:Assertion>", xml, flags=re.S)
    assert m, xml
    return xml[:m.start()], m.group(0), xml[m.end():]


def test_signature_wrapping_refused(env):
    """The known XSW variants: the signed original hidden where a verifier finds it by ID
    (Extensions, the Signature's Object, beside it under another ID), the forged one read."""
    before, signed, after = split(xml_of(start(env)[1]))
    variants = {
        # XSW: original in the Response's Extensions, the forgery as the Assertion
        "extensions": lambda b, s, a: b.replace(
            "<samlp:Status>", "<samlp:Extensions>" + s + "</samlp:Extensions><samlp:Status>")
        + evil_copy(s, "_evil") + a,
        # a second Assertion with another ID before or after the signed one
        "duplicate_first": lambda b, s, a: b + evil_copy(s, "_evil") + s + a,
        "duplicate_last": lambda b, s, a: b + s + evil_copy(s, "_evil") + a,
        # the original inside the forged assertion's Signature Object
        "object": lambda b, s, a: b + evil_copy(s, "_evil").replace(
            "</saml:Assertion>", "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"
            "<ds:Object>" + s + "</ds:Object></ds:Signature></saml:Assertion>") + a,
        # the forgery carries the signed one's ID, the original moved under it
        "same_id": lambda b, s, a: b + evil_copy(s, re.search(r'ID="([^"]+)"', s).group(1))
        .replace("</saml:Assertion>", s + "</saml:Assertion>") + a,
    }
    for name, make in variants.items():
        b, fields = start(env)
        before, signed, after = split(xml_of(fields))
        refused(env, lambda: post(env, b, with_xml(fields, make(before, signed, after))),
                "assertion_count")
    assert not env["srv"].query("SELECT 1 FROM users WHERE email = ?",
                                ("mallory@evil.example",))


def test_another_sp_audience_refused(env):
    env["idp"].next_answer(audience="http://127.0.0.1:9/another-sp")
    b, fields = start(env)
    refused(env, lambda: post(env, b, fields), "audience")


def test_expired_refused(env):
    env["idp"].next_answer(lifetime=-600)
    b, fields = start(env)
    refused(env, lambda: post(env, b, fields), "expired")


def test_answer_to_another_request_refused(env):
    b, first = start(env)
    b, second = start(env, browser=b)
    refused(env, lambda: post(env, b, dict(first, RelayState=second["RelayState"])),
            "in_response_to")


def test_another_browser_refused(env):
    b, fields = start(env)
    refused(env, lambda: post(env, requests.Session(), fields), "browser")
    # the state is spent by the attempt: the right browser cannot use it after
    refused(env, lambda: post(env, b, fields), "state")


def test_garbage_refused(env):
    b, fields = start(env)
    refused(env, lambda: post(env, b, dict(fields, SAMLResponse="bm90IHhtbA==")), "malformed")
    b, fields = start(env)
    dtd = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + xml_of(fields)
    refused(env, lambda: post(env, b, with_xml(fields, dtd)), "dtd")


def test_state_and_replay_hold_across_nodes(env):
    """A second node on the same store (and public URL) finishes a sign-in the first one
    started; the same answer is then refused by the first: the state and the assertion's
    memory are in the store, not in a node."""
    srv = env["srv"]
    b_node = Server(env={"GATEHOUSE_PUBLIC_URL": srv.base}, data_dir=srv.data_dir)
    b_node.start(timeout=60)
    try:
        browser, fields = start(env)
        r = browser.post(b_node.url(ACS), data=fields, allow_redirects=False, timeout=30)
        assert r.status_code == 303, r.text
        refused(env, lambda: post(env, browser, fields), "state")
    finally:
        b_node.stop()
        b_node.cleanup()

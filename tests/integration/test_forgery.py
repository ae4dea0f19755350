"""Forged, tampered, expired and misdirected tokens must all be refused."""
import hashlib
import hmac
import http.client
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import TIMEOUT, b64url, b64url_decode, bearer, jwt_parts

ME = "/api/v1/auth/me"
VERIFY = "/api/v1/auth/verify"
BAD_CODES = {"invalid_token", "token_expired"}


@pytest.fixture(scope="module")
def ctx(server):
    """Everything needed to mint tokens: real private key, kid, a valid claim set."""
    u = server.register()
    t = server.tokens(u["username"], u["password"])
    header, claims, _ = jwt_parts(t["access_token"])
    pem = server.key_path.read_bytes()
    return {"user": u, "tokens": t, "header": header, "claims": claims, "pem": pem,
            "kid": header["kid"], "issuer": server.openid()["issuer"]}


def fresh_claims(ctx, **over):
    now = int(time.time())
    c = dict(ctx["claims"])
    c.update({"iat": now, "nbf": now, "exp": now + 600, "jti": str(uuid.uuid4())})
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def mint(ctx, claims=None, headers=None, key=None, alg="RS256"):
    h = {"kid": ctx["kid"], "typ": "at+jwt"}
    if headers:
        h.update(headers)
    # typ None is passed through: PyJWT then drops the header (instead of adding "JWT")
    h = {k: v for k, v in h.items() if v is not None or k == "typ"}
    return jwt.encode(claims or fresh_claims(ctx), key or ctx["pem"], algorithm=alg, headers=h)


def raw_jwt(header, claims, sig=b""):
    return (b64url(json.dumps(header, separators=(",", ":"))) + "." +
            b64url(json.dumps(claims, separators=(",", ":"))) + "." + b64url(sig))


def assert_rejected(server, token, codes=BAD_CODES, scheme="Bearer"):
    auth = f"{scheme} {token}" if token is not None else scheme
    r = server.get(VERIFY, headers={"Authorization": auth})
    assert r.status_code == 401, (r.status_code, r.headers, r.text)
    code = r.json()["error"]["code"]
    assert code in codes, r.text
    www = r.headers.get("WWW-Authenticate", "")
    assert www.startswith("Bearer") and 'error="invalid_token"' in www, r.headers
    assert "X-Auth-User-Id" not in r.headers
    m = server.get(ME, headers={"Authorization": auth})
    assert m.status_code == 401, m.text
    assert m.json()["error"]["code"] in codes, m.text
    return code


def test_control_self_minted_token_accepted(server, ctx):
    """Sanity check of the minting helper: a token we sign with the real key passes."""
    tok = mint(ctx)
    r = server.get(VERIFY, headers=bearer(tok))
    assert r.status_code == 200, r.text


def test_alg_none(server, ctx):
    c = fresh_claims(ctx)
    for alg in ("none", "None", "NONE", "nOnE"):
        assert_rejected(server, raw_jwt({"alg": alg, "kid": ctx["kid"], "typ": "at+jwt"}, c))
        assert_rejected(server, raw_jwt({"alg": alg, "typ": "at+jwt"}, c))
    # with the original signature kept
    sig = ctx["tokens"]["access_token"].split(".")[2]
    assert_rejected(server, raw_jwt({"alg": "none", "kid": ctx["kid"], "typ": "at+jwt"}, c)
                    + sig)


def test_hs256_with_public_key_as_secret(server, ctx):
    jwk = [k for k in server.jwks()["keys"] if k["kid"] == ctx["kid"]][0]
    pub = jwt.PyJWK(jwk).key
    pems = [
        pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        json.dumps(jwk).encode(),
    ]
    c = fresh_claims(ctx)
    for secret in pems:
        for alg, fn in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
            h = {"alg": alg, "kid": ctx["kid"], "typ": "at+jwt"}
            signing_input = raw_jwt(h, c).rsplit(".", 1)[0]
            sig = hmac.new(secret, signing_input.encode(), fn).digest()
            assert_rejected(server, signing_input + "." + b64url(sig))


def test_other_rsa_key_with_servers_kid(server, ctx):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    assert_rejected(server, mint(ctx, key=pem))


def test_unknown_kid(server, ctx):
    assert_rejected(server, mint(ctx, headers={"kid": "not-a-known-kid"}))
    assert_rejected(server, mint(ctx, headers={"kid": ""}))


def test_missing_kid(server, ctx):
    assert_rejected(server, mint(ctx, headers={"kid": None}))


def test_header_alg_es256_with_rs256_kid(server, ctx):
    eck = ec.generate_private_key(ec.SECP256R1())
    pem = eck.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    assert_rejected(server, mint(ctx, key=pem, alg="ES256"))
    # real RS256 signature but the header claims another algorithm
    tok = mint(ctx)
    _, p, s = tok.split(".")
    for alg in ("ES256", "PS256", "RS512", "EdDSA"):
        h = b64url(json.dumps({"alg": alg, "kid": ctx["kid"], "typ": "at+jwt"}))
        assert_rejected(server, f"{h}.{p}.{s}")


def test_flipped_signature_byte(server, ctx):
    tok = ctx["tokens"]["access_token"]
    h, p, s = tok.split(".")
    raw = bytearray(b64url_decode(s))
    for i in (0, len(raw) // 2, len(raw) - 1):
        bad = bytearray(raw)
        bad[i] ^= 0x01
        assert_rejected(server, f"{h}.{p}.{b64url(bytes(bad))}")
    # truncated / extended signature
    assert_rejected(server, f"{h}.{p}.{b64url(bytes(raw[:-1]))}")
    assert_rejected(server, f"{h}.{p}.{b64url(bytes(raw) + b'x')}")
    assert_rejected(server, f"{h}.{p}.")


def test_tampered_payload(server, ctx):
    tok = ctx["tokens"]["access_token"]
    h, _, s = tok.split(".")
    c = dict(ctx["claims"])
    c["roles"] = ["admin"]
    c["perms"] = ["*:*"]
    assert_rejected(server, f"{h}.{b64url(json.dumps(c))}.{s}")


def test_non_canonical_base64(server, ctx):
    tok = ctx["tokens"]["access_token"]
    h, p, s = tok.split(".")
    assert_rejected(server, f"{h}=.{p}.{s}")       # padding
    assert_rejected(server, f"{h}.{p}.{s}==")
    assert_rejected(server, f"{h}.{p.replace('-', '+')}.{s}" if "-" in p else f"{h}.{p}+.{s}")


def test_expired(server, ctx):
    now = int(time.time())
    tok = mint(ctx, fresh_claims(ctx, iat=now - 3600, nbf=now - 3600, exp=now - 1800))
    assert assert_rejected(server, tok) == "token_expired"


def test_expired_just_now(server, ctx):
    # leeway is 0s on the session server
    now = int(time.time())
    tok = mint(ctx, fresh_claims(ctx, iat=now - 900, nbf=now - 900, exp=now - 5))
    assert assert_rejected(server, tok) == "token_expired"


def test_missing_exp(server, ctx):
    assert_rejected(server, mint(ctx, fresh_claims(ctx, exp=None)))


def test_nbf_in_future(server, ctx):
    now = int(time.time())
    assert_rejected(server, mint(ctx, fresh_claims(ctx, nbf=now + 600, iat=now, exp=now + 1200)))


def test_iat_in_future(server, ctx):
    now = int(time.time())
    tok = mint(ctx, fresh_claims(ctx, iat=now + 3600, nbf=now, exp=now + 7200))
    assert_rejected(server, tok)


def test_wrong_issuer(server, ctx):
    assert_rejected(server, mint(ctx, fresh_claims(ctx, iss="https://evil.example")))
    assert_rejected(server, mint(ctx, fresh_claims(ctx, iss=ctx["issuer"] + "/")))
    assert_rejected(server, mint(ctx, fresh_claims(ctx, iss=None)))


def test_wrong_audience(server, ctx):
    assert_rejected(server, mint(ctx, fresh_claims(ctx, aud="other-api")))
    assert_rejected(server, mint(ctx, fresh_claims(ctx, aud=["other-api"])))
    assert_rejected(server, mint(ctx, fresh_claims(ctx, aud=None)))


def test_wrong_typ(server, ctx):
    assert_rejected(server, mint(ctx, headers={"typ": "JWT"}))
    assert_rejected(server, mint(ctx, headers={"typ": None}))
    assert_rejected(server, mint(ctx, headers={"typ": "id+jwt"}))


def test_unknown_subject(server, ctx):
    assert_rejected(server, mint(ctx, fresh_claims(ctx, sub=str(uuid.uuid4()))),
                    codes=BAD_CODES | {"unauthenticated"})


@pytest.mark.parametrize("garbage", [
    "garbage", "a.b.c", "a.b", "a.b.c.d", "....", "eyJ.eyJ.x", "\u00e9t\u00e9", "x" * 8000,
    "Zm9v.YmFy.YmF6",
])
def test_garbage(server, garbage):
    assert_rejected(server, garbage, codes=BAD_CODES | {"unauthenticated"})


def test_empty_bearer(server):
    for auth in ("Bearer", "Bearer ", "Bearer    "):
        r = server.get(VERIFY, headers={"Authorization": auth})
        assert r.status_code == 401, auth
        assert r.json()["error"]["code"] in ("invalid_token", "unauthenticated")
        assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", "") or \
            r.json()["error"]["code"] == "unauthenticated"
        r = server.get(ME, headers={"Authorization": auth})
        assert r.status_code == 401


def test_other_schemes_refused(server, ctx):
    tok = ctx["tokens"]["access_token"]
    for auth in (f"Basic {tok}", f"Token {tok}", tok, f"Bearer  {tok} extra"):
        r = server.get(ME, headers={"Authorization": auth})
        assert r.status_code in (400, 401), (auth, r.text)


def test_two_authorization_headers_400(server, ctx):
    tok = ctx["tokens"]["access_token"]
    for path in (VERIFY, ME):
        for second in (tok, "garbage"):
            c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
            try:
                c.putrequest("GET", path)
                c.putheader("Authorization", f"Bearer {tok}")
                c.putheader("Authorization", f"Bearer {second}")
                c.endheaders()
                r = c.getresponse()
                body = json.loads(r.read())
                assert r.status == 400, (path, r.status, body)
                assert body["error"]["code"] == "invalid_request", body
                assert r.getheader("X-Auth-User-Id") is None
            finally:
                c.close()


def test_bearer_and_disagreeing_api_key_400(server, ctx):
    h = bearer(ctx["tokens"]["access_token"])
    h["X-API-Key"] = "ak_" + "A" * 43
    r = server.get(ME, headers=h)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_request"


def test_token_in_query_not_accepted_for_api(server, ctx):
    tok = ctx["tokens"]["access_token"]
    r = server.get(ME + "?token=" + tok)
    assert r.status_code == 401


def test_forged_rejections_do_not_break_valid(server, ctx):
    r = server.get(VERIFY, headers=bearer(ctx["tokens"]["access_token"]))
    assert r.status_code == 200

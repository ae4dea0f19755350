"""Access tokens verified independently, JWKS/OIDC discovery, /verify and /me."""
import json
import time
import uuid

import jwt
import pytest
from jwcrypto import jwk as jc_jwk, jws as jc_jws

from conftest import bearer, jwt_parts, strong_password, unique_name, ADMIN_PASSWORD

ME = "/api/v1/auth/me"
VERIFY = "/api/v1/auth/verify"


def key_for(server, token):
    header = jwt.get_unverified_header(token)
    keys = [k for k in server.jwks()["keys"] if k["kid"] == header["kid"]]
    assert len(keys) == 1, (header, server.jwks())
    return keys[0]


def verify_pyjwt(server, token, audience="gatehouse"):
    k = key_for(server, token)
    pk = jwt.PyJWK(k)
    # algorithm from the key, never from the token header
    return jwt.decode(token, pk.key, algorithms=[k["alg"]], audience=audience,
                      issuer=server.openid()["issuer"],
                      options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]})


def verify_jwcrypto(server, token):
    k = key_for(server, token)
    key = jc_jwk.JWK(**k)
    obj = jc_jws.JWS()
    obj.deserialize(token)
    obj.verify(key, alg=k["alg"])
    return json.loads(obj.payload)


def test_jwks_shape(server):
    ks = server.jwks()["keys"]
    assert ks, ks
    for k in ks:
        assert k["use"] == "sig"
        assert k["kid"] and k["kty"] and k["alg"]
        assert not ({"d", "p", "q", "dp", "dq", "qi"} & set(k)), "private key material in JWKS"
    r = server.get("/.well-known/jwks.json")
    assert r.headers["Content-Type"].startswith("application/")


def test_jwks_kid_is_rfc7638_thumbprint(server):
    for k in server.jwks()["keys"]:
        assert jc_jwk.JWK(**k).thumbprint() == k["kid"]


def test_default_rsa_key_is_4096(server):
    k = server.jwks()["keys"][0]
    assert k["kty"] == "RSA" and k["alg"] == "RS256"
    n = jwt.utils.base64url_decode(k["n"])
    assert len(n) * 8 == 4096


def test_openid_configuration(server):
    oc = server.openid()
    assert oc["issuer"] == server.base
    assert oc["jwks_uri"].endswith("/.well-known/jwks.json")
    assert oc["jwks_uri"].startswith(oc["issuer"])
    assert "RS256" in oc["id_token_signing_alg_values_supported"]


def test_access_token_claims(server, tokens):
    at = tokens["access_token"]
    header, _, _ = jwt_parts(at)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert header["kid"]
    claims = verify_pyjwt(server, at)
    assert claims == verify_jwcrypto(server, at)
    u = tokens["user"]
    assert claims["sub"] == u["id"]
    assert claims["aud"] == "gatehouse" or claims["aud"] == ["gatehouse"]
    assert claims["iss"] == server.openid()["issuer"]
    assert claims["exp"] - claims["iat"] == 900
    assert claims["nbf"] <= claims["iat"] + 1
    assert abs(claims["iat"] - time.time()) < 60
    uuid.UUID(claims["jti"]) if "-" in claims["jti"] else None
    assert claims["jti"]
    assert isinstance(claims["org"], str) and claims["org"]
    assert isinstance(claims["roles"], list) and "member" in claims["roles"], claims
    assert isinstance(claims["perms"], list)
    assert "password" not in json.dumps(claims).lower()


def test_org_is_default_org(server, tokens):
    claims = verify_pyjwt(server, tokens["access_token"])
    rows = server.query("SELECT id FROM orgs WHERE name = 'default'")
    assert rows and claims["org"] == rows[0]["id"]
    admin = server.tokens("admin", ADMIN_PASSWORD)
    ac = verify_pyjwt(server, admin["access_token"])
    assert ac["org"] == claims["org"]
    assert "admin" in ac["roles"]


def test_jti_unique(server, user):
    jtis = set()
    for _ in range(5):
        at = server.tokens(user["username"], user["password"])["access_token"]
        jtis.add(jwt_parts(at)[1]["jti"])
    assert len(jtis) == 5


def test_refresh_tokens_unique(server, user):
    rts = {server.tokens(user["username"], user["password"])["refresh_token"] for _ in range(4)}
    assert len(rts) == 4


@pytest.mark.parametrize("alg,kty", [("ES256", "EC"), ("EdDSA", "OKP"), ("RS256", "RSA")])
def test_algorithms(make_server, alg, kty):
    env = {"GATEHOUSE_AUTH_ALGORITHM": alg}
    if alg == "RS256":
        env["GATEHOUSE_AUTH_RSA_BITS"] = "2048"
    s = make_server(env)
    keys = s.jwks()["keys"]
    assert keys[0]["kty"] == kty and keys[0]["alg"] == alg
    assert alg in s.openid()["id_token_signing_alg_values_supported"]
    u = s.register()
    t = s.tokens(u["username"], u["password"])
    h, _, _ = jwt_parts(t["access_token"])
    assert h["alg"] == alg and h["typ"] == "at+jwt"
    c = verify_pyjwt(s, t["access_token"])
    assert c == verify_jwcrypto(s, t["access_token"])
    assert c["sub"] == u["id"]
    r = s.get(VERIFY, headers=bearer(t["access_token"]))
    assert r.status_code == 200, r.text
    if alg == "RS256":
        assert len(jwt.utils.base64url_decode(keys[0]["n"])) * 8 == 2048


def test_custom_issuer_audience_ttl(make_server):
    s = make_server({"GATEHOUSE_AUTH_ALGORITHM": "ES256",
                     "GATEHOUSE_AUTH_ISSUER": "https://id.example.test",
                     "GATEHOUSE_AUTH_AUDIENCE": "my-api",
                     "GATEHOUSE_AUTH_ACCESS_TTL": "2m"})
    assert s.openid()["issuer"] == "https://id.example.test"
    u = s.register()
    t = s.tokens(u["username"], u["password"])
    assert t["expires_in"] == 120
    c = verify_pyjwt(s, t["access_token"], audience="my-api")
    assert c["iss"] == "https://id.example.test"
    assert c["exp"] - c["iat"] == 120
    assert s.get(ME, headers=bearer(t["access_token"])).status_code == 200


def test_short_ttl_expires_and_refresh_expiry(make_server):
    s = make_server({"GATEHOUSE_AUTH_ALGORITHM": "EdDSA", "GATEHOUSE_AUTH_ACCESS_TTL": "10s",
                     "GATEHOUSE_AUTH_REFRESH_TTL": "15s"})
    u = s.register()
    t0 = time.time()
    t = s.tokens(u["username"], u["password"])
    spare = s.tokens(u["username"], u["password"])
    assert t["expires_in"] == 10
    assert s.get(VERIFY, headers=bearer(t["access_token"])).status_code == 200
    exp = jwt_parts(t["access_token"])[1]["exp"]
    time.sleep(max(0, exp - time.time()) + 1.2)
    r = s.get(VERIFY, headers=bearer(t["access_token"]))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "token_expired"
    assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", "")
    r = s.get(ME, headers=bearer(t["access_token"]))
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"
    # refresh still works after the access token died
    r = s.post("/api/v1/auth/refresh", {"refresh_token": t["refresh_token"]})
    assert r.status_code == 200, r.text
    # ... but not after the refresh token's own lifetime
    time.sleep(max(0, t0 + 16.5 - time.time()))
    r = s.post("/api/v1/auth/refresh", {"refresh_token": spare["refresh_token"]})
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] in ("invalid_token", "token_expired")


def test_clock_leeway(make_server):
    s = make_server({"GATEHOUSE_AUTH_ALGORITHM": "EdDSA", "GATEHOUSE_AUTH_CLOCK_LEEWAY": "30s"})
    u = s.register()
    t = s.tokens(u["username"], u["password"])
    _, claims, _ = jwt_parts(t["access_token"])
    kid = jwt_parts(t["access_token"])[0]["kid"]
    pem = s.key_path.read_bytes()
    now = int(time.time())

    def mint(**over):
        c = dict(claims, jti=str(uuid.uuid4()))
        c.update(over)
        return jwt.encode(c, pem, algorithm="EdDSA", headers={"kid": kid, "typ": "at+jwt"})

    ok = mint(iat=now - 900, nbf=now - 900, exp=now - 10)
    assert s.get(VERIFY, headers=bearer(ok)).status_code == 200
    late = mint(iat=now - 900, nbf=now - 900, exp=now - 60)
    r = s.get(VERIFY, headers=bearer(late))
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"
    early_ok = mint(iat=now, nbf=now + 10, exp=now + 600)
    assert s.get(VERIFY, headers=bearer(early_ok)).status_code == 200
    early_bad = mint(iat=now, nbf=now + 120, exp=now + 600)
    assert s.get(VERIFY, headers=bearer(early_bad)).status_code == 401


def test_token_from_another_server_rejected(make_server):
    env = {"GATEHOUSE_AUTH_ALGORITHM": "ES256", "GATEHOUSE_AUTH_ISSUER": "https://same.example"}
    a = make_server(env)
    b = make_server(env)
    # same user name on both, even the same admin password
    ta = a.tokens("admin", ADMIN_PASSWORD)
    assert a.get(VERIFY, headers=bearer(ta["access_token"])).status_code == 200
    r = b.get(VERIFY, headers=bearer(ta["access_token"]))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    r = b.post("/api/v1/auth/refresh", {"refresh_token": ta["refresh_token"]})
    assert r.status_code == 401


def test_media_token_not_accepted_without_config(server, tokens):
    """Query tokens are only for paths config marks as media (none by default)."""
    r = server.get(VERIFY, headers={"X-Forwarded-Uri": "/app/x?token=" + tokens["access_token"],
                                    "X-Forwarded-Method": "GET"})
    assert r.status_code == 401
    r = server.get(VERIFY + "?token=" + tokens["access_token"])
    assert r.status_code == 401


def test_verify_head_and_other_methods(server, tokens):
    h = server.head(VERIFY, headers=bearer(tokens["access_token"]))
    assert h.status_code == 200 and h.headers["X-Auth-Method"] == "jwt"
    h = server.head(VERIFY)
    assert h.status_code == 401


# -- /verify and /me --------------------------------------------------------------

def test_verify_success_headers(server, tokens):
    r = server.get(VERIFY, headers=bearer(tokens["access_token"]))
    assert r.status_code == 200, r.text
    claims = jwt_parts(tokens["access_token"])[1]
    assert r.headers["X-Auth-User-Id"] == tokens["user"]["id"]
    assert r.headers["X-Auth-Username"] == tokens["user"]["username"]
    assert r.headers["X-Auth-Org-Id"] == claims["org"]
    assert "member" in r.headers["X-Auth-Roles"].split(",")
    assert r.headers["X-Auth-Method"] == "jwt"
    assert r.headers.get("X-Request-Id")


def test_verify_with_forwarded_headers(server, tokens):
    for extra in ({"X-Forwarded-Method": "POST", "X-Forwarded-Uri": "/app/x?y=1",
                   "X-Forwarded-Host": "app.example.test"},
                  {"X-Original-Method": "DELETE", "X-Original-URI": "/things/1"}):
        h = bearer(tokens["access_token"])
        h.update(extra)
        r = server.get(VERIFY, headers=h)
        assert r.status_code == 200, (extra, r.text)


def test_verify_lowercase_bearer(server, tokens):
    r = server.get(VERIFY, headers={"Authorization": "bearer " + tokens["access_token"]})
    assert r.status_code == 200, r.text
    r = server.get(ME, headers={"Authorization": "BEARER " + tokens["access_token"]})
    assert r.status_code == 200, r.text


def test_me(server, tokens):
    r = server.get(ME, headers=bearer(tokens["access_token"]))
    assert r.status_code == 200, r.text
    assert "no-store" in r.headers.get("Cache-Control", "")
    me = r.json()
    u = tokens["user"]
    assert set(me) >= {"id", "username", "email", "full_name", "primary_org_id", "orgs",
                       "permissions", "mfa_enabled"}, me
    assert me["id"] == u["id"]
    assert me["username"] == u["username"]
    assert me["email"] == u["email"]
    assert me["full_name"] == "Test User"
    assert me["mfa_enabled"] is False
    claims = jwt_parts(tokens["access_token"])[1]
    assert me["primary_org_id"] == claims["org"]
    assert isinstance(me["orgs"], list) and len(me["orgs"]) == 1
    o = me["orgs"][0]
    assert o == {**o, "id": claims["org"], "name": "default", "role": "member"}
    assert isinstance(me["permissions"], list)
    for p in ("file:read", "file:write", "org:read"):
        assert p in me["permissions"], me["permissions"]
    assert "password_hash" not in r.text and u["password"] not in r.text


def test_me_admin(server, admin_tokens):
    me = server.get(ME, headers=bearer(admin_tokens["access_token"])).json()
    assert me["username"] == "admin"
    assert me["email"] == "admin@localhost"
    assert me["orgs"][0]["role"] == "admin"
    assert me["orgs"][0]["name"] == "default"


def test_unauthenticated(server):
    for path in (ME, VERIFY):
        r = server.get(path)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthenticated"
        assert r.json()["error"]["request_id"] == r.headers["X-Request-Id"]
    r = server.get(VERIFY)
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_logout_all_requires_auth(server):
    r = server.post("/api/v1/auth/logout-all")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"


def test_change_password_requires_auth(server):
    r = server.post("/api/v1/auth/change-password",
                    {"current_password": "x", "new_password": strong_password()})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"


def test_refresh_token_is_not_an_access_token(server, tokens):
    r = server.get(ME, headers=bearer(tokens["refresh_token"]))
    assert r.status_code == 401
    assert r.json()["error"]["code"] in ("invalid_token", "unauthenticated")


def test_access_token_is_not_a_refresh_token(server, tokens):
    r = server.post("/api/v1/auth/refresh", {"refresh_token": tokens["access_token"]})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_token"

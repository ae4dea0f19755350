"""WebSocket credentials and gateway tokens (issue 17, item 4), over /verify as a proxy
calls it: the original request's Sec-WebSocket-Protocol entry bearer.<token>, and
audience-bound tokens of at most an hour, refused everywhere but /verify rules naming their
audience, revoked like any access token.  Black-box over HTTP against the real binary."""
import time

import pytest

from conftest import Server, assert_error, bearer, jwt_parts, unique_name

VERIFY = "/api/v1/auth/verify"
GW = "/api/v1/auth/gateway-token"
ME = "/api/v1/auth/me"
RULES = ("GET /ws/chat/** authenticated aud=chat; GET /ws/feed/** authenticated aud=feed; "
         "GET /plain/** authenticated")


@pytest.fixture(scope="module")
def srv():
    s = Server(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256", "GATEHOUSE_FORWARD_AUTH_RULES": RULES})
    s.start()
    yield s
    s.cleanup()


def person(s):
    u = s.register()
    t = s.tokens(u["username"], u["password"])
    u["at"], u["rt"] = t["access_token"], t["refresh_token"]
    u["h"] = bearer(t["access_token"])
    return u


def verify(s, uri, headers):
    h = {"X-Forwarded-Method": "GET", "X-Forwarded-Uri": uri,
         "X-Forwarded-Host": "app.example.test", "X-Forwarded-Proto": "https", **headers}
    return s.get(VERIFY, headers=h)


def mint(s, h, audience="chat", **body):
    r = s.post(GW, {"audience": audience, **body}, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def ws(token, *others):
    return {"Sec-WebSocket-Protocol": ", ".join([*others, f"bearer.{token}"])}


def test_subprotocol_carries_the_access_token(srv):
    u = person(srv)
    r = verify(srv, "/plain/x", ws(u["at"], "chat.v2"))
    assert r.status_code == 200, r.text
    assert r.headers["X-Auth-User-Id"] == u["id"]
    assert r.headers["X-Auth-Method"] == "jwt"
    # the header credential wins over the subprotocol: a stale entry is not looked at
    r = verify(srv, "/plain/x", {**u["h"], "Sec-WebSocket-Protocol": "bearer.stale.x.y"})
    assert r.status_code == 200
    # without any credential: 401
    assert verify(srv, "/plain/x", {"Sec-WebSocket-Protocol": "chat.v2"}).status_code == 401


@pytest.mark.parametrize("value", [
    "bearer.{t}, bearer.{t}",          # two bearer entries
    "chat, bearer.{t}, BEARER.{t}",    # twice, another case
    "bearer.{t} extra",                # a token with a space
    'bearer."{t}"',                    # quoted
    "bearer.",                         # empty
])
def test_bad_subprotocols_are_refused(srv, value):
    u = person(srv)
    r = verify(srv, "/plain/x", {"Sec-WebSocket-Protocol": value.format(t=u["at"])})
    assert_error(r, 400, "invalid_request")


def test_gateway_token_is_short_and_bound_to_its_audience(srv):
    u = person(srv)
    g = mint(srv, u["h"], "chat", ttl=120)
    assert g["expires_in"] == 120
    _, claims, _ = jwt_parts(g["token"])
    assert claims["aud"] == "gateway:chat" and claims["sub"] == u["id"]
    assert claims["exp"] - claims["iat"] == 120
    # accepted where the rule names its audience, by header or subprotocol
    r = verify(srv, "/ws/chat/room1", ws(g["token"], "chat.v2"))
    assert r.status_code == 200, r.text
    assert r.headers["X-Auth-User-Id"] == u["id"]
    assert verify(srv, "/ws/chat/room1", bearer(g["token"])).status_code == 200
    # refused by a rule naming another audience, a rule naming none, and every API route
    assert verify(srv, "/ws/feed/x", ws(g["token"])).status_code == 401
    assert verify(srv, "/plain/x", ws(g["token"])).status_code == 401
    assert_error(srv.get(ME, headers=bearer(g["token"])), 401, "invalid_token")
    assert_error(srv.post(GW, {"audience": "chat"}, headers=bearer(g["token"])), 401)
    # ordinary credentials still pass the audience rule
    assert verify(srv, "/ws/chat/room1", u["h"]).status_code == 200
    # default ttl: 5 minutes
    assert mint(srv, u["h"], "feed")["expires_in"] == 300


def test_revocation_reaches_gateway_tokens(srv):
    u = person(srv)
    g = mint(srv, u["h"])
    assert verify(srv, "/ws/chat/a", ws(g["token"])).status_code == 200
    assert srv.post("/api/v1/auth/logout-all", headers=u["h"]).status_code == 204
    assert verify(srv, "/ws/chat/a", ws(g["token"])).status_code == 401


def test_mint_bad_inputs(srv):
    u = person(srv)
    for body, status, code, field in (
            ({"audience": "chat", "ttl": 3601}, 422, "invalid_value", "ttl"),
            ({"audience": "chat", "ttl": 0}, 422, "invalid_value", "ttl"),
            ({"audience": "chat", "ttl": "60"}, 400, "invalid_request", "ttl"),
            ({"audience": "Chat Room"}, 422, "invalid_value", "audience"),
            ({"audience": "x" * 65}, 422, "invalid_value", "audience"),
            ({}, 400, "invalid_request", "audience")):
        r = srv.post(GW, body, headers=u["h"])
        assert_error(r, status, code)
        assert r.json()["error"].get("details", {}).get("field") == field, (body, r.text)
    assert_error(srv.post(GW, {"audience": "chat"}), 401, "unauthenticated")
    assert mint(srv, u["h"], ttl=3600)["expires_in"] == 3600
    # a scoped key cannot mint a stronger credential; an unscoped one can
    k = srv.post("/api/v1/api-keys", {"name": unique_name("k"), "scopes": ["org:read"]},
                 headers=u["h"]).json()["key"]
    assert_error(srv.post(GW, {"audience": "chat"}, headers={"X-API-Key": k}), 403, "forbidden")
    k = srv.post("/api/v1/api-keys", {"name": unique_name("k")}, headers=u["h"]).json()["key"]
    g = mint(srv, {"X-API-Key": k})
    assert verify(srv, "/ws/chat/a", ws(g["token"])).status_code == 200


def test_expired_gateway_token(srv):
    u = person(srv)
    g = mint(srv, u["h"], ttl=1)
    deadline = time.monotonic() + 60  # the clock leeway (30 s) passes first
    while verify(srv, "/ws/chat/a", ws(g["token"])).status_code == 200:
        assert time.monotonic() < deadline, "the gateway token never expired"
        time.sleep(1)
    assert verify(srv, "/ws/chat/a", ws(g["token"])).status_code == 401


def test_bad_audience_in_a_rule_refuses_to_start(make_server):
    s = make_server(env={"GATEHOUSE_FORWARD_AUTH_RULES": "GET /ws/** authenticated aud=Bad!"},
                    start=False)
    s.start(wait=False)
    assert s.proc.wait(timeout=60) != 0
    assert "aud=NAME" in s.log_text()

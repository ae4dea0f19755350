"""CORS per config (issue 17, item 3): preflights answered for allowed origins only, never
"*" with credentials, Vary: Origin.  Black-box over HTTP against the real binary."""
import pytest

from conftest import assert_error, bearer, run_cli

APP = "https://app.example.test"
ME = "/api/v1/auth/me"


def preflight(s, origin, method="POST", headers=None, path=ME):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        h["Access-Control-Request-Headers"] = headers
    return s.request("OPTIONS", path, headers=h)


@pytest.fixture(scope="module")
def srv():
    from conftest import Server
    s = Server(env={"GATEHOUSE_CORS_ALLOWED_ORIGINS": f"{APP}, http://localhost:3000",
                    "GATEHOUSE_CORS_ALLOW_CREDENTIALS": "true",
                    "GATEHOUSE_CORS_MAX_AGE": "5m"})
    s.start()
    yield s
    s.cleanup()


def test_preflight_of_an_allowed_origin(srv):
    r = preflight(srv, APP, "GET", "authorization, content-type")
    assert r.status_code == 204, r.text
    assert r.headers["Access-Control-Allow-Origin"] == APP
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert "GET" in r.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    assert r.headers["Access-Control-Max-Age"] == "300"
    assert "Origin" in r.headers["Vary"]
    assert r.content == b""


@pytest.mark.parametrize("origin,method,headers", [
    ("https://evil.example.test", "GET", None),        # a foreign origin
    ("https://app.example.test.evil.test", "GET", None),  # a suffix is another origin
    ("http://app.example.test", "GET", None),           # another scheme
    ("null", "GET", None),                               # sandboxed pages
    (APP, "TRACE", None),                                # a method not listed
    (APP, "GET", "authorization, x-secret-header"),     # a header not listed
])
def test_preflight_refused(srv, origin, method, headers):
    r = preflight(srv, origin, method, headers)
    assert_error(r, 403, "cors_refused")
    assert not [h for h in r.headers if h.lower().startswith("access-control-")]
    assert "Origin" in r.headers["Vary"]


def test_actual_requests_carry_the_headers(srv):
    u = srv.register()
    h = bearer(srv.tokens(u["username"], u["password"])["access_token"])
    r = srv.get(ME, headers={**h, "Origin": APP})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == APP
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert "X-Request-Id" in r.headers["Access-Control-Expose-Headers"]
    assert "Origin" in r.headers["Vary"]
    # errors too, so that a page can read why
    r = srv.get(ME, headers={"Origin": APP})
    assert r.status_code == 401 and r.headers["Access-Control-Allow-Origin"] == APP
    # a foreign origin gets no grant, only Vary
    r = srv.get(ME, headers={**h, "Origin": "https://evil.example.test"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    assert "Origin" in r.headers["Vary"]
    # public documents keep their own "*", once
    r = srv.get("/.well-known/jwks.json", headers={"Origin": APP})
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_off_by_default(make_server):
    s = make_server()
    r = preflight(s, APP, "GET")
    assert r.status_code == 405
    assert "Access-Control-Allow-Origin" not in r.headers
    r = s.get("/healthz", headers={"Origin": APP})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_wildcard_without_credentials(make_server):
    s = make_server(env={"GATEHOUSE_CORS_ALLOWED_ORIGINS": "*"})
    r = preflight(s, "https://any.example.test", "GET")
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    assert_error(preflight(s, "null", "GET"), 403, "cors_refused")


@pytest.mark.parametrize("env,message", [
    ({"GATEHOUSE_CORS_ALLOWED_ORIGINS": "*", "GATEHOUSE_CORS_ALLOW_CREDENTIALS": "true"},
     "with cors.allow_credentials"),
    ({"GATEHOUSE_CORS_ALLOWED_ORIGINS": "https://app.example.test/path"}, "no path"),
    ({"GATEHOUSE_CORS_ALLOWED_ORIGINS": "app.example.test"}, "cors.allowed_origins"),
    ({"GATEHOUSE_CORS_ALLOWED_ORIGINS": "null"}, "cors.allowed_origins"),
])
def test_bad_configuration_refuses_to_start(tmp_path, env, message):
    r = run_cli(["serve", "--listen", "127.0.0.1:1", "--data-dir", str(tmp_path / "d")],
                env=env, timeout=60)
    assert r.returncode != 0
    assert message in r.stderr + r.stdout

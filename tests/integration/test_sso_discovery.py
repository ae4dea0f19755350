"""An OIDC provider saved through /api/v1/sso/providers must answer its discovery
document (sso.check_on_save, on by default) within sso.timeout, with its own issuer and
acceptable endpoints; otherwise 422 naming the issuer and why.  The provider here is a
small HTTP server of the test's own on loopback."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ADMIN_PASSWORD, Server, assert_error, bearer, unique_name

PROVIDERS = "/api/v1/sso/providers"


class Idp(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        base = f"http://127.0.0.1:{self.server.server_port}"
        mode = self.path.split("/")[1]
        issuer = f"{base}/{mode}"
        doc = {"issuer": issuer, "authorization_endpoint": issuer + "/auth",
               "token_endpoint": issuer + "/token", "jwks_uri": issuer + "/jwks",
               "userinfo_endpoint": issuer + "/me"}
        if not self.path.endswith("/.well-known/openid-configuration"):
            self.send_response(404)
            self.end_headers()
            return
        if mode == "slow":
            time.sleep(3)
        elif mode == "other-issuer":
            doc["issuer"] = base + "/good"
        elif mode == "external-endpoint":
            doc["token_endpoint"] = "http://idp.example.com/token"
        elif mode == "missing":
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(doc).encode()
        if mode == "garbage":
            body = b"{not json"
        elif mode == "huge":
            body = b" " * (70 * 1024) + body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def idp():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Idp)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def srv():
    s = Server(env={"GATEHOUSE_SSO_TIMEOUT": "1s"})
    s.start()
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def root(srv):
    return bearer(srv.tokens("admin", ADMIN_PASSWORD)["access_token"])


def provider(issuer):
    return {"name": unique_name("d").lower(), "type": "oidc", "issuer": issuer,
            "client_id": "gh", "client_secret": "s"}


def test_reachable_provider_is_saved(srv, root, idp):
    body = provider(idp + "/good")
    r = srv.post(PROVIDERS, body, headers=root)
    assert r.status_code == 201, r.text
    r = srv.request("PATCH", f"{PROVIDERS}/{body['name']}", headers=root,
                    json={"issuer": idp + "/missing"})
    assert_error(r, 422, "invalid_value")
    assert r.json()["error"]["details"] == {"field": "issuer", "reason": "unreachable"}
    assert srv.get(f"{PROVIDERS}/{body['name']}", headers=root).json()["issuer"] == idp + "/good"


@pytest.mark.parametrize("mode,reason", [
    ("missing", "unreachable"),
    ("slow", "unreachable"),
    ("garbage", "invalid_discovery"),
    ("huge", "unreachable"),
    ("other-issuer", "invalid_discovery"),
    ("external-endpoint", "invalid_discovery"),
])
def test_unacceptable_discovery_is_422(srv, root, idp, mode, reason):
    started = time.monotonic()
    r = srv.post(PROVIDERS, provider(f"{idp}/{mode}"), headers=root)
    assert_error(r, 422, "invalid_value")
    assert r.json()["error"]["details"] == {"field": "issuer", "reason": reason}
    assert time.monotonic() - started < 2.5  # sso.timeout is 1s


def test_nothing_listening_is_422(srv, root):
    r = srv.post(PROVIDERS, provider("http://127.0.0.1:9/idp"), headers=root)
    assert_error(r, 422, "invalid_value")
    assert r.json()["error"]["details"]["reason"] == "unreachable"


def test_oauth2_providers_have_no_discovery(srv, root):
    body = {"name": unique_name("o").lower(), "type": "oauth2", "client_id": "c",
            "authorization_endpoint": "http://127.0.0.1:9/a",
            "token_endpoint": "http://127.0.0.1:9/t", "userinfo_endpoint": "http://127.0.0.1:9/u"}
    assert srv.post(PROVIDERS, body, headers=root).status_code == 201

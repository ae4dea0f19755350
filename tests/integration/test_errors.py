"""Edge behaviour: error envelope, security headers, routing, input limits."""
import json
import socket

import pytest

from conftest import assert_error, assert_security_headers, TIMEOUT

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"


def raw_request(server, data, timeout=TIMEOUT):
    """Send raw bytes, return the whole response as bytes (connection: close)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
        except (ConnectionResetError, socket.timeout):
            pass
    return b"".join(chunks)


def parse_raw(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


# -- health and security headers ------------------------------------------------

def test_healthz(server):
    r = server.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"} or r.json().get("status") == "ok"
    assert_security_headers(r)


def test_readyz(server):
    r = server.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready"
    assert_security_headers(r)


@pytest.mark.parametrize("path", ["/healthz", "/.well-known/jwks.json",
                                  "/.well-known/openid-configuration",
                                  "/no/such/path", "/api/v1/auth/me"])
def test_security_headers_everywhere(server, path):
    r = server.get(path)
    assert_security_headers(r)


def test_request_ids_unique(server):
    ids = {server.get("/healthz").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize("method,path,body", [
    ("POST", LOGIN, {"username": "nobody-x", "password": "whatever-1"}),
    ("GET", "/api/v1/auth/me", None),
    ("POST", "/api/v1/auth/refresh", {"refresh_token": "nope"}),
    ("GET", "/api/v1/nothing-here", None),
])
def test_api_responses_no_store(server, method, path, body):
    r = server.request(method, path, json=body)
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers


def test_token_response_no_store(server, user):
    r = server.login(user["username"], user["password"])
    assert "no-store" in r.headers.get("Cache-Control", "")


# -- routing --------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope", "/api/v1/auth/loginx",
                                  "/.well-known/other"])
def test_unknown_path_404(server, path):
    r = server.get(path)
    assert_error(r, 404, "not_found")
    assert_security_headers(r)


def test_wrong_method_405(server):
    r = server.get(LOGIN)
    assert_error(r, 405, "method_not_allowed")
    assert "POST" in r.headers.get("Allow", ""), r.headers
    assert_security_headers(r)


def test_wrong_method_405_on_public(server):
    r = server.post("/healthz", json_body={})
    assert_error(r, 405, "method_not_allowed")
    assert "GET" in r.headers.get("Allow", "")


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/.well-known/jwks.json",
                                  "/.well-known/openid-configuration"])
def test_head_works_where_get_does(server, path):
    g = server.get(path)
    h = server.head(path)
    assert h.status_code == g.status_code == 200
    assert h.content == b""
    assert h.headers.get("X-Request-Id")


def test_head_on_me(server, tokens):
    h = server.head("/api/v1/auth/me", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert h.status_code == 200
    assert h.content == b""


# -- body limits ----------------------------------------------------------------

def test_body_too_large_413(server):
    big = json.dumps({"username": "x" * (70 * 1024), "password": "y"})
    r = server.post(LOGIN, data=big, headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")


def test_body_too_large_413_chunked(server):
    def gen():
        yield b'{"username":"'
        for _ in range(80):
            yield b"a" * 1024
        yield b'","password":"x"}'
    r = server.post(LOGIN, data=gen(), headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")


def test_body_under_limit_not_413(server):
    # ~60 KiB total body is below the 64 KiB default; a field-length limit may
    # reject it, but not with 413.
    body = json.dumps({"username": "nobody", "password": "p", "pad": "z" * (60 * 1024)})
    r = server.post(LOGIN, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code != 413, r.text


def test_max_body_configurable(make_server):
    s = make_server({"GATEHOUSE_SERVER_MAX_BODY": "1KiB", "GATEHOUSE_AUTH_ALGORITHM": "EdDSA"})
    body = json.dumps({"username": "a" * 2000, "password": "b"})
    assert_error(s.post(LOGIN, data=body, headers={"Content-Type": "application/json"}),
                 413, "payload_too_large")
    small = json.dumps({"username": "nobody", "password": "whatever-1"})
    r = s.post(LOGIN, data=small, headers={"Content-Type": "application/json"})
    assert r.status_code == 401, r.text


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "application/xml", "application/jsonx"])
def test_wrong_content_type_415(server, ctype):
    r = server.post(LOGIN, data='{"username":"a","password":"b"}',
                    headers={"Content-Type": ctype})
    assert_error(r, 415, "unsupported_media_type")


def test_missing_content_type_with_body_415(server):
    body = b'{"username":"nobody","password":"whatever-1"}'
    resp = raw_request(server, b"POST " + LOGIN.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Connection: close\r\nContent-Length: " + str(len(body)).encode()
                       + b"\r\n\r\n" + body)
    status, headers, rbody = parse_raw(resp)
    assert status == 415, resp
    assert json.loads(rbody)["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8",
                                   "application/json;charset=UTF-8",
                                   "Application/JSON"])
def test_json_content_type_with_charset_ok(server, ctype):
    r = server.post(LOGIN, data='{"username":"nobody-zz","password":"whatever-1"}',
                    headers={"Content-Type": ctype})
    assert_error(r, 401, "invalid_credentials")


@pytest.mark.parametrize("body", [
    b'{"username": "a", "password": ',
    b'{username: "a"}',
    b"not json",
    b'{"username":"a","password":"b"} trailing',
    b'{"username":"a\x00","password":"b"',
    b'\xff\xfe{}',
])
def test_malformed_json_400(server, body):
    r = server.post(LOGIN, data=body, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")


@pytest.mark.parametrize("body", [b"[]", b'"str"', b"42", b"null", b"true",
                                  b'[{"username":"a","password":"b"}]'])
def test_non_object_top_level_400(server, body):
    r = server.post(LOGIN, data=body, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")


def test_json_too_deep_400(server):
    deep = '{"username":"a","password":"b","x":' + "[" * 17 + "]" * 17 + "}"
    r = server.post(LOGIN, data=deep, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")
    deeper = "[" * 5000 + "]" * 5000
    r = server.post(LOGIN, data=deeper, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")


def test_json_depth_16_ok(server):
    # top-level object is depth 1; 15 nested arrays -> depth 16: accepted as JSON
    ok = '{"username":"nobody-deep","password":"whatever-1","x":' + "[" * 15 + "]" * 15 + "}"
    r = server.post(LOGIN, data=ok, headers={"Content-Type": "application/json"})
    assert r.status_code != 400 or r.json()["error"]["code"] != "invalid_json", r.text


@pytest.mark.parametrize("body", [
    {"username": "someone"},
    {"password": "Something-1"},
    {},
    {"username": "someone", "password": 123},
    {"username": None, "password": "Something-1"},
    {"username": ["a"], "password": "Something-1"},
    {"username": {"a": 1}, "password": "Something-1"},
    {"username": "someone", "password": True},
])
def test_login_missing_or_ill_typed_400(server, body):
    r = server.post(LOGIN, json_body=body)
    assert_error(r, 400, "invalid_request")


@pytest.mark.parametrize("body", [
    {"username": "abc", "email": "abc@example.test"},
    {"username": 5, "email": "abc@example.test", "password": "Str0ng-Pass-99"},
    {"username": "abcdef", "email": None, "password": "Str0ng-Pass-99"},
    {"username": "abcdef", "email": "abcdef@example.test", "password": "Str0ng-Pass-99",
     "full_name": 7},
])
def test_register_missing_or_ill_typed_400(server, body):
    r = server.post(REGISTER, json_body=body)
    assert_error(r, 400, "invalid_request")


@pytest.mark.parametrize("path,body", [
    ("/api/v1/auth/refresh", {}),
    ("/api/v1/auth/refresh", {"refresh_token": 5}),
    ("/api/v1/auth/logout", {"refresh_token": None}),
])
def test_token_endpoints_ill_typed_400(server, path, body):
    assert_error(server.post(path, json_body=body), 400, "invalid_request")


def test_headers_too_large_431(server):
    headers = {f"X-Filler-{i}": "v" * 1000 for i in range(20)}
    r = server.get("/healthz", headers=headers)
    assert_error(r, 431, "headers_too_large")


def test_single_huge_header_431(server):
    r = server.get("/api/v1/auth/me", headers={"X-Big": "a" * (17 * 1024)})
    assert_error(r, 431, "headers_too_large")


def test_headers_just_under_limit_ok(server):
    headers = {f"X-Filler-{i}": "v" * 1000 for i in range(12)}
    r = server.get("/healthz", headers=headers)
    assert r.status_code == 200


def test_error_never_leaks_internals(server):
    r = server.post(LOGIN, data=b'{"username":"\'; DROP TABLE users;--","password":"x"}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 401)
    low = r.text.lower()
    for needle in ("sqlite", "select ", "/work/", ".c:", "traceback"):
        assert needle not in low, r.text


def test_server_survives_garbage_request_line(server):
    resp = raw_request(server, b"GARBAGE\r\n\r\n")
    # any (or no) answer, but the server must stay up
    assert server.get("/healthz").status_code == 200
    resp = raw_request(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert parse_raw(resp)[0] == 200


# -- JSON parser corner cases (parser differentials are a security problem) -----------

@pytest.mark.parametrize("body", [
    b'{"username":"admin","username":"x","password":"y"}',
    b'{"username":"x","password":"y","password":"z"}',
])
def test_duplicate_keys_refused(server, body):
    r = server.post(LOGIN, data=body, headers={"Content-Type": "application/json"})
    assert_error(r, 400, codes={"invalid_json", "invalid_request"})


@pytest.mark.parametrize("body", [
    b'{"username":"ad\\u0000min","password":"y"}',
    b'{"username":"a\\ud800b","password":"y"}',
    b'{"username":"\xc3\x28","password":"y"}',
    b'{"username":"\xed\xa0\x80","password":"y"}',
])
def test_bad_strings_refused(server, body):
    r = server.post(LOGIN, data=body, headers={"Content-Type": "application/json"})
    assert_error(r, 400, codes={"invalid_json", "invalid_request"})


def test_overlong_field_refused(server):
    r = server.post(LOGIN, json_body={"username": "u" * 5000, "password": "y"})
    assert 400 <= r.status_code < 500 and r.status_code != 401, r.text
    assert_error(r, r.status_code)


@pytest.mark.parametrize("headers", [{}, {"Content-Type": "application/json"}])
def test_empty_body_400(server, headers):
    r = server.post(LOGIN, headers=headers)
    assert_error(r, 400, codes={"invalid_json", "invalid_request"})


def test_extra_fields_ignored(server, user):
    r = server.post(LOGIN, json_body={"username": user["username"], "password": user["password"],
                                      "remember": True, "x": {"y": [1]}})
    assert r.status_code == 200, r.text


def test_405_on_me(server):
    r = server.post("/api/v1/auth/me", json_body={})
    assert_error(r, 405, "method_not_allowed")
    allow = [a.strip() for a in r.headers.get("Allow", "").split(",")]
    assert "GET" in allow and "POST" not in allow


@pytest.mark.parametrize("path", ["/api/v1/auth/me/", "/healthz/", "/api/v1/auth/login/x"])
def test_no_path_aliasing(server, path):
    r = server.get(path)
    assert_error(r, 404, "not_found")


def test_error_responses_are_access_logged(server):
    import time
    rids = {}
    rids[404] = server.get("/nope-logged").headers["X-Request-Id"]
    rids[413] = server.post(LOGIN, data="x" * (70 * 1024),
                            headers={"Content-Type": "application/json"}).headers["X-Request-Id"]
    rids[431] = server.get("/healthz", headers={"X-Big": "a" * (17 * 1024)}).headers["X-Request-Id"]
    rids[405] = server.get(LOGIN).headers["X-Request-Id"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        out = server.stdout_text()
        if all(r in out for r in rids.values()):
            break
        time.sleep(0.05)
    lines = [json.loads(l) for l in server.stdout_text().splitlines() if l.strip()]
    by_rid = {l.get("request_id"): l for l in lines}
    for status, rid in rids.items():
        assert rid in by_rid, (status, rid)
        assert by_rid[rid]["status"] == status, by_rid[rid]


@pytest.mark.parametrize("path", ["/healthz%00x", "/healthz%00", "/api/v1/auth/me%00.css"])
def test_encoded_nul_in_path_not_truncated(server, path):
    """A %00 in the path must not cut the path short (path confusion): 400 or 404."""
    resp = raw_request(server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                       .encode())
    status, headers, body = parse_raw(resp)
    assert status in (400, 404), (path, status, body[:200])


def test_pipelined_requests(server):
    resp = raw_request(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                               b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    import re
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", resp)
    assert statuses == [b"200", b"404"], resp[:500]


def test_log_lines_stay_json_with_hostile_headers(server):
    import time
    r = server.get("/healthz", headers={"User-Agent": 'ua"}\\,{"x":1\x7f',
                                        "X-Request-Id": 'evil"\\id'})
    rid = r.headers["X-Request-Id"]
    assert rid != 'evil"\\id'
    deadline = time.monotonic() + 5
    while rid not in server.stdout_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    for line in server.stdout_text().splitlines():
        if line.strip():
            json.loads(line)


def test_incoming_request_id_kept_when_clean(server):
    rid = "trace-abc.123_XYZ"
    r = server.get("/nope", headers={"X-Request-Id": rid})
    assert r.headers["X-Request-Id"] == rid
    assert r.json()["error"]["request_id"] == rid


@pytest.mark.parametrize("rid", ["has space", "x" * 65, "semi;colon", "ünï"])
def test_incoming_request_id_replaced_when_dirty(server, rid):
    r = server.get("/nope", headers={"X-Request-Id": rid.encode("utf-8")})
    got = r.headers["X-Request-Id"]
    assert got and got != rid
    assert r.json()["error"]["request_id"] == got

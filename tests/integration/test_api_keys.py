"""API keys: creation and its bad inputs, use, revocation, IP binding, last use, audit,
storage and the CLI.  Black-box: HTTP, the CLI and read-only looks at the database."""
import datetime
import http.client
import os
import re
import stat
import time
import uuid

import pytest

from conftest import (ADMIN_PASSWORD, assert_error, bearer, eventually, run_cli,
                      strong_password, unique_name, wait_audit)

KEYS = "/api/v1/api-keys"
ME = "/api/v1/auth/me"
VERIFY = "/api/v1/auth/verify"
KEY_RE = re.compile(r"^ak_[0-9A-Za-z]{43}$")
FIELDS = {"id", "name", "key", "prefix", "org_id", "scopes", "allowed_ips", "expires_at",
          "created_at", "last_used_at", "last_used_ip", "revoked"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}


# -- helpers --------------------------------------------------------------------------

def iso(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def future(seconds):
    return iso(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds))


def admin_h(server):
    return bearer(server.tokens("admin", ADMIN_PASSWORD)["access_token"])


def member(server):
    u = server.register()
    u["h"] = bearer(server.tokens(u["username"], u["password"])["access_token"])
    return u


def create(server, headers, expect=201, **body):
    body.setdefault("name", unique_name("k"))
    r = server.post(KEYS, body, headers=headers)
    assert r.status_code == expect, (r.status_code, r.text)
    return r.json()


def xkey(key):
    return {"X-API-Key": key}


def list_keys(server, headers, **params):
    r = server.get(KEYS, headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def find(server, headers, key_id):
    for it in list_keys(server, headers, limit=1000)["items"]:
        if it["id"] == key_id:
            return it
    return None


def assert_invalid_token(r, code=None):
    assert_error(r, 401, code=code)
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"], r.headers


def raw_get(server, path, headers):
    """GET with a list of (name, value) headers, duplicates allowed."""
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        c.putrequest("GET", path, skip_accept_encoding=True)
        for k, v in headers:
            c.putheader(k, v)
        c.endheaders()
        resp = c.getresponse()
        return resp.status, resp.read()
    finally:
        c.close()


def key_failures(server, key_id, timeout=10):
    """The API_KEY_USE_FAILED records of one key, once the first is written (the audit
    writer is asynchronous: another key's older record may already be there)."""
    def mine():
        return [r for r in wait_audit(server, "API_KEY_USE_FAILED")
                if key_id in (r["metadata"] or "")]
    return eventually(mine, timeout)


def all_text_in_db(server):
    """Every text and blob value of every table, as one list of strings."""
    out = []
    tables = [r["name"] for r in server.query(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    for t in tables:
        for row in server.query(f'SELECT * FROM "{t}"'):
            for v in row.values():
                if isinstance(v, bytes):
                    out.append(v.decode("latin-1"))
                elif isinstance(v, str):
                    out.append(v)
    return out


# -- creation --------------------------------------------------------------------------

def test_create_shape(server):
    h = admin_h(server)
    k = create(server, h)
    assert set(k) == FIELDS, k
    assert KEY_RE.match(k["key"]), k["key"]
    assert k["prefix"] == k["key"][:11]
    uuid.UUID(k["id"])
    uuid.UUID(k["org_id"])
    assert k["scopes"] is None
    assert k["allowed_ips"] in ([], None)
    assert k["expires_at"] is None
    assert k["revoked"] is False
    assert k["last_used_at"] is None and k["last_used_ip"] is None
    assert RFC3339.match(k["created_at"])
    assert abs(parse_time(k["created_at"]).timestamp() - time.time()) < 60


def test_keys_are_unique_and_random(server):
    h = admin_h(server)
    keys = [create(server, h)["key"] for _ in range(5)]
    assert len(set(keys)) == 5
    assert len({k[:11] for k in keys}) == 5


def test_create_with_all_fields(server):
    u = member(server)
    me = server.get(ME, headers=u["h"]).json()
    exp = future(3600)
    k = create(server, u["h"], scopes=["file:read"], expires_at=exp,
               allowed_ips=["127.0.0.1", "10.0.0.0/8", "::1"], org_id=me["primary_org_id"])
    assert k["scopes"] == ["file:read"]
    assert parse_time(k["expires_at"]) == parse_time(exp)
    assert k["org_id"] == me["primary_org_id"]
    assert len(k["allowed_ips"]) == 3
    r = server.get(ME, headers=xkey(k["key"]))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == u["id"]


def test_name_max_64_ascii(server):
    h = admin_h(server)
    assert create(server, h, name="n" * 64)["name"] == "n" * 64
    assert_error(server.post(KEYS, {"name": "n" * 65}, headers=h), 422, "invalid_value")


def test_emoji_name_round_trips(server):
    h = admin_h(server)
    name = "deploy \U0001F680 " + uuid.uuid4().hex[:6]
    k = create(server, h, name=name)
    assert k["name"] == name
    assert find(server, h, k["id"])["name"] == name


def test_name_of_64_emoji_accepted(server):
    h = admin_h(server)
    k = create(server, h, name="\U0001F600" * 63 + uuid.uuid4().hex[:1])
    assert len(k["name"]) == 64


@pytest.mark.parametrize("name", ["", "n" * 65, "tab\there", "nl\nx", "del\x7f", "\x1b[31mred"])
def test_bad_names_422(server, name):
    r = server.post(KEYS, {"name": name}, headers=admin_h(server))
    err = assert_error(r, 422, "invalid_value")
    assert err["details"]["field"] == "name"


@pytest.mark.parametrize("name", ["evil\u202eexe.txt", "c1\u0085x", "zw\u200bsp", "bom\ufeff"])
def test_names_with_invisible_or_bidi_chars_422(server, name):
    r = server.post(KEYS, {"name": name}, headers=admin_h(server))
    err = assert_error(r, 422, "invalid_value")
    assert err["details"]["field"] == "name"


def test_nul_in_name_refused(server):
    r = server.post(KEYS, data=b'{"name":"a\\u0000b"}', headers={
        **admin_h(server), "Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text
    if r.status_code == 400:
        assert_error(r, 400, codes={"invalid_json", "invalid_request"})
    else:
        assert_error(r, 422, "invalid_value")


@pytest.mark.parametrize("body", [
    {},
    {"scopes": ["file:read"]},
    {"name": None},
    {"name": 5},
    {"name": ["x"]},
    {"name": {"a": 1}},
    {"name": True},
    {"name": "x", "scopes": "file:read"},
    {"name": "x", "scopes": [1]},
    {"name": "x", "scopes": {"file": "read"}},
    {"name": "x", "allowed_ips": [1]},
    {"name": "x", "allowed_ips": "127.0.0.1"},
    {"name": "x", "expires_at": 1893456000},
    {"name": "x", "org_id": 5},
])
def test_wrong_types_400(server, body):
    r = server.post(KEYS, body, headers=admin_h(server))
    assert_error(r, 400, "invalid_request")


@pytest.mark.parametrize("data", [b"{bad", b'{"name":"x"', b"", b"[]", b'"x"', b"null",
                                  b'{"name":"x","name":"y"}', b'{"name":"\xc3\x28"}'])
def test_malformed_json_400(server, data):
    r = server.post(KEYS, data=data, headers={**admin_h(server),
                                              "Content-Type": "application/json"})
    assert_error(r, 400, codes={"invalid_json", "invalid_request"})


def test_wrong_content_type_refused(server):
    r = server.post(KEYS, data=b'{"name":"x"}', headers={**admin_h(server),
                                                         "Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("value", ["tomorrow", "2030-13-01T00:00:00Z", "2030-01-01", "",
                                   "2000-01-01T00:00:00Z", "1970-01-01T00:00:01Z",
                                   "2030-02-30T00:00:00Z", "2030-01-01T00:00:00"])
def test_bad_or_past_expires_at_422(server, value):
    r = server.post(KEYS, {"name": unique_name(), "expires_at": value}, headers=admin_h(server))
    err = assert_error(r, 422, "invalid_value")
    assert err["details"]["field"] == "expires_at"


@pytest.mark.parametrize("value", ["1970-01-01T00:00:00Z", "1970-01-01T01:00:00+01:00"])
def test_epoch_expires_at_refused(server, value):
    r = server.post(KEYS, {"name": unique_name(), "expires_at": value}, headers=admin_h(server))
    if r.status_code == 201:  # make sure the stray key cannot outlive the test
        server.request("DELETE", f"{KEYS}/{r.json()['id']}", headers=admin_h(server))
    err = assert_error(r, 422, "invalid_value")
    assert err["details"]["field"] == "expires_at"


def test_expires_at_just_past_422(server):
    r = server.post(KEYS, {"name": unique_name(), "expires_at": future(-5)},
                    headers=admin_h(server))
    assert_error(r, 422, "invalid_value")


@pytest.mark.parametrize("ips", [["10.0.0.0/33"], ["300.1.1.1"], ["10.0.0.0/"], ["not-an-ip"],
                                 ["::1/129"], ["10.0.0.1/8/1"], [""], ["1.2.3.4 "]])
def test_bad_cidr_422(server, ips):
    r = server.post(KEYS, {"name": unique_name(), "allowed_ips": ips}, headers=admin_h(server))
    err = assert_error(r, 422, "invalid_value")
    assert err["details"]["field"] == "allowed_ips"


def test_allowed_ips_max_16(server):
    h = admin_h(server)
    ips = [f"10.{i}.0.0/16" for i in range(16)]
    assert len(create(server, h, allowed_ips=ips)["allowed_ips"]) == 16
    r = server.post(KEYS, {"name": unique_name(), "allowed_ips": ips + ["10.99.0.0/16"]},
                    headers=h)
    assert r.status_code in (400, 422), r.text
    err = assert_error(r, r.status_code, codes={"invalid_request", "invalid_value"})
    assert err["details"]["field"] == "allowed_ips"


@pytest.mark.parametrize("scope", ["bogus", "file", ":read", "file:", "file read", "a:b:c:d:e",
                                   "", "FILE:READ\n"])
def test_malformed_scope_422(server, scope):
    r = server.post(KEYS, {"name": unique_name(), "scopes": [scope]}, headers=admin_h(server))
    assert_error(r, 422, "invalid_scope")


@pytest.mark.parametrize("scope", ["user:delete", "*:*", "apikey:write", "org:admin", "file:*"])
def test_scope_beyond_member_permissions_422(server, scope):
    u = member(server)
    r = server.post(KEYS, {"name": unique_name(), "scopes": ["file:read", scope]}, headers=u["h"])
    assert_error(r, 422, "invalid_scope")
    assert list_keys(server, u["h"])["items"] == []


def test_member_scope_within_permissions(server):
    u = member(server)
    k = create(server, u["h"], scopes=["file:read", "file:write"])
    assert sorted(k["scopes"]) == ["file:read", "file:write"]


def test_duplicate_live_name_409_and_reusable_after_revoke(server):
    u = member(server)
    k = create(server, u["h"], name="ci")
    assert_error(server.post(KEYS, {"name": "ci"}, headers=u["h"]), 409, "conflict")
    assert server.request("DELETE", f"{KEYS}/{k['id']}", headers=u["h"]).status_code == 204
    k2 = create(server, u["h"], name="ci")
    assert k2["id"] != k["id"]
    # another user may use the same name
    create(server, member(server)["h"], name="ci")


@pytest.mark.parametrize("org_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_org_404(server, org_id):
    r = server.post(KEYS, {"name": unique_name(), "org_id": org_id}, headers=member(server)["h"])
    assert r.status_code in (404, 422), r.text
    if r.status_code == 404:
        assert_error(r, 404, "not_found")


# -- authentication of the management routes -----------------------------------------

@pytest.mark.parametrize("method,path", [("POST", KEYS), ("GET", KEYS), ("DELETE", KEYS),
                                         ("DELETE", KEYS + "/" + str(uuid.uuid4()))])
def test_management_needs_auth(server, method, path):
    r = server.request(method, path, json={"name": "x"} if method == "POST" else None)
    assert_error(r, 401)
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_management_with_bad_credentials_401(server):
    assert_invalid_token(server.get(KEYS, headers=bearer("garbage.token.here")))
    assert_invalid_token(server.get(KEYS, headers=xkey("ak_" + "A" * 43)))


# -- listing ---------------------------------------------------------------------------

def test_list_newest_first_without_secrets(server):
    u = member(server)
    made = [create(server, u["h"], name=f"k{i}") for i in range(3)]
    body = list_keys(server, u["h"])
    assert set(body) == {"items", "next_offset"}
    assert body["next_offset"] is None
    ids = [it["id"] for it in body["items"]]
    assert ids == [k["id"] for k in reversed(made)]
    for it in body["items"]:
        assert "key" not in it and "key_hash" not in it and "hash" not in it
        assert set(it) == FIELDS - {"key"}, it
    text = server.get(KEYS, headers=u["h"]).text
    for k in made:
        assert k["key"] not in text
        assert k["key"][11:] not in text


def test_list_pagination(server):
    u = member(server)
    made = [create(server, u["h"])["id"] for _ in range(5)]
    p1 = list_keys(server, u["h"], limit=2)
    assert len(p1["items"]) == 2 and p1["next_offset"] == 2
    p2 = list_keys(server, u["h"], limit=2, offset=p1["next_offset"])
    p3 = list_keys(server, u["h"], limit=2, offset=p2["next_offset"])
    assert p3["next_offset"] is None and len(p3["items"]) == 1
    got = [it["id"] for p in (p1, p2, p3) for it in p["items"]]
    assert got == list(reversed(made))


@pytest.mark.parametrize("params", [{"limit": "-1"}, {"limit": "abc"}, {"offset": "-5"},
                                    {"limit": "1001"}, {"limit": "99999999999999999999999"}])
def test_list_bad_paging(server, params):
    r = server.get(KEYS, headers=member(server)["h"], params=params)
    assert r.status_code in (400, 422), r.text
    assert_error(r, r.status_code)


def test_list_only_own_keys(server):
    a, b = member(server), member(server)
    ka = create(server, a["h"])
    assert find(server, b["h"], ka["id"]) is None
    assert [it["id"] for it in list_keys(server, a["h"])["items"]] == [ka["id"]]


# -- using a key -----------------------------------------------------------------------

@pytest.mark.parametrize("how", ["bearer", "lower", "upper", "x-api-key", "both-same"])
def test_key_authenticates_as_owner(server, how):
    u = member(server)
    key = create(server, u["h"])["key"]
    headers = {
        "bearer": {"Authorization": f"Bearer {key}"},
        "lower": {"Authorization": f"bearer {key}"},
        "upper": {"Authorization": f"BEARER {key}"},
        "x-api-key": {"X-API-Key": key},
        "both-same": {"Authorization": f"Bearer {key}", "X-API-Key": key},
    }[how]
    r = server.get(ME, headers=headers)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["id"] == u["id"] and me["username"] == u["username"]
    v = server.get(VERIFY, headers=headers)
    assert v.status_code == 200, v.text
    assert v.headers["X-Auth-Method"] == "api_key"
    assert v.headers["X-Auth-User-Id"] == u["id"]


def test_unscoped_key_has_owner_permissions(server):
    u = member(server)
    key = create(server, u["h"])["key"]
    perms = server.get(ME, headers=xkey(key)).json()["permissions"]
    assert sorted(perms) == sorted(server.get(ME, headers=u["h"]).json()["permissions"])
    assert {"file:read", "file:write", "org:read"} <= set(perms)


def test_scoped_key_is_limited(server):
    h = admin_h(server)
    key = create(server, h, scopes=["file:read"])["key"]
    me = server.get(ME, headers=xkey(key)).json()
    assert me["permissions"] == ["file:read"]
    # and it cannot manage keys, users or anything else
    assert_error(server.get(KEYS, headers=xkey(key)), 403, "forbidden")
    assert_error(server.post(KEYS, {"name": unique_name()}, headers=xkey(key)), 403, "forbidden")


def test_disagreeing_headers_400(server):
    h = admin_h(server)
    k1, k2 = create(server, h)["key"], create(server, h)["key"]
    r = server.get(ME, headers={"Authorization": f"Bearer {k1}", "X-API-Key": k2})
    assert_error(r, 400, "invalid_request")
    at = h["Authorization"]
    r = server.get(ME, headers={"Authorization": at, "X-API-Key": k1})
    assert_error(r, 400, "invalid_request")
    r = server.get(VERIFY, headers={"Authorization": f"Bearer {k1}", "X-API-Key": k2})
    assert r.status_code in (400, 401) and r.status_code != 200, r.text


def test_two_x_api_key_headers_400(server):
    h = admin_h(server)
    k1, k2 = create(server, h)["key"], create(server, h)["key"]
    status, _ = raw_get(server, ME, [("X-API-Key", k1), ("X-API-Key", k2)])
    assert status == 400
    status, _ = raw_get(server, ME, [("X-API-Key", k1), ("X-API-Key", k1)])
    assert status == 400


def _malformed(key):
    body = key[3:]
    return [
        "sk_" + body,                      # wrong prefix
        "AK_" + body,
        "ak-" + body,
        body,                              # no prefix
        key[:-1],                          # 42 chars
        key + "A",                         # 44 chars
        key[:-1] + "-",                    # non-base62
        key[:-1] + "_",
        key[:-1] + "+",
        key[:-1] + "=",
        key[:20] + "%" + key[21:],
        key[:-1] + "\u00e9",               # non-ascii
        key.upper() if key.upper() != key else key.lower(),
        "ak_",
        "ak_" + "0" * 43,                  # well-formed, unknown
        key[:11] + "A" * 32,               # right prefix, wrong rest
        key + " extra",
    ]


def test_malformed_keys_401(server):
    u = member(server)
    key = create(server, u["h"])["key"]
    for bad in _malformed(key):
        for hdr in ({"X-API-Key": bad}, {"Authorization": f"Bearer {bad}"}):
            try:
                r = server.get(ME, headers={k: v.encode("utf-8") for k, v in hdr.items()})
            except Exception as exc:  # pragma: no cover - client refused to send it
                pytest.fail(f"could not send {bad!r}: {exc}")
            assert r.status_code in (400, 401), (bad, r.status_code, r.text)
            assert_error(r, r.status_code)
            if r.status_code == 401:
                assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", ""), bad
    # the real key still works after all of that
    assert server.get(ME, headers=xkey(key)).status_code == 200


def test_empty_x_api_key_401(server):
    r = server.get(ME, headers={"X-API-Key": ""})
    assert r.status_code in (400, 401), r.text
    assert_error(r, r.status_code)


# -- revocation --------------------------------------------------------------------------

def test_revoke_is_immediate_after_cached_use(server):
    u = member(server)
    k = create(server, u["h"])
    for _ in range(5):
        assert server.get(ME, headers=xkey(k["key"])).status_code == 200
        assert server.get(VERIFY, headers=bearer(k["key"])).status_code == 200
    r = server.request("DELETE", f"{KEYS}/{k['id']}", headers=u["h"])
    assert r.status_code == 204 and r.content == b""
    assert_invalid_token(server.get(ME, headers=xkey(k["key"])))
    assert_invalid_token(server.get(VERIFY, headers=bearer(k["key"])))
    assert_invalid_token(server.get(KEYS, headers=xkey(k["key"])))
    it = find(server, u["h"], k["id"])
    assert it["revoked"] is True


def test_replayed_revoked_key_stays_dead(server):
    u = member(server)
    k = create(server, u["h"])
    assert server.get(ME, headers=xkey(k["key"])).status_code == 200
    assert server.request("DELETE", f"{KEYS}/{k['id']}", headers=u["h"]).status_code == 204
    for i in range(10):
        hdr = xkey(k["key"]) if i % 2 else {"Authorization": f"bearer {k['key']}"}
        assert_invalid_token(server.get(ME, headers=hdr))
    # revoking twice is fine
    assert server.request("DELETE", f"{KEYS}/{k['id']}", headers=u["h"]).status_code == 204
    assert_invalid_token(server.get(ME, headers=xkey(k["key"])))
    mine = key_failures(server, k["id"])
    assert mine and all('"revoked"' in r["metadata"] for r in mine), mine


def test_revoke_all(server):
    u = member(server)
    ks = [create(server, u["h"]) for _ in range(3)]
    other = member(server)
    ko = create(server, other["h"])
    for k in ks:
        assert server.get(ME, headers=xkey(k["key"])).status_code == 200
    r = server.request("DELETE", KEYS, headers=u["h"])
    assert r.status_code == 204
    for k in ks:
        assert_invalid_token(server.get(ME, headers=xkey(k["key"])))
    items = list_keys(server, u["h"])["items"]
    assert len(items) == 3 and all(it["revoked"] is True for it in items)
    assert server.get(ME, headers=xkey(ko["key"])).status_code == 200
    # the caller's own JWT is unaffected
    assert server.get(ME, headers=u["h"]).status_code == 200


def test_delete_other_users_key_404(server):
    a, b = member(server), member(server)
    ka = create(server, a["h"])
    assert_error(server.request("DELETE", f"{KEYS}/{ka['id']}", headers=b["h"]), 404, "not_found")
    assert server.get(ME, headers=xkey(ka["key"])).status_code == 200
    # admin's JWT manages its own keys only, too
    assert_error(server.request("DELETE", f"{KEYS}/{ka['id']}", headers=admin_h(server)),
                 404, "not_found")
    assert server.get(ME, headers=xkey(ka["key"])).status_code == 200
    assert find(server, a["h"], ka["id"])["revoked"] is False


@pytest.mark.parametrize("key_id", [str(uuid.uuid4()), "not-a-uuid", "x" * 300,
                                    "..%2F..%2Fetc", "%00"])
def test_delete_unknown_id_404(server, key_id):
    u = member(server)
    k = create(server, u["h"])
    r = server.request("DELETE", f"{KEYS}/{key_id}", headers=u["h"])
    if key_id == "%00":  # the server refuses NUL in any path
        assert_error(r, 400, "invalid_request")
    else:
        assert_error(r, 404, "not_found")
    assert server.get(ME, headers=xkey(k["key"])).status_code == 200


def test_delete_by_prefix_or_key_404(server):
    u = member(server)
    k = create(server, u["h"])
    for ref in (k["prefix"], k["key"]):
        assert_error(server.request("DELETE", f"{KEYS}/{ref}", headers=u["h"]), 404, "not_found")
    assert server.get(ME, headers=xkey(k["key"])).status_code == 200


def test_cli_revoke_reaches_running_server(server):
    h = admin_h(server)
    k = create(server, h)
    assert server.get(ME, headers=xkey(k["key"])).status_code == 200
    r = run_cli(["apikey", "revoke", "--user", "admin", k["id"]], data_dir=server.data_dir)
    assert r.returncode == 0, r.stderr
    t0 = time.monotonic()
    dead = eventually(lambda: server.get(ME, headers=xkey(k["key"])).status_code == 401,
                      timeout=3)
    assert dead, "key still accepted 3 s after CLI revoke"
    assert time.monotonic() - t0 < 1.5
    assert_invalid_token(server.get(ME, headers=xkey(k["key"])))


def test_cli_revoke_all_reaches_running_server(make_server):
    s = make_server(FAST)
    h = admin_h(s)
    ks = [create(s, h)["key"] for _ in range(2)]
    for k in ks:
        assert s.get(ME, headers=xkey(k)).status_code == 200
    r = run_cli(["apikey", "revoke", "--user", "admin", "--all"], data_dir=s.data_dir)
    assert r.returncode == 0, r.stderr
    for k in ks:
        assert eventually(lambda: s.get(ME, headers=xkey(k)).status_code == 401, timeout=3)


def test_disabled_owner_key_fails(server):
    u = member(server)
    k = create(server, u["h"])
    assert server.get(ME, headers=xkey(k["key"])).status_code == 200
    r = run_cli(["user", "disable", u["username"]], data_dir=server.data_dir)
    assert r.returncode == 0, r.stderr
    assert eventually(lambda: server.get(ME, headers=xkey(k["key"])).status_code == 401,
                      timeout=3)
    assert_error(server.get(ME, headers=xkey(k["key"])), 401)
    assert server.get(VERIFY, headers=xkey(k["key"])).status_code == 401
    rows = key_failures(server, k["id"])
    assert any("owner_disabled" in r["metadata"] for r in rows), rows


def test_expired_key_401_token_expired(server):
    h = admin_h(server)
    k = create(server, h, expires_at=future(3))
    exp = parse_time(k["expires_at"]).timestamp()
    assert server.get(ME, headers=xkey(k["key"])).status_code == 200
    time.sleep(max(0.0, exp - time.time()) + 1.2)
    r = eventually(lambda: (lambda x: x if x.status_code == 401 else None)(
        server.get(ME, headers=xkey(k["key"]))), timeout=5)
    assert r is not None, "key still works after expires_at"
    assert_invalid_token(r, "token_expired")
    rows = key_failures(server, k["id"])
    assert any('"expired"' in x["metadata"] for x in rows), rows


# -- keys managing keys ------------------------------------------------------------------

def test_member_key_cannot_manage_keys(server):
    u = member(server)
    k = create(server, u["h"])
    for method, path, body in [("GET", KEYS, None), ("POST", KEYS, {"name": "x"}),
                               ("DELETE", KEYS, None), ("DELETE", f"{KEYS}/{k['id']}", None)]:
        r = server.request(method, path, json=body, headers=xkey(k["key"]))
        assert_error(r, 403, "forbidden")
    assert server.get(ME, headers=xkey(k["key"])).status_code == 200


def test_admin_unscoped_key_manages_keys(server):
    h = admin_h(server)
    parent = create(server, h)
    child = create(server, xkey(parent["key"]))
    assert child["scopes"] is None or "*:*" in child["scopes"]
    assert find(server, xkey(parent["key"]), child["id"]) is not None
    r = server.request("DELETE", f"{KEYS}/{child['id']}", headers=xkey(parent["key"]))
    assert r.status_code == 204
    assert_invalid_token(server.get(ME, headers=xkey(child["key"])))


def test_scoped_key_permissions_per_action(server):
    h = admin_h(server)
    reader = create(server, h, scopes=["apikey:read"])
    writer = create(server, h, scopes=["apikey:write", "file:read"])
    deleter = create(server, h, scopes=["apikey:delete"])
    assert server.get(KEYS, headers=xkey(reader["key"])).status_code == 200
    assert_error(server.post(KEYS, {"name": unique_name()}, headers=xkey(reader["key"])),
                 403, "forbidden")
    assert_error(server.request("DELETE", f"{KEYS}/{writer['id']}", headers=xkey(reader["key"])),
                 403, "forbidden")
    victim = create(server, xkey(writer["key"]))
    assert_error(server.get(KEYS, headers=xkey(writer["key"])), 403, "forbidden")
    r = server.request("DELETE", f"{KEYS}/{victim['id']}", headers=xkey(deleter["key"]))
    assert r.status_code == 204
    assert_invalid_token(server.get(ME, headers=xkey(victim["key"])))


def test_child_key_never_stronger_than_parent(server):
    h = admin_h(server)
    parent = create(server, h, scopes=["apikey:write", "file:read"], expires_at=future(3600))
    pk = xkey(parent["key"])
    child = create(server, pk)
    assert child["scopes"] is not None, "a scoped key minted an unscoped (owner-wide) key"
    assert set(child["scopes"]) <= {"apikey:write", "file:read"}
    assert child["expires_at"] is not None
    assert parse_time(child["expires_at"]) <= parse_time(parent["expires_at"])
    for scopes in (["file:write"], ["*:*"], ["apikey:read"], ["user:read", "file:read"]):
        r = server.post(KEYS, {"name": unique_name(), "scopes": scopes}, headers=pk)
        assert_error(r, 422, "invalid_scope")
    # asking for a longer life is refused or clamped, never granted
    r = server.post(KEYS, {"name": unique_name(), "expires_at": future(86400 * 365)}, headers=pk)
    if r.status_code == 201:
        assert parse_time(r.json()["expires_at"]) <= parse_time(parent["expires_at"])
    else:
        assert_error(r, 422)
    # and a child's effective permissions stay inside the parent's
    perms = server.get(ME, headers=xkey(child["key"])).json()["permissions"]
    assert set(perms) <= {"apikey:write", "file:read"}


def test_child_of_expiring_key_expires_with_it(server):
    h = admin_h(server)
    parent = create(server, h, scopes=["apikey:write", "file:read"], expires_at=future(3))
    child = create(server, xkey(parent["key"]))
    end = parse_time(parent["expires_at"]).timestamp()
    time.sleep(max(0.0, end - time.time()) + 1.2)
    assert eventually(lambda: server.get(ME, headers=xkey(child["key"])).status_code == 401,
                      timeout=5)


# -- IP binding -------------------------------------------------------------------------

def test_ip_not_allowed(server):
    h = admin_h(server)
    k = create(server, h, allowed_ips=["10.9.9.0/24"])
    r = server.get(ME, headers=xkey(k["key"]))
    assert_error(r, 401)
    assert server.get(VERIFY, headers=xkey(k["key"])).status_code == 401
    rows = key_failures(server, k["id"])
    assert any("ip_not_allowed" in x["metadata"] for x in rows), rows


@pytest.mark.parametrize("ips", [["127.0.0.1"], ["127.0.0.0/8"], ["10.0.0.0/8", "127.0.0.1/32"]])
def test_ip_allowed(server, ips):
    k = create(server, admin_h(server), allowed_ips=ips)
    assert server.get(ME, headers=xkey(k["key"])).status_code == 200


def test_forwarded_for_from_trusted_proxy(server):
    h = admin_h(server)
    k = create(server, h, allowed_ips=["203.0.113.7"])
    hk = xkey(k["key"])
    assert server.get(ME, headers={**hk, "X-Forwarded-For": "203.0.113.7"}).status_code == 200
    # a trusted hop to the right is skipped
    assert server.get(ME, headers={**hk, "X-Forwarded-For": "203.0.113.7, 127.0.0.1"}
                      ).status_code == 200
    # no XFF: the peer 127.0.0.1 is the client
    assert_error(server.get(ME, headers=hk), 401)
    # a client prepending a fake address: right-most untrusted is 198.51.100.1
    assert_error(server.get(ME, headers={**hk, "X-Forwarded-For": "203.0.113.7, 198.51.100.1"}),
                 401)
    assert_error(server.get(ME, headers={**hk, "X-Forwarded-For": "garbage, 198.51.100.1"}), 401)
    k2 = create(server, h, allowed_ips=["198.51.100.0/24"])
    assert server.get(ME, headers={**xkey(k2["key"]),
                                   "X-Forwarded-For": "203.0.113.7, 198.51.100.1"}
                      ).status_code == 200


def test_forwarded_for_two_headers_not_a_bypass(server):
    k = create(server, admin_h(server), allowed_ips=["203.0.113.7"])
    status, _ = raw_get(server, ME, [("X-API-Key", k["key"]),
                                     ("X-Forwarded-For", "203.0.113.7"),
                                     ("X-Forwarded-For", "198.51.100.1")])
    assert status != 200


@pytest.mark.parametrize("headers", [
    [("X-Forwarded-For", "9.9.9.9")],
    [("X-Forwarded-For", "9.9.9.9, junk")],
    [("X-Forwarded-For", "junk")],
    [("X-Forwarded-For", "unknown")],
    [("X-Forwarded-For", "9.9.9.9:80")],
    [("X-Forwarded-For", "[2001:db8::1]")],
    [("X-Forwarded-For", "[2001:db8::1]:443")],
    [("X-Forwarded-For", "9.9.9.9,")],
    [("X-Forwarded-For", "127.0.0.1:99999")],
    [("X-Forwarded-For", "[127.0.0.1]")],
    [("X-Forwarded-For", "fe80::1%eth0")],
    [("X-Forwarded-For", "")],
    [("X-Forwarded-For", "9.9.9.9"), ("X-Forwarded-For", "9.9.9.9")],
    [("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-For", "127.0.0.1")],
    [("X-Real-IP", "junk")],
    [("X-Real-IP", "9.9.9.9:80")],
    [("X-Real-IP", "")],
    [("X-Real-IP", "127.0.0.1"), ("X-Real-IP", "127.0.0.1")],
], ids=lambda h: " + ".join(f"{k}={v!r}" for k, v in h))
def test_unreadable_forwarded_client_is_not_the_proxy(server, headers):
    """A key bound to the proxy's own address (loopback) must not pass for a client the
    proxy forwards for but does not name readably: that client is unknown, not the peer."""
    k = create(server, admin_h(server), allowed_ips=["127.0.0.1/32"])
    assert server.get(ME, headers=xkey(k["key"])).status_code == 200
    status, body = raw_get(server, ME, [("X-API-Key", k["key"])] + headers)
    assert status == 401, (status, body)


def test_unknown_client_audited_as_unknown(server):
    k = create(server, admin_h(server), allowed_ips=["127.0.0.1/32"])
    assert_error(server.get(ME, headers={**xkey(k["key"]), "X-Forwarded-For": "junk"}), 401)
    rows = eventually(lambda: [r for r in server.query(
        "SELECT * FROM audit_events WHERE action = 'API_KEY_USE_FAILED' AND metadata LIKE ?",
        (f"%{k['id']}%",))], timeout=5)
    assert rows and rows[0]["ip_address"] == "unknown", rows
    assert "ip_not_allowed" in rows[0]["metadata"]


@pytest.mark.parametrize("xff,bound", [
    ("203.0.113.7:8080", "203.0.113.7"),
    ("198.51.100.1, 203.0.113.7:1234", "203.0.113.7"),
    ("198.51.100.1 ,\t 203.0.113.7", "203.0.113.7"),
    ("203.0.113.7:8080, 127.0.0.1:5000", "203.0.113.7"),
    ("2001:db8::1", "2001:db8::1"),
    ("[2001:db8::1]", "2001:db8::1"),
    ("[2001:db8::1]:443", "2001:db8::1"),
    ("2001:db8::1:443", "2001:db8::1:443"),
    ("[::ffff:203.0.113.7]:80", "203.0.113.7"),
])
def test_forwarded_for_with_port_or_brackets(server, xff, bound):
    k = create(server, admin_h(server), allowed_ips=[bound])
    assert server.get(ME, headers={**xkey(k["key"]), "X-Forwarded-For": xff}).status_code == 200
    assert_error(server.get(ME, headers=xkey(k["key"])), 401)


def test_forwarded_for_ignored_from_untrusted_peer(make_server):
    s = make_server({**FAST, "GATEHOUSE_SERVER_TRUSTED_PROXIES": "10.0.0.0/8"})
    h = admin_h(s)
    k = create(s, h, allowed_ips=["203.0.113.7"])
    assert_error(s.get(ME, headers={**xkey(k["key"]), "X-Forwarded-For": "203.0.113.7"}), 401)
    k2 = create(s, h, allowed_ips=["127.0.0.1"])
    assert s.get(ME, headers={**xkey(k2["key"]), "X-Forwarded-For": "203.0.113.7"}
                 ).status_code == 200


# -- last use ---------------------------------------------------------------------------

def test_last_used_appears(server):
    u = member(server)
    k = create(server, u["h"])
    t0 = time.time()
    assert server.get(ME, headers=xkey(k["key"])).status_code == 200
    it = eventually(lambda: (lambda x: x if x and x["last_used_at"] else None)(
        find(server, u["h"], k["id"])), timeout=8, interval=0.25)
    assert it, "last_used_at not set within 8 s"
    assert it["last_used_ip"] == "127.0.0.1"
    assert abs(parse_time(it["last_used_at"]).timestamp() - t0) < 10


def test_last_used_survives_graceful_stop(make_server):
    s = make_server(FAST)
    h = admin_h(s)
    k = create(s, h)
    assert s.get(ME, headers={**xkey(k["key"]), "X-Forwarded-For": "203.0.113.9"}
                 ).status_code == 200
    assert s.restart() == 0
    it = find(s, admin_h(s), k["id"])
    assert it["last_used_at"] is not None, it
    assert it["last_used_ip"] == "203.0.113.9"


# -- audit, storage -------------------------------------------------------------------------

def test_audit_create_and_revoke(server):
    u = member(server)
    k = create(server, u["h"])
    rows = wait_audit(server, "API_KEY_CREATE", user_id=u["id"])
    assert any(k["id"] in (r["metadata"] or "") for r in rows), rows
    server.request("DELETE", f"{KEYS}/{k['id']}", headers=u["h"])
    rows = wait_audit(server, "API_KEY_REVOKE", user_id=u["id"])
    assert any(k["id"] in (r["metadata"] or "") for r in rows), rows


def test_key_never_stored_or_logged(make_server):
    s = make_server(FAST)
    h = admin_h(s)
    k = create(s, h, scopes=["file:read"])
    s.get(ME, headers=xkey(k["key"]))
    s.get(ME, headers=bearer(k["key"]))
    s.get(VERIFY, headers=xkey(k["key"]))
    s.request("DELETE", f"{KEYS}/{k['id']}", headers=h)
    s.get(ME, headers=xkey(k["key"]))  # replay -> USE_FAILED
    r = run_cli(["apikey", "create", "--user", "admin", "--name", "cli"], data_dir=s.data_dir)
    cli_key = re.search(r"ak_[0-9A-Za-z]{43}", r.stdout).group(0)
    s.get(ME, headers=xkey(cli_key))
    s.stop_ok()
    secret_parts = [k["key"], k["key"][11:], k["key"][3:], cli_key, cli_key[11:]]
    blob = "\n".join(all_text_in_db(s))
    for p in secret_parts:
        assert p not in blob
    log = s.log_text()
    for p in secret_parts:
        assert p not in log
    rows = s.query("SELECT key_hash, prefix FROM api_keys")
    assert rows and all(isinstance(r["key_hash"], bytes) and len(r["key_hash"]) == 32
                        for r in rows)
    assert {k["prefix"], cli_key[:11]} <= {r["prefix"] for r in rows}


def test_pepper_file(make_server):
    s = make_server(FAST)
    create(s, admin_h(s))
    p = s.data_dir / "keys" / "api_key.pepper"
    assert p.exists()
    assert p.stat().st_size == 32
    assert stat.S_IMODE(p.stat().st_mode) == 0o600


def _start_with_open_pepper(make_server, mode):
    s = make_server(FAST)
    k = create(s, admin_h(s))["key"]
    s.stop()
    p = s.data_dir / "keys" / "api_key.pepper"
    os.chmod(p, mode)
    with pytest.raises(RuntimeError):
        s.start(timeout=10)
    rc = s.stop()
    assert rc not in (0, None), rc
    return s, p, k


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_group_readable_pepper_refused(make_server, mode):
    s, p, k = _start_with_open_pepper(make_server, mode)
    # once fixed the server starts and the old keys still work
    os.chmod(p, 0o600)
    s.start()
    assert s.get(ME, headers=xkey(k)).status_code == 200


def test_group_readable_pepper_message_names_file(make_server):
    s, p, _ = _start_with_open_pepper(make_server, 0o640)
    out = s.log_text()
    assert str(p) in out, out


def test_keys_survive_restart(make_server):
    s = make_server(FAST)
    h = admin_h(s)
    live, dead = create(s, h), create(s, h)
    s.request("DELETE", f"{KEYS}/{dead['id']}", headers=h)
    s.restart()
    assert s.get(ME, headers=xkey(live["key"])).status_code == 200
    assert_invalid_token(s.get(ME, headers=xkey(dead["key"])))


# -- CLI -------------------------------------------------------------------------------

def test_cli_create_list_revoke(server):
    name = unique_name("ci")
    r = run_cli(["apikey", "create", "--user", "admin", "--name", name, "--scope", "file:read",
                 "--expires", "30d", "--allow-ip", "127.0.0.0/8"], data_dir=server.data_dir)
    assert r.returncode == 0, r.stderr
    m = re.search(r"^key: (ak_[0-9A-Za-z]{43}) \(shown once\)$", r.stdout, re.M)
    assert m, r.stdout
    key = m.group(1)
    me = server.get(ME, headers=xkey(key))
    assert me.status_code == 200 and me.json()["username"] == "admin"
    assert me.json()["permissions"] == ["file:read"]
    it = [i for i in list_keys(server, admin_h(server), limit=1000)["items"] if i["name"] == name]
    assert len(it) == 1
    exp = parse_time(it[0]["expires_at"]).timestamp()
    assert abs(exp - (time.time() + 30 * 86400)) < 120
    r = run_cli(["apikey", "list", "--user", "admin"], data_dir=server.data_dir)
    assert r.returncode == 0 and name in r.stdout and key[:11] in r.stdout
    assert key not in r.stdout and key[11:] not in r.stdout
    r = run_cli(["apikey", "revoke", "--user", "admin", it[0]["id"]], data_dir=server.data_dir)
    assert r.returncode == 0, r.stderr
    assert eventually(lambda: server.get(ME, headers=xkey(key)).status_code == 401, timeout=3)


def test_cli_key_ip_bound(server):
    r = run_cli(["apikey", "create", "--user", "admin", "--name", unique_name(),
                 "--allow-ip", "10.9.9.0/24"], data_dir=server.data_dir)
    assert r.returncode == 0, r.stderr
    key = re.search(r"ak_[0-9A-Za-z]{43}", r.stdout).group(0)
    assert server.get(ME, headers=xkey(key)).status_code == 401


@pytest.mark.parametrize("args", [
    ["apikey"],
    ["apikey", "frob"],
    ["apikey", "create", "--user", "admin"],
    ["apikey", "create", "--name", "x"],
    ["apikey", "create", "--user", "admin", "--name"],
    ["apikey", "create", "--user", "admin", "--name", "x", "--bogus"],
    ["apikey", "create", "--user", "admin", "--name", "x", "--expires", "soon"],
    ["apikey", "list"],
    ["apikey", "revoke", "--user", "admin"],
    ["apikey", "revoke", "--user", "admin", "--all", str(uuid.uuid4())],
])
def test_cli_usage_errors_exit_2(server, args):
    r = run_cli(args, data_dir=server.data_dir)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "ak_" not in r.stdout


@pytest.mark.parametrize("args", [
    ["apikey", "create", "--user", "nobody-here", "--name", "x"],
    ["apikey", "create", "--user", "admin", "--name", "x", "--scope", "bogus"],
    ["apikey", "create", "--user", "admin", "--name", "x", "--allow-ip", "10.0.0.0/99"],
    ["apikey", "create", "--user", "admin", "--name", "x", "--expires", "2000-01-01T00:00:00Z"],
    ["apikey", "revoke", "--user", "admin", str(uuid.uuid4())],
])
def test_cli_refusals(server, args):
    r = run_cli(args, data_dir=server.data_dir)
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert not re.search(r"ak_[0-9A-Za-z]{43}", r.stdout)
    assert r.stderr.strip()

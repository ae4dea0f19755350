"""POST /api/v1/sql/validate: {sql} -> {allowed, reason}, against the real binary.

The labelled corpus (tests/unit/edge/sql_corpus.tsv) is checked in full by the unit test;
here every line also goes through HTTP, so the endpoint and the module agree.
"""
import pathlib

import pytest

from conftest import ADMIN_PASSWORD, assert_error, bearer

URL = "/api/v1/sql/validate"
CORPUS = pathlib.Path(__file__).resolve().parents[1] / "unit" / "edge" / "sql_corpus.tsv"


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            c = s[i + 1]
            out.append({"n": "\n", "t": "\t", "0": "\0"}.get(c, c))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def corpus():
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        label, sql = line.split("\t", 1)
        yield label, unescape(sql)


@pytest.fixture(scope="module")
def admin(server):
    return bearer(server.tokens("admin", ADMIN_PASSWORD)["access_token"])


def validate(server, headers, sql):
    return server.post(URL, {"sql": sql}, headers=headers)


def test_corpus_through_http(server, admin):
    wrong = []
    n = 0
    for label, sql in corpus():
        n += 1
        r = validate(server, admin, sql)
        if "\0" in sql:  # JSON strings with NUL are refused before the check
            assert_error(r, 400, codes={"invalid_json", "invalid_request"})
            continue
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"allowed", "reason"} and isinstance(body["reason"], str)
        if body["allowed"] != (label == "allow"):
            wrong.append((label, sql[:100], body["reason"]))
    assert n >= 200
    assert not wrong, wrong


def test_read_query_allowed_and_write_refused(server, admin):
    r = validate(server, admin, "SELECT id, name FROM users WHERE org_id = 7 LIMIT 10")
    assert r.status_code == 200 and r.json() == {"allowed": True, "reason": "read-only query"}
    r = validate(server, admin, "SELECT 1; DROP TABLE users")
    assert r.status_code == 200 and r.json()["allowed"] is False
    assert "statement" in r.json()["reason"]


def test_needs_authentication(server):
    r = server.post(URL, {"sql": "SELECT 1"})
    assert_error(r, 401, "unauthenticated")
    r = server.post(URL, {"sql": "SELECT 1"}, headers=bearer("x.y.z"))
    assert_error(r, 401, "invalid_token")


@pytest.mark.parametrize("body", [{}, {"sql": 1}, {"sql": None}, {"sql": ["SELECT 1"]},
                                  {"query": "SELECT 1"}])
def test_bad_bodies(server, admin, body):
    assert_error(server.post(URL, body, headers=admin), 400, "invalid_request")


@pytest.mark.parametrize("data", [b"{", b"[]", b'"SELECT 1"', b'{"sql":"a","sql":"b"}'])
def test_malformed_json(server, admin, data):
    r = server.post(URL, data=data, headers={**admin, "Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")


def test_length_limit(make_server):
    s = make_server({"GATEHOUSE_SERVER_MAX_BODY": "256KiB"})
    h = bearer(s.tokens("admin", ADMIN_PASSWORD)["access_token"])
    at_limit = "SELECT 1" + " " * (100 * 1024 - 8)
    r = validate(s, h, at_limit)
    assert r.status_code == 200 and r.json()["allowed"] is True, r.text[:200]
    r = validate(s, h, at_limit + " ")
    assert r.status_code == 200 and r.json()["allowed"] is False
    assert "100 KiB" in r.json()["reason"]


def test_default_body_limit_answers_413(server, admin):
    r = validate(server, admin, "SELECT 1" + " " * (70 * 1024))
    assert_error(r, 413, "payload_too_large")

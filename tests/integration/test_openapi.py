"""The OpenAPI document at /openapi.json (issue 17, item 5) held to the route table of
src/api/dispatch.c: a route without a documented operation, or an operation without a
route, fails here.  docs/openapi.json is the source; the binary serves it compiled in."""
import json
import re

import pytest

from conftest import REPO, Server
from rbac_support import ROUTE_RE, route_table

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def doc():
    s = Server()
    s.start()
    try:
        r = s.get("/openapi.json")
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("application/json")
        yield r.json()
    finally:
        s.cleanup()


def operations(doc):
    """{(METHOD, path with * for each {param})}"""
    out = set()
    for path, item in doc["paths"].items():
        for method in item:
            if method in METHODS:
                out.add((method.upper(), re.sub(r"\{[^}/]+\}", "*", path)))
    return out


def routes():
    """{(METHOD, path)} of the route table; HEAD comes with GET."""
    out = set()
    for method, path in route_table():
        for m in (["GET", "POST"] if method == "*" else [method]):
            out.add((m, path))
    return out


def route_flags():
    """{(method, path): the route's flags}"""
    text = (REPO / "src" / "api" / "dispatch.c").read_text()
    body = text[text.index("routes[] = {"):]
    out = {}
    for m in ROUTE_RE.finditer(body):
        flags = {f.strip() for f in m.group("flags").split("|")}
        for method in m.group("methods").split("|"):
            out[(method.strip()[3:].lower(), m.group("path"))] = flags
    return out


def test_served_document_is_the_source(doc):
    assert doc == json.loads((REPO / "docs" / "openapi.json").read_text())
    assert doc["openapi"].startswith("3.1")


def test_every_route_has_an_operation_and_every_operation_a_route(doc):
    ops, table = operations(doc), routes()
    assert sorted(table - ops) == [], "routes without a documented operation"
    assert sorted(ops - table) == [], "documented operations without a route"


def test_operations_say_how_they_are_called(doc):
    flags = route_flags()
    refs = doc["components"]["responses"]
    for path, item in doc["paths"].items():
        route = re.sub(r"\{[^}/]+\}", "*", path)
        for method, op in item.items():
            if method not in METHODS:
                continue
            f = flags.get((method, route), flags.get(("", route), set()))
            where = f"{method.upper()} {path}"
            assert op.get("operationId") and op.get("responses"), where
            codes = set(op["responses"])
            assert any(c[0] in "23" for c in codes), where  # a success or a redirect
            for c, resp in op["responses"].items():
                if "$ref" in resp:
                    assert resp["$ref"].split("/")[-1] in refs, (where, c)
            if "JSON_BODY" in f:
                assert "application/json" in op["requestBody"]["content"], where
                assert {"400", "415", "422"} <= codes, where
            if "AUTH" in f:
                assert op["security"], where
                assert {"401", "403"} <= codes, where
            params = re.findall(r"\{([^}/]+)\}", path)
            assert sorted(p["name"] for p in op.get("parameters", [])) == sorted(params), where


def test_docs_page_lists_every_operation_under_a_strict_csp():
    s = Server()
    s.start()
    try:
        doc = s.get("/openapi.json").json()
        r = s.get("/docs")
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        page = r.text
        assert "<script" not in page and "style=" not in page
        # every asset is Gatehouse's own: no other host anywhere in src/href
        for ref in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert ref.startswith(("/", "#")) and not ref.startswith("//"), ref
        assert s.get("/static/gatehouse.css").status_code == 200
        for path, item in doc["paths"].items():
            for method in item:
                assert f"<code>{method}</code></td><td><code>{path}</code>" in page, (method, path)
    finally:
        s.cleanup()

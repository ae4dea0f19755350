"""GET /metrics: Prometheus text (0.0.4), parsed strictly here, and who may read it."""
import math
import re

import pytest

from conftest import ADMIN_PASSWORD, assert_error, bearer

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse(text):
    """{family: {"type", "help", "samples": {(name, labels): value}}}; asserts the format."""
    assert text.endswith("\n")
    families, current = {}, None
    for line in text.splitlines():
        assert line, "blank line"
        if line.startswith("# HELP "):
            name, help_text = line[7:].split(" ", 1)
            assert NAME.match(name) and help_text
            assert name not in families, f"family {name} twice"
            families[name] = {"help": help_text, "type": None, "samples": {}}
            current = name
        elif line.startswith("# TYPE "):
            name, kind = line[7:].split(" ")
            assert name == current and families[name]["type"] is None, line
            assert kind in ("counter", "gauge", "histogram"), line
            families[name]["type"] = kind
        else:
            assert not line.startswith("#"), line
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
            assert m, line
            name, labels_text, value = m.group(1), m.group(3) or "", m.group(4)
            labels = tuple(LABEL.findall(labels_text))
            assert ",".join(f'{k}="{v}"' for k, v in labels) == labels_text, line
            family = name
            if families.get(current, {}).get("type") == "histogram":
                family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert family == current, f"{name} outside its family {current}"
            key = (name, labels)
            assert key not in families[current]["samples"], f"duplicate {line}"
            v = float(value)
            assert not math.isnan(v)
            families[current]["samples"][key] = v
    for name, f in families.items():
        assert f["type"], name
        if f["type"] == "counter":
            assert name.endswith("_total") and all(v >= 0 for v in f["samples"].values())
        if f["type"] == "histogram":
            check_histogram(name, f["samples"])
    return families


def check_histogram(name, samples):
    series = {}
    for (sample, labels), v in samples.items():
        rest = tuple(kv for kv in labels if kv[0] != "le")
        series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if sample.endswith("_bucket"):
            le = dict(labels)["le"]
            series[rest]["buckets"].append((math.inf if le == "+Inf" else float(le), v))
        elif sample.endswith("_sum"):
            series[rest]["sum"] = v
        else:
            series[rest]["count"] = v
    for rest, s in series.items():
        b = sorted(s["buckets"])
        assert b and b[-1][0] == math.inf, (name, rest)
        assert all(x[1] <= y[1] for x, y in zip(b, b[1:])), (name, rest, b)
        assert b[-1][1] == s["count"] and s["sum"] is not None and s["sum"] >= 0


def value(families, family, sample=None, **labels):
    want = tuple(sorted(labels.items()))
    for (name, lab), v in families[family]["samples"].items():
        if (sample or family) == name and tuple(sorted(lab)) == want:
            return v
    return 0.0


def test_format_and_counters(make_server):
    s = make_server()
    before = parse(s.get("/metrics").text)
    assert_error(s.post("/api/v1/auth/login", {"username": "admin", "password": "nope"}), 401)
    tok = s.tokens("admin", ADMIN_PASSWORD)
    s.post("/api/v1/auth/refresh", {"refresh_token": tok["refresh_token"]})
    s.post("/api/v1/auth/refresh", {"refresh_token": "not-a-token"})
    s.get("/api/v1/auth/verify", headers={"X-API-Key": "ak_" + "0" * 43})
    s.get("/nowhere")
    r = s.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    after = parse(r.text)
    for family in ("gatehouse_auth_attempts_total", "gatehouse_rate_limit_hits_total",
                   "gatehouse_token_refreshes_total", "gatehouse_api_key_usage_total",
                   "gatehouse_requests_total", "gatehouse_request_duration_seconds",
                   "gatehouse_pool_queue_depth", "gatehouse_cache_hit_ratio"):
        assert family in after, family
    def grew(family, by, **labels):
        assert value(after, family, **labels) - value(before, family, **labels) == by, (family, labels)
    grew("gatehouse_auth_attempts_total", 1, status="failure")
    grew("gatehouse_auth_attempts_total", 1, status="success")
    grew("gatehouse_token_refreshes_total", 1, status="success")
    grew("gatehouse_token_refreshes_total", 1, status="failure")
    grew("gatehouse_api_key_usage_total", 1, status="failure")
    grew("gatehouse_requests_total", 1, route="POST /api/v1/auth/login", status="401")
    grew("gatehouse_requests_total", 1, route="unmatched", status="404")
    assert value(after, "gatehouse_request_duration_seconds", "gatehouse_request_duration_seconds_count",
                 route="POST /api/v1/auth/login", status="200") >= 1
    ratio = value(after, "gatehouse_cache_hit_ratio", cache="token")
    assert 0.0 <= ratio <= 1.0


def test_backoff_counts_as_rate_limited(make_server):
    s = make_server({"GATEHOUSE_LOGIN_BACKOFF": "on"})
    s.post("/api/v1/auth/login", {"username": "x-user", "password": "a"})
    assert s.post("/api/v1/auth/login", {"username": "x-user", "password": "b"}).status_code == 429
    m = parse(s.get("/metrics").text)
    assert value(m, "gatehouse_auth_attempts_total", status="rate_limited") == 1
    assert value(m, "gatehouse_rate_limit_hits_total") == 1


def test_who_may_read(make_server):
    s = make_server({"GATEHOUSE_METRICS_ALLOW": "10.0.0.0/8"})
    assert_error(s.get("/metrics"), 403, "ip_not_allowed")
    admin = s.tokens("admin", ADMIN_PASSWORD)["access_token"]
    assert s.get("/metrics", headers=bearer(admin)).status_code == 200  # admin has *:*
    u = s.register()
    member = s.tokens(u["username"], u["password"])["access_token"]
    assert_error(s.get("/metrics", headers=bearer(member)), 403, "ip_not_allowed")
    assert_error(s.get("/metrics", headers=bearer("x.y.z")), 401, "invalid_token")
    # a client behind a trusted proxy is judged by its own address
    s2 = make_server({"GATEHOUSE_METRICS_ALLOW": "127.0.0.0/8"})
    assert_error(s2.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"}), 403,
                 "ip_not_allowed")
    assert s2.get("/metrics").status_code == 200


def test_bad_allowlist_refused(make_server):
    s = make_server({"GATEHOUSE_METRICS_ALLOW": "10.0.0.1/8"}, start=False)
    with pytest.raises(Exception):
        s.start(timeout=10)
    assert "metrics.allow" in s.stderr_text()

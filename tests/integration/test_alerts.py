"""Alerts: rules over audit events delivered to webhooks (Slack, Discord, generic JSON,
PagerDuty Events API v2).

A local webhook receiver (http.server on 127.0.0.1, a free port, in a thread) records
what Gatehouse posts; the tests check the payloads, the thresholds, the retries, that a
hanging webhook never slows a login, that a bad rule stops the start naming its line,
and that no webhook URL (a secret) reaches the logs."""
import http.server
import json
import re
import threading
import time
import uuid

import pytest

from conftest import ADMIN_PASSWORD, bearer, eventually, free_port, run_cli, unique_name
from test_metrics import parse as parse_metrics

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
KEYS = "/api/v1/api-keys"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
# A hanging webhook's call: Gatehouse gives up after HANG_TIMEOUT, the receiver answers
# after HANG. Whatever must not wait for it is held to well under HANG_TIMEOUT (WAITED), so
# a loaded machine's slowness is never mistaken for waiting on the webhook, nor the reverse.
HANG, HANG_TIMEOUT, WAITED = 300, "60s", 25  # alerts.timeout is at most 1m


class Receiver:
    """A webhook receiver. plan[path] is a list of statuses answered in turn (then 200);
    hang_paths answer only when released (or after HANG s)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []  # (path, status answered, headers, body as JSON)
        self.plan = {}
        self.hang_paths = set()
        self.release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                if self.path in receiver.hang_paths:
                    receiver.release.wait(HANG)
                with receiver.lock:
                    todo = receiver.plan.get(self.path, [])
                    status = todo.pop(0) if todo else 200
                    receiver.calls.append((self.path, status, dict(self.headers),
                                           json.loads(raw)))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def got(self, path, status=None):
        with self.lock:
            return [c for c in self.calls if c[0] == path and (status is None or c[1] == status)]

    def wait(self, path, count, timeout=20.0, status=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.got(path, status)) >= count:
                break
            time.sleep(0.05)
        return self.got(path, status)

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def secret_path(kind):
    """A path that stands for a webhook's secret token (it must never be logged)."""
    return f"/{kind}/T0/B0/sec{uuid.uuid4().hex}"


def alert_env(rules, hooks, **extra):
    env = dict(FAST)
    env["GATEHOUSE_ALERTS_RULES"] = "\n".join(rules)
    env["GATEHOUSE_ALERTS_WEBHOOKS"] = "\n".join(hooks)
    env.update(extra)
    return env


def fail_login(server, username):
    r = server.post("/api/v1/auth/login", {"username": username, "password": "wrong-Pw-1!"})
    assert r.status_code == 401, r.text
    return r


def admin_h(server):
    return bearer(server.tokens("admin", ADMIN_PASSWORD)["access_token"])


def metric(server, line_start):
    text = server.get("/metrics").text
    parse_metrics(text)  # the whole output stays strict Prometheus text
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{line_start} not in /metrics:\n{text}")


def assert_no_secret(server, *paths):
    logs = server.log_text()
    for p in paths:
        token = p.rsplit("/", 1)[-1]
        assert token not in logs, f"a webhook URL reached the logs: {p}"


# -- thresholds and formats -----------------------------------------------------------

def test_thresholds_and_each_format(make_server, receiver):
    slack, discord, js = secret_path("slack"), secret_path("discord"), secret_path("json")
    s = make_server(alert_env(
        ["brute_ip LOGIN_FAILED by ip >= 10 in 5m -> slack",
         "brute_user LOGIN_FAILED by user >= 5 in 5m -> discord",
         "keys API_KEY_CREATE,API_KEY_REVOKE >= 1 -> json"],
        [f"slack slack {receiver.url(slack)}",
         f"discord discord {receiver.url(discord)}",
         f"json json {receiver.url(js)}"]))

    # Five failures for one user name: one Discord alert (and 5 of 10 for the address).
    victim = unique_name("victim")
    for _ in range(5):
        fail_login(s, victim)
    calls = receiver.wait(discord, 1)
    assert len(calls) == 1
    _, _, headers, body = calls[0]
    assert headers["Content-Type"] == "application/json"
    assert set(body) == {"content", "allowed_mentions"}
    assert body["allowed_mentions"] == {"parse": []}
    assert "brute_user" in body["content"] and victim in body["content"]
    assert "5 events" in body["content"] and "within 5m" in body["content"]
    assert receiver.got(slack) == []

    # Five more from the same address, each for another name: one Slack alert at ten.
    for _ in range(5):
        fail_login(s, unique_name("other"))
    calls = receiver.wait(slack, 1)
    assert len(calls) == 1
    body = calls[0][3]
    assert set(body) == {"text"}
    assert "brute_ip" in body["text"] and "for ip 127.0.0.1" in body["text"]
    assert "10 events" in body["text"]

    # More failures within the window: quiet (the user's count restarts at zero too).
    for _ in range(4):
        fail_login(s, victim)
    fail_login(s, unique_name("other"))

    # An API key created and revoked: one JSON alert for each, with the event's fields.
    h = admin_h(s)
    r = s.post(KEYS, {"name": unique_name("k")}, headers=h)
    assert r.status_code == 201, r.text
    key_id = r.json()["id"]
    assert s.request("DELETE", f"{KEYS}/{key_id}", headers=h).status_code == 204
    calls = receiver.wait(js, 2)
    assert len(calls) == 2
    created, revoked = calls[0][3], calls[1][3]
    assert created["source"] == "gatehouse"
    assert created["rule"] == "keys" and created["webhook"] == "json"
    assert created["actions"] == ["API_KEY_CREATE", "API_KEY_REVOKE"]
    assert created["action"] == "API_KEY_CREATE" and revoked["action"] == "API_KEY_REVOKE"
    assert created["group"] is None
    assert created["count"] == 1 and created["threshold"] == 1
    assert created["window_seconds"] == 0
    for ev in (created["first"], created["last"]):
        assert ev["action"] == "API_KEY_CREATE"
        assert ev["user"] == "admin"
        assert ev["ip"] == "127.0.0.1"
        assert RFC3339.match(ev["time"]), ev
        assert abs(ev["ts"] - time.time()) < 120
        assert ev["status"] == 201
        assert set(ev) == {"time", "ts", "action", "user", "user_id", "ip", "org", "status"}
    assert isinstance(created["text"], str) and "keys" in created["text"]

    time.sleep(2)  # nothing else arrives late
    assert len(receiver.got(slack)) == 1
    assert len(receiver.got(discord)) == 1
    assert len(receiver.got(js)) == 2
    assert metric(s, 'gatehouse_alerts_fired_total{rule="brute_ip"}') == 1
    assert metric(s, 'gatehouse_alerts_fired_total{rule="brute_user"}') == 1
    assert metric(s, 'gatehouse_alerts_fired_total{rule="keys"}') == 2
    assert metric(s, 'gatehouse_alerts_sent_total{webhook="slack"}') == 1
    assert metric(s, 'gatehouse_alerts_sent_total{webhook="json"}') == 2
    assert metric(s, 'gatehouse_alerts_failed_total{webhook="discord"}') == 0
    assert metric(s, "gatehouse_alerts_dropped_total") == 0
    s.stop_ok()
    assert_no_secret(s, slack, discord, js)


def test_window_passes_then_fires_again(make_server, receiver):
    path = secret_path("json")
    s = make_server(alert_env(["w LOGIN_FAILED by user >= 2 in 2s -> j"],
                              [f"j json {receiver.url(path)}"]))
    name = unique_name("w")
    fail_login(s, name)
    fail_login(s, name)
    assert len(receiver.wait(path, 1)) == 1
    fail_login(s, name)
    fail_login(s, name)  # within the quiet window: not counted
    time.sleep(3.5)
    fail_login(s, name)
    fail_login(s, name)
    calls = receiver.wait(path, 2)
    assert len(calls) == 2
    assert calls[1][3]["count"] == 2 and calls[1][3]["group"] == {"by": "user", "value": name}


# -- delivery --------------------------------------------------------------------------

def test_retries_with_backoff_then_gives_up(make_server, receiver):
    flaky, dead = secret_path("flaky"), secret_path("dead")
    receiver.plan[flaky] = [500, 500]        # then 200
    receiver.plan[dead] = [500] * 10
    s = make_server(alert_env(
        ["keys API_KEY_CREATE >= 1 -> flaky,dead"],
        [f"flaky json {receiver.url(flaky)}", f"dead slack {receiver.url(dead)}"],
        GATEHOUSE_ALERTS_TRIES="3", GATEHOUSE_ALERTS_RETRY_BASE="1s"))
    start = time.monotonic()
    r = s.post(KEYS, {"name": unique_name("k")}, headers=admin_h(s))
    assert r.status_code == 201, r.text
    calls = receiver.wait(flaky, 3)
    assert [c[1] for c in calls] == [500, 500, 200]
    assert time.monotonic() - start >= 2.5  # waited 1 s, then 2 s
    assert calls[0][3] == calls[1][3] == calls[2][3]  # the same alert, delivered once
    calls = receiver.wait(dead, 3)
    assert [c[1] for c in calls] == [500, 500, 500]
    deadline = time.monotonic() + 15
    while metric(s, 'gatehouse_alerts_failed_total{webhook="dead"}') < 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(1.5)
    assert len(receiver.got(flaky)) == 3 and len(receiver.got(dead)) == 3
    assert metric(s, 'gatehouse_alerts_sent_total{webhook="flaky"}') == 1
    assert metric(s, 'gatehouse_alerts_failed_total{webhook="flaky"}') == 0
    assert metric(s, 'gatehouse_alerts_sent_total{webhook="dead"}') == 0
    logs = s.log_text()
    assert "webhook dead: not delivered after 3 tries (HTTP 500)" in logs
    assert_no_secret(s, flaky, dead)


def test_hanging_webhook_never_delays_logins(make_server, receiver):
    hang = secret_path("hang")
    receiver.hang_paths.add(hang)
    s = make_server(alert_env(
        ["every LOGIN_FAILED >= 1 -> hang", "ok LOGIN >= 1 -> hang"],
        [f"hang discord {receiver.url(hang)}"],
        GATEHOUSE_ALERTS_QUEUE="4", GATEHOUSE_ALERTS_TIMEOUT=HANG_TIMEOUT,
        GATEHOUSE_ALERTS_TRIES="1", GATEHOUSE_SERVER_SHUTDOWN_TIMEOUT="2s"))
    user = s.register()
    for i in range(20):
        t = time.monotonic()
        fail_login(s, user["username"])
        assert time.monotonic() - t < WAITED, "a login waited for the webhook"
    t = time.monotonic()
    s.login(user["username"], user["password"])
    assert time.monotonic() - t < WAITED
    # The queue (4) is full behind the hanging call: the rest is dropped, counted, logged
    # once. The alerts follow the audit records, which may be written after the answers:
    # poll.
    dropped = 'gatehouse_alerts_dropped_total'
    assert eventually(lambda: metric(s, dropped) >= 10), metric(s, dropped)
    assert eventually(lambda: "dropping alerts" in s.log_text())
    assert s.log_text().count("dropping alerts") == 1
    assert len(receiver.got(hang)) == 0  # the first call still hangs
    # Shutdown drains for at most the shutdown timeout, then stops.
    t = time.monotonic()
    assert s.stop(timeout=2 * WAITED) == 0
    assert time.monotonic() - t < WAITED
    assert "not delivered" in s.log_text()
    assert_no_secret(s, hang)


def test_hanging_webhook_never_delays_another(make_server, receiver):
    # Delivery is per destination: alerts for a live webhook arrive while another hangs.
    hang, live = secret_path("hang"), secret_path("json")
    receiver.hang_paths.add(hang)
    s = make_server(alert_env(
        ["every LOGIN_FAILED by user >= 1 -> hang,live"],
        [f"hang discord {receiver.url(hang)}", f"live json {receiver.url(live)}"],
        GATEHOUSE_ALERTS_TIMEOUT=HANG_TIMEOUT, GATEHOUSE_ALERTS_TRIES="1",
        GATEHOUSE_SERVER_SHUTDOWN_TIMEOUT="2s"))
    for _ in range(3):
        fail_login(s, s.register()["username"])  # one alert per user
    assert len(receiver.wait(live, 3, timeout=WAITED)) == 3
    assert len(receiver.got(hang)) == 0  # its first call still hangs
    # counted once Gatehouse has read the receiver's answer, just after the receiver's count
    sent = 'gatehouse_alerts_sent_total{webhook="live"}'
    assert eventually(lambda: metric(s, sent) == 3, timeout=WAITED), metric(s, sent)
    assert s.stop(timeout=2 * WAITED) == 0
    assert len(receiver.got(live)) == 3  # nothing more, nothing twice
    assert_no_secret(s, hang, live)


def test_queue_drains_on_shutdown(make_server, receiver):
    path = secret_path("json")
    s = make_server(alert_env(["keys API_KEY_CREATE >= 1 -> j"], [f"j json {receiver.url(path)}"]))
    h = admin_h(s)
    for _ in range(3):
        assert s.post(KEYS, {"name": unique_name("k")}, headers=h).status_code == 201
    s.stop_ok()
    assert len(receiver.got(path, 200)) == 3


def test_rate_limit_backend_down_is_alertable(make_server, receiver):
    """RATE_LIMIT_BACKEND_DOWN (written by the rate limiter) is an action like any other:
    the rule is accepted and the server starts."""
    path = secret_path("json")
    s = make_server(alert_env(["redis RATE_LIMIT_BACKEND_DOWN >= 1 in 10m -> j"],
                              [f"j json {receiver.url(path)}"]))
    assert metric(s, 'gatehouse_alerts_fired_total{rule="redis"}') == 0


# -- PagerDuty ---------------------------------------------------------------------------

PD_KEY = "R0utingKey" + uuid.uuid4().hex[:22]  # a secret like a webhook URL


def pagerduty_shape_errors(body):
    """What PagerDuty's Events API v2 would refuse in body (its documented rules)."""
    errors = []
    if set(body) - {"routing_key", "event_action", "dedup_key", "payload", "images", "links",
                    "client", "client_url"}:
        errors.append(f"unknown keys {set(body)}")
    if not isinstance(body.get("routing_key"), str) or not body["routing_key"]:
        errors.append("routing_key")
    if body.get("event_action") not in ("trigger", "acknowledge", "resolve"):
        errors.append("event_action")
    dedup = body.get("dedup_key")
    if not isinstance(dedup, str) or not 0 < len(dedup) <= 255:
        errors.append("dedup_key")
    p = body.get("payload")
    if not isinstance(p, dict):
        return errors + ["payload"]
    if not isinstance(p.get("summary"), str) or not 0 < len(p["summary"]) <= 1024:
        errors.append("payload.summary")
    if not isinstance(p.get("source"), str) or not p["source"]:
        errors.append("payload.source")
    if p.get("severity") not in ("critical", "error", "warning", "info"):
        errors.append("payload.severity")
    if "timestamp" in p and not RFC3339.match(p["timestamp"]):
        errors.append("payload.timestamp")
    for k in ("component", "group", "class"):
        if k in p and not isinstance(p[k], str):
            errors.append(f"payload.{k}")
    if "custom_details" in p and not isinstance(p["custom_details"], dict):
        errors.append("payload.custom_details")
    return errors


def test_pagerduty_payload_dedup_and_severity(make_server, receiver):
    pd = secret_path("v2/enqueue")
    s = make_server(alert_env(
        ["brute LOGIN_FAILED by user >= 3 in 5m severity critical -> pd",
         "keys API_KEY_CREATE >= 1 -> pd"],
        [f"pd pagerduty {receiver.url(pd)} {PD_KEY}"]))
    victims = [unique_name("pdv"), unique_name("pdv")]
    for v in victims:
        for _ in range(3):
            fail_login(s, v)
    assert s.post(KEYS, {"name": unique_name("k")}, headers=admin_h(s)).status_code == 201
    calls = receiver.wait(pd, 3)
    assert len(calls) == 3
    for _, _, headers, body in calls:
        assert headers["Content-Type"] == "application/json"
        assert pagerduty_shape_errors(body) == [], body
        assert body["routing_key"] == PD_KEY and body["event_action"] == "trigger"
    brute = sorted((c[3] for c in calls if c[3]["payload"]["class"] == "LOGIN_FAILED"),
                   key=lambda b: b["dedup_key"])
    # One incident per rule and group: each user its own dedup key, stable across repeats.
    assert [b["dedup_key"] for b in brute] == sorted(f"gatehouse/brute/user/{v}" for v in victims)
    for b in brute:
        p = b["payload"]
        assert p["severity"] == "critical"
        assert "brute: 3 events for user" in p["summary"]
        assert p["custom_details"]["rule"] == "brute" and p["custom_details"]["count"] == 3
        assert abs(time.time() - time.mktime(time.strptime(p["timestamp"],
                                                           "%Y-%m-%dT%H:%M:%SZ"))) < 86400
    keys = [c[3] for c in calls if c[3]["payload"]["class"] == "API_KEY_CREATE"][0]
    assert keys["dedup_key"] == "gatehouse/keys"
    assert keys["payload"]["severity"] == "warning"  # the default
    s.stop_ok()
    assert_no_secret(s, pd)
    assert PD_KEY not in s.log_text()


def test_pagerduty_429_and_500_retried_without_blocking(make_server, receiver):
    pd = secret_path("v2/enqueue")
    receiver.plan[pd] = [429, 500]  # then 200 (PagerDuty answers 202)
    s = make_server(alert_env(
        ["every LOGIN_FAILED >= 1 -> pd"],
        [f"pd pagerduty {receiver.url(pd)} {PD_KEY}"],
        GATEHOUSE_ALERTS_TRIES="4", GATEHOUSE_ALERTS_RETRY_BASE="1s"))
    start = time.monotonic()
    fail_login(s, unique_name("pd"))
    assert time.monotonic() - start < 5, "a login waited for PagerDuty"
    calls = receiver.wait(pd, 3)
    assert [c[1] for c in calls] == [429, 500, 200]
    assert time.monotonic() - start >= 2.5  # backoff: 1 s, then 2 s
    assert calls[0][3] == calls[1][3] == calls[2][3]  # the same event and dedup key
    assert pagerduty_shape_errors(calls[0][3]) == []
    assert metric(s, 'gatehouse_alerts_sent_total{webhook="pd"}') == 1
    s.stop_ok()
    assert_no_secret(s, pd)


def test_pagerduty_bad_routing_key_refused(tmp_path):
    for key in ["", "bad/key", "k" * 65, "R0utingKey secret"]:
        out = serve_fails(tmp_path, {
            "GATEHOUSE_ALERTS_WEBHOOKS": f"pd pagerduty https://events.example.com/v2/enqueue {key}",
            "GATEHOUSE_ALERTS_RULES": "x LOGIN >= 1 -> pd"})
        assert 'webhook 1 ("pd")' in out, out
        assert "events.example.com" not in out
        if key:
            assert key.split()[0] not in out, out
    out = serve_fails(tmp_path, {
        "GATEHOUSE_ALERTS_WEBHOOKS": f"pd pagerduty https://e.example.com/v2/enqueue {PD_KEY}",
        "GATEHOUSE_ALERTS_RULES": "x LOGIN >= 1 severity high -> pd"})
    assert "expected critical, error, warning or info" in out, out


# -- configuration ---------------------------------------------------------------------

def serve_fails(tmp_path, env):
    e = dict(FAST)
    e.update(env)
    r = run_cli(["serve", "--listen", f"127.0.0.1:{free_port()}"], data_dir=tmp_path / "d",
                env=e, timeout=30)
    assert r.returncode != 0
    return r.stderr + r.stdout


def test_bad_rule_refuses_to_start(tmp_path):
    hook = "ops slack https://hooks.example.com/services/T0/B0/XSECRETX"
    out = serve_fails(tmp_path, {
        "GATEHOUSE_ALERTS_WEBHOOKS": hook,
        "GATEHOUSE_ALERTS_RULES": "good LOGIN_FAILED by ip >= 10 in 5m -> ops\n"
                                  "# a comment\n"
                                  "bad LOGIN_FAILED by ip >= 10 within 5m -> ops"})
    assert 'alerts.rules: rule 2 ("bad LOGIN_FAILED by ip >= 10 within 5m -> ops")' in out, out
    assert "XSECRETX" not in out
    for rule, why in [("x LOGIN_FAILED >= 5 -> ops", "needs a window"),
                      ("x LOGIN_FAILED by ip >= 5 in 5m -> pager", "not one of alerts.webhooks"),
                      ("x login_failed >= 1 -> ops", "expected ACTIONS"),
                      ("x LOGIN_FAILED by ip >= 5 in 9d -> ops", "expected a WINDOW")]:
        out = serve_fails(tmp_path, {"GATEHOUSE_ALERTS_WEBHOOKS": hook,
                                     "GATEHOUSE_ALERTS_RULES": rule})
        assert f'alerts.rules: rule 1 ("{rule}"): ' in out and why in out, out
        assert "XSECRETX" not in out


def test_bad_webhook_never_shows_its_url(tmp_path):
    for hooks in ["ops teams https://hooks.example.com/services/T0/B0/XSECRETX",
                  "ops slack ftp://hooks.example.com/services/T0/B0/XSECRETX",
                  "https://hooks.example.com/services/T0/B0/XSECRETX slack ops",
                  "ops slack https://hooks.example.com/services/T0/B0/XSECRETX\x01"]:
        out = serve_fails(tmp_path, {"GATEHOUSE_ALERTS_WEBHOOKS": hooks,
                                     "GATEHOUSE_ALERTS_RULES": "x LOGIN >= 1 -> ops"})
        assert "alerts.webhooks" in out or "GATEHOUSE_ALERTS_WEBHOOKS" in out, out
        assert "XSECRETX" not in out and "hooks.example.com" not in out, out


def test_yaml_lists(make_server, receiver, tmp_path):
    path = secret_path("json")
    cfg = tmp_path / "gatehouse.yaml"
    cfg.write_text("alerts:\n"
                   "  rules:\n"
                   "    - \"keys API_KEY_CREATE >= 1 -> j\"\n"
                   "  webhooks:\n"
                   f"    - \"j json {receiver.url(path)}\"\n"
                   "  tries: 2\n")
    s = make_server(dict(FAST), config=cfg)
    assert s.post(KEYS, {"name": unique_name("k")}, headers=admin_h(s)).status_code == 201
    assert len(receiver.wait(path, 1)) == 1
    assert_no_secret(s, path)

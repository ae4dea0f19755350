"""Exponential backoff after failed logins (login.backoff), against the real binary.

Each failure makes the account name (as typed, case-folded) and the client address wait
1 s, 2 s, 4 s ... up to login.backoff_max; a waiting login gets 429 rate_limited with
Retry-After at once, whether or not the account exists.
"""
import json
import time

import pytest

from conftest import ADMIN_PASSWORD, assert_error, unique_name, wait_audit

LOGIN = "/api/v1/auth/login"
ON = {"GATEHOUSE_LOGIN_BACKOFF": "on", "GATEHOUSE_LOGIN_BACKOFF_BASE": "1s"}
# For the tests that check who waits, not how long: a first wait no loaded machine outlasts
# between two requests (a 1 s one can pass before the second login arrives, and a login
# that should wait is then answered 401).
LONG = {"GATEHOUSE_LOGIN_BACKOFF": "on", "GATEHOUSE_LOGIN_BACKOFF_BASE": "5m"}


def login(s, username, password, **headers):
    return s.post(LOGIN, {"username": username, "password": password}, headers=headers)


def wait_out(r):
    time.sleep(int(r.headers["Retry-After"]) + 0.2)


@pytest.fixture
def srv(make_server):
    return make_server(ON)


@pytest.fixture
def held(make_server):
    return make_server(LONG)


def test_failures_double_the_wait_and_429_is_immediate(srv):
    u = srv.register()
    xff = {"X-Forwarded-For": "203.0.113.10"}
    assert_error(login(srv, u["username"], "wrong-password-1", **xff), 401, "invalid_credentials")
    t = time.monotonic()
    r = login(srv, u["username"], u["password"], **xff)  # even the right password waits
    assert time.monotonic() - t < 0.9  # answered, not held for the 1 s wait
    assert_error(r, 429, "rate_limited")
    assert r.headers["Retry-After"] == "1"
    # the backoff's 429 is audited like the request limiter's
    rows = wait_audit(srv, "RATE_LIMITED", username=u["username"], ip_address="203.0.113.10")
    assert rows and rows[-1]["status"] == 429
    assert json.loads(rows[-1]["metadata"]) == {"limit": "login_backoff", "retry_after": 1}
    wait_out(r)
    assert_error(login(srv, u["username"], "wrong-password-2", **xff), 401)
    r = login(srv, u["username"], "wrong-password-3", **xff)
    assert_error(r, 429, "rate_limited")
    assert r.headers["Retry-After"] == "2"


def test_success_resets_the_account(srv):
    u = srv.register()
    xff = {"X-Forwarded-For": "203.0.113.11"}
    assert_error(login(srv, u["username"], "nope-nope-1", **xff), 401)
    wait_out(login(srv, u["username"], "x", **xff))
    assert login(srv, u["username"], u["password"], **xff).status_code == 200
    # from another address the account starts again at the first wait
    other = {"X-Forwarded-For": "203.0.113.12"}
    assert_error(login(srv, u["username"], "nope-nope-2", **other), 401)
    r = login(srv, u["username"], "x", **other)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"


def test_unknown_and_existing_accounts_alike(held):
    u = held.register()
    answers = []
    for i, name in enumerate([u["username"], unique_name("ghost")]):
        xff = {"X-Forwarded-For": f"203.0.113.{20 + i}"}
        first = login(held, name, "wrong-password", **xff)
        second = login(held, name, "wrong-password", **xff)
        answers.append((first.status_code, first.json()["error"]["code"], second.status_code,
                        second.json()["error"]["code"], second.headers.get("Retry-After")))
    assert answers[0] == answers[1] == (401, "invalid_credentials", 429, "rate_limited", "300")


def test_account_name_is_case_folded(held):
    u = held.register()
    assert_error(login(held, u["username"], "bad-1", **{"X-Forwarded-For": "203.0.113.30"}), 401)
    r = login(held, u["username"].upper(), "bad-2", **{"X-Forwarded-For": "203.0.113.31"})
    assert_error(r, 429, "rate_limited")


def test_one_address_guessing_many_accounts_waits(held):
    xff = {"X-Forwarded-For": "203.0.113.40"}
    assert_error(login(held, unique_name("a"), "guess-1", **xff), 401)
    assert_error(login(held, unique_name("b"), "guess-2", **xff), 429, "rate_limited")
    # another client is not held back by that address
    assert_error(login(held, unique_name("c"), "guess-3", **{"X-Forwarded-For": "203.0.113.41"}),
                 401)


def test_spoofed_forwarded_for_from_untrusted_peer_is_ignored(make_server):
    s = make_server({**LONG, "GATEHOUSE_SERVER_TRUSTED_PROXIES": "10.9.9.9/32"})
    assert_error(login(s, unique_name("a"), "guess-1", **{"X-Forwarded-For": "198.51.100.1"}), 401)
    # a new X-Forwarded-For does not make a new client: the peer is what counts
    r = login(s, unique_name("b"), "guess-2", **{"X-Forwarded-For": "198.51.100.2"})
    assert_error(r, 429, "rate_limited")


def test_off_switch(make_server):
    s = make_server({"GATEHOUSE_LOGIN_BACKOFF": "off"})
    for i in range(3):
        assert_error(login(s, "admin", f"wrong-{i}"), 401, "invalid_credentials")
    assert login(s, "admin", ADMIN_PASSWORD).status_code == 200

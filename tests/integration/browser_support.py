"""Helpers of the browser-half tests: cookie logins, CSRF headers, TOTP codes."""
import hashlib
import time

import pyotp
import requests

from conftest import TIMEOUT

LOGIN = "/api/v1/auth/login"


def set_cookies(r):
    """The Set-Cookie headers of r, by cookie name: {name: "name=value; attrs"}."""
    out = {}
    for line in r.raw.headers.getlist("Set-Cookie"):
        out[line.split("=", 1)[0]] = line
    return out


def attrs(line):
    """The attributes of one Set-Cookie line, lower-cased names: {"path": "/", ...}."""
    parts = [p.strip() for p in line.split(";")[1:]]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else True) for p in parts}


class Browser:
    """A requests.Session that signs in with ?mode=cookie and sends the CSRF header and the
    Origin a browser would."""

    def __init__(self, server):
        self.server = server
        self.s = requests.Session()
        self.origin = server.base

    def login(self, username, password, expect=200):
        r = self.s.post(self.server.url(LOGIN), params={"mode": "cookie"},
                        json={"username": username, "password": password}, timeout=TIMEOUT)
        assert r.status_code == expect, (r.status_code, r.text)
        return r

    @property
    def sid(self):
        return self.s.cookies.get("gh_sid")

    @property
    def csrf(self):
        return self.s.cookies.get("gh_csrf")

    def headers(self, csrf=True, origin=True):
        h = {}
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        if origin:
            h["Origin"] = self.origin
        return h

    def get(self, path, **kw):
        return self.s.get(self.server.url(path), timeout=TIMEOUT, **kw)

    def send(self, method, path, json_body=None, csrf=True, origin=True, headers=None, **kw):
        h = self.headers(csrf, origin)
        h.update(headers or {})
        return self.s.request(method, self.server.url(path), json=json_body, headers=h,
                              timeout=TIMEOUT, **kw)


def sid_hash(sid):
    return hashlib.sha256(sid.encode()).digest()


def totp_now(secret, offset=0):
    """The TOTP code of the step offset steps from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * offset)


def wait_next_step():
    """Sleeps into the next 30-second step (so that a new code differs from the last)."""
    time.sleep(30 - time.time() % 30 + 0.2)

"""The server's own log never holds a credential: access and refresh tokens, API keys,
passwords, cookie values, or the value of token= in any URI, wherever the client put it."""
import http.client
import re

import pytest

from conftest import ADMIN_PASSWORD, bearer, run_cli, unique_name

ME = "/api/v1/auth/me"
VERIFY = "/api/v1/auth/verify"
KEYS = "/api/v1/api-keys"
RULES = "GET /public/** public; GET,HEAD /media/** authenticated media"
ENV = {"GATEHOUSE_AUTH_ALGORITHM": "ES256", "GATEHOUSE_FORWARD_AUTH_RULES": RULES}


def raw(s, method, target, headers=(), body=None):
    """A request with the target sent exactly as given (no client-side re-encoding)."""
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=15)
    try:
        c.putrequest(method, target, skip_accept_encoding=True)
        for k, v in headers:
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Type", "application/json")
            c.putheader("Content-Length", str(len(body)))
        c.endheaders()
        if body is not None:
            c.send(body)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def secrets_of(s):
    """Create a user with every kind of credential; returns dict name -> secret."""
    pw = f"Pw-{unique_name('s')}-Zz9!"
    u = s.register(password=pw)
    t = s.tokens(u["username"], pw)
    h = bearer(t["access_token"])
    k = s.post(KEYS, {"name": unique_name("k")}, headers=h).json()["key"]
    c = s.post("/api/v1/auth/login?mode=cookie", {"username": u["username"], "password": pw})
    assert c.status_code == 200, c.text
    cookies = {ck.name: ck.value for ck in c.cookies}
    return {"user": u, "password": pw, "access": t["access_token"], "refresh": t["refresh_token"],
            "key": k, "cookies": cookies, "cookie_access": c.json().get("access_token")}


def assert_clean(s, secrets, extra=()):
    s.stop_ok()
    log = s.log_text()
    assert log.strip(), "no log at all"
    vals = [secrets["password"], secrets["access"], secrets["refresh"], secrets["key"],
            secrets["key"][11:], ADMIN_PASSWORD] + list(extra)
    vals += [v for v in secrets["cookies"].values() if len(v) >= 16]
    if secrets.get("cookie_access"):
        vals.append(secrets["cookie_access"])
    # any tail of a JWT (signature) is a credential too
    vals += [secrets["access"].rsplit(".", 1)[1]]
    for v in vals:
        assert v not in log, f"secret {v[:12]}... found in the log"
    return log


def test_headers_and_bodies(make_server):
    s = make_server(ENV)
    sec = secrets_of(s)
    at, rt, key, pw = sec["access"], sec["refresh"], sec["key"], sec["password"]
    s.get(ME, headers=bearer(at))
    s.get(ME, headers={"Authorization": f"bearer {at}"})
    s.get(ME, headers={"X-API-Key": key})
    s.get(ME, headers=bearer(key))
    s.get(ME, headers={"Authorization": f"Bearer {at}", "X-API-Key": key})  # 400
    s.get(ME, headers={"Authorization": f"Basic {at}"})
    s.get(ME, headers={"Authorization": at})
    s.get(ME, headers={"X-API-Key": key + "x"})
    s.get(VERIFY, headers={"X-API-Key": key})
    s.get(VERIFY, headers=bearer(at + "tampered"))
    cookie = "; ".join(f"{k}={v}" for k, v in sec["cookies"].items())
    s.get(ME, headers={"Cookie": cookie})
    s.get(ME, headers={"Cookie": "gh_sid=SessionSecretValue0123456789abcdef"})
    s.post("/api/v1/auth/refresh", headers={"Cookie": cookie})
    s.post("/api/v1/auth/login", {"username": sec["user"]["username"], "password": pw + "x"})
    s.post("/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})
    s.post("/api/v1/auth/login", data=b'{"username":"admin","password":"' + pw.encode() + b'"',
           headers={"Content-Type": "application/json"})  # malformed JSON
    s.post("/api/v1/auth/refresh", {"refresh_token": rt})
    s.post("/api/v1/auth/refresh", {"refresh_token": rt})  # reuse
    s.post("/api/v1/auth/logout", {"refresh_token": rt})
    s.post("/api/v1/auth/change-password", {"current_password": pw, "new_password": pw + "Q1!"},
           headers=bearer(at))
    assert_clean(s, sec, extra=["SessionSecretValue0123456789abcdef", pw + "Q1!"])


def test_query_strings_redacted(make_server):
    s = make_server(ENV)
    sec = secrets_of(s)
    at, rt, key, pw = sec["access"], sec["refresh"], sec["key"], sec["password"]
    targets = [
        f"{ME}?token={at}&access_token={at}",
        f"{ME}?refresh_token={rt}",
        f"{ME}?api_key={key}",
        f"{ME}?key={key}",
        f"{ME}?password={pw}",
        f"{ME}?id_token={at}",
        f"{ME}?x=1&TOKEN={at}&y=2",
        f"{ME}?x=1;token={at}",
        f"{ME}?a=b?token={at}",
        f"{ME}?token={at}&token={at}",
        f"{VERIFY}?token={at}",
        f"/api/v1/nowhere?token={at}",            # 404
        f"/healthz?token={at}",
        f"/api/v1/auth/login?token={at}",          # 405 for GET
    ]
    for t in targets:
        raw(s, "GET", t)
    raw(s, "HEAD", f"{ME}?token={at}")
    raw(s, "POST", f"/api/v1/auth/login?password={pw}",
        body=b'{"username":"nobody","password":"x"}')
    log = assert_clean(s, sec)
    assert "token=***REDACTED***" in log
    assert log.count("***REDACTED***") >= len(targets)


def test_forwarded_uris(make_server):
    s = make_server(ENV)
    sec = secrets_of(s)
    at, key = sec["access"], sec["key"]
    for hdr in ("X-Forwarded-Uri", "X-Original-URI"):
        for uri in (f"/media/a.jpg?token={at}", f"/media/a.jpg?w=1&token={at}&h=2",
                    f"/media/a.jpg?token={key}", f"/public/x?token={at}",
                    f"/files/x?access_token={at}", f"/media/a.jpg?token={at}&token={at}",
                    f"/media/a%2Fb.jpg?token={at}", f"/media/../x?token={at}"):
            s.get(VERIFY, headers={hdr: uri, "X-Forwarded-Method": "GET",
                                   "X-Original-Method": "GET"})
    s.get(VERIFY, headers={"X-Forwarded-Uri": f"/media/a.jpg?token={at}",
                           "Authorization": f"Bearer {at}"})
    assert_clean(s, sec)


def test_cli_output_and_server_log(make_server):
    s = make_server(ENV)
    sec = secrets_of(s)
    r = run_cli(["apikey", "create", "--user", "admin", "--name", "cli"], data_dir=s.data_dir)
    key = re.search(r"ak_[0-9A-Za-z]{43}", r.stdout).group(0)
    assert key not in r.stderr
    s.get(ME, headers={"X-API-Key": key})
    raw(s, "GET", f"{ME}?api_key={key}")
    assert_clean(s, sec, extra=[key, key[11:]])


@pytest.mark.parametrize("param", ["apikey", "x-api-key", "jwt", "access-token", "auth"])
def test_credentials_under_other_param_names(make_server, param):
    s = make_server(ENV)
    sec = secrets_of(s)
    raw(s, "GET", f"{ME}?{param}={sec['key']}")
    raw(s, "GET", f"{ME}?{param}={sec['access']}")
    assert_clean(s, sec)


def test_token_after_empty_parameter_name(make_server):
    s = make_server(ENV)
    sec = secrets_of(s)
    raw(s, "GET", f"{ME}?=token={sec['access']}")
    raw(s, "GET", f"{VERIFY}?x=1&=token={sec['access']}")
    log = assert_clean(s, sec)
    assert "?=***REDACTED***" in log


@pytest.mark.parametrize("name", ["%74oken", "%54OKEN", "access%5Ftoken", "api%5fkey",
                                  "passwor%64"])
def test_percent_encoded_parameter_names_redacted(make_server, name):
    s = make_server(ENV)
    sec = secrets_of(s)
    val = sec["password"] if name.startswith("passwor") else (
        sec["key"] if "key" in name else sec["access"])
    raw(s, "GET", f"{ME}?{name}={val}")
    assert_clean(s, sec)

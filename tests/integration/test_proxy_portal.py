"""The sign-in portal behind real proxies: nginx (auth_request, error_page) and Caddy
(forward_auth) run the shipped examples/nginx/portal.conf and examples/caddy/
Caddyfile.portal, with Gatehouse on auth.example.test and an app on app.example.test and
app2.example.test. An anonymous browser is sent to the login page, signs in, comes back
to the page it asked for, and reaches the sibling app without signing in again; API
clients keep their 401. Traefik is not in Debian: its examples/traefik/portal.yml is read
and its forwardAuth requests are sent to Gatehouse as Traefik would send them."""
import http.client
import re
import urllib.parse

import pytest

from conftest import Server, free_port
from proxies import PORTAL_DOMAIN, EchoUpstream, Proxy, which

HTML = "text/html,application/xhtml+xml"


class Browser:
    """Just enough of a browser over http.client: a Host per request, cookies by domain
    and path, no redirect followed on its own."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}  # name -> (value, domain, path)

    def cookie_header(self, host, path):
        out = []
        for name, (value, domain, cpath) in self.cookies.items():
            if (host == domain or host.endswith("." + domain)) and path.startswith(cpath):
                out.append(f"{name}={value}")
        return "; ".join(out)

    def request(self, method, url, body=None, headers=None):
        u = urllib.parse.urlsplit(url)
        host = u.hostname
        path = u.path + (("?" + u.query) if u.query else "")
        h = {"Host": u.netloc, "Accept": HTML}
        h.update(headers or {})
        c = self.cookie_header(host, u.path)
        if c:
            h["Cookie"] = c
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            r.text = r.read().decode(errors="replace")
        finally:
            conn.close()
        for line in r.headers.get_all("Set-Cookie") or []:
            name, rest = line.split("=", 1)
            value = rest.split(";", 1)[0]
            attrs = dict(a.strip().lower().split("=", 1) for a in rest.split(";")[1:] if "=" in a)
            domain = attrs.get("domain", host)
            if attrs.get("max-age") == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = (value, domain, attrs.get("path", "/"))
        return r


@pytest.fixture(params=["nginx", "caddy"])
def portal(request):
    kind = request.param
    if not which(kind):
        pytest.skip(f"{kind} is not installed")
    port = free_port()
    auth = f"http://auth.{PORTAL_DOMAIN}:{port}"
    gh = Server(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256", "GATEHOUSE_PUBLIC_URL": auth,
                     "GATEHOUSE_SESSION_COOKIE_DOMAIN": PORTAL_DOMAIN,
                     "GATEHOUSE_PORTAL_ALLOWED_REDIRECT_HOSTS": f"*.{PORTAL_DOMAIN}"})
    up = EchoUpstream().start()
    proxy = None
    try:
        gh.start()
        proxy = Proxy(kind, gh.port, up.port, portal=True, port=port).start()
        yield gh, up, port, auth
    finally:
        if proxy is not None:
            proxy.cleanup()
        up.stop()
        gh.cleanup()


def test_sign_in_round_trip_and_sibling_app(portal):
    gh, up, port, auth = portal
    user = gh.register()
    app = f"http://app.{PORTAL_DOMAIN}:{port}"
    app2 = f"http://app2.{PORTAL_DOMAIN}:{port}"
    b = Browser(port)

    before = up.hits
    r = b.request("GET", app + "/reports/q3?year=2026&view=full")
    assert r.status == 302, (r.status, r.text)
    assert up.hits == before  # never reached the app
    login = r.headers["Location"]
    assert login.startswith(auth + "/login?rd=")
    rd = urllib.parse.parse_qs(urllib.parse.urlsplit(login).query)["rd"][0]
    assert rd == app + "/reports/q3?year=2026&view=full"

    r = b.request("GET", login)
    assert r.status == 200 and 'action="/login"' in r.text
    hidden = re.search(r'name="rd" value="([^"]*)"', r.text).group(1).replace("&amp;", "&")
    assert hidden == rd

    form = urllib.parse.urlencode({"username": user["username"], "password": user["password"],
                                   "rd": hidden})
    r = b.request("POST", auth + "/login", form,
                  {"Content-Type": "application/x-www-form-urlencoded", "Origin": auth})
    assert r.status == 200, (r.status, r.text)
    target = re.search(r'content="0;url=([^"]+)"', r.text).group(1).replace("&amp;", "&")
    assert target == rd
    assert b.cookies["gh_sid"][1] == PORTAL_DOMAIN

    r = b.request("GET", target)
    assert r.status == 200, (r.status, r.text)
    echo = up.since(up.hits - 1)[0]
    assert echo["path"] == "/reports/q3?year=2026&view=full"
    assert echo["headers"]["x-auth-method"] == ["session"]
    assert echo["headers"]["x-auth-username"] == [user["username"]]

    r = b.request("GET", app2 + "/dashboard")
    assert r.status == 200, (r.status, r.text)
    assert up.since(up.hits - 1)[0]["headers"]["x-auth-username"] == [user["username"]]

    # signing out at the portal ends it for both apps
    page = b.request("GET", auth + "/account").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = b.request("POST", auth + "/logout", urllib.parse.urlencode({"csrf_token": token}),
                  {"Content-Type": "application/x-www-form-urlencoded", "Origin": auth})
    assert r.status == 303
    assert b.request("GET", app2 + "/dashboard").status == 302


def test_api_clients_keep_401(portal):
    gh, up, port, auth = portal
    b = Browser(port)
    r = b.request("GET", f"http://app.{PORTAL_DOMAIN}:{port}/api/data",
                  headers={"Accept": "application/json"})
    assert r.status == 401
    assert "bearer" in (r.headers.get("WWW-Authenticate") or "").lower()
    r = b.request("POST", f"http://app.{PORTAL_DOMAIN}:{port}/form", body="x=1",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 401


def traefik_portal_config():
    import yaml  # python3-yaml (scripts/deps.sh test), only here
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "examples/traefik/portal.yml"
    return yaml.safe_load(path.read_text())["http"]


def test_traefik_portal_example_asks_what_gatehouse_needs():
    """Traefik is not in Debian, so examples/traefik/portal.yml cannot run here. This reads
    it and sends the real Gatehouse what its forwardAuth would: the browser's headers named
    in authRequestHeaders only, with Traefik's X-Forwarded-*."""
    http_cfg = traefik_portal_config()
    fa = http_cfg["middlewares"]["gatehouse"]["forwardAuth"]
    strip = http_cfg["middlewares"]["gatehouse-strip-identity"]["headers"]
    routers = http_cfg["routers"]
    assert routers["apps"]["middlewares"] == ["gatehouse-strip-identity", "gatehouse"]
    assert "middlewares" not in routers["gatehouse-portal"]  # the sign-in page is open
    assert "auth.example.com" in routers["gatehouse-portal"]["rule"]
    assert set(strip["customRequestHeaders"]) == set(fa["authResponseHeaders"])
    assert fa["trustForwardHeader"] is False

    auth = f"https://auth.{PORTAL_DOMAIN}"
    gh = Server(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256", "GATEHOUSE_PUBLIC_URL": auth,
                     "GATEHOUSE_SESSION_COOKIE_DOMAIN": PORTAL_DOMAIN,
                     "GATEHOUSE_PORTAL_ALLOWED_REDIRECT_HOSTS": f"*.{PORTAL_DOMAIN}"})
    try:
        gh.start()
        verify = urllib.parse.urlsplit(fa["address"]).path

        def traefik_asks(browser_headers, uri="/reports?week=3"):
            h = {k: v for k, v in browser_headers.items() if k in fa["authRequestHeaders"]}
            h.update({"X-Forwarded-Method": "GET", "X-Forwarded-Proto": "https",
                      "X-Forwarded-Host": f"app.{PORTAL_DOMAIN}", "X-Forwarded-Uri": uri,
                      "X-Forwarded-For": "203.0.113.7"})
            return gh.get(verify, headers=h, allow_redirects=False)

        r = traefik_asks({"Accept": HTML, "X-Auth-User-Id": "forged"})
        assert r.status_code == 302
        rd = urllib.parse.quote(f"https://app.{PORTAL_DOMAIN}/reports?week=3", safe="")
        assert r.headers["Location"] == f"{auth}/login?rd={rd}"
        assert traefik_asks({"Accept": "application/json"}).status_code == 401

        u = gh.register()
        r = gh.post("/api/v1/auth/login", {"username": u["username"], "password": u["password"]},
                    params={"mode": "cookie"})
        sid = re.search(r"gh_sid=([^;]+);[^,]*Domain=" + re.escape(PORTAL_DOMAIN),
                        ", ".join(r.raw.headers.getlist("Set-Cookie"))).group(1)
        r = traefik_asks({"Accept": HTML, "Cookie": f"gh_sid={sid}"})
        assert r.status_code == 200, r.text
        assert r.headers["X-Auth-Method"] == "session"
        assert r.headers["X-Auth-User-Id"] == u["id"]
        assert all(h in r.headers for h in fa["authResponseHeaders"])
    finally:
        gh.cleanup()

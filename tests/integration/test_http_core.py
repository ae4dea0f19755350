"""The HTTP core (issue 11): request smuggling shapes, control characters, the server's own
refusals in JSON, body limits, connection limits and deadlines, clean stops under load,
and readiness that follows failing writes."""
import http.client
import json
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import threading
import time

import pytest
import requests

from conftest import ADMIN_PASSWORD, SECURITY_HEADERS, Server, bearer, strong_password, unique_name

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
VERIFY = "/api/v1/auth/verify"


@pytest.fixture(scope="module")
def hs():
    """One server for the stateless checks of this module."""
    s = Server(env=FAST)
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


def exchange(port, data, timeout=5, host="127.0.0.1", source=None):
    """Sends raw bytes; returns (everything read until the server closed, closed?)."""
    sk = socket.socket()
    if source:
        sk.bind((source, 0))
    sk.settimeout(timeout)
    sk.connect((host, port))
    chunks, closed = [], False
    try:
        sk.sendall(data)
        while True:
            c = sk.recv(65536)
            if not c:
                closed = True
                break
            chunks.append(c)
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    finally:
        sk.close()
    return b"".join(chunks), closed


def responses(raw):
    """Splits raw bytes into (status, headers, body) answers by Content-Length."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError(f"truncated answer: {raw[:200]!r}")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:n]))
        raw = rest[n:]
    return out


def assert_json_refusal(raw, closed, status, code=None):
    """One JSON error answer in the envelope, with a request id and the security headers,
    and the connection closed after it."""
    answers = responses(raw)
    assert len(answers) == 1, answers
    st, headers, body = answers[0]
    assert st == status, (st, body)
    assert headers.get("content-type", "").startswith("application/json"), headers
    err = json.loads(body)["error"]
    assert set(err) >= {"code", "message", "request_id"}, err
    if code:
        assert err["code"] == code, err
    assert err["request_id"] == headers["x-request-id"]
    for h in SECURITY_HEADERS:
        assert h.lower() in headers, (h, headers)
    assert headers.get("connection") == "close", headers
    assert closed, "the connection stayed open"


# -- item 2: request smuggling -----------------------------------------------------------

SMUGGLE = [
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 44\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  xchunked\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n",
    b"POST /healthz HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
]


SMUGGLE_IDS = ["two-lengths", "two-equal-lengths", "length-then-chunked", "chunked-then-length",
               "gzip", "chunked-not-last", "xchunked", "obs-fold", "space-before-colon",
               "bad-chunk-size", "bad-chunk-end", "negative-length", "length-list",
               "chunked-twice", "chunked-in-1.0"]


@pytest.mark.parametrize("head", SMUGGLE, ids=SMUGGLE_IDS)
def test_smuggling_shapes_are_400_and_closed(hs, head):
    # What follows would run as a second request if the framing were taken loosely.
    smuggled = b"GET /nope-smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    raw, closed = exchange(hs.port, head + b"hello" + smuggled)
    assert_json_refusal(raw, closed, 400, "invalid_request")
    assert b"nope-smuggled" not in raw


def test_unknown_coding_before_chunked_is_501(hs):
    raw, closed = exchange(hs.port, b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
                                    b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
    assert_json_refusal(raw, closed, 501, "not_implemented")


# -- item 4: NUL and control characters --------------------------------------------------

@pytest.mark.parametrize("data", [
    b"GET /healthz\x00abc HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /healthz\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Forwarded-Uri: /public/x\x00/../../admin/x\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x00b\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x01b\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x1bb\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: a\rb\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\x00y\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A\x00b: c\r\n\r\n",
    b"GET /api/v1/auth/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a.b\x00.c\r\n\r\n",
    b"GET /api/v1/auth/verify HTTP/1.1\r\nHost: x\r\nX-API-Key: ak_x\x7fy\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: " + b"a" * 1000 + b"\x00\r\n\r\n",
    b"GET /healthz\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
], ids=["nul-in-line", "ctl-in-line", "nul-in-forwarded-uri", "nul-in-value", "soh-in-value",
        "esc-in-value", "cr-in-value", "nul-in-host", "nul-in-name", "nul-in-bearer",
        "del-in-api-key", "nul-after-1000-bytes", "nul-before-version"])
def test_control_characters_are_400(hs, data):
    raw, closed = exchange(hs.port, data)
    assert_json_refusal(raw, closed, 400, "invalid_request")


def test_htab_in_a_value_is_fine(hs):
    raw, _ = exchange(hs.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: a\tb\r\n"
                               b"Connection: close\r\n\r\n")
    assert responses(raw)[0][0] == 200


def test_forwarded_uri_with_nul_is_not_authorized(make_server):
    rules = "GET /public/** public; * /admin/** org:admin"
    s = make_server({**FAST, "GATEHOUSE_FORWARD_AUTH_RULES": rules})
    raw, closed = exchange(s.port, b"GET /api/v1/auth/verify HTTP/1.1\r\nHost: x\r\n"
                                   b"X-Forwarded-Method: GET\r\n"
                                   b"X-Forwarded-Uri: /public/x\x00/../../admin/x\r\n\r\n")
    assert_json_refusal(raw, closed, 400)


# -- item 5: the server's own refusals are JSON ------------------------------------------

@pytest.mark.parametrize("data,status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
    (b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 1000)
                                                       for i in range(20)) + b"\r\n", 431),
    (b"GET /" + b"a" * (33 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413),
], ids=["garbage", "bare-get", "no-host", "http2", "headers-431", "uri-414", "length-413"])
def test_refusals_are_json(hs, data, status):
    raw, closed = exchange(hs.port, data)
    assert_json_refusal(raw, closed, status)


def test_garbage_without_blank_line_is_answered(hs):
    raw, closed = exchange(hs.port, b"GARBAGE\r\n", timeout=3)
    assert_json_refusal(raw, closed, 400)


def test_500_small_headers_are_served(hs):
    headers = "".join(f"X-H{i}: v\r\n" for i in range(500)).encode()
    raw, _ = exchange(hs.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers +
                      b"Connection: close\r\n\r\n")
    assert responses(raw)[0][0] == 200


def test_header_limit_above_64k(make_server):
    s = make_server({**FAST, "GATEHOUSE_SERVER_MAX_HEADER_BYTES": "256KiB"})
    r = s.get("/healthz", headers={"X-Big": "a" * (100 * 1024)})
    assert r.status_code == 200, r.text
    r = s.get("/healthz", headers={"X-Big": "a" * (300 * 1024)})
    assert r.status_code == 431 and r.json()["error"]["code"] == "headers_too_large"


# -- item 6: bodies ------------------------------------------------------------------------

def test_content_length_over_cap_is_413_before_the_body(hs):
    sk = socket.create_connection(("127.0.0.1", hs.port), timeout=5)
    sk.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 10000000\r\n\r\n")
    t0 = time.monotonic()
    data = sk.recv(65536)
    assert time.monotonic() - t0 < 2
    assert data.startswith(b"HTTP/1.1 413 "), data[:200]
    sk.close()


def test_chunked_body_is_413_when_it_crosses_the_cap(hs):
    """64 KiB cap: the answer comes while the body is still being sent, and well before
    16 times the cap."""
    sk = socket.create_connection(("127.0.0.1", hs.port), timeout=5)
    sk.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
    sk.settimeout(0.05)
    got, sent = b"", 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not got:
        try:
            sk.sendall(chunk)
            sent += 0x4000
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        try:
            got = sk.recv(65536)
        except socket.timeout:
            pass
        except ConnectionResetError:
            break
    deadline = time.monotonic() + 3
    sk.settimeout(0.2)
    while time.monotonic() < deadline:  # the rest of the answer, up to the close
        try:
            more = sk.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not more:
            break
        got += more
    sk.close()
    assert got.startswith(b"HTTP/1.1 413 "), (sent, got[:200])
    assert sent <= 4 * 64 * 1024, sent
    assert_json_refusal(got, True, 413, "payload_too_large")


# -- item 3: connection limits and deadlines ----------------------------------------------

def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= n


def test_flood_from_one_address_leaves_others_served(make_server):
    if not raise_nofile(2500):
        pytest.skip("cannot open enough sockets here")
    s = make_server(FAST)
    flood = []
    try:
        for i in range(1100):
            sk = socket.socket()
            sk.setblocking(False)
            try:
                sk.connect(("127.0.0.1", s.port))
            except BlockingIOError:
                pass
            flood.append(sk)
        time.sleep(0.5)
        # Slowloris: every other connection trickles a head, a byte at a time.
        for _ in range(3):
            for sk in flood[::2]:
                try:
                    sk.send(b"G")
                except OSError:
                    pass
            t0 = time.monotonic()
            with socket.socket() as other:
                other.bind(("127.0.0.2", 0))
                other.settimeout(2)
                other.connect(("127.0.0.1", s.port))
                other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = other.recv(65536)
            assert data.startswith(b"HTTP/1.1 200 "), data[:100]
            assert time.monotonic() - t0 < 1
            time.sleep(0.3)
        # The flood got at most the per-address share; the rest was closed at once.
        closed = 0
        for sk in flood:
            try:
                if sk.recv(1) == b"":
                    closed += 1
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
        assert closed >= 1100 - 256, closed
    finally:
        for sk in flood:
            sk.close()


def test_head_deadline_holds_whatever_the_trickle(make_server):
    s = make_server({**FAST, "GATEHOUSE_SERVER_HEADER_TIMEOUT": "2s",
                     "GATEHOUSE_SERVER_CONNECTION_TIMEOUT": "30s"})
    sk = socket.create_connection(("127.0.0.1", s.port), timeout=1)
    t0 = time.monotonic()
    got = b""
    for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
        try:
            sk.send(bytes([b]))
        except OSError:
            break
        try:
            sk.settimeout(0.25)
            got = sk.recv(65536)
            if got or time.monotonic() - t0 > 6:
                break
        except socket.timeout:
            pass
    elapsed = time.monotonic() - t0
    closed = False
    sk.settimeout(0.5)
    for _ in range(10):  # the rest of the answer, up to the close
        try:
            more = sk.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            closed = True
            break
        if not more:
            closed = True
            break
        got += more
    sk.close()
    assert got.startswith(b"HTTP/1.1 408 "), got[:100]
    assert 1.5 < elapsed < 4, elapsed
    assert_json_refusal(got, closed, 408, "request_timeout")


# -- item 1: clean stops under load --------------------------------------------------------

STOPS = int(os.environ.get("GATEHOUSE_TEST_STOPS", "100"))


def load(s, user, pw, stop, served):
    """Keep-alive login, refresh and verify clients until stop is set; each answer they get
    appends its status to served."""
    def login():
        sess = requests.Session()
        while not stop.is_set():
            try:
                r = sess.post(s.url(LOGIN), json={"username": user, "password": pw}, timeout=5)
                served.append(r.status_code)
            except requests.RequestException:
                return

    def refresh():
        sess = requests.Session()
        try:
            rt = sess.post(s.url(LOGIN), json={"username": user, "password": pw},
                           timeout=5).json()["refresh_token"]
        except (requests.RequestException, ValueError, KeyError):
            return
        while not stop.is_set():
            try:
                r = sess.post(s.url(REFRESH), json={"refresh_token": rt}, timeout=5)
                served.append(r.status_code)
                if r.status_code == 200:
                    rt = r.json()["refresh_token"]
            except (requests.RequestException, ValueError):
                return

    def verify():
        sess = requests.Session()
        try:
            at = sess.post(s.url(LOGIN), json={"username": user, "password": pw},
                           timeout=5).json()["access_token"]
        except (requests.RequestException, ValueError, KeyError):
            return
        while not stop.is_set():
            try:
                served.append(sess.get(s.url(VERIFY), headers=bearer(at), timeout=5).status_code)
            except requests.RequestException:
                return

    return [threading.Thread(target=f, daemon=True) for f in (login, login, refresh, verify)]


def test_stops_under_load_are_clean_and_fast(make_server):
    """GATEHOUSE_TEST_STOPS SIGTERMs (100 by default) under mixed keep-alive load: each exits
    0 within 2 s, and the last audit record is behind a checkpoint written at the stop."""
    s = make_server({**FAST, "GATEHOUSE_PASSWORD_BCRYPT_COST": "4"})
    user, pw = "admin", ADMIN_PASSWORD
    slow = []
    for i in range(STOPS):
        if i > 0:
            s.start()
        stop = threading.Event()
        served = []
        threads = load(s, user, pw, stop, served)
        for t in threads:
            t.start()
        t0 = time.monotonic()
        while len(served) < 8 and time.monotonic() - t0 < 10:  # the load is on
            time.sleep(0.02)
        assert len(served) >= 8, (i, served)
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        try:
            rc = s.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        stop.set()
        for t in threads:
            t.join(timeout=10)
        s.stop()
        assert rc == 0, (i, rc, s.stderr_text()[-3000:])
        if took >= 2:
            slow.append((i, took))
        db = sqlite3.connect(str(s.data_dir / "gatehouse.db"))
        try:
            last = db.execute("SELECT MAX(id) FROM audit_events").fetchone()[0]
            cp = db.execute("SELECT MAX(seq) FROM audit_checkpoints").fetchone()[0]
        finally:
            db.close()
        assert last is not None and cp == last, (i, last, cp)
        assert 500 not in served, (i, served)
    assert not slow, slow


def test_a_request_read_while_stopping_is_answered_and_closed(make_server):
    """SIGTERM while a keep-alive client is sending a head: that request is still answered,
    with Connection: close, the connection ends after it, and the stop takes no longer."""
    s = make_server(FAST)
    sk = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    sk.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    first = sk.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 ") and b"Connection: close" not in first
    sk.sendall(b"GET /healthz HTTP/1.1\r\nHo")
    time.sleep(0.2)  # the head is being read
    t0 = time.monotonic()
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    sk.sendall(b"st: x\r\n\r\n")
    raw, closed = b"", False
    while time.monotonic() - t0 < 5:
        try:
            more = sk.recv(65536)
        except socket.timeout:
            break
        except OSError:
            closed = True
            break
        if not more:
            closed = True
            break
        raw += more
    sk.close()
    answers = responses(raw)
    assert [a[0] for a in answers] == [200], raw[:300]
    assert answers[0][1].get("connection") == "close"
    assert closed
    assert s.proc.wait(timeout=5) == 0
    assert time.monotonic() - t0 < 2.5


# -- item 7: readiness follows failing writes ----------------------------------------------

def test_readyz_503_while_writes_fail(make_server):
    """A file-size limit on the server process makes SQLite's writes fail (EFBIG) once the
    write-ahead log reaches it, as a full disk would; /readyz must say so."""
    limit = 3 << 20

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    s = Server(env=FAST)
    real_popen = subprocess.Popen

    def popen(*a, **kw):
        kw["preexec_fn"] = limited
        return real_popen(*a, **kw)

    subprocess.Popen = popen
    try:
        s.start()
    finally:
        subprocess.Popen = real_popen
    try:
        assert s.get("/readyz").status_code == 200
        failed = False
        for i in range(2000):
            name = unique_name("fill")
            r = s.post("/api/v1/auth/register",
                       {"username": name, "email": f"{name}@example.test",
                        "password": strong_password(), "full_name": "f" * 200})
            if r.status_code >= 500:
                failed = True
                break
        assert failed, "writes never failed"
        r = s.get("/readyz")
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "unavailable"
        assert s.get("/healthz").status_code == 200  # alive, just not ready
    finally:
        s.cleanup()

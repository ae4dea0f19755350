"""TLS (issue 17): the listener with server.tls_cert / server.tls_key, the lowest version,
the cipher list, HSTS over TLS, certificates and keys refused at start (mode, mismatch,
truncated, expired), the reload on SIGHUP that drops no connection and keeps the old pair
when the new one is bad, and the handshake deadline."""
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
import requests

from conftest import Server
from tls_support import TlsServer, make_pair

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}


@pytest.fixture(scope="module")
def ts():
    s = TlsServer(env=dict(FAST, GATEHOUSE_SERVER_HEADER_TIMEOUT="2s"))
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


def s_client(port, *args, data=b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
    """openssl s_client against the server; returns its combined output."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-ign_eof",
                        *args], input=data, capture_output=True, timeout=20)
    return (p.stdout + p.stderr).decode(errors="replace")


def peer_der(port):
    """The DER certificate a new TLS connection is shown."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as tls:
            return tls.getpeercert(binary_form=True)


def http_on(tls, path="/healthz"):
    """One keep-alive request on an open TLS socket; returns the status line."""
    tls.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(4096)
        assert chunk, "connection closed"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
                  if ln.lower().startswith(b"content-length:")][0])
    while len(rest) < length:
        rest += tls.recv(4096)
    return head.split(b"\r\n")[0].decode()


def test_curl_over_tls_gets_hsts(ts):
    out = subprocess.run(["curl", "-sS", "-i", "--http1.1", "--cacert", ts.cert,
                          ts.url("/healthz")], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("HTTP/1.1 200")
    assert "strict-transport-security: max-age=63072000; includesubdomains; preload" \
        in out.stdout.lower()
    r = ts.get("/healthz")
    assert r.status_code == 200 and r.headers["Strict-Transport-Security"].startswith("max-age=")
    # Discovery names the https origin it serves (public_url defaults to https).
    assert ts.get("/.well-known/openid-configuration").json()["issuer"].startswith("https://")


def test_plain_http_on_the_tls_port_gets_no_answer(ts):
    with pytest.raises(requests.RequestException):
        requests.get(f"http://127.0.0.1:{ts.port}/healthz", timeout=5)
    assert ts.get("/healthz").status_code == 200


def test_versions_below_the_minimum_are_refused(ts):
    for old in ("-tls1", "-tls1_1"):
        out = s_client(ts.port, old, "-cipher", "DEFAULT@SECLEVEL=0")
        assert "alert protocol version" in out or "no protocols available" in out, out
        assert "HTTP/1.1 200" not in out
    for ok in ("-tls1_2", "-tls1_3"):
        assert "HTTP/1.1 200" in s_client(ts.port, ok, "-CAfile", ts.cert)


def test_tls_13_only(make_server):
    s = TlsServer(env=dict(FAST, GATEHOUSE_SERVER_TLS_MIN_VERSION="1.3"))
    try:
        s.start()
        out = s_client(s.port, "-tls1_2")
        assert "alert protocol version" in out and "HTTP/1.1 200" not in out, out
        assert "HTTP/1.1 200" in s_client(s.port, "-tls1_3")
    finally:
        s.cleanup()


def test_cipher_list_is_enforced(ts):
    # The default list is ECDHE with AEAD: a TLS 1.2 client offering only RSA key
    # exchange or CBC is refused.
    out = s_client(ts.port, "-tls1_2", "-cipher", "AES128-SHA:AES256-GCM-SHA384")
    assert "HTTP/1.1 200" not in out and "handshake failure" in out, out
    out = s_client(ts.port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
    assert "HTTP/1.1 200" in out


def start_fails(env, tmp_path, expect):
    s = Server(env=dict(FAST, **env))
    try:
        s.start(wait=False)
        rc = s.proc.wait(timeout=30)
        assert rc != 0
        assert expect in s.stderr_text(), s.stderr_text()
    finally:
        s.cleanup()


def test_bad_pairs_refused_at_start(tmp_path):
    crt, key, _ = make_pair(tmp_path, "a")
    _, other_key, _ = make_pair(tmp_path, "b")
    _, open_key, _ = make_pair(tmp_path, "c", key_mode=0o644)
    old_crt, old_key, _ = make_pair(tmp_path, "old", expired=True)
    cut = tmp_path / "cut.crt"
    cut.write_text(open(crt).read()[:300])
    cases = [
        ({"GATEHOUSE_SERVER_TLS_KEY": other_key}, "does not match the certificate"),
        ({"GATEHOUSE_SERVER_TLS_CERT": str(tmp_path / "c.crt"),
          "GATEHOUSE_SERVER_TLS_KEY": open_key}, "chmod 600"),
        ({"GATEHOUSE_SERVER_TLS_CERT": old_crt, "GATEHOUSE_SERVER_TLS_KEY": old_key},
         "has expired"),
        ({"GATEHOUSE_SERVER_TLS_CERT": str(cut)}, "no readable PEM certificate"),
        ({"GATEHOUSE_SERVER_TLS_KEY": str(tmp_path / "missing.key")}, "cannot open"),
        ({"GATEHOUSE_SERVER_TLS_CIPHERS": "NO-SUCH-CIPHER"}, "server.tls_ciphers"),
        ({"GATEHOUSE_SERVER_TLS_KEY": None}, "set both or neither"),
    ]
    for env, expect in cases:
        full = {"GATEHOUSE_SERVER_TLS_CERT": crt, "GATEHOUSE_SERVER_TLS_KEY": key}
        full.update(env)
        start_fails(full, tmp_path, expect)


def test_reload_on_sighup_keeps_connections_and_refuses_bad_pairs():
    s = TlsServer(env=FAST)
    try:
        s.start()
        first = peer_der(s.port)
        assert first == s.der
        ctx = ssl.create_default_context(cafile=s.cert)
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as raw, \
                ctx.wrap_socket(raw, server_hostname="localhost") as kept:
            assert http_on(kept) == "HTTP/1.1 200 OK"
            # A new pair in place of the old one, then SIGHUP.
            crt, key, der = make_pair(s.tls_dir, "next")
            shutil.copy(crt, s.cert)
            shutil.copy(key, s.key)
            s.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while peer_der(s.port) != der and time.monotonic() < deadline:
                time.sleep(0.1)
            assert peer_der(s.port) == der
            # The connection opened before the reload still answers.
            assert http_on(kept) == "HTTP/1.1 200 OK"
            # A key that does not match: the reload is refused, the pair in use stays.
            _, wrong, _ = make_pair(s.tls_dir, "wrong")
            shutil.copy(wrong, s.key)
            s.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while "TLS reload refused" not in s.log_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "does not match the certificate" in s.log_text()
            assert peer_der(s.port) == der
            assert http_on(kept) == "HTTP/1.1 200 OK"
            # A truncated certificate is refused the same way.
            with open(s.cert, "r+") as f:
                f.truncate(200)
            s.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while "no readable PEM certificate" not in s.log_text() and \
                    time.monotonic() < deadline:
                time.sleep(0.1)
            assert "no readable PEM certificate" in s.log_text()
            assert peer_der(s.port) == der
        s.stop_ok()
    finally:
        s.cleanup()


def test_handshake_deadline(ts):
    """A client that connects and never finishes its handshake is closed after
    server.header_timeout (2 s here), however it trickles; others are served meanwhile."""
    silent = socket.create_connection(("127.0.0.1", ts.port), timeout=20)
    trickle = socket.create_connection(("127.0.0.1", ts.port), timeout=20)
    start = time.monotonic()
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 32
    closed = {}
    try:
        for i in range(len(hello)):
            try:
                trickle.sendall(hello[i:i + 1])
            except OSError:
                closed["trickle"] = time.monotonic() - start
                break
            assert ts.get("/healthz").status_code == 200
            time.sleep(0.25)
            if time.monotonic() - start > 15:
                break
        silent.settimeout(15)
        assert silent.recv(100) == b""
        closed["silent"] = time.monotonic() - start
    finally:
        silent.close()
        trickle.close()
    assert closed["silent"] < 12
    assert "trickle" in closed and closed["trickle"] < 12

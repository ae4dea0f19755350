"""HTTP/2 (issue 17): h2c with prior knowledge and through Upgrade (server.h2c), h2 over TLS
through ALPN, the same request layer as HTTP/1.1 (a login on a pool, a token check), h2load,
and the bad clients: a rapid-reset flood (CVE-2023-44487), an HPACK bomb, a CONTINUATION
flood, 10,000 streams on one connection, a header list past the limit, a client that stalls
its preface or a header block. Raw frames come from a small client below."""
import socket
import struct
import subprocess
import time

import pytest

from conftest import ADMIN_PASSWORD, Server
from tls_support import TlsServer

H2C = {"GATEHOUSE_AUTH_ALGORITHM": "ES256", "GATEHOUSE_SERVER_H2C": "true",
       "GATEHOUSE_SERVER_HEADER_TIMEOUT": "2s"}
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, END_HEADERS = 0x1, 0x4
INTERNAL_ERROR, ENHANCE_YOUR_CALM = 0x2, 0xB


@pytest.fixture(scope="module")
def h2s():
    s = Server(env=H2C)
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


def curl(*args):
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                        *args], capture_output=True, text=True, timeout=30)
    return p.stdout.strip(), p.returncode


def rss_kb(proc):
    for line in open(f"/proc/{proc.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# -- a raw HTTP/2 client ------------------------------------------------------

def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def literal(name_index, value):
    """A header field without indexing, its name from the static table (RFC 7541 6.2.2)."""
    v = value.encode()
    assert len(v) < 127
    return bytes([name_index]) + bytes([len(v)]) + v


GET_HEALTHZ = b"\x82\x86" + literal(4, "/healthz") + literal(1, "localhost")


def connect(port):
    sk = socket.create_connection(("127.0.0.1", port), timeout=20)
    sk.sendall(PREFACE + frame(SETTINGS, 0, 0))
    return sk


def read_frames(sk, until_closed=True, timeout=20):
    """Frames until the server closes (or the timeout): a list of (type, flags, stream,
    payload)."""
    sk.settimeout(timeout)
    buf, frames = b"", []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sk.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            frames.append((buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF,
                           buf[9:9 + n]))
            buf = buf[9 + n:]
        if not until_closed and frames:
            break
    return frames


def goaway(frames):
    """(last stream id, error code) of the first GOAWAY, or None."""
    for t, _, _, p in frames:
        if t == GOAWAY:
            return struct.unpack(">I", p[:4])[0] & 0x7FFFFFFF, struct.unpack(">I", p[4:8])[0]
    return None


def goaway_code(frames):
    g = goaway(frames)
    return g[1] if g else None


# -- protocols ----------------------------------------------------------------

def test_h2c_prior_knowledge_and_upgrade(h2s):
    assert curl("--http2-prior-knowledge", h2s.url("/healthz")) == ("2 200", 0)
    assert curl("--http2", h2s.url("/healthz")) == ("2 200", 0)
    assert curl("--http1.1", h2s.url("/healthz")) == ("1.1 200", 0)
    # The same headers as HTTP/1.1, names in lower case.
    out = subprocess.run(["curl", "-sS", "-i", "--http2-prior-knowledge", h2s.url("/healthz")],
                         capture_output=True, text=True, timeout=30).stdout
    assert out.startswith("HTTP/2 200")
    for h in ("x-request-id:", "x-content-type-options: nosniff", "x-frame-options: DENY",
              "content-security-policy:", "cache-control: no-store", "content-length: 15"):
        assert h in out, out
    assert "strict-transport-security" not in out  # plain HTTP


def test_h2c_is_off_by_default():
    s = Server(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256"})
    try:
        s.start()
        version, rc = curl("--http2-prior-knowledge", s.url("/healthz"))
        assert rc != 0 or not version.startswith("2")
        assert curl("--http2", s.url("/healthz")) == ("1.1 200", 0)  # the upgrade is ignored
    finally:
        s.cleanup()


def test_h2_over_tls_through_alpn():
    s = TlsServer(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256"})
    try:
        s.start()
        assert curl("--http2", "--cacert", s.cert, s.url("/healthz")) == ("2 200", 0)
        out = subprocess.run(["curl", "-sS", "-i", "--http2", "--cacert", s.cert,
                              s.url("/healthz")], capture_output=True, text=True, timeout=30)
        assert "strict-transport-security: max-age=63072000" in out.stdout
        p = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "10", s.url("/healthz")],
                           capture_output=True, text=True, timeout=120)
        assert "2000 succeeded" in p.stdout and "2000 2xx" in p.stdout, p.stdout
        assert "h2" in p.stdout
    finally:
        s.cleanup()
    s = TlsServer(env={"GATEHOUSE_AUTH_ALGORITHM": "ES256", "GATEHOUSE_SERVER_HTTP2": "false"})
    try:
        s.start()
        assert curl("--http2", "--cacert", s.cert, s.url("/healthz")) == ("1.1 200", 0)
    finally:
        s.cleanup()


def test_the_same_request_layer(h2s):
    """A login runs on the hashing pool and comes back; the token passes /verify over h2."""
    p = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", h2s.url("/api/v1/auth/login"),
                        "-H", "Content-Type: application/json", "-d",
                        '{"username":"admin","password":"%s"}' % ADMIN_PASSWORD],
                       capture_output=True, text=True, timeout=30)
    import json
    token = json.loads(p.stdout)["access_token"]
    out = subprocess.run(["curl", "-sS", "-i", "--http2-prior-knowledge",
                          h2s.url("/api/v1/auth/verify"), "-H", f"Authorization: Bearer {token}"],
                         capture_output=True, text=True, timeout=30).stdout
    assert out.startswith("HTTP/2 200") and "x-auth-user-id:" in out.lower(), out
    # The errors are the API's JSON, the body limit holds.
    out = subprocess.run(["curl", "-sS", "-i", "--http2-prior-knowledge",
                          h2s.url("/api/v1/auth/login"), "-H", "Content-Type: application/json",
                          "--data-binary", "@-"], input="x" * (70 * 1024),
                         capture_output=True, text=True, timeout=30).stdout
    assert out.startswith("HTTP/2 413") and '"payload_too_large"' in out, out[:300]
    p = subprocess.run(["h2load", "-n", "5000", "-c", "8", "-m", "20",
                        "-H", f"Authorization: Bearer {token}", h2s.url("/api/v1/auth/verify")],
                       capture_output=True, text=True, timeout=120)
    assert "5000 succeeded" in p.stdout and "5000 2xx" in p.stdout, p.stdout


def test_header_list_past_the_limit_is_431(h2s):
    out = subprocess.run(["curl", "-sS", "-i", "--http2-prior-knowledge", h2s.url("/healthz"),
                          "-H", "X-Big: " + "a" * 20000], capture_output=True, text=True,
                         timeout=30).stdout
    assert out.startswith("HTTP/2 431") and '"headers_too_large"' in out, out[:300]
    assert curl("--http2-prior-knowledge", h2s.url("/healthz")) == ("2 200", 0)


# -- floods -------------------------------------------------------------------

def test_rapid_reset_flood_is_cut(h2s):
    before = rss_kb(h2s.proc)
    sk = connect(h2s.port)
    burst = b"".join(frame(HEADERS, END_STREAM | END_HEADERS, 2 * i + 1, GET_HEALTHZ) +
                     frame(RST, 0, 2 * i + 1, struct.pack(">I", 8)) for i in range(10000))
    try:
        sk.sendall(burst)
    except (BrokenPipeError, ConnectionResetError):
        pass
    frames = read_frames(sk)
    sk.close()
    # nghttp2's reset budget (200, then 33 a second) ends the connection with a GOAWAY
    # (INTERNAL_ERROR is nghttp2's code for it) long before the 10,000th stream.
    last, code = goaway(frames)
    assert code in (INTERNAL_ERROR, ENHANCE_YOUR_CALM) and last < 1000, (last, code)
    assert curl("--http2-prior-knowledge", h2s.url("/healthz")) == ("2 200", 0)
    assert rss_kb(h2s.proc) - before < 32 * 1024


def test_hpack_bomb_is_cut(h2s):
    before = rss_kb(h2s.proc)
    sk = connect(h2s.port)
    # One field of 4,000 bytes into the dynamic table (literal with incremental indexing),
    # then one header block that names it 16,000 times (one byte each: 64 MB decoded).
    value = b"b" * 4000
    first = b"\x82\x86" + literal(4, "/healthz") + literal(1, "localhost") + \
        b"\x40\x06x-bomb" + b"\x7f" + bytes([0x80 | ((len(value) - 127) & 0x7F),
                                             (len(value) - 127) >> 7]) + value
    sk.sendall(frame(HEADERS, END_STREAM | END_HEADERS, 1, first))
    bomb = b"\x82\x86" + literal(4, "/healthz") + literal(1, "localhost") + b"\xbe" * 16000
    sk.sendall(frame(HEADERS, END_STREAM, 3, bomb[:16000]) +
               frame(CONTINUATION, END_HEADERS, 3, bomb[16000:]))
    frames = read_frames(sk)
    sk.close()
    assert goaway_code(frames) == ENHANCE_YOUR_CALM, frames[-3:]
    assert curl("--http2-prior-knowledge", h2s.url("/healthz")) == ("2 200", 0)
    assert rss_kb(h2s.proc) - before < 32 * 1024


def test_continuation_flood_is_cut(h2s):
    sk = connect(h2s.port)
    first = b"\x82\x86" + literal(4, "/healthz")
    try:
        sk.sendall(frame(HEADERS, END_STREAM, 1, first) +
                   b"".join(frame(CONTINUATION, 0, 1, b"") for _ in range(10000)))
    except (BrokenPipeError, ConnectionResetError):
        pass
    frames = read_frames(sk)
    sk.close()
    assert goaway_code(frames) == ENHANCE_YOUR_CALM
    assert not any(t == HEADERS for t, _, _, _ in frames)
    assert curl("--http2-prior-knowledge", h2s.url("/healthz")) == ("2 200", 0)


def test_ten_thousand_streams_on_one_connection(h2s):
    """Streams past SETTINGS_MAX_CONCURRENT_STREAMS (100) are refused; the server's memory
    stays bounded and it keeps serving."""
    before = rss_kb(h2s.proc)
    sk = connect(h2s.port)
    opened = b"".join(frame(HEADERS, END_HEADERS, 2 * i + 1, GET_HEALTHZ) for i in range(10000))
    try:
        sk.sendall(opened)
    except (BrokenPipeError, ConnectionResetError):
        pass
    frames = read_frames(sk, timeout=6)
    refused = [s for t, _, s, p in frames if t == RST and struct.unpack(">I", p)[0] == 7]
    settings = [p for t, f, _, p in frames if t == SETTINGS and not f & 1]
    assert settings and b"\x00\x03\x00\x00\x00\x64" in settings[0]  # MAX_CONCURRENT_STREAMS 100
    assert refused or goaway_code(frames) is not None
    assert rss_kb(h2s.proc) - before < 64 * 1024
    assert curl("--http2-prior-knowledge", h2s.url("/healthz")) == ("2 200", 0)
    sk.close()


def test_slow_clients_are_closed(h2s):
    """A preface without SETTINGS, and a header block left open, are closed after
    server.header_timeout (2 s); healthy clients are served meanwhile."""
    start = time.monotonic()
    silent = socket.create_connection(("127.0.0.1", h2s.port), timeout=20)
    silent.sendall(PREFACE)
    stalled = connect(h2s.port)
    stalled.sendall(frame(HEADERS, END_STREAM, 1, b"\x82\x86"))  # no END_HEADERS
    assert curl("--http2-prior-knowledge", h2s.url("/healthz")) == ("2 200", 0)
    for sk in (silent, stalled):
        read_frames(sk, timeout=15)
        sk.close()
    assert time.monotonic() - start < 12


def test_stop_with_an_h2_connection_open():
    s = Server(env=H2C)
    try:
        s.start()
        sk = connect(s.port)
        sk.sendall(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_HEALTHZ))
        frames = read_frames(sk, until_closed=False, timeout=5)
        assert frames
        assert s.stop() == 0
        sk.close()
    finally:
        s.cleanup()


def test_control_characters_in_a_value_are_refused(h2s):
    """HTTP/1.1's rule: no control character but HTAB in a field value; nghttp2 resets such
    a stream (PROTOCOL_ERROR) before the request layer sees it."""
    def answer(value):
        sk = connect(h2s.port)
        field = b"\x00\x05x-ctl" + bytes([len(value)]) + value  # literal, new name
        sk.sendall(frame(HEADERS, END_STREAM | END_HEADERS, 1, GET_HEALTHZ + field))
        frames, deadline = [], time.monotonic() + 10
        while not any(s == 1 and t in (HEADERS, RST) for t, _, s, _ in frames) and \
                time.monotonic() < deadline:
            frames += read_frames(sk, until_closed=False, timeout=2)
        sk.close()
        t, _, _, p = [f for f in frames if f[2] == 1 and f[0] in (HEADERS, RST)][0]
        return ("status", {0x88: 200}.get(p[0], p[0])) if t == HEADERS else \
            ("reset", struct.unpack(">I", p)[0])
    assert answer(b"a\x01b") == ("reset", 1)
    assert answer(b"a\x7fb") == ("reset", 1)
    assert answer(b"a\tb\tc") == ("status", 200)

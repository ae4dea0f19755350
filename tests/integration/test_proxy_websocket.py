"""A real WebSocket upgrade through nginx (auth_request) and Caddy (forward_auth), running
the shipped examples: the browser's token travels as the subprotocol bearer.<token>, a
gateway token passes only where its audience's rule is, and a refused upgrade never reaches
the application.  The client and the echo application are small raw-socket WebSocket
speakers (RFC 6455), every read bounded in time."""
import base64
import hashlib
import os
import socket
import struct
import threading

import pytest

from conftest import Server, bearer
from proxies import Proxy, which

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RULES = "GET /ws/chat/** authenticated aud=chat; GET /ws/plain/** authenticated"
TIMEOUT = 15
PROXIES = [pytest.param(k, marks=pytest.mark.skipif(
    not which(k), reason=f"{k} is not installed (scripts/deps.sh test)"))
    for k in ("nginx", "caddy")]


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > 65536:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return lines[0], headers, rest


def recv_exact(sock, n, buf=b""):
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def read_frame(sock, pre=b""):
    """One unfragmented frame: (opcode, payload)."""
    h = recv_exact(sock, 2, pre[:2])
    rest = pre[2:]
    n = h[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(sock, 2, rest[:2]))[0]
        rest = rest[2:]
    mask = b""
    if h[1] & 0x80:
        mask = recv_exact(sock, 4, rest[:4])
        rest = rest[4:]
    payload = recv_exact(sock, n, rest[:n])
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return h[0] & 0x0F, payload


def frame(payload, masked):
    head = bytes([0x81])
    n = len(payload)
    assert n < 126
    if not masked:
        return head + bytes([n]) + payload
    mask = os.urandom(4)
    return head + bytes([0x80 | n]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class EchoApp:
    """Answers upgrades with 101 (the first subprotocol that is not bearer.*), then echoes
    one text frame with the X-Auth-User-Id it was given."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.upgrades = []
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        c.settimeout(TIMEOUT)
        try:
            line, h, rest = read_head(c)
            self.upgrades.append(h)
            key = h.get("sec-websocket-key", "").encode()
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
            protos = [p.strip() for p in h.get("sec-websocket-protocol", "").split(",")]
            chosen = [p for p in protos if p and not p.lower().startswith("bearer.")]
            c.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n"
                       + (f"Sec-WebSocket-Protocol: {chosen[0]}\r\n" if chosen else "")
                       + "\r\n").encode())
            op, payload = read_frame(c, rest)
            reply = payload + b" from " + h.get("x-auth-user-id", "-").encode()
            c.sendall(frame(reply, masked=False))
        except (OSError, ConnectionError):
            pass
        finally:
            c.close()

    def stop(self):
        self.stopping = True
        self.sock.close()


def upgrade(port, path, protocols):
    """(status line, headers, the echo of "hello" or None)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocols}\r\n"
                   "\r\n").encode())
        status, h, rest = read_head(s)
        if " 101 " not in status + " ":
            return status, h, None
        want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        assert h["sec-websocket-accept"] == want
        s.sendall(frame(b"hello", masked=True))
        op, payload = read_frame(s, rest)
        assert op == 1
        return status, h, payload.decode()
    finally:
        s.close()


@pytest.fixture(scope="module")
def app():
    a = EchoApp()
    yield a
    a.stop()


@pytest.fixture(scope="module")
def gh():
    s = Server(env={"GATEHOUSE_FORWARD_AUTH_RULES": RULES})
    s.start()
    yield s
    s.cleanup()


@pytest.fixture(scope="module", params=PROXIES)
def proxy(request, gh, app):
    p = Proxy(request.param, gh.port, app.port)
    p.start()
    yield p
    p.cleanup()


def test_websocket_through_the_proxy(proxy, gh, app):
    u = gh.register()
    t = gh.tokens(u["username"], u["password"])["access_token"]
    status, h, echo = upgrade(proxy.port, "/ws/plain/room", f"chat.v2, bearer.{t}")
    assert " 101 " in status + " ", (status, proxy.log_text())
    assert h.get("sec-websocket-protocol") == "chat.v2"
    assert echo == f"hello from {u['id']}"
    # a gateway token passes where its audience's rule is, and nowhere else
    g = gh.post("/api/v1/auth/gateway-token", {"audience": "chat", "ttl": 60},
                headers=bearer(t)).json()["token"]
    status, _, echo = upgrade(proxy.port, "/ws/chat/room", f"bearer.{g}, chat.v2")
    assert " 101 " in status + " " and echo == f"hello from {u['id']}"
    seen = len(app.upgrades)
    for path, protos in (("/ws/plain/room", f"bearer.{g}"),     # another rule
                         ("/ws/chat/room", "chat.v2"),           # no credential
                         ("/ws/chat/room", f"bearer.{t}x")):     # a forged token
        status, _, echo = upgrade(proxy.port, path, protos)
        assert " 401 " in status + " " and echo is None, (path, status)
    for protos in (f"bearer.{t}, bearer.{t}", f"bearer.{t} x"):  # refused, not guessed at
        status, _, echo = upgrade(proxy.port, "/ws/plain/room", protos)
        assert echo is None and (" 400 " in status + " " or " 500 " in status + " "), status
    assert len(app.upgrades) == seen  # none of those reached the application
    # revocation reaches the gateway token
    assert gh.post("/api/v1/auth/logout-all", headers=bearer(t)).status_code == 204
    status, _, echo = upgrade(proxy.port, "/ws/chat/room", f"bearer.{g}")
    assert " 401 " in status + " " and echo is None

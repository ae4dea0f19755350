"""A redis-server of the tests' own on a free loopback port (optionally with a password)."""
import shutil
import socket
import subprocess
import tempfile
import time

from conftest import free_port

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


class Redis:
    def __init__(self, password=None):
        self.port = free_port()
        self.password = password
        self.dir = tempfile.mkdtemp(prefix="gh-redis-")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir]
            + (["--requirepass", self.password] if self.password else []),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.command("PING") == b"+PONG\r\n":
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def command(self, *args):
        """One RESP command (after AUTH when the server has a password); the raw reply."""
        frames = [("AUTH", self.password)] if self.password else []
        frames.append(args)
        out = b""
        for f in frames:
            out += b"*%d\r\n" % len(f)
            for a in f:
                a = a.encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as c:
            c.sendall(out)
            data = b""
            while data.count(b"\r\n") < len(frames):
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.split(b"\r\n", len(frames) - 1)[-1] if self.password else data

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

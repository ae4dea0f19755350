"""A redis-server of the tests' own on a free loopback port, optionally with a password
and over TLS only (a CA and a certificate for 127.0.0.1 made here with openssl)."""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

from conftest import free_port

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


class Redis:
    def __init__(self, password=None, tls=False):
        self.port = free_port()
        self.password = password
        self.tls = tls
        self.dir = tempfile.mkdtemp(prefix="gh-redis-")
        self.proc = None
        if tls:
            self.ca = os.path.join(self.dir, "ca.pem")
            self._make_certs()

    def _make_certs(self):
        d = self.dir

        def run(*args):
            subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=d,
                           timeout=60)

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=gatehouse test CA")
        run("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1")
        with open(os.path.join(d, "ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext")

    def _listen_args(self):
        if not self.tls:
            return ["--port", str(self.port)]
        d = self.dir
        return ["--port", "0", "--tls-port", str(self.port),
                "--tls-cert-file", f"{d}/srv.pem", "--tls-key-file", f"{d}/srv.key",
                "--tls-ca-cert-file", f"{d}/ca.pem", "--tls-auth-clients", "no"]

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS, *self._listen_args(), "--bind", "127.0.0.1", "--save", "",
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
        with self._connect() as c:
            c.sendall(out)
            data = b""
            while data.count(b"\r\n") < len(frames):
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.split(b"\r\n", len(frames) - 1)[-1] if self.password else data

    def _connect(self):
        c = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        if not self.tls:
            return c
        ctx = ssl.create_default_context(cafile=self.ca)
        return ctx.wrap_socket(c, server_hostname="127.0.0.1")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

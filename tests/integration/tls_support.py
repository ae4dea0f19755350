"""Certificates made by the tests (python3-cryptography) and a Gatehouse served over TLS."""
import datetime
import os
import pathlib
import time

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import Server


def make_pair(directory, name, days=2, expired=False, key_mode=0o600):
    """A self-signed P-256 certificate for localhost/127.0.0.1 and its key, written as
    DIR/NAME.crt and DIR/NAME.key; returns (cert path, key path, DER of the certificate)."""
    directory = pathlib.Path(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = (now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)) \
        if expired else (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"gatehouse-test-{name}")])
    import ipaddress
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    crt, kp = directory / f"{name}.crt", directory / f"{name}.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    os.chmod(kp, key_mode)
    return str(crt), str(kp), cert.public_bytes(serialization.Encoding.DER)


class TlsServer(Server):
    """A Server whose listener speaks TLS with the pair in DIR/live.crt and live.key."""

    def __init__(self, env=None, **kw):
        super().__init__(env=env, **kw)
        self.tls_dir = self.root / "tls"
        self.tls_dir.mkdir()
        self.cert, self.key, self.der = make_pair(self.tls_dir, "live")
        self.env.update({"GATEHOUSE_SERVER_TLS_CERT": self.cert,
                         "GATEHOUSE_SERVER_TLS_KEY": self.key})

    @property
    def base(self):
        return f"https://127.0.0.1:{self.port}"

    def get(self, path, **kw):
        kw.setdefault("verify", self.cert)
        return super().get(path, **kw)

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gatehouse exited during start-up:\n" + self.stderr_text())
            try:
                if requests.get(self.url("/healthz"), verify=self.cert, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("gatehouse not healthy:\n" + self.stderr_text())

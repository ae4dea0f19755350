"""The gatehouse command line."""
import os
import stat

import pytest

from conftest import Server, assert_error, run_cli, strong_password

SUBCOMMANDS = ["serve", "keygen", "user", "audit", "version"]


def test_version():
    p = run_cli(["version"])
    assert p.returncode == 0, p.stderr
    assert "gatehouse" in p.stdout.lower()
    assert any(ch.isdigit() for ch in p.stdout)


def test_help():
    p = run_cli(["--help"])
    assert p.returncode == 0, p.stderr
    out = p.stdout + p.stderr
    for sub in SUBCOMMANDS:
        assert sub in out


@pytest.mark.parametrize("sub", SUBCOMMANDS + ["user create", "user list", "user set-password",
                                               "user disable", "user enable", "audit verify",
                                               "audit export"])
def test_subcommand_help(sub):
    p = run_cli(sub.split() + ["--help"])
    assert p.returncode == 0, (sub, p.stdout, p.stderr)
    assert (p.stdout + p.stderr).strip()


def test_unknown_command_fails():
    p = run_cli(["frobnicate"])
    assert p.returncode != 0


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli") / "data"
    return d


def test_user_lifecycle(cli_dir, tmp_path):
    env = {"GATEHOUSE_AUTH_ALGORITHM": "EdDSA"}
    pw = strong_password()
    p = run_cli(["user", "create", "--username", "bob", "--email", "bob@x.io", "--password-stdin"],
                data_dir=cli_dir, env=env, input=pw + "\n")
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert pw not in p.stdout + p.stderr

    # duplicate fails
    p = run_cli(["user", "create", "--username", "BOB", "--email", "bob2@x.io",
                 "--password-stdin"], data_dir=cli_dir, env=env, input=pw + "\n")
    assert p.returncode != 0

    # weak password refused
    p = run_cli(["user", "create", "--username", "weakling", "--email", "weak@x.io",
                 "--password-stdin"], data_dir=cli_dir, env=env, input="password123\n")
    assert p.returncode != 0

    p = run_cli(["user", "list"], data_dir=cli_dir, env=env)
    assert p.returncode == 0, p.stderr
    assert "bob" in p.stdout and "bob@x.io" in p.stdout
    assert "$2b$" not in p.stdout

    s = Server(env=env, data_dir=cli_dir)
    try:
        s.start()
        t = s.tokens("bob", pw)
        assert s.tokens("bob@x.io", pw)["access_token"]
        me = s.get("/api/v1/auth/me",
                   headers={"Authorization": "Bearer " + t["access_token"]}).json()
        assert me["username"] == "bob" and me["email"] == "bob@x.io"
        assert me["orgs"] and me["orgs"][0]["name"] == "default"

        pw2 = strong_password()
        p = run_cli(["user", "set-password", "bob", "--password-stdin"], data_dir=cli_dir,
                    env=env, input=pw2 + "\n")
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert_error(s.login("bob", pw, expect=None), 401, "invalid_credentials")
        s.login("bob", pw2)

        p = run_cli(["user", "disable", "bob"], data_dir=cli_dir, env=env)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert_error(s.login("bob", pw2, expect=None), 401, "invalid_credentials")

        p = run_cli(["user", "enable", "bob"], data_dir=cli_dir, env=env)
        assert p.returncode == 0, (p.stdout, p.stderr)
        s.login("bob", pw2)
    finally:
        rc = s.stop()
        s.cleanup()
    assert rc == 0


def test_user_unknown_fails(tmp_path):
    d = tmp_path / "data"
    p = run_cli(["user", "disable", "nobody-here"], data_dir=d,
                env={"GATEHOUSE_AUTH_ALGORITHM": "EdDSA"})
    assert p.returncode != 0


@pytest.mark.parametrize("alg,marker", [("EdDSA", b"PRIVATE KEY"), ("ES256", b"PRIVATE KEY"),
                                        ("RS256", b"PRIVATE KEY")])
def test_keygen(tmp_path, alg, marker):
    out = tmp_path / f"k-{alg}.pem"
    args = ["keygen", "--alg", alg, "--out", str(out)]
    env = {"GATEHOUSE_AUTH_RSA_BITS": "2048"} if alg == "RS256" else None
    p = run_cli(args, env=env)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    data = out.read_bytes()
    assert marker in data and data.startswith(b"-----BEGIN")
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    key = load_pem_private_key(data, password=None)
    kind = type(key).__name__
    assert {"EdDSA": "Ed25519", "ES256": "EllipticCurve", "RS256": "RSA"}[alg] in kind, kind
    # refuses to overwrite
    p = run_cli(args, env=env)
    assert p.returncode != 0
    assert out.read_bytes() == data


def test_keygen_bad_alg(tmp_path):
    p = run_cli(["keygen", "--alg", "HS256", "--out", str(tmp_path / "x.pem")])
    assert p.returncode != 0
    assert not (tmp_path / "x.pem").exists()


def test_serve_uses_keygen_key(tmp_path, make_server):
    d = tmp_path / "data"
    (d / "keys").mkdir(parents=True)
    os.chmod(d / "keys", 0o700)
    p = run_cli(["keygen", "--alg", "EdDSA", "--out", str(d / "keys" / "signing.pem")])
    assert p.returncode == 0, p.stderr
    # the configured algorithm applies only to a new key; the loaded key keeps its own
    s = make_server({"GATEHOUSE_AUTH_ALGORITHM": "ES256"}, data_dir=d)
    k = s.jwks()["keys"][0]
    assert k["alg"] == "EdDSA" and k["kty"] == "OKP"

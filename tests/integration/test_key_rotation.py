"""Signing-key rotation: keyring.json, `keygen --rotate`, automatic rotation, retirement.

Every wait polls with a deadline; tokens are checked independently with PyJWT against
the served JWKS (keys chosen by kid; PyJWKClient needs the network).
"""
import json
import os
import re
import stat
import time

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from conftest import bearer, run_cli

VERIFY = "/api/v1/auth/verify"

# Short lifetimes so retirement happens within the test; RSA-2048 keeps key generation fast.
FAST = {
    "GATEHOUSE_AUTH_ACCESS_TTL": "10s",
    "GATEHOUSE_AUTH_RSA_BITS": "2048",
    # a fixed issuer: the port (and so the default issuer) changes on restart
    "GATEHOUSE_AUTH_ISSUER": "https://id.example.test",
}


def kids(server):
    return [k["kid"] for k in server.jwks()["keys"]]


def kid_of(token):
    return jwt.get_unverified_header(token)["kid"]


def wait_for(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def pyjwt_verify(server, token):
    kid = kid_of(token)
    matches = [k for k in server.jwks()["keys"] if k["kid"] == kid]
    assert len(matches) == 1, (kid, server.jwks())
    k = matches[0]
    if k["kty"] == "RSA":
        key = RSAAlgorithm.from_jwk(json.dumps(k))
    else:
        key = jwt.PyJWK(k).key
    # the algorithm comes from the published key, never from the token
    return jwt.decode(token, key, algorithms=[k["alg"]], audience="gatehouse",
                      issuer=server.openid()["issuer"])


def manifest(server):
    return json.loads((server.data_dir / "keys" / "keyring.json").read_text())


def record(server, kid):
    [r] = [r for r in manifest(server)["keys"] if r["kid"] == kid]
    return r


def key_file(server, rec):
    f = rec["file"]
    return pathlib_join(server.data_dir / "keys", f)


def pathlib_join(base, f):
    return f if os.path.isabs(f) else base / f


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def rotate(server, env=None, extra=()):
    e = dict(server.env)
    e.update(env or {})
    p = run_cli(["keygen", "--rotate", *extra], data_dir=server.data_dir, env=e)
    assert p.returncode == 0, p.stderr
    new = re.search(r"^active (\S+) ", p.stdout, re.M).group(1)
    old = re.search(r"^retiring (\S+) ", p.stdout, re.M).group(1)
    return new, old


def login(server, u):
    return server.tokens(u["username"], u["password"])["access_token"]


def assert_private_files_safe(server):
    keys = server.data_dir / "keys"
    text = (keys / "keyring.json").read_text()
    assert "PRIVATE" not in text
    for rec in manifest(server)["keys"]:
        assert set(rec) == {"kid", "alg", "file", "state", "created_at", "activated_at",
                            "retire_at"}, rec
    for p in keys.iterdir():
        assert mode(p) == 0o600, (p, oct(mode(p)))


def test_rotation_while_serving(make_server):
    s = make_server(FAST)
    u = s.register()
    token_a = login(s, u)
    kid1 = kid_of(token_a)
    assert kids(s) == [kid1]
    assert record(s, kid1)["state"] == "active"

    kid2, old = rotate(s)
    assert old == kid1 and kid2 != kid1
    # the running server follows within about a second
    wait_for("both kids in the JWKS", lambda: set(kids(s)) == {kid1, kid2}, 2)
    token_b = login(s, u)
    assert kid_of(token_b) == kid2
    for t in (token_a, token_b):
        assert pyjwt_verify(s, t)["sub"] == u["id"]
        r = s.get(VERIFY, headers=bearer(t))
        assert r.status_code == 200, r.text
    assert record(s, kid1)["state"] == "retiring"
    assert record(s, kid2)["state"] == "active"
    assert_private_files_safe(s)
    assert "RS256" in s.openid()["id_token_signing_alg_values_supported"]

    # after the last kid1 token has expired (+ grace) kid1 leaves the JWKS and its file goes
    old_file = key_file(s, record(s, kid1))
    assert old_file.exists()
    retire_at = record(s, kid1)["retire_at"]
    wait_for("kid1 out of the JWKS", lambda: kids(s) == [kid2],
             max(0, retire_at - time.time()) + 3)
    wait_for("kid1 retired", lambda: record(s, kid1)["state"] == "retired", 3)
    assert not old_file.exists()
    assert s.get(VERIFY, headers=bearer(token_a)).status_code == 401
    token_c = login(s, u)
    assert kid_of(token_c) == kid2
    assert pyjwt_verify(s, token_c)["sub"] == u["id"]
    assert s.get(VERIFY, headers=bearer(token_c)).status_code == 200
    assert_private_files_safe(s)


def test_rotation_to_another_algorithm(make_server):
    s = make_server(dict(FAST, GATEHOUSE_AUTH_ALGORITHM="ES256"))
    u = s.register()
    token_a = login(s, u)
    kid2, kid1 = rotate(s, extra=["--alg", "EdDSA"])
    wait_for("both kids", lambda: set(kids(s)) == {kid1, kid2}, 2)
    token_b = login(s, u)
    assert jwt.get_unverified_header(token_b)["alg"] == "EdDSA"
    assert pyjwt_verify(s, token_a)["sub"] == pyjwt_verify(s, token_b)["sub"] == u["id"]
    algs = s.openid()["id_token_signing_alg_values_supported"]
    assert algs[0] == "EdDSA" and "ES256" in algs


def test_restart_keeps_states(make_server):
    s = make_server(dict(FAST, GATEHOUSE_AUTH_ALGORITHM="ES256",
                         GATEHOUSE_AUTH_ACCESS_TTL="15m"))
    u = s.register()
    token_a = login(s, u)
    kid2, kid1 = rotate(s)
    wait_for("both kids", lambda: set(kids(s)) == {kid1, kid2}, 2)
    before = manifest(s)
    assert s.restart() == 0
    assert manifest(s) == before
    assert set(kids(s)) == {kid1, kid2}
    assert kid_of(login(s, u)) == kid2
    assert s.get(VERIFY, headers=bearer(token_a)).status_code == 200


def test_automatic_rotation(make_server):
    s = make_server(dict(FAST, GATEHOUSE_AUTH_ALGORITHM="ES256",
                         GATEHOUSE_AUTH_KEY_ROTATION="10s"))
    u = s.register()
    token_a = login(s, u)
    kid1 = kid_of(token_a)
    # due 10 s after the key was activated; checked about once a second
    new = wait_for("an automatic rotation",
                   lambda: [k for k in kids(s) if k != kid1], 20)
    kid2 = new[0]
    assert record(s, kid1)["state"] == "retiring"
    assert record(s, kid2)["state"] == "active"
    token_b = login(s, u)
    assert kid_of(token_b) == kid2
    assert pyjwt_verify(s, token_b)["sub"] == u["id"]
    assert s.get(VERIFY, headers=bearer(token_b)).status_code == 200
    if s.get(VERIFY, headers=bearer(token_a)).status_code == 200:  # unless already expired
        assert pyjwt_verify(s, token_a)["sub"] == u["id"]
    assert "rotated automatically" in s.log_text()
    assert_private_files_safe(s)


def test_legacy_data_dir_is_imported(tmp_path, make_server):
    d = tmp_path / "data"
    (d / "keys").mkdir(parents=True)
    os.chmod(d / "keys", 0o700)
    p = run_cli(["keygen", "--alg", "EdDSA", "--out", str(d / "keys" / "signing.pem")])
    assert p.returncode == 0, p.stderr
    legacy_kid = p.stdout.split("kid")[-1].strip()
    assert not (d / "keys" / "keyring.json").exists()
    s = make_server(FAST, data_dir=d)
    assert kids(s) == [legacy_kid]
    rec = record(s, legacy_kid)
    assert rec["state"] == "active" and rec["file"] == "signing.pem" and rec["alg"] == "EdDSA"
    assert_private_files_safe(s)
    # and it rotates like any other key
    kid2, old = rotate(s)
    assert old == legacy_kid
    wait_for("both kids", lambda: set(kids(s)) == {legacy_kid, kid2}, 2)


def test_group_readable_key_refused_at_start(make_server):
    s = make_server(dict(FAST, GATEHOUSE_AUTH_ALGORITHM="ES256"))
    kid2, _ = rotate(s)
    s.stop_ok()
    path = key_file(s, record(s, kid2))
    os.chmod(path, 0o640)
    with pytest.raises(RuntimeError) as ei:
        s.start(timeout=15)
    assert s.proc.returncode != 0
    msg = str(ei.value)
    assert str(path) in msg and "chmod 600" in msg, msg


def test_bad_manifest_keeps_current_keys(make_server):
    s = make_server(dict(FAST, GATEHOUSE_AUTH_ALGORITHM="ES256"))
    u = s.register()
    before = kids(s)
    m = s.data_dir / "keys" / "keyring.json"
    text = m.read_text()
    # two active keys: refused, the server keeps serving with what it has
    doc = json.loads(text)
    doc["keys"].append(dict(doc["keys"][0], kid="AAAA", file="AAAA.pem"))
    tmp = m.with_name("edit.tmp")
    tmp.write_text(json.dumps(doc))
    os.chmod(tmp, 0o600)
    os.replace(tmp, m)
    wait_for("the refusal in the log", lambda: "stay in use" in s.log_text(), 3)
    assert kids(s) == before
    t = login(s, u)
    assert s.get(VERIFY, headers=bearer(t)).status_code == 200
    # at start the same manifest is a clear error
    s.stop_ok()
    with pytest.raises(RuntimeError) as ei:
        s.start(timeout=15)
    assert "exactly one active key" in str(ei.value), str(ei.value)


def test_keygen_rotate_usage(tmp_path):
    p = run_cli(["keygen", "--rotate", "--out", str(tmp_path / "x.pem")])
    assert p.returncode == 2
    p = run_cli(["keygen", "--help"])
    assert p.returncode == 0 and "--rotate" in p.stdout

"""Logs, key file, bootstrap, configuration errors at start."""
import json
import os
import re
import stat
import subprocess
import time
import uuid

import pytest

from conftest import (ADMIN_PASSWORD, BASE_ENV, BIN, Server, bearer, clean_environ,
                      strong_password, unique_name)

VERIFY = "/api/v1/auth/verify"


def access_lines(server):
    lines = []
    for line in server.stdout_text().splitlines():
        line = line.strip()
        if not line:
            continue
        obj = json.loads(line)  # every stdout line is JSON
        assert isinstance(obj, dict)
        lines.append(obj)
    return lines


def wait_for_log(server, needle, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in server.stdout_text():
            return True
        time.sleep(0.05)
    return False


def test_access_log_json_lines(server):
    r = server.get("/healthz?probe=accesslog")
    rid = r.headers["X-Request-Id"]
    assert wait_for_log(server, rid)
    entries = [e for e in access_lines(server) if e.get("request_id") == rid]
    assert len(entries) == 1, entries
    e = entries[0]
    assert e["method"] == "GET"
    path = e.get("path", e.get("uri"))
    assert path and path.startswith("/healthz"), e
    assert e["status"] == 200
    assert any(k.startswith("duration") for k in e), e


def test_access_log_has_path_field(server):
    """The lead's contract names the field `path`."""
    r = server.get("/healthz")
    rid = r.headers["X-Request-Id"]
    assert wait_for_log(server, rid)
    e = [e for e in access_lines(server) if e.get("request_id") == rid][0]
    assert "path" in e, e


def test_secrets_never_logged(server):
    name = unique_name()
    pw = "Sekr1t-" + uuid.uuid4().hex[:12] + "-PW!"
    r = server.post("/api/v1/auth/register",
                    {"username": name, "email": f"{name}@example.test", "password": pw})
    assert r.status_code == 201
    t = server.tokens(name, pw)
    server.login(name, pw + "x", expect=401)
    r2 = server.post("/api/v1/auth/refresh", {"refresh_token": t["refresh_token"]}).json()
    server.get("/api/v1/auth/me", headers=bearer(r2["access_token"]))
    server.get(VERIFY, headers=bearer(t["access_token"]))
    server.post("/api/v1/auth/change-password",
                {"current_password": pw, "new_password": pw + "-new2"},
                headers=bearer(r2["access_token"]))
    secret_q = "SECRETVALUE" + name
    rq = server.get(VERIFY + "?token=" + secret_q + "&x=1")
    rid = rq.headers["X-Request-Id"]
    # Forwarded URI with a media token
    server.get(VERIFY, headers={"X-Forwarded-Uri": "/media/a.mp4?token=FWDSECRET" + name,
                                "X-Forwarded-Method": "GET"})
    assert wait_for_log(server, rid)
    time.sleep(0.2)
    log = server.log_text()
    for secret in (pw, pw + "x", pw + "-new2", t["access_token"], t["refresh_token"],
                   r2["access_token"], r2["refresh_token"], secret_q, "FWDSECRET" + name):
        assert secret not in log, f"secret leaked into logs: {secret[:20]}..."
    # the JWT signature part alone must not appear either
    assert t["access_token"].split(".")[2] not in log
    line = [l for l in server.stdout_text().splitlines() if rid in l]
    assert line and "token=***REDACTED***" in line[0], line


def test_stderr_startup_message(server):
    err = server.stderr_text()
    assert str(server.port) in err, err


def test_generated_admin_password(make_server):
    s = make_server({"GATEHOUSE_ADMIN_PASSWORD": None, "GATEHOUSE_AUTH_ALGORITHM": "ES256"})
    err = s.stderr_text()
    lines = [l for l in err.splitlines() if "password" in l.lower()]
    assert lines, err
    # try each token on the line as the password
    cands = re.findall(r"[^\s'\"`:,]{12,}", lines[0])
    ok = False
    for c in cands:
        r = s.post("/api/v1/auth/login", {"username": "admin", "password": c})
        if r.status_code == 200:
            ok = True
            pw = c
            break
    assert ok, lines
    # printed only once: a restart must not print it again nor reset it
    s.restart()
    assert s.stderr_text().count(pw) == 1
    s.login("admin", pw)
    # never stored in clear
    dump = repr(s.query("SELECT * FROM users"))
    assert pw not in dump


def test_key_file_mode_0600(server):
    st = os.stat(server.key_path)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert b"PRIVATE KEY" in server.key_path.read_bytes()


def test_key_not_world_readable_refuses_start(make_server):
    s = make_server({"GATEHOUSE_AUTH_ALGORITHM": "ES256"})
    s.stop_ok()
    os.chmod(s.key_path, 0o644)
    with pytest.raises(RuntimeError) as ei:
        s.start(timeout=15)
    assert s.proc.returncode != 0
    msg = str(ei.value).lower()
    assert "permission" in msg or "0600" in msg or "mode" in msg, msg


def start_expect_fail(env=None, config_text=None, tmp_path=None, timeout=20):
    e = clean_environ()
    e.update(BASE_ENV)
    e["GATEHOUSE_AUTH_ALGORITHM"] = "EdDSA"
    if env:
        e.update(env)
    cmd = [BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data")]
    if config_text is not None:
        cf = tmp_path / "gatehouse.yaml"
        cf.write_text(config_text)
        cmd += ["--config", str(cf)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("serve started despite a bad configuration")
    assert p.returncode != 0, (p.stdout, p.stderr)
    return p.stderr + p.stdout


def test_config_unknown_key(tmp_path):
    msg = start_expect_fail(config_text="auth:\n  acess_ttl: 15m\n", tmp_path=tmp_path)
    assert "acess_ttl" in msg, msg


def test_config_unknown_section(tmp_path):
    msg = start_expect_fail(config_text="authx:\n  issuer: a\n", tmp_path=tmp_path)
    assert "authx" in msg, msg


def test_config_bad_value(tmp_path):
    msg = start_expect_fail(config_text="auth:\n  access_ttl: soon\n", tmp_path=tmp_path)
    assert "access_ttl" in msg and "soon" in msg, msg


def test_config_bad_enum(tmp_path):
    msg = start_expect_fail(config_text="auth:\n  algorithm: HS256\n", tmp_path=tmp_path)
    assert "algorithm" in msg, msg


def test_env_bad_value(tmp_path):
    msg = start_expect_fail(env={"GATEHOUSE_AUTH_ACCESS_TTL": "soon"}, tmp_path=tmp_path)
    assert "GATEHOUSE_AUTH_ACCESS_TTL" in msg, msg


def test_env_bad_bool(tmp_path):
    msg = start_expect_fail(env={"GATEHOUSE_AUTH_REGISTRATION": "maybe"}, tmp_path=tmp_path)
    assert "GATEHOUSE_AUTH_REGISTRATION" in msg, msg


def test_storage_backend_unknown(tmp_path):
    # A well-formed configuration naming a backend this build does not have: the start
    # stops before anything listens, naming the key.
    e = clean_environ()
    e.update(BASE_ENV)
    e["GATEHOUSE_STORAGE_BACKEND"] = "postgres"
    p = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:1", "--data-dir",
                        str(tmp_path / "data")], capture_output=True, text=True, env=e,
                       timeout=20)
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert "storage.backend" in p.stderr and "postgres" in p.stderr, p.stderr


def test_config_file_good(make_server, tmp_path):
    cf = tmp_path / "good.yaml"
    cf.write_text("auth:\n  algorithm: ES256\n  access_ttl: 5m\n"
                  "password:\n  bcrypt_cost: 4\n")
    s = make_server(config=cf, env={"GATEHOUSE_PASSWORD_BCRYPT_COST": None})
    assert s.jwks()["keys"][0]["alg"] == "ES256"
    u = s.register()
    assert s.tokens(u["username"], u["password"])["expires_in"] == 300


def test_env_overrides_file(make_server, tmp_path):
    cf = tmp_path / "good.yaml"
    cf.write_text("auth:\n  algorithm: ES256\n  access_ttl: 5m\n")
    s = make_server(config=cf, env={"GATEHOUSE_AUTH_ACCESS_TTL": "7m"})
    u = s.register()
    assert s.tokens(u["username"], u["password"])["expires_in"] == 420


# -- core dumps and privileges -------------------------------------------------

def core_limits(pid):
    """(soft, hard) of "Max core file size" in /proc/PID/limits, as text."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max core file size"):
                return tuple(line[len("Max core file size"):].split()[:2])
    raise AssertionError("no core limit line")


def proc_ids(pid):
    """The real, effective, saved and fs uids and gids of /proc/PID/status."""
    ids = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid"):
                ids[key] = [int(v) for v in value.split()]
    return ids


def test_core_dumps_off_by_default(server):
    assert core_limits(server.proc.pid) == ("0", "0")


@pytest.mark.skipif(os.geteuid() != 0, reason="a non-dumpable process's environ is root's")
def test_admin_password_wiped_from_environ(server):
    with open(f"/proc/{server.proc.pid}/environ", "rb") as f:
        environ = f.read()
    assert b"GATEHOUSE_ADMIN_PASSWORD=" in environ  # the name stays, the value is wiped
    assert ADMIN_PASSWORD.encode() not in environ


def test_core_dumps_allowed_when_configured(make_server):
    import resource
    s = make_server(env={"GATEHOUSE_SERVER_ALLOW_CORE_DUMPS": "true",
                         "GATEHOUSE_AUTH_ALGORITHM": "ES256"})
    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    expected = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    assert core_limits(s.proc.pid)[1] == expected


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_server_user_drops_privileges(make_server):
    import pwd
    nobody = pwd.getpwnam("nobody")
    s = make_server(env={"GATEHOUSE_SERVER_USER": "nobody",
                         "GATEHOUSE_AUTH_ALGORITHM": "ES256"}, start=False)
    os.chmod(s.root, 0o755)  # the user must be able to reach its data directory
    for start in range(2):  # the first start makes the data directory, the second reuses it
        if start:
            s.restart()
        else:
            s.start()
        # Every thread, the pools started before the drop included.
        for task in os.listdir(f"/proc/{s.proc.pid}/task"):
            ids = proc_ids(f"{s.proc.pid}/task/{task}")
            assert ids["Uid"] == [nobody.pw_uid] * 4, task
            assert ids["Gid"] == [nobody.pw_gid] * 4, task
        # Not dumpable: the kernel keeps /proc/PID files root's.
        assert os.stat(f"/proc/{s.proc.pid}/status").st_uid == 0
        assert core_limits(s.proc.pid) == ("0", "0")
        assert s.get("/healthz").status_code == 200
        s.login("admin", ADMIN_PASSWORD)
        s.register()  # a write to the database
        for dirpath, dirnames, filenames in os.walk(s.data_dir):
            for name in dirnames + filenames + ["."]:
                st = os.lstat(os.path.join(dirpath, name))
                assert st.st_uid == nobody.pw_uid, os.path.join(dirpath, name)


def test_server_user_unknown_refused(make_server):
    s = make_server(env={"GATEHOUSE_SERVER_USER": "no-such-user-gh",
                         "GATEHOUSE_AUTH_ALGORITHM": "ES256"}, start=False)
    s.start(wait=False)
    assert s.proc.wait(timeout=30) == 1
    assert 'no user "no-such-user-gh"' in s.stderr_text()

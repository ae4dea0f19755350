"""The master key and the data keys at start (issue 14, item 1; docs/CRYPTO.md).

The master key file is made 0600 on first start and refused when group or others can
read it; GATEHOUSE_MASTER_KEY replaces it and is checked; a master key that does not open
the stored data keys stops the start and creates nothing.
"""
import os
import stat

FAST = {"GATEHOUSE_AUTH_ALGORITHM": "ES256"}
HEX_A = "11" * 32
HEX_B = "22" * 32


def start_fails(server):
    server.start(wait=False)
    rc = server.proc.wait(timeout=30)
    server.stop()
    assert rc != 0
    return server.stderr_text()


def test_first_start_makes_a_private_master_key_and_one_data_key(make_server):
    s = make_server(env=FAST)
    path = s.data_dir / "keys" / "master.key"
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_size == 32
    rows = s.query("SELECT id, length(wrapped) AS n FROM data_keys")
    assert [(r["id"], r["n"]) for r in rows] == [(1, 60)]
    # Restarted: the same key, no second one.
    s.restart()
    assert len(s.query("SELECT id FROM data_keys")) == 1


def test_master_key_file_readable_by_others_is_refused(make_server):
    s = make_server(env=FAST)
    s.stop()
    os.chmod(s.data_dir / "keys" / "master.key", 0o644)
    err = start_fails(s)
    assert "master.key" in err and "chmod 600" in err


def test_master_key_from_the_environment(make_server):
    s = make_server(env=dict(FAST, GATEHOUSE_MASTER_KEY=HEX_A))
    assert not (s.data_dir / "keys" / "master.key").exists()
    assert len(s.query("SELECT id FROM data_keys")) == 1
    # Another master key does not open the stored data keys: refused, nothing added.
    s.stop()
    s.env["GATEHOUSE_MASTER_KEY"] = HEX_B
    err = start_fails(s)
    assert "does not open the stored data keys" in err
    assert len(s.query("SELECT id FROM data_keys")) == 1
    # Not 64 hexadecimal digits.
    for bad in ("11" * 31, "zz" * 32, ""):
        s.env["GATEHOUSE_MASTER_KEY"] = bad
        err = start_fails(s)
        assert "GATEHOUSE_MASTER_KEY: expected 64 hexadecimal digits" in err
    assert HEX_A not in s.stderr_text()

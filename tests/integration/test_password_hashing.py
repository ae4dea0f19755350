"""Password storage as a user sees it: Argon2id when configured, and stored hashes that
move to the configured algorithm on the next successful login."""
from conftest import ADMIN_PASSWORD, assert_error

# Small Argon2id parameters keep the test fast; the defaults (3 passes, 64 MiB) are
# exercised by the unit tests.
ARGON2 = {"GATEHOUSE_PASSWORD_HASH": "argon2id", "GATEHOUSE_PASSWORD_ARGON2_OPS": "1",
          "GATEHOUSE_PASSWORD_ARGON2_MEMORY": "8MiB", "GATEHOUSE_AUTH_ALGORITHM": "EdDSA"}


def stored_hash(server, username):
    rows = server.query("SELECT password_hash FROM users WHERE username = ?", (username,))
    assert rows, username
    return rows[0]["password_hash"]


def test_argon2id_is_used_when_configured(make_server):
    s = make_server(env=ARGON2)
    u = s.register()
    assert stored_hash(s, u["username"]).startswith("$argon2id$")
    assert u["password"] not in stored_hash(s, u["username"])
    s.login(u["username"], u["password"])
    r = s.login(u["username"], u["password"] + "x", expect=None)
    assert_error(r, 401, code="invalid_credentials")
    assert stored_hash(s, "admin").startswith("$argon2id$")
    s.login("admin", ADMIN_PASSWORD)


def test_bcrypt_hash_moves_to_argon2id_on_login(make_server):
    s = make_server(env={"GATEHOUSE_AUTH_ALGORITHM": "EdDSA"})
    u = s.register()
    before = stored_hash(s, u["username"])
    assert before.startswith("$bcrypt-sha256$$2b$04$"), before
    assert s.restart(env=ARGON2) == 0
    r = s.login(u["username"], u["password"] + "x", expect=None)
    assert_error(r, 401, code="invalid_credentials")
    assert stored_hash(s, u["username"]) == before  # a failed login changes nothing
    s.login(u["username"], u["password"])
    assert stored_hash(s, u["username"]).startswith("$argon2id$")
    s.login(u["username"], u["password"])  # and the new hash verifies

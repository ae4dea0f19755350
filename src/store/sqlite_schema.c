/*
 * The SQLite schema and statements of the store backend, and connection set-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite_schema.h"

/*
 * Usernames, emails and org names are unique without regard to case through unique
 * indexes on lower(), and every lookup compares lower(column) with lower(?) so that the
 * same indexes serve it (an expression index is used only for the identical expression).
 * lower() rather than COLLATE NOCASE so that one rule covers every column and lookups
 * cannot drift from the index. SQLite's lower() folds ASCII only (no ICU): usernames are
 * ASCII by rule, and a non-ASCII email address compares exactly in its non-ASCII part,
 * which is what mail systems do anyway (the local part is theirs to interpret).
 */
/*
 * The migrations, append-only: entry i brings the database to version i + 1. Never edit a
 * shipped migration; append a new one.
 */
static const char *const migrations[] = {
    /* 1: users, orgs, roles, memberships, refresh tokens, audit events */
    "CREATE TABLE orgs ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX orgs_name ON orgs(lower(name));"
    "CREATE TABLE users ("
    "  id TEXT PRIMARY KEY,"
    "  username TEXT NOT NULL,"
    "  email TEXT NOT NULL,"
    "  full_name TEXT NOT NULL DEFAULT '',"
    "  password_hash TEXT NOT NULL,"
    "  primary_org_id TEXT REFERENCES orgs(id) ON DELETE SET NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  superadmin INTEGER NOT NULL DEFAULT 0,"
    "  token_epoch INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX users_username ON users(lower(username));"
    "CREATE UNIQUE INDEX users_email ON users(lower(email));"
    "CREATE TABLE roles ("
    "  id TEXT PRIMARY KEY,"
    "  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  permissions TEXT NOT NULL,"
    "  system INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (org_id, name));"
    "CREATE TABLE memberships ("
    "  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  role_id TEXT NOT NULL REFERENCES roles(id),"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (org_id, user_id));"
    "CREATE INDEX memberships_user ON memberships(user_id);"
    "CREATE TABLE refresh_tokens ("
    "  id TEXT PRIMARY KEY,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  family_id TEXT NOT NULL,"
    "  org_id TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  spent_at INTEGER,"
    "  revoked_at INTEGER);"
    "CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);"
    "CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);"
    "CREATE TABLE audit_events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  ts INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  user_id TEXT, username TEXT, org_id TEXT,"
    "  resource_type TEXT, resource_id TEXT,"
    "  ip_address TEXT, user_agent TEXT, method TEXT, path TEXT,"
    "  status INTEGER,"
    "  metadata TEXT);"
    "CREATE INDEX audit_events_ts ON audit_events(ts);"
    "CREATE INDEX audit_events_user ON audit_events(user_id);"
    "CREATE INDEX audit_events_action ON audit_events(action);",
    /* 2: a feed of revocations, so every process and node sharing the database drops its
     * cached view of a user whose tokens were revoked elsewhere */
    "CREATE TABLE revocations ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  user_id TEXT NOT NULL,"
    "  at INTEGER NOT NULL);"
    "CREATE INDEX revocations_at ON revocations(at);",
    /* 3: API keys, stored as a keyed hash; a live key's name is unique per user */
    "CREATE TABLE api_keys ("
    "  id TEXT PRIMARY KEY,"
    "  key_hash BLOB NOT NULL UNIQUE,"
    "  prefix TEXT NOT NULL,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  scopes TEXT,"
    "  allowed_ips TEXT NOT NULL DEFAULT '',"
    "  expires_at INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  last_used_at INTEGER,"
    "  last_used_ip TEXT,"
    "  revoked_at INTEGER);"
    "CREATE INDEX api_keys_user ON api_keys(user_id, created_at);"
    "CREATE UNIQUE INDEX api_keys_live_name ON api_keys(user_id, name) WHERE revoked_at IS NULL;",
    /* 4: the audit chain. Records from before it stay outside the chain (audit_chain
     * .start); each later one carries its predecessor's hash and its own; checkpoints
     * are signed statements of (seq, hash). */
    "ALTER TABLE audit_events ADD COLUMN prev_hash BLOB;"
    "ALTER TABLE audit_events ADD COLUMN hash BLOB;"
    "CREATE TABLE audit_chain (start INTEGER NOT NULL);"
    "INSERT INTO audit_chain (start) SELECT coalesce((SELECT seq FROM sqlite_sequence"
    "  WHERE name = 'audit_events'), 0);"
    "CREATE TABLE audit_checkpoints ("
    "  seq INTEGER PRIMARY KEY,"
    "  hash BLOB NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  signature BLOB NOT NULL,"
    "  key_id TEXT NOT NULL);"
    "CREATE INDEX audit_events_org ON audit_events(org_id, id);"
    "CREATE INDEX audit_events_resource ON audit_events(resource_type, resource_id);",
    /* 5: RBAC: a role's members, what is scoped to an org (for deleting it), and the
     * permissions declared through the API */
    "CREATE INDEX memberships_role ON memberships(role_id);"
    "CREATE INDEX refresh_tokens_org ON refresh_tokens(org_id);"
    "CREATE INDEX api_keys_org ON api_keys(org_id);"
    "CREATE TABLE permissions ("
    "  name TEXT PRIMARY KEY,"
    "  created_at INTEGER NOT NULL);",
    /* 6: invitations to an org. user_id NULL: addressed to nobody (an unknown user, a
     * member, one already invited), so that the org sees the same row either way; a
     * deleted invitee leaves such a row too rather than a gap the org could notice. */
    "CREATE TABLE org_invitations ("
    "  id TEXT PRIMARY KEY,"
    "  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  user_id TEXT REFERENCES users(id) ON DELETE SET NULL,"
    "  role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,"
    "  invited_by TEXT REFERENCES users(id) ON DELETE SET NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  answered_at INTEGER);"
    "CREATE INDEX org_invitations_org ON org_invitations(org_id, status, expires_at);"
    "CREATE INDEX org_invitations_user ON org_invitations(user_id, status, expires_at);"
    "CREATE INDEX org_invitations_role ON org_invitations(role_id);"
    "CREATE INDEX org_invitations_by ON org_invitations(invited_by);",
    /* 7: browser sessions (the cookie's SHA-256 only), TOTP factors (the secret sealed),
     * backup codes (SHA-256) and logins waiting for their second factor */
    "CREATE TABLE sessions ("
    "  id TEXT PRIMARY KEY,"
    "  session_hash BLOB NOT NULL UNIQUE,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  org_id TEXT NOT NULL,"
    "  family_id TEXT NOT NULL,"
    "  method TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  ip_address TEXT NOT NULL DEFAULT '',"
    "  user_agent TEXT NOT NULL DEFAULT '',"
    "  revoked_at INTEGER);"
    "CREATE INDEX sessions_user ON sessions(user_id, created_at);"
    "CREATE INDEX sessions_family ON sessions(family_id);"
    "CREATE TABLE mfa_totp ("
    "  user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  secret TEXT NOT NULL,"
    "  enabled INTEGER NOT NULL DEFAULT 0,"
    "  last_step INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE mfa_backup_codes ("
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  code_hash BLOB NOT NULL,"
    "  used_at INTEGER,"
    "  PRIMARY KEY (user_id, code_hash));"
    "CREATE TABLE mfa_challenges ("
    "  challenge_hash BLOB PRIMARY KEY,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  org_id TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  spent_at INTEGER);"
    "CREATE INDEX mfa_challenges_user ON mfa_challenges(user_id);",
    /* 8: data keys, wrapped by the master key (crypto/datakeys.c) */
    "CREATE TABLE data_keys ("
    "  id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 2147483647),"
    "  wrapped BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL);",
    /* 9: SSO identity providers made through the admin API (config's live in memory); the
     * client secret sealed (enc:v1) */
    "CREATE TABLE sso_providers ("
    "  name TEXT PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  preset TEXT NOT NULL DEFAULT '',"
    "  tenant TEXT NOT NULL DEFAULT '',"
    "  issuer TEXT NOT NULL DEFAULT '',"
    "  authorization_endpoint TEXT NOT NULL DEFAULT '',"
    "  token_endpoint TEXT NOT NULL DEFAULT '',"
    "  userinfo_endpoint TEXT NOT NULL DEFAULT '',"
    "  client_id TEXT NOT NULL DEFAULT '',"
    "  client_secret TEXT NOT NULL DEFAULT '',"
    "  token_auth TEXT NOT NULL DEFAULT '',"
    "  scopes TEXT NOT NULL DEFAULT '',"
    "  claim_subject TEXT NOT NULL DEFAULT '',"
    "  claim_email TEXT NOT NULL DEFAULT '',"
    "  claim_username TEXT NOT NULL DEFAULT '',"
    "  claim_name TEXT NOT NULL DEFAULT '',"
    "  default_role TEXT NOT NULL DEFAULT '',"
    "  pkce INTEGER NOT NULL,"
    "  enabled INTEGER NOT NULL,"
    "  auto_create_user INTEGER NOT NULL,"
    "  link_by_email INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);",
    /* 10: the vault: every version of an org's secrets, sealed (crypto/vault.c) */
    "CREATE TABLE vault_entries ("
    "  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  key_id INTEGER NOT NULL,"
    "  sealed BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (org_id, name, version));"
    "CREATE INDEX vault_entries_key ON vault_entries(key_id);",
    /* 11: outside identities linked to users, and SSO sign-ins waiting for the
     * provider (the state's SHA-256, bound to the browser's cookie's SHA-256) */
    "CREATE TABLE sso_identities ("
    "  id TEXT PRIMARY KEY,"
    "  provider TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  email TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  last_login_at INTEGER NOT NULL,"
    "  UNIQUE (provider, subject));"
    "CREATE INDEX sso_identities_user ON sso_identities(user_id, created_at);"
    "CREATE TABLE sso_states ("
    "  state_hash BLOB PRIMARY KEY,"
    "  binding_hash BLOB NOT NULL,"
    "  provider TEXT NOT NULL,"
    "  redirect_to TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);"
    "CREATE INDEX sso_states_expiry ON sso_states(expires_at);",
    /* 12: org names repeat (a 409 on a name told a tenant of another's org) */
    "DROP INDEX orgs_name;"
    "CREATE INDEX orgs_name_lower ON orgs(lower(name));",
    /* 13: SAML providers: our entity id, the IdP's metadata, our key (sealed, enc:v1) and
     * certificate */
    "ALTER TABLE sso_providers ADD COLUMN sp_entity_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE sso_providers ADD COLUMN idp_metadata TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE sso_providers ADD COLUMN sp_private_key TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE sso_providers ADD COLUMN sp_certificate TEXT NOT NULL DEFAULT '';",
    /* 14: address blocks (edge/blocks.c) and their epoch, which nodes poll to reload */
    "CREATE TABLE address_blocks ("
    "  id TEXT PRIMARY KEY,"
    "  cidr TEXT NOT NULL UNIQUE,"
    "  reason TEXT NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  automatic INTEGER NOT NULL);"
    "CREATE INDEX address_blocks_expiry ON address_blocks(expires_at);"
    "CREATE TABLE address_block_epoch ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  epoch INTEGER NOT NULL);"
    "INSERT INTO address_block_epoch (id, epoch) VALUES (1, 0);",
    /* 15: when a refresh family's and a session's sign-in was proven last (the
     * re-authentication window of dangerous actions); 0 for those made before */
    "ALTER TABLE refresh_tokens ADD COLUMN auth_time INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sessions ADD COLUMN auth_time INTEGER NOT NULL DEFAULT 0;",
    /* 16: a user's epoch in an org (how often removed from it), kept past the membership:
     * an access token carries it, so a re-add revives none minted before a removal */
    "CREATE TABLE member_epochs ("
    "  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  epoch INTEGER NOT NULL,"
    "  PRIMARY KEY (org_id, user_id));"
    "CREATE INDEX member_epochs_user ON member_epochs(user_id);",
    /* 17: the client ids whose access tokens a provider-token login takes ("": any) */
    "ALTER TABLE sso_providers ADD COLUMN allowed_client_ids TEXT NOT NULL DEFAULT '';",
    /* 18: whether a SAML IdP's email counts as verified (off for those made before) */
    "ALTER TABLE sso_providers ADD COLUMN trust_email INTEGER NOT NULL DEFAULT 0;",
    /* 19: where a google provider asks which app an access token was issued to ("": none):
     * Google's for the google providers made before, as for new ones */
    ("ALTER TABLE sso_providers ADD COLUMN tokeninfo_endpoint TEXT NOT NULL DEFAULT '';"
     "UPDATE sso_providers SET tokeninfo_endpoint = 'https://oauth2.googleapis.com/tokeninfo' "
     "WHERE preset = 'google';"),
    /* 20: where a SAML IdP's metadata is fetched from ("": given inline) and when */
    ("ALTER TABLE sso_providers ADD COLUMN idp_metadata_url TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE sso_providers ADD COLUMN idp_metadata_at INTEGER NOT NULL DEFAULT 0;"),
};

static const size_t migration_count = sizeof(migrations) / sizeof(migrations[0]);

/* Every statement of the backend, by the names of store/sql_stmt.h. */
const char *const gh_sqlite_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_DATAKEY_INSERT] = "INSERT INTO data_keys (id, wrapped, created_at) VALUES (?, ?, ?)",
    [ST_DATAKEY_LIST] = "SELECT id, wrapped, created_at FROM data_keys ORDER BY id",
    [ST_BLOCK_PURGE] = "DELETE FROM address_blocks WHERE expires_at <> 0 AND expires_at <= ?1",
    [ST_BLOCK_INSERT] = "INSERT INTO address_blocks (" BLOCK_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_BLOCK_GET] = "SELECT " BLOCK_COLS " FROM address_blocks WHERE id = ?1",
    [ST_BLOCK_DELETE] = "DELETE FROM address_blocks WHERE id = ?1",
    [ST_BLOCK_LIST] = "SELECT " BLOCK_COLS " FROM address_blocks "
                      "WHERE expires_at = 0 OR expires_at > ?1 "
                      "ORDER BY created_at, id LIMIT ?2 OFFSET ?3",
    [ST_BLOCK_BUMP] = "UPDATE address_block_epoch SET epoch = epoch + 1 WHERE id = 1",
    [ST_BLOCK_EPOCH] = "SELECT epoch FROM address_block_epoch WHERE id = 1",
    [ST_SSO_PROVIDER_INSERT] = "INSERT INTO sso_providers (" SSO_PROVIDER_COLS ") VALUES "
                               "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                               "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_SSO_PROVIDER_GET] = "SELECT " SSO_PROVIDER_COLS " FROM sso_providers WHERE name = ?1",
    [ST_SSO_PROVIDER_LIST] = "SELECT " SSO_PROVIDER_COLS " FROM sso_providers "
                             "ORDER BY name LIMIT ?1 OFFSET ?2",
    [ST_SSO_PROVIDER_UPDATE] =
        "UPDATE sso_providers SET type = ?2, preset = ?3, tenant = ?4, issuer = ?5, "
        "authorization_endpoint = ?6, token_endpoint = ?7, userinfo_endpoint = ?8, "
        "client_id = ?9, client_secret = ?10, token_auth = ?11, scopes = ?12, "
        "claim_subject = ?13, claim_email = ?14, claim_username = ?15, claim_name = ?16, "
        "default_role = ?17, pkce = ?18, enabled = ?19, auto_create_user = ?20, "
        "link_by_email = ?21, updated_at = ?22, sp_entity_id = ?23, idp_metadata = ?24, "
        "sp_private_key = ?25, sp_certificate = ?26, allowed_client_ids = ?27, trust_email = ?28, "
        "tokeninfo_endpoint = ?29, idp_metadata_url = ?30, idp_metadata_at = ?31 "
        "WHERE name = ?1",
    [ST_SSO_PROVIDER_DELETE] = "DELETE FROM sso_providers WHERE name = ?1",
    [ST_SSO_LINK_INSERT] = "INSERT INTO sso_identities (" SSO_LINK_COLS ") VALUES "
                           "(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_SSO_LINK_FIND] = "SELECT " SSO_LINK_COLS " FROM sso_identities WHERE provider = ?1 "
                         "AND subject = ?2",
    [ST_SSO_LINK_LIST] = "SELECT " SSO_LINK_COLS " FROM sso_identities WHERE user_id = ?1 "
                         "ORDER BY created_at, id",
    [ST_SSO_LINK_TOUCH] = "UPDATE sso_identities SET last_login_at = ?2 WHERE id = ?1",
    [ST_SSO_LINK_DELETE] = "DELETE FROM sso_identities WHERE user_id = ?1 AND id = ?2",
    [ST_SSO_STATE_INSERT] = "INSERT INTO sso_states (" SSO_STATE_COLS ") VALUES "
                            "(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_SSO_STATE_PURGE] = "DELETE FROM sso_states WHERE expires_at < ?1",
    [ST_SSO_STATE_TAKE] = "DELETE FROM sso_states WHERE state_hash = ?1 RETURNING " SSO_STATE_COLS,
    [ST_VAULT_INSERT] = "INSERT INTO vault_entries (org_id, name, version, key_id, sealed, "
                        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
    [ST_VAULT_LATEST] = "SELECT " VAULT_COLS " FROM vault_entries WHERE org_id = ? AND name = ? "
                        "ORDER BY version DESC LIMIT 1",
    [ST_VAULT_LIST] = "SELECT org_id, name, max(version), "
                      "(SELECT created_at FROM vault_entries w WHERE w.org_id = v.org_id AND "
                      "w.name = v.name ORDER BY version DESC LIMIT 1) "
                      "FROM vault_entries v WHERE org_id = ? GROUP BY org_id, name "
                      "ORDER BY name LIMIT ? OFFSET ?",
    [ST_VAULT_DELETE] = "DELETE FROM vault_entries WHERE org_id = ? AND name = ?",
    [ST_VAULT_SCAN] = "SELECT " VAULT_COLS " FROM vault_entries WHERE key_id < ? "
                      "ORDER BY org_id, name, version LIMIT ?",
    [ST_VAULT_COUNT_BELOW] = "SELECT count(*) FROM vault_entries WHERE key_id < ?",
    [ST_VAULT_REKEY] = "UPDATE vault_entries SET key_id = ?, sealed = ? WHERE org_id = ? AND "
                       "name = ? AND version = ? AND key_id = ?",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PING] = "SELECT 1",
    /* BEGIN IMMEDIATE holds the database's one write lock: nothing more to take. */
    [ST_WRITE_LOCK] = NULL,
    [ST_AUDIT_LOCK] = NULL,
    [ST_USER_INSERT] = "INSERT INTO users (id, username, email, full_name, password_hash, "
                       "primary_org_id, disabled, superadmin, token_epoch, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, nullif(?, ''), ?, ?, ?, ?, ?)",
    [ST_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?",
    /* Usernames cannot hold '@' and emails must, so at most one row matches; the ORDER BY
     * only makes the answer deterministic should a row ever break that rule. */
    [ST_USER_FIND] = "SELECT " USER_COLS " FROM users "
                     "WHERE lower(username) = lower(?1) OR lower(email) = lower(?1) "
                     "ORDER BY lower(username) = lower(?1) DESC LIMIT 1",
    /* The one read of a password hash: the credential check's. */
    [ST_USER_CREDENTIALS] = "SELECT id, password_hash FROM users WHERE id = ?",
    [ST_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY created_at, id LIMIT ? OFFSET ?",
    [ST_USER_COUNT] = "SELECT count(*) FROM users",
    [ST_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3 "
                             "RETURNING token_epoch",
    [ST_USER_SET_DISABLED] = "UPDATE users SET disabled = ?1, updated_at = ?2 WHERE id = ?3 "
                             "RETURNING token_epoch",
    [ST_USER_BUMP_EPOCH] = "UPDATE users SET token_epoch = token_epoch + 1 WHERE id = ? "
                           "RETURNING token_epoch",
    [ST_ORG_INSERT] = "INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)",
    [ST_ROLE_INSERT] = "INSERT INTO roles (id, org_id, name, permissions, system) "
                       "VALUES (?, ?, ?, ?, 1)",
    [ST_ORG_FIND_NAME] = "SELECT id, name, created_at FROM orgs WHERE lower(name) = lower(?) "
                         "ORDER BY created_at, id LIMIT 2",
    [ST_MEMBER_ADD] = "INSERT INTO memberships (org_id, user_id, role_id, created_at) "
                      "SELECT ?1, ?2, id, ?4 FROM roles WHERE org_id = ?1 AND name = ?3",
    [ST_MEMBER_GET] = MEMBER_SELECT "WHERE m.org_id = ? AND m.user_id = ?",
    [ST_MEMBER_LIST_USER] = MEMBER_SELECT "WHERE m.user_id = ? ORDER BY o.name, o.id LIMIT ?",
    [ST_REFRESH_INSERT] = "INSERT INTO refresh_tokens (" REFRESH_COLS ") "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_REFRESH_SPEND] = "UPDATE refresh_tokens SET spent_at = ?1 WHERE token_hash = ?2 "
                         "AND spent_at IS NULL AND revoked_at IS NULL AND expires_at > ?1 "
                         "RETURNING " REFRESH_COLS,
    [ST_REFRESH_GET] = "SELECT " REFRESH_COLS ", spent_at IS NOT NULL, revoked_at IS NOT NULL "
                       "FROM refresh_tokens WHERE token_hash = ?",
    [ST_REFRESH_REVOKE] = "UPDATE refresh_tokens SET revoked_at = ? "
                          "WHERE token_hash = ? AND revoked_at IS NULL",
    [ST_REFRESH_REVOKE_FAMILY] = "UPDATE refresh_tokens SET revoked_at = ? "
                                 "WHERE family_id = ? AND revoked_at IS NULL",
    [ST_REFRESH_REVOKE_USER] = "UPDATE refresh_tokens SET revoked_at = ? "
                               "WHERE user_id = ? AND revoked_at IS NULL",
    [ST_REFRESH_PURGE] = "DELETE FROM refresh_tokens WHERE expires_at < ?",
    [ST_AUDIT_INSERT] = "INSERT INTO audit_events (ts, action, user_id, username, org_id, "
                        "resource_type, resource_id, ip_address, user_agent, method, path, "
                        "status, metadata, id, prev_hash, hash) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    /* The chain's end: the highest id ever given (deleted rows included), the newest
     * record's hash, the newest checkpoint. */
    [ST_AUDIT_HEAD] = "SELECT (SELECT start FROM audit_chain),"
                      " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'), 0),"
                      " (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1),"
                      " coalesce((SELECT max(seq) FROM audit_checkpoints), 0),"
                      " coalesce((SELECT ts FROM audit_checkpoints ORDER BY seq DESC LIMIT 1), 0)",
    [ST_AUDIT_LIST] = "SELECT " AUDIT_COLS " FROM audit_events "
                      "WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR action = ?2) "
                      "AND (?3 IS NULL OR resource_type = ?3) "
                      "AND (?4 IS NULL OR resource_id = ?4) AND (?5 IS NULL OR org_id = ?5) "
                      "AND (?6 IS NULL OR ts >= ?6) AND (?7 IS NULL OR ts <= ?7) "
                      "ORDER BY id DESC LIMIT ?8 OFFSET ?9",
    [ST_AUDIT_SCAN] = "SELECT " AUDIT_COLS " FROM audit_events WHERE id > ? ORDER BY id",
    [ST_CHECKPOINT_INSERT] = "INSERT OR IGNORE INTO audit_checkpoints "
                             "(seq, hash, ts, signature, key_id) VALUES (?, ?, ?, ?, ?)",
    [ST_CHECKPOINT_LIST] = "SELECT seq, hash, ts, signature, key_id FROM audit_checkpoints "
                           "ORDER BY seq",
    [ST_AUDIT_PURGE] = "DELETE FROM audit_events WHERE id < (SELECT max(seq) FROM "
                       "audit_checkpoints WHERE ts < ?1)",
    [ST_REVOCATION_INSERT] = "INSERT INTO revocations (user_id, at) VALUES (?, ?)",
    [ST_REVOCATION_SINCE] = "SELECT seq, user_id FROM revocations WHERE seq > ? "
                            "ORDER BY seq LIMIT 1000",
    [ST_REVOCATION_LAST] = "SELECT coalesce(max(seq), 0) FROM revocations",
    [ST_REVOCATION_PURGE] = "DELETE FROM revocations WHERE at < ?",
    [ST_APIKEY_INSERT] = "INSERT INTO api_keys (id, key_hash, prefix, user_id, org_id, name, "
                         "scopes, allowed_ips, expires_at, created_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, nullif(?, 0), ?)",
    [ST_APIKEY_FIND] = "SELECT " APIKEY_COLS " FROM api_keys WHERE key_hash = ?",
    [ST_APIKEY_LIST] = "SELECT " APIKEY_COLS " FROM api_keys WHERE user_id = ? "
                       "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
    /* Matches revoked keys too (changes() = 1) so that revoking twice is not "not found". */
    [ST_APIKEY_REVOKE_ONE] = "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?1) "
                             "WHERE id = ?2 AND user_id = ?3 RETURNING revoked_at = ?1",
    [ST_APIKEY_REVOKE_ALL] = "UPDATE api_keys SET revoked_at = ?1 "
                             "WHERE user_id = ?2 AND revoked_at IS NULL",
    [ST_APIKEY_TOUCH] = "UPDATE api_keys SET last_used_at = ?1, last_used_ip = ?2 "
                        "WHERE id = ?3 AND coalesce(last_used_at, 0) <= ?1",
    [ST_ORG_GET] = "SELECT id, name, created_at FROM orgs WHERE id = ?",
    [ST_ORG_LIST_ALL] = "SELECT id, name, created_at FROM orgs ORDER BY lower(name), id "
                        "LIMIT ? OFFSET ?",
    [ST_ORG_LIST_USER] = "SELECT o.id, o.name, o.created_at FROM memberships m "
                         "JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? "
                         "ORDER BY lower(o.name), o.id LIMIT ? OFFSET ?",
    [ST_ORG_RENAME] = "UPDATE orgs SET name = ?2 WHERE id = ?1",
    [ST_ORG_DELETE] = "DELETE FROM orgs WHERE id = ?",
    [ST_ORG_MEMBERS] = "SELECT user_id FROM memberships WHERE org_id = ?",
    [ST_ORG_FEED] = "INSERT INTO revocations (user_id, at) "
                    "SELECT user_id, ?2 FROM memberships WHERE org_id = ?1",
    /* The live refresh tokens scoped to org ?1 (only user ?2's when given). */
    [ST_REFRESH_REVOKE_ORG] = "UPDATE refresh_tokens SET revoked_at = ?3 WHERE org_id = ?1 "
                              "AND (?2 IS NULL OR user_id = ?2) AND revoked_at IS NULL",
    [ST_SESSION_REVOKE_ORG] = "UPDATE sessions SET revoked_at = ?3 WHERE org_id = ?1 "
                              "AND (?2 IS NULL OR user_id = ?2) AND revoked_at IS NULL",
    /* Users whose primary org is ?1 (only ?2 when given) move to their oldest other one. */
    [ST_PRIMARY_REASSIGN] = "UPDATE users SET primary_org_id = (SELECT m.org_id FROM memberships m "
                            "WHERE m.user_id = users.id AND m.org_id <> ?1 "
                            "ORDER BY m.created_at, m.org_id LIMIT 1) "
                            "WHERE primary_org_id = ?1 AND (?2 IS NULL OR id = ?2)",
    [ST_ROLE_LIST] = "SELECT id, org_id, name, permissions, system FROM roles WHERE org_id = ? "
                     "ORDER BY system DESC, name LIMIT ? OFFSET ?",
    [ST_ROLE_GET] = "SELECT id, org_id, name, permissions, system FROM roles "
                    "WHERE org_id = ? AND id = ?",
    [ST_ROLE_FIND_NAME] = "SELECT id FROM roles WHERE org_id = ? AND name = ?",
    [ST_ROLE_INSERT_CUSTOM] = "INSERT INTO roles (id, org_id, name, permissions, system) "
                              "VALUES (?, ?, ?, ?, 0)",
    [ST_ROLE_UPDATE] = "UPDATE roles SET name = coalesce(?3, name), "
                       "permissions = coalesce(?4, permissions) WHERE org_id = ?1 AND id = ?2",
    [ST_ROLE_DELETE] = "DELETE FROM roles WHERE org_id = ? AND id = ? AND system = 0",
    [ST_ROLE_MEMBERS] = "SELECT user_id FROM memberships WHERE org_id = ? AND role_id = ?",
    [ST_ROLE_FEED] = "INSERT INTO revocations (user_id, at) "
                     "SELECT user_id, ?3 FROM memberships WHERE org_id = ?1 AND role_id = ?2",
    [ST_ROLE_IN_USE] = "SELECT count(*) FROM memberships WHERE org_id = ? AND role_id = ?",
    [ST_MEMBER_LIST_ORG] = "SELECT m.user_id, u.username, r.name FROM memberships m "
                           "JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id "
                           "WHERE m.org_id = ? ORDER BY lower(u.username), u.id LIMIT ? OFFSET ?",
    [ST_MEMBER_SET_ROLE] = "UPDATE memberships SET role_id = ?3 WHERE org_id = ?1 AND user_id = ?2",
    [ST_MEMBER_DELETE] = "DELETE FROM memberships WHERE org_id = ? AND user_id = ?",
    [ST_MEMBER_BUMP_EPOCH] =
        "INSERT INTO member_epochs (org_id, user_id, epoch) VALUES (?1, ?2, 1) "
        "ON CONFLICT (org_id, user_id) "
        "DO UPDATE SET epoch = member_epochs.epoch + 1",
    /* The members of org ?1 with no other org join org ?2 as "member". */
    [ST_MEMBER_FALLBACK] = "INSERT INTO memberships (org_id, user_id, role_id, created_at) "
                           "SELECT ?2, m.user_id, r.id, ?3 FROM memberships m "
                           "JOIN roles r ON r.org_id = ?2 AND r.name = 'member' "
                           "WHERE m.org_id = ?1 AND NOT EXISTS (SELECT 1 FROM memberships o "
                           "WHERE o.user_id = m.user_id AND o.org_id <> ?1)",
    [ST_ADMIN_COUNT] = "SELECT count(*) FROM memberships m JOIN roles r ON r.id = m.role_id "
                       "WHERE m.org_id = ? AND r.system = 1 AND r.name = 'admin'",
    [ST_APIKEY_REVOKE_ORG] = "UPDATE api_keys SET revoked_at = ?3 "
                             "WHERE org_id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
    [ST_USER_SET_PRIMARY] = "UPDATE users SET primary_org_id = ?2 WHERE id = ?1 AND EXISTS "
                            "(SELECT 1 FROM memberships WHERE org_id = ?2 AND user_id = ?1)",
    [ST_USER_LIST_ORG] = "SELECT " USER_COLS " FROM users WHERE id IN "
                         "(SELECT user_id FROM memberships WHERE org_id = ?) "
                         "ORDER BY created_at, id LIMIT ? OFFSET ?",
    [ST_USER_UPDATE] = "UPDATE users SET full_name = ?2, email = ?3, disabled = ?4, "
                       "superadmin = ?5, updated_at = ?6 WHERE id = ?1",
    [ST_USER_DELETE] = "DELETE FROM users WHERE id = ?",
    [ST_PERM_INSERT] = "INSERT INTO permissions (name, created_at) VALUES (?, ?)",
    [ST_PERM_LIST] = "SELECT name FROM permissions ORDER BY name",
    /* ?3 is the invitee only when it is a user, not a member and without a live
     * invitation to the org; the inviter only when it is a user (not the CLI). */
    [ST_INVITATION_INSERT] =
        "INSERT INTO org_invitations (id, org_id, user_id, role_id, invited_by, status, "
        "created_at, expires_at) SELECT ?1, ?2, CASE WHEN EXISTS (SELECT 1 FROM users "
        "WHERE id = ?3) AND NOT EXISTS (SELECT 1 FROM memberships WHERE org_id = ?2 AND "
        "user_id = ?3) AND NOT EXISTS (SELECT 1 FROM org_invitations WHERE org_id = ?2 AND "
        "user_id = ?3 AND status = 'pending' AND expires_at > ?6) THEN ?3 END, r.id, "
        "(SELECT id FROM users WHERE id = ?5), 'pending', ?6, ?7 "
        "FROM roles r WHERE r.org_id = ?2 AND r.name = ?4",
    /* The org's view: no invitee, no inviter. */
    [ST_INVITATION_LIST_ORG] = "SELECT i.id, i.org_id, '', r.name, '', i.created_at, i.expires_at "
                               "FROM org_invitations i JOIN roles r ON r.id = i.role_id "
                               "WHERE i.org_id = ?1 AND i.status = 'pending' AND i.expires_at > ?4 "
                               "ORDER BY i.created_at, i.id LIMIT ?2 OFFSET ?3",
    [ST_INVITATION_LIST_USER] =
        INVITATION_SELECT "WHERE i.user_id = ?1 AND i.status = 'pending' AND i.expires_at > ?4 "
                          "ORDER BY i.created_at, i.id LIMIT ?2 OFFSET ?3",
    [ST_INVITATION_GET] = INVITATION_SELECT "WHERE i.id = ?1 AND i.user_id = ?2",
    [ST_INVITATION_ANSWER] = "UPDATE org_invitations SET status = ?4, answered_at = ?3 "
                             "WHERE id = ?1 AND user_id = ?2 AND status = 'pending' "
                             "AND expires_at > ?3",
    [ST_INVITATION_DEAD] = "SELECT expires_at <= ?3 FROM org_invitations "
                           "WHERE id = ?1 AND user_id = ?2 AND status = 'pending'",
    [ST_INVITATION_REVOKE] = "UPDATE org_invitations SET status = 'revoked', answered_at = ?3 "
                             "WHERE org_id = ?1 AND id = ?2 AND status = 'pending'",
    [ST_INVITATION_PURGE] = "DELETE FROM org_invitations WHERE expires_at < ?1 OR "
                            "(status <> 'pending' AND answered_at < ?1)",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (" SESSION_COLS ") "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    /* Answers the session's refresh family (no row: not a live session of ?2). */
    [ST_SESSION_REAUTH] = "UPDATE sessions SET auth_time = ?3 WHERE id = ?1 AND user_id = ?2 "
                          "AND revoked_at IS NULL AND expires_at > ?3 RETURNING family_id",
    [ST_REFRESH_REAUTH] = "UPDATE refresh_tokens SET auth_time = ?2 WHERE family_id = ?1 "
                          "AND spent_at IS NULL AND revoked_at IS NULL",
    [ST_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions WHERE session_hash = ?1 "
                       "AND revoked_at IS NULL AND expires_at > ?2",
    [ST_SESSION_LIST] = "SELECT " SESSION_COLS " FROM sessions WHERE user_id = ?1 "
                        "AND revoked_at IS NULL AND expires_at > ?2 "
                        "ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4",
    [ST_SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = ?2 "
                         "WHERE id = ?1 AND last_seen_at < ?2",
    /* Answers the revoked session's refresh family (no row: not a live session of ?2). */
    [ST_SESSION_REVOKE] = "UPDATE sessions SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 "
                          "AND revoked_at IS NULL AND expires_at > ?3 RETURNING family_id",
    [ST_SESSION_REVOKE_FAMILY] = "UPDATE sessions SET revoked_at = ?2 "
                                 "WHERE family_id = ?1 AND revoked_at IS NULL",
    [ST_SESSION_REVOKE_USER] = "UPDATE sessions SET revoked_at = ? "
                               "WHERE user_id = ? AND revoked_at IS NULL",
    [ST_SESSION_PURGE] = "DELETE FROM sessions WHERE expires_at < ?1 OR revoked_at < ?1",
    [ST_MFA_GET] = "SELECT user_id, secret, enabled, last_step, created_at "
                   "FROM mfa_totp WHERE user_id = ?",
    /* Replaces a factor that waits; an enabled one stays (no row changed: a conflict). */
    [ST_MFA_PUT] = "INSERT INTO mfa_totp (user_id, secret, enabled, last_step, created_at) "
                   "VALUES (?1, ?2, 0, 0, ?3) ON CONFLICT (user_id) DO UPDATE SET "
                   "secret = excluded.secret, last_step = 0, created_at = excluded.created_at "
                   "WHERE mfa_totp.enabled = 0",
    [ST_MFA_ENABLE] = "UPDATE mfa_totp SET enabled = 1, last_step = ?2 "
                      "WHERE user_id = ?1 AND enabled = 0",
    [ST_MFA_USE_STEP] = "UPDATE mfa_totp SET last_step = ?2 "
                        "WHERE user_id = ?1 AND enabled = 1 AND last_step < ?2",
    [ST_MFA_CODES_CLEAR] = "DELETE FROM mfa_backup_codes WHERE user_id = ?",
    [ST_MFA_CODE_INSERT] = "INSERT INTO mfa_backup_codes (user_id, code_hash) VALUES (?, ?)",
    [ST_MFA_CODE_USE] = "UPDATE mfa_backup_codes SET used_at = ?3 "
                        "WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
    [ST_MFA_CODES_LEFT] = "SELECT count(*) FROM mfa_backup_codes "
                          "WHERE user_id = ? AND used_at IS NULL",
    [ST_MFA_DELETE] = "DELETE FROM mfa_totp WHERE user_id = ?",
    [ST_CHALLENGE_INSERT] = "INSERT INTO mfa_challenges (challenge_hash, user_id, org_id, "
                            "created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
    [ST_CHALLENGE_GET] = "SELECT challenge_hash, user_id, org_id, created_at, expires_at "
                         "FROM mfa_challenges WHERE challenge_hash = ?1 "
                         "AND spent_at IS NULL AND expires_at > ?2",
    [ST_CHALLENGE_SPEND] = "UPDATE mfa_challenges SET spent_at = ?2 WHERE challenge_hash = ?1 "
                           "AND spent_at IS NULL AND expires_at > ?2",
    [ST_CHALLENGE_PURGE] = "DELETE FROM mfa_challenges WHERE expires_at < ?",
};

/* Logs one line: what failed and SQLite's message. */
static void log_failure(sqlite3 *db, size_t version, const char *what)
{
    fprintf(stderr, "store: migration %zu: %s: %s\n", version, what, sqlite3_errmsg(db));
}

/* Applies migration number version (1-based) unless it is recorded; inside a transaction. */
static gh_err apply_one(sqlite3 *db, sqlite3_stmt *applied, sqlite3_stmt *record, size_t version)
{
    sqlite3_reset(applied);
    sqlite3_bind_int64(applied, 1, (sqlite3_int64)version);
    int rc = sqlite3_step(applied);
    sqlite3_reset(applied);
    if (rc == SQLITE_ROW)
        return GH_OK;
    if (rc != SQLITE_DONE) {
        log_failure(db, version, "lookup");
        return GH_ERR_IO;
    }
    /* The migrations are constants of this file: sqlite3_exec runs their several
     * statements; nothing from outside ever reaches it. */
    if (sqlite3_exec(db, migrations[version - 1], NULL, NULL, NULL) != SQLITE_OK) {
        log_failure(db, version, "apply");
        return GH_ERR_IO;
    }
    sqlite3_reset(record);
    sqlite3_bind_int64(record, 1, (sqlite3_int64)version);
    rc = sqlite3_step(record);
    sqlite3_reset(record);
    if (rc != SQLITE_DONE) {
        log_failure(db, version, "record");
        return GH_ERR_IO;
    }
    return GH_OK;
}

/* Applies the pending migrations (see gh_sqlite_conn_open). */
static gh_err migrate(sqlite3 *db)
{
    sqlite3_stmt *applied = NULL, *record = NULL;
    gh_err err = GH_ERR_IO;
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK) {
        log_failure(db, 0, "schema_migrations");
        goto out;
    }
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version = ?", -1, &applied,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO schema_migrations (version, applied_at) "
                           "VALUES (?, unixepoch())",
                           -1, &record, NULL) != SQLITE_OK) {
        log_failure(db, 0, "prepare");
        goto out;
    }
    for (size_t v = 1; v <= migration_count; v++) {
        /* IMMEDIATE: the check and the change happen under the write lock, so of two
         * processes opening a new file only one applies each migration. */
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            log_failure(db, v, "begin");
            goto out;
        }
        gh_err step = apply_one(db, applied, record, v);
        if (step == GH_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            log_failure(db, v, "commit");
            step = GH_ERR_IO;
        }
        if (step != GH_OK) {
            if (!sqlite3_get_autocommit(db))
                (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
    }
    err = GH_OK;
out:
    sqlite3_finalize(applied);
    sqlite3_finalize(record);
    return err;
}

/* Creates the database file 0600 before SQLite touches it, so that the -wal and -shm files
 * SQLite creates beside it (with the database file's mode) are private from the start: the
 * database holds password hashes. An existing file is tightened to 0600 as well. */
gh_err gh_sqlite_file_init(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "store: cannot open %s: %s\n", path, strerror(errno));
        return GH_ERR_IO;
    }
    struct stat sb;
    gh_err err = GH_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "store: %s is not a regular file\n", path);
        err = GH_ERR_IO;
    } else if ((sb.st_mode & 077) != 0 && fchmod(fd, 0600) != 0) {
        fprintf(stderr, "store: cannot make %s private: %s\n", path, strerror(errno));
    }
    close(fd);
    return err;
}

/* Sets the pragmas of a new connection, checking that WAL took. */
static gh_err configure(sqlite3 *db, const char *path, unsigned busy_ms)
{
    sqlite3_stmt *s = NULL;
    gh_err err = GH_ERR_IO;
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_ms > INT32_MAX ? INT32_MAX : (int)busy_ms);
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        fprintf(stderr, "store: journal_mode: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    const unsigned char *mode = sqlite3_column_text(s, 0);
    if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
        fprintf(stderr, "store: %s cannot use WAL (journal mode %s)\n", path,
                mode ? (const char *)mode : "?");
        goto out;
    }
    if (sqlite3_exec(db,
                     "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; "
                     "PRAGMA trusted_schema = OFF;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "store: pragma: %s\n", sqlite3_errmsg(db));
        goto out;
    }
    err = GH_OK;
out:
    sqlite3_finalize(s);
    return err;
}

gh_err gh_sqlite_conn_open(const char *path, unsigned busy_ms, int migrate_first, sqlite3 **db)
{
    sqlite3 *h = NULL;
    gh_err err = GH_ERR_IO;
    if (sqlite3_open_v2(path, &h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                        gh_sqlite_vfs()) != SQLITE_OK) {
        fprintf(stderr, "store: cannot open %s: %s\n", path, h ? sqlite3_errmsg(h) : "no memory");
        goto out;
    }
    if ((err = gh_sqlite_prepare(h, path)) != GH_OK || (err = configure(h, path, busy_ms)) != GH_OK)
        goto out;
    if (migrate_first && (err = migrate(h)) != GH_OK)
        goto out;
    err = GH_OK;
out:
    if (err != GH_OK) {
        sqlite3_close(h);
        return err;
    }
    *db = h;
    return GH_OK;
}

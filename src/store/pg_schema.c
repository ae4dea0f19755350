/*
 * The PostgreSQL schema and statements of the store backend: the migrations (applied at
 * start under an advisory lock, so that nodes starting together migrate once) and the text
 * of every statement in PostgreSQL's dialect, run by the PostgreSQL driver (pg.c) by the
 * names of store/sql_stmt.h.
 *
 * Text columns are COLLATE "C": ids, names and orderings compare bytes, as SQLite's do,
 * whatever the database's locale. Usernames, emails and org names are unique without regard
 * to case through unique indexes on lower(), and lookups compare lower(column) with
 * lower($n) so that the same indexes serve them.
 */
#include "store/pg_schema.h"

#define T "TEXT COLLATE \"C\""

/*
 * The migrations, append-only: entry i brings the database to version i + 1. Never edit a
 * shipped migration; append a new one. Version 1 is SQLite's six migrations at once.
 */
static const char *const migrations[] = {
    /* 1: users, orgs, roles, memberships, refresh tokens, the revocation feed, API keys,
     * the audit chain and its checkpoints, permissions, invitations */
    "CREATE TABLE orgs ("
    "  id " T " PRIMARY KEY,"
    "  name " T " NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX orgs_name ON orgs(lower(name));"
    "CREATE TABLE users ("
    "  id " T " PRIMARY KEY,"
    "  username " T " NOT NULL,"
    "  email " T " NOT NULL,"
    "  full_name " T " NOT NULL DEFAULT '',"
    "  password_hash " T " NOT NULL,"
    "  primary_org_id " T " REFERENCES orgs(id) ON DELETE SET NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  superadmin INTEGER NOT NULL DEFAULT 0,"
    "  token_epoch BIGINT NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX users_username ON users(lower(username));"
    "CREATE UNIQUE INDEX users_email ON users(lower(email));"
    "CREATE INDEX users_primary_org ON users(primary_org_id);"
    "CREATE TABLE roles ("
    "  id " T " PRIMARY KEY,"
    "  org_id " T " NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  name " T " NOT NULL,"
    "  permissions " T " NOT NULL,"
    "  system INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (org_id, name));"
    "CREATE TABLE memberships ("
    "  org_id " T " NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  user_id " T " NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  role_id " T " NOT NULL REFERENCES roles(id),"
    "  created_at BIGINT NOT NULL,"
    "  PRIMARY KEY (org_id, user_id));"
    "CREATE INDEX memberships_user ON memberships(user_id);"
    "CREATE INDEX memberships_role ON memberships(role_id);"
    "CREATE TABLE refresh_tokens ("
    "  id " T " PRIMARY KEY,"
    "  token_hash BYTEA NOT NULL UNIQUE,"
    "  user_id " T " NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  family_id " T " NOT NULL,"
    "  org_id " T " NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL,"
    "  spent_at BIGINT,"
    "  revoked_at BIGINT);"
    "CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);"
    "CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);"
    "CREATE INDEX refresh_tokens_org ON refresh_tokens(org_id);"
    "CREATE INDEX refresh_tokens_expires ON refresh_tokens(expires_at);"
    "CREATE TABLE revocations ("
    "  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  user_id " T " NOT NULL,"
    "  at BIGINT NOT NULL);"
    "CREATE INDEX revocations_at ON revocations(at);"
    "CREATE TABLE api_keys ("
    "  id " T " PRIMARY KEY,"
    "  key_hash BYTEA NOT NULL UNIQUE,"
    "  prefix " T " NOT NULL,"
    "  user_id " T " NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  org_id " T " NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  name " T " NOT NULL,"
    "  scopes " T ","
    "  allowed_ips " T " NOT NULL DEFAULT '',"
    "  expires_at BIGINT,"
    "  created_at BIGINT NOT NULL,"
    "  last_used_at BIGINT,"
    "  last_used_ip " T ","
    "  revoked_at BIGINT);"
    "CREATE INDEX api_keys_user ON api_keys(user_id, created_at);"
    "CREATE INDEX api_keys_org ON api_keys(org_id);"
    "CREATE UNIQUE INDEX api_keys_live_name ON api_keys(user_id, name) WHERE revoked_at IS NULL;"
    "CREATE TABLE audit_events ("
    "  id BIGINT PRIMARY KEY,"
    "  ts BIGINT NOT NULL,"
    "  action " T " NOT NULL,"
    "  user_id " T ", username " T ", org_id " T ","
    "  resource_type " T ", resource_id " T ","
    "  ip_address " T ", user_agent " T ", method " T ", path " T ","
    "  status INTEGER,"
    "  metadata " T ","
    "  prev_hash BYTEA,"
    "  hash BYTEA);"
    "CREATE INDEX audit_events_ts ON audit_events(ts);"
    "CREATE INDEX audit_events_user ON audit_events(user_id);"
    "CREATE INDEX audit_events_action ON audit_events(action);"
    "CREATE INDEX audit_events_org ON audit_events(org_id, id);"
    "CREATE INDEX audit_events_resource ON audit_events(resource_type, resource_id);"
    "CREATE TABLE audit_chain (start BIGINT NOT NULL);"
    "INSERT INTO audit_chain (start) VALUES (0);"
    "CREATE TABLE audit_checkpoints ("
    "  seq BIGINT PRIMARY KEY,"
    "  hash BYTEA NOT NULL,"
    "  ts BIGINT NOT NULL,"
    "  signature BYTEA NOT NULL,"
    "  key_id " T " NOT NULL);"
    "CREATE TABLE permissions ("
    "  name " T " PRIMARY KEY,"
    "  created_at BIGINT NOT NULL);"
    "CREATE TABLE org_invitations ("
    "  id " T " PRIMARY KEY,"
    "  org_id " T " NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  user_id " T " REFERENCES users(id) ON DELETE SET NULL,"
    "  role_id " T " NOT NULL REFERENCES roles(id) ON DELETE CASCADE,"
    "  invited_by " T " REFERENCES users(id) ON DELETE SET NULL,"
    "  status " T " NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),"
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL,"
    "  answered_at BIGINT);"
    "CREATE INDEX org_invitations_org ON org_invitations(org_id, status, expires_at);"
    "CREATE INDEX org_invitations_user ON org_invitations(user_id, status, expires_at);"
    "CREATE INDEX org_invitations_role ON org_invitations(role_id);"
    "CREATE INDEX org_invitations_by ON org_invitations(invited_by);"
    /* browser sessions (the cookie's SHA-256 only), TOTP factors (the secret sealed),
     * backup codes (SHA-256) and logins waiting for their second factor */
    "CREATE TABLE sessions ("
    "  id " T " PRIMARY KEY,"
    "  session_hash BYTEA NOT NULL UNIQUE,"
    "  user_id " T " NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  org_id " T " NOT NULL,"
    "  family_id " T " NOT NULL,"
    "  method " T " NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  last_seen_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL,"
    "  ip_address " T " NOT NULL DEFAULT '',"
    "  user_agent " T " NOT NULL DEFAULT '',"
    "  revoked_at BIGINT);"
    "CREATE INDEX sessions_user ON sessions(user_id, created_at);"
    "CREATE INDEX sessions_family ON sessions(family_id);"
    "CREATE TABLE mfa_totp ("
    "  user_id " T " PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  secret " T " NOT NULL,"
    "  enabled INTEGER NOT NULL DEFAULT 0,"
    "  last_step BIGINT NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL);"
    "CREATE TABLE mfa_backup_codes ("
    "  user_id " T " NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  code_hash BYTEA NOT NULL,"
    "  used_at BIGINT,"
    "  PRIMARY KEY (user_id, code_hash));"
    "CREATE TABLE mfa_challenges ("
    "  challenge_hash BYTEA PRIMARY KEY,"
    "  user_id " T " NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  org_id " T " NOT NULL DEFAULT '',"
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL,"
    "  spent_at BIGINT);"
    "CREATE INDEX mfa_challenges_user ON mfa_challenges(user_id);"
    /* data keys, wrapped by the master key (crypto/datakeys.c) */
    "CREATE TABLE data_keys ("
    "  id BIGINT PRIMARY KEY CHECK (id BETWEEN 1 AND 2147483647),"
    "  wrapped BYTEA NOT NULL,"
    "  created_at BIGINT NOT NULL);",
    /* 2: SSO identity providers made through the admin API (config's live in memory); the
     * client secret sealed (enc:v1) */
    "CREATE TABLE sso_providers ("
    "  name " T " PRIMARY KEY,"
    "  type " T " NOT NULL,"
    "  preset " T " NOT NULL DEFAULT '',"
    "  tenant " T " NOT NULL DEFAULT '',"
    "  issuer " T " NOT NULL DEFAULT '',"
    "  authorization_endpoint " T " NOT NULL DEFAULT '',"
    "  token_endpoint " T " NOT NULL DEFAULT '',"
    "  userinfo_endpoint " T " NOT NULL DEFAULT '',"
    "  client_id " T " NOT NULL DEFAULT '',"
    "  client_secret " T " NOT NULL DEFAULT '',"
    "  token_auth " T " NOT NULL DEFAULT '',"
    "  scopes " T " NOT NULL DEFAULT '',"
    "  claim_subject " T " NOT NULL DEFAULT '',"
    "  claim_email " T " NOT NULL DEFAULT '',"
    "  claim_username " T " NOT NULL DEFAULT '',"
    "  claim_name " T " NOT NULL DEFAULT '',"
    "  default_role " T " NOT NULL DEFAULT '',"
    "  pkce INTEGER NOT NULL,"
    "  enabled INTEGER NOT NULL,"
    "  auto_create_user INTEGER NOT NULL,"
    "  link_by_email INTEGER NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL);",
    /* 3: the vault: every version of an org's secrets, sealed (crypto/vault.c); SQLite's 10 */
    "CREATE TABLE vault_entries ("
    "  org_id " T " NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  name " T " NOT NULL,"
    "  version BIGINT NOT NULL,"
    "  key_id BIGINT NOT NULL,"
    "  sealed BYTEA NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  PRIMARY KEY (org_id, name, version));"
    "CREATE INDEX vault_entries_key ON vault_entries(key_id);",
    /* 4 (SQLite's 11): outside identities linked to users, and SSO sign-ins waiting for the
     * provider (the state's SHA-256, bound to the browser's cookie's SHA-256) */
    "CREATE TABLE sso_identities ("
    "  id " T " PRIMARY KEY,"
    "  provider " T " NOT NULL,"
    "  subject " T " NOT NULL,"
    "  user_id " T " NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  email " T " NOT NULL DEFAULT '',"
    "  created_at BIGINT NOT NULL,"
    "  last_login_at BIGINT NOT NULL,"
    "  UNIQUE (provider, subject));"
    "CREATE INDEX sso_identities_user ON sso_identities(user_id, created_at);"
    "CREATE TABLE sso_states ("
    "  state_hash BYTEA PRIMARY KEY,"
    "  binding_hash BYTEA NOT NULL,"
    "  provider " T " NOT NULL,"
    "  redirect_to " T " NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL);"
    "CREATE INDEX sso_states_expiry ON sso_states(expires_at);",
    /* 5 (SQLite's 12): org names repeat (a 409 on a name told a tenant of another's org) */
    "DROP INDEX orgs_name;CREATE INDEX orgs_name_lower ON orgs(lower(name));",
    /* 6 (SQLite's 13): SAML providers: our entity id, the IdP's metadata, our key (sealed,
     * enc:v1) and certificate */
    "ALTER TABLE sso_providers ADD COLUMN sp_entity_id " T " NOT NULL DEFAULT '',"
    "  ADD COLUMN idp_metadata " T " NOT NULL DEFAULT '',"
    "  ADD COLUMN sp_private_key " T " NOT NULL DEFAULT '',"
    "  ADD COLUMN sp_certificate " T " NOT NULL DEFAULT '';",
    /* 7: address blocks (edge/blocks.c) and their epoch, which nodes poll to reload;
     * SQLite's 14 */
    "CREATE TABLE address_blocks ("
    "  id " T " PRIMARY KEY,"
    "  cidr " T " NOT NULL UNIQUE,"
    "  reason " T " NOT NULL,"
    "  created_by " T " NOT NULL,"
    "  expires_at BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  automatic INTEGER NOT NULL);"
    "CREATE INDEX address_blocks_expiry ON address_blocks(expires_at);"
    "CREATE TABLE address_block_epoch ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  epoch BIGINT NOT NULL);"
    "INSERT INTO address_block_epoch (id, epoch) VALUES (1, 0);",
    /* 8 (SQLite's 15): the sign-in times of refresh families and sessions (in parentheses:
     * two literals alone read to clang as a missing comma) */
    ("ALTER TABLE refresh_tokens ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;"
     "ALTER TABLE sessions ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;"),
    /* 9 (SQLite's 16): a user's epoch in an org (how often removed from it), kept past the
     * membership */
    "CREATE TABLE member_epochs ("
    "  org_id " T " NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  user_id " T " NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  epoch BIGINT NOT NULL,"
    "  PRIMARY KEY (org_id, user_id));"
    "CREATE INDEX member_epochs_user ON member_epochs(user_id);",
    /* 10 (SQLite's 17): the client ids whose access tokens a provider-token login takes */
    "ALTER TABLE sso_providers ADD COLUMN allowed_client_ids " T " NOT NULL DEFAULT '';",
    /* 11 (SQLite's 18): whether a SAML IdP's email counts as verified */
    "ALTER TABLE sso_providers ADD COLUMN trust_email INTEGER NOT NULL DEFAULT 0;",
    /* 12 (SQLite's 19): where a google provider asks which app a token was issued to */
    ("ALTER TABLE sso_providers ADD COLUMN tokeninfo_endpoint " T " NOT NULL DEFAULT '';"
     "UPDATE sso_providers SET tokeninfo_endpoint = 'https://oauth2.googleapis.com/tokeninfo' "
     "WHERE preset = 'google';"),
    /* 13 (SQLite's 20): where a SAML IdP's metadata is fetched from ("": given inline) and when */
    ("ALTER TABLE sso_providers ADD COLUMN idp_metadata_url " T " NOT NULL DEFAULT '';"
     "ALTER TABLE sso_providers ADD COLUMN idp_metadata_at BIGINT NOT NULL DEFAULT 0;"),
};

const char *const *const gh_pg_migrations = migrations;
const size_t gh_pg_migration_count = sizeof(migrations) / sizeof(migrations[0]);

const char *const gh_pg_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_DATAKEY_INSERT] = "INSERT INTO data_keys (id, wrapped, created_at) VALUES ($1, $2, $3)",
    [ST_DATAKEY_LIST] = "SELECT id, wrapped, created_at FROM data_keys ORDER BY id",
    [ST_BLOCK_PURGE] = "DELETE FROM address_blocks WHERE expires_at <> 0 AND expires_at <= $1",
    [ST_BLOCK_INSERT] = "INSERT INTO address_blocks (" BLOCK_COLS ") "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [ST_BLOCK_GET] = "SELECT " BLOCK_COLS " FROM address_blocks WHERE id = $1",
    [ST_BLOCK_DELETE] = "DELETE FROM address_blocks WHERE id = $1",
    [ST_BLOCK_LIST] = "SELECT " BLOCK_COLS " FROM address_blocks "
                      "WHERE expires_at = 0 OR expires_at > $1 "
                      "ORDER BY created_at, id LIMIT $2 OFFSET $3",
    [ST_BLOCK_BUMP] = "UPDATE address_block_epoch SET epoch = epoch + 1 WHERE id = 1",
    [ST_BLOCK_EPOCH] = "SELECT epoch FROM address_block_epoch WHERE id = 1",
    [ST_SSO_PROVIDER_INSERT] =
        "INSERT INTO sso_providers (" SSO_PROVIDER_COLS ") VALUES "
        "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
        "$15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, "
        "$29, $30, $31, $32)",
    [ST_SSO_PROVIDER_GET] = "SELECT " SSO_PROVIDER_COLS " FROM sso_providers WHERE name = $1",
    [ST_SSO_PROVIDER_LIST] = "SELECT " SSO_PROVIDER_COLS " FROM sso_providers "
                             "ORDER BY name LIMIT $1 OFFSET $2",
    [ST_SSO_PROVIDER_UPDATE] =
        "UPDATE sso_providers SET type = $2, preset = $3, tenant = $4, issuer = $5, "
        "authorization_endpoint = $6, token_endpoint = $7, userinfo_endpoint = $8, "
        "client_id = $9, client_secret = $10, token_auth = $11, scopes = $12, "
        "claim_subject = $13, claim_email = $14, claim_username = $15, claim_name = $16, "
        "default_role = $17, pkce = $18, enabled = $19, auto_create_user = $20, "
        "link_by_email = $21, updated_at = $22, sp_entity_id = $23, idp_metadata = $24, "
        "sp_private_key = $25, sp_certificate = $26, allowed_client_ids = $27, trust_email = $28, "
        "tokeninfo_endpoint = $29, idp_metadata_url = $30, idp_metadata_at = $31 "
        "WHERE name = $1",
    [ST_SSO_PROVIDER_DELETE] = "DELETE FROM sso_providers WHERE name = $1",
    [ST_SSO_LINK_INSERT] = "INSERT INTO sso_identities (" SSO_LINK_COLS ") VALUES "
                           "($1, $2, $3, $4, $5, $6, $7)",
    [ST_SSO_LINK_FIND] = "SELECT " SSO_LINK_COLS " FROM sso_identities WHERE provider = $1 "
                         "AND subject = $2",
    [ST_SSO_LINK_LIST] = "SELECT " SSO_LINK_COLS " FROM sso_identities WHERE user_id = $1 "
                         "ORDER BY created_at, id",
    [ST_SSO_LINK_TOUCH] = "UPDATE sso_identities SET last_login_at = $2 WHERE id = $1",
    [ST_SSO_LINK_DELETE] = "DELETE FROM sso_identities WHERE user_id = $1 AND id = $2",
    [ST_SSO_STATE_INSERT] = "INSERT INTO sso_states (" SSO_STATE_COLS ") VALUES "
                            "($1, $2, $3, $4, $5, $6)",
    [ST_SSO_STATE_PURGE] = "DELETE FROM sso_states WHERE expires_at < $1",
    [ST_SSO_STATE_TAKE] = "DELETE FROM sso_states WHERE state_hash = $1 RETURNING " SSO_STATE_COLS,
    [ST_VAULT_INSERT] = "INSERT INTO vault_entries (org_id, name, version, key_id, sealed, "
                        "created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    [ST_VAULT_LATEST] = "SELECT " VAULT_COLS " FROM vault_entries WHERE org_id = $1 AND "
                        "name = $2 ORDER BY version DESC LIMIT 1",
    [ST_VAULT_LIST] = "SELECT org_id, name, max(version), "
                      "(SELECT created_at FROM vault_entries w WHERE w.org_id = v.org_id AND "
                      "w.name = v.name ORDER BY version DESC LIMIT 1) "
                      "FROM vault_entries v WHERE org_id = $1 GROUP BY org_id, name "
                      "ORDER BY name LIMIT $2 OFFSET $3",
    [ST_VAULT_DELETE] = "DELETE FROM vault_entries WHERE org_id = $1 AND name = $2",
    [ST_VAULT_SCAN] = "SELECT " VAULT_COLS " FROM vault_entries WHERE key_id < $1 "
                      "ORDER BY org_id, name, version LIMIT $2",
    [ST_VAULT_COUNT_BELOW] = "SELECT count(*) FROM vault_entries WHERE key_id < $1",
    [ST_VAULT_REKEY] = "UPDATE vault_entries SET key_id = $1, sealed = $2 WHERE org_id = $3 AND "
                       "name = $4 AND version = $5 AND key_id = $6",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PING] = "SELECT 1",
    /* Writers serialise across nodes on a transaction-scoped advisory lock taken first, as
     * SQLite's BEGIN IMMEDIATE: a check in a transaction holds until its end, and the
     * revocation feed's seq order is its commit order (readers never skip an entry). */
    [ST_WRITE_LOCK] = "SELECT pg_advisory_xact_lock(hashtext('gatehouse:write'))",
    /* The audit chain's appenders serialise on their own lock: one head at a time. */
    [ST_AUDIT_LOCK] = "SELECT pg_advisory_xact_lock(hashtext('gatehouse:audit'))",
    [ST_USER_INSERT] =
        "INSERT INTO users (id, username, email, full_name, password_hash, "
        "primary_org_id, disabled, superadmin, token_epoch, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, nullif($6, ''), $7, $8, $9, $10, $11)",
    [ST_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = $1",
    /* Usernames cannot hold '@' and emails must, so at most one row matches; the ORDER BY
     * only makes the answer deterministic should a row ever break that rule. */
    [ST_USER_FIND] = "SELECT " USER_COLS " FROM users "
                     "WHERE lower(username) = lower($1) OR lower(email) = lower($1) "
                     "ORDER BY lower(username) = lower($1) DESC LIMIT 1",
    /* The one read of a password hash: the credential check's. */
    [ST_USER_CREDENTIALS] = "SELECT id, password_hash FROM users WHERE id = $1",
    [ST_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2",
    [ST_USER_COUNT] = "SELECT count(*) FROM users",
    [ST_USER_SET_PASSWORD] = "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 "
                             "RETURNING token_epoch",
    [ST_USER_SET_DISABLED] = "UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3 "
                             "RETURNING token_epoch",
    [ST_USER_BUMP_EPOCH] = "UPDATE users SET token_epoch = token_epoch + 1 WHERE id = $1 "
                           "RETURNING token_epoch",
    [ST_ORG_INSERT] = "INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)",
    [ST_ROLE_INSERT] = "INSERT INTO roles (id, org_id, name, permissions, system) "
                       "VALUES ($1, $2, $3, $4, 1)",
    [ST_ORG_FIND_NAME] = "SELECT id, name, created_at FROM orgs WHERE lower(name) = lower($1) "
                         "ORDER BY created_at, id LIMIT 2",
    [ST_MEMBER_ADD] = "INSERT INTO memberships (org_id, user_id, role_id, created_at) "
                      "SELECT $1, $2, id, $4::bigint FROM roles WHERE org_id = $1 AND name = $3",
    [ST_MEMBER_GET] = MEMBER_SELECT "WHERE m.org_id = $1 AND m.user_id = $2",
    [ST_MEMBER_LIST_USER] = MEMBER_SELECT "WHERE m.user_id = $1 ORDER BY o.name, o.id LIMIT $2",
    [ST_REFRESH_INSERT] = "INSERT INTO refresh_tokens (" REFRESH_COLS ") "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    [ST_REFRESH_SPEND] = "UPDATE refresh_tokens SET spent_at = $1 WHERE token_hash = $2 "
                         "AND spent_at IS NULL AND revoked_at IS NULL AND expires_at > $1 "
                         "RETURNING " REFRESH_COLS,
    [ST_REFRESH_GET] = "SELECT " REFRESH_COLS ", spent_at IS NOT NULL, revoked_at IS NOT NULL "
                       "FROM refresh_tokens WHERE token_hash = $1",
    [ST_REFRESH_REVOKE] = "UPDATE refresh_tokens SET revoked_at = $1 "
                          "WHERE token_hash = $2 AND revoked_at IS NULL",
    [ST_REFRESH_REVOKE_FAMILY] = "UPDATE refresh_tokens SET revoked_at = $1 "
                                 "WHERE family_id = $2 AND revoked_at IS NULL",
    [ST_REFRESH_REVOKE_USER] = "UPDATE refresh_tokens SET revoked_at = $1 "
                               "WHERE user_id = $2 AND revoked_at IS NULL",
    [ST_REFRESH_PURGE] = "DELETE FROM refresh_tokens WHERE expires_at < $1",
    [ST_AUDIT_INSERT] =
        "INSERT INTO audit_events (ts, action, user_id, username, org_id, "
        "resource_type, resource_id, ip_address, user_agent, method, path, "
        "status, metadata, id, prev_hash, hash) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    /* The chain's end: the highest id ever given (deleted rows included), the newest
     * record's hash, the newest checkpoint. */
    [ST_AUDIT_HEAD] = "SELECT (SELECT start FROM audit_chain),"
                      " greatest((SELECT start FROM audit_chain), coalesce((SELECT max(id) FROM "
                      "audit_events), 0)),"
                      " (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1),"
                      " coalesce((SELECT max(seq) FROM audit_checkpoints), 0),"
                      " coalesce((SELECT ts FROM audit_checkpoints ORDER BY seq DESC LIMIT 1), 0)",
    [ST_AUDIT_LIST] =
        "SELECT " AUDIT_COLS " FROM audit_events "
        "WHERE ($1::text IS NULL OR user_id = $1) AND ($2::text IS NULL OR action = $2) "
        "AND ($3::text IS NULL OR resource_type = $3) "
        "AND ($4::text IS NULL OR resource_id = $4) AND ($5::text IS NULL OR org_id = $5) "
        "AND ($6::bigint IS NULL OR ts >= $6) AND ($7::bigint IS NULL OR ts <= $7) "
        "ORDER BY id DESC LIMIT $8 OFFSET $9",
    [ST_AUDIT_SCAN] = "SELECT " AUDIT_COLS " FROM audit_events WHERE id > $1 ORDER BY id",
    [ST_CHECKPOINT_INSERT] = "INSERT INTO audit_checkpoints (seq, hash, ts, signature, key_id) "
                             "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING",
    [ST_CHECKPOINT_LIST] = "SELECT seq, hash, ts, signature, key_id FROM audit_checkpoints "
                           "ORDER BY seq",
    [ST_AUDIT_PURGE] = "DELETE FROM audit_events WHERE id < (SELECT max(seq) FROM "
                       "audit_checkpoints WHERE ts < $1)",
    [ST_REVOCATION_INSERT] = "INSERT INTO revocations (user_id, at) VALUES ($1, $2)",
    [ST_REVOCATION_SINCE] = "SELECT seq, user_id FROM revocations WHERE seq > $1 "
                            "ORDER BY seq LIMIT 1000",
    [ST_REVOCATION_LAST] = "SELECT coalesce(max(seq), 0) FROM revocations",
    [ST_REVOCATION_PURGE] = "DELETE FROM revocations WHERE at < $1",
    [ST_APIKEY_INSERT] = "INSERT INTO api_keys (id, key_hash, prefix, user_id, org_id, name, "
                         "scopes, allowed_ips, expires_at, created_at) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9::bigint, 0), $10)",
    [ST_APIKEY_FIND] = "SELECT " APIKEY_COLS " FROM api_keys WHERE key_hash = $1",
    [ST_APIKEY_LIST] = "SELECT " APIKEY_COLS " FROM api_keys WHERE user_id = $1 "
                       "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
    /* Matches revoked keys too (one row changed) so that revoking twice is not "not found". */
    [ST_APIKEY_REVOKE_ONE] = "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) "
                             "WHERE id = $2 AND user_id = $3 RETURNING revoked_at = $1",
    [ST_APIKEY_REVOKE_ALL] = "UPDATE api_keys SET revoked_at = $1 "
                             "WHERE user_id = $2 AND revoked_at IS NULL",
    [ST_APIKEY_TOUCH] = "UPDATE api_keys SET last_used_at = $1, last_used_ip = $2 "
                        "WHERE id = $3 AND coalesce(last_used_at, 0) <= $1",
    [ST_ORG_GET] = "SELECT id, name, created_at FROM orgs WHERE id = $1",
    [ST_ORG_LIST_ALL] = "SELECT id, name, created_at FROM orgs ORDER BY lower(name), id "
                        "LIMIT $1 OFFSET $2",
    [ST_ORG_LIST_USER] = "SELECT o.id, o.name, o.created_at FROM memberships m "
                         "JOIN orgs o ON o.id = m.org_id WHERE m.user_id = $1 "
                         "ORDER BY lower(o.name), o.id LIMIT $2 OFFSET $3",
    [ST_ORG_RENAME] = "UPDATE orgs SET name = $2 WHERE id = $1",
    [ST_ORG_DELETE] = "DELETE FROM orgs WHERE id = $1",
    [ST_ORG_MEMBERS] = "SELECT user_id FROM memberships WHERE org_id = $1",
    [ST_ORG_FEED] = "INSERT INTO revocations (user_id, at) "
                    "SELECT user_id, $2::bigint FROM memberships WHERE org_id = $1",
    /* The live refresh tokens scoped to org $1 (only user $2's when given). */
    [ST_REFRESH_REVOKE_ORG] = "UPDATE refresh_tokens SET revoked_at = $3 WHERE org_id = $1 "
                              "AND ($2::text IS NULL OR user_id = $2) AND revoked_at IS NULL",
    [ST_SESSION_REVOKE_ORG] = "UPDATE sessions SET revoked_at = $3 WHERE org_id = $1 "
                              "AND ($2::text IS NULL OR user_id = $2) AND revoked_at IS NULL",
    /* Users whose primary org is $1 (only $2 when given) move to their oldest other one. */
    [ST_PRIMARY_REASSIGN] = "UPDATE users SET primary_org_id = (SELECT m.org_id FROM memberships m "
                            "WHERE m.user_id = users.id AND m.org_id <> $1 "
                            "ORDER BY m.created_at, m.org_id LIMIT 1) "
                            "WHERE primary_org_id = $1 AND ($2::text IS NULL OR id = $2)",
    [ST_ROLE_LIST] = "SELECT id, org_id, name, permissions, system FROM roles WHERE org_id = $1 "
                     "ORDER BY system DESC, name LIMIT $2 OFFSET $3",
    [ST_ROLE_GET] = "SELECT id, org_id, name, permissions, system FROM roles "
                    "WHERE org_id = $1 AND id = $2",
    [ST_ROLE_FIND_NAME] = "SELECT id FROM roles WHERE org_id = $1 AND name = $2",
    [ST_ROLE_INSERT_CUSTOM] = "INSERT INTO roles (id, org_id, name, permissions, system) "
                              "VALUES ($1, $2, $3, $4, 0)",
    [ST_ROLE_UPDATE] = "UPDATE roles SET name = coalesce($3, name), "
                       "permissions = coalesce($4, permissions) WHERE org_id = $1 AND id = $2",
    [ST_ROLE_DELETE] = "DELETE FROM roles WHERE org_id = $1 AND id = $2 AND system = 0",
    [ST_ROLE_MEMBERS] = "SELECT user_id FROM memberships WHERE org_id = $1 AND role_id = $2",
    [ST_ROLE_FEED] =
        "INSERT INTO revocations (user_id, at) "
        "SELECT user_id, $3::bigint FROM memberships WHERE org_id = $1 AND role_id = $2",
    [ST_ROLE_IN_USE] = "SELECT count(*) FROM memberships WHERE org_id = $1 AND role_id = $2",
    [ST_MEMBER_LIST_ORG] =
        "SELECT m.user_id, u.username, r.name FROM memberships m "
        "JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id "
        "WHERE m.org_id = $1 ORDER BY lower(u.username), u.id LIMIT $2 OFFSET $3",
    [ST_MEMBER_SET_ROLE] = "UPDATE memberships SET role_id = $3 WHERE org_id = $1 AND user_id = $2",
    [ST_MEMBER_DELETE] = "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
    [ST_MEMBER_BUMP_EPOCH] =
        "INSERT INTO member_epochs (org_id, user_id, epoch) VALUES ($1, $2, 1) "
        "ON CONFLICT (org_id, user_id) "
        "DO UPDATE SET epoch = member_epochs.epoch + 1",
    /* The members of org $1 with no other org join org $2 as "member". */
    [ST_MEMBER_FALLBACK] = "INSERT INTO memberships (org_id, user_id, role_id, created_at) "
                           "SELECT $2, m.user_id, r.id, $3::bigint FROM memberships m "
                           "JOIN roles r ON r.org_id = $2 AND r.name = 'member' "
                           "WHERE m.org_id = $1 AND NOT EXISTS (SELECT 1 FROM memberships o "
                           "WHERE o.user_id = m.user_id AND o.org_id <> $1)",
    [ST_ADMIN_COUNT] = "SELECT count(*) FROM memberships m JOIN roles r ON r.id = m.role_id "
                       "WHERE m.org_id = $1 AND r.system = 1 AND r.name = 'admin'",
    [ST_APIKEY_REVOKE_ORG] = "UPDATE api_keys SET revoked_at = $3 "
                             "WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL",
    [ST_USER_SET_PRIMARY] = "UPDATE users SET primary_org_id = $2 WHERE id = $1 AND EXISTS "
                            "(SELECT 1 FROM memberships WHERE org_id = $2 AND user_id = $1)",
    [ST_USER_LIST_ORG] = "SELECT " USER_COLS " FROM users WHERE id IN "
                         "(SELECT user_id FROM memberships WHERE org_id = $1) "
                         "ORDER BY created_at, id LIMIT $2 OFFSET $3",
    [ST_USER_UPDATE] = "UPDATE users SET full_name = $2, email = $3, disabled = $4, "
                       "superadmin = $5, updated_at = $6 WHERE id = $1",
    [ST_USER_DELETE] = "DELETE FROM users WHERE id = $1",
    [ST_PERM_INSERT] = "INSERT INTO permissions (name, created_at) VALUES ($1, $2)",
    [ST_PERM_LIST] = "SELECT name FROM permissions ORDER BY name",
    /* $3 is the invitee only when it is a user, not a member and without a live
     * invitation to the org; the inviter only when it is a user (not the CLI). */
    [ST_INVITATION_INSERT] =
        "INSERT INTO org_invitations (id, org_id, user_id, role_id, invited_by, status, "
        "created_at, expires_at) SELECT $1::text, $2::text, CASE WHEN EXISTS (SELECT 1 FROM users "
        "WHERE id = $3) AND NOT EXISTS (SELECT 1 FROM memberships WHERE org_id = $2 AND "
        "user_id = $3) AND NOT EXISTS (SELECT 1 FROM org_invitations WHERE org_id = $2 AND "
        "user_id = $3 AND status = 'pending' AND expires_at > $6) THEN $3 END, r.id, "
        "(SELECT id FROM users WHERE id = $5), 'pending', $6::bigint, $7::bigint "
        "FROM roles r WHERE r.org_id = $2 AND r.name = $4",
    /* The org's view: no invitee, no inviter. */
    [ST_INVITATION_LIST_ORG] = "SELECT i.id, i.org_id, '', r.name, '', i.created_at, i.expires_at "
                               "FROM org_invitations i JOIN roles r ON r.id = i.role_id "
                               "WHERE i.org_id = $1 AND i.status = 'pending' AND i.expires_at > $4 "
                               "ORDER BY i.created_at, i.id LIMIT $2 OFFSET $3",
    [ST_INVITATION_LIST_USER] =
        INVITATION_SELECT "WHERE i.user_id = $1 AND i.status = 'pending' AND i.expires_at > $4 "
                          "ORDER BY i.created_at, i.id LIMIT $2 OFFSET $3",
    [ST_INVITATION_GET] = INVITATION_SELECT "WHERE i.id = $1 AND i.user_id = $2",
    [ST_INVITATION_ANSWER] = "UPDATE org_invitations SET status = $4, answered_at = $3 "
                             "WHERE id = $1 AND user_id = $2 AND status = 'pending' "
                             "AND expires_at > $3",
    [ST_INVITATION_DEAD] = "SELECT expires_at <= $3 FROM org_invitations "
                           "WHERE id = $1 AND user_id = $2 AND status = 'pending'",
    [ST_INVITATION_REVOKE] = "UPDATE org_invitations SET status = 'revoked', answered_at = $3 "
                             "WHERE org_id = $1 AND id = $2 AND status = 'pending'",
    [ST_INVITATION_PURGE] = "DELETE FROM org_invitations WHERE expires_at < $1 OR "
                            "(status <> 'pending' AND answered_at < $1)",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (" SESSION_COLS ") "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    [ST_SESSION_REAUTH] = "UPDATE sessions SET auth_time = $3 WHERE id = $1 AND user_id = $2 "
                          "AND revoked_at IS NULL AND expires_at > $3 RETURNING family_id",
    [ST_REFRESH_REAUTH] = "UPDATE refresh_tokens SET auth_time = $2 WHERE family_id = $1 "
                          "AND spent_at IS NULL AND revoked_at IS NULL",
    [ST_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions WHERE session_hash = $1 "
                       "AND revoked_at IS NULL AND expires_at > $2",
    [ST_SESSION_LIST] = "SELECT " SESSION_COLS " FROM sessions WHERE user_id = $1 "
                        "AND revoked_at IS NULL AND expires_at > $2 "
                        "ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
    [ST_SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = $2 "
                         "WHERE id = $1 AND last_seen_at < $2",
    /* Answers the revoked session's refresh family (no row: not a live session of $2). */
    [ST_SESSION_REVOKE] = "UPDATE sessions SET revoked_at = $3 WHERE id = $1 AND user_id = $2 "
                          "AND revoked_at IS NULL AND expires_at > $3 RETURNING family_id",
    [ST_SESSION_REVOKE_FAMILY] = "UPDATE sessions SET revoked_at = $2 "
                                 "WHERE family_id = $1 AND revoked_at IS NULL",
    [ST_SESSION_REVOKE_USER] = "UPDATE sessions SET revoked_at = $1 "
                               "WHERE user_id = $2 AND revoked_at IS NULL",
    [ST_SESSION_PURGE] = "DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1",
    [ST_MFA_GET] = "SELECT user_id, secret, enabled, last_step, created_at "
                   "FROM mfa_totp WHERE user_id = $1",
    /* Replaces a factor that waits; an enabled one stays (no row changed: a conflict). */
    [ST_MFA_PUT] = "INSERT INTO mfa_totp (user_id, secret, enabled, last_step, created_at) "
                   "VALUES ($1, $2, 0, 0, $3) ON CONFLICT (user_id) DO UPDATE SET "
                   "secret = excluded.secret, last_step = 0, created_at = excluded.created_at "
                   "WHERE mfa_totp.enabled = 0",
    [ST_MFA_ENABLE] = "UPDATE mfa_totp SET enabled = 1, last_step = $2 "
                      "WHERE user_id = $1 AND enabled = 0",
    [ST_MFA_USE_STEP] = "UPDATE mfa_totp SET last_step = $2 "
                        "WHERE user_id = $1 AND enabled = 1 AND last_step < $2",
    [ST_MFA_CODES_CLEAR] = "DELETE FROM mfa_backup_codes WHERE user_id = $1",
    [ST_MFA_CODE_INSERT] = "INSERT INTO mfa_backup_codes (user_id, code_hash) VALUES ($1, $2)",
    [ST_MFA_CODE_USE] = "UPDATE mfa_backup_codes SET used_at = $3 "
                        "WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    [ST_MFA_CODES_LEFT] = "SELECT count(*) FROM mfa_backup_codes "
                          "WHERE user_id = $1 AND used_at IS NULL",
    [ST_MFA_DELETE] = "DELETE FROM mfa_totp WHERE user_id = $1",
    [ST_CHALLENGE_INSERT] = "INSERT INTO mfa_challenges (challenge_hash, user_id, org_id, "
                            "created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    [ST_CHALLENGE_GET] = "SELECT challenge_hash, user_id, org_id, created_at, expires_at "
                         "FROM mfa_challenges WHERE challenge_hash = $1 "
                         "AND spent_at IS NULL AND expires_at > $2",
    [ST_CHALLENGE_SPEND] = "UPDATE mfa_challenges SET spent_at = $2 WHERE challenge_hash = $1 "
                           "AND spent_at IS NULL AND expires_at > $2",
    [ST_CHALLENGE_PURGE] = "DELETE FROM mfa_challenges WHERE expires_at < $1",
};

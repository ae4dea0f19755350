#include "store/sqlite_schema.h"

/*
 * Usernames and emails are unique without regard to case through indexes on lower(),
 * and every lookup compares lower() with lower() so the indexes serve it. SQLite's
 * lower() folds ASCII only: usernames are ASCII by rule, and non-ASCII email addresses
 * compare exactly in their non-ASCII part, which is what mail systems do anyway.
 */
const char *const gh_sqlite_migrations[] = {
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
};

const size_t gh_sqlite_migration_count =
    sizeof(gh_sqlite_migrations) / sizeof(gh_sqlite_migrations[0]);

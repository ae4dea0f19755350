#ifndef GH_STORE_SQLITE_SCHEMA_H
#define GH_STORE_SQLITE_SCHEMA_H

#include <sqlite3.h>
#include "core/err.h"

/*
 * Private to the SQLite backend: what the database file holds and what every connection
 * is told before sqlite.c uses it. sqlite_schema.c keeps the migrations and the text of
 * every statement (constants with ? placeholders); the backend's files (sqlite_int.h) run them by
 * these names.
 */

/** The backend's statements; each connection holds all of them prepared. */
enum gh_sqlite_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PING,
    ST_USER_INSERT,
    ST_USER_GET,
    ST_USER_FIND,
    ST_USER_CREDENTIALS,
    ST_USER_LIST,
    ST_USER_COUNT,
    ST_USER_SET_PASSWORD,
    ST_USER_SET_DISABLED,
    ST_USER_BUMP_EPOCH,
    ST_ORG_INSERT,
    ST_ROLE_INSERT,
    ST_ORG_FIND_NAME,
    ST_MEMBER_ADD,
    ST_MEMBER_GET,
    ST_MEMBER_LIST_USER,
    ST_REFRESH_INSERT,
    ST_REFRESH_SPEND,
    ST_REFRESH_GET,
    ST_REFRESH_REVOKE,
    ST_REFRESH_REVOKE_FAMILY,
    ST_REFRESH_REVOKE_USER,
    ST_REFRESH_PURGE,
    ST_AUDIT_INSERT,
    ST_AUDIT_HEAD,
    ST_AUDIT_LIST,
    ST_AUDIT_SCAN,
    ST_CHECKPOINT_INSERT,
    ST_CHECKPOINT_LIST,
    ST_AUDIT_PURGE,
    ST_REVOCATION_INSERT,
    ST_REVOCATION_SINCE,
    ST_REVOCATION_LAST,
    ST_REVOCATION_PURGE,
    ST_APIKEY_INSERT,
    ST_APIKEY_FIND,
    ST_APIKEY_LIST,
    ST_APIKEY_REVOKE_ONE,
    ST_APIKEY_REVOKE_ALL,
    ST_APIKEY_TOUCH,
    ST_ORG_GET,
    ST_ORG_LIST_ALL,
    ST_ORG_LIST_USER,
    ST_ORG_RENAME,
    ST_ORG_DELETE,
    ST_ORG_MEMBERS,
    ST_ORG_FEED,
    ST_REFRESH_REVOKE_ORG,
    ST_PRIMARY_REASSIGN,
    ST_ROLE_LIST,
    ST_ROLE_GET,
    ST_ROLE_FIND_NAME,
    ST_ROLE_INSERT_CUSTOM,
    ST_ROLE_UPDATE,
    ST_ROLE_DELETE,
    ST_ROLE_MEMBERS,
    ST_ROLE_FEED,
    ST_ROLE_IN_USE,
    ST_MEMBER_LIST_ORG,
    ST_MEMBER_SET_ROLE,
    ST_MEMBER_DELETE,
    ST_ADMIN_COUNT,
    ST_DATAKEY_INSERT,
    ST_DATAKEY_LIST,
    ST_APIKEY_REVOKE_ORG,
    ST_USER_SET_PRIMARY,
    ST_USER_LIST_ORG,
    ST_USER_UPDATE,
    ST_USER_DELETE,
    ST_PERM_INSERT,
    ST_PERM_LIST,
    ST_INVITATION_INSERT,
    ST_INVITATION_LIST_ORG,
    ST_INVITATION_LIST_USER,
    ST_INVITATION_GET,
    ST_INVITATION_ANSWER,
    ST_INVITATION_DEAD,
    ST_INVITATION_REVOKE,
    ST_INVITATION_PURGE,
    ST_SESSION_INSERT,
    ST_SESSION_GET,
    ST_SESSION_LIST,
    ST_SESSION_TOUCH,
    ST_SESSION_REVOKE,
    ST_SESSION_REVOKE_FAMILY,
    ST_SESSION_REVOKE_USER,
    ST_SESSION_PURGE,
    ST_MFA_GET,
    ST_MFA_PUT,
    ST_MFA_ENABLE,
    ST_MFA_USE_STEP,
    ST_MFA_CODES_CLEAR,
    ST_MFA_CODE_INSERT,
    ST_MFA_CODE_USE,
    ST_MFA_CODES_LEFT,
    ST_MFA_DELETE,
    ST_CHALLENGE_INSERT,
    ST_CHALLENGE_GET,
    ST_CHALLENGE_SPEND,
    ST_CHALLENGE_PURGE,
    ST_COUNT
};

/**
 * Creates the database file at path with mode 0600 if it is missing (tightening an existing
 * one to 0600), before SQLite opens it, so that the -wal and -shm files SQLite makes with
 * the same mode are private too. A symlink or non-regular file is refused. GH_ERR_IO.
 */
gh_err gh_sqlite_file_init(const char *path) GH_WUR GH_NONNULL(1);

/**
 * Opens one connection to path (which must exist): extended result codes, busy_ms busy
 * timeout, journal_mode=WAL (verified: GH_ERR_IO if the file cannot use WAL),
 * foreign_keys=ON, synchronous=NORMAL, trusted_schema=OFF. When migrate is set, applies
 * the pending migrations first (each in a BEGIN IMMEDIATE transaction with its
 * schema_migrations row, so concurrent openers migrate once). Then prepares every
 * statement into stmts. On GH_OK the caller owns *db and stmts (finalize, then close);
 * on failure nothing is left open. Failures log one "store:" line.
 */
gh_err gh_sqlite_conn_open(const char *path, unsigned busy_ms, int migrate, sqlite3 **db,
                           sqlite3_stmt *stmts[ST_COUNT]) GH_WUR GH_NONNULL(1, 4, 5);

#endif

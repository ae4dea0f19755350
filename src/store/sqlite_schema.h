#ifndef GH_STORE_SQLITE_SCHEMA_H
#define GH_STORE_SQLITE_SCHEMA_H

#include <sqlite3.h>
#include "core/err.h"
#include "store/sql_stmt.h"

/*
 * Private to the SQLite backend: what the database file holds and what every connection
 * is told before sqlite.c uses it. sqlite_schema.c keeps the migrations and the text of
 * every statement (constants with ? placeholders), which the SQLite driver (sqlite.c)
 * prepares and runs by their names (store/sql_stmt.h).
 */

/** The text of every statement in SQLite's dialect (NULL: none needed). */
extern const char *const gh_sqlite_sql[ST_COUNT];

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
 * schema_migrations row, so concurrent openers migrate once). On GH_OK the caller owns *db;
 * on failure nothing is left open. Failures log one "store:" line.
 */
gh_err gh_sqlite_conn_open(const char *path, unsigned busy_ms, int migrate, sqlite3 **db) GH_WUR
    GH_NONNULL(1, 4);

/** The VFS every SQLite file is opened through (gh_store_sqlite_vfs); NULL the default. */
const char *gh_sqlite_vfs(void);

/**
 * With an encrypting VFS set: temp_store=MEMORY, and 4096-byte pages with the VFS's
 * reserved bytes (set on a new database before its first write, checked on an existing
 * one). Without: nothing. GH_ERR_IO, logged.
 */
gh_err gh_sqlite_prepare(sqlite3 *db, const char *path) GH_WUR GH_NONNULL(1, 2);

#endif

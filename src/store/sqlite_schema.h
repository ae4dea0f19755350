#ifndef GH_STORE_SQLITE_SCHEMA_H
#define GH_STORE_SQLITE_SCHEMA_H

#include <stddef.h>

/*
 * The SQLite schema as an append-only list of migrations: migration i brings the
 * database to version i + 1. Never edit a shipped migration; append a new one.
 */
extern const char *const gh_sqlite_migrations[];
extern const size_t gh_sqlite_migration_count;

#endif

#ifndef GH_STORE_PG_SCHEMA_H
#define GH_STORE_PG_SCHEMA_H

#include <stddef.h>

#include "store/sql_stmt.h"

/*
 * Private to the PostgreSQL backend: what the database holds (the migrations, applied by
 * pg.c in order, each in its own transaction with its schema_migrations row) and the text
 * of every statement in PostgreSQL's dialect ($n placeholders), run by the PostgreSQL
 * driver (pg.c) by the names of store/sql_stmt.h.
 */

/** The migrations: entry i brings the database to version i + 1. Constants only. */
extern const char *const *const gh_pg_migrations;
extern const size_t gh_pg_migration_count;

/** The text of every statement (NULL: none needed). */
extern const char *const gh_pg_sql[ST_COUNT];

#endif

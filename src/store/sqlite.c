/*
 * The SQLite driver of the SQL engine (sql.h): one database file, WAL, a connection per
 * pool slot opened SQLITE_OPEN_NOMUTEX (the pool gives it to one thread at a time) with
 * every statement of sqlite_schema.c prepared once at connect and then only reset and
 * re-bound. Writers serialise on BEGIN IMMEDIATE, which takes the write lock up front so
 * that a transaction never fails half-way with SQLITE_BUSY; waits for it are bounded by
 * the busy timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/sql.h"
#include "store/sqlite_schema.h"

/* Enough for a 2-core host: WAL lets the readers run side by side, writers serialise. */
#define SQLITE_POOL 4

struct sqlite_conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT]; /* NULL where the statement's text is */
};

static struct sqlite_conn *conn_of(struct conn *c)
{
    return c->h;
}

/* Maps db's last error; unexpected ones are logged (never sent to a client). */
static gh_err fail(struct conn *c, const char *what)
{
    sqlite3 *db = conn_of(c)->db;
    int code = sqlite3_extended_errcode(db);
    switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return GH_ERR_CONFLICT;
    case SQLITE_CONSTRAINT_FOREIGNKEY: /* the user, org or role referred to does not exist */
        return GH_ERR_NOT_FOUND;
    default:
        break;
    }
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        return GH_ERR_BUSY; /* the busy timeout has already been waited */
    fprintf(stderr, "store: %s: %s\n", what, sqlite3_errmsg(db));
    switch (code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
        sq_write_failed(c); /* /readyz reports it (sq_ping) */
        break;
    default:
        break;
    }
    return (code & 0xff) == SQLITE_NOMEM ? GH_ERR_NOMEM : GH_ERR_IO;
}

/* Binds vals to ?1.. of s (GH_ERR_INVALID when one does not bind). */
static gh_err bind(sqlite3_stmt *s, const struct sq_val *vals, size_t n)
{
    int rc = SQLITE_OK;
    for (size_t k = 0; k < n && rc == SQLITE_OK; k++) {
        const struct sq_val *v = &vals[k];
        int i = (int)k + 1;
        switch (v->kind) {
        case SQ_VAL_NULL:
            rc = sqlite3_bind_null(s, i);
            break;
        case SQ_VAL_TEXT:
            rc = v->n > INT32_MAX ? SQLITE_TOOBIG
                                  : sqlite3_bind_text(s, i, v->p, (int)v->n, SQLITE_STATIC);
            break;
        case SQ_VAL_INT:
            rc = sqlite3_bind_int64(s, i, v->i);
            break;
        case SQ_VAL_BLOB:
            rc = v->n > INT32_MAX ? SQLITE_TOOBIG
                                  : sqlite3_bind_blob(s, i, v->p, (int)v->n, SQLITE_STATIC);
            break;
        }
    }
    return rc == SQLITE_OK ? GH_OK : GH_ERR_INVALID;
}

/* Binds vals to s, steps it to its end calling row per row, resets it. */
static gh_err step_all(struct conn *c, sqlite3_stmt *s, const struct sq_val *vals, size_t n,
                       sq_row_fn row, void *ctx, const char *what)
{
    struct sq_cursor cur = {c->drv, s, 0};
    gh_err err = bind(s, vals, n);
    if (err == GH_OK) {
        int rc, stop = 0;
        while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
            stop = row != NULL && row(ctx, &cur);
            cur.row++;
        }
        if (!stop && rc != SQLITE_DONE)
            err = fail(c, what);
    }
    /* Reset, and drop the statement's pointers to the caller's memory (a hash, a key). */
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return err;
}

static gh_err sqlite_exec(struct conn *c, enum sq_stmt id, const struct sq_val *vals, size_t n,
                          sq_row_fn row, void *ctx, int64_t *changes, const char *what)
{
    gh_err err = step_all(c, conn_of(c)->stmts[id], vals, n, row, ctx, what);
    if (err == GH_OK && changes != NULL)
        *changes = sqlite3_changes64(conn_of(c)->db);
    return err;
}

static gh_err sqlite_run_text(struct conn *c, const char *sql, const struct sq_val *vals, size_t n,
                              sq_row_fn row, void *ctx, const char *what)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(conn_of(c)->db, sql, -1, &s, NULL) != SQLITE_OK)
        return fail(c, what);
    gh_err err = step_all(c, s, vals, n, row, ctx, what);
    sqlite3_finalize(s);
    return err;
}

static int sqlite_in_tx(struct conn *c)
{
    return !sqlite3_get_autocommit(conn_of(c)->db);
}

static int col_null(const struct sq_cursor *cur, int col)
{
    return sqlite3_column_type(cur->impl, col) == SQLITE_NULL;
}

static enum sq_val_kind col_kind(const struct sq_cursor *cur, int col)
{
    switch (sqlite3_column_type(cur->impl, col)) {
    case SQLITE_NULL:
        return SQ_VAL_NULL;
    case SQLITE_INTEGER:
        return SQ_VAL_INT;
    case SQLITE_BLOB:
        return SQ_VAL_BLOB;
    default:
        return SQ_VAL_TEXT;
    }
}

static int64_t col_i64(const struct sq_cursor *cur, int col)
{
    return sqlite3_column_int64(cur->impl, col);
}

static const char *col_text(const struct sq_cursor *cur, int col, size_t *n)
{
    const char *v = (const char *)sqlite3_column_text(cur->impl, col);
    *n = (size_t)sqlite3_column_bytes(cur->impl, col);
    return v;
}

static const void *col_blob(const struct sq_cursor *cur, int col, size_t *n)
{
    const void *v = sqlite3_column_blob(cur->impl, col);
    *n = (size_t)sqlite3_column_bytes(cur->impl, col);
    return v;
}

static void sqlite_disconnect(void *h)
{
    struct sqlite_conn *sc = h;
    for (int k = 0; k < ST_COUNT; k++)
        sqlite3_finalize(sc->stmts[k]);
    sqlite3_close(sc->db);
    free(sc);
}

static gh_err sqlite_connect(const char *path, unsigned busy_ms, int migrate, void **h)
{
    struct sqlite_conn *sc = calloc(1, sizeof(*sc));
    if (sc == NULL)
        return GH_ERR_NOMEM;
    gh_err err = gh_sqlite_conn_open(path, busy_ms, migrate, &sc->db);
    if (err != GH_OK) {
        free(sc);
        return err;
    }
    for (int k = 0; k < ST_COUNT && err == GH_OK; k++) {
        if (gh_sqlite_sql[k] != NULL &&
            sqlite3_prepare_v3(sc->db, gh_sqlite_sql[k], -1, SQLITE_PREPARE_PERSISTENT,
                               &sc->stmts[k], NULL) != SQLITE_OK) {
            fprintf(stderr, "store: prepare %d: %s\n", k, sqlite3_errmsg(sc->db));
            err = GH_ERR_IO;
        }
    }
    if (err != GH_OK) {
        sqlite_disconnect(sc);
        return err;
    }
    *h = sc;
    return GH_OK;
}

static const struct sq_driver sqlite_driver = {
    .name = "sqlite",
    .sql = gh_sqlite_sql,
    .pool_size = SQLITE_POOL,
    .connect = sqlite_connect,
    .disconnect = sqlite_disconnect,
    .exec = sqlite_exec,
    .run_text = sqlite_run_text,
    /* Deferred: a read snapshot from the first read, no write lock (a running server goes
     * on writing). */
    .snapshot = "BEGIN",
    .in_tx = sqlite_in_tx,
    .col_null = col_null,
    .col_kind = col_kind,
    .col_i64 = col_i64,
    .col_text = col_text,
    .col_blob = col_blob,
};

/* dsn: the database file, created 0600 before SQLite opens it. */
static gh_err sqlite_open(const char *path, unsigned busy_ms, struct gh_store **out)
{
    gh_err err = gh_sqlite_file_init(path);
    return err != GH_OK ? err : sq_open(&sqlite_driver, path, busy_ms, out);
}

/* Copies the whole database src into dst with SQLite's online backup API (other
 * connections of src keep reading and writing meanwhile). */
static gh_err copy_db(sqlite3 *dst, sqlite3 *src)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL)
        return GH_ERR_IO;
    int rc;
    while ((rc = sqlite3_backup_step(b, 256)) == SQLITE_OK || rc == SQLITE_BUSY ||
           rc == SQLITE_LOCKED)
        if (rc != SQLITE_OK)
            sqlite3_sleep(10);
    rc = sqlite3_backup_finish(b);
    return rc == SQLITE_OK ? GH_OK : GH_ERR_IO;
}

static gh_err sqlite_snapshot(struct gh_store *st, const char *path)
{
    struct conn *c;
    sqlite3 *dst = NULL;
    gh_err err = gh_sqlite_file_init(path);
    if (err != GH_OK)
        return err;
    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, gh_sqlite_vfs()) !=
            SQLITE_OK ||
        gh_sqlite_prepare(dst, path) != GH_OK) {
        sqlite3_close(dst);
        return GH_ERR_IO;
    }
    if ((err = sq_checkout(st, &c)) == GH_OK) {
        err = copy_db(dst, conn_of(c)->db);
        sq_checkin(st, c);
    }
    if (sqlite3_close(dst) != SQLITE_OK && err == GH_OK)
        err = GH_ERR_IO;
    return err;
}

/* 1 when the database file at path reads whole (PRAGMA quick_check) and is Gatehouse's. */
static int sound(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    int ok = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) == SQLITE_OK &&
             sqlite3_step(s) == SQLITE_ROW &&
             strcmp((const char *)sqlite3_column_text(s, 0), "ok") == 0;
    sqlite3_finalize(s);
    s = NULL;
    ok = ok && sqlite3_prepare_v2(db, "SELECT count(*) FROM users, data_keys LIMIT 1", -1, &s,
                                  NULL) == SQLITE_OK;
    sqlite3_finalize(s);
    return ok;
}

static gh_err sqlite_restore(const char *dsn, const char *path, unsigned busy_ms)
{
    sqlite3 *src = NULL, *dst = NULL;
    gh_err err = GH_ERR_INVALID;
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, gh_sqlite_vfs()) !=
            SQLITE_OK ||
        !sound(src))
        goto out;
    if ((err = gh_sqlite_file_init(dsn)) != GH_OK)
        goto out;
    err = GH_ERR_IO;
    if (sqlite3_open_v2(dsn, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, gh_sqlite_vfs()) !=
            SQLITE_OK ||
        gh_sqlite_prepare(dst, dsn) != GH_OK)
        goto out;
    sqlite3_busy_timeout(dst, busy_ms > INT32_MAX ? INT32_MAX : (int)busy_ms);
    err = copy_db(dst, src);
out:
    sqlite3_close(src);
    if (sqlite3_close(dst) != SQLITE_OK && err == GH_OK)
        err = GH_ERR_IO;
    return err;
}

const struct gh_store_ops gh_store_sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    .snapshot = sqlite_snapshot,
    .restore = sqlite_restore,
    SQ_OPS_COMMON,
};

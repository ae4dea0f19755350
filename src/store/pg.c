/*
 * The PostgreSQL driver of the SQL engine (sql.h), on libpq (opened at run time:
 * pg_lib.h). A pool slot holds one connection; each statement of pg_schema.c is prepared
 * on a connection the first time it runs there (PQprepare: parsed and planned once), then
 * run with PQexecPrepared: values go as parameters (text, blobs in binary), rows come back
 * in binary. A lost connection is re-established on its next use (PQreset), its
 * statements prepared again, so the store recovers by itself when the database returns;
 * meanwhile every op, and so /readyz, fails with GH_ERR_IO. Lock waits are bounded by
 * lock_timeout = the busy timeout.
 *
 * The DSN may hold a password: it is handed to libpq and never logged; libpq's messages
 * name the host and the user, never the password.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_lib.h"
#include "store/pg_schema.h"
#include "store/sql.h"

/* Each connection is a server process: a small pool per node keeps N nodes within the
 * server's max_connections. */
#define PG_POOL 8
/* libpq's wait for a server that does not answer, unless the DSN says otherwise. */
#define PG_CONNECT_TIMEOUT "5"

/* Type OIDs of the binary columns read as integers (fixed: src/include/catalog/pg_type.dat). */
#define BOOLOID 16
#define BYTEAOID 17
#define INT8OID 20
#define INT2OID 21
#define INT4OID 23

/* At most this many parameters to one statement (sql.c's MAX_ARGS). */
#define PG_MAX_ARGS 32

/* Bumped whenever a connection is found lost. A pooled connection idle while the database
 * restarted still says CONNECTION_OK until its next statement fails, so each one
 * established before the last loss is re-established before its next use: after a
 * restart one request fails (503), not one per pooled connection. */
static atomic_uint lost_epoch;

/* The database is away: set by the first connection that finds it so, cleared by the first
 * that reaches it again, so the log says "lost" and "back" once per outage whichever
 * pooled connections notice. */
static atomic_int away;

struct pg_conn {
    PGconn *pg;
    unsigned epoch; /* lost_epoch when the connection was (re)established */
    unsigned busy_ms;
    int tx; /* a transaction was begun and not yet ended: never re-established under it */
    unsigned char prepared[ST_COUNT]; /* on this session */
};

static struct pg_conn *conn_of(struct conn *c)
{
    return c->h;
}

/* Notices (a NOTICE of CREATE ... IF NOT EXISTS) are not errors: dropped. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The first line of libpq's message for the log (the rest can quote values). */
static void log_pg(const char *what, const char *msg)
{
    size_t n = msg != NULL ? strcspn(msg, "\n") : 0;
    fprintf(stderr, "store: %s: %.*s\n", what, (int)n, msg != NULL ? msg : "");
}

/* Session settings of a new (or re-established) connection: lock_timeout. */
static gh_err session(struct pg_conn *pc)
{
    char ms[24];
    const char *vals[1] = {ms};
    (void)snprintf(ms, sizeof(ms), "%u", pc->busy_ms);
    PGresult *r = gh_pq.execParams(pc->pg, "SELECT set_config('lock_timeout', $1, false)", 1, NULL,
                                   vals, NULL, NULL, 0);
    gh_err err = gh_pq.resultStatus(r) == PGRES_TUPLES_OK ? GH_OK : GH_ERR_IO;
    if (err != GH_OK)
        log_pg("session", gh_pq.errorMessage(pc->pg));
    gh_pq.clear(r);
    return err;
}

/* A usable connection: re-established when it was lost (GH_ERR_IO while it cannot be). */
static gh_err alive(struct pg_conn *pc)
{
    unsigned epoch = atomic_load(&lost_epoch);
    if (gh_pq.status(pc->pg) == CONNECTION_OK && pc->epoch == epoch)
        return GH_OK;
    gh_pq.reset(pc->pg);
    pc->epoch = epoch;
    memset(pc->prepared, 0, sizeof(pc->prepared));
    if (gh_pq.status(pc->pg) != CONNECTION_OK || session(pc) != GH_OK) {
        if (!atomic_exchange(&away, 1))
            log_pg("PostgreSQL is unreachable", gh_pq.errorMessage(pc->pg));
        return GH_ERR_IO;
    }
    if (atomic_exchange(&away, 0))
        fprintf(stderr, "store: PostgreSQL is back\n");
    return GH_OK;
}

/* Maps a failed result (NULL: the connection failed) to the store's errors. */
static gh_err fail(struct pg_conn *pc, const PGresult *r, const char *what)
{
    const char *state = r != NULL ? gh_pq.resultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state != NULL) {
        if (strcmp(state, "23505") == 0) /* unique_violation */
            return GH_ERR_CONFLICT;
        if (strcmp(state, "23503") == 0) /* foreign_key_violation: no such user, org, role */
            return GH_ERR_NOT_FOUND;
        /* lock_not_available (lock_timeout), deadlock, serialization failure */
        if (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0 ||
            strcmp(state, "40001") == 0)
            return GH_ERR_BUSY;
        if (strcmp(state, "22021") == 0) /* bytes that are not UTF-8 */
            return GH_ERR_INVALID;
    }
    if (gh_pq.status(pc->pg) != CONNECTION_OK) {
        if (!atomic_exchange(&away, 1))
            log_pg("PostgreSQL connection lost", gh_pq.errorMessage(pc->pg));
        atomic_fetch_add(&lost_epoch, 1);
        return GH_ERR_IO;
    }
    log_pg(what, r != NULL ? gh_pq.resultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                           : gh_pq.errorMessage(pc->pg));
    return GH_ERR_IO;
}

/* Prepares statement id on pc's session, once. */
static gh_err prepare(struct pg_conn *pc, enum sq_stmt id, const char *name)
{
    if (pc->prepared[id])
        return GH_OK;
    PGresult *r = gh_pq.prepare(pc->pg, name, gh_pg_sql[id], 0, NULL);
    gh_err err = gh_pq.resultStatus(r) == PGRES_COMMAND_OK ? GH_OK : fail(pc, r, "prepare");
    gh_pq.clear(r);
    pc->prepared[id] = err == GH_OK;
    return err;
}

/* The parameters of one statement as libpq takes them: text, blobs in binary. */
struct pg_params {
    const char *values[PG_MAX_ARGS];
    int lengths[PG_MAX_ARGS], formats[PG_MAX_ARGS];
    char ints[PG_MAX_ARGS][24];
};

static gh_err params(const struct sq_val *vals, size_t n, struct pg_params *p)
{
    if (n > PG_MAX_ARGS)
        return GH_ERR_INTERNAL;
    for (size_t k = 0; k < n; k++) {
        const struct sq_val *v = &vals[k];
        p->values[k] = NULL;
        p->lengths[k] = 0;
        p->formats[k] = 0;
        switch (v->kind) {
        case SQ_VAL_NULL:
            break;
        case SQ_VAL_TEXT:
            p->values[k] = v->p; /* NUL-terminated: sql.c checked it */
            break;
        case SQ_VAL_INT:
            (void)snprintf(p->ints[k], sizeof(p->ints[k]), "%" PRId64, v->i);
            p->values[k] = p->ints[k];
            break;
        case SQ_VAL_BLOB:
            if (v->n > INT32_MAX)
                return GH_ERR_INVALID;
            p->values[k] = v->p;
            p->lengths[k] = (int)v->n;
            p->formats[k] = 1;
            break;
        }
    }
    return GH_OK;
}

/* Hands r's rows to row until it returns non-zero; the failure r reports, mapped. */
static gh_err take(struct conn *c, const PGresult *r, sq_row_fn row, void *ctx, const char *what)
{
    ExecStatusType status = gh_pq.resultStatus(r);
    if (status == PGRES_TUPLES_OK) {
        struct sq_cursor cur = {c->drv, (void *)(uintptr_t)r, 0};
        int rows = gh_pq.ntuples(r);
        for (; cur.row < rows; cur.row++)
            if (row != NULL && row(ctx, &cur))
                break;
        return GH_OK;
    }
    return status == PGRES_COMMAND_OK ? GH_OK : fail(conn_of(c), r, what);
}

/* Outside a transaction a lost connection is re-established here. Inside one the
 * transaction is gone with it: every statement up to its end fails, so that a COMMIT on a
 * new session can never report work that was lost. */
static gh_err usable(struct pg_conn *pc)
{
    if (!pc->tx)
        return alive(pc);
    return gh_pq.status(pc->pg) == CONNECTION_OK ? GH_OK : GH_ERR_IO;
}

static gh_err pg_exec(struct conn *c, enum sq_stmt id, const struct sq_val *vals, size_t n,
                      sq_row_fn row, void *ctx, int64_t *changes, const char *what)
{
    struct pg_conn *pc = conn_of(c);
    struct pg_params p;
    char name[16];
    gh_err err = params(vals, n, &p);
    if (err != GH_OK)
        return err;
    err = usable(pc);
    if (id == ST_COMMIT || id == ST_ROLLBACK)
        pc->tx = 0;
    (void)snprintf(name, sizeof(name), "s%d", (int)id);
    if (err == GH_OK)
        err = prepare(pc, id, name);
    if (err != GH_OK)
        return err;
    PGresult *r = gh_pq.execPrepared(pc->pg, name, (int)n, p.values, p.lengths, p.formats, 1);
    err = take(c, r, row, ctx, what);
    /* A COMMIT of a transaction that failed answers "ROLLBACK": nothing was written. */
    if (err == GH_OK && id == ST_COMMIT && strcmp(gh_pq.cmdStatus(r), "COMMIT") != 0) {
        log_pg(what, "the transaction was rolled back");
        err = GH_ERR_IO;
    }
    if (err == GH_OK && id == ST_BEGIN)
        pc->tx = 1;
    if (err == GH_OK && changes != NULL) {
        const char *t = gh_pq.cmdTuples(r);
        *changes = t[0] != '\0' ? strtoll(t, NULL, 10) : 0;
    }
    gh_pq.clear(r);
    return err;
}

static gh_err pg_run_text(struct conn *c, const char *sql, const struct sq_val *vals, size_t n,
                          sq_row_fn row, void *ctx, const char *what)
{
    struct pg_params p;
    gh_err err = params(vals, n, &p);
    if (err == GH_OK)
        err = usable(conn_of(c));
    if (err != GH_OK)
        return err;
    PGresult *r =
        gh_pq.execParams(conn_of(c)->pg, sql, (int)n, NULL, p.values, p.lengths, p.formats, 1);
    err = take(c, r, row, ctx, what);
    gh_pq.clear(r);
    return err;
}

/* Begun and not ended: the engine then ends it (a ROLLBACK on a lost connection fails, and
 * ends it for the driver). */
static int pg_in_tx(struct conn *c)
{
    return conn_of(c)->tx;
}

static int col_null(const struct sq_cursor *cur, int col)
{
    return gh_pq.getisnull(cur->impl, cur->row, col);
}

/* An integer column in binary: big-endian int2, int4, int8, or a bool. */
static enum sq_val_kind col_kind(const struct sq_cursor *cur, int col)
{
    if (col_null(cur, col))
        return SQ_VAL_NULL;
    switch (gh_pq.ftype(cur->impl, col)) {
    case BOOLOID:
    case INT2OID:
    case INT4OID:
    case INT8OID:
        return SQ_VAL_INT;
    case BYTEAOID:
        return SQ_VAL_BLOB;
    default:
        return SQ_VAL_TEXT;
    }
}

static int64_t col_i64(const struct sq_cursor *cur, int col)
{
    const PGresult *r = cur->impl;
    const unsigned char *v = (const unsigned char *)gh_pq.getvalue(r, cur->row, col);
    int len = gh_pq.getlength(r, cur->row, col);
    if (gh_pq.getisnull(r, cur->row, col))
        return 0;
    uint64_t u = 0;
    for (int i = 0; i < len && i < 8; i++)
        u = u << 8 | v[i];
    switch (gh_pq.ftype(r, col)) {
    case INT8OID:
        return len == 8 ? (int64_t)u : 0;
    case INT4OID:
        return len == 4 ? (int64_t)(int32_t)(uint32_t)u : 0;
    case INT2OID:
        return len == 2 ? (int64_t)(int16_t)(uint16_t)u : 0;
    case BOOLOID:
        return len == 1 && u != 0;
    default:
        return 0;
    }
}

/* Text and bytea in binary are their bytes (libpq adds a NUL after them). */
static const char *col_text(const struct sq_cursor *cur, int col, size_t *n)
{
    *n = (size_t)gh_pq.getlength(cur->impl, cur->row, col);
    return col_null(cur, col) ? NULL : gh_pq.getvalue(cur->impl, cur->row, col);
}

static const void *col_blob(const struct sq_cursor *cur, int col, size_t *n)
{
    return col_text(cur, col, n);
}

/* Runs a constant (several statements allowed): GH_ERR_IO on failure, logged. */
static gh_err run_const(PGconn *pg, const char *sql, const char *what)
{
    PGresult *r = gh_pq.exec(pg, sql);
    ExecStatusType s = gh_pq.resultStatus(r);
    gh_err err = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? GH_OK : GH_ERR_IO;
    if (err != GH_OK)
        log_pg(what, gh_pq.resultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
    gh_pq.clear(r);
    return err;
}

/* Applies migration version (1-based) unless recorded, in one transaction with its row. */
static gh_err apply_one(PGconn *pg, size_t version)
{
    char v[24];
    const char *vals[1] = {v};
    (void)snprintf(v, sizeof(v), "%zu", version);
    PGresult *r = gh_pq.execParams(pg, "SELECT 1 FROM schema_migrations WHERE version = $1", 1,
                                   NULL, vals, NULL, NULL, 0);
    int done = gh_pq.resultStatus(r) == PGRES_TUPLES_OK ? gh_pq.ntuples(r) > 0 : -1;
    gh_pq.clear(r);
    if (done != 0)
        return done > 0 ? GH_OK : GH_ERR_IO;
    gh_err err = run_const(pg, "BEGIN", "migration");
    if (err == GH_OK)
        err = run_const(pg, gh_pg_migrations[version - 1], "migration");
    if (err == GH_OK) {
        r = gh_pq.execParams(pg,
                             "INSERT INTO schema_migrations (version, applied_at) "
                             "VALUES ($1, extract(epoch from now())::bigint)",
                             1, NULL, vals, NULL, NULL, 0);
        err = gh_pq.resultStatus(r) == PGRES_COMMAND_OK ? GH_OK : GH_ERR_IO;
        gh_pq.clear(r);
    }
    if (err == GH_OK)
        err = run_const(pg, "COMMIT", "migration");
    if (err != GH_OK)
        (void)run_const(pg, "ROLLBACK", "migration");
    return err;
}

/* The pending migrations, under a session advisory lock: of nodes starting together one
 * migrates, the others wait and then find every version recorded. */
static gh_err migrate(PGconn *pg)
{
    gh_err err = run_const(pg, "SELECT pg_advisory_lock(hashtext('gatehouse:migrate'))", "lock");
    if (err != GH_OK)
        return err;
    err = run_const(pg,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                    "schema_migrations");
    for (size_t v = 1; v <= gh_pg_migration_count && err == GH_OK; v++)
        err = apply_one(pg, v);
    if (err != GH_OK)
        fprintf(stderr, "store: the PostgreSQL migrations failed\n");
    (void)run_const(pg, "SELECT pg_advisory_unlock(hashtext('gatehouse:migrate'))", "unlock");
    return err;
}

static void pg_disconnect(void *h)
{
    struct pg_conn *pc = h;
    gh_pq.finish(pc->pg);
    free(pc);
}

static gh_err pg_connect(const char *dsn, unsigned busy_ms, int migrate_first, void **h)
{
    /* Defaults first: the DSN (expanded from dbname) overrides them. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {PG_CONNECT_TIMEOUT, "gatehouse", dsn, NULL};
    struct pg_conn *pc = calloc(1, sizeof(*pc));
    if (pc == NULL)
        return GH_ERR_NOMEM;
    pc->busy_ms = busy_ms;
    pc->epoch = atomic_load(&lost_epoch);
    pc->pg = gh_pq.connectdbParams(keys, vals, 1);
    gh_err err = GH_ERR_IO;
    if (pc->pg == NULL)
        err = GH_ERR_NOMEM;
    else if (gh_pq.status(pc->pg) != CONNECTION_OK)
        log_pg("cannot connect to PostgreSQL", gh_pq.errorMessage(pc->pg));
    else if (gh_pq.setNoticeProcessor(pc->pg, quiet, NULL),
             (err = session(pc)) == GH_OK && migrate_first)
        err = migrate(pc->pg);
    if (err != GH_OK) {
        gh_pq.finish(pc->pg);
        free(pc);
        return err;
    }
    *h = pc;
    return GH_OK;
}

static const struct sq_driver pg_driver = {
    .name = "postgres",
    .sql = gh_pg_sql,
    .pool_size = PG_POOL,
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .exec = pg_exec,
    .run_text = pg_run_text,
    .snapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    .in_tx = pg_in_tx,
    .col_null = col_null,
    .col_kind = col_kind,
    .col_i64 = col_i64,
    .col_text = col_text,
    .col_blob = col_blob,
};

/* dsn: a libpq connection string or URI (storage.dsn). */
static gh_err pg_open(const char *dsn, unsigned busy_ms, struct gh_store **out)
{
    gh_err err = gh_pq_load();
    return err != GH_OK ? err : sq_open(&pg_driver, dsn, busy_ms, out);
}

const struct gh_store_ops gh_store_postgres_ops = {
    .name = "postgres",
    .open = pg_open,
    SQ_OPS_COMMON,
};

/*
 * The SQL engine of the store backends (sql.h): the pool, transactions, and the one way of
 * running a statement. The ops live by domain in sql_users.c, sql_orgs.c,
 * sql_invitations.c, sql_tokens.c, sql_apikeys.c and sql_audit.c; each engine (SQLite:
 * sqlite.c, PostgreSQL: pg.c) is a driver that runs a statement by name.
 *
 * A fixed pool of connections, each used by one thread at a time (checked out under a
 * mutex). Every statement is a constant of the engine's schema file with placeholders: no
 * value is ever formatted into SQL. Writes that must be atomic run in transactions that
 * take the engine's write lock first (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
 * lock), so that they serialise rather than fail half-way; waits for the lock are bounded
 * by the busy timeout. A transaction of the caller's (tx_begin) pins one connection; the
 * ops run on it and join its transaction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "store/sql.h"

/* ---- connections and transactions ---- */

static int64_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec + 1; /* never 0 */
}

gh_err sq_checkout(struct gh_store *st, struct conn **out)
{
    if (st->pinned != NULL) {
        *out = st->pinned;
        return GH_OK;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(st->wait_ms / 1000);
    until.tv_nsec += (long)(st->wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&st->lock);
    while (st->nidle == 0)
        if (pthread_cond_timedwait(&st->available, &st->lock, &until) == ETIMEDOUT)
            break;
    gh_err err = GH_ERR_BUSY;
    if (st->nidle > 0) {
        *out = &st->conns[st->idle[--st->nidle]];
        err = GH_OK;
    }
    pthread_mutex_unlock(&st->lock);
    return err;
}

void sq_checkin(struct gh_store *st, struct conn *c)
{
    if (st->pinned != NULL)
        return;
    pthread_mutex_lock(&st->lock);
    st->idle[st->nidle++] = (int)(c - st->conns);
    pthread_cond_signal(&st->available);
    pthread_mutex_unlock(&st->lock);
}

/* Begins a transaction on c with lock taken first. */
static gh_err begin(struct conn *c, enum sq_stmt lock)
{
    gh_err err = sq_run(c, ST_BEGIN, SQ_NOARGS, NULL);
    if (err == GH_OK && (err = sq_run(c, lock, SQ_NOARGS, NULL)) != GH_OK && c->drv->in_tx(c))
        (void)sq_run(c, ST_ROLLBACK, SQ_NOARGS, NULL);
    return err;
}

/* Commits when err is GH_OK or GH_ERR_REUSED, otherwise rolls back. */
static gh_err end(struct conn *c, gh_err err)
{
    if (err == GH_OK || err == GH_ERR_REUSED) {
        gh_err cerr = sq_run(c, ST_COMMIT, SQ_NOARGS, NULL);
        if (cerr == GH_OK)
            return err;
        err = cerr;
    }
    /* Some errors (SQLITE_FULL, a lost connection...) already ended the transaction. */
    if (c->drv->in_tx(c))
        (void)sq_run(c, ST_ROLLBACK, SQ_NOARGS, NULL);
    return err;
}

gh_err sq_enter_locked(struct gh_store *st, enum sq_stmt lock, struct conn **out)
{
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    /* In a caller's transaction, the lock is taken there (a lock held is taken again). */
    err = st->pinned == NULL ? begin(c, lock) : sq_run(c, lock, SQ_NOARGS, NULL);
    if (err != GH_OK) {
        sq_checkin(st, c);
        return err;
    }
    *out = c;
    return GH_OK;
}

gh_err sq_enter(struct gh_store *st, struct conn **out)
{
    return sq_enter_locked(st, ST_WRITE_LOCK, out);
}

gh_err sq_leave(struct gh_store *st, struct conn *c, gh_err err)
{
    if (st->pinned == NULL)
        err = end(c, err);
    sq_checkin(st, c);
    return err;
}

gh_err sq_tx_begin(struct gh_store *st, struct gh_store **tx)
{
    struct conn *c;
    struct gh_store *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return GH_ERR_NOMEM;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK) {
        free(t);
        return err;
    }
    t->drv = st->drv;
    t->pinned = c;
    t->owner = st->pinned != NULL ? NULL : st; /* nested: the outer transaction ends it */
    *tx = t;
    return GH_OK;
}

gh_err sq_tx_end(struct gh_store *tx, gh_err err)
{
    struct gh_store *owner = tx->owner;
    struct conn *c = tx->pinned;
    free(tx);
    if (owner == NULL) /* a transaction inside a transaction: the outer one ends it */
        return err;
    err = end(c, err);
    sq_checkin(owner, c);
    return err;
}

/* ---- statements ---- */

int64_t sq_clamp(size_t n)
{
    return n > INT64_MAX ? INT64_MAX : (int64_t)n;
}

/* The arguments as values for the driver: a fixed-size record field without its NUL is
 * refused (GH_ERR_INVALID) rather than over-read; "" of an SQ_OPT is NULL. */
static gh_err values(const struct sq_arg *args, size_t n, struct sq_val *out)
{
    for (size_t k = 0; k < n; k++) {
        const struct sq_arg *a = &args[k];
        struct sq_val v = {SQ_VAL_NULL, NULL, 0, 0};
        switch (a->kind) {
        case SQ_NONE:
            break;
        case SQ_OPT:
            if (a->p == NULL || *(const char *)a->p == '\0')
                break;
            /* fall through */
        case SQ_TEXT:
            if (a->p != NULL)
                v = (struct sq_val){SQ_VAL_TEXT, a->p, strlen(a->p), 0};
            break;
        case SQ_FIELD: {
            size_t len = strnlen(a->p, a->n);
            if (len == a->n)
                return GH_ERR_INVALID;
            v = (struct sq_val){SQ_VAL_TEXT, a->p, len, 0};
            break;
        }
        case SQ_INT:
            v = (struct sq_val){SQ_VAL_INT, NULL, 0, a->i};
            break;
        case SQ_BLOB:
            v = (struct sq_val){SQ_VAL_BLOB, a->p, a->n, 0};
            break;
        }
        out[k] = v;
    }
    return GH_OK;
}

/* At most this many arguments to one statement. */
#define MAX_ARGS 32

/* Runs statement id with args, calling row(ctx, cur) per row; nothing for a statement the
 * engine does not need (its text is NULL). */
static gh_err exec(struct conn *c, enum sq_stmt id, const struct sq_arg *args, size_t n,
                   sq_row_fn row, void *ctx, int64_t *changes, const char *what)
{
    struct sq_val vals[MAX_ARGS];
    if (n > MAX_ARGS)
        return GH_ERR_INTERNAL;
    if (c->drv->sql[id] == NULL) {
        if (changes != NULL)
            *changes = 0;
        return GH_OK;
    }
    gh_err err = values(args, n, vals);
    if (err != GH_OK)
        return err;
    return c->drv->exec(c, id, vals, n, row, ctx, changes, what);
}

/* Copies a text column into a fixed field. A value that does not fit, or holds a NUL,
 * is an error: a silently truncated id or hash would be a different one. */
static gh_err col_text(const struct sq_cursor *cur, int i, char *dst, size_t size, const char *what)
{
    size_t n = 0;
    const char *v = cur->drv->col_text(cur, i, &n);
    if (v == NULL) {
        dst[0] = '\0';
        return GH_OK;
    }
    if (n >= size || memchr(v, '\0', n) != NULL) {
        fprintf(stderr, "store: stored %s column %d does not fit its field (%zu bytes)\n", what, i,
                n);
        return GH_ERR_IO;
    }
    memcpy(dst, v, n);
    dst[n] = '\0';
    return GH_OK;
}

int sq_col_exact(const struct sq_cursor *cur, int col, void *dst, size_t size)
{
    size_t n = 0;
    const void *v = cur->drv->col_blob(cur, col, &n);
    if (v == NULL || n != size)
        return 0;
    memcpy(dst, v, size);
    return 1;
}

/* Maps the current row into out by row's column table (or its read). */
static gh_err read_row(const struct sq_cursor *cur, const struct sq_row *row, void *out)
{
    memset(out, 0, row->size);
    if (row->read != NULL)
        return row->read(cur, out);
    for (size_t k = 0; k < row->ncols; k++) {
        const struct sq_col *col = &row->cols[k];
        unsigned char *dst = (unsigned char *)out + col->off;
        gh_err err = GH_OK;
        switch (col->kind) {
        case SQ_COL_TEXT:
            err = col_text(cur, col->col, (char *)dst, col->size, row->what);
            break;
        case SQ_COL_INT: {
            int v = (int)sq_col_i64(cur, col->col);
            memcpy(dst, &v, sizeof(v));
            break;
        }
        case SQ_COL_I64: {
            int64_t v = sq_col_i64(cur, col->col);
            memcpy(dst, &v, sizeof(v));
            break;
        }
        case SQ_COL_NOTNULL: {
            int v = !cur->drv->col_null(cur, col->col);
            memcpy(dst, &v, sizeof(v));
            break;
        }
        case SQ_COL_HASH:
            if (!sq_col_exact(cur, col->col, dst, GH_HASH_LEN)) {
                fprintf(stderr, "store: %s hash is not %d bytes\n", row->what, GH_HASH_LEN);
                err = GH_ERR_IO;
            }
            break;
        }
        if (err != GH_OK) {
            sodium_memzero(out, row->size);
            return err;
        }
    }
    return GH_OK;
}

gh_err sq_run(struct conn *c, enum sq_stmt id, const struct sq_arg *args, size_t n,
              int64_t *changes)
{
    return exec(c, id, args, n, NULL, NULL, changes, "statement");
}

/* One list op's walk: each row mapped into buf, then handed to call. */
struct walk {
    const struct sq_row *row;
    int (*call)(void *, void *, const void *);
    void *fn, *arg, *buf;
    gh_err err;
};

static int walk_row(void *ctx, const struct sq_cursor *cur)
{
    struct walk *w = ctx;
    if ((w->err = read_row(cur, w->row, w->buf)) != GH_OK)
        return 1;
    return w->call(w->fn, w->arg, w->buf);
}

/* Binds args and calls call(fn, arg, row) for each row mapped as row says, until it returns
 * non-zero. */
static gh_err each(struct conn *c, enum sq_stmt id, const struct sq_arg *args, size_t n,
                   const struct sq_row *row, int (*call)(void *, void *, const void *), void *fn,
                   void *arg)
{
    /* Rows of several KiB (roles, keys) stay off the worker's stack. */
    struct walk w = {row, call, fn, arg, malloc(row->size), GH_OK};
    if (w.buf == NULL)
        return GH_ERR_NOMEM;
    gh_err err = exec(c, id, args, n, walk_row, &w, NULL, row->what);
    if (err == GH_OK)
        err = w.err;
    sodium_memzero(w.buf, row->size); /* a password hash passes here */
    free(w.buf);
    return err;
}

gh_err sq_each(struct conn *c, enum sq_stmt id, const struct sq_arg *args, size_t n,
               const struct sq_row *row, void *fn, void *arg)
{
    return each(c, id, args, n, row, row->call, fn, arg);
}

struct first {
    void *out;
    size_t size;
    int found;
};

/* Copies the first row out (only a row read whole reaches here) and stops. */
static int take_first(void *fn, void *arg, const void *row)
{
    struct first *f = arg;
    (void)fn;
    memcpy(f->out, row, f->size);
    f->found = 1;
    return 1;
}

gh_err sq_one(struct conn *c, enum sq_stmt id, const struct sq_arg *args, size_t n,
              const struct sq_row *row, void *out)
{
    struct first f = {out, row->size, 0};
    gh_err err = each(c, id, args, n, row, take_first, NULL, &f);
    return err == GH_OK && !f.found ? GH_ERR_NOT_FOUND : err;
}

gh_err sq_int(struct conn *c, enum sq_stmt id, const struct sq_arg *args, size_t n, int64_t *out)
{
    gh_err err = sq_one(c, id, args, n, &sq_row_int64, out);
    return err == GH_ERR_NOT_FOUND ? GH_ERR_INTERNAL : err;
}

gh_err sq_st_run(struct gh_store *st, enum sq_stmt id, const struct sq_arg *args, size_t n,
                 int64_t *changes)
{
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_run(c, id, args, n, changes);
    sq_checkin(st, c);
    return err;
}

gh_err sq_st_one(struct gh_store *st, enum sq_stmt id, const struct sq_arg *args, size_t n,
                 const struct sq_row *row, void *out)
{
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_one(c, id, args, n, row, out);
    sq_checkin(st, c);
    return err;
}

gh_err sq_st_each(struct gh_store *st, enum sq_stmt id, const struct sq_arg *args, size_t n,
                  const struct sq_row *row, void *fn, void *arg)
{
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_each(c, id, args, n, row, fn, arg);
    sq_checkin(st, c);
    return err;
}

static const struct sq_col int64_cols[] = {{SQ_COL_I64, 0, 0, sizeof(int64_t)}};
const struct sq_row sq_row_int64 = {"count", sizeof(int64_t), int64_cols, 1, NULL, NULL};

/* ---- the revocation feed, shared by every domain's changes ---- */

gh_err sq_feed(struct conn *c, const char *user_id, int64_t now)
{
    return sq_run(c, ST_REVOCATION_INSERT, SQ_ARGS(SQ_T(user_id), SQ_I(now)), NULL);
}

gh_err sq_revoke_user(struct conn *c, const char *id, int64_t now, int64_t *epoch)
{
    int64_t e = 0;
    gh_err err = sq_one(c, ST_USER_BUMP_EPOCH, SQ_ARGS(SQ_T(id)), &sq_row_int64, &e);
    if (err == GH_OK)
        err = sq_run(c, ST_REFRESH_REVOKE_USER, SQ_ARGS(SQ_I(now), SQ_T(id)), NULL);
    if (err == GH_OK)
        err = sq_run(c, ST_SESSION_REVOKE_USER, SQ_ARGS(SQ_I(now), SQ_T(id)), NULL);
    if (err == GH_OK)
        err = sq_feed(c, id, now);
    if (err == GH_OK)
        *epoch = e;
    return err;
}

/* One feed entry (seq, user_id), passed on to the reader's fn. */
struct feed_walk {
    void (*fn)(void *arg, const char *user_id);
    void *arg;
    int64_t seq;
};

static int feed_row(void *ctx, const struct sq_cursor *cur)
{
    struct feed_walk *w = ctx;
    const char *user_id = sq_col_text(cur, 1);
    w->seq = sq_col_i64(cur, 0);
    if (w->fn != NULL && user_id != NULL)
        w->fn(w->arg, user_id);
    return 0;
}

gh_err sq_revocation_feed(struct gh_store *st, int64_t after, int64_t purge_before,
                          void (*fn)(void *arg, const char *user_id), void *arg, int64_t *last)
{
    /* after < 0: the current end (ST_REVOCATION_LAST answers it as its column 0). */
    struct feed_walk w = {after >= 0 ? fn : NULL, arg, after};
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    if (after < 0)
        err = exec(c, ST_REVOCATION_LAST, SQ_NOARGS, feed_row, &w, NULL, "revocation_feed");
    else
        err = exec(c, ST_REVOCATION_SINCE, SQ_ARGS(SQ_I(after)), feed_row, &w, NULL,
                   "revocation_feed");
    if (err == GH_OK && purge_before > 0)
        err = sq_run(c, ST_REVOCATION_PURGE, SQ_ARGS(SQ_I(purge_before)), NULL);
    sq_checkin(st, c);
    if (err == GH_OK)
        *last = w.seq;
    return err;
}

/* ---- open, close ---- */

void sq_close(struct gh_store *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < st->nconns; i++)
        if (st->conns[i].h != NULL)
            st->drv->disconnect(st->conns[i].h);
    pthread_cond_destroy(&st->available);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

gh_err sq_open(const struct sq_driver *drv, const char *dsn, unsigned busy_ms,
               struct gh_store **out)
{
    pthread_condattr_t attr;
    gh_err err = GH_OK;
    struct gh_store *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return GH_ERR_NOMEM;
    st->drv = drv;
    st->wait_ms = busy_ms;
    pthread_mutex_init(&st->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&st->available, &attr);
    pthread_condattr_destroy(&attr);
    /* The first connection migrates before any statement runs against the schema. */
    for (int i = 0; i < drv->pool_size && i < POOL_MAX && err == GH_OK; i++) {
        struct conn *c = &st->conns[i];
        c->drv = drv;
        c->write_failed = &st->write_failed;
        err = drv->connect(dsn, busy_ms, i == 0, &c->h);
        st->nconns = i + 1;
        st->idle[st->nidle++] = i;
    }
    if (err != GH_OK) {
        sq_close(st);
        return err;
    }
    *out = st;
    return GH_OK;
}

/*
 * Readiness means the database answers and writes work: a write that failed with an I/O
 * error (disk full, read-only file) in the last WRITE_FAIL_WINDOW seconds answers
 * GH_ERR_IO, without writing on every probe. A small write may still fit where a larger
 * one failed, so a success does not clear it: only time does.
 */
gh_err sq_ping(struct gh_store *st)
{
    gh_err err = sq_st_run(st, ST_PING, SQ_NOARGS, NULL);
    const struct gh_store *pool = st->owner != NULL ? st->owner : st;
    int64_t failed = pool->write_failed;
    if (err == GH_OK && failed != 0 && now_s() - failed < WRITE_FAIL_WINDOW)
        err = GH_ERR_IO;
    return err;
}

/* Marks c's pool unready for WRITE_FAIL_WINDOW seconds (a driver's I/O failure). */
void sq_write_failed(struct conn *c)
{
    if (c->write_failed != NULL)
        *c->write_failed = now_s();
}

/*
 * The SQLite backend of the store interface (store.h): the pool, transactions, and the one
 * way of running a statement (sqlite_int.h). The ops live by domain in sqlite_users.c,
 * sqlite_orgs.c, sqlite_invitations.c, sqlite_tokens.c, sqlite_apikeys.c and sqlite_audit.c.
 *
 * A fixed pool of connections, each used by one thread at a time (checked out under a
 * mutex, SQLITE_OPEN_NOMUTEX), each with every statement prepared once at open and then
 * only reset and re-bound. Every statement is a constant in sqlite_schema.c with ?
 * placeholders: no value is ever formatted into SQL. Writes that must be atomic run in BEGIN
 * IMMEDIATE transactions, which take the write lock up front so that a transaction never fails
 * half-way with SQLITE_BUSY; waits for the lock are bounded by the busy timeout. A
 * transaction of the caller's (tx_begin) pins one connection; the ops run on it and join
 * its transaction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "store/sqlite_int.h"

/* ---- errors, connections, transactions ---- */

static int64_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec + 1; /* never 0 */
}

gh_err sq_fail(struct conn *c, const char *what)
{
    int code = sqlite3_extended_errcode(c->db);
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
    fprintf(stderr, "store: %s: %s\n", what, sqlite3_errmsg(c->db));
    switch (code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
        if (c->write_failed != NULL)
            *c->write_failed = now_s(); /* /readyz reports it (sq_ping) */
        break;
    default:
        break;
    }
    return (code & 0xff) == SQLITE_NOMEM ? GH_ERR_NOMEM : GH_ERR_IO;
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

/* The statement, reset and with its bindings cleared. */
static sqlite3_stmt *stmt(struct conn *c, enum gh_sqlite_stmt id)
{
    sqlite3_stmt *s = c->stmts[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* Runs a statement to completion (any rows are ignored) and resets it. */
static gh_err run(struct conn *c, sqlite3_stmt *s, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    gh_err err = rc == SQLITE_DONE ? GH_OK : sq_fail(c, what);
    sqlite3_reset(s);
    return err;
}

static gh_err begin(struct gh_store *st, struct conn *c)
{
    return st->pinned != NULL ? GH_OK : run(c, stmt(c, ST_BEGIN), "begin");
}

/* Commits when err is GH_OK or GH_ERR_REUSED, otherwise rolls back. */
static gh_err end(struct conn *c, gh_err err)
{
    if (err == GH_OK || err == GH_ERR_REUSED) {
        gh_err cerr = run(c, stmt(c, ST_COMMIT), "commit");
        if (cerr == GH_OK)
            return err;
        err = cerr;
    }
    /* Some errors (SQLITE_FULL, SQLITE_IOERR...) already ended the transaction. */
    if (!sqlite3_get_autocommit(c->db))
        (void)run(c, stmt(c, ST_ROLLBACK), "rollback");
    return err;
}

gh_err sq_enter(struct gh_store *st, struct conn **out)
{
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(st, c)) != GH_OK) {
        sq_checkin(st, c);
        return err;
    }
    *out = c;
    return GH_OK;
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

/* Binds a fixed-size record field; one without its NUL is refused rather than over-read. */
static int bind_field(sqlite3_stmt *s, int i, const char *v, size_t size)
{
    size_t n = strnlen(v, size);
    if (n == size)
        return SQLITE_TOOBIG;
    return sqlite3_bind_text(s, i, v, (int)n, SQLITE_STATIC);
}

/* Statement id, reset, with args bound to ?1.. (GH_ERR_INVALID when one does not bind). */
static gh_err bind(struct conn *c, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
                   sqlite3_stmt **out)
{
    sqlite3_stmt *s = stmt(c, id);
    int rc = SQLITE_OK;
    for (size_t k = 0; k < n && rc == SQLITE_OK; k++) {
        const struct sq_arg *a = &args[k];
        int i = (int)k + 1;
        switch (a->kind) {
        case SQ_NONE:
            break;
        case SQ_OPT:
            if (a->p == NULL || *(const char *)a->p == '\0') {
                rc = sqlite3_bind_null(s, i);
                break;
            }
            /* fall through */
        case SQ_TEXT:
            rc = sqlite3_bind_text(s, i, a->p, -1, SQLITE_STATIC);
            break;
        case SQ_FIELD:
            rc = bind_field(s, i, a->p, a->n);
            break;
        case SQ_INT:
            rc = sqlite3_bind_int64(s, i, a->i);
            break;
        case SQ_BLOB:
            rc = sqlite3_bind_blob(s, i, a->p, (int)a->n, SQLITE_STATIC);
            break;
        }
    }
    if (rc != SQLITE_OK) {
        sqlite3_clear_bindings(s);
        return GH_ERR_INVALID;
    }
    *out = s;
    return GH_OK;
}

/* Resets s and drops its pointers to the caller's memory (a password hash, a key). */
static void done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Copies a text column into a fixed field. A value that does not fit, or holds a NUL,
 * is an error: a silently truncated id or hash would be a different one. */
static gh_err col_text(sqlite3_stmt *s, int i, char *dst, size_t size)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    size_t n = (size_t)sqlite3_column_bytes(s, i);
    if (v == NULL) {
        if (sqlite3_column_type(s, i) != SQLITE_NULL)
            return GH_ERR_NOMEM;
        dst[0] = '\0';
        return GH_OK;
    }
    if (n >= size || memchr(v, '\0', n) != NULL) {
        fprintf(stderr, "store: stored %s does not fit its field (%zu bytes)\n",
                sqlite3_column_name(s, i), n);
        return GH_ERR_IO;
    }
    memcpy(dst, v, n);
    dst[n] = '\0';
    return GH_OK;
}

/* Maps the current row of s into out by row's column table (or its read). */
static gh_err read_row(sqlite3_stmt *s, const struct sq_row *row, void *out)
{
    memset(out, 0, row->size);
    if (row->read != NULL)
        return row->read(s, out);
    for (size_t k = 0; k < row->ncols; k++) {
        const struct sq_col *col = &row->cols[k];
        unsigned char *dst = (unsigned char *)out + col->off;
        gh_err err = GH_OK;
        switch (col->kind) {
        case SQ_COL_TEXT:
            err = col_text(s, col->col, (char *)dst, col->size);
            break;
        case SQ_COL_INT: {
            int v = sqlite3_column_int(s, col->col);
            memcpy(dst, &v, sizeof(v));
            break;
        }
        case SQ_COL_I64: {
            int64_t v = sqlite3_column_int64(s, col->col);
            memcpy(dst, &v, sizeof(v));
            break;
        }
        case SQ_COL_NOTNULL: {
            int v = sqlite3_column_type(s, col->col) != SQLITE_NULL;
            memcpy(dst, &v, sizeof(v));
            break;
        }
        case SQ_COL_HASH: {
            const void *v = sqlite3_column_blob(s, col->col);
            if (v == NULL || sqlite3_column_bytes(s, col->col) != GH_HASH_LEN) {
                fprintf(stderr, "store: %s hash is not %d bytes\n", row->what, GH_HASH_LEN);
                err = GH_ERR_IO;
            } else {
                memcpy(dst, v, GH_HASH_LEN);
            }
            break;
        }
        }
        if (err != GH_OK) {
            sodium_memzero(out, row->size);
            return err;
        }
    }
    return GH_OK;
}

gh_err sq_run(struct conn *c, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
              int64_t *changes)
{
    sqlite3_stmt *s;
    gh_err err = bind(c, id, args, n, &s);
    if (err != GH_OK)
        return err;
    err = run(c, s, sqlite3_sql(s));
    sqlite3_clear_bindings(s);
    if (err == GH_OK && changes != NULL)
        *changes = sqlite3_changes64(c->db);
    return err;
}

/* Binds args and calls call(fn, arg, row) for each row mapped as row says, until it returns
 * non-zero. */
static gh_err each(struct conn *c, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
                   const struct sq_row *row, int (*call)(void *, void *, const void *), void *fn,
                   void *arg)
{
    sqlite3_stmt *s;
    /* Rows of several KiB (roles, keys) stay off the worker's stack. */
    void *buf = malloc(row->size);
    if (buf == NULL)
        return GH_ERR_NOMEM;
    gh_err err = bind(c, id, args, n, &s);
    if (err == GH_OK) {
        int rc, stop = 0;
        while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
            if ((err = read_row(s, row, buf)) != GH_OK)
                break;
            stop = call(fn, arg, buf);
        }
        if (err == GH_OK && !stop && rc != SQLITE_DONE)
            err = sq_fail(c, row->what);
        done(s);
    }
    sodium_memzero(buf, row->size); /* a password hash passes here */
    free(buf);
    return err;
}

gh_err sq_each(struct conn *c, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
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

gh_err sq_one(struct conn *c, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
              const struct sq_row *row, void *out)
{
    struct first f = {out, row->size, 0};
    gh_err err = each(c, id, args, n, row, take_first, NULL, &f);
    return err == GH_OK && !f.found ? GH_ERR_NOT_FOUND : err;
}

gh_err sq_int(struct conn *c, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
              int64_t *out)
{
    gh_err err = sq_one(c, id, args, n, &sq_row_int64, out);
    return err == GH_ERR_NOT_FOUND ? GH_ERR_INTERNAL : err;
}

gh_err sq_st_run(struct gh_store *st, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
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

gh_err sq_st_one(struct gh_store *st, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
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

gh_err sq_st_each(struct gh_store *st, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
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

gh_err sq_revocation_feed(struct gh_store *st, int64_t after, int64_t purge_before,
                          void (*fn)(void *arg, const char *user_id), void *arg, int64_t *last)
{
    int64_t seq = after;
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, after < 0 ? ST_REVOCATION_LAST : ST_REVOCATION_SINCE);
    if (after >= 0)
        sqlite3_bind_int64(s, 1, after);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        seq = sqlite3_column_int64(s, 0);
        const char *user_id = (const char *)sqlite3_column_text(s, 1);
        if (after >= 0 && user_id != NULL)
            fn(arg, user_id);
    }
    err = rc == SQLITE_DONE ? GH_OK : sq_fail(c, "revocation_feed");
    sqlite3_reset(s);
    if (err == GH_OK && purge_before > 0)
        err = sq_run(c, ST_REVOCATION_PURGE, SQ_ARGS(SQ_I(purge_before)), NULL);
    sq_checkin(st, c);
    if (err == GH_OK)
        *last = seq;
    return err;
}

/* ---- open, close ---- */

void sq_close(struct gh_store *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < POOL_SIZE; i++) {
        for (int k = 0; k < ST_COUNT; k++)
            sqlite3_finalize(st->conns[i].stmts[k]);
        sqlite3_close(st->conns[i].db);
    }
    pthread_cond_destroy(&st->available);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

gh_err sq_open(const char *path, unsigned busy_ms, struct gh_store **out)
{
    pthread_condattr_t attr;
    gh_err err = gh_sqlite_file_init(path);
    if (err != GH_OK)
        return err;
    struct gh_store *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return GH_ERR_NOMEM;
    st->wait_ms = busy_ms;
    pthread_mutex_init(&st->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&st->available, &attr);
    pthread_condattr_destroy(&attr);
    /* The first connection migrates before any statement is prepared against the schema. */
    for (int i = 0; i < POOL_SIZE && err == GH_OK; i++) {
        st->conns[i].write_failed = &st->write_failed;
        err = gh_sqlite_conn_open(path, busy_ms, i == 0, &st->conns[i].db, st->conns[i].stmts);
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
 * Readiness means writes work: a write that failed with an I/O error (disk full, read-only
 * file) in the last WRITE_FAIL_WINDOW seconds answers GH_ERR_IO, without writing on every
 * probe. A small write may still fit where a larger one failed, so a success does not clear
 * it: only time does.
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

const struct gh_store_ops gh_store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .ping = sq_ping,
    .tx_begin = sq_tx_begin,
    .tx_end = sq_tx_end,
    .user_create = sq_user_create,
    .user_get = sq_user_get,
    .user_find_login = sq_user_find_login,
    .user_get_credentials = sq_user_get_credentials,
    .user_list = sq_user_list,
    .user_list_org = sq_user_list_org,
    .user_count = sq_user_count,
    .user_update = sq_user_update,
    .user_set_password = sq_user_set_password,
    .user_set_disabled = sq_user_set_disabled,
    .user_revoke_all = sq_user_revoke_all,
    .user_set_primary_org = sq_user_set_primary_org,
    .user_primary_reassign = sq_user_primary_reassign,
    .user_delete = sq_user_delete,
    .org_create = sq_org_create,
    .org_get = sq_org_get,
    .org_find_name = sq_org_find_name,
    .org_list = sq_org_list,
    .org_rename = sq_org_rename,
    .org_delete = sq_org_delete,
    .role_list = sq_role_list,
    .role_get = sq_role_get,
    .role_create = sq_role_create,
    .role_update = sq_role_update,
    .role_delete = sq_role_delete,
    .member_add = sq_member_add,
    .member_get = sq_member_get,
    .member_list_user = sq_member_list_user,
    .member_list_org = sq_member_list_org,
    .member_count_admins = sq_member_count_admins,
    .member_set_role = sq_member_set_role,
    .member_remove = sq_member_remove,
    .invitation_create = sq_invitation_create,
    .invitation_list_org = sq_invitation_list_org,
    .invitation_list_user = sq_invitation_list_user,
    .invitation_accept = sq_invitation_accept,
    .invitation_decline = sq_invitation_decline,
    .invitation_revoke = sq_invitation_revoke,
    .invitation_purge = sq_invitation_purge,
    .perm_add = sq_perm_add,
    .perm_list = sq_perm_list,
    .refresh_get = sq_refresh_get,
    .refresh_insert = sq_refresh_insert,
    .refresh_rotate = sq_refresh_rotate,
    .refresh_revoke = sq_refresh_revoke,
    .refresh_revoke_org = sq_refresh_revoke_org,
    .refresh_purge = sq_refresh_purge,
    .apikey_create = sq_apikey_create,
    .apikey_find_hash = sq_apikey_find_hash,
    .apikey_list_user = sq_apikey_list_user,
    .apikey_revoke = sq_apikey_revoke,
    .apikey_revoke_org = sq_apikey_revoke_org,
    .apikey_touch = sq_apikey_touch,
    .session_create = sq_session_create,
    .session_get = sq_session_get,
    .session_list = sq_session_list,
    .session_touch = sq_session_touch,
    .session_revoke = sq_session_revoke,
    .session_purge = sq_session_purge,
    .mfa_get = sq_mfa_get,
    .mfa_put = sq_mfa_put,
    .mfa_enable = sq_mfa_enable,
    .mfa_use_step = sq_mfa_use_step,
    .mfa_use_backup = sq_mfa_use_backup,
    .mfa_delete = sq_mfa_delete,
    .mfa_challenge_add = sq_mfa_challenge_add,
    .mfa_challenge_get = sq_mfa_challenge_get,
    .mfa_challenge_spend = sq_mfa_challenge_spend,
    .revocation_feed = sq_revocation_feed,
    .audit_append = sq_audit_append,
    .audit_head = sq_audit_head,
    .audit_list = sq_audit_list,
    .audit_scan = sq_audit_scan,
    .checkpoint_add = sq_checkpoint_add,
    .checkpoint_list = sq_checkpoint_list,
    .audit_purge = sq_audit_purge,
};

/*
 * The SQLite backend of the store interface (store.h).
 *
 * A fixed pool of connections, each used by one thread at a time (checked out under a
 * mutex, SQLITE_OPEN_NOMUTEX), each with every statement prepared once at open and then
 * only reset and re-bound. Every statement is a constant in sqlite_schema.c with ?
 * placeholders: no value is ever formatted into SQL. Writes that must be atomic run in BEGIN
 * IMMEDIATE transactions, which take the write lock up front so that a transaction never fails
 * half-way with SQLITE_BUSY; waits for the lock are bounded by the busy timeout.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>
#include <sodium.h>

#include "audit/chain.h"
#include "core/uuid.h"
#include "store/sqlite_schema.h"
#include "store/store.h"

/* Enough for a 2-core host: WAL lets the readers run side by side, writers serialise. */
#define POOL_SIZE 4
/* A failed write (disk full, I/O error) keeps the store unready this long. */
#define WRITE_FAIL_WINDOW 10

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT];
    _Atomic int64_t *write_failed; /* the store's */
};

struct gh_store {
    pthread_mutex_t lock;
    pthread_cond_t available; /* signalled when a connection is checked in */
    unsigned wait_ms;         /* the busy timeout, also the bound on waiting for a connection */
    int nidle;
    int idle[POOL_SIZE]; /* stack of idle connection indexes */
    struct conn conns[POOL_SIZE];
    _Atomic int64_t write_failed; /* monotonic seconds of the last failed write, 0: none */
};

/* ---- errors, connections, statements ---- */

static int64_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec + 1; /* never 0 */
}

/* Maps the connection's last error; unexpected ones are logged (never sent to a client). */
static gh_err fail(struct conn *c, const char *what)
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
        *c->write_failed = now_s(); /* /readyz reports it (st_ping) */
        break;
    default:
        break;
    }
    return (code & 0xff) == SQLITE_NOMEM ? GH_ERR_NOMEM : GH_ERR_IO;
}

/* Takes an idle connection, waiting at most wait_ms: GH_ERR_BUSY past that. */
static gh_err checkout(struct gh_store *st, struct conn **out)
{
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

static void checkin(struct gh_store *st, struct conn *c)
{
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

/* Steps s once: GH_OK on a row (left for the caller to read, then reset), GH_ERR_NOT_FOUND
 * when there is none (s is reset), the mapped error otherwise (s is reset). */
static gh_err step_row(struct conn *c, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        return GH_OK;
    gh_err err = rc == SQLITE_DONE ? GH_ERR_NOT_FOUND : fail(c, what);
    sqlite3_reset(s);
    return err;
}

/* Runs a statement to completion (any rows are ignored) and resets it. */
static gh_err run(struct conn *c, sqlite3_stmt *s, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    gh_err err = rc == SQLITE_DONE ? GH_OK : fail(c, what);
    sqlite3_reset(s);
    return err;
}

static gh_err begin(struct conn *c)
{
    return run(c, stmt(c, ST_BEGIN), "begin");
}

/* Ends the transaction: commits when err is GH_OK or GH_ERR_REUSED (a detected reuse must
 * persist the family's revocation), otherwise rolls back. Returns err, or the commit's own
 * failure. */
static gh_err finish(struct conn *c, gh_err err)
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

/* Binds an optional string: NULL or "" is stored as NULL. */
static int bind_opt(sqlite3_stmt *s, int i, const char *v)
{
    if (v == NULL || *v == '\0')
        return sqlite3_bind_null(s, i);
    return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Binds a fixed-size record field; one without its NUL is refused rather than over-read. */
static int bind_field(sqlite3_stmt *s, int i, const char *v, size_t size)
{
    size_t n = strnlen(v, size);
    if (n == size)
        return SQLITE_TOOBIG;
    return sqlite3_bind_text(s, i, v, (int)n, SQLITE_STATIC);
}
#define BIND_FIELD(s, i, field) bind_field((s), (i), (field), sizeof(field))

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
#define COL_TEXT(s, i, field) col_text((s), (i), (field), sizeof(field))

static gh_err read_user(sqlite3_stmt *s, struct gh_user *u)
{
    gh_err err;
    memset(u, 0, sizeof(*u));
    if ((err = COL_TEXT(s, 0, u->id)) != GH_OK || (err = COL_TEXT(s, 1, u->username)) != GH_OK ||
        (err = COL_TEXT(s, 2, u->email)) != GH_OK ||
        (err = COL_TEXT(s, 3, u->full_name)) != GH_OK ||
        (err = COL_TEXT(s, 4, u->password_hash)) != GH_OK ||
        (err = COL_TEXT(s, 5, u->primary_org_id)) != GH_OK) {
        sodium_memzero(u, sizeof(*u));
        return err;
    }
    u->disabled = sqlite3_column_int(s, 6);
    u->superadmin = sqlite3_column_int(s, 7);
    u->token_epoch = sqlite3_column_int64(s, 8);
    u->created_at = sqlite3_column_int64(s, 9);
    u->updated_at = sqlite3_column_int64(s, 10);
    return GH_OK;
}

/* Copies a GH_HASH_LEN blob column; any other size is a damaged row (what names it). */
static gh_err col_hash(sqlite3_stmt *s, int i, unsigned char out[GH_HASH_LEN], const char *what)
{
    const void *hash = sqlite3_column_blob(s, i);
    if (hash == NULL || sqlite3_column_bytes(s, i) != GH_HASH_LEN) {
        fprintf(stderr, "store: %s hash is not %d bytes\n", what, GH_HASH_LEN);
        return GH_ERR_IO;
    }
    memcpy(out, hash, GH_HASH_LEN);
    return GH_OK;
}

static gh_err read_refresh(sqlite3_stmt *s, struct gh_refresh_token *t)
{
    gh_err err;
    memset(t, 0, sizeof(*t));
    if ((err = col_hash(s, 1, t->hash, "a refresh token")) != GH_OK)
        return err;
    if ((err = COL_TEXT(s, 0, t->id)) != GH_OK || (err = COL_TEXT(s, 2, t->user_id)) != GH_OK ||
        (err = COL_TEXT(s, 3, t->family_id)) != GH_OK || (err = COL_TEXT(s, 4, t->org_id)) != GH_OK)
        return err;
    t->created_at = sqlite3_column_int64(s, 5);
    t->expires_at = sqlite3_column_int64(s, 6);
    return GH_OK;
}

static gh_err read_membership(sqlite3_stmt *s, struct gh_membership *m)
{
    gh_err err;
    memset(m, 0, sizeof(*m));
    if ((err = COL_TEXT(s, 0, m->org_id)) != GH_OK ||
        (err = COL_TEXT(s, 1, m->org_name)) != GH_OK ||
        (err = COL_TEXT(s, 2, m->role_name)) != GH_OK ||
        (err = COL_TEXT(s, 3, m->permissions)) != GH_OK)
        return err;
    return GH_OK;
}

/* ---- open, close ---- */

static void st_close(struct gh_store *st)
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

static gh_err st_open(const char *path, unsigned busy_ms, struct gh_store **out)
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
        st_close(st);
        return err;
    }
    *out = st;
    return GH_OK;
}

static gh_err st_ping(struct gh_store *st)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = run(c, stmt(c, ST_PING), "ping");
    checkin(st, c);
    /* Readiness means writes work: a write that failed with an I/O error (disk full,
     * read-only file) in the last WRITE_FAIL_WINDOW seconds answers GH_ERR_IO, without
     * writing on every probe. A small write may still fit where a larger one failed, so a
     * success does not clear it: only time does. */
    int64_t failed = st->write_failed;
    if (err == GH_OK && failed != 0 && now_s() - failed < WRITE_FAIL_WINDOW)
        err = GH_ERR_IO;
    return err;
}

/* ---- users ---- */

static gh_err user_create(struct gh_store *st, const struct gh_user *u)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_USER_INSERT);
    if (BIND_FIELD(s, 1, u->id) | BIND_FIELD(s, 2, u->username) | BIND_FIELD(s, 3, u->email) |
        BIND_FIELD(s, 4, u->full_name) | BIND_FIELD(s, 5, u->password_hash) |
        BIND_FIELD(s, 6, u->primary_org_id) | sqlite3_bind_int(s, 7, u->disabled != 0) |
        sqlite3_bind_int(s, 8, u->superadmin != 0) | sqlite3_bind_int64(s, 9, u->token_epoch) |
        sqlite3_bind_int64(s, 10, u->created_at) | sqlite3_bind_int64(s, 11, u->updated_at))
        err = GH_ERR_INVALID;
    else
        err = run(c, s, "user_create");
    sqlite3_clear_bindings(s); /* drop the pointer to the caller's password hash */
    checkin(st, c);
    return err;
}

/* Runs a one-user SELECT with one text parameter. */
static gh_err user_select(struct gh_store *st, enum gh_sqlite_stmt id, const char *arg,
                          struct gh_user *out)
{
    struct gh_user u;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, id);
    sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
    if ((err = step_row(c, s, "user_select")) == GH_OK) {
        err = read_user(s, &u);
        sqlite3_reset(s);
    }
    checkin(st, c);
    if (err == GH_OK)
        *out = u;
    sodium_memzero(&u, sizeof(u));
    return err;
}

static gh_err user_get(struct gh_store *st, const char *id, struct gh_user *out)
{
    return user_select(st, ST_USER_GET, id, out);
}

static gh_err user_find_login(struct gh_store *st, const char *login, struct gh_user *out)
{
    return user_select(st, ST_USER_FIND, login, out);
}

static gh_err user_list(struct gh_store *st, size_t limit, size_t offset, gh_user_visit_fn fn,
                        void *arg)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_USER_LIST);
    sqlite3_bind_int64(s, 1, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
    sqlite3_bind_int64(s, 2, offset > INT64_MAX ? INT64_MAX : (sqlite3_int64)offset);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct gh_user u;
        err = read_user(s, &u);
        /* A listing has no business with password hashes. */
        sodium_memzero(u.password_hash, sizeof(u.password_hash));
        if (err != GH_OK || fn(arg, &u) != 0)
            break;
    }
    if (err == GH_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = fail(c, "user_list");
    sqlite3_reset(s);
    checkin(st, c);
    return err;
}

static gh_err user_count(struct gh_store *st, int64_t *out)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_USER_COUNT);
    if ((err = step_row(c, s, "user_count")) == GH_OK) {
        *out = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
    } else if (err == GH_ERR_NOT_FOUND) {
        err = GH_ERR_INTERNAL; /* count(*) always answers one row */
    }
    checkin(st, c);
    return err;
}

/* Inside a transaction: increments the epoch, revokes every refresh token of the user and
 * appends to the revocation feed. *epoch gets the new epoch. */
static gh_err revoke_user(struct conn *c, const char *id, int64_t now, int64_t *epoch)
{
    sqlite3_stmt *s = stmt(c, ST_USER_BUMP_EPOCH);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    gh_err err = step_row(c, s, "bump_epoch");
    if (err != GH_OK)
        return err;
    int64_t e = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);

    s = stmt(c, ST_REFRESH_REVOKE_USER);
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    if ((err = run(c, s, "revoke_user")) != GH_OK)
        return err;

    s = stmt(c, ST_REVOCATION_INSERT);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    if ((err = run(c, s, "revocation_insert")) != GH_OK)
        return err;
    *epoch = e;
    return GH_OK;
}

#define NO_UPDATE ST_COUNT

/* One transaction: an optional column update (id: a statement with ?1 value, ?2 now, ?3 user
 * id, returning token_epoch; text or else number is the value), then, when revoke is set,
 * the revocation of everything the user holds. *epoch gets the resulting epoch. */
static gh_err user_change(struct gh_store *st, enum gh_sqlite_stmt id, const char *text, int number,
                          const char *user_id, int revoke, int64_t now, int64_t *epoch)
{
    int64_t e = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    if (id != NO_UPDATE) {
        sqlite3_stmt *s = stmt(c, id);
        if (text != NULL)
            sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int(s, 1, number);
        sqlite3_bind_int64(s, 2, now);
        sqlite3_bind_text(s, 3, user_id, -1, SQLITE_STATIC);
        if ((err = step_row(c, s, "user_update")) == GH_OK) {
            e = sqlite3_column_int64(s, 0);
            sqlite3_reset(s);
        }
        sqlite3_clear_bindings(s);
    }
    if (err == GH_OK && revoke)
        err = revoke_user(c, user_id, now, &e);
    err = finish(c, err);
out:
    checkin(st, c);
    if (err == GH_OK)
        *epoch = e;
    return err;
}

static gh_err user_set_password(struct gh_store *st, const char *id, const char *hash,
                                int bump_epoch, int64_t now, int64_t *new_epoch)
{
    /* Never store what user_get could not read back into gh_user.password_hash. */
    if (strnlen(hash, sizeof(((struct gh_user *)0)->password_hash)) >=
        sizeof(((struct gh_user *)0)->password_hash))
        return GH_ERR_TOO_LARGE;
    return user_change(st, ST_USER_SET_PASSWORD, hash, 0, id, bump_epoch, now, new_epoch);
}

static gh_err user_set_disabled(struct gh_store *st, const char *id, int disabled, int64_t now,
                                int64_t *new_epoch)
{
    return user_change(st, ST_USER_SET_DISABLED, NULL, disabled != 0, id, 1, now, new_epoch);
}

static gh_err user_revoke_all(struct gh_store *st, const char *id, int64_t now, int64_t *epoch)
{
    return user_change(st, NO_UPDATE, NULL, 0, id, 1, now, epoch);
}

/* ---- orgs and memberships ---- */

static gh_err insert_role(struct conn *c, const char *org_id, const char *name, const char *perms)
{
    char id[GH_UUID_STR];
    gh_uuid_v7(id);
    sqlite3_stmt *s = stmt(c, ST_ROLE_INSERT);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, org_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, perms, -1, SQLITE_STATIC);
    gh_err err = run(c, s, "insert_role");
    sqlite3_clear_bindings(s); /* id lives on this stack frame */
    return err;
}

static gh_err org_create(struct gh_store *st, const struct gh_org *org,
                         const char *admin_permissions, const char *member_permissions)
{
    const size_t max = sizeof(((struct gh_membership *)0)->permissions);
    if (strnlen(admin_permissions, max) >= max || strnlen(member_permissions, max) >= max)
        return GH_ERR_TOO_LARGE; /* member_get could not read them back */
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    sqlite3_stmt *s = stmt(c, ST_ORG_INSERT);
    if (BIND_FIELD(s, 1, org->id) | BIND_FIELD(s, 2, org->name) |
        sqlite3_bind_int64(s, 3, org->created_at))
        err = GH_ERR_INVALID;
    else
        err = run(c, s, "org_create");
    if (err == GH_OK)
        err = insert_role(c, org->id, "admin", admin_permissions);
    if (err == GH_OK)
        err = insert_role(c, org->id, "member", member_permissions);
    err = finish(c, err);
out:
    checkin(st, c);
    return err;
}

static gh_err org_find_name(struct gh_store *st, const char *name, struct gh_org *out)
{
    struct gh_org o;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_ORG_FIND_NAME);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if ((err = step_row(c, s, "org_find_name")) == GH_OK) {
        memset(&o, 0, sizeof(o));
        if ((err = COL_TEXT(s, 0, o.id)) == GH_OK)
            err = COL_TEXT(s, 1, o.name);
        o.created_at = sqlite3_column_int64(s, 2);
        sqlite3_reset(s);
    }
    checkin(st, c);
    if (err == GH_OK)
        *out = o;
    return err;
}

static gh_err member_add(struct gh_store *st, const char *org_id, const char *user_id,
                         const char *role_name, int64_t now)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_MEMBER_ADD);
    sqlite3_bind_text(s, 1, org_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, role_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    err = run(c, s, "member_add");
    if (err == GH_OK && sqlite3_changes(c->db) == 0)
        err = GH_ERR_NOT_FOUND; /* no such org, or no such role in it */
    checkin(st, c);
    return err;
}

static gh_err member_get(struct gh_store *st, const char *org_id, const char *user_id,
                         struct gh_membership *out)
{
    struct gh_membership m;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_MEMBER_GET);
    sqlite3_bind_text(s, 1, org_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    if ((err = step_row(c, s, "member_get")) == GH_OK) {
        err = read_membership(s, &m);
        sqlite3_reset(s);
    }
    checkin(st, c);
    if (err == GH_OK)
        *out = m;
    return err;
}

static gh_err member_list_user(struct gh_store *st, const char *user_id, struct gh_membership *out,
                               size_t max, size_t *n)
{
    size_t count = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_MEMBER_LIST_USER);
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, max > INT64_MAX ? INT64_MAX : (sqlite3_int64)max);
    int rc = SQLITE_DONE;
    while (count < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
        if ((err = read_membership(s, &out[count++])) != GH_OK)
            break;
    if (err == GH_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = fail(c, "member_list_user");
    sqlite3_reset(s);
    checkin(st, c);
    if (err == GH_OK)
        *n = count;
    return err;
}

/* ---- refresh tokens ---- */

static gh_err insert_refresh(struct conn *c, const struct gh_refresh_token *t)
{
    sqlite3_stmt *s = stmt(c, ST_REFRESH_INSERT);
    if (BIND_FIELD(s, 1, t->id) | sqlite3_bind_blob(s, 2, t->hash, GH_HASH_LEN, SQLITE_STATIC) |
        BIND_FIELD(s, 3, t->user_id) | BIND_FIELD(s, 4, t->family_id) |
        BIND_FIELD(s, 5, t->org_id) | sqlite3_bind_int64(s, 6, t->created_at) |
        sqlite3_bind_int64(s, 7, t->expires_at))
        return GH_ERR_INVALID;
    return run(c, s, "refresh_insert");
}

static gh_err refresh_insert(struct gh_store *st, const struct gh_refresh_token *t)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = insert_refresh(c, t);
    checkin(st, c);
    return err;
}

/* Reads the token with hash into *t and whether it is spent / revoked. */
static gh_err get_refresh(struct conn *c, const unsigned char *hash, struct gh_refresh_token *t,
                          int *spent, int *revoked)
{
    sqlite3_stmt *s = stmt(c, ST_REFRESH_GET);
    sqlite3_bind_blob(s, 1, hash, GH_HASH_LEN, SQLITE_STATIC);
    gh_err err = step_row(c, s, "refresh_get");
    if (err != GH_OK)
        return err;
    err = read_refresh(s, t);
    *spent = sqlite3_column_int(s, 7);
    *revoked = sqlite3_column_int(s, 8);
    sqlite3_reset(s);
    return err;
}

/* Inside the rotation transaction, after the conditional UPDATE matched nothing: why not. */
static gh_err rotate_refused(struct conn *c, const unsigned char *hash, int64_t now,
                             struct gh_refresh_token *old)
{
    int spent = 0, revoked = 0;
    gh_err err = get_refresh(c, hash, old, &spent, &revoked);
    if (err != GH_OK)
        return err; /* GH_ERR_NOT_FOUND: unknown hash */
    if (revoked)
        return GH_ERR_REVOKED;
    if (spent) {
        /* Reuse: someone else holds a copy. End the family, the legitimate holder included. */
        sqlite3_stmt *s = stmt(c, ST_REFRESH_REVOKE_FAMILY);
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_text(s, 2, old->family_id, -1, SQLITE_STATIC);
        err = run(c, s, "revoke_family");
        return err == GH_OK ? GH_ERR_REUSED : err;
    }
    if (old->expires_at <= now)
        return GH_ERR_EXPIRED;
    return GH_ERR_INTERNAL; /* the UPDATE's conditions all held: cannot happen */
}

/* ---- RBAC: orgs, roles, members ---- */

static gh_err read_org(sqlite3_stmt *s, struct gh_org *o)
{
    gh_err err;
    memset(o, 0, sizeof(*o));
    if ((err = COL_TEXT(s, 0, o->id)) != GH_OK || (err = COL_TEXT(s, 1, o->name)) != GH_OK)
        return err;
    o->created_at = sqlite3_column_int64(s, 2);
    return GH_OK;
}

static gh_err read_role(sqlite3_stmt *s, struct gh_role *r)
{
    gh_err err;
    memset(r, 0, sizeof(*r));
    if ((err = COL_TEXT(s, 0, r->id)) != GH_OK || (err = COL_TEXT(s, 1, r->org_id)) != GH_OK ||
        (err = COL_TEXT(s, 2, r->name)) != GH_OK ||
        (err = COL_TEXT(s, 3, r->permissions)) != GH_OK)
        return err;
    r->system = sqlite3_column_int(s, 4);
    return GH_OK;
}

static gh_err read_member(sqlite3_stmt *s, struct gh_member *m)
{
    gh_err err;
    memset(m, 0, sizeof(*m));
    if ((err = COL_TEXT(s, 0, m->user_id)) != GH_OK ||
        (err = COL_TEXT(s, 1, m->username)) != GH_OK ||
        (err = COL_TEXT(s, 2, m->role_name)) != GH_OK)
        return err;
    return GH_OK;
}

static sqlite3_int64 clamp64(size_t n)
{
    return n > INT64_MAX ? INT64_MAX : (sqlite3_int64)n;
}

/* A listing: binds key (when not NULL) as ?1, then limit and offset, then *at (when not
 * NULL); calls visit per row. */
typedef gh_err (*row_visit)(sqlite3_stmt *s, void *fn, void *arg, int *stop);

static gh_err list_rows(struct gh_store *st, enum gh_sqlite_stmt id, const char *key, int paged,
                        size_t limit, size_t offset, const int64_t *at, row_visit visit, void *fn,
                        void *arg)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, id);
    int i = 1;
    if (key != NULL)
        sqlite3_bind_text(s, i++, key, -1, SQLITE_STATIC);
    if (paged) {
        sqlite3_bind_int64(s, i++, clamp64(limit));
        sqlite3_bind_int64(s, i++, clamp64(offset));
    }
    if (at != NULL)
        sqlite3_bind_int64(s, i, *at);
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
        if ((err = visit(s, fn, arg, &stop)) != GH_OK)
            break;
    if (err == GH_OK && !stop && rc != SQLITE_DONE)
        err = fail(c, "list");
    sqlite3_reset(s);
    checkin(st, c);
    return err;
}

static gh_err visit_org(sqlite3_stmt *s, void *fn, void *arg, int *stop)
{
    struct gh_org o;
    gh_err err = read_org(s, &o);
    if (err == GH_OK)
        *stop = ((gh_org_visit_fn)fn)(arg, &o);
    return err;
}

static gh_err visit_role(sqlite3_stmt *s, void *fn, void *arg, int *stop)
{
    static __thread struct gh_role r;
    gh_err err = read_role(s, &r);
    if (err == GH_OK)
        *stop = ((gh_role_visit_fn)fn)(arg, &r);
    return err;
}

static gh_err visit_member(sqlite3_stmt *s, void *fn, void *arg, int *stop)
{
    struct gh_member m;
    gh_err err = read_member(s, &m);
    if (err == GH_OK)
        *stop = ((gh_member_visit_fn)fn)(arg, &m);
    return err;
}

static gh_err visit_user(sqlite3_stmt *s, void *fn, void *arg, int *stop)
{
    static __thread struct gh_user u;
    gh_err err = read_user(s, &u);
    sodium_memzero(u.password_hash, sizeof(u.password_hash));
    if (err == GH_OK)
        *stop = ((gh_user_visit_fn)fn)(arg, &u);
    return err;
}

static gh_err visit_name(sqlite3_stmt *s, void *fn, void *arg, int *stop)
{
    const char *name = (const char *)sqlite3_column_text(s, 0);
    if (name == NULL)
        return GH_ERR_NOMEM;
    *stop = ((gh_name_visit_fn)fn)(arg, name);
    return GH_OK;
}

/* The functions behind the generic visitors are cast back to their own types above. */
#define FN(f) ((void *)(uintptr_t)(f))

static gh_err org_get(struct gh_store *st, const char *id, struct gh_org *out)
{
    struct gh_org o;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_ORG_GET);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if ((err = step_row(c, s, "org_get")) == GH_OK) {
        err = read_org(s, &o);
        sqlite3_reset(s);
    }
    checkin(st, c);
    if (err == GH_OK)
        *out = o;
    return err;
}

static gh_err org_list(struct gh_store *st, const char *user_id, size_t limit, size_t offset,
                       gh_org_visit_fn fn, void *arg)
{
    return list_rows(st, user_id ? ST_ORG_LIST_USER : ST_ORG_LIST_ALL, user_id, 1, limit, offset,
                     NULL, visit_org, FN(fn), arg);
}

/* Runs a statement with text parameters a, b (b may be NULL: not bound); *changed gets
 * how many rows it changed. */
static gh_err run2(struct conn *c, enum gh_sqlite_stmt id, const char *a, const char *b,
                   int64_t *changed)
{
    sqlite3_stmt *s = stmt(c, id);
    sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
    if (b != NULL)
        sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
    gh_err err = run(c, s, "rbac");
    if (err == GH_OK && changed != NULL)
        *changed = sqlite3_changes64(c->db);
    return err;
}

/* Runs a statement whose ?1, ?2 are text and ?3 (or ?2 when b is NULL) is now. */
static gh_err run_at(struct conn *c, enum gh_sqlite_stmt id, const char *a, const char *b,
                     int64_t now)
{
    sqlite3_stmt *s = stmt(c, id);
    sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
    if (b != NULL)
        sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, b != NULL ? 3 : 2, now);
    return run(c, s, "rbac");
}

/* Tells affected about each user_id a statement with text parameters a, b selects. */
static gh_err tell(struct conn *c, enum gh_sqlite_stmt id, const char *a, const char *b,
                   gh_affected_fn affected, void *arg)
{
    if (affected == NULL)
        return GH_OK;
    sqlite3_stmt *s = stmt(c, id);
    sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
    if (b != NULL)
        sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *user_id = (const char *)sqlite3_column_text(s, 0);
        if (user_id != NULL)
            affected(arg, user_id);
    }
    gh_err err = rc == SQLITE_DONE ? GH_OK : fail(c, "affected");
    sqlite3_reset(s);
    return err;
}

/* Appends one user to the revocation feed. */
static gh_err feed(struct conn *c, const char *user_id, int64_t now)
{
    sqlite3_stmt *s = stmt(c, ST_REVOCATION_INSERT);
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    return run(c, s, "revocation_insert");
}

/* One count(*) with text parameters a, b. */
static gh_err count2(struct conn *c, enum gh_sqlite_stmt id, const char *a, const char *b,
                     int64_t *out)
{
    sqlite3_stmt *s = stmt(c, id);
    sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
    if (b != NULL)
        sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
    gh_err err = step_row(c, s, "count");
    if (err == GH_OK) {
        *out = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
    }
    return err == GH_ERR_NOT_FOUND ? GH_ERR_INTERNAL : err;
}

static gh_err org_rename(struct gh_store *st, const char *id, const char *name)
{
    if (strnlen(name, sizeof(((struct gh_org *)0)->name)) >= sizeof(((struct gh_org *)0)->name))
        return GH_ERR_TOO_LARGE;
    int64_t n = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = run2(c, ST_ORG_RENAME, id, name, &n);
    checkin(st, c);
    return err == GH_OK && n == 0 ? GH_ERR_NOT_FOUND : err;
}

static gh_err org_delete(struct gh_store *st, const char *id, int64_t now, gh_affected_fn affected,
                         void *arg)
{
    int64_t n = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    if ((err = tell(c, ST_ORG_MEMBERS, id, NULL, affected, arg)) == GH_OK &&
        (err = run_at(c, ST_ORG_FEED, id, NULL, now)) == GH_OK &&
        (err = run_at(c, ST_ORG_REVOKE_REFRESH, id, NULL, now)) == GH_OK &&
        (err = run2(c, ST_PRIMARY_REASSIGN, id, NULL, NULL)) == GH_OK &&
        (err = run2(c, ST_ORG_DELETE, id, NULL, &n)) == GH_OK && n == 0)
        err = GH_ERR_NOT_FOUND;
    err = finish(c, err);
out:
    checkin(st, c);
    return err;
}

static gh_err role_list(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                        gh_role_visit_fn fn, void *arg)
{
    return list_rows(st, ST_ROLE_LIST, org_id, 1, limit, offset, NULL, visit_role, FN(fn), arg);
}

static gh_err get_role(struct conn *c, const char *org_id, const char *role_id, struct gh_role *r)
{
    sqlite3_stmt *s = stmt(c, ST_ROLE_GET);
    sqlite3_bind_text(s, 1, org_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role_id, -1, SQLITE_STATIC);
    gh_err err = step_row(c, s, "role_get");
    if (err == GH_OK) {
        err = read_role(s, r);
        sqlite3_reset(s);
    }
    return err;
}

static gh_err role_get(struct gh_store *st, const char *org_id, const char *role_id,
                       struct gh_role *out)
{
    static __thread struct gh_role r;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = get_role(c, org_id, role_id, &r);
    checkin(st, c);
    if (err == GH_OK)
        *out = r;
    return err;
}

static gh_err role_create(struct gh_store *st, const struct gh_role *r)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_ROLE_INSERT_CUSTOM);
    if (BIND_FIELD(s, 1, r->id) | BIND_FIELD(s, 2, r->org_id) | BIND_FIELD(s, 3, r->name) |
        BIND_FIELD(s, 4, r->permissions))
        err = GH_ERR_INVALID;
    else
        err = run(c, s, "role_create");
    checkin(st, c);
    return err;
}

static gh_err role_update(struct gh_store *st, const char *org_id, const char *role_id,
                          const char *name, const char *permissions, int64_t now,
                          gh_affected_fn affected, void *arg)
{
    const size_t max = sizeof(((struct gh_role *)0)->permissions);
    if ((name != NULL && strnlen(name, 65) >= 65) ||
        (permissions != NULL && strnlen(permissions, max) >= max))
        return GH_ERR_TOO_LARGE;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    sqlite3_stmt *s = stmt(c, ST_ROLE_UPDATE);
    sqlite3_bind_text(s, 1, org_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role_id, -1, SQLITE_STATIC);
    if (name != NULL)
        sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
    if (permissions != NULL)
        sqlite3_bind_text(s, 4, permissions, -1, SQLITE_STATIC);
    if ((err = run(c, s, "role_update")) == GH_OK && sqlite3_changes64(c->db) == 0)
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK) {
        /* Its members' permissions or role name changed: every cached view of them goes,
         * here through affected and on other nodes through the feed. */
        s = stmt(c, ST_ROLE_FEED);
        sqlite3_bind_text(s, 1, org_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, role_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, now);
        if ((err = run(c, s, "role_feed")) == GH_OK)
            err = tell(c, ST_ROLE_MEMBERS, org_id, role_id, affected, arg);
    }
    err = finish(c, err);
out:
    checkin(st, c);
    return err;
}

static gh_err role_delete(struct gh_store *st, const char *org_id, const char *role_id)
{
    int64_t used = 0, n = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    if ((err = count2(c, ST_ROLE_IN_USE, org_id, role_id, &used)) == GH_OK) {
        if (used > 0)
            err = GH_ERR_CONFLICT;
        else if ((err = run2(c, ST_ROLE_DELETE, org_id, role_id, &n)) == GH_OK && n == 0)
            err = GH_ERR_NOT_FOUND;
    }
    err = finish(c, err);
out:
    checkin(st, c);
    return err;
}

static gh_err member_list_org(struct gh_store *st, const char *org_id, size_t limit,
                              size_t offset, gh_member_visit_fn fn, void *arg)
{
    return list_rows(st, ST_MEMBER_LIST_ORG, org_id, 1, limit, offset, NULL, visit_member, FN(fn),
                     arg);
}

/* Inside a transaction: the role a member holds now (GH_ERR_NOT_FOUND not a member), and
 * whether taking it away leaves the org without an admin. */
static gh_err admin_guard(struct conn *c, const char *org_id, const char *user_id,
                          const char *next_role, int *last_admin)
{
    sqlite3_stmt *s = stmt(c, ST_MEMBER_GET);
    sqlite3_bind_text(s, 1, org_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    gh_err err = step_row(c, s, "member_get");
    if (err != GH_OK)
        return err;
    const unsigned char *role = sqlite3_column_text(s, 2);
    int is_admin = role != NULL && strcmp((const char *)role, "admin") == 0;
    sqlite3_reset(s);
    *last_admin = 0;
    if (!is_admin || (next_role != NULL && strcmp(next_role, "admin") == 0))
        return GH_OK;
    int64_t admins = 0;
    if ((err = count2(c, ST_ADMIN_COUNT, org_id, NULL, &admins)) != GH_OK)
        return err;
    *last_admin = admins <= 1;
    return GH_OK;
}

static gh_err member_set_role(struct gh_store *st, const char *org_id, const char *user_id,
                              const char *role_name, int64_t now)
{
    char role_id[GH_UUID_LEN + 1];
    int last = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    if ((err = admin_guard(c, org_id, user_id, role_name, &last)) != GH_OK)
        goto done;
    if (last) {
        err = GH_ERR_CONFLICT;
        goto done;
    }
    sqlite3_stmt *s = stmt(c, ST_ROLE_FIND_NAME);
    sqlite3_bind_text(s, 1, org_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role_name, -1, SQLITE_STATIC);
    if ((err = step_row(c, s, "role_find")) == GH_OK) {
        err = COL_TEXT(s, 0, role_id);
        sqlite3_reset(s);
    } else if (err == GH_ERR_NOT_FOUND) {
        err = GH_ERR_INVALID;
    }
    if (err == GH_OK) {
        s = stmt(c, ST_MEMBER_SET_ROLE);
        sqlite3_bind_text(s, 1, org_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, role_id, -1, SQLITE_STATIC);
        err = run(c, s, "member_set_role");
        sqlite3_clear_bindings(s);
    }
    if (err == GH_OK)
        err = feed(c, user_id, now);
done:
    err = finish(c, err);
out:
    checkin(st, c);
    return err;
}

static gh_err member_remove(struct gh_store *st, const char *org_id, const char *user_id,
                            int64_t now)
{
    int last = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    if ((err = admin_guard(c, org_id, user_id, NULL, &last)) == GH_OK && last)
        err = GH_ERR_CONFLICT;
    if (err == GH_OK && (err = run2(c, ST_MEMBER_DELETE, org_id, user_id, NULL)) == GH_OK &&
        (err = run_at(c, ST_MEMBER_REVOKE_REFRESH, org_id, user_id, now)) == GH_OK &&
        (err = run_at(c, ST_MEMBER_REVOKE_KEYS, org_id, user_id, now)) == GH_OK &&
        (err = run2(c, ST_PRIMARY_REASSIGN, org_id, user_id, NULL)) == GH_OK)
        err = feed(c, user_id, now);
    err = finish(c, err);
out:
    checkin(st, c);
    return err;
}

static gh_err user_set_primary_org(struct gh_store *st, const char *user_id, const char *org_id)
{
    int64_t n = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = run2(c, ST_USER_SET_PRIMARY, user_id, org_id, &n);
    checkin(st, c);
    return err == GH_OK && n == 0 ? GH_ERR_NOT_FOUND : err;
}

static gh_err user_list_org(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                            gh_user_visit_fn fn, void *arg)
{
    return list_rows(st, ST_USER_LIST_ORG, org_id, 1, limit, offset, NULL, visit_user, FN(fn), arg);
}

static gh_err user_update(struct gh_store *st, const struct gh_user *u, int revoke, int64_t now)
{
    int64_t epoch = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    sqlite3_stmt *s = stmt(c, ST_USER_UPDATE);
    if (BIND_FIELD(s, 1, u->id) | BIND_FIELD(s, 2, u->full_name) | BIND_FIELD(s, 3, u->email) |
        sqlite3_bind_int(s, 4, u->disabled != 0) | sqlite3_bind_int(s, 5, u->superadmin != 0) |
        sqlite3_bind_int64(s, 6, now))
        err = GH_ERR_INVALID;
    else if ((err = run(c, s, "user_update")) == GH_OK && sqlite3_changes64(c->db) == 0)
        err = GH_ERR_NOT_FOUND;
    sqlite3_clear_bindings(s);
    if (err == GH_OK)
        err = revoke ? revoke_user(c, u->id, now, &epoch) : feed(c, u->id, now);
    err = finish(c, err);
out:
    checkin(st, c);
    return err;
}

static gh_err user_delete(struct gh_store *st, const char *id, int64_t now)
{
    int64_t sole = 0, n = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    if ((err = count2(c, ST_USER_SOLE_ADMIN, id, NULL, &sole)) == GH_OK && sole > 0)
        err = GH_ERR_CONFLICT;
    if (err == GH_OK && (err = run2(c, ST_USER_DELETE, id, NULL, &n)) == GH_OK && n == 0)
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK)
        err = feed(c, id, now);
    err = finish(c, err);
out:
    checkin(st, c);
    return err;
}

static gh_err perm_add(struct gh_store *st, const char *name, int64_t now)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_PERM_INSERT);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    err = run(c, s, "perm_add");
    checkin(st, c);
    return err;
}

static gh_err perm_list(struct gh_store *st, gh_name_visit_fn fn, void *arg)
{
    return list_rows(st, ST_PERM_LIST, NULL, 0, 0, 0, NULL, visit_name, FN(fn), arg);
}

/* ---- invitations ---- */

static gh_err read_invitation(sqlite3_stmt *s, struct gh_invitation *inv)
{
    gh_err err;
    memset(inv, 0, sizeof(*inv));
    if ((err = COL_TEXT(s, 0, inv->id)) != GH_OK || (err = COL_TEXT(s, 1, inv->org_id)) != GH_OK ||
        (err = COL_TEXT(s, 2, inv->org_name)) != GH_OK ||
        (err = COL_TEXT(s, 3, inv->role_name)) != GH_OK ||
        (err = COL_TEXT(s, 4, inv->invited_by)) != GH_OK)
        return err;
    inv->created_at = sqlite3_column_int64(s, 5);
    inv->expires_at = sqlite3_column_int64(s, 6);
    return GH_OK;
}

static gh_err visit_invitation(sqlite3_stmt *s, void *fn, void *arg, int *stop)
{
    struct gh_invitation inv;
    gh_err err = read_invitation(s, &inv);
    if (err == GH_OK)
        *stop = ((gh_invitation_visit_fn)fn)(arg, &inv);
    return err;
}

static gh_err invitation_create(struct gh_store *st, const struct gh_invitation *inv,
                                const char *user_id, const char *invited_by)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_INVITATION_INSERT);
    if (BIND_FIELD(s, 1, inv->id) | BIND_FIELD(s, 2, inv->org_id) | bind_opt(s, 3, user_id) |
        BIND_FIELD(s, 4, inv->role_name) | bind_opt(s, 5, invited_by) |
        sqlite3_bind_int64(s, 6, inv->created_at) | sqlite3_bind_int64(s, 7, inv->expires_at))
        err = GH_ERR_INVALID;
    else
        err = run(c, s, "invitation_create");
    if (err == GH_OK && sqlite3_changes(c->db) == 0)
        err = GH_ERR_NOT_FOUND; /* no such org, or no such role in it */
    checkin(st, c);
    return err;
}

static gh_err invitation_list_org(struct gh_store *st, const char *org_id, int64_t now,
                                  size_t limit, size_t offset, gh_invitation_visit_fn fn, void *arg)
{
    return list_rows(st, ST_INVITATION_LIST_ORG, org_id, 1, limit, offset, &now, visit_invitation,
                     FN(fn), arg);
}

static gh_err invitation_list_user(struct gh_store *st, const char *user_id, int64_t now,
                                   size_t limit, size_t offset, gh_invitation_visit_fn fn,
                                   void *arg)
{
    return list_rows(st, ST_INVITATION_LIST_USER, user_id, 1, limit, offset, &now, visit_invitation,
                     FN(fn), arg);
}

/* Moves invitation id addressed to user_id from pending to status (its invitee's answer):
 * GH_ERR_EXPIRED when it is pending but dead at now, GH_ERR_NOT_FOUND when it is not
 * pending or not addressed to user_id. */
static gh_err answer(struct conn *c, const char *user_id, const char *id, const char *status,
                     int64_t now)
{
    sqlite3_stmt *s = stmt(c, ST_INVITATION_ANSWER);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    sqlite3_bind_text(s, 4, status, -1, SQLITE_STATIC);
    gh_err err = run(c, s, "invitation_answer");
    if (err != GH_OK || sqlite3_changes(c->db) > 0)
        return err;
    s = stmt(c, ST_INVITATION_DEAD);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    if ((err = step_row(c, s, "invitation_dead")) == GH_OK) {
        err = sqlite3_column_int(s, 0) ? GH_ERR_EXPIRED : GH_ERR_NOT_FOUND;
        sqlite3_reset(s);
    }
    return err;
}

static gh_err invitation_accept(struct gh_store *st, const char *user_id, const char *id,
                                int64_t now, struct gh_invitation *out)
{
    struct gh_invitation inv;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    if ((err = answer(c, user_id, id, "accepted", now)) != GH_OK)
        goto done;
    /* Read back through the org and the role: both must still be there. */
    sqlite3_stmt *s = stmt(c, ST_INVITATION_GET);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    if ((err = step_row(c, s, "invitation_get")) != GH_OK)
        goto done;
    err = read_invitation(s, &inv);
    sqlite3_reset(s);
    if (err != GH_OK)
        goto done;
    s = stmt(c, ST_MEMBER_ADD);
    sqlite3_bind_text(s, 1, inv.org_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, inv.role_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    if ((err = run(c, s, "member_add")) == GH_OK && sqlite3_changes(c->db) == 0)
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK)
        err = feed(c, user_id, now);
done:
    err = finish(c, err);
out:
    checkin(st, c);
    if (err == GH_OK && out != NULL)
        *out = inv;
    return err;
}

static gh_err invitation_decline(struct gh_store *st, const char *user_id, const char *id,
                                 int64_t now)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = answer(c, user_id, id, "declined", now);
    checkin(st, c);
    return err;
}

static gh_err invitation_revoke(struct gh_store *st, const char *org_id, const char *id,
                                int64_t now)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = run_at(c, ST_INVITATION_REVOKE, org_id, id, now)) == GH_OK &&
        sqlite3_changes(c->db) == 0)
        err = GH_ERR_NOT_FOUND;
    checkin(st, c);
    return err;
}

static gh_err refresh_get(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                          int64_t now, struct gh_refresh_token *out)
{
    struct gh_refresh_token t;
    int spent = 0, revoked = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = get_refresh(c, hash, &t, &spent, &revoked);
    checkin(st, c);
    if (err == GH_OK && (spent || revoked || t.expires_at <= now))
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK)
        *out = t;
    return err;
}

static gh_err refresh_rotate(struct gh_store *st, const unsigned char old_hash[GH_HASH_LEN],
                             struct gh_refresh_token *next, int64_t now,
                             struct gh_refresh_token *spent)
{
    struct gh_refresh_token old, ins;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;

    /* The conditional UPDATE decides: of concurrent rotations only one changes the row. */
    sqlite3_stmt *s = stmt(c, ST_REFRESH_SPEND);
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_blob(s, 2, old_hash, GH_HASH_LEN, SQLITE_STATIC);
    err = step_row(c, s, "refresh_spend");
    if (err == GH_OK) {
        err = read_refresh(s, &old);
        sqlite3_reset(s);
        if (err == GH_OK) {
            ins = *next;
            memcpy(ins.user_id, old.user_id, sizeof(ins.user_id));
            memcpy(ins.family_id, old.family_id, sizeof(ins.family_id));
            if (ins.org_id[0] == '\0')
                memcpy(ins.org_id, old.org_id, sizeof(ins.org_id));
            err = insert_refresh(c, &ins);
        }
    } else if (err == GH_ERR_NOT_FOUND) {
        err = rotate_refused(c, old_hash, now, &old);
    }
    err = finish(c, err); /* commits on GH_OK and on GH_ERR_REUSED */
out:
    checkin(st, c);
    if (err == GH_OK)
        *next = ins;
    if (err == GH_OK || err == GH_ERR_REUSED)
        *spent = old;
    return err;
}

static gh_err refresh_revoke(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                             int64_t now, struct gh_refresh_token *out)
{
    struct gh_refresh_token t;
    int spent = 0, revoked = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    if ((err = get_refresh(c, hash, &t, &spent, &revoked)) == GH_OK) {
        sqlite3_stmt *s = stmt(c, ST_REFRESH_REVOKE);
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_blob(s, 2, hash, GH_HASH_LEN, SQLITE_STATIC);
        err = run(c, s, "refresh_revoke");
    }
    err = finish(c, err);
out:
    checkin(st, c);
    if (err == GH_OK)
        *out = t;
    return err;
}

/* Runs one DELETE whose only parameter is a time cutoff; *n the rows it deleted. */
static gh_err purge_before(struct gh_store *st, enum gh_sqlite_stmt id, const char *what, int64_t cutoff,
                           int64_t *n)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, id);
    sqlite3_bind_int64(s, 1, cutoff);
    err = run(c, s, what);
    if (err == GH_OK)
        *n = sqlite3_changes64(c->db);
    checkin(st, c);
    return err;
}

static gh_err refresh_purge(struct gh_store *st, int64_t cutoff, int64_t *n)
{
    return purge_before(st, ST_REFRESH_PURGE, "refresh_purge", cutoff, n);
}

static gh_err invitation_purge(struct gh_store *st, int64_t cutoff, int64_t *n)
{
    return purge_before(st, ST_INVITATION_PURGE, "invitation_purge", cutoff, n);
}

/* ---- API keys ---- */

static gh_err read_api_key(sqlite3_stmt *s, struct gh_api_key *k)
{
    gh_err err;
    memset(k, 0, sizeof(*k));
    if ((err = col_hash(s, 1, k->hash, "an API key")) != GH_OK)
        return err;
    k->has_scopes = sqlite3_column_type(s, 6) != SQLITE_NULL;
    if ((err = COL_TEXT(s, 0, k->id)) != GH_OK || (err = COL_TEXT(s, 2, k->prefix)) != GH_OK ||
        (err = COL_TEXT(s, 3, k->user_id)) != GH_OK || (err = COL_TEXT(s, 4, k->org_id)) != GH_OK ||
        (err = COL_TEXT(s, 5, k->name)) != GH_OK || (err = COL_TEXT(s, 6, k->scopes)) != GH_OK ||
        (err = COL_TEXT(s, 7, k->allowed_ips)) != GH_OK ||
        (err = COL_TEXT(s, 11, k->last_used_ip)) != GH_OK)
        return err;
    k->expires_at = sqlite3_column_int64(s, 8);
    k->created_at = sqlite3_column_int64(s, 9);
    k->last_used_at = sqlite3_column_int64(s, 10);
    k->revoked_at = sqlite3_column_int64(s, 12);
    return GH_OK;
}

static gh_err apikey_create(struct gh_store *st, const struct gh_api_key *k)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_APIKEY_INSERT);
    if (BIND_FIELD(s, 1, k->id) | sqlite3_bind_blob(s, 2, k->hash, GH_HASH_LEN, SQLITE_STATIC) |
        BIND_FIELD(s, 3, k->prefix) | BIND_FIELD(s, 4, k->user_id) | BIND_FIELD(s, 5, k->org_id) |
        BIND_FIELD(s, 6, k->name) |
        (k->has_scopes ? BIND_FIELD(s, 7, k->scopes) : sqlite3_bind_null(s, 7)) |
        BIND_FIELD(s, 8, k->allowed_ips) | sqlite3_bind_int64(s, 9, k->expires_at) |
        sqlite3_bind_int64(s, 10, k->created_at))
        err = GH_ERR_INVALID;
    else
        err = run(c, s, "apikey_create");
    checkin(st, c);
    return err;
}

static gh_err apikey_find_hash(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                               struct gh_api_key *out)
{
    struct gh_api_key k;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_APIKEY_FIND);
    sqlite3_bind_blob(s, 1, hash, GH_HASH_LEN, SQLITE_STATIC);
    if ((err = step_row(c, s, "apikey_find")) == GH_OK) {
        err = read_api_key(s, &k);
        sqlite3_reset(s);
    }
    checkin(st, c);
    if (err == GH_OK)
        *out = k;
    return err;
}

static gh_err apikey_list_user(struct gh_store *st, const char *user_id, size_t limit,
                               size_t offset, gh_api_key_visit_fn fn, void *arg)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_APIKEY_LIST);
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
    sqlite3_bind_int64(s, 3, offset > INT64_MAX ? INT64_MAX : (sqlite3_int64)offset);
    int rc;
    static __thread struct gh_api_key k; /* 3 KiB: off the worker's stack */
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if ((err = read_api_key(s, &k)) != GH_OK || fn(arg, &k) != 0)
            break;
    if (err == GH_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = fail(c, "apikey_list_user");
    sqlite3_reset(s);
    checkin(st, c);
    return err;
}

static gh_err apikey_revoke(struct gh_store *st, const char *user_id, const char *id, int64_t now,
                            int64_t *n)
{
    int64_t revoked = 0;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    sqlite3_stmt *s = stmt(c, id != NULL ? ST_APIKEY_REVOKE_ONE : ST_APIKEY_REVOKE_ALL);
    sqlite3_bind_int64(s, 1, now);
    if (id != NULL) {
        sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, user_id, -1, SQLITE_STATIC);
        if ((err = step_row(c, s, "apikey_revoke")) == GH_OK) {
            revoked = sqlite3_column_int(s, 0);
            sqlite3_reset(s);
        }
    } else {
        sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
        if ((err = run(c, s, "apikey_revoke_all")) == GH_OK)
            revoked = sqlite3_changes64(c->db);
    }
    /* Every node drops its cached view of the user's keys through the feed. */
    if (err == GH_OK && revoked > 0) {
        s = stmt(c, ST_REVOCATION_INSERT);
        sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, now);
        err = run(c, s, "revocation_insert");
    }
    err = finish(c, err);
out:
    checkin(st, c);
    if (err == GH_OK)
        *n = revoked;
    return err;
}

static gh_err apikey_touch(struct gh_store *st, const struct gh_api_key_use *uses, size_t n)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = begin(c)) != GH_OK)
        goto out;
    for (size_t i = 0; i < n && err == GH_OK; i++) {
        sqlite3_stmt *s = stmt(c, ST_APIKEY_TOUCH);
        sqlite3_bind_int64(s, 1, uses[i].at);
        if (BIND_FIELD(s, 2, uses[i].ip) | BIND_FIELD(s, 3, uses[i].id))
            err = GH_ERR_INVALID;
        else
            err = run(c, s, "apikey_touch");
    }
    err = finish(c, err);
out:
    checkin(st, c);
    return err;
}

/* ---- audit ---- */

/* Reads the chain's end (inside the caller's transaction when it has one). */
static gh_err read_head(struct conn *c, struct gh_audit_head *h)
{
    sqlite3_stmt *s = stmt(c, ST_AUDIT_HEAD);
    gh_err err = step_row(c, s, "audit_head");
    if (err != GH_OK)
        return err == GH_ERR_NOT_FOUND ? GH_ERR_INTERNAL : err;
    memset(h, 0, sizeof(*h));
    h->start = sqlite3_column_int64(s, 0);
    h->seq = sqlite3_column_int64(s, 1);
    if (h->seq < h->start)
        h->seq = h->start;
    /* A missing or damaged newest hash is chained over as zeros: verification names it. */
    if (sqlite3_column_bytes(s, 2) == GH_HASH_LEN)
        memcpy(h->hash, sqlite3_column_blob(s, 2), GH_HASH_LEN);
    h->checkpoint_seq = sqlite3_column_int64(s, 3);
    h->checkpoint_ts = sqlite3_column_int64(s, 4);
    sqlite3_reset(s);
    return GH_OK;
}

/* Inserts record seq with its hashes (inside the append transaction). */
static gh_err insert_audit(struct conn *c, const struct gh_audit_event *ev, int64_t seq,
                           const unsigned char *prev, const unsigned char *hash)
{
    sqlite3_stmt *s = stmt(c, ST_AUDIT_INSERT);
    sqlite3_bind_int64(s, 1, ev->ts);
    sqlite3_bind_text(s, 2, ev->action, -1, SQLITE_STATIC);
    bind_opt(s, 3, ev->user_id);
    bind_opt(s, 4, ev->username);
    bind_opt(s, 5, ev->org_id);
    bind_opt(s, 6, ev->resource_type);
    bind_opt(s, 7, ev->resource_id);
    bind_opt(s, 8, ev->ip_address);
    bind_opt(s, 9, ev->user_agent);
    bind_opt(s, 10, ev->method);
    bind_opt(s, 11, ev->path);
    if (ev->status != 0) /* 0: no HTTP status (a CLI action), stored as NULL */
        sqlite3_bind_int(s, 12, ev->status);
    bind_opt(s, 13, ev->metadata_json);
    sqlite3_bind_int64(s, 14, seq);
    sqlite3_bind_blob(s, 15, prev, GH_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(s, 16, hash, GH_HASH_LEN, SQLITE_STATIC);
    return run(c, s, "audit_append");
}

static gh_err audit_append(struct gh_store *st, const struct gh_audit_event *evs, size_t n,
                           struct gh_audit_head *head)
{
    struct gh_audit_head h;
    for (size_t i = 0; i < n; i++)
        if (evs[i].action == NULL || evs[i].action[0] == '\0')
            return GH_ERR_INVALID;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    /* BEGIN IMMEDIATE: the write lock first, so no other appender reads the same end. */
    if ((err = begin(c)) != GH_OK)
        goto out;
    err = read_head(c, &h);
    for (size_t i = 0; i < n && err == GH_OK; i++) {
        unsigned char hash[GH_HASH_LEN];
        gh_audit_hash(h.seq + 1, &evs[i], h.hash, hash);
        if ((err = insert_audit(c, &evs[i], h.seq + 1, h.hash, hash)) == GH_OK) {
            h.seq++;
            memcpy(h.hash, hash, GH_HASH_LEN);
        }
    }
    err = finish(c, err);
out:
    checkin(st, c);
    if (err == GH_OK)
        *head = h;
    return err;
}

static gh_err audit_head(struct gh_store *st, struct gh_audit_head *out)
{
    struct gh_audit_head h;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = read_head(c, &h);
    checkin(st, c);
    if (err == GH_OK)
        *out = h;
    return err;
}

/* A record's columns (AUDIT_COLS) as a row; strings point into s until it steps. */
static void read_audit(sqlite3_stmt *s, struct gh_audit_row *r)
{
    memset(r, 0, sizeof(*r));
    r->seq = sqlite3_column_int64(s, 0);
    r->ev.ts = sqlite3_column_int64(s, 1);
    r->ev.action = (const char *)sqlite3_column_text(s, 2);
    r->ev.user_id = (const char *)sqlite3_column_text(s, 3);
    r->ev.username = (const char *)sqlite3_column_text(s, 4);
    r->ev.org_id = (const char *)sqlite3_column_text(s, 5);
    r->ev.resource_type = (const char *)sqlite3_column_text(s, 6);
    r->ev.resource_id = (const char *)sqlite3_column_text(s, 7);
    r->ev.ip_address = (const char *)sqlite3_column_text(s, 8);
    r->ev.user_agent = (const char *)sqlite3_column_text(s, 9);
    r->ev.method = (const char *)sqlite3_column_text(s, 10);
    r->ev.path = (const char *)sqlite3_column_text(s, 11);
    r->ev.status = sqlite3_column_int(s, 12);
    r->ev.metadata_json = (const char *)sqlite3_column_text(s, 13);
    const void *prev = sqlite3_column_blob(s, 14);
    int nprev = sqlite3_column_bytes(s, 14);
    const void *hash = sqlite3_column_blob(s, 15);
    int nhash = sqlite3_column_bytes(s, 15);
    r->hashed = prev != NULL && hash != NULL && nprev == GH_HASH_LEN && nhash == GH_HASH_LEN;
    if (r->hashed) {
        memcpy(r->prev_hash, prev, GH_HASH_LEN);
        memcpy(r->hash, hash, GH_HASH_LEN);
    }
}

/* Steps s to its end, visiting each record. */
static gh_err visit_audit(struct conn *c, sqlite3_stmt *s, gh_audit_visit_fn fn, void *arg,
                          const char *what)
{
    struct gh_audit_row r;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        read_audit(s, &r);
        if (fn(arg, &r) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    gh_err err = rc == SQLITE_DONE ? GH_OK : fail(c, what);
    sqlite3_reset(s);
    return err;
}

static gh_err audit_list(struct gh_store *st, const struct gh_audit_filter *f, size_t limit,
                         size_t offset, gh_audit_visit_fn fn, void *arg)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_AUDIT_LIST);
    bind_opt(s, 1, f->user_id);
    bind_opt(s, 2, f->action);
    bind_opt(s, 3, f->resource_type);
    bind_opt(s, 4, f->resource_id);
    bind_opt(s, 5, f->org_id);
    if (f->has_since)
        sqlite3_bind_int64(s, 6, f->since);
    if (f->has_until)
        sqlite3_bind_int64(s, 7, f->until);
    sqlite3_bind_int64(s, 8, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
    sqlite3_bind_int64(s, 9, offset > INT64_MAX ? INT64_MAX : (sqlite3_int64)offset);
    err = visit_audit(c, s, fn, arg, "audit_list");
    checkin(st, c);
    return err;
}

static gh_err audit_scan(struct gh_store *st, int64_t after, gh_audit_visit_fn fn, void *arg)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    /* One statement is one read transaction: a consistent snapshot under WAL. */
    sqlite3_stmt *s = stmt(c, ST_AUDIT_SCAN);
    sqlite3_bind_int64(s, 1, after);
    err = visit_audit(c, s, fn, arg, "audit_scan");
    checkin(st, c);
    return err;
}

static gh_err checkpoint_add(struct gh_store *st, const struct gh_audit_checkpoint *cp)
{
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_CHECKPOINT_INSERT);
    sqlite3_bind_int64(s, 1, cp->seq);
    sqlite3_bind_blob(s, 2, cp->hash, GH_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, cp->ts);
    sqlite3_bind_blob(s, 4, cp->signature, GH_AUDIT_SIG_LEN, SQLITE_STATIC);
    if (BIND_FIELD(s, 5, cp->key_id))
        err = GH_ERR_INVALID;
    else
        err = run(c, s, "checkpoint_add");
    checkin(st, c);
    return err;
}

static gh_err checkpoint_list(struct gh_store *st, gh_checkpoint_visit_fn fn, void *arg)
{
    struct gh_audit_checkpoint cp;
    struct conn *c;
    gh_err err = checkout(st, &c);
    if (err != GH_OK)
        return err;
    sqlite3_stmt *s = stmt(c, ST_CHECKPOINT_LIST);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&cp, 0, sizeof(cp));
        cp.seq = sqlite3_column_int64(s, 0);
        cp.ts = sqlite3_column_int64(s, 2);
        /* A damaged checkpoint keeps zeros where it is damaged: its signature fails. */
        if (sqlite3_column_bytes(s, 1) == GH_HASH_LEN)
            memcpy(cp.hash, sqlite3_column_blob(s, 1), GH_HASH_LEN);
        if (sqlite3_column_bytes(s, 3) == GH_AUDIT_SIG_LEN)
            memcpy(cp.signature, sqlite3_column_blob(s, 3), GH_AUDIT_SIG_LEN);
        if (COL_TEXT(s, 4, cp.key_id) != GH_OK)
            cp.key_id[0] = '\0';
        if (fn(arg, &cp) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    err = rc == SQLITE_DONE ? GH_OK : fail(c, "checkpoint_list");
    sqlite3_reset(s);
    checkin(st, c);
    return err;
}

static gh_err audit_purge(struct gh_store *st, int64_t cutoff, int64_t *n)
{
    return purge_before(st, ST_AUDIT_PURGE, "audit_purge", cutoff, n);
}

/* ---- revocation feed ---- */

static gh_err revocation_feed(struct gh_store *st, int64_t after, int64_t purge_before,
                              void (*fn)(void *arg, const char *user_id), void *arg, int64_t *last)
{
    int64_t seq = after;
    struct conn *c;
    gh_err err = checkout(st, &c);
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
    err = rc == SQLITE_DONE ? GH_OK : fail(c, "revocation_feed");
    sqlite3_reset(s);
    if (err == GH_OK && purge_before > 0) {
        s = stmt(c, ST_REVOCATION_PURGE);
        sqlite3_bind_int64(s, 1, purge_before);
        err = run(c, s, "revocation_purge");
    }
    checkin(st, c);
    if (err == GH_OK)
        *last = seq;
    return err;
}

const struct gh_store_ops gh_store_sqlite_ops = {
    .name = "sqlite",
    .open = st_open,
    .close = st_close,
    .ping = st_ping,
    .user_create = user_create,
    .user_get = user_get,
    .user_find_login = user_find_login,
    .user_list = user_list,
    .user_count = user_count,
    .user_set_password = user_set_password,
    .user_set_disabled = user_set_disabled,
    .user_revoke_all = user_revoke_all,
    .org_create = org_create,
    .org_find_name = org_find_name,
    .member_add = member_add,
    .member_get = member_get,
    .member_list_user = member_list_user,
    .org_get = org_get,
    .org_list = org_list,
    .org_rename = org_rename,
    .org_delete = org_delete,
    .role_list = role_list,
    .role_get = role_get,
    .role_create = role_create,
    .role_update = role_update,
    .role_delete = role_delete,
    .member_list_org = member_list_org,
    .member_set_role = member_set_role,
    .member_remove = member_remove,
    .user_set_primary_org = user_set_primary_org,
    .user_list_org = user_list_org,
    .user_update = user_update,
    .user_delete = user_delete,
    .perm_add = perm_add,
    .perm_list = perm_list,
    .invitation_create = invitation_create,
    .invitation_list_org = invitation_list_org,
    .invitation_list_user = invitation_list_user,
    .invitation_accept = invitation_accept,
    .invitation_decline = invitation_decline,
    .invitation_revoke = invitation_revoke,
    .invitation_purge = invitation_purge,
    .refresh_get = refresh_get,
    .refresh_insert = refresh_insert,
    .refresh_rotate = refresh_rotate,
    .refresh_revoke = refresh_revoke,
    .refresh_purge = refresh_purge,
    .revocation_feed = revocation_feed,
    .apikey_create = apikey_create,
    .apikey_find_hash = apikey_find_hash,
    .apikey_list_user = apikey_list_user,
    .apikey_revoke = apikey_revoke,
    .apikey_touch = apikey_touch,
    .audit_append = audit_append,
    .audit_head = audit_head,
    .audit_list = audit_list,
    .audit_scan = audit_scan,
    .checkpoint_add = checkpoint_add,
    .checkpoint_list = checkpoint_list,
    .audit_purge = audit_purge,
};

/*
 * The SQLite backend of the store interface. A small pool of connections, each with its
 * statements prepared once; every statement is a constant with ? placeholders.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <sodium.h>

#include "core/uuid.h"
#include "store/sqlite_schema.h"
#include "store/store.h"

#define POOL_SIZE 8

#define USER_COLS                                                                              \
    "id, username, email, full_name, password_hash, coalesce(primary_org_id, ''), disabled, " \
    "superadmin, token_epoch, created_at, updated_at"
#define REFRESH_COLS "id, token_hash, user_id, family_id, org_id, created_at, expires_at"
#define MEMBER_SELECT                                                                          \
    "SELECT o.id, o.name, r.name, r.permissions FROM memberships m "                          \
    "JOIN orgs o ON o.id = m.org_id JOIN roles r ON r.id = m.role_id "

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PING,
    ST_USER_INSERT,
    ST_USER_GET,
    ST_USER_FIND,
    ST_USER_LIST,
    ST_USER_COUNT,
    ST_USER_SET_PASSWORD,
    ST_USER_SET_DISABLED,
    ST_USER_BUMP_EPOCH,
    ST_USER_EPOCH,
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
    ST_REVOCATION_INSERT,
    ST_REVOCATION_SINCE,
    ST_REVOCATION_LAST,
    ST_REVOCATION_PURGE,
    ST_COUNT
};

static const char *const sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PING] = "SELECT 1",
    [ST_USER_INSERT] = "INSERT INTO users (id, username, email, full_name, password_hash, "
                       "primary_org_id, disabled, superadmin, token_epoch, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, nullif(?, ''), ?, ?, ?, ?, ?)",
    [ST_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?",
    [ST_USER_FIND] = "SELECT " USER_COLS " FROM users "
                     "WHERE lower(username) = lower(?1) OR lower(email) = lower(?1)",
    [ST_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY created_at, id LIMIT ? OFFSET ?",
    [ST_USER_COUNT] = "SELECT count(*) FROM users",
    [ST_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
    [ST_USER_SET_DISABLED] = "UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?",
    [ST_USER_BUMP_EPOCH] = "UPDATE users SET token_epoch = token_epoch + 1 WHERE id = ?",
    [ST_USER_EPOCH] = "SELECT token_epoch FROM users WHERE id = ?",
    [ST_ORG_INSERT] = "INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)",
    [ST_ROLE_INSERT] = "INSERT INTO roles (id, org_id, name, permissions, system) "
                       "VALUES (?, ?, ?, ?, 1)",
    [ST_ORG_FIND_NAME] = "SELECT id, name, created_at FROM orgs WHERE lower(name) = lower(?)",
    [ST_MEMBER_ADD] = "INSERT INTO memberships (org_id, user_id, role_id, created_at) "
                      "SELECT ?1, ?2, id, ?4 FROM roles WHERE org_id = ?1 AND name = ?3",
    [ST_MEMBER_GET] = MEMBER_SELECT "WHERE m.org_id = ? AND m.user_id = ?",
    [ST_MEMBER_LIST_USER] = MEMBER_SELECT "WHERE m.user_id = ? ORDER BY o.name LIMIT ?",
    [ST_REFRESH_INSERT] = "INSERT INTO refresh_tokens (" REFRESH_COLS ") "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_REFRESH_SPEND] = "UPDATE refresh_tokens SET spent_at = ?1 WHERE token_hash = ?2 "
                         "AND spent_at IS NULL AND revoked_at IS NULL AND expires_at > ?1",
    [ST_REFRESH_GET] = "SELECT " REFRESH_COLS ", spent_at, revoked_at FROM refresh_tokens "
                       "WHERE token_hash = ?",
    [ST_REFRESH_REVOKE] = "UPDATE refresh_tokens SET revoked_at = ? "
                          "WHERE token_hash = ? AND revoked_at IS NULL",
    [ST_REFRESH_REVOKE_FAMILY] = "UPDATE refresh_tokens SET revoked_at = ? "
                                 "WHERE family_id = ? AND revoked_at IS NULL",
    [ST_REFRESH_REVOKE_USER] = "UPDATE refresh_tokens SET revoked_at = ? "
                               "WHERE user_id = ? AND revoked_at IS NULL",
    [ST_REFRESH_PURGE] = "DELETE FROM refresh_tokens WHERE expires_at < ?",
    [ST_AUDIT_INSERT] = "INSERT INTO audit_events (ts, action, user_id, username, org_id, "
                        "resource_type, resource_id, ip_address, user_agent, method, path, "
                        "status, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_REVOCATION_INSERT] = "INSERT INTO revocations (user_id, at) VALUES (?, ?)",
    [ST_REVOCATION_SINCE] = "SELECT seq, user_id FROM revocations WHERE seq > ? "
                            "ORDER BY seq LIMIT 1000",
    [ST_REVOCATION_LAST] = "SELECT coalesce(max(seq), 0) FROM revocations",
    [ST_REVOCATION_PURGE] = "DELETE FROM revocations WHERE at < ?",
};

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT];
};

struct gh_store {
    pthread_mutex_t lock;
    pthread_cond_t available;
    struct conn conns[POOL_SIZE];
    int idle[POOL_SIZE]; /* stack of idle connection indexes */
    int nidle;
};

/* ---- errors and connections ---- */

static gh_err fail(struct conn *c, const char *what)
{
    int code = sqlite3_extended_errcode(c->db);
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
        return GH_ERR_CONFLICT;
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        return GH_ERR_BUSY;
    fprintf(stderr, "store: %s: %s\n", what, sqlite3_errmsg(c->db));
    return GH_ERR_IO;
}

static struct conn *checkout(struct gh_store *st)
{
    pthread_mutex_lock(&st->lock);
    while (st->nidle == 0)
        pthread_cond_wait(&st->available, &st->lock);
    struct conn *c = &st->conns[st->idle[--st->nidle]];
    pthread_mutex_unlock(&st->lock);
    return c;
}

static void checkin(struct gh_store *st, struct conn *c)
{
    pthread_mutex_lock(&st->lock);
    st->idle[st->nidle++] = (int)(c - st->conns);
    pthread_cond_signal(&st->available);
    pthread_mutex_unlock(&st->lock);
}

/* The statement, prepared on first use, reset and unbound. NULL on failure. */
static sqlite3_stmt *stmt(struct conn *c, enum stmt_id id)
{
    sqlite3_stmt *s = c->stmts[id];
    if (s == NULL) {
        if (sqlite3_prepare_v3(c->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
            SQLITE_OK) {
            fprintf(stderr, "store: prepare: %s\n", sqlite3_errmsg(c->db));
            return NULL;
        }
        c->stmts[id] = s;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* Runs a statement that returns no rows. */
static gh_err run(struct conn *c, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    gh_err err = rc == SQLITE_DONE || rc == SQLITE_ROW ? GH_OK : fail(c, what);
    sqlite3_reset(s);
    return err;
}

static gh_err run_simple(struct conn *c, enum stmt_id id)
{
    sqlite3_stmt *s = stmt(c, id);
    return s ? run(c, s, sql[id]) : GH_ERR_IO;
}

static gh_err begin(struct conn *c)
{
    return run_simple(c, ST_BEGIN);
}

/* Commits when err is GH_OK, else rolls back; returns the first error. */
static gh_err finish(struct conn *c, gh_err err)
{
    if (err == GH_OK) {
        err = run_simple(c, ST_COMMIT);
        if (err == GH_OK)
            return GH_OK;
    }
    (void)run_simple(c, ST_ROLLBACK);
    return err;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v == NULL || *v == '\0')
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Copies a text column into a fixed field; a value that does not fit is an error. */
static gh_err col_text(sqlite3_stmt *s, int i, char *dst, size_t size)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    size_t n = (size_t)sqlite3_column_bytes(s, i);
    if (v == NULL) {
        dst[0] = '\0';
        return GH_OK;
    }
    if (n >= size) {
        fprintf(stderr, "store: a stored value is longer than its field\n");
        return GH_ERR_IO;
    }
    memcpy(dst, v, n);
    dst[n] = '\0';
    return GH_OK;
}

static gh_err read_user(sqlite3_stmt *s, struct gh_user *u)
{
    memset(u, 0, sizeof(*u));
    if (col_text(s, 0, u->id, sizeof(u->id)) != GH_OK ||
        col_text(s, 1, u->username, sizeof(u->username)) != GH_OK ||
        col_text(s, 2, u->email, sizeof(u->email)) != GH_OK ||
        col_text(s, 3, u->full_name, sizeof(u->full_name)) != GH_OK ||
        col_text(s, 4, u->password_hash, sizeof(u->password_hash)) != GH_OK ||
        col_text(s, 5, u->primary_org_id, sizeof(u->primary_org_id)) != GH_OK)
        return GH_ERR_IO;
    u->disabled = sqlite3_column_int(s, 6);
    u->superadmin = sqlite3_column_int(s, 7);
    u->token_epoch = sqlite3_column_int64(s, 8);
    u->created_at = sqlite3_column_int64(s, 9);
    u->updated_at = sqlite3_column_int64(s, 10);
    return GH_OK;
}

static gh_err read_refresh(sqlite3_stmt *s, struct gh_refresh_token *t)
{
    memset(t, 0, sizeof(*t));
    if (sqlite3_column_bytes(s, 1) != GH_HASH_LEN)
        return GH_ERR_IO;
    memcpy(t->hash, sqlite3_column_blob(s, 1), GH_HASH_LEN);
    if (col_text(s, 0, t->id, sizeof(t->id)) != GH_OK ||
        col_text(s, 2, t->user_id, sizeof(t->user_id)) != GH_OK ||
        col_text(s, 3, t->family_id, sizeof(t->family_id)) != GH_OK ||
        col_text(s, 4, t->org_id, sizeof(t->org_id)) != GH_OK)
        return GH_ERR_IO;
    t->created_at = sqlite3_column_int64(s, 5);
    t->expires_at = sqlite3_column_int64(s, 6);
    return GH_OK;
}

static gh_err read_membership(sqlite3_stmt *s, struct gh_membership *m)
{
    memset(m, 0, sizeof(*m));
    if (col_text(s, 0, m->org_id, sizeof(m->org_id)) != GH_OK ||
        col_text(s, 1, m->org_name, sizeof(m->org_name)) != GH_OK ||
        col_text(s, 2, m->role_name, sizeof(m->role_name)) != GH_OK ||
        col_text(s, 3, m->permissions, sizeof(m->permissions)) != GH_OK)
        return GH_ERR_IO;
    return GH_OK;
}

/* ---- open, close, migrations ---- */

static gh_err migrate(sqlite3 *db)
{
    char *msg = NULL;
    sqlite3_stmt *s = NULL;
    gh_err err = GH_ERR_IO;
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                     NULL, NULL, &msg) != SQLITE_OK)
        goto out;
    for (size_t i = 0; i < gh_sqlite_migration_count; i++) {
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
            goto out;
        if (sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version = ?", -1, &s,
                               NULL) != SQLITE_OK)
            goto rollback;
        sqlite3_bind_int64(s, 1, (sqlite3_int64)i + 1);
        int applied = sqlite3_step(s) == SQLITE_ROW;
        sqlite3_finalize(s);
        s = NULL;
        if (!applied) {
            if (sqlite3_exec(db, gh_sqlite_migrations[i], NULL, NULL, &msg) != SQLITE_OK ||
                sqlite3_prepare_v2(db,
                                   "INSERT INTO schema_migrations (version, applied_at) "
                                   "VALUES (?, strftime('%s', 'now'))",
                                   -1, &s, NULL) != SQLITE_OK)
                goto rollback;
            sqlite3_bind_int64(s, 1, (sqlite3_int64)i + 1);
            int rc = sqlite3_step(s);
            sqlite3_finalize(s);
            s = NULL;
            if (rc != SQLITE_DONE)
                goto rollback;
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
            goto rollback;
    }
    err = GH_OK;
    goto out;
rollback:
    fprintf(stderr, "store: migration failed: %s\n", msg ? msg : sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    if (err != GH_OK && msg != NULL && s == NULL)
        fprintf(stderr, "store: %s\n", msg);
    sqlite3_free(msg);
    return err;
}

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

static gh_err open_conn(const char *path, unsigned busy_ms, sqlite3 **out)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    if (sqlite3_open_v2(path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                            SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK) {
        fprintf(stderr, "store: cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return GH_ERR_IO;
    }
    sqlite3_busy_timeout(db, (int)busy_ms);
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
                     "PRAGMA synchronous = NORMAL; PRAGMA trusted_schema = OFF;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "store: %s\n", msg ? msg : "pragma failed");
        sqlite3_free(msg);
        sqlite3_close(db);
        return GH_ERR_IO;
    }
    *out = db;
    return GH_OK;
}

static gh_err st_open(const char *path, unsigned busy_ms, struct gh_store **out)
{
    struct gh_store *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return GH_ERR_NOMEM;
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->available, NULL);
    gh_err err = GH_OK;
    for (int i = 0; i < POOL_SIZE && err == GH_OK; i++) {
        err = open_conn(path, busy_ms, &st->conns[i].db);
        if (err == GH_OK && i == 0) {
            chmod(path, 0600); /* the database holds password hashes */
            err = migrate(st->conns[0].db);
        }
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
    struct conn *c = checkout(st);
    gh_err err = run_simple(c, ST_PING);
    checkin(st, c);
    return err;
}

/* ---- users ---- */

static gh_err user_create(struct gh_store *st, const struct gh_user *u)
{
    struct conn *c = checkout(st);
    gh_err err = GH_ERR_IO;
    sqlite3_stmt *s = stmt(c, ST_USER_INSERT);
    if (s != NULL) {
        sqlite3_bind_text(s, 1, u->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, u->username, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, u->email, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, u->full_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, u->password_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, u->primary_org_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 7, u->disabled);
        sqlite3_bind_int(s, 8, u->superadmin);
        sqlite3_bind_int64(s, 9, u->token_epoch);
        sqlite3_bind_int64(s, 10, u->created_at);
        sqlite3_bind_int64(s, 11, u->updated_at);
        err = run(c, s, "user_create");
    }
    checkin(st, c);
    return err;
}

/* Runs a one-user SELECT bound to text arg. */
static gh_err user_select(struct gh_store *st, enum stmt_id id, const char *arg,
                          struct gh_user *out)
{
    struct conn *c = checkout(st);
    gh_err err = GH_ERR_IO;
    sqlite3_stmt *s = stmt(c, id);
    if (s != NULL) {
        sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            err = read_user(s, out);
        else
            err = rc == SQLITE_DONE ? GH_ERR_NOT_FOUND : fail(c, "user_select");
        sqlite3_reset(s);
    }
    checkin(st, c);
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
    struct conn *c = checkout(st);
    gh_err err = GH_ERR_IO;
    sqlite3_stmt *s = stmt(c, ST_USER_LIST);
    if (s != NULL) {
        sqlite3_bind_int64(s, 1, (sqlite3_int64)limit);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)offset);
        int rc;
        err = GH_OK;
        while (err == GH_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
            struct gh_user u;
            err = read_user(s, &u);
            sodium_memzero(u.password_hash, sizeof(u.password_hash));
            if (err == GH_OK && fn(arg, &u) != 0)
                break;
        }
        if (err == GH_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
            err = fail(c, "user_list");
        sqlite3_reset(s);
    }
    checkin(st, c);
    return err;
}

static gh_err user_count(struct gh_store *st, int64_t *out)
{
    struct conn *c = checkout(st);
    gh_err err = GH_ERR_IO;
    sqlite3_stmt *s = stmt(c, ST_USER_COUNT);
    if (s != NULL) {
        if (sqlite3_step(s) == SQLITE_ROW) {
            *out = sqlite3_column_int64(s, 0);
            err = GH_OK;
        } else {
            err = fail(c, "user_count");
        }
        sqlite3_reset(s);
    }
    checkin(st, c);
    return err;
}

/* Inside a transaction: increments the epoch, revokes refresh tokens, reads the epoch. */
static gh_err revoke_user(struct conn *c, const char *id, int64_t now, int64_t *epoch)
{
    sqlite3_stmt *s = stmt(c, ST_USER_BUMP_EPOCH);
    if (s == NULL)
        return GH_ERR_IO;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    gh_err err = run(c, s, "bump_epoch");
    if (err != GH_OK)
        return err;
    if (sqlite3_changes(c->db) == 0)
        return GH_ERR_NOT_FOUND;
    if ((s = stmt(c, ST_REFRESH_REVOKE_USER)) == NULL)
        return GH_ERR_IO;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    if ((err = run(c, s, "revoke_user")) != GH_OK)
        return err;
    if ((s = stmt(c, ST_REVOCATION_INSERT)) == NULL)
        return GH_ERR_IO;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    if ((err = run(c, s, "revocation_insert")) != GH_OK)
        return err;
    if ((s = stmt(c, ST_USER_EPOCH)) == NULL)
        return GH_ERR_IO;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return fail(c, "read_epoch");
    }
    *epoch = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return GH_OK;
}

/* One transaction: an optional column update (stmt with ?1 value, ?2 now, ?3 id), then
 * optionally the revocation of every token of the user. */
static gh_err user_update(struct gh_store *st, enum stmt_id id, const char *text, int number,
                          const char *user_id, int revoke, int64_t now, int64_t *epoch)
{
    struct conn *c = checkout(st);
    gh_err err = begin(c);
    int64_t e = 0;
    if (err == GH_OK && id != ST_COUNT) {
        sqlite3_stmt *s = stmt(c, id);
        if (s == NULL) {
            err = GH_ERR_IO;
        } else {
            if (text != NULL)
                sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
            else
                sqlite3_bind_int(s, 1, number);
            sqlite3_bind_int64(s, 2, now);
            sqlite3_bind_text(s, 3, user_id, -1, SQLITE_STATIC);
            err = run(c, s, "user_update");
            if (err == GH_OK && sqlite3_changes(c->db) == 0)
                err = GH_ERR_NOT_FOUND;
        }
    }
    if (err == GH_OK && revoke)
        err = revoke_user(c, user_id, now, &e);
    err = finish(c, err);
    checkin(st, c);
    if (err == GH_OK)
        *epoch = e;
    return err;
}

static gh_err user_set_password(struct gh_store *st, const char *id, const char *hash,
                                int bump_epoch, int64_t now, int64_t *new_epoch)
{
    int64_t e = 0;
    gh_err err = user_update(st, ST_USER_SET_PASSWORD, hash, 0, id, bump_epoch, now, &e);
    if (err == GH_OK)
        *new_epoch = e;
    return err;
}

static gh_err user_set_disabled(struct gh_store *st, const char *id, int disabled, int64_t now,
                                int64_t *new_epoch)
{
    return user_update(st, ST_USER_SET_DISABLED, NULL, disabled != 0, id, 1, now, new_epoch);
}

static gh_err user_revoke_all(struct gh_store *st, const char *id, int64_t now, int64_t *epoch)
{
    return user_update(st, ST_COUNT, NULL, 0, id, 1, now, epoch);
}

/* ---- orgs and memberships ---- */

static gh_err insert_role(struct conn *c, const char *org_id, const char *name, const char *perms)
{
    char id[GH_UUID_STR];
    gh_uuid_v7(id);
    sqlite3_stmt *s = stmt(c, ST_ROLE_INSERT);
    if (s == NULL)
        return GH_ERR_IO;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, org_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, perms, -1, SQLITE_STATIC);
    return run(c, s, "insert_role");
}

static gh_err org_create(struct gh_store *st, const struct gh_org *org,
                         const char *admin_permissions, const char *member_permissions)
{
    struct conn *c = checkout(st);
    gh_err err = begin(c);
    if (err == GH_OK) {
        sqlite3_stmt *s = stmt(c, ST_ORG_INSERT);
        if (s == NULL) {
            err = GH_ERR_IO;
        } else {
            sqlite3_bind_text(s, 1, org->id, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, org->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 3, org->created_at);
            err = run(c, s, "org_create");
        }
        if (err == GH_OK)
            err = insert_role(c, org->id, "admin", admin_permissions);
        if (err == GH_OK)
            err = insert_role(c, org->id, "member", member_permissions);
        err = finish(c, err);
    }
    checkin(st, c);
    return err;
}

static gh_err org_find_name(struct gh_store *st, const char *name, struct gh_org *out)
{
    struct conn *c = checkout(st);
    gh_err err = GH_ERR_IO;
    sqlite3_stmt *s = stmt(c, ST_ORG_FIND_NAME);
    if (s != NULL) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            struct gh_org o;
            memset(&o, 0, sizeof(o));
            err = col_text(s, 0, o.id, sizeof(o.id));
            if (err == GH_OK)
                err = col_text(s, 1, o.name, sizeof(o.name));
            o.created_at = sqlite3_column_int64(s, 2);
            if (err == GH_OK)
                *out = o;
        } else {
            err = rc == SQLITE_DONE ? GH_ERR_NOT_FOUND : fail(c, "org_find_name");
        }
        sqlite3_reset(s);
    }
    checkin(st, c);
    return err;
}

static gh_err member_add(struct gh_store *st, const char *org_id, const char *user_id,
                         const char *role_name, int64_t now)
{
    struct conn *c = checkout(st);
    gh_err err = GH_ERR_IO;
    sqlite3_stmt *s = stmt(c, ST_MEMBER_ADD);
    if (s != NULL) {
        sqlite3_bind_text(s, 1, org_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, role_name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, now);
        err = run(c, s, "member_add");
        if (err == GH_OK && sqlite3_changes(c->db) == 0)
            err = GH_ERR_NOT_FOUND; /* no such role in that org */
    }
    checkin(st, c);
    return err;
}

static gh_err member_get(struct gh_store *st, const char *org_id, const char *user_id,
                         struct gh_membership *out)
{
    struct conn *c = checkout(st);
    gh_err err = GH_ERR_IO;
    sqlite3_stmt *s = stmt(c, ST_MEMBER_GET);
    if (s != NULL) {
        sqlite3_bind_text(s, 1, org_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            err = read_membership(s, out);
        else
            err = rc == SQLITE_DONE ? GH_ERR_NOT_FOUND : fail(c, "member_get");
        sqlite3_reset(s);
    }
    checkin(st, c);
    return err;
}

static gh_err member_list_user(struct gh_store *st, const char *user_id,
                               struct gh_membership *out, size_t max, size_t *n)
{
    struct conn *c = checkout(st);
    gh_err err = GH_ERR_IO;
    size_t count = 0;
    sqlite3_stmt *s = stmt(c, ST_MEMBER_LIST_USER);
    if (s != NULL) {
        sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
        int rc;
        err = GH_OK;
        while (err == GH_OK && count < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
            err = read_membership(s, &out[count++]);
        if (err == GH_OK && count < max && rc != SQLITE_DONE)
            err = fail(c, "member_list_user");
        sqlite3_reset(s);
    }
    checkin(st, c);
    if (err == GH_OK)
        *n = count;
    return err;
}

/* ---- refresh tokens ---- */

static gh_err insert_refresh(struct conn *c, const struct gh_refresh_token *t)
{
    sqlite3_stmt *s = stmt(c, ST_REFRESH_INSERT);
    if (s == NULL)
        return GH_ERR_IO;
    sqlite3_bind_text(s, 1, t->id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, t->hash, GH_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, t->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, t->family_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, t->org_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, t->created_at);
    sqlite3_bind_int64(s, 7, t->expires_at);
    return run(c, s, "refresh_insert");
}

static gh_err refresh_insert(struct gh_store *st, const struct gh_refresh_token *t)
{
    struct conn *c = checkout(st);
    gh_err err = insert_refresh(c, t);
    checkin(st, c);
    return err;
}

/* Reads the token with hash into *t; *spent / *revoked tell its state. */
static gh_err get_refresh(struct conn *c, const unsigned char *hash, struct gh_refresh_token *t,
                          int *spent, int *revoked)
{
    sqlite3_stmt *s = stmt(c, ST_REFRESH_GET);
    if (s == NULL)
        return GH_ERR_IO;
    sqlite3_bind_blob(s, 1, hash, GH_HASH_LEN, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    gh_err err;
    if (rc == SQLITE_ROW) {
        err = read_refresh(s, t);
        *spent = sqlite3_column_type(s, 7) != SQLITE_NULL;
        *revoked = sqlite3_column_type(s, 8) != SQLITE_NULL;
    } else {
        err = rc == SQLITE_DONE ? GH_ERR_NOT_FOUND : fail(c, "refresh_get");
    }
    sqlite3_reset(s);
    return err;
}

static gh_err refresh_rotate(struct gh_store *st, const unsigned char old_hash[GH_HASH_LEN],
                             struct gh_refresh_token *next, int64_t now,
                             struct gh_refresh_token *spent)
{
    struct gh_refresh_token old;
    int was_spent = 0, was_revoked = 0;
    struct conn *c = checkout(st);
    gh_err err = begin(c);
    if (err != GH_OK)
        goto out;

    sqlite3_stmt *s = stmt(c, ST_REFRESH_SPEND);
    if (s == NULL) {
        err = GH_ERR_IO;
        goto done;
    }
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_blob(s, 2, old_hash, GH_HASH_LEN, SQLITE_STATIC);
    if ((err = run(c, s, "refresh_spend")) != GH_OK)
        goto done;
    int won = sqlite3_changes(c->db) == 1;
    if ((err = get_refresh(c, old_hash, &old, &was_spent, &was_revoked)) != GH_OK)
        goto done;
    if (won) {
        memcpy(next->user_id, old.user_id, sizeof(next->user_id));
        memcpy(next->family_id, old.family_id, sizeof(next->family_id));
        memcpy(next->org_id, old.org_id, sizeof(next->org_id));
        err = insert_refresh(c, next);
    } else if (was_revoked) {
        err = GH_ERR_REVOKED;
    } else if (was_spent) {
        /* Reuse: someone holds a copy. End the family, the legitimate holder included. */
        s = stmt(c, ST_REFRESH_REVOKE_FAMILY);
        if (s == NULL) {
            err = GH_ERR_IO;
            goto done;
        }
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_text(s, 2, old.family_id, -1, SQLITE_STATIC);
        if ((err = run(c, s, "revoke_family")) != GH_OK)
            goto done;
        if ((err = finish(c, GH_OK)) == GH_OK) {
            *spent = old;
            err = GH_ERR_REUSED;
        }
        goto out;
    } else {
        err = GH_ERR_EXPIRED;
    }
done:
    err = finish(c, err);
    if (err == GH_OK)
        *spent = old;
out:
    checkin(st, c);
    return err;
}

static gh_err refresh_revoke(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                             int64_t now, struct gh_refresh_token *out)
{
    struct gh_refresh_token t;
    int spent = 0, revoked = 0;
    struct conn *c = checkout(st);
    gh_err err = get_refresh(c, hash, &t, &spent, &revoked);
    if (err == GH_OK) {
        sqlite3_stmt *s = stmt(c, ST_REFRESH_REVOKE);
        if (s == NULL) {
            err = GH_ERR_IO;
        } else {
            sqlite3_bind_int64(s, 1, now);
            sqlite3_bind_blob(s, 2, hash, GH_HASH_LEN, SQLITE_STATIC);
            err = run(c, s, "refresh_revoke");
        }
    }
    checkin(st, c);
    if (err == GH_OK)
        *out = t;
    return err;
}

static gh_err refresh_purge(struct gh_store *st, int64_t cutoff, int64_t *n)
{
    struct conn *c = checkout(st);
    gh_err err = GH_ERR_IO;
    sqlite3_stmt *s = stmt(c, ST_REFRESH_PURGE);
    if (s != NULL) {
        sqlite3_bind_int64(s, 1, cutoff);
        err = run(c, s, "refresh_purge");
        if (err == GH_OK)
            *n = sqlite3_changes(c->db);
    }
    checkin(st, c);
    return err;
}

/* ---- audit ---- */

static gh_err audit_append(struct gh_store *st, const struct gh_audit_event *ev)
{
    struct conn *c = checkout(st);
    gh_err err = GH_ERR_IO;
    sqlite3_stmt *s = stmt(c, ST_AUDIT_INSERT);
    if (s != NULL) {
        sqlite3_bind_int64(s, 1, ev->ts);
        sqlite3_bind_text(s, 2, ev->action, -1, SQLITE_STATIC);
        bind_text(s, 3, ev->user_id);
        bind_text(s, 4, ev->username);
        bind_text(s, 5, ev->org_id);
        bind_text(s, 6, ev->resource_type);
        bind_text(s, 7, ev->resource_id);
        bind_text(s, 8, ev->ip_address);
        bind_text(s, 9, ev->user_agent);
        bind_text(s, 10, ev->method);
        bind_text(s, 11, ev->path);
        if (ev->status != 0)
            sqlite3_bind_int(s, 12, ev->status);
        bind_text(s, 13, ev->metadata_json);
        err = run(c, s, "audit_append");
    }
    checkin(st, c);
    return err;
}

/* ---- revocation feed ---- */

static gh_err revocation_feed(struct gh_store *st, int64_t after, int64_t purge_before,
                              void (*fn)(void *arg, const char *user_id), void *arg,
                              int64_t *last)
{
    struct conn *c = checkout(st);
    gh_err err = GH_ERR_IO;
    int64_t seq = after;
    sqlite3_stmt *s = stmt(c, after < 0 ? ST_REVOCATION_LAST : ST_REVOCATION_SINCE);
    if (s == NULL)
        goto out;
    if (after >= 0)
        sqlite3_bind_int64(s, 1, after);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        seq = sqlite3_column_int64(s, 0);
        if (after >= 0)
            fn(arg, (const char *)sqlite3_column_text(s, 1));
    }
    err = rc == SQLITE_DONE ? GH_OK : fail(c, "revocation_feed");
    sqlite3_reset(s);
    if (err == GH_OK && purge_before > 0 && (s = stmt(c, ST_REVOCATION_PURGE)) != NULL) {
        sqlite3_bind_int64(s, 1, purge_before);
        err = run(c, s, "revocation_purge");
    }
out:
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
    .refresh_insert = refresh_insert,
    .refresh_rotate = refresh_rotate,
    .refresh_revoke = refresh_revoke,
    .refresh_purge = refresh_purge,
    .revocation_feed = revocation_feed,
    .audit_append = audit_append,
};

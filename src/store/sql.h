#ifndef GH_STORE_SQL_H
#define GH_STORE_SQL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store/sql_stmt.h"
#include "store/store.h"

/*
 * Private to the SQL backends (SQLite, PostgreSQL). The ops are written once, by domain
 * (sql_<domain>.c), against this engine: a bounded pool of connections, transactions, and
 * the one way of running a statement: bind a list of arguments (SQ_ARGS), run, and map each
 * row through the row type's column table (struct sq_row). An engine is a driver (struct
 * sq_driver: sqlite.c, pg.c) with the text of every statement in its dialect; the domain
 * files only say which statement, which arguments, which row type.
 */

/* The most connections a pool holds (a driver's pool_size is at most this). */
#define POOL_MAX 32
/* A failed write (disk full, I/O error) keeps the store unready this long (sq_ping). */
#define WRITE_FAIL_WINDOW 10

struct sq_driver;

struct conn {
    const struct sq_driver *drv;
    void *h;                       /* the driver's connection */
    _Atomic int64_t *write_failed; /* the pool's: when a write last failed with an I/O error */
};

struct gh_store {
    const struct sq_driver *drv;
    struct conn *pinned;    /* a transaction (tx_begin): every op runs on it, NULL: the pool */
    struct gh_store *owner; /* a transaction: the store whose pool lent pinned */
    pthread_mutex_t lock;
    pthread_cond_t available; /* signalled when a connection is checked in */
    unsigned wait_ms;         /* the busy timeout, also the bound on waiting for a connection */
    int nconns;
    int nidle;
    int idle[POOL_MAX]; /* stack of idle connection indexes */
    struct conn conns[POOL_MAX];
    _Atomic int64_t write_failed; /* monotonic seconds of the last failed write, 0: none */
};

/* ---- connections and transactions ---- */

/** An idle connection of st (st's own in a transaction), waiting at most the busy timeout:
 * GH_ERR_BUSY past that. */
gh_err sq_checkout(struct gh_store *st, struct conn **out);
/** Gives c back to st's pool (nothing in a transaction). */
void sq_checkin(struct gh_store *st, struct conn *c);
/** A connection of st in a write transaction: checked out, then ST_BEGIN and ST_WRITE_LOCK
 * (st a transaction: its connection, and the op joins its transaction). */
gh_err sq_enter(struct gh_store *st, struct conn **out);
/** The same with lock (ST_WRITE_LOCK, ST_AUDIT_LOCK) as the lock taken after ST_BEGIN. */
gh_err sq_enter_locked(struct gh_store *st, enum sq_stmt lock, struct conn **out);
/** Ends what sq_enter began: commits when err is GH_OK or GH_ERR_REUSED (a detected reuse
 * must persist the family's revocation), else rolls back (st a transaction: tx_end
 * decides), then checks c back in. Returns err, or the commit's own failure. */
gh_err sq_leave(struct gh_store *st, struct conn *c, gh_err err);

/* ---- statements: arguments ---- */

enum sq_kind {
    SQ_NONE,  /* left unbound: NULL */
    SQ_TEXT,  /* a C string, NULL binds NULL */
    SQ_OPT,   /* a C string, NULL or "" binds NULL */
    SQ_FIELD, /* a fixed-size record field: one without its NUL is refused (GH_ERR_INVALID) */
    SQ_INT,
    SQ_BLOB
};
struct sq_arg {
    enum sq_kind kind;
    const void *p;
    size_t n;
    int64_t i;
};
#define SQ_T(v) ((struct sq_arg){SQ_TEXT, (v), 0, 0})
#define SQ_O(v) ((struct sq_arg){SQ_OPT, (v), 0, 0})
#define SQ_F(field) ((struct sq_arg){SQ_FIELD, (field), sizeof(field), 0})
#define SQ_I(v) ((struct sq_arg){SQ_INT, NULL, 0, (int64_t)(v)})
#define SQ_B(p, len) ((struct sq_arg){SQ_BLOB, (p), (len), 0})
#define SQ_NULL ((struct sq_arg){SQ_NONE, NULL, 0, 0})
/* Bound to ?1, ?2, ... in order. */
#define SQ_ARGS(...)                                                                               \
    (const struct sq_arg[]){__VA_ARGS__},                                                          \
        sizeof((const struct sq_arg[]){__VA_ARGS__}) / sizeof(struct sq_arg)
#define SQ_NOARGS NULL, 0

/** A size_t bound as an SQL integer (LIMIT, OFFSET), clamped. */
int64_t sq_clamp(size_t n);

/* ---- drivers ---- */

/** A value bound to a statement, as the engine hands it to a driver (checked already). */
enum sq_val_kind { SQ_VAL_NULL, SQ_VAL_TEXT, SQ_VAL_INT, SQ_VAL_BLOB };
struct sq_val {
    enum sq_val_kind kind;
    const void *p; /* text: NUL-terminated; blob: n bytes */
    size_t n;
    int64_t i;
};

/** The current row of a running statement, read through its driver's accessors. */
struct sq_cursor {
    const struct sq_driver *drv;
    void *impl; /* the driver's statement or result */
    int row;
};

/** Called for each row of a statement; non-zero stops the statement. */
typedef int (*sq_row_fn)(void *ctx, const struct sq_cursor *cur);

/** One SQL engine: how to connect, run a statement by name and read its rows. */
struct sq_driver {
    const char *name;
    const char *const *sql; /* [ST_COUNT] in the engine's dialect; NULL: nothing to run */
    int pool_size;          /* connections per store, at most POOL_MAX */
    /* One connection to dsn, with busy_ms as its lock wait; the first of a store (migrate)
     * also applies the pending migrations. Failures log one "store:" line, never the dsn. */
    gh_err (*connect)(const char *dsn, unsigned busy_ms, int migrate, void **h);
    void (*disconnect)(void *h);
    /* Runs sql[id] with args on c, calling row(ctx, cur) for each row until it returns
     * non-zero; *changes (may be NULL) gets how many rows it changed. Errors are mapped as
     * store.h says (unique violation GH_ERR_CONFLICT, a missing reference GH_ERR_NOT_FOUND,
     * lock wait GH_ERR_BUSY) and the unexpected ones logged, with what naming the step. */
    gh_err (*exec)(struct conn *c, enum sq_stmt id, const struct sq_val *args, size_t n,
                   sq_row_fn row, void *ctx, int64_t *changes, const char *what);
    /* Runs sql, a constant text that is not one of sql[] (the copier's, sql_copy.c), as
     * exec does, without a count of changes. */
    gh_err (*run_text)(struct conn *c, const char *sql, const struct sq_val *args, size_t n,
                       sq_row_fn row, void *ctx, const char *what);
    /* Begins a read-only transaction that sees one snapshot and takes no write lock. */
    const char *snapshot;
    /* Whether c is inside a transaction (a failure may already have ended it). */
    int (*in_tx)(struct conn *c);
    /* The columns of a row: NULL, an integer (a boolean is 0 or 1), text or a blob
     * (NULL when the value is NULL; text is NUL-terminated), the column's name. */
    int (*col_null)(const struct sq_cursor *cur, int col);
    enum sq_val_kind (*col_kind)(const struct sq_cursor *cur, int col);
    int64_t (*col_i64)(const struct sq_cursor *cur, int col);
    const char *(*col_text)(const struct sq_cursor *cur, int col, size_t *n);
    const void *(*col_blob)(const struct sq_cursor *cur, int col, size_t *n);
};

/** For a driver: a write failed with an I/O error (disk full...): /readyz says so (sq_ping). */
void sq_write_failed(struct conn *c);

/** Opens a store of drv on dsn: its pool, the first connection migrating (store.h open). */
gh_err sq_open(const struct sq_driver *drv, const char *dsn, unsigned busy_timeout_ms,
               struct gh_store **out);

/* Column reads for a row type's read function. */
static inline int64_t sq_col_i64(const struct sq_cursor *cur, int col)
{
    return cur->drv->col_i64(cur, col);
}
static inline const char *sq_col_text(const struct sq_cursor *cur, int col)
{
    size_t n;
    return cur->drv->col_text(cur, col, &n);
}
/** Copies a blob column of exactly size bytes into dst; 0 when it is NULL or another size
 * (dst is then unchanged). */
int sq_col_exact(const struct sq_cursor *cur, int col, void *dst, size_t size);

/* ---- statements: rows ---- */

enum sq_col_kind {
    SQ_COL_TEXT,    /* into a char[size]: too long or holding a NUL is GH_ERR_IO */
    SQ_COL_INT,     /* into an int */
    SQ_COL_I64,     /* into an int64_t */
    SQ_COL_HASH,    /* a GH_HASH_LEN blob; any other size is a damaged row (GH_ERR_IO) */
    SQ_COL_NOTNULL, /* into an int: 1 when the column is not NULL */
};
struct sq_col {
    enum sq_col_kind kind;
    int col;    /* the column of the SELECT */
    size_t off; /* the field of the struct */
    size_t size;
};
#define SQ_COL(kind, col, type, field)                                                             \
    {                                                                                              \
        kind, col, offsetof(type, field), sizeof(((type *)0)->field)                               \
    }

/** How one statement's row maps to a struct: by its column table, or by read. */
struct sq_row {
    const char *what; /* names the row in a log line */
    size_t size;      /* of the struct */
    const struct sq_col *cols;
    size_t ncols;
    gh_err (*read)(const struct sq_cursor *cur, void *out); /* instead of cols (NULL: cols) */
    int (*call)(void *fn, void *arg, const void *row);      /* calls a list op's visit fn */
};
#define SQ_ROW(what, type, cols, call)                                                             \
    {                                                                                              \
        what, sizeof(type), cols, sizeof(cols) / sizeof(cols[0]), NULL, call                       \
    }

/* The row types, each defined beside its domain. */
extern const struct sq_row sq_row_user, sq_row_credentials, sq_row_org, sq_row_membership,
    sq_row_role, sq_row_member, sq_row_name, sq_row_invitation, sq_row_refresh, sq_row_api_key,
    sq_row_audit, sq_row_checkpoint, sq_row_int64;

/* Defines name, the sq_row.call of rows visited by a fn_type. */
#define SQ_CALL(name, fn_type)                                                                     \
    static int name(void *fn, void *arg, const void *row)                                          \
    {                                                                                              \
        return ((fn_type)fn)(arg, row);                                                            \
    }

/* A visit function through a void pointer (list ops take typed ones; sq_row.call casts
 * back). */
#define SQ_FN(f) ((void *)(uintptr_t)(f))

/* ---- statements: running ---- */

/** Binds args to statement id, runs it to its end (rows ignored); *changes (may be NULL)
 * gets how many rows it changed. */
gh_err sq_run(struct conn *c, enum sq_stmt id, const struct sq_arg *args, size_t n,
              int64_t *changes);
/** Binds args, reads the first row into out as row says (out is written on GH_OK only):
 * GH_ERR_NOT_FOUND no row. */
gh_err sq_one(struct conn *c, enum sq_stmt id, const struct sq_arg *args, size_t n,
              const struct sq_row *row, void *out);
/** Binds args and calls row->call(fn, arg, row) for each row until it returns non-zero. */
gh_err sq_each(struct conn *c, enum sq_stmt id, const struct sq_arg *args, size_t n,
               const struct sq_row *row, void *fn, void *arg);
/** One count(*) or RETURNING integer: a missing row is GH_ERR_INTERNAL. */
gh_err sq_int(struct conn *c, enum sq_stmt id, const struct sq_arg *args, size_t n, int64_t *out);

/* The same on a connection of st, checked out and back in around the one statement. */
gh_err sq_st_run(struct gh_store *st, enum sq_stmt id, const struct sq_arg *args, size_t n,
                 int64_t *changes);
gh_err sq_st_one(struct gh_store *st, enum sq_stmt id, const struct sq_arg *args, size_t n,
                 const struct sq_row *row, void *out);
gh_err sq_st_each(struct gh_store *st, enum sq_stmt id, const struct sq_arg *args, size_t n,
                  const struct sq_row *row, void *fn, void *arg);

/** Inside a transaction: appends user_id to the revocation feed. */
gh_err sq_feed(struct conn *c, const char *user_id, int64_t now);
/** Inside a transaction: increments the user's epoch, revokes every refresh token and
 * session of the user and appends to the feed. *epoch gets the new epoch. */
gh_err sq_revoke_user(struct conn *c, const char *id, int64_t now, int64_t *epoch);

/* ---- the ops, by domain (sql_<domain>.c); each backend's table is in its driver ---- */

gh_err sq_datakey_add(struct gh_store *st, const struct gh_data_key *key);
gh_err sq_datakey_list(struct gh_store *st, gh_data_key_visit_fn fn, void *arg);
gh_err sq_sso_provider_create(struct gh_store *st, const struct gh_sso_provider *p);
gh_err sq_sso_provider_get(struct gh_store *st, const char *name, struct gh_sso_provider *out);
gh_err sq_sso_provider_list(struct gh_store *st, size_t limit, size_t offset,
                            gh_sso_provider_visit_fn fn, void *arg);
gh_err sq_sso_provider_update(struct gh_store *st, const struct gh_sso_provider *p);
gh_err sq_sso_provider_delete(struct gh_store *st, const char *name);
gh_err sq_sso_link_add(struct gh_store *st, const struct gh_sso_link *l);
gh_err sq_sso_link_find(struct gh_store *st, const char *provider, const char *subject,
                        struct gh_sso_link *out);
gh_err sq_sso_link_list(struct gh_store *st, const char *user_id, gh_sso_link_visit_fn fn,
                        void *arg);
gh_err sq_sso_link_touch(struct gh_store *st, const char *id, int64_t now);
gh_err sq_sso_link_delete(struct gh_store *st, const char *user_id, const char *id);
gh_err sq_sso_state_add(struct gh_store *st, const struct gh_sso_state *s);
gh_err sq_sso_state_take(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                         struct gh_sso_state *out);
gh_err sq_block_add(struct gh_store *st, const struct gh_address_block *b, int64_t now);
gh_err sq_block_remove(struct gh_store *st, const char *id, struct gh_address_block *out);
gh_err sq_block_list(struct gh_store *st, int64_t now, size_t limit, size_t offset,
                     gh_block_visit_fn fn, void *arg);
gh_err sq_block_epoch(struct gh_store *st, int64_t *out);
extern const struct gh_store_block_ops sq_block_ops;
gh_err sq_vault_insert(struct gh_store *st, const struct gh_vault_entry *e);
gh_err sq_vault_latest(struct gh_store *st, const char *org_id, const char *name,
                       struct gh_vault_entry *out);
gh_err sq_vault_list(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                     gh_vault_item_visit_fn fn, void *arg);
gh_err sq_vault_delete(struct gh_store *st, const char *org_id, const char *name);
gh_err sq_vault_scan(struct gh_store *st, int64_t key_id, size_t limit, gh_vault_entry_visit_fn fn,
                     void *arg, int64_t *total);
gh_err sq_vault_rekey(struct gh_store *st, const struct gh_vault_entry *e, int64_t old_key_id);
void sq_close(struct gh_store *st);
gh_err sq_ping(struct gh_store *st);
gh_err sq_tx_begin(struct gh_store *st, struct gh_store **tx);
gh_err sq_tx_end(struct gh_store *tx, gh_err err);
gh_err sq_user_create(struct gh_store *st, const struct gh_user *u, const char *password_hash);
gh_err sq_user_get(struct gh_store *st, const char *id, struct gh_user *out);
gh_err sq_user_find_login(struct gh_store *st, const char *login, struct gh_user *out);
gh_err sq_user_get_credentials(struct gh_store *st, const char *id, struct gh_credentials *out);
gh_err sq_user_list(struct gh_store *st, size_t limit, size_t offset, gh_user_visit_fn fn,
                    void *arg);
gh_err sq_user_list_org(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                        gh_user_visit_fn fn, void *arg);
gh_err sq_user_count(struct gh_store *st, int64_t *out);
gh_err sq_user_update(struct gh_store *st, const struct gh_user *u, int revoke, int64_t now);
gh_err sq_user_set_password(struct gh_store *st, const char *id, const char *hash, int bump_epoch,
                            int64_t now, int64_t *new_epoch);
gh_err sq_user_set_disabled(struct gh_store *st, const char *id, int disabled, int64_t now,
                            int64_t *new_epoch);
gh_err sq_user_revoke_all(struct gh_store *st, const char *id, int64_t now, int64_t *new_epoch);
gh_err sq_user_set_primary_org(struct gh_store *st, const char *user_id, const char *org_id);
gh_err sq_user_primary_reassign(struct gh_store *st, const char *org_id, const char *user_id);
gh_err sq_user_delete(struct gh_store *st, const char *id, int64_t now);
gh_err sq_org_create(struct gh_store *st, const struct gh_org *org, const char *admin_permissions,
                     const char *member_permissions);
gh_err sq_org_get(struct gh_store *st, const char *id, struct gh_org *out);
gh_err sq_org_find_name(struct gh_store *st, const char *name, struct gh_org *out);
gh_err sq_org_list(struct gh_store *st, const char *user_id, size_t limit, size_t offset,
                   gh_org_visit_fn fn, void *arg);
gh_err sq_org_rename(struct gh_store *st, const char *id, const char *name);
gh_err sq_org_delete(struct gh_store *st, const char *id, int64_t now, gh_affected_fn affected,
                     void *arg);
gh_err sq_role_list(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                    gh_role_visit_fn fn, void *arg);
gh_err sq_role_get(struct gh_store *st, const char *org_id, const char *role_id,
                   struct gh_role *out);
gh_err sq_role_create(struct gh_store *st, const struct gh_role *role);
gh_err sq_role_update(struct gh_store *st, const char *org_id, const char *role_id,
                      const char *name, const char *permissions, int64_t now,
                      gh_affected_fn affected, void *arg);
gh_err sq_role_delete(struct gh_store *st, const char *org_id, const char *role_id);
gh_err sq_member_add(struct gh_store *st, const char *org_id, const char *user_id,
                     const char *role_name, int64_t now);
gh_err sq_member_get(struct gh_store *st, const char *org_id, const char *user_id,
                     struct gh_membership *out);
gh_err sq_member_list_user(struct gh_store *st, const char *user_id, struct gh_membership *out,
                           size_t max, size_t *n);
gh_err sq_member_list_org(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                          gh_member_visit_fn fn, void *arg);
gh_err sq_member_count_admins(struct gh_store *st, const char *org_id, int64_t *n);
gh_err sq_member_set_role(struct gh_store *st, const char *org_id, const char *user_id,
                          const char *role_name, int64_t now);
gh_err sq_member_remove(struct gh_store *st, const char *org_id, const char *user_id, int64_t now);
gh_err sq_member_fallback(struct gh_store *st, const char *org_id, const char *fallback_org_id,
                          int64_t now, int64_t *n);
gh_err sq_invitation_create(struct gh_store *st, const struct gh_invitation *inv,
                            const char *user_id, const char *invited_by);
gh_err sq_invitation_list_org(struct gh_store *st, const char *org_id, int64_t now, size_t limit,
                              size_t offset, gh_invitation_visit_fn fn, void *arg);
gh_err sq_invitation_list_user(struct gh_store *st, const char *user_id, int64_t now, size_t limit,
                               size_t offset, gh_invitation_visit_fn fn, void *arg);
gh_err sq_invitation_accept(struct gh_store *st, const char *user_id, const char *id, int64_t now,
                            struct gh_invitation *out);
gh_err sq_invitation_decline(struct gh_store *st, const char *user_id, const char *id, int64_t now);
gh_err sq_invitation_revoke(struct gh_store *st, const char *org_id, const char *id, int64_t now);
gh_err sq_invitation_purge(struct gh_store *st, int64_t cutoff, int64_t *n);
gh_err sq_perm_add(struct gh_store *st, const char *name, int64_t now);
gh_err sq_perm_list(struct gh_store *st, gh_name_visit_fn fn, void *arg);
gh_err sq_refresh_get(struct gh_store *st, const unsigned char hash[GH_HASH_LEN], int64_t now,
                      struct gh_refresh_token *out);
gh_err sq_refresh_insert(struct gh_store *st, const struct gh_refresh_token *t);
gh_err sq_refresh_rotate(struct gh_store *st, const unsigned char old_hash[GH_HASH_LEN],
                         struct gh_refresh_token *next, int64_t now,
                         struct gh_refresh_token *spent);
gh_err sq_refresh_revoke(struct gh_store *st, const unsigned char hash[GH_HASH_LEN], int64_t now,
                         struct gh_refresh_token *out);
gh_err sq_refresh_revoke_org(struct gh_store *st, const char *org_id, const char *user_id,
                             int64_t now);
gh_err sq_refresh_purge(struct gh_store *st, int64_t cutoff, int64_t *n);
gh_err sq_apikey_create(struct gh_store *st, const struct gh_api_key *key);
gh_err sq_apikey_find_hash(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                           struct gh_api_key *out);
gh_err sq_apikey_list_user(struct gh_store *st, const char *user_id, size_t limit, size_t offset,
                           gh_api_key_visit_fn fn, void *arg);
gh_err sq_apikey_revoke(struct gh_store *st, const char *user_id, const char *id, int64_t now,
                        int64_t *n);
gh_err sq_apikey_revoke_org(struct gh_store *st, const char *org_id, const char *user_id,
                            int64_t now);
gh_err sq_apikey_touch(struct gh_store *st, const struct gh_api_key_use *uses, size_t n);
gh_err sq_session_create(struct gh_store *st, const struct gh_session *s);
gh_err sq_session_get(struct gh_store *st, const unsigned char hash[GH_HASH_LEN], int64_t now,
                      struct gh_session *out);
gh_err sq_session_list(struct gh_store *st, const char *user_id, int64_t now, size_t limit,
                       size_t offset, gh_session_visit_fn fn, void *arg);
gh_err sq_session_touch(struct gh_store *st, const char *id, int64_t at);
gh_err sq_session_revoke(struct gh_store *st, const char *user_id, const char *id, int64_t now);
gh_err sq_session_reauth(struct gh_store *st, const char *user_id, const char *id, int64_t at);
gh_err sq_session_purge(struct gh_store *st, int64_t cutoff, int64_t *n);
gh_err sq_mfa_get(struct gh_store *st, const char *user_id, struct gh_mfa *out);
gh_err sq_mfa_put(struct gh_store *st, const struct gh_mfa *m);
gh_err sq_mfa_enable(struct gh_store *st, const char *user_id, int64_t step,
                     const unsigned char codes[GH_BACKUP_CODES][GH_HASH_LEN]);
gh_err sq_mfa_use_step(struct gh_store *st, const char *user_id, int64_t step);
gh_err sq_mfa_use_backup(struct gh_store *st, const char *user_id,
                         const unsigned char hash[GH_HASH_LEN], int64_t now, int64_t *left);
gh_err sq_mfa_delete(struct gh_store *st, const char *user_id);
gh_err sq_mfa_challenge_add(struct gh_store *st, const struct gh_mfa_challenge *c);
gh_err sq_mfa_challenge_get(struct gh_store *st, const unsigned char hash[GH_HASH_LEN], int64_t now,
                            struct gh_mfa_challenge *out);
gh_err sq_mfa_challenge_spend(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                              int64_t now);
gh_err sq_revocation_feed(struct gh_store *st, int64_t after, int64_t purge_before,
                          void (*fn)(void *arg, const char *user_id), void *arg, int64_t *last);
gh_err sq_audit_append(struct gh_store *st, const struct gh_audit_event *evs, size_t n,
                       gh_audit_hash_fn hash, struct gh_audit_head *head);
gh_err sq_audit_head(struct gh_store *st, struct gh_audit_head *out);
gh_err sq_audit_list(struct gh_store *st, const struct gh_audit_filter *f, size_t limit,
                     size_t offset, gh_audit_visit_fn fn, void *arg);
gh_err sq_audit_scan(struct gh_store *st, int64_t after, gh_audit_visit_fn fn, void *arg);
gh_err sq_checkpoint_add(struct gh_store *st, const struct gh_audit_checkpoint *cp);
gh_err sq_checkpoint_list(struct gh_store *st, gh_checkpoint_visit_fn fn, void *arg);
gh_err sq_audit_purge(struct gh_store *st, int64_t cutoff, int64_t *n);

/* Every op but name and open: a backend's table is {.name, .open, SQ_OPS_COMMON}. */
#define SQ_OPS_COMMON                                                                              \
    .close = sq_close, .ping = sq_ping, .tx_begin = sq_tx_begin, .tx_end = sq_tx_end,              \
    .user_create = sq_user_create, .user_get = sq_user_get, .user_find_login = sq_user_find_login, \
    .user_get_credentials = sq_user_get_credentials, .user_list = sq_user_list,                    \
    .user_list_org = sq_user_list_org, .user_count = sq_user_count, .user_update = sq_user_update, \
    .user_set_password = sq_user_set_password, .user_set_disabled = sq_user_set_disabled,          \
    .user_revoke_all = sq_user_revoke_all, .user_set_primary_org = sq_user_set_primary_org,        \
    .user_primary_reassign = sq_user_primary_reassign, .user_delete = sq_user_delete,              \
    .org_create = sq_org_create, .org_get = sq_org_get, .org_find_name = sq_org_find_name,         \
    .org_list = sq_org_list, .org_rename = sq_org_rename, .org_delete = sq_org_delete,             \
    .role_list = sq_role_list, .role_get = sq_role_get, .role_create = sq_role_create,             \
    .role_update = sq_role_update, .role_delete = sq_role_delete, .member_add = sq_member_add,     \
    .member_get = sq_member_get, .member_list_user = sq_member_list_user,                          \
    .member_list_org = sq_member_list_org, .member_count_admins = sq_member_count_admins,          \
    .member_set_role = sq_member_set_role, .member_remove = sq_member_remove,                      \
    .member_fallback = sq_member_fallback, .invitation_create = sq_invitation_create,              \
    .invitation_list_org = sq_invitation_list_org,                                                 \
    .invitation_list_user = sq_invitation_list_user, .invitation_accept = sq_invitation_accept,    \
    .invitation_decline = sq_invitation_decline, .invitation_revoke = sq_invitation_revoke,        \
    .invitation_purge = sq_invitation_purge, .perm_add = sq_perm_add, .perm_list = sq_perm_list,   \
    .refresh_get = sq_refresh_get, .refresh_insert = sq_refresh_insert,                            \
    .refresh_rotate = sq_refresh_rotate, .refresh_revoke = sq_refresh_revoke,                      \
    .refresh_revoke_org = sq_refresh_revoke_org, .refresh_purge = sq_refresh_purge,                \
    .apikey_create = sq_apikey_create, .apikey_find_hash = sq_apikey_find_hash,                    \
    .apikey_list_user = sq_apikey_list_user, .apikey_revoke = sq_apikey_revoke,                    \
    .apikey_revoke_org = sq_apikey_revoke_org, .apikey_touch = sq_apikey_touch,                    \
    .session_create = sq_session_create, .session_get = sq_session_get,                            \
    .session_list = sq_session_list, .session_touch = sq_session_touch,                            \
    .session_revoke = sq_session_revoke, .session_purge = sq_session_purge, .mfa_get = sq_mfa_get, \
    .mfa_put = sq_mfa_put, .mfa_enable = sq_mfa_enable, .mfa_use_step = sq_mfa_use_step,           \
    .mfa_use_backup = sq_mfa_use_backup, .mfa_delete = sq_mfa_delete,                              \
    .mfa_challenge_add = sq_mfa_challenge_add, .mfa_challenge_get = sq_mfa_challenge_get,          \
    .mfa_challenge_spend = sq_mfa_challenge_spend, .revocation_feed = sq_revocation_feed,          \
    .audit_append = sq_audit_append, .audit_head = sq_audit_head, .audit_list = sq_audit_list,     \
    .audit_scan = sq_audit_scan, .checkpoint_add = sq_checkpoint_add,                              \
    .checkpoint_list = sq_checkpoint_list, .audit_purge = sq_audit_purge,                          \
    .datakey_add = sq_datakey_add, .datakey_list = sq_datakey_list,                                \
    .sso_provider_create = sq_sso_provider_create, .sso_provider_get = sq_sso_provider_get,        \
    .sso_provider_list = sq_sso_provider_list, .sso_provider_update = sq_sso_provider_update,      \
    .sso_provider_delete = sq_sso_provider_delete, .sso_link_add = sq_sso_link_add,                \
    .sso_link_find = sq_sso_link_find, .sso_link_list = sq_sso_link_list,                          \
    .sso_link_touch = sq_sso_link_touch, .sso_link_delete = sq_sso_link_delete,                    \
    .sso_state_add = sq_sso_state_add, .sso_state_take = sq_sso_state_take,                        \
    .vault_insert = sq_vault_insert, .vault_latest = sq_vault_latest, .vault_list = sq_vault_list, \
    .vault_delete = sq_vault_delete, .vault_scan = sq_vault_scan, .vault_rekey = sq_vault_rekey,   \
    .session_reauth = sq_session_reauth, .blocks = &sq_block_ops

#endif

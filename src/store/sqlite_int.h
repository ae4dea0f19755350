#ifndef GH_STORE_SQLITE_INT_H
#define GH_STORE_SQLITE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "store/sqlite_schema.h"
#include "store/store.h"

/*
 * Private to the SQLite backend's files (sqlite.c and sqlite_<domain>.c). sqlite.c keeps the
 * pool, transactions and the one way of running a statement: bind a list of arguments
 * (SQ_ARGS), step, and map each row through the row type's column table (struct sq_row).
 * The domain files only say which statement, which arguments, which row type.
 */

/* Enough for a 2-core host: WAL lets the readers run side by side, writers serialise. */
#define POOL_SIZE 4
/* A failed write (disk full, I/O error) keeps the store unready this long (sq_ping). */
#define WRITE_FAIL_WINDOW 10

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT];
    _Atomic int64_t *write_failed; /* the pool's: when a write last failed with an I/O error */
};

struct gh_store {
    struct conn *pinned;    /* a transaction (tx_begin): every op runs on it, NULL: the pool */
    struct gh_store *owner; /* a transaction: the store whose pool lent pinned */
    pthread_mutex_t lock;
    pthread_cond_t available; /* signalled when a connection is checked in */
    unsigned wait_ms;         /* the busy timeout, also the bound on waiting for a connection */
    int nidle;
    int idle[POOL_SIZE]; /* stack of idle connection indexes */
    struct conn conns[POOL_SIZE];
    _Atomic int64_t write_failed; /* monotonic seconds of the last failed write, 0: none */
};

/* ---- connections and transactions ---- */

/** An idle connection of st (st's own in a transaction), waiting at most the busy timeout:
 * GH_ERR_BUSY past that. */
gh_err sq_checkout(struct gh_store *st, struct conn **out);
/** Gives c back to st's pool (nothing in a transaction). */
void sq_checkin(struct gh_store *st, struct conn *c);
/** A connection of st in a transaction: checked out, then BEGIN IMMEDIATE (st a
 * transaction: its connection, and the op joins its transaction). */
gh_err sq_enter(struct gh_store *st, struct conn **out);
/** Ends what sq_enter began: commits when err is GH_OK or GH_ERR_REUSED (a detected reuse
 * must persist the family's revocation), else rolls back (st a transaction: tx_end
 * decides), then checks c back in. Returns err, or the commit's own failure. */
gh_err sq_leave(struct gh_store *st, struct conn *c, gh_err err);
/** Maps c's last error; unexpected ones are logged (never sent to a client). */
gh_err sq_fail(struct conn *c, const char *what);

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
    gh_err (*read)(sqlite3_stmt *s, void *out);        /* instead of cols (NULL: cols) */
    int (*call)(void *fn, void *arg, const void *row); /* calls a list op's visit fn */
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
gh_err sq_run(struct conn *c, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
              int64_t *changes);
/** Binds args, reads the first row into out as row says (out is written on GH_OK only):
 * GH_ERR_NOT_FOUND no row. */
gh_err sq_one(struct conn *c, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
              const struct sq_row *row, void *out);
/** Binds args and calls row->call(fn, arg, row) for each row until it returns non-zero. */
gh_err sq_each(struct conn *c, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
               const struct sq_row *row, void *fn, void *arg);
/** One count(*) or RETURNING integer: a missing row is GH_ERR_INTERNAL. */
gh_err sq_int(struct conn *c, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
              int64_t *out);

/* The same on a connection of st, checked out and back in around the one statement. */
gh_err sq_st_run(struct gh_store *st, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
                 int64_t *changes);
gh_err sq_st_one(struct gh_store *st, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
                 const struct sq_row *row, void *out);
gh_err sq_st_each(struct gh_store *st, enum gh_sqlite_stmt id, const struct sq_arg *args, size_t n,
                  const struct sq_row *row, void *fn, void *arg);

/** Inside a transaction: appends user_id to the revocation feed. */
gh_err sq_feed(struct conn *c, const char *user_id, int64_t now);
/** Inside a transaction: increments the user's epoch, revokes every refresh token and
 * session of the user and appends to the feed. *epoch gets the new epoch. */
gh_err sq_revoke_user(struct conn *c, const char *id, int64_t now, int64_t *epoch);

/* ---- the ops, by domain (sqlite_<domain>.c); the table is in sqlite.c ---- */

gh_err sq_open(const char *dsn, unsigned busy_timeout_ms, struct gh_store **out);
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

#endif

/*
 * Copying one SQL store into another (store.h gh_store_copy), table by table through the
 * engine: every row read from the source in one read snapshot, written to the target in
 * one transaction, its values passed through as they are (ids, hashes, the audit chain's
 * sequence numbers and hashes), so that the target holds the same records and the same
 * chain. The tables are the schema's, in an order where every row's references come
 * before it; a table added to the schema is added here.
 */
#include <stdio.h>
#include <string.h>

#include "store/sql.h"

struct table {
    const char *name;
    const char *cols; /* as in both schemas */
    size_t ncols;
    const char *key; /* the order rows are copied in */
};

/* Not copied: the revocation feed (what a running node has seen of it is its own) and
 * schema_migrations (the target's). audit_chain's one row is updated, not inserted. */
static const struct table tables[] = {
    {"orgs", "id, name, created_at", 3, "id"},
    {"users",
     "id, username, email, full_name, password_hash, primary_org_id, disabled, superadmin, "
     "token_epoch, created_at, updated_at",
     11, "id"},
    {"roles", "id, org_id, name, permissions, system", 5, "id"},
    {"memberships", "org_id, user_id, role_id, created_at", 4, "org_id, user_id"},
    {"member_epochs", "org_id, user_id, epoch", 3, "org_id, user_id"},
    {"refresh_tokens",
     "id, token_hash, user_id, family_id, org_id, created_at, expires_at, spent_at, revoked_at, "
     "auth_time",
     10, "id"},
    {"api_keys",
     "id, key_hash, prefix, user_id, org_id, name, scopes, allowed_ips, expires_at, created_at, "
     "last_used_at, last_used_ip, revoked_at",
     13, "id"},
    {"audit_events",
     "id, ts, action, user_id, username, org_id, resource_type, resource_id, ip_address, "
     "user_agent, method, path, status, metadata, prev_hash, hash",
     16, "id"},
    {"audit_checkpoints", "seq, hash, ts, signature, key_id", 5, "seq"},
    {"permissions", "name, created_at", 2, "name"},
    {"org_invitations",
     "id, org_id, user_id, role_id, invited_by, status, created_at, expires_at, answered_at", 9,
     "id"},
    {"sessions",
     "id, session_hash, user_id, org_id, family_id, method, created_at, last_seen_at, "
     "expires_at, ip_address, user_agent, revoked_at, auth_time",
     13, "id"},
    {"mfa_totp", "user_id, secret, enabled, last_step, created_at", 5, "user_id"},
    {"mfa_backup_codes", "user_id, code_hash, used_at", 3, "user_id, code_hash"},
    {"mfa_challenges", "challenge_hash, user_id, org_id, created_at, expires_at, spent_at", 6,
     "challenge_hash"},
    {"data_keys", "id, wrapped, created_at", 3, "id"},
    {"sso_providers", SSO_PROVIDER_COLS, 32, "name"},
    {"vault_entries", "org_id, name, version, key_id, sealed, created_at", 6,
     "org_id, name, version"},
    {"sso_identities", SSO_LINK_COLS, 7, "id"},
    {"address_blocks", BLOCK_COLS, 7, "id"},
};

/* The most columns a table has (the engine's most arguments to one statement). */
#define COPY_MAX_COLS 32

/* How often (rows) a table's progress is told. */
#define PROGRESS_EVERY 10000

struct copy {
    struct conn *to;
    char insert[1024];
    size_t ncols;
    const char *table;
    int64_t done, total;
    gh_store_copy_fn progress;
    void *arg;
    gh_err err;
};

/* One source row into the target, its values as the source gave them. */
static int copy_row(void *ctx, const struct sq_cursor *cur)
{
    struct copy *cp = ctx;
    struct sq_val vals[COPY_MAX_COLS];
    for (size_t i = 0; i < cp->ncols; i++) {
        struct sq_val *v = &vals[i];
        int col = (int)i;
        *v = (struct sq_val){cur->drv->col_kind(cur, col), NULL, 0, 0};
        if (v->kind == SQ_VAL_INT)
            v->i = cur->drv->col_i64(cur, col);
        else if (v->kind == SQ_VAL_TEXT)
            v->p = cur->drv->col_text(cur, col, &v->n);
        else if (v->kind == SQ_VAL_BLOB)
            v->p = cur->drv->col_blob(cur, col, &v->n);
    }
    cp->err = cp->to->drv->run_text(cp->to, cp->insert, vals, cp->ncols, NULL, NULL, cp->table);
    if (cp->err == GH_OK && ++cp->done % PROGRESS_EVERY == 0 && cp->progress != NULL)
        cp->progress(cp->arg, cp->table, cp->done, cp->total);
    return cp->err != GH_OK;
}

static int take_int(void *ctx, const struct sq_cursor *cur)
{
    *(int64_t *)ctx = cur->drv->col_i64(cur, 0);
    return 1;
}

/* The integer the one-row query sql answers on c. */
static gh_err one_int(struct conn *c, const char *sql, int64_t *out)
{
    *out = 0;
    return c->drv->run_text(c, sql, NULL, 0, take_int, out, "copy");
}

/* Copies table t from the snapshot on from into the transaction on to. Table and column
 * names come only from the constant tables[] above, never from input; row values travel
 * as $n placeholders. */
static gh_err copy_table(struct conn *from, struct conn *to, const struct table *t,
                         gh_store_copy_fn progress, void *arg)
{
    struct copy cp = {.to = to,
                      .ncols = t->ncols,
                      .table = t->name,
                      .progress = progress,
                      .arg = arg,
                      .err = GH_OK};
    char sql[1024];
    size_t n = (size_t)snprintf(cp.insert, sizeof(cp.insert), "INSERT INTO %s (%s) VALUES (",
                                t->name, t->cols);
    for (size_t i = 1; i <= t->ncols && n < sizeof(cp.insert); i++)
        n += (size_t)snprintf(cp.insert + n, sizeof(cp.insert) - n, "$%zu%s", i,
                              i < t->ncols ? ", " : ")");
    if (n >= sizeof(cp.insert) || t->ncols > COPY_MAX_COLS)
        return GH_ERR_INTERNAL;
    (void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", t->name);
    gh_err err = one_int(from, sql, &cp.total);
    if (err != GH_OK)
        return err;
    if ((size_t)snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY %s", t->cols, t->name,
                         t->key) >= sizeof(sql))
        return GH_ERR_INTERNAL;
    err = from->drv->run_text(from, sql, NULL, 0, copy_row, &cp, t->name);
    if (err == GH_OK)
        err = cp.err;
    if (err == GH_OK && progress != NULL)
        progress(arg, t->name, cp.done, cp.total);
    return err;
}

/* The audit chain's start (the records before it predate the chain). */
static gh_err copy_chain_start(struct conn *from, struct conn *to)
{
    int64_t start = 0;
    gh_err err = one_int(from, "SELECT start FROM audit_chain", &start);
    struct sq_val v = {SQ_VAL_INT, NULL, 0, start};
    if (err == GH_OK)
        err = to->drv->run_text(to, "UPDATE audit_chain SET start = $1", &v, 1, NULL, NULL,
                                "audit_chain");
    return err;
}

/* Whether the target holds no user and no audit record yet. */
static gh_err empty(struct conn *to)
{
    int64_t users = 0, records = 0;
    gh_err err = one_int(to, "SELECT count(*) FROM users", &users);
    if (err == GH_OK)
        err = one_int(to, "SELECT count(*) FROM audit_events", &records);
    return err == GH_OK && users + records > 0 ? GH_ERR_CONFLICT : err;
}

gh_err gh_store_copy(const struct gh_store_handle *from, const struct gh_store_handle *to,
                     gh_store_copy_fn progress, void *arg)
{
    struct conn *src, *dst;
    if (from->ops->ping != sq_ping || to->ops->ping != sq_ping)
        return GH_ERR_INVALID; /* not a store of the SQL engine */
    gh_err err = sq_checkout(from->st, &src);
    if (err != GH_OK)
        return err;
    if ((err = src->drv->run_text(src, src->drv->snapshot, NULL, 0, NULL, NULL, "snapshot")) !=
        GH_OK) {
        sq_checkin(from->st, src);
        return err;
    }
    if ((err = sq_enter(to->st, &dst)) == GH_OK) {
        err = empty(dst);
        for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && err == GH_OK; i++)
            err = copy_table(src, dst, &tables[i], progress, arg);
        if (err == GH_OK)
            err = copy_chain_start(src, dst);
        err = sq_leave(to->st, dst, err); /* all or nothing */
    }
    (void)src->drv->run_text(src, "ROLLBACK", NULL, 0, NULL, NULL, "snapshot");
    sq_checkin(from->st, src);
    return err;
}

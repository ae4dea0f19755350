/* The SQL backends: data keys (store.h "data keys"). */
#include <string.h>

#include "store/sql.h"

/* A row of ST_DATAKEY_LIST; a wrapped key of another size is a damaged row. */
static gh_err read_data_key(const struct sq_cursor *cur, void *out)
{
    struct gh_data_key *k = out;
    if (!sq_col_exact(cur, 1, k->wrapped, GH_WRAPPED_KEY_LEN))
        return GH_ERR_IO;
    k->id = sq_col_i64(cur, 0);
    k->created_at = sq_col_i64(cur, 2);
    return GH_OK;
}
SQ_CALL(call_data_key, gh_data_key_visit_fn)
static const struct sq_row row_data_key = {
    "a data key", sizeof(struct gh_data_key), NULL, 0, read_data_key, call_data_key};

gh_err sq_datakey_add(struct gh_store *st, const struct gh_data_key *key)
{
    return sq_st_run(
        st, ST_DATAKEY_INSERT,
        SQ_ARGS(SQ_I(key->id), SQ_B(key->wrapped, GH_WRAPPED_KEY_LEN), SQ_I(key->created_at)),
        NULL);
}

gh_err sq_datakey_list(struct gh_store *st, gh_data_key_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_DATAKEY_LIST, SQ_NOARGS, &row_data_key, SQ_FN(fn), arg);
}

/* ---- the vault ---- */

static const struct sq_col vault_item_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, struct gh_vault_item, org_id),
    SQ_COL(SQ_COL_TEXT, 1, struct gh_vault_item, name),
    SQ_COL(SQ_COL_I64, 2, struct gh_vault_item, version),
    SQ_COL(SQ_COL_I64, 3, struct gh_vault_item, updated_at),
};
SQ_CALL(call_vault_item, gh_vault_item_visit_fn)
static const struct sq_row row_vault_item =
    SQ_ROW("a vault item", struct gh_vault_item, vault_item_cols, call_vault_item);

/* A row of VAULT_COLS: the item's columns, then key_id and the sealed value (a damaged row
 * when empty or longer than any sealed value). */
static gh_err read_vault_entry(const struct sq_cursor *cur, void *out)
{
    struct gh_vault_entry *e = out;
    const char *org = sq_col_text(cur, 0), *name = sq_col_text(cur, 1);
    size_t n = 0;
    const void *sealed = cur->drv->col_blob(cur, 5, &n);
    if (org == NULL || name == NULL || strlen(org) >= sizeof(e->item.org_id) ||
        strlen(name) >= sizeof(e->item.name) || sealed == NULL || n == 0 || n > GH_VAULT_SEALED_MAX)
        return GH_ERR_IO;
    memcpy(e->item.org_id, org, strlen(org) + 1);
    memcpy(e->item.name, name, strlen(name) + 1);
    e->item.version = sq_col_i64(cur, 2);
    e->item.updated_at = sq_col_i64(cur, 3);
    e->key_id = sq_col_i64(cur, 4);
    memcpy(e->sealed, sealed, n);
    e->len = n;
    return GH_OK;
}
SQ_CALL(call_vault_entry, gh_vault_entry_visit_fn)
static const struct sq_row row_vault_entry = {
    "a vault entry", sizeof(struct gh_vault_entry), NULL, 0, read_vault_entry, call_vault_entry};

gh_err sq_vault_insert(struct gh_store *st, const struct gh_vault_entry *e)
{
    if (e->len == 0 || e->len > GH_VAULT_SEALED_MAX)
        return GH_ERR_INVALID;
    return sq_st_run(st, ST_VAULT_INSERT,
                     SQ_ARGS(SQ_F(e->item.org_id), SQ_F(e->item.name), SQ_I(e->item.version),
                             SQ_I(e->key_id), SQ_B(e->sealed, e->len), SQ_I(e->item.updated_at)),
                     NULL);
}

gh_err sq_vault_latest(struct gh_store *st, const char *org_id, const char *name,
                       struct gh_vault_entry *out)
{
    return sq_st_one(st, ST_VAULT_LATEST, SQ_ARGS(SQ_T(org_id), SQ_T(name)), &row_vault_entry, out);
}

gh_err sq_vault_list(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                     gh_vault_item_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_VAULT_LIST,
                      SQ_ARGS(SQ_T(org_id), SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset))),
                      &row_vault_item, SQ_FN(fn), arg);
}

gh_err sq_vault_delete(struct gh_store *st, const char *org_id, const char *name)
{
    int64_t n = 0;
    gh_err err = sq_st_run(st, ST_VAULT_DELETE, SQ_ARGS(SQ_T(org_id), SQ_T(name)), &n);
    return err == GH_OK && n == 0 ? GH_ERR_NOT_FOUND : err;
}

gh_err sq_vault_scan(struct gh_store *st, int64_t key_id, size_t limit, gh_vault_entry_visit_fn fn,
                     void *arg, int64_t *total)
{
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    if (total != NULL)
        err = sq_int(c, ST_VAULT_COUNT_BELOW, SQ_ARGS(SQ_I(key_id)), total);
    if (err == GH_OK)
        err = sq_each(c, ST_VAULT_SCAN, SQ_ARGS(SQ_I(key_id), SQ_I(sq_clamp(limit))),
                      &row_vault_entry, SQ_FN(fn), arg);
    sq_checkin(st, c);
    return err;
}

gh_err sq_vault_rekey(struct gh_store *st, const struct gh_vault_entry *e, int64_t old_key_id)
{
    int64_t n = 0;
    if (e->len == 0 || e->len > GH_VAULT_SEALED_MAX)
        return GH_ERR_INVALID;
    gh_err err = sq_st_run(st, ST_VAULT_REKEY,
                           SQ_ARGS(SQ_I(e->key_id), SQ_B(e->sealed, e->len), SQ_F(e->item.org_id),
                                   SQ_F(e->item.name), SQ_I(e->item.version), SQ_I(old_key_id)),
                           &n);
    return err == GH_OK && n == 0 ? GH_ERR_CONFLICT : err;
}

/* The SQL backends: data keys (store.h "data keys"). */
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

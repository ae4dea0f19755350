/* The SQLite backend: data keys (store.h "data keys"). */
#include <string.h>

#include "store/sqlite_int.h"

/* A row of ST_DATAKEY_LIST; a wrapped key of another size is a damaged row. */
static gh_err read_data_key(sqlite3_stmt *s, void *out)
{
    struct gh_data_key *k = out;
    if (sqlite3_column_bytes(s, 1) != GH_WRAPPED_KEY_LEN)
        return GH_ERR_IO;
    k->id = sqlite3_column_int64(s, 0);
    memcpy(k->wrapped, sqlite3_column_blob(s, 1), GH_WRAPPED_KEY_LEN);
    k->created_at = sqlite3_column_int64(s, 2);
    return GH_OK;
}
SQ_CALL(call_data_key, gh_data_key_visit_fn)
static const struct sq_row data_key_row = {
    "data key", sizeof(struct gh_data_key), NULL, 0, read_data_key, call_data_key};

gh_err sq_datakey_add(struct gh_store *st, const struct gh_data_key *key)
{
    return sq_st_run(
        st, ST_DATAKEY_INSERT,
        SQ_ARGS(SQ_I(key->id), SQ_B(key->wrapped, GH_WRAPPED_KEY_LEN), SQ_I(key->created_at)),
        NULL);
}

gh_err sq_datakey_list(struct gh_store *st, gh_data_key_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_DATAKEY_LIST, SQ_NOARGS, &data_key_row, SQ_FN(fn), arg);
}

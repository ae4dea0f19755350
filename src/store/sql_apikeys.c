/* The SQL backends: API keys (store.h "API keys"). */
#include "store/sql.h"

/* APIKEY_COLS; scopes NULL means the owner's permissions (has_scopes 0). */
static const struct sq_col api_key_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, struct gh_api_key, id),
    SQ_COL(SQ_COL_HASH, 1, struct gh_api_key, hash),
    SQ_COL(SQ_COL_TEXT, 2, struct gh_api_key, prefix),
    SQ_COL(SQ_COL_TEXT, 3, struct gh_api_key, user_id),
    SQ_COL(SQ_COL_TEXT, 4, struct gh_api_key, org_id),
    SQ_COL(SQ_COL_TEXT, 5, struct gh_api_key, name),
    SQ_COL(SQ_COL_NOTNULL, 6, struct gh_api_key, has_scopes),
    SQ_COL(SQ_COL_TEXT, 6, struct gh_api_key, scopes),
    SQ_COL(SQ_COL_TEXT, 7, struct gh_api_key, allowed_ips),
    SQ_COL(SQ_COL_I64, 8, struct gh_api_key, expires_at),
    SQ_COL(SQ_COL_I64, 9, struct gh_api_key, created_at),
    SQ_COL(SQ_COL_I64, 10, struct gh_api_key, last_used_at),
    SQ_COL(SQ_COL_TEXT, 11, struct gh_api_key, last_used_ip),
    SQ_COL(SQ_COL_I64, 12, struct gh_api_key, revoked_at),
};
SQ_CALL(call_api_key, gh_api_key_visit_fn)
const struct sq_row sq_row_api_key =
    SQ_ROW("an API key", struct gh_api_key, api_key_cols, call_api_key);

gh_err sq_apikey_create(struct gh_store *st, const struct gh_api_key *k)
{
    return sq_st_run(st, ST_APIKEY_INSERT,
                     SQ_ARGS(SQ_F(k->id), SQ_B(k->hash, GH_HASH_LEN), SQ_F(k->prefix),
                             SQ_F(k->user_id), SQ_F(k->org_id), SQ_F(k->name),
                             k->has_scopes ? SQ_F(k->scopes) : SQ_NULL, SQ_F(k->allowed_ips),
                             SQ_I(k->expires_at), SQ_I(k->created_at)),
                     NULL);
}

gh_err sq_apikey_find_hash(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                           struct gh_api_key *out)
{
    return sq_st_one(st, ST_APIKEY_FIND, SQ_ARGS(SQ_B(hash, GH_HASH_LEN)), &sq_row_api_key, out);
}

gh_err sq_apikey_list_user(struct gh_store *st, const char *user_id, size_t limit, size_t offset,
                           gh_api_key_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_APIKEY_LIST,
                      SQ_ARGS(SQ_T(user_id), SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset))),
                      &sq_row_api_key, SQ_FN(fn), arg);
}

gh_err sq_apikey_revoke(struct gh_store *st, const char *user_id, const char *id, int64_t now,
                        int64_t *n)
{
    int64_t revoked = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    if (id != NULL) /* answers whether it was revoked now (0: already) */
        err = sq_one(c, ST_APIKEY_REVOKE_ONE, SQ_ARGS(SQ_I(now), SQ_T(id), SQ_T(user_id)),
                     &sq_row_int64, &revoked);
    else
        err = sq_run(c, ST_APIKEY_REVOKE_ALL, SQ_ARGS(SQ_I(now), SQ_T(user_id)), &revoked);
    /* Every node drops its cached view of the user's keys through the feed. */
    if (err == GH_OK && revoked > 0)
        err = sq_feed(c, user_id, now);
    err = sq_leave(st, c, err);
    if (err == GH_OK)
        *n = revoked;
    return err;
}

gh_err sq_apikey_revoke_org(struct gh_store *st, const char *org_id, const char *user_id,
                            int64_t now)
{
    return sq_st_run(st, ST_APIKEY_REVOKE_ORG, SQ_ARGS(SQ_T(org_id), SQ_T(user_id), SQ_I(now)),
                     NULL);
}

gh_err sq_apikey_touch(struct gh_store *st, const struct gh_api_key_use *uses, size_t n)
{
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    for (size_t i = 0; i < n && err == GH_OK; i++)
        err = sq_run(c, ST_APIKEY_TOUCH,
                     SQ_ARGS(SQ_I(uses[i].at), SQ_F(uses[i].ip), SQ_F(uses[i].id)), NULL);
    err = sq_leave(st, c, err);
    return err;
}

/* The SQL backends: users (store.h "users"). */
#include <string.h>

#include "store/sql.h"

/* USER_COLS, the display columns: never the password hash. */
static const struct sq_col user_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, struct gh_user, id),
    SQ_COL(SQ_COL_TEXT, 1, struct gh_user, username),
    SQ_COL(SQ_COL_TEXT, 2, struct gh_user, email),
    SQ_COL(SQ_COL_TEXT, 3, struct gh_user, full_name),
    SQ_COL(SQ_COL_TEXT, 4, struct gh_user, primary_org_id),
    SQ_COL(SQ_COL_INT, 5, struct gh_user, disabled),
    SQ_COL(SQ_COL_INT, 6, struct gh_user, superadmin),
    SQ_COL(SQ_COL_I64, 7, struct gh_user, token_epoch),
    SQ_COL(SQ_COL_I64, 8, struct gh_user, created_at),
    SQ_COL(SQ_COL_I64, 9, struct gh_user, updated_at),
};
SQ_CALL(call_user, gh_user_visit_fn)
const struct sq_row sq_row_user = SQ_ROW("user", struct gh_user, user_cols, call_user);

static const struct sq_col credentials_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, struct gh_credentials, user_id),
    SQ_COL(SQ_COL_TEXT, 1, struct gh_credentials, password_hash),
};
const struct sq_row sq_row_credentials =
    SQ_ROW("credentials", struct gh_credentials, credentials_cols, NULL);

gh_err sq_user_create(struct gh_store *st, const struct gh_user *u, const char *password_hash)
{
    /* Never store what user_get_credentials could not read back. */
    if (strnlen(password_hash, GH_PASSWORD_HASH_LEN) >= GH_PASSWORD_HASH_LEN)
        return GH_ERR_INVALID;
    return sq_st_run(st, ST_USER_INSERT,
                     SQ_ARGS(SQ_F(u->id), SQ_F(u->username), SQ_F(u->email), SQ_F(u->full_name),
                             SQ_T(password_hash), SQ_F(u->primary_org_id), SQ_I(u->disabled != 0),
                             SQ_I(u->superadmin != 0), SQ_I(u->token_epoch), SQ_I(u->created_at),
                             SQ_I(u->updated_at)),
                     NULL);
}

gh_err sq_user_get(struct gh_store *st, const char *id, struct gh_user *out)
{
    return sq_st_one(st, ST_USER_GET, SQ_ARGS(SQ_T(id)), &sq_row_user, out);
}

gh_err sq_user_find_login(struct gh_store *st, const char *login, struct gh_user *out)
{
    return sq_st_one(st, ST_USER_FIND, SQ_ARGS(SQ_T(login)), &sq_row_user, out);
}

gh_err sq_user_get_credentials(struct gh_store *st, const char *id, struct gh_credentials *out)
{
    return sq_st_one(st, ST_USER_CREDENTIALS, SQ_ARGS(SQ_T(id)), &sq_row_credentials, out);
}

gh_err sq_user_list(struct gh_store *st, size_t limit, size_t offset, gh_user_visit_fn fn,
                    void *arg)
{
    return sq_st_each(st, ST_USER_LIST, SQ_ARGS(SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset))),
                      &sq_row_user, SQ_FN(fn), arg);
}

gh_err sq_user_list_org(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                        gh_user_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_USER_LIST_ORG,
                      SQ_ARGS(SQ_T(org_id), SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset))),
                      &sq_row_user, SQ_FN(fn), arg);
}

gh_err sq_user_count(struct gh_store *st, int64_t *out)
{
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_int(c, ST_USER_COUNT, SQ_NOARGS, out);
    sq_checkin(st, c);
    return err;
}

/* One transaction: the column update id (?1 value, ?2 now, ?3 user id, RETURNING
 * token_epoch; ST_COUNT: none), then, when revoke is set, the revocation of everything the
 * user holds. *epoch gets the resulting epoch. */
static gh_err user_change(struct gh_store *st, enum sq_stmt id, struct sq_arg value,
                          const char *user_id, int revoke, int64_t now, int64_t *epoch)
{
    int64_t e = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    if (id != ST_COUNT) /* GH_ERR_NOT_FOUND: no such user */
        err = sq_one(c, id, SQ_ARGS(value, SQ_I(now), SQ_T(user_id)), &sq_row_int64, &e);
    if (err == GH_OK && revoke)
        err = sq_revoke_user(c, user_id, now, &e);
    err = sq_leave(st, c, err);
    if (err == GH_OK)
        *epoch = e;
    return err;
}

gh_err sq_user_set_password(struct gh_store *st, const char *id, const char *hash, int bump_epoch,
                            int64_t now, int64_t *new_epoch)
{
    if (strnlen(hash, GH_PASSWORD_HASH_LEN) >= GH_PASSWORD_HASH_LEN)
        return GH_ERR_TOO_LARGE;
    return user_change(st, ST_USER_SET_PASSWORD, SQ_T(hash), id, bump_epoch, now, new_epoch);
}

gh_err sq_user_set_disabled(struct gh_store *st, const char *id, int disabled, int64_t now,
                            int64_t *new_epoch)
{
    return user_change(st, ST_USER_SET_DISABLED, SQ_I(disabled != 0), id, 1, now, new_epoch);
}

gh_err sq_user_revoke_all(struct gh_store *st, const char *id, int64_t now, int64_t *epoch)
{
    return user_change(st, ST_COUNT, SQ_NULL, id, 1, now, epoch);
}

gh_err sq_user_update(struct gh_store *st, const struct gh_user *u, int revoke, int64_t now)
{
    int64_t epoch = 0, n = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_run(c, ST_USER_UPDATE,
                 SQ_ARGS(SQ_F(u->id), SQ_F(u->full_name), SQ_F(u->email), SQ_I(u->disabled != 0),
                         SQ_I(u->superadmin != 0), SQ_I(now)),
                 &n);
    if (err == GH_OK && n == 0)
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK)
        err = revoke ? sq_revoke_user(c, u->id, now, &epoch) : sq_feed(c, u->id, now);
    err = sq_leave(st, c, err);
    return err;
}

gh_err sq_user_set_primary_org(struct gh_store *st, const char *user_id, const char *org_id)
{
    int64_t n = 0;
    gh_err err = sq_st_run(st, ST_USER_SET_PRIMARY, SQ_ARGS(SQ_T(user_id), SQ_T(org_id)), &n);
    return err == GH_OK && n == 0 ? GH_ERR_NOT_FOUND : err;
}

gh_err sq_user_primary_reassign(struct gh_store *st, const char *org_id, const char *user_id)
{
    return sq_st_run(st, ST_PRIMARY_REASSIGN, SQ_ARGS(SQ_T(org_id), SQ_T(user_id)), NULL);
}

gh_err sq_user_delete(struct gh_store *st, const char *id, int64_t now)
{
    int64_t n = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = sq_run(c, ST_USER_DELETE, SQ_ARGS(SQ_T(id)), &n)) == GH_OK && n == 0)
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK)
        err = sq_feed(c, id, now);
    err = sq_leave(st, c, err);
    return err;
}

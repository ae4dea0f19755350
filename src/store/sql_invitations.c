/* The SQL backends: invitations to an org (store.h "invitations"). */
#include "store/sql.h"

static const struct sq_col invitation_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, struct gh_invitation, id),
    SQ_COL(SQ_COL_TEXT, 1, struct gh_invitation, org_id),
    SQ_COL(SQ_COL_TEXT, 2, struct gh_invitation, org_name),
    SQ_COL(SQ_COL_TEXT, 3, struct gh_invitation, role_name),
    SQ_COL(SQ_COL_TEXT, 4, struct gh_invitation, invited_by),
    SQ_COL(SQ_COL_I64, 5, struct gh_invitation, created_at),
    SQ_COL(SQ_COL_I64, 6, struct gh_invitation, expires_at),
};
SQ_CALL(call_invitation, gh_invitation_visit_fn)
const struct sq_row sq_row_invitation =
    SQ_ROW("invitation", struct gh_invitation, invitation_cols, call_invitation);

gh_err sq_invitation_create(struct gh_store *st, const struct gh_invitation *inv,
                            const char *user_id, const char *invited_by)
{
    int64_t n = 0;
    gh_err err =
        sq_st_run(st, ST_INVITATION_INSERT,
                  SQ_ARGS(SQ_F(inv->id), SQ_F(inv->org_id), SQ_O(user_id), SQ_F(inv->role_name),
                          SQ_O(invited_by), SQ_I(inv->created_at), SQ_I(inv->expires_at)),
                  &n);
    return err == GH_OK && n == 0 ? GH_ERR_NOT_FOUND : err; /* no such org, or role in it */
}

/* A listing's ?1 key, ?2 limit, ?3 offset, ?4 now. */
static gh_err list(struct gh_store *st, enum sq_stmt id, const char *key, int64_t now, size_t limit,
                   size_t offset, gh_invitation_visit_fn fn, void *arg)
{
    return sq_st_each(st, id,
                      SQ_ARGS(SQ_T(key), SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset)), SQ_I(now)),
                      &sq_row_invitation, SQ_FN(fn), arg);
}

gh_err sq_invitation_list_org(struct gh_store *st, const char *org_id, int64_t now, size_t limit,
                              size_t offset, gh_invitation_visit_fn fn, void *arg)
{
    return list(st, ST_INVITATION_LIST_ORG, org_id, now, limit, offset, fn, arg);
}

gh_err sq_invitation_list_user(struct gh_store *st, const char *user_id, int64_t now, size_t limit,
                               size_t offset, gh_invitation_visit_fn fn, void *arg)
{
    return list(st, ST_INVITATION_LIST_USER, user_id, now, limit, offset, fn, arg);
}

/* Moves invitation id addressed to user_id from pending to status (its invitee's answer):
 * GH_ERR_EXPIRED when it is pending but dead at now, GH_ERR_NOT_FOUND when it is not
 * pending or not addressed to user_id. */
static gh_err answer(struct conn *c, const char *user_id, const char *id, const char *status,
                     int64_t now)
{
    int64_t n = 0, dead = 0;
    gh_err err = sq_run(c, ST_INVITATION_ANSWER,
                        SQ_ARGS(SQ_T(id), SQ_T(user_id), SQ_I(now), SQ_T(status)), &n);
    if (err != GH_OK || n > 0)
        return err;
    err = sq_one(c, ST_INVITATION_DEAD, SQ_ARGS(SQ_T(id), SQ_T(user_id), SQ_I(now)), &sq_row_int64,
                 &dead);
    return err == GH_OK ? (dead ? GH_ERR_EXPIRED : GH_ERR_NOT_FOUND) : err;
}

gh_err sq_invitation_accept(struct gh_store *st, const char *user_id, const char *id, int64_t now,
                            struct gh_invitation *out)
{
    struct gh_invitation inv;
    int64_t n = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = answer(c, user_id, id, "accepted", now)) != GH_OK)
        goto done;
    /* Read back through the org and the role: both must still be there. */
    err = sq_one(c, ST_INVITATION_GET, SQ_ARGS(SQ_T(id), SQ_T(user_id)), &sq_row_invitation, &inv);
    if (err == GH_OK)
        err = sq_run(c, ST_MEMBER_ADD,
                     SQ_ARGS(SQ_T(inv.org_id), SQ_T(user_id), SQ_T(inv.role_name), SQ_I(now)), &n);
    if (err == GH_OK && n == 0)
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK)
        err = sq_feed(c, user_id, now);
done:
    err = sq_leave(st, c, err);
    if (err == GH_OK && out != NULL)
        *out = inv;
    return err;
}

gh_err sq_invitation_decline(struct gh_store *st, const char *user_id, const char *id, int64_t now)
{
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = answer(c, user_id, id, "declined", now);
    sq_checkin(st, c);
    return err;
}

gh_err sq_invitation_revoke(struct gh_store *st, const char *org_id, const char *id, int64_t now)
{
    int64_t n = 0;
    gh_err err =
        sq_st_run(st, ST_INVITATION_REVOKE, SQ_ARGS(SQ_T(org_id), SQ_T(id), SQ_I(now)), &n);
    return err == GH_OK && n == 0 ? GH_ERR_NOT_FOUND : err;
}

gh_err sq_invitation_purge(struct gh_store *st, int64_t cutoff, int64_t *n)
{
    return sq_st_run(st, ST_INVITATION_PURGE, SQ_ARGS(SQ_I(cutoff)), n);
}

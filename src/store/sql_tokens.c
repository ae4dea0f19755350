/* The SQL backends: refresh tokens (store.h "refresh tokens"). */
#include <string.h>

#include "store/sql.h"

#define REFRESH_FIELDS(type, t)                                                                    \
    SQ_COL(SQ_COL_TEXT, 0, type, t id), SQ_COL(SQ_COL_HASH, 1, type, t hash),                      \
        SQ_COL(SQ_COL_TEXT, 2, type, t user_id), SQ_COL(SQ_COL_TEXT, 3, type, t family_id),        \
        SQ_COL(SQ_COL_TEXT, 4, type, t org_id), SQ_COL(SQ_COL_I64, 5, type, t created_at),         \
        SQ_COL(SQ_COL_I64, 6, type, t expires_at), SQ_COL(SQ_COL_I64, 7, type, t auth_time)

static const struct sq_col refresh_cols[] = {REFRESH_FIELDS(struct gh_refresh_token, )};
const struct sq_row sq_row_refresh =
    SQ_ROW("a refresh token", struct gh_refresh_token, refresh_cols, NULL);

/* A token with whether it is spent or revoked (ST_REFRESH_GET). */
struct refresh_state {
    struct gh_refresh_token t;
    int spent, revoked;
};
static const struct sq_col state_cols[] = {
    REFRESH_FIELDS(struct refresh_state, t.),
    SQ_COL(SQ_COL_INT, 8, struct refresh_state, spent),
    SQ_COL(SQ_COL_INT, 9, struct refresh_state, revoked),
};
static const struct sq_row row_state =
    SQ_ROW("a refresh token", struct refresh_state, state_cols, NULL);

static gh_err insert(struct conn *c, const struct gh_refresh_token *t)
{
    return sq_run(c, ST_REFRESH_INSERT,
                  SQ_ARGS(SQ_F(t->id), SQ_B(t->hash, GH_HASH_LEN), SQ_F(t->user_id),
                          SQ_F(t->family_id), SQ_F(t->org_id), SQ_I(t->created_at),
                          SQ_I(t->expires_at), SQ_I(t->auth_time)),
                  NULL);
}

static gh_err get(struct conn *c, const unsigned char *hash, struct refresh_state *out)
{
    return sq_one(c, ST_REFRESH_GET, SQ_ARGS(SQ_B(hash, GH_HASH_LEN)), &row_state, out);
}

gh_err sq_refresh_insert(struct gh_store *st, const struct gh_refresh_token *t)
{
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = insert(c, t);
    sq_checkin(st, c);
    return err;
}

gh_err sq_refresh_get(struct gh_store *st, const unsigned char hash[GH_HASH_LEN], int64_t now,
                      struct gh_refresh_token *out)
{
    struct refresh_state r;
    struct conn *c;
    gh_err err = sq_checkout(st, &c);
    if (err != GH_OK)
        return err;
    err = get(c, hash, &r);
    sq_checkin(st, c);
    if (err == GH_OK && (r.spent || r.revoked || r.t.expires_at <= now))
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK)
        *out = r.t;
    return err;
}

/* Inside the rotation transaction, after the conditional UPDATE matched nothing: why not. */
static gh_err rotate_refused(struct conn *c, const unsigned char *hash, int64_t now,
                             struct gh_refresh_token *old)
{
    struct refresh_state r;
    gh_err err = get(c, hash, &r);
    if (err != GH_OK)
        return err; /* GH_ERR_NOT_FOUND: unknown hash */
    *old = r.t;
    if (r.revoked)
        return GH_ERR_REVOKED;
    if (r.spent) {
        /* Reuse: someone else holds a copy. End the family, the legitimate holder included. */
        err = sq_run(c, ST_REFRESH_REVOKE_FAMILY, SQ_ARGS(SQ_I(now), SQ_T(old->family_id)), NULL);
        if (err == GH_OK) /* and the browser session the family belongs to */
            err =
                sq_run(c, ST_SESSION_REVOKE_FAMILY, SQ_ARGS(SQ_T(old->family_id), SQ_I(now)), NULL);
        if (err == GH_OK)
            err = sq_feed(c, old->user_id, now);
        return err == GH_OK ? GH_ERR_REUSED : err;
    }
    if (old->expires_at <= now)
        return GH_ERR_EXPIRED;
    return GH_ERR_INTERNAL; /* the UPDATE's conditions all held: cannot happen */
}

gh_err sq_refresh_rotate(struct gh_store *st, const unsigned char old_hash[GH_HASH_LEN],
                         struct gh_refresh_token *next, int64_t now, struct gh_refresh_token *spent)
{
    struct gh_refresh_token old, ins;
    memset(&old, 0, sizeof(old));
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    /* The conditional UPDATE decides: of concurrent rotations only one changes the row. */
    err = sq_one(c, ST_REFRESH_SPEND, SQ_ARGS(SQ_I(now), SQ_B(old_hash, GH_HASH_LEN)),
                 &sq_row_refresh, &old);
    if (err == GH_OK) {
        ins = *next;
        memcpy(ins.user_id, old.user_id, sizeof(ins.user_id));
        memcpy(ins.family_id, old.family_id, sizeof(ins.family_id));
        ins.auth_time = old.auth_time; /* a rotation is no sign-in */
        if (ins.org_id[0] == '\0')
            memcpy(ins.org_id, old.org_id, sizeof(ins.org_id));
        err = insert(c, &ins);
    } else if (err == GH_ERR_NOT_FOUND) {
        err = rotate_refused(c, old_hash, now, &old);
    }
    err = sq_leave(st, c, err); /* commits on GH_OK and on GH_ERR_REUSED */
    if (err == GH_OK)
        *next = ins;
    if (err == GH_OK || err == GH_ERR_REUSED)
        *spent = old;
    return err;
}

gh_err sq_refresh_revoke(struct gh_store *st, const unsigned char hash[GH_HASH_LEN], int64_t now,
                         struct gh_refresh_token *out)
{
    struct refresh_state r;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    if ((err = get(c, hash, &r)) == GH_OK)
        err = sq_run(c, ST_REFRESH_REVOKE, SQ_ARGS(SQ_I(now), SQ_B(hash, GH_HASH_LEN)), NULL);
    err = sq_leave(st, c, err);
    if (err == GH_OK)
        *out = r.t;
    return err;
}

gh_err sq_refresh_revoke_org(struct gh_store *st, const char *org_id, const char *user_id,
                             int64_t now)
{
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_run(c, ST_REFRESH_REVOKE_ORG, SQ_ARGS(SQ_T(org_id), SQ_T(user_id), SQ_I(now)), NULL);
    if (err == GH_OK)
        err =
            sq_run(c, ST_SESSION_REVOKE_ORG, SQ_ARGS(SQ_T(org_id), SQ_T(user_id), SQ_I(now)), NULL);
    return sq_leave(st, c, err);
}

gh_err sq_refresh_purge(struct gh_store *st, int64_t cutoff, int64_t *n)
{
    return sq_st_run(st, ST_REFRESH_PURGE, SQ_ARGS(SQ_I(cutoff)), n);
}

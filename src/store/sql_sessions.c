/* The SQL backends: browser sessions and second factors (store.h "browser sessions"). */
#include <string.h>

#include "store/sql.h"

static const struct sq_col session_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, struct gh_session, id),
    SQ_COL(SQ_COL_HASH, 1, struct gh_session, hash),
    SQ_COL(SQ_COL_TEXT, 2, struct gh_session, user_id),
    SQ_COL(SQ_COL_TEXT, 3, struct gh_session, org_id),
    SQ_COL(SQ_COL_TEXT, 4, struct gh_session, family_id),
    SQ_COL(SQ_COL_TEXT, 5, struct gh_session, method),
    SQ_COL(SQ_COL_I64, 6, struct gh_session, created_at),
    SQ_COL(SQ_COL_I64, 7, struct gh_session, last_seen_at),
    SQ_COL(SQ_COL_I64, 8, struct gh_session, expires_at),
    SQ_COL(SQ_COL_TEXT, 9, struct gh_session, ip_address),
    SQ_COL(SQ_COL_TEXT, 10, struct gh_session, user_agent),
    SQ_COL(SQ_COL_I64, 11, struct gh_session, auth_time),
};
SQ_CALL(call_session, gh_session_visit_fn)
static const struct sq_row row_session =
    SQ_ROW("a session", struct gh_session, session_cols, call_session);

static const struct sq_col mfa_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, struct gh_mfa, user_id),
    SQ_COL(SQ_COL_TEXT, 1, struct gh_mfa, secret),
    SQ_COL(SQ_COL_INT, 2, struct gh_mfa, enabled),
    SQ_COL(SQ_COL_I64, 3, struct gh_mfa, last_step),
    SQ_COL(SQ_COL_I64, 4, struct gh_mfa, created_at),
};
static const struct sq_row row_mfa = SQ_ROW("a TOTP factor", struct gh_mfa, mfa_cols, NULL);

static const struct sq_col challenge_cols[] = {
    SQ_COL(SQ_COL_HASH, 0, struct gh_mfa_challenge, hash),
    SQ_COL(SQ_COL_TEXT, 1, struct gh_mfa_challenge, user_id),
    SQ_COL(SQ_COL_TEXT, 2, struct gh_mfa_challenge, org_id),
    SQ_COL(SQ_COL_I64, 3, struct gh_mfa_challenge, created_at),
    SQ_COL(SQ_COL_I64, 4, struct gh_mfa_challenge, expires_at),
};
static const struct sq_row row_challenge =
    SQ_ROW("an MFA challenge", struct gh_mfa_challenge, challenge_cols, NULL);

/* The one text column a RETURNING gives (a family or user id). */
struct id_text {
    char id[GH_UUID_LEN + 1];
};
static const struct sq_col id_cols[] = {SQ_COL(SQ_COL_TEXT, 0, struct id_text, id)};
static const struct sq_row row_id = SQ_ROW("an id", struct id_text, id_cols, NULL);

/* ---- sessions ---- */

gh_err sq_session_create(struct gh_store *st, const struct gh_session *s)
{
    return sq_st_run(st, ST_SESSION_INSERT,
                     SQ_ARGS(SQ_F(s->id), SQ_B(s->hash, GH_HASH_LEN), SQ_F(s->user_id),
                             SQ_F(s->org_id), SQ_F(s->family_id), SQ_F(s->method),
                             SQ_I(s->created_at), SQ_I(s->last_seen_at), SQ_I(s->expires_at),
                             SQ_F(s->ip_address), SQ_F(s->user_agent), SQ_I(s->auth_time)),
                     NULL);
}

gh_err sq_session_get(struct gh_store *st, const unsigned char hash[GH_HASH_LEN], int64_t now,
                      struct gh_session *out)
{
    return sq_st_one(st, ST_SESSION_GET, SQ_ARGS(SQ_B(hash, GH_HASH_LEN), SQ_I(now)), &row_session,
                     out);
}

gh_err sq_session_list(struct gh_store *st, const char *user_id, int64_t now, size_t limit,
                       size_t offset, gh_session_visit_fn fn, void *arg)
{
    return sq_st_each(
        st, ST_SESSION_LIST,
        SQ_ARGS(SQ_T(user_id), SQ_I(now), SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset))),
        &row_session, SQ_FN(fn), arg);
}

gh_err sq_session_touch(struct gh_store *st, const char *id, int64_t at)
{
    return sq_st_run(st, ST_SESSION_TOUCH, SQ_ARGS(SQ_T(id), SQ_I(at)), NULL);
}

gh_err sq_session_revoke(struct gh_store *st, const char *user_id, const char *id, int64_t now)
{
    struct id_text family;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err =
        sq_one(c, ST_SESSION_REVOKE, SQ_ARGS(SQ_T(id), SQ_T(user_id), SQ_I(now)), &row_id, &family);
    if (err == GH_OK)
        err = sq_run(c, ST_REFRESH_REVOKE_FAMILY, SQ_ARGS(SQ_I(now), SQ_F(family.id)), NULL);
    /* Every node drops its cached view of the user, and with it the session's. */
    if (err == GH_OK)
        err = sq_feed(c, user_id, now);
    return sq_leave(st, c, err);
}

gh_err sq_session_reauth(struct gh_store *st, const char *user_id, const char *id, int64_t at)
{
    struct id_text family;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err =
        sq_one(c, ST_SESSION_REAUTH, SQ_ARGS(SQ_T(id), SQ_T(user_id), SQ_I(at)), &row_id, &family);
    /* the refresh family goes on with the new time: a rotation keeps it */
    if (err == GH_OK)
        err = sq_run(c, ST_REFRESH_REAUTH, SQ_ARGS(SQ_F(family.id), SQ_I(at)), NULL);
    /* every node drops its cached view of the user, and with it the session's old time */
    if (err == GH_OK)
        err = sq_feed(c, user_id, at);
    return sq_leave(st, c, err);
}

gh_err sq_session_purge(struct gh_store *st, int64_t cutoff, int64_t *n)
{
    int64_t sessions = 0, challenges = 0;
    gh_err err = sq_st_run(st, ST_SESSION_PURGE, SQ_ARGS(SQ_I(cutoff)), &sessions);
    if (err == GH_OK)
        err = sq_st_run(st, ST_CHALLENGE_PURGE, SQ_ARGS(SQ_I(cutoff)), &challenges);
    if (err == GH_OK)
        *n = sessions + challenges;
    return err;
}

/* ---- second factors ---- */

gh_err sq_mfa_get(struct gh_store *st, const char *user_id, struct gh_mfa *out)
{
    return sq_st_one(st, ST_MFA_GET, SQ_ARGS(SQ_T(user_id)), &row_mfa, out);
}

gh_err sq_mfa_put(struct gh_store *st, const struct gh_mfa *m)
{
    int64_t changed = 0;
    gh_err err = sq_st_run(
        st, ST_MFA_PUT, SQ_ARGS(SQ_F(m->user_id), SQ_F(m->secret), SQ_I(m->created_at)), &changed);
    if (err == GH_OK && changed == 0)
        err = GH_ERR_CONFLICT; /* an enabled factor stays */
    return err;
}

gh_err sq_mfa_enable(struct gh_store *st, const char *user_id, int64_t step,
                     const unsigned char codes[GH_BACKUP_CODES][GH_HASH_LEN])
{
    int64_t changed = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_run(c, ST_MFA_ENABLE, SQ_ARGS(SQ_T(user_id), SQ_I(step)), &changed);
    if (err == GH_OK && changed == 0)
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK)
        err = sq_run(c, ST_MFA_CODES_CLEAR, SQ_ARGS(SQ_T(user_id)), NULL);
    for (size_t i = 0; err == GH_OK && i < GH_BACKUP_CODES; i++)
        err = sq_run(c, ST_MFA_CODE_INSERT, SQ_ARGS(SQ_T(user_id), SQ_B(codes[i], GH_HASH_LEN)),
                     NULL);
    return sq_leave(st, c, err);
}

gh_err sq_mfa_use_step(struct gh_store *st, const char *user_id, int64_t step)
{
    struct gh_mfa m;
    int64_t changed = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_run(c, ST_MFA_USE_STEP, SQ_ARGS(SQ_T(user_id), SQ_I(step)), &changed);
    if (err == GH_OK && changed == 0) { /* why not: no factor, or a replay */
        err = sq_one(c, ST_MFA_GET, SQ_ARGS(SQ_T(user_id)), &row_mfa, &m);
        if (err == GH_OK)
            err = m.enabled ? GH_ERR_REUSED : GH_ERR_NOT_FOUND;
    }
    return sq_leave(st, c, err); /* a replay wrote nothing: its commit is empty */
}

gh_err sq_mfa_use_backup(struct gh_store *st, const char *user_id,
                         const unsigned char hash[GH_HASH_LEN], int64_t now, int64_t *left)
{
    int64_t changed = 0, n = 0;
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_run(c, ST_MFA_CODE_USE, SQ_ARGS(SQ_T(user_id), SQ_B(hash, GH_HASH_LEN), SQ_I(now)),
                 &changed);
    if (err == GH_OK && changed == 0)
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK)
        err = sq_int(c, ST_MFA_CODES_LEFT, SQ_ARGS(SQ_T(user_id)), &n);
    err = sq_leave(st, c, err);
    if (err == GH_OK)
        *left = n;
    return err;
}

gh_err sq_mfa_delete(struct gh_store *st, const char *user_id)
{
    struct conn *c;
    gh_err err = sq_enter(st, &c);
    if (err != GH_OK)
        return err;
    err = sq_run(c, ST_MFA_DELETE, SQ_ARGS(SQ_T(user_id)), NULL);
    if (err == GH_OK)
        err = sq_run(c, ST_MFA_CODES_CLEAR, SQ_ARGS(SQ_T(user_id)), NULL);
    return sq_leave(st, c, err);
}

gh_err sq_mfa_challenge_add(struct gh_store *st, const struct gh_mfa_challenge *ch)
{
    return sq_st_run(st, ST_CHALLENGE_INSERT,
                     SQ_ARGS(SQ_B(ch->hash, GH_HASH_LEN), SQ_F(ch->user_id), SQ_F(ch->org_id),
                             SQ_I(ch->created_at), SQ_I(ch->expires_at)),
                     NULL);
}

gh_err sq_mfa_challenge_get(struct gh_store *st, const unsigned char hash[GH_HASH_LEN], int64_t now,
                            struct gh_mfa_challenge *out)
{
    return sq_st_one(st, ST_CHALLENGE_GET, SQ_ARGS(SQ_B(hash, GH_HASH_LEN), SQ_I(now)),
                     &row_challenge, out);
}

gh_err sq_mfa_challenge_spend(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                              int64_t now)
{
    int64_t changed = 0;
    gh_err err =
        sq_st_run(st, ST_CHALLENGE_SPEND, SQ_ARGS(SQ_B(hash, GH_HASH_LEN), SQ_I(now)), &changed);
    if (err == GH_OK && changed == 0)
        err = GH_ERR_NOT_FOUND;
    return err;
}

/* The SQL backends: SSO identity providers (store.h "SSO identity providers"). */
#include "store/sql.h"

#define P struct gh_sso_provider
static const struct sq_col provider_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, P, name),
    SQ_COL(SQ_COL_TEXT, 1, P, type),
    SQ_COL(SQ_COL_TEXT, 2, P, preset),
    SQ_COL(SQ_COL_TEXT, 3, P, tenant),
    SQ_COL(SQ_COL_TEXT, 4, P, issuer),
    SQ_COL(SQ_COL_TEXT, 5, P, authorization_endpoint),
    SQ_COL(SQ_COL_TEXT, 6, P, token_endpoint),
    SQ_COL(SQ_COL_TEXT, 7, P, userinfo_endpoint),
    SQ_COL(SQ_COL_TEXT, 8, P, client_id),
    SQ_COL(SQ_COL_TEXT, 9, P, client_secret),
    SQ_COL(SQ_COL_TEXT, 10, P, token_auth),
    SQ_COL(SQ_COL_TEXT, 11, P, scopes),
    SQ_COL(SQ_COL_TEXT, 12, P, claim_subject),
    SQ_COL(SQ_COL_TEXT, 13, P, claim_email),
    SQ_COL(SQ_COL_TEXT, 14, P, claim_username),
    SQ_COL(SQ_COL_TEXT, 15, P, claim_name),
    SQ_COL(SQ_COL_TEXT, 16, P, default_role),
    SQ_COL(SQ_COL_INT, 17, P, pkce),
    SQ_COL(SQ_COL_INT, 18, P, enabled),
    SQ_COL(SQ_COL_INT, 19, P, auto_create_user),
    SQ_COL(SQ_COL_INT, 20, P, link_by_email),
    SQ_COL(SQ_COL_I64, 21, P, created_at),
    SQ_COL(SQ_COL_I64, 22, P, updated_at),
    SQ_COL(SQ_COL_TEXT, 23, P, sp_entity_id),
    SQ_COL(SQ_COL_TEXT, 24, P, idp_metadata),
    SQ_COL(SQ_COL_TEXT, 25, P, sp_private_key),
    SQ_COL(SQ_COL_TEXT, 26, P, sp_certificate),
    SQ_COL(SQ_COL_TEXT, 27, P, allowed_client_ids),
    SQ_COL(SQ_COL_INT, 28, P, trust_email),
    SQ_COL(SQ_COL_TEXT, 29, P, tokeninfo_endpoint),
    SQ_COL(SQ_COL_TEXT, 30, P, idp_metadata_url),
    SQ_COL(SQ_COL_I64, 31, P, idp_metadata_at),
};
#undef P
SQ_CALL(call_provider, gh_sso_provider_visit_fn)
static const struct sq_row row_provider =
    SQ_ROW("an SSO provider", struct gh_sso_provider, provider_cols, call_provider);

/* The values of p in the column order of the statements (?1 .. ?21), then its times: the
 * insert takes created_at and updated_at (?22, ?23), the update only updated_at (?22);
 * then the SAML values of both (SAML_VALUES), then the allowed client ids, trust_email, the
 * tokeninfo endpoint, and where the IdP's metadata comes from and when it came. */
#define PROVIDER_VALUES(p)                                                                         \
    SQ_F(p->name), SQ_F(p->type), SQ_F(p->preset), SQ_F(p->tenant), SQ_F(p->issuer),               \
        SQ_F(p->authorization_endpoint), SQ_F(p->token_endpoint), SQ_F(p->userinfo_endpoint),      \
        SQ_F(p->client_id), SQ_F(p->client_secret), SQ_F(p->token_auth), SQ_F(p->scopes),          \
        SQ_F(p->claim_subject), SQ_F(p->claim_email), SQ_F(p->claim_username),                     \
        SQ_F(p->claim_name), SQ_F(p->default_role), SQ_I(p->pkce != 0), SQ_I(p->enabled != 0),     \
        SQ_I(p->auto_create_user != 0), SQ_I(p->link_by_email != 0)
#define SAML_VALUES(p)                                                                             \
    SQ_F(p->sp_entity_id), SQ_F(p->idp_metadata), SQ_F(p->sp_private_key), SQ_F(p->sp_certificate)

gh_err sq_sso_provider_create(struct gh_store *st, const struct gh_sso_provider *p)
{
    return sq_st_run(st, ST_SSO_PROVIDER_INSERT,
                     SQ_ARGS(PROVIDER_VALUES(p), SQ_I(p->created_at), SQ_I(p->updated_at),
                             SAML_VALUES(p), SQ_F(p->allowed_client_ids), SQ_I(p->trust_email != 0),
                             SQ_F(p->tokeninfo_endpoint), SQ_F(p->idp_metadata_url),
                             SQ_I(p->idp_metadata_at)),
                     NULL);
}

gh_err sq_sso_provider_get(struct gh_store *st, const char *name, struct gh_sso_provider *out)
{
    return sq_st_one(st, ST_SSO_PROVIDER_GET, SQ_ARGS(SQ_T(name)), &row_provider, out);
}

gh_err sq_sso_provider_list(struct gh_store *st, size_t limit, size_t offset,
                            gh_sso_provider_visit_fn fn, void *arg)
{
    return sq_st_each(st, ST_SSO_PROVIDER_LIST,
                      SQ_ARGS(SQ_I(sq_clamp(limit)), SQ_I(sq_clamp(offset))), &row_provider,
                      SQ_FN(fn), arg);
}

gh_err sq_sso_provider_update(struct gh_store *st, const struct gh_sso_provider *p)
{
    int64_t changed = 0;
    gh_err err = sq_st_run(st, ST_SSO_PROVIDER_UPDATE,
                           SQ_ARGS(PROVIDER_VALUES(p), SQ_I(p->updated_at), SAML_VALUES(p),
                                   SQ_F(p->allowed_client_ids), SQ_I(p->trust_email != 0),
                                   SQ_F(p->tokeninfo_endpoint), SQ_F(p->idp_metadata_url),
                                   SQ_I(p->idp_metadata_at)),
                           &changed);
    if (err == GH_OK && changed == 0)
        err = GH_ERR_NOT_FOUND;
    return err;
}

gh_err sq_sso_provider_delete(struct gh_store *st, const char *name)
{
    int64_t changed = 0;
    gh_err err = sq_st_run(st, ST_SSO_PROVIDER_DELETE, SQ_ARGS(SQ_T(name)), &changed);
    if (err == GH_OK && changed == 0)
        err = GH_ERR_NOT_FOUND;
    return err;
}

/* ---- linked identities ---- */

#define L struct gh_sso_link
static const struct sq_col link_cols[] = {
    SQ_COL(SQ_COL_TEXT, 0, L, id),           SQ_COL(SQ_COL_TEXT, 1, L, provider),
    SQ_COL(SQ_COL_TEXT, 2, L, subject),      SQ_COL(SQ_COL_TEXT, 3, L, user_id),
    SQ_COL(SQ_COL_TEXT, 4, L, email),        SQ_COL(SQ_COL_I64, 5, L, created_at),
    SQ_COL(SQ_COL_I64, 6, L, last_login_at),
};
#undef L
SQ_CALL(call_link, gh_sso_link_visit_fn)
static const struct sq_row row_link =
    SQ_ROW("a linked identity", struct gh_sso_link, link_cols, call_link);

gh_err sq_sso_link_add(struct gh_store *st, const struct gh_sso_link *l)
{
    return sq_st_run(st, ST_SSO_LINK_INSERT,
                     SQ_ARGS(SQ_F(l->id), SQ_F(l->provider), SQ_F(l->subject), SQ_F(l->user_id),
                             SQ_F(l->email), SQ_I(l->created_at), SQ_I(l->last_login_at)),
                     NULL);
}

gh_err sq_sso_link_find(struct gh_store *st, const char *provider, const char *subject,
                        struct gh_sso_link *out)
{
    return sq_st_one(st, ST_SSO_LINK_FIND, SQ_ARGS(SQ_T(provider), SQ_T(subject)), &row_link, out);
}

gh_err sq_sso_link_list(struct gh_store *st, const char *user_id, gh_sso_link_visit_fn fn,
                        void *arg)
{
    return sq_st_each(st, ST_SSO_LINK_LIST, SQ_ARGS(SQ_T(user_id)), &row_link, SQ_FN(fn), arg);
}

gh_err sq_sso_link_touch(struct gh_store *st, const char *id, int64_t now)
{
    return sq_st_run(st, ST_SSO_LINK_TOUCH, SQ_ARGS(SQ_T(id), SQ_I(now)), NULL);
}

gh_err sq_sso_link_delete(struct gh_store *st, const char *user_id, const char *id)
{
    int64_t changed = 0;
    gh_err err = sq_st_run(st, ST_SSO_LINK_DELETE, SQ_ARGS(SQ_T(user_id), SQ_T(id)), &changed);
    if (err == GH_OK && changed == 0)
        err = GH_ERR_NOT_FOUND;
    return err;
}

/* ---- sign-ins waiting for the provider ---- */

#define S struct gh_sso_state
static const struct sq_col state_cols[] = {
    SQ_COL(SQ_COL_HASH, 0, S, hash),      SQ_COL(SQ_COL_HASH, 1, S, binding),
    SQ_COL(SQ_COL_TEXT, 2, S, provider),  SQ_COL(SQ_COL_TEXT, 3, S, redirect_to),
    SQ_COL(SQ_COL_I64, 4, S, created_at), SQ_COL(SQ_COL_I64, 5, S, expires_at),
};
#undef S
static const struct sq_row row_state =
    SQ_ROW("an SSO state", struct gh_sso_state, state_cols, NULL);

gh_err sq_sso_state_add(struct gh_store *st, const struct gh_sso_state *s)
{
    /* the dead ones go first: abandoned sign-ins never pile up */
    gh_err err = sq_st_run(st, ST_SSO_STATE_PURGE, SQ_ARGS(SQ_I(s->created_at)), NULL);
    if (err != GH_OK)
        return err;
    return sq_st_run(st, ST_SSO_STATE_INSERT,
                     SQ_ARGS(SQ_B(s->hash, GH_HASH_LEN), SQ_B(s->binding, GH_HASH_LEN),
                             SQ_F(s->provider), SQ_F(s->redirect_to), SQ_I(s->created_at),
                             SQ_I(s->expires_at)),
                     NULL);
}

gh_err sq_sso_state_take(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                         struct gh_sso_state *out)
{
    return sq_st_one(st, ST_SSO_STATE_TAKE, SQ_ARGS(SQ_B(hash, GH_HASH_LEN)), &row_state, out);
}

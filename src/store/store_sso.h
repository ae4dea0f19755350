#ifndef GH_STORE_STORE_SSO_H
#define GH_STORE_STORE_SSO_H

/*
 * The gh_store_* wrappers of the SSO domain (identity providers), kept apart from store.h
 * for its size. Included by store.h only; the contracts are above the ops.
 */
#ifndef GH_STORE_STORE_H
#error "include store/store.h"
#endif

static inline gh_err gh_store_sso_provider_create(const struct gh_store_handle *h,
                                                  const struct gh_sso_provider *p)
{
    return h->ops->sso_provider_create(h->st, p);
}

static inline gh_err gh_store_sso_provider_get(const struct gh_store_handle *h, const char *name,
                                               struct gh_sso_provider *out)
{
    return h->ops->sso_provider_get(h->st, name, out);
}

static inline gh_err gh_store_sso_provider_list(const struct gh_store_handle *h, size_t limit,
                                                size_t offset, gh_sso_provider_visit_fn fn,
                                                void *arg)
{
    return h->ops->sso_provider_list(h->st, limit, offset, fn, arg);
}

static inline gh_err gh_store_sso_provider_update(const struct gh_store_handle *h,
                                                  const struct gh_sso_provider *p)
{
    return h->ops->sso_provider_update(h->st, p);
}

static inline gh_err gh_store_sso_provider_delete(const struct gh_store_handle *h, const char *name)
{
    return h->ops->sso_provider_delete(h->st, name);
}

/*
 * Linked identities (authn/sso_account.h), gone with their user. link_add:
 * GH_ERR_CONFLICT (provider, subject) is linked already; link_find: by (provider,
 * subject), GH_ERR_NOT_FOUND none; link_list: user_id's, oldest first; link_touch: sets
 * last_login_at; link_delete: user_id's link id, GH_ERR_NOT_FOUND none.
 * Sign-ins waiting for the provider: state_add also drops the states expired before
 * s->created_at; state_take removes the state of hash and gives it, whatever its expiry
 * (the caller judges), once: GH_ERR_NOT_FOUND none (never made, or taken already).
 */
static inline gh_err gh_store_sso_link_add(const struct gh_store_handle *h,
                                           const struct gh_sso_link *l)
{
    return h->ops->sso_link_add(h->st, l);
}

static inline gh_err gh_store_sso_link_find(const struct gh_store_handle *h, const char *provider,
                                            const char *subject, struct gh_sso_link *out)
{
    return h->ops->sso_link_find(h->st, provider, subject, out);
}

static inline gh_err gh_store_sso_link_list(const struct gh_store_handle *h, const char *user_id,
                                            gh_sso_link_visit_fn fn, void *arg)
{
    return h->ops->sso_link_list(h->st, user_id, fn, arg);
}

static inline gh_err gh_store_sso_link_touch(const struct gh_store_handle *h, const char *id,
                                             int64_t now)
{
    return h->ops->sso_link_touch(h->st, id, now);
}

static inline gh_err gh_store_sso_link_delete(const struct gh_store_handle *h, const char *user_id,
                                              const char *id)
{
    return h->ops->sso_link_delete(h->st, user_id, id);
}

static inline gh_err gh_store_sso_state_add(const struct gh_store_handle *h,
                                            const struct gh_sso_state *s)
{
    return h->ops->sso_state_add(h->st, s);
}

static inline gh_err gh_store_sso_state_take(const struct gh_store_handle *h,
                                             const unsigned char hash[GH_HASH_LEN],
                                             struct gh_sso_state *out)
{
    return h->ops->sso_state_take(h->st, hash, out);
}

#endif

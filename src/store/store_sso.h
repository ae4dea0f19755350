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

#endif

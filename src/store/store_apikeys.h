#ifndef GH_STORE_STORE_APIKEYS_H
#define GH_STORE_STORE_APIKEYS_H

/*
 * The gh_store_* wrappers of the API keys, kept apart from store.h for its size. Included
 * by store.h only; the contracts are above the ops.
 */
#ifndef GH_STORE_STORE_H
#error "include store/store.h"
#endif

static inline gh_err gh_store_apikey_create(const struct gh_store_handle *h,
                                            const struct gh_api_key *key)
{
    return h->ops->apikey_create(h->st, key);
}

static inline gh_err gh_store_apikey_find_hash(const struct gh_store_handle *h,
                                               const unsigned char hash[GH_HASH_LEN],
                                               struct gh_api_key *out)
{
    return h->ops->apikey_find_hash(h->st, hash, out);
}

static inline gh_err gh_store_apikey_list_user(const struct gh_store_handle *h, const char *user_id,
                                               size_t limit, size_t offset, gh_api_key_visit_fn fn,
                                               void *arg)
{
    return h->ops->apikey_list_user(h->st, user_id, limit, offset, fn, arg);
}

static inline gh_err gh_store_apikey_revoke(const struct gh_store_handle *h, const char *user_id,
                                            const char *id, int64_t now, int64_t *n)
{
    return h->ops->apikey_revoke(h->st, user_id, id, now, n);
}

static inline gh_err gh_store_apikey_revoke_org(const struct gh_store_handle *h, const char *org_id,
                                                const char *user_id, int64_t now)
{
    return h->ops->apikey_revoke_org(h->st, org_id, user_id, now);
}

static inline gh_err gh_store_apikey_touch(const struct gh_store_handle *h,
                                           const struct gh_api_key_use *uses, size_t n)
{
    return h->ops->apikey_touch(h->st, uses, n);
}

#endif

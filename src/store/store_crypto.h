#ifndef GH_STORE_STORE_CRYPTO_H
#define GH_STORE_STORE_CRYPTO_H

/*
 * The gh_store_* wrappers of the data-protection domains (data keys, the vault), kept
 * apart from store.h for its size. Included by store.h only; the contracts are above the
 * ops.
 */
#ifndef GH_STORE_STORE_H
#error "include store/store.h"
#endif

static inline gh_err gh_store_datakey_add(const struct gh_store_handle *h,
                                          const struct gh_data_key *key)
{
    return h->ops->datakey_add(h->st, key);
}

static inline gh_err gh_store_datakey_list(const struct gh_store_handle *h, gh_data_key_visit_fn fn,
                                           void *arg)
{
    return h->ops->datakey_list(h->st, fn, arg);
}

#endif

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

/**
 * Replaces the database of backend at dsn with the copy at path (the backend's restore;
 * GH_ERR_INVALID none, or path is no sound copy). Stop the servers on dsn first.
 */
gh_err gh_store_restore(const char *backend, const char *dsn, const char *path,
                        unsigned busy_timeout_ms) GH_WUR GH_NONNULL(1, 2, 3);

/** A consistent copy of the database in the file path (snapshot); GH_ERR_INVALID the
 * backend keeps none. */
static inline gh_err gh_store_snapshot(const struct gh_store_handle *h, const char *path)
{
    return h->ops->snapshot != NULL ? h->ops->snapshot(h->st, path) : GH_ERR_INVALID;
}

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

static inline gh_err gh_store_vault_insert(const struct gh_store_handle *h,
                                           const struct gh_vault_entry *e)
{
    return h->ops->vault_insert(h->st, e);
}

static inline gh_err gh_store_vault_latest(const struct gh_store_handle *h, const char *org_id,
                                           const char *name, struct gh_vault_entry *out)
{
    return h->ops->vault_latest(h->st, org_id, name, out);
}

static inline gh_err gh_store_vault_list(const struct gh_store_handle *h, const char *org_id,
                                         size_t limit, size_t offset, gh_vault_item_visit_fn fn,
                                         void *arg)
{
    return h->ops->vault_list(h->st, org_id, limit, offset, fn, arg);
}

static inline gh_err gh_store_vault_delete(const struct gh_store_handle *h, const char *org_id,
                                           const char *name)
{
    return h->ops->vault_delete(h->st, org_id, name);
}

static inline gh_err gh_store_vault_scan(const struct gh_store_handle *h, int64_t key_id,
                                         size_t limit, gh_vault_entry_visit_fn fn, void *arg,
                                         int64_t *total)
{
    return h->ops->vault_scan(h->st, key_id, limit, fn, arg, total);
}

static inline gh_err gh_store_vault_rekey(const struct gh_store_handle *h,
                                          const struct gh_vault_entry *e, int64_t old_key_id)
{
    return h->ops->vault_rekey(h->st, e, old_key_id);
}

#endif

#ifndef GH_STORE_STORE_AUDIT_H
#define GH_STORE_STORE_AUDIT_H

/*
 * The gh_store_* wrappers of the audit chain, kept apart from store.h for its size.
 * Included by store.h only; the contracts are above the ops.
 */
#ifndef GH_STORE_STORE_H
#error "include store/store.h"
#endif

static inline gh_err gh_store_audit_append(const struct gh_store_handle *h,
                                           const struct gh_audit_event *evs, size_t n,
                                           gh_audit_hash_fn hash, struct gh_audit_head *head)
{
    return h->ops->audit_append(h->st, evs, n, hash, head);
}

static inline gh_err gh_store_audit_head(const struct gh_store_handle *h, struct gh_audit_head *out)
{
    return h->ops->audit_head(h->st, out);
}

static inline gh_err gh_store_audit_list(const struct gh_store_handle *h,
                                         const struct gh_audit_filter *f, size_t limit,
                                         size_t offset, gh_audit_visit_fn fn, void *arg)
{
    return h->ops->audit_list(h->st, f, limit, offset, fn, arg);
}

static inline gh_err gh_store_audit_scan(const struct gh_store_handle *h, int64_t after,
                                         gh_audit_visit_fn fn, void *arg)
{
    return h->ops->audit_scan(h->st, after, fn, arg);
}

static inline gh_err gh_store_checkpoint_add(const struct gh_store_handle *h,
                                             const struct gh_audit_checkpoint *cp)
{
    return h->ops->checkpoint_add(h->st, cp);
}

static inline gh_err gh_store_checkpoint_list(const struct gh_store_handle *h,
                                              gh_checkpoint_visit_fn fn, void *arg)
{
    return h->ops->checkpoint_list(h->st, fn, arg);
}

static inline gh_err gh_store_audit_purge(const struct gh_store_handle *h, int64_t cutoff,
                                          int64_t *n)
{
    return h->ops->audit_purge(h->st, cutoff, n);
}

#endif

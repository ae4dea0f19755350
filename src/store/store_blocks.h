#ifndef GH_STORE_STORE_BLOCKS_H
#define GH_STORE_STORE_BLOCKS_H

/*
 * The gh_store_* wrappers of the address blocks, kept apart from store.h for its size.
 * Included by store.h only; the contracts are above the ops.
 */
#ifndef GH_STORE_STORE_H
#error "include store/store.h"
#endif

static inline gh_err gh_store_block_add(const struct gh_store_handle *h,
                                        const struct gh_address_block *b, int64_t now)
{
    return h->ops->block_add(h->st, b, now);
}

static inline gh_err gh_store_block_remove(const struct gh_store_handle *h, const char *id,
                                           struct gh_address_block *out)
{
    return h->ops->block_remove(h->st, id, out);
}

static inline gh_err gh_store_block_list(const struct gh_store_handle *h, int64_t now, size_t limit,
                                         size_t offset, gh_block_visit_fn fn, void *arg)
{
    return h->ops->block_list(h->st, now, limit, offset, fn, arg);
}

static inline gh_err gh_store_block_epoch(const struct gh_store_handle *h, int64_t *out)
{
    return h->ops->block_epoch(h->st, out);
}

#endif

#ifndef GH_STORE_STORE_BLOCKS_H
#define GH_STORE_STORE_BLOCKS_H

/*
 * The address blocks' ops (edge/blocks.h) and their gh_store_* wrappers: a domain's table
 * of its own that the ops table points to (gh_store_ops.blocks), kept apart from store.h
 * for its size. Included by store.h only.
 */
#ifndef GH_STORE_STORE_H
#error "include store/store.h"
#endif

typedef int (*gh_block_visit_fn)(void *arg, const struct gh_address_block *b);

/*
 * A block is live while expires_at is 0 or after now. Every add and remove increments the
 * blocks' epoch in the same transaction: other nodes poll it (epoch) and reload.
 */
struct gh_store_block_ops {
    /* GH_ERR_CONFLICT a live block of that cidr exists; the blocks expired by now are
     * deleted first (whatever their cidr: they block nothing any more). */
    gh_err (*add)(struct gh_store *st, const struct gh_address_block *b, int64_t now);
    /* Deletes block id, *out (may be NULL) getting it as it was; GH_ERR_NOT_FOUND. */
    gh_err (*remove)(struct gh_store *st, const char *id, struct gh_address_block *out);
    /* The blocks live at now, oldest first. */
    gh_err (*list)(struct gh_store *st, int64_t now, size_t limit, size_t offset,
                   gh_block_visit_fn fn, void *arg);
    /* The blocks' epoch: it changes with every add and remove. */
    gh_err (*epoch)(struct gh_store *st, int64_t *out);
};

static inline gh_err gh_store_block_add(const struct gh_store_handle *h,
                                        const struct gh_address_block *b, int64_t now)
{
    return h->ops->blocks->add(h->st, b, now);
}

static inline gh_err gh_store_block_remove(const struct gh_store_handle *h, const char *id,
                                           struct gh_address_block *out)
{
    return h->ops->blocks->remove(h->st, id, out);
}

static inline gh_err gh_store_block_list(const struct gh_store_handle *h, int64_t now, size_t limit,
                                         size_t offset, gh_block_visit_fn fn, void *arg)
{
    return h->ops->blocks->list(h->st, now, limit, offset, fn, arg);
}

static inline gh_err gh_store_block_epoch(const struct gh_store_handle *h, int64_t *out)
{
    return h->ops->blocks->epoch(h->st, out);
}

#endif

#ifndef GH_EDGE_BLOCKS_H
#define GH_EDGE_BLOCKS_H

#include <stddef.h>
#include <stdint.h>
#include "core/cidr.h"
#include "core/err.h"
#include "store/store.h"

/*
 * Address blocks: client addresses and ranges (CIDR, IPv4 and IPv6) refused before
 * routing. The live blocks are held as an immutable snapshot, one open-addressing hash set
 * per prefix length in use: a request costs one keyed hash probe per distinct prefix
 * length (usually one to four), whatever the number of blocks, and one pointer load when
 * there is none. Writers build a new snapshot and publish it with one atomic store; a
 * replaced snapshot is freed no sooner than RETIRE_GRACE later (a lookup lasts
 * nanoseconds), so readers take no lock.
 *
 * The store holds the blocks and an epoch that every add and remove moves. Each node
 * polls it (gh_blocks_poll, every 100 ms beside the revocation feed) and reloads when it
 * moved or when the soonest expiry has passed: a block reaches every node, and an expired
 * block stops matching, within a poll.
 */

struct gh_blocks;

/** Told of each automatic block that gh_blocks_poll made (for the audit trail). */
typedef void (*gh_blocks_added_fn)(void *arg, const struct gh_address_block *b);

struct gh_blocks_opts {
    size_t max;      /* live blocks at most (blocks.max) */
    size_t auto_max; /* live automatic blocks at most (blocks.auto_max) */
    /* Never blocked automatically: the trusted proxies, and the admin allowlist but for its
     * entries of every address (the default "0.0.0.0/0, ::/0" means nobody in particular). */
    struct gh_cidr_list trusted;
    struct gh_cidr_list admin;
    gh_blocks_added_fn added; /* may be NULL */
    void *added_arg;
};

/**
 * Loads the live blocks of store (kept, not copied: it must outlive the set) into a new
 * set. GH_ERR_IO when the store does not answer.
 */
gh_err gh_blocks_new(const struct gh_store_handle *store, const struct gh_blocks_opts *opts,
                     struct gh_blocks **out) GH_WUR GH_NONNULL(1, 2, 3);

/** Frees the set and every snapshot (no lookup may run any more). Accepts NULL. */
void gh_blocks_free(struct gh_blocks *b);

/** The block a lookup matched, copied out of the snapshot. */
struct gh_block_hit {
    char id[GH_UUID_LEN + 1];
    char cidr[GH_BLOCK_CIDR_MAX];
};

/**
 * 1 when addr (16 bytes, IPv4 mapped) lies in a live block, hit (may be NULL) getting it;
 * else 0. Lock-free, from any thread.
 */
int gh_blocks_match(struct gh_blocks *b, const uint8_t addr[16], struct gh_block_hit *hit)
    GH_NONNULL(1, 2);

/**
 * cidr ("ADDR" or "ADDR/BITS", IPv4 or IPv6, host bits zero) in canonical text
 * ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"). NULL when it is acceptable, else what is
 * wrong with it: unreadable, or a range of every address (0.0.0.0/0, ::/0, or any IPv6
 * prefix that holds all of IPv4).
 */
const char *gh_blocks_canonical(const char *cidr, char out[GH_BLOCK_CIDR_MAX]) GH_NONNULL(1, 2);

/** A block to add. */
struct gh_block_new {
    const char *cidr;
    const char *reason;     /* 1 to GH_BLOCK_REASON_MAX bytes of UTF-8 without controls */
    int64_t expires_at;     /* unix seconds after now, or 0: never */
    const char *created_by; /* a user name, "cli" or "alert:RULE" (cut to fit) */
    int automatic;
};

/**
 * Adds a block (the store's, then this node's set at once; other nodes at their next poll).
 * *out gets it as stored. GH_ERR_INVALID with *why saying which value and why (cidr,
 * reason, expires_at); GH_ERR_CONFLICT the range is blocked already (the same text);
 * GH_ERR_TOO_LARGE blocks.max live blocks exist (blocks.auto_max automatic ones for an
 * automatic block); GH_ERR_ADDRESS an automatic block of a protected address; the store's
 * errors.
 */
gh_err gh_blocks_add(struct gh_blocks *b, const struct gh_block_new *req, int64_t now,
                     struct gh_address_block *out, const char **why) GH_WUR GH_NONNULL(1, 2, 4, 5);

/** Removes block id (here at once, elsewhere at the next poll); *out gets it.
 * GH_ERR_NOT_FOUND none. */
gh_err gh_blocks_remove(struct gh_blocks *b, const char *id, struct gh_address_block *out) GH_WUR
    GH_NONNULL(1, 2, 3);

/** The blocks live at now, oldest first (the store's list). */
gh_err gh_blocks_list(struct gh_blocks *b, int64_t now, size_t limit, size_t offset,
                      gh_block_visit_fn fn, void *arg) GH_WUR GH_NONNULL(1, 5);

/**
 * Asks for an automatic block of ip (an address's text) for seconds, on behalf of alert
 * rule rule: queued (a few dozen at most; more are dropped and logged) and made by the
 * next gh_blocks_poll, so the caller (an audit observer) never waits for the store.
 */
void gh_blocks_request(struct gh_blocks *b, const char *ip, uint32_t seconds, const char *rule)
    GH_NONNULL(1, 2, 4);

/**
 * Makes the requested automatic blocks, reloads the set when the store's epoch moved or
 * the soonest expiry passed, and frees retired snapshots. The server's watch thread calls
 * it every 100 ms; not thread-safe with itself.
 */
gh_err gh_blocks_poll(struct gh_blocks *b, int64_t now) GH_WUR GH_NONNULL(1);

#endif

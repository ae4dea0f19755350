#ifndef GH_CORE_CACHE_H
#define GH_CORE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/**
 * A bounded, thread-safe, set-associative cache of byte strings with expiry. Keys are
 * hashed with a keyed SipHash (random key per process), so an attacker cannot aim
 * entries at one set; a full set evicts its soonest-expiring entry. Memory is bounded
 * by capacity entries of at most GH_CACHE_VALUE_MAX bytes.
 */
struct gh_cache;

#define GH_CACHE_KEY_MAX 64
#define GH_CACHE_VALUE_MAX 4096

/** capacity: number of entries, rounded up to a multiple of the set size. */
gh_err gh_cache_new(size_t capacity, struct gh_cache **out) GH_WUR GH_NONNULL(2);
void gh_cache_free(struct gh_cache *cache);

/** Stores a copy of val under key until expires_at (unix seconds), replacing any old value.
 * A failure (out of memory) only means a later miss, so callers may ignore it. */
gh_err gh_cache_put(struct gh_cache *cache, const void *key, size_t klen, const void *val,
                    size_t vlen, int64_t expires_at) GH_NONNULL(1, 2, 4);

/**
 * Copies the value for key into out (cap bytes) when present and not expired at now.
 * GH_ERR_NOT_FOUND otherwise; GH_ERR_TOO_LARGE when cap is too small. *vlen set on GH_OK.
 */
gh_err gh_cache_get(struct gh_cache *cache, const void *key, size_t klen, int64_t now, void *out,
                    size_t cap, size_t *vlen) GH_WUR GH_NONNULL(1, 2, 5, 7);

/**
 * For values that end with a secret the caller presents (a token): copies the value's first
 * head bytes into out only when the rest of the value is exactly proof[0..plen), compared
 * in constant time where it is stored, so the secret is never copied out. GH_ERR_NOT_FOUND
 * when absent, expired, shorter than head or not proven.
 */
gh_err gh_cache_get_proven(struct gh_cache *cache, const void *key, size_t klen, int64_t now,
                           const void *proof, size_t plen, void *out, size_t head) GH_WUR
    GH_NONNULL(1, 2, 5, 7);

/** Removes key if present. */
void gh_cache_del(struct gh_cache *cache, const void *key, size_t klen) GH_NONNULL(1, 2);

/** Removes every entry. */
void gh_cache_clear(struct gh_cache *cache) GH_NONNULL(1);

/** Lookups answered from the cache and not, since start. */
void gh_cache_stats(struct gh_cache *cache, uint64_t *hits, uint64_t *misses) GH_NONNULL(1, 2, 3);

#endif

#include "core/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "core/secret.h"
#include "core/shard.h"

#define WAYS 8
/* Locks striped over the sets (set i under locks[i % LOCKS]): a lock per set would be
 * written at start and make the whole table resident however empty it is. */
#define LOCKS 256

struct entry {
    uint64_t hash;
    int64_t expires_at;
    size_t klen;
    size_t vlen;
    unsigned char data[]; /* key then value */
};

struct set {
    struct entry *ways[WAYS];
};

/* A thread's count of lookups (core/shard.h), a cache line of its own: the polling threads
 * count every lookup without writing a line another one writes. */
struct stats {
    _Alignas(64) atomic_uint_fast64_t hits;
    atomic_uint_fast64_t misses;
};

struct gh_cache {
    struct set *sets;
    size_t nsets; /* a power of two */
    pthread_mutex_t locks[LOCKS];
    unsigned char sipkey[crypto_shorthash_KEYBYTES];
    struct stats stats[GH_SHARDS];
};

gh_err gh_cache_new(size_t capacity, struct gh_cache **out)
{
    struct gh_cache *c = aligned_alloc(_Alignof(struct gh_cache), sizeof(struct gh_cache));
    if (c == NULL)
        return GH_ERR_NOMEM;
    memset(c, 0, sizeof(*c));
    size_t nsets = 1;
    while (nsets * WAYS < capacity)
        nsets *= 2;
    c->sets = calloc(nsets, sizeof(*c->sets));
    if (c->sets == NULL) {
        free(c);
        return GH_ERR_NOMEM;
    }
    c->nsets = nsets;
    for (size_t i = 0; i < LOCKS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    crypto_shorthash_keygen(c->sipkey);
    *out = c;
    return GH_OK;
}

static void entry_free(struct entry *e)
{
    if (e == NULL)
        return;
    sodium_memzero(e->data, e->klen + e->vlen);
    free(e);
}

void gh_cache_free(struct gh_cache *c)
{
    if (c == NULL)
        return;
    gh_cache_clear(c);
    for (size_t i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&c->locks[i]);
    free(c->sets);
    free(c);
}

static uint64_t key_hash(const struct gh_cache *c, const void *key, size_t klen)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v;
    crypto_shorthash(h, key, klen, c->sipkey);
    memcpy(&v, h, sizeof(v));
    return v;
}

/* Index of key in set s, or -1. Caller holds the set's lock. Keys are digests and ids,
 * not secrets, so an ordinary comparison is fine here. */
static int find(const struct set *s, uint64_t hash, const void *key, size_t klen)
{
    for (int i = 0; i < WAYS; i++) {
        const struct entry *e = s->ways[i];
        if (e != NULL && e->hash == hash && e->klen == klen && memcmp(e->data, key, klen) == 0)
            return i;
    }
    return -1;
}

gh_err gh_cache_put(struct gh_cache *c, const void *key, size_t klen, const void *val, size_t vlen,
                    int64_t expires_at)
{
    if (klen > GH_CACHE_KEY_MAX || vlen > GH_CACHE_VALUE_MAX)
        return GH_ERR_TOO_LARGE;
    struct entry *e = malloc(sizeof(*e) + klen + vlen);
    if (e == NULL)
        return GH_ERR_NOMEM;
    e->hash = key_hash(c, key, klen);
    e->expires_at = expires_at;
    e->klen = klen;
    e->vlen = vlen;
    memcpy(e->data, key, klen);
    memcpy(e->data + klen, val, vlen);

    size_t index = e->hash & (c->nsets - 1);
    struct set *s = &c->sets[index];
    pthread_mutex_t *lock = &c->locks[index % LOCKS];
    pthread_mutex_lock(lock);
    int slot = find(s, e->hash, key, klen);
    if (slot < 0) {
        /* An empty way, else the one that expires first. */
        slot = 0;
        for (int i = 0; i < WAYS; i++) {
            if (s->ways[i] == NULL) {
                slot = i;
                break;
            }
            if (s->ways[i]->expires_at < s->ways[slot]->expires_at)
                slot = i;
        }
    }
    struct entry *old = s->ways[slot];
    s->ways[slot] = e;
    pthread_mutex_unlock(lock);
    entry_free(old);
    return GH_OK;
}

static void count(struct gh_cache *c, int hit)
{
    struct stats *st = &c->stats[gh_shard_self()];
    atomic_fetch_add_explicit(hit ? &st->hits : &st->misses, 1, memory_order_relaxed);
}

gh_err gh_cache_get(struct gh_cache *c, const void *key, size_t klen, int64_t now, void *out,
                    size_t cap, size_t *vlen)
{
    if (klen > GH_CACHE_KEY_MAX)
        return GH_ERR_NOT_FOUND;
    uint64_t hash = key_hash(c, key, klen);
    size_t index = hash & (c->nsets - 1);
    struct set *s = &c->sets[index];
    pthread_mutex_t *lock = &c->locks[index % LOCKS];
    gh_err err = GH_ERR_NOT_FOUND;

    pthread_mutex_lock(lock);
    int slot = find(s, hash, key, klen);
    if (slot >= 0) {
        const struct entry *e = s->ways[slot];
        if (e->expires_at <= now) {
            err = GH_ERR_NOT_FOUND;
        } else if (e->vlen > cap) {
            err = GH_ERR_TOO_LARGE;
        } else {
            memcpy(out, e->data + e->klen, e->vlen);
            *vlen = e->vlen;
            err = GH_OK;
        }
    }
    pthread_mutex_unlock(lock);
    count(c, err == GH_OK);
    return err;
}

gh_err gh_cache_get_proven(struct gh_cache *c, const void *key, size_t klen, int64_t now,
                           const void *proof, size_t plen, void *out, size_t head)
{
    if (klen > GH_CACHE_KEY_MAX)
        return GH_ERR_NOT_FOUND;
    uint64_t hash = key_hash(c, key, klen);
    size_t index = hash & (c->nsets - 1);
    struct set *s = &c->sets[index];
    pthread_mutex_t *lock = &c->locks[index % LOCKS];
    gh_err err = GH_ERR_NOT_FOUND;

    pthread_mutex_lock(lock);
    int slot = find(s, hash, key, klen);
    if (slot >= 0) {
        const struct entry *e = s->ways[slot];
        const unsigned char *v = e->data + e->klen;
        /* The lengths are no secret: only the bytes are compared in constant time. */
        if (e->expires_at > now && e->vlen == head + plen &&
            gh_secret_equal(v + head, proof, plen)) {
            memcpy(out, v, head);
            err = GH_OK;
        }
    }
    pthread_mutex_unlock(lock);
    count(c, err == GH_OK);
    return err;
}

void gh_cache_del(struct gh_cache *c, const void *key, size_t klen)
{
    if (klen > GH_CACHE_KEY_MAX)
        return;
    uint64_t hash = key_hash(c, key, klen);
    size_t index = hash & (c->nsets - 1);
    struct set *s = &c->sets[index];
    pthread_mutex_t *lock = &c->locks[index % LOCKS];
    struct entry *old = NULL;

    pthread_mutex_lock(lock);
    int slot = find(s, hash, key, klen);
    if (slot >= 0) {
        old = s->ways[slot];
        s->ways[slot] = NULL;
    }
    pthread_mutex_unlock(lock);
    entry_free(old);
}

void gh_cache_clear(struct gh_cache *c)
{
    for (size_t i = 0; i < c->nsets; i++) {
        struct set *s = &c->sets[i];
        pthread_mutex_lock(&c->locks[i % LOCKS]);
        for (int w = 0; w < WAYS; w++) {
            entry_free(s->ways[w]);
            s->ways[w] = NULL;
        }
        pthread_mutex_unlock(&c->locks[i % LOCKS]);
    }
}

void gh_cache_stats(struct gh_cache *c, uint64_t *hits, uint64_t *misses)
{
    *hits = *misses = 0;
    for (unsigned i = 0; i < GH_SHARDS; i++) {
        *hits += atomic_load_explicit(&c->stats[i].hits, memory_order_relaxed);
        *misses += atomic_load_explicit(&c->stats[i].misses, memory_order_relaxed);
    }
}

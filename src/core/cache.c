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

/* Where a key lives: its hash, its set and the lock that guards the set. */
struct place {
    uint64_t hash;
    struct set *set;
    pthread_mutex_t *lock;
};

static struct place locate(struct gh_cache *c, uint64_t hash)
{
    size_t index = hash & (c->nsets - 1);
    return (struct place){hash, &c->sets[index], &c->locks[index % LOCKS]};
}

/* Index of key in p's set, or -1. Caller holds p.lock. Keys are digests and ids, not
 * secrets, so an ordinary comparison is fine here. */
static inline int find(const struct place *p, const void *key, size_t klen)
{
    for (int i = 0; i < WAYS; i++) {
        const struct entry *e = p->set->ways[i];
        if (e != NULL && e->hash == p->hash && e->klen == klen && memcmp(e->data, key, klen) == 0)
            return i;
    }
    return -1;
}

/* The entry of key unexpired at now, or NULL. Caller holds p.lock. */
static const struct entry *live(const struct place *p, const void *key, size_t klen, int64_t now)
{
    int slot = find(p, key, klen);
    const struct entry *e = slot < 0 ? NULL : p->set->ways[slot];
    return e != NULL && e->expires_at > now ? e : NULL;
}

/* Counts a lookup's answer as a hit or a miss and returns it. */
static gh_err counted(struct gh_cache *c, gh_err err)
{
    struct stats *st = &c->stats[gh_shard_self()];
    atomic_fetch_add_explicit(err == GH_OK ? &st->hits : &st->misses, 1, memory_order_relaxed);
    return err;
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

    struct place p = locate(c, e->hash);
    struct set *s = p.set;
    pthread_mutex_lock(p.lock);
    int slot = find(&p, key, klen);
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
    pthread_mutex_unlock(p.lock);
    entry_free(old);
    return GH_OK;
}

gh_err gh_cache_get(struct gh_cache *c, const void *key, size_t klen, int64_t now, void *out,
                    size_t cap, size_t *vlen)
{
    if (klen > GH_CACHE_KEY_MAX)
        return GH_ERR_NOT_FOUND;
    struct place p = locate(c, key_hash(c, key, klen));
    gh_err err = GH_ERR_NOT_FOUND;

    pthread_mutex_lock(p.lock);
    const struct entry *e = live(&p, key, klen, now);
    if (e != NULL && e->vlen > cap) {
        err = GH_ERR_TOO_LARGE;
    } else if (e != NULL) {
        memcpy(out, e->data + e->klen, e->vlen);
        *vlen = e->vlen;
        err = GH_OK;
    }
    pthread_mutex_unlock(p.lock);
    return counted(c, err);
}

gh_err gh_cache_get_proven(struct gh_cache *c, const void *key, size_t klen, int64_t now,
                           const void *proof, size_t plen, void *out, size_t head)
{
    if (klen > GH_CACHE_KEY_MAX)
        return GH_ERR_NOT_FOUND;
    struct place p = locate(c, key_hash(c, key, klen));
    gh_err err = GH_ERR_NOT_FOUND;

    pthread_mutex_lock(p.lock);
    const struct entry *e = live(&p, key, klen, now);
    /* The lengths are no secret: only the bytes are compared in constant time. */
    if (e != NULL && e->vlen == head + plen &&
        gh_secret_equal(e->data + e->klen + head, proof, plen)) {
        memcpy(out, e->data + e->klen, head);
        err = GH_OK;
    }
    pthread_mutex_unlock(p.lock);
    return counted(c, err);
}

void gh_cache_del(struct gh_cache *c, const void *key, size_t klen)
{
    if (klen > GH_CACHE_KEY_MAX)
        return;
    struct place p = locate(c, key_hash(c, key, klen));
    struct entry *old = NULL;

    pthread_mutex_lock(p.lock);
    int slot = find(&p, key, klen);
    if (slot >= 0) {
        old = p.set->ways[slot];
        p.set->ways[slot] = NULL;
    }
    pthread_mutex_unlock(p.lock);
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

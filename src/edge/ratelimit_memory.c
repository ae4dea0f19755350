/*
 * The in-process rate-limit backend (ratelimit.h). Not core/cache.c: that cache copies a
 * value into a fresh allocation on every put and reads and writes under separate locks;
 * a limiter updates its number on every request, so here the entries are fixed-size
 * slots allocated once and read-modify-written under the lock of their set's stripe.
 */
#include "edge/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define WAYS 8
/* Locks striped over the sets: a lock per set would be written at start and make the
 * whole table resident; with stripes a set's memory is touched only when a client lands
 * in it. 256 is far more than the polling threads that contend. */
#define LOCKS 256

struct slot {
    struct gh_rl_key key;
    int64_t tat; /* 0: empty */
};

struct set {
    struct slot ways[WAYS];
};

struct table {
    struct set *sets;
    size_t nsets;                 /* a power of two */
    pthread_mutex_t locks[LOCKS]; /* set i under locks[i % LOCKS] */
    unsigned char sipkey[crypto_shorthash_KEYBYTES];
};

gh_err gh_rl_memory_new(size_t capacity, void **out)
{
    struct table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return GH_ERR_NOMEM;
    size_t nsets = 1;
    while (nsets * WAYS < capacity)
        nsets *= 2;
    t->sets = calloc(nsets, sizeof(*t->sets));
    if (t->sets == NULL) {
        free(t);
        return GH_ERR_NOMEM;
    }
    t->nsets = nsets;
    for (size_t i = 0; i < LOCKS; i++)
        pthread_mutex_init(&t->locks[i], NULL);
    crypto_shorthash_keygen(t->sipkey);
    *out = t;
    return GH_OK;
}

static void table_free(void *backend)
{
    struct table *t = backend;
    if (t == NULL)
        return;
    for (size_t i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&t->locks[i]);
    free(t->sets);
    free(t);
}

size_t gh_rl_memory_bytes(const void *backend)
{
    const struct table *t = backend;
    return sizeof(*t) + t->nsets * sizeof(*t->sets);
}

static gh_err table_check(void *backend, const struct gh_rl_key *key, struct gh_rate rate,
                          int64_t now, struct gh_rl_verdict *out)
{
    struct table *t = backend;
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t hash;
    /* The key has no padding (16 + 4 bytes), so its bytes are its value. */
    crypto_shorthash(h, (const unsigned char *)key, sizeof(*key), t->sipkey);
    memcpy(&hash, h, sizeof(hash));
    size_t index = hash & (t->nsets - 1);
    struct set *s = &t->sets[index];
    pthread_mutex_t *lock = &t->locks[index % LOCKS];

    pthread_mutex_lock(lock);
    struct slot *found = NULL, *victim = &s->ways[0];
    for (int i = 0; i < WAYS; i++) {
        struct slot *w = &s->ways[i];
        if (w->tat != 0 && memcmp(&w->key, key, sizeof(*key)) == 0) {
            found = w;
            break;
        }
        if (w->tat < victim->tat)
            victim = w;
    }
    if (found == NULL) {
        /* An empty slot has tat 0, so it is the victim before any entry in use. */
        found = victim;
        found->key = *key;
        found->tat = 0;
    }
    int64_t tat = gh_gcra(found->tat, now, rate, out);
    found->tat = tat > 0 ? tat : 1;
    pthread_mutex_unlock(lock);
    return GH_OK;
}

const struct gh_rl_ops gh_rl_memory_ops = {
    .name = "memory",
    .check = table_check,
    .free = table_free,
};

#include "edge/backoff.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/cache.h"

struct gh_backoff {
    struct gh_cache *seen;  /* key -> struct state */
    pthread_mutex_t update; /* failures read-modify-write their count */
    int64_t base, max;
};

struct state {
    unsigned failures;
    int64_t until; /* no try before this */
};

gh_err gh_backoff_new(size_t capacity, int64_t base_s, int64_t max_s, struct gh_backoff **out)
{
    struct gh_backoff *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return GH_ERR_NOMEM;
    gh_err err = gh_cache_new(capacity, &b->seen);
    if (err != GH_OK) {
        free(b);
        return err;
    }
    pthread_mutex_init(&b->update, NULL);
    b->base = base_s > 0 ? base_s : 1;
    b->max = max_s > b->base ? max_s : b->base;
    *out = b;
    return GH_OK;
}

void gh_backoff_free(struct gh_backoff *b)
{
    if (b == NULL)
        return;
    gh_cache_free(b->seen);
    pthread_mutex_destroy(&b->update);
    free(b);
}

/* Keys longer than the cache takes are cut: a long name still backs off, as its prefix. */
static size_t key_len(const char *key)
{
    size_t n = strlen(key);
    return n > GH_CACHE_KEY_MAX ? GH_CACHE_KEY_MAX : n;
}

int64_t gh_backoff_wait(struct gh_backoff *b, const char *key, int64_t now)
{
    struct state s;
    size_t got = 0;
    if (gh_cache_get(b->seen, key, key_len(key), now, &s, sizeof(s), &got) != GH_OK ||
        got != sizeof(s) || s.until <= now)
        return 0;
    return s.until - now;
}

void gh_backoff_fail(struct gh_backoff *b, const char *key, int64_t now)
{
    struct state s = {0, 0};
    size_t got = 0;
    pthread_mutex_lock(&b->update);
    if (gh_cache_get(b->seen, key, key_len(key), now, &s, sizeof(s), &got) != GH_OK ||
        got != sizeof(s))
        s.failures = 0;
    if (s.failures < 63)
        s.failures++;
    int64_t wait = b->base;
    for (unsigned i = 1; i < s.failures && wait < b->max; i++)
        wait *= 2;
    if (wait > b->max)
        wait = b->max;
    s.until = now + wait;
    /* Kept until a full max past the wait, so a patient attacker still starts high. */
    (void)gh_cache_put(b->seen, key, key_len(key), &s, sizeof(s), s.until + b->max);
    pthread_mutex_unlock(&b->update);
}

void gh_backoff_clear(struct gh_backoff *b, const char *key)
{
    gh_cache_del(b->seen, key, key_len(key));
}

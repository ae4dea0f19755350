/* The shares of a sealed master key, until the threshold (crypto/unseal.h). */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "crypto/shamir.h"
#include "crypto/unseal.h"

_Static_assert(GH_SHARE_SECRET_LEN == GH_MASTER_KEY_LEN, "a share holds a master key");

struct gh_unseal {
    pthread_mutex_t lock;
    unsigned have, threshold;
    uint8_t split[GH_SHARE_SPLIT_LEN];
    uint8_t xs[GH_SHAMIR_MAX_SHARES];
    uint8_t ys[GH_SHAMIR_MAX_SHARES * GH_SHARE_SECRET_LEN];
};

gh_err gh_unseal_new(struct gh_unseal **out)
{
    struct gh_unseal *u = sodium_malloc(sizeof(*u));
    if (u == NULL)
        return GH_ERR_NOMEM;
    memset(u, 0, sizeof(*u));
    if (pthread_mutex_init(&u->lock, NULL) != 0) {
        sodium_free(u);
        return GH_ERR_NOMEM;
    }
    *out = u;
    return GH_OK;
}

void gh_unseal_free(struct gh_unseal *u)
{
    if (u == NULL)
        return;
    pthread_mutex_destroy(&u->lock);
    sodium_free(u);
}

/* Drops every share held; the caller holds the lock. */
static void drop(struct gh_unseal *u)
{
    sodium_memzero(u->xs, sizeof(u->xs));
    sodium_memzero(u->ys, sizeof(u->ys));
    u->have = u->threshold = 0;
}

gh_err gh_unseal_add(struct gh_unseal *u, const struct gh_share *s, struct gh_unseal_progress *p,
                     uint8_t master[GH_MASTER_KEY_LEN])
{
    gh_err err = GH_OK;
    pthread_mutex_lock(&u->lock);
    if (u->have > 0 &&
        (memcmp(u->split, s->split, sizeof(u->split)) != 0 || u->threshold != s->threshold)) {
        err = GH_ERR_CONFLICT;
        goto out;
    }
    for (unsigned i = 0; i < u->have; i++)
        if (u->xs[i] == s->x) {
            err = GH_ERR_REUSED;
            goto out;
        }
    if (u->have == 0) {
        memcpy(u->split, s->split, sizeof(u->split));
        u->threshold = s->threshold;
    }
    u->xs[u->have] = (uint8_t)s->x;
    memcpy(u->ys + u->have * GH_SHARE_SECRET_LEN, s->y, GH_SHARE_SECRET_LEN);
    u->have++;
    p->complete = 0;
    p->threshold = u->threshold;
    if (u->have >= u->threshold) {
        err = gh_shamir_combine(u->xs, u->ys, u->have, GH_SHARE_SECRET_LEN, master);
        p->complete = err == GH_OK;
        drop(u);
    }
    p->have = u->have;
out:
    pthread_mutex_unlock(&u->lock);
    return err;
}

#ifndef GH_CRYPTO_UNSEAL_H
#define GH_CRYPTO_UNSEAL_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "crypto/master.h"
#include "crypto/share.h"

/*
 * The shares a sealed server has received so far (crypto.sealed), in locked memory, until
 * the threshold is reached and the master key is combined (crypto/shamir.h). Safe to use
 * from several threads.
 */

struct gh_unseal;

gh_err gh_unseal_new(struct gh_unseal **out) GH_WUR GH_NONNULL(1);
/** Wipes and frees u; NULL is a no-op. */
void gh_unseal_free(struct gh_unseal *u);

/** Where an unseal stands after a share. */
struct gh_unseal_progress {
    unsigned have;      /* shares held (0 after the key was combined or the shares dropped) */
    unsigned threshold; /* of the split being collected (0: none yet) */
    int complete;       /* 1: master holds the combined key, the shares are dropped */
};

/**
 * Adds share s. GH_ERR_CONFLICT it belongs to another split (or another threshold) than
 * the shares held; GH_ERR_REUSED a share with that x is held already. Neither changes what
 * is held. When s is the threshold-th share, the key is combined into master, the shares
 * are wiped and p->complete is 1: the caller checks the key (it must open the data keys)
 * and wipes it.
 */
gh_err gh_unseal_add(struct gh_unseal *u, const struct gh_share *s, struct gh_unseal_progress *p,
                     uint8_t master[GH_MASTER_KEY_LEN]) GH_WUR GH_NONNULL(1, 2, 3, 4);

#endif

#ifndef GH_CRYPTO_DATAKEYS_H
#define GH_CRYPTO_DATAKEYS_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "crypto/aead.h"
#include "crypto/master.h"
#include "store/store.h"

/*
 * The data keys: random 32-byte keys, stored wrapped by the master key (AES-256-GCM under
 * HKDF(master, "gatehouse/v1/wrap"), the key id bound as associated data), held unwrapped
 * in locked memory (sodium_malloc). The highest id is the current key: it seals, every
 * key opens. No key is used directly: each (key, purpose, org) has its own subkey,
 * HKDF(data key, "gatehouse/v1/<purpose>/<org id or '-'>"), so one org's key never opens
 * another org's data. Safe to use from several threads.
 */

struct gh_datakeys;

/* The most data keys kept (a rotation a day for 2.8 years). */
#define GH_DATAKEYS_MAX 1024

/**
 * Opens the data keys of store under master (copied; the caller wipes its own): unwraps
 * every stored key and, when there is none, creates key 1. GH_ERR_AUTH a stored key does
 * not unwrap under master (another master key: nothing is created), GH_ERR_TOO_LARGE more
 * than GH_DATAKEYS_MAX keys; store errors as they come. *out set on GH_OK.
 */
gh_err gh_datakeys_open(const struct gh_store_handle *store,
                        const uint8_t master[GH_MASTER_KEY_LEN], int64_t now,
                        struct gh_datakeys **out) GH_WUR GH_NONNULL(1, 2, 4);

/** Wipes and frees dk; NULL is a no-op. */
void gh_datakeys_free(struct gh_datakeys *dk);

/**
 * Adds a fresh data key with the next id and makes it the current one (also for other
 * processes, which see it when they reload). *id (may be NULL) gets its id.
 */
gh_err gh_datakeys_rotate(struct gh_datakeys *dk, int64_t now, uint32_t *id) GH_WUR GH_NONNULL(1);

/**
 * The current key's id. The stored keys are read again when the last read is older than
 * a few seconds, so a key another process rotated in becomes current here too.
 */
uint32_t gh_datakeys_current(struct gh_datakeys *dk) GH_NONNULL(1);

/** How many data keys are held. */
size_t gh_datakeys_count(struct gh_datakeys *dk) GH_NONNULL(1);

/**
 * Derives into out the subkey of data key kid for purpose (a constant such as "field" or
 * "vault") and org_id (NULL: no org). An unknown kid reads the stored keys again (at
 * most once a second) before it is GH_ERR_NOT_FOUND.
 */
gh_err gh_datakeys_derive(struct gh_datakeys *dk, uint32_t kid, const char *purpose,
                          const char *org_id, uint8_t out[GH_AEAD_KEY_LEN]) GH_WUR
    GH_NONNULL(1, 3, 5);

#endif

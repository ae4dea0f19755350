#ifndef GH_CRYPTO_LSEAL_H
#define GH_CRYPTO_LSEAL_H

#include <stddef.h>
#include "core/err.h"

/*
 * Local sealing of small stored secrets (TOTP secrets) under a key derived from the
 * server's session secret, until the envelope of issue 14 (enc:v1) exists: XChaCha20-Poly1305
 * (libsodium), a random 24-byte nonce, ad bound as associated data (the owner's id), as
 * "lseal:v1:" + base64url(nonce || ciphertext || tag). The version prefix lets a later
 * migration find and rewrap every such value.
 */

#define GH_LSEAL_PREFIX "lseal:v1:"
#define GH_LSEAL_KEY_LEN 32
#define GH_LSEAL_MAX_PLAIN 64 /* what this seals: short secrets only */

/** Seals pt (at most GH_LSEAL_MAX_PLAIN bytes) bound to ad into out (cap bytes, NUL-ended). */
gh_err gh_lseal(const unsigned char key[GH_LSEAL_KEY_LEN], const char *ad, const unsigned char *pt,
                size_t n, char *out, size_t cap) GH_WUR GH_NONNULL(1, 2, 3, 5);

/**
 * Opens text sealed by gh_lseal under key for ad into pt (cap bytes), *n its length.
 * GH_ERR_INVALID not such a text, GH_ERR_AUTH another key, another ad or altered.
 * pt is written on GH_OK only; the caller wipes it.
 */
gh_err gh_lunseal(const unsigned char key[GH_LSEAL_KEY_LEN], const char *ad, const char *text,
                  unsigned char *pt, size_t cap, size_t *n) GH_WUR GH_NONNULL(1, 2, 3, 4, 6);

#endif

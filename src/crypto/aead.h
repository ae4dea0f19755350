#ifndef GH_CRYPTO_AEAD_H
#define GH_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * Authenticated encryption with a random nonce carried in front of the ciphertext:
 * sealed = nonce || ciphertext || tag. AES-256-GCM through OpenSSL EVP (96-bit nonces:
 * docs/CRYPTO.md gives the bound on messages per key) and XChaCha20-Poly1305 through
 * libsodium (192-bit nonces, for the vault's larger values). Nothing is hand-written.
 */

#define GH_AEAD_KEY_LEN 32
#define GH_GCM_NONCE_LEN 12
#define GH_GCM_TAG_LEN 16
#define GH_GCM_OVERHEAD (GH_GCM_NONCE_LEN + GH_GCM_TAG_LEN)
#define GH_XCHACHA_NONCE_LEN 24
#define GH_XCHACHA_TAG_LEN 16
#define GH_XCHACHA_OVERHEAD (GH_XCHACHA_NONCE_LEN + GH_XCHACHA_TAG_LEN)

/** The AEADs by name; the values are stored (vault rows), never renumber them. */
enum gh_aead_alg {
    GH_AEAD_AES256GCM = 1, /* AES-256-GCM, 96-bit random nonce */
    GH_AEAD_XCHACHA = 2,   /* XChaCha20-Poly1305 (IETF), 192-bit random nonce */
};

/** Bytes that sealing under alg adds to a plaintext (nonce and tag). */
size_t gh_aead_overhead(enum gh_aead_alg alg);

/**
 * Encrypts pt (n bytes, may be 0) under key with a fresh random nonce, binding ad (ad_len
 * bytes, may be NULL when 0) into the tag. out holds out_size bytes: at least n +
 * gh_aead_overhead(alg), else GH_ERR_TOO_LARGE. *out_len set on GH_OK; GH_ERR_CRYPTO when
 * the library fails.
 */
gh_err gh_aead_seal(enum gh_aead_alg alg, const uint8_t key[GH_AEAD_KEY_LEN], const uint8_t *ad,
                    size_t ad_len, const uint8_t *pt, size_t n, uint8_t *out, size_t out_size,
                    size_t *out_len) GH_WUR GH_NONNULL(2, 7, 9);

/**
 * Decrypts sealed (as gh_aead_seal writes it) into out (out_size >= len - overhead).
 * GH_ERR_AUTH when the tag does not match (a changed byte, another key or ad): out is then
 * wiped; GH_ERR_INVALID shorter than the overhead. *out_len set on GH_OK.
 */
gh_err gh_aead_open(enum gh_aead_alg alg, const uint8_t key[GH_AEAD_KEY_LEN], const uint8_t *ad,
                    size_t ad_len, const uint8_t *sealed, size_t len, uint8_t *out, size_t out_size,
                    size_t *out_len) GH_WUR GH_NONNULL(2, 5, 7, 9);

/**
 * AES-256-GCM with the caller's nonce (the known-answer tests; everything else uses
 * gh_aead_seal). out gets n ciphertext bytes then the 16-byte tag.
 */
gh_err gh_aead_gcm_raw(const uint8_t key[GH_AEAD_KEY_LEN], const uint8_t nonce[GH_GCM_NONCE_LEN],
                       const uint8_t *ad, size_t ad_len, const uint8_t *pt, size_t n,
                       uint8_t *out) GH_WUR GH_NONNULL(1, 2, 7);

#endif

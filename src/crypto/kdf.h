#ifndef GH_CRYPTO_KDF_H
#define GH_CRYPTO_KDF_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * Key derivation: HKDF-SHA256 (RFC 5869, OpenSSL's EVP_KDF) for keys derived from keys,
 * Argon2id (libsodium's crypto_pwhash) for keys derived from a passphrase.
 */

/**
 * HKDF-SHA256 of ikm with salt (may be NULL when salt_len is 0) and info into out (len
 * bytes, at most 255 * 32). GH_ERR_CRYPTO when the library fails.
 */
gh_err gh_kdf_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                   const uint8_t *info, size_t info_len, uint8_t *out, size_t len) GH_WUR
    GH_NONNULL(1, 7);

#define GH_KDF_SALT_LEN 16

/** Argon2id parameters (stored beside what they protect). */
struct gh_kdf_argon2 {
    uint32_t ops;     /* passes */
    uint32_t mem_kib; /* memory in KiB */
    uint8_t salt[GH_KDF_SALT_LEN];
};

/**
 * Argon2id of the passphrase (n bytes) into out (len bytes). GH_ERR_INVALID parameters
 * outside libsodium's bounds, GH_ERR_NOMEM the memory could not be had.
 */
gh_err gh_kdf_argon2id(const char *pass, size_t n, const struct gh_kdf_argon2 *p, uint8_t *out,
                       size_t len) GH_WUR GH_NONNULL(1, 3, 4);

#endif

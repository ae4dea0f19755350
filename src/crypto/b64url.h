#ifndef GH_CRYPTO_B64URL_H
#define GH_CRYPTO_B64URL_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/** Length of the unpadded base64url text for n bytes (without a NUL). */
size_t gh_b64url_encoded_len(size_t n);

/**
 * Encodes n bytes as unpadded base64url (RFC 4648 section 5) into out, which holds
 * out_size bytes; writes a terminating NUL. GH_ERR_TOO_LARGE when out is too small.
 * *out_len (not counting the NUL) is set on success.
 */
gh_err gh_b64url_encode(const uint8_t *in, size_t n, char *out, size_t out_size,
                        size_t *out_len) GH_WUR GH_NONNULL(3, 5);

/**
 * Decodes unpadded base64url strictly: '=' padding, characters outside the alphabet,
 * a length of 1 mod 4 and non-zero trailing bits are GH_ERR_INVALID.
 * GH_ERR_TOO_LARGE when out_size is too small. *out_len set on success.
 */
gh_err gh_b64url_decode(const char *in, size_t n, uint8_t *out, size_t out_size,
                        size_t *out_len) GH_WUR GH_NONNULL(3, 5);

#endif

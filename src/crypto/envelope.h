#ifndef GH_CRYPTO_ENVELOPE_H
#define GH_CRYPTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "crypto/aead.h"

/*
 * The text form of an encrypted field: "enc:v1:<key-id>:<base64url>", where key-id is the
 * data key's id in decimal (1 .. 2^31-1, no leading zero) and the base64url (unpadded)
 * holds nonce || ciphertext || tag of AES-256-GCM. Pure text: no key is involved here.
 */

#define GH_ENVELOPE_PREFIX "enc:v1:"
#define GH_ENVELOPE_PREFIX_LEN 7
/* The largest plaintext an envelope carries (the vault's bound too). */
#define GH_ENVELOPE_MAX_PLAIN 65536
#define GH_ENVELOPE_MAX_SEALED (GH_ENVELOPE_MAX_PLAIN + GH_GCM_OVERHEAD)
/* The longest envelope text, without its NUL. */
#define GH_ENVELOPE_MAX_TEXT                                                                       \
    (GH_ENVELOPE_PREFIX_LEN + 10 + 1 + (GH_ENVELOPE_MAX_SEALED + 2) / 3 * 4)

/** 1 when text (n bytes) starts with "enc:v1:" (an envelope, or a damaged one). */
int gh_envelope_is(const char *text, size_t n) GH_NONNULL(1);

/** The text length of an envelope of key kid around sealed_len bytes (without a NUL). */
size_t gh_envelope_len(uint32_t kid, size_t sealed_len);

/**
 * Writes the envelope of key kid around sealed (len bytes) into out (out_size bytes,
 * NUL-terminated). GH_ERR_INVALID kid 0 or above 2^31-1; GH_ERR_TOO_LARGE out too small
 * or len above GH_ENVELOPE_MAX_SEALED. *out_len (without the NUL) set on GH_OK.
 */
gh_err gh_envelope_format(uint32_t kid, const uint8_t *sealed, size_t len, char *out,
                          size_t out_size, size_t *out_len) GH_WUR GH_NONNULL(2, 4, 6);

/**
 * Parses text (n bytes, no NUL needed) strictly: the prefix, a key id, one ':', then
 * base64url of at least 28 bytes decoded into sealed (size bytes). GH_ERR_INVALID for
 * anything else (another prefix, a bad key id, truncated or non-canonical base64url, too
 * short), GH_ERR_TOO_LARGE more than size bytes or GH_ENVELOPE_MAX_TEXT. *kid and *len set
 * on GH_OK only.
 */
gh_err gh_envelope_parse(const char *text, size_t n, uint32_t *kid, uint8_t *sealed, size_t size,
                         size_t *len) GH_WUR GH_NONNULL(1, 3, 4, 6);

/** The key id of envelope text (n bytes), checking only the prefix and the id. */
gh_err gh_envelope_key_id(const char *text, size_t n, uint32_t *kid) GH_WUR GH_NONNULL(1, 3);

#endif

#ifndef GH_CRYPTO_FIELD_H
#define GH_CRYPTO_FIELD_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "crypto/datakeys.h"
#include "crypto/envelope.h"

/*
 * Field encryption: a value sealed with AES-256-GCM under the current data key's subkey for
 * its org (purpose "field"), as the text "enc:v1:<key-id>:<base64url>". The key id, the org
 * and the field name are bound as associated data: the text opens only for the same org
 * and field. This is the call for every secret Gatehouse stores for itself (TOTP secrets:
 * org_id NULL, field "totp:<user id>"; later SSO client secrets) and for
 * /api/v1/crypto/{encrypt,decrypt,rewrap}.
 *
 * field: 1 to GH_FIELD_NAME_MAX characters of [A-Za-z0-9_.:-]. org_id: a UUID or NULL.
 */

#define GH_FIELD_NAME_MAX 128

/** The size of the buffer gh_field_seal needs for n plaintext bytes (with the NUL). */
#define GH_FIELD_SEALED_SIZE(n)                                                                    \
    (GH_ENVELOPE_PREFIX_LEN + 10 + 1 + ((n) + GH_GCM_OVERHEAD + 2) / 3 * 4 + 1)

/** 1 when name is a valid field name. */
int gh_field_name_ok(const char *name) GH_NONNULL(1);

/**
 * Seals pt (1 .. GH_ENVELOPE_MAX_PLAIN bytes) for org_id and field into out (out_size
 * bytes, NUL-terminated; GH_FIELD_SEALED_SIZE(n) is enough). GH_ERR_INVALID an empty
 * plaintext, a bad field name or org id; GH_ERR_TOO_LARGE pt too long or out too small.
 * *out_len (without the NUL) set on GH_OK.
 */
gh_err gh_field_seal(struct gh_datakeys *dk, const char *org_id, const char *field,
                     const uint8_t *pt, size_t n, char *out, size_t out_size,
                     size_t *out_len) GH_WUR GH_NONNULL(1, 3, 4, 6, 8);

/**
 * Opens text (n bytes, "enc:v1:...") sealed for org_id and field into out (out_size bytes;
 * the text length is enough). GH_ERR_INVALID not an envelope (another prefix, a bad key
 * id, truncated base64url); GH_ERR_NOT_FOUND an unknown key id; GH_ERR_AUTH it does not
 * open (a changed byte, another org or field). out is wiped on failure. *out_len set on
 * GH_OK; the caller wipes out when done.
 */
gh_err gh_field_open(struct gh_datakeys *dk, const char *org_id, const char *field,
                     const char *text, size_t n, uint8_t *out, size_t out_size,
                     size_t *out_len) GH_WUR GH_NONNULL(1, 3, 4, 6, 8);

/**
 * The envelope text under the current key: opened and sealed again, or copied unchanged
 * when it already is under the current key (*changed 0). Errors as gh_field_open and
 * gh_field_seal; out as for gh_field_seal (out_size >= n + 8 is enough).
 */
gh_err gh_field_rewrap(struct gh_datakeys *dk, const char *org_id, const char *field,
                       const char *text, size_t n, char *out, size_t out_size, size_t *out_len,
                       int *changed) GH_WUR GH_NONNULL(1, 3, 4, 6, 8, 9);

#endif

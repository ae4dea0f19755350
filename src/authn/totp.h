#ifndef GH_AUTHN_TOTP_H
#define GH_AUTHN_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * TOTP (RFC 6238) over liboath: HMAC-SHA1, 30-second steps from the Unix epoch, the code
 * of time step T = floor(now / 30). Pure: no storage, no clock (the caller passes now).
 */

#define GH_TOTP_KEY_LEN 20 /* 160-bit secrets, RFC 4226's recommendation */
#define GH_TOTP_STEP 30
#define GH_TOTP_DIGITS 6
#define GH_TOTP_SECRET_TEXT 33 /* base32 of 20 bytes (32 characters) and its NUL */

/**
 * The code of time step step for key (len bytes, at most 64) with digits (6 to 8) digits,
 * as digits characters and a NUL in out. GH_ERR_INVALID bad sizes, GH_ERR_CRYPTO liboath.
 */
gh_err gh_totp_code(const unsigned char *key, size_t len, int64_t step, unsigned digits,
                    char out[9]) GH_WUR GH_NONNULL(1, 5);

/**
 * Whether code (6 decimal digits) is key's code of the step of now or of one step either
 * side (clock skew). Every candidate is computed and compared in constant time; *step gets
 * the matching step (the caller refuses a step already used). GH_ERR_AUTH no match,
 * GH_ERR_INVALID a code that is not 6 digits.
 */
gh_err gh_totp_match(const unsigned char *key, size_t len, int64_t now, const char *code,
                     int64_t *step) GH_WUR GH_NONNULL(1, 4, 5);

/** key (GH_TOTP_KEY_LEN bytes) as unpadded base32 (RFC 4648), as authenticator apps take it. */
gh_err gh_totp_secret_text(const unsigned char key[GH_TOTP_KEY_LEN],
                           char out[GH_TOTP_SECRET_TEXT]) GH_WUR GH_NONNULL(1, 2);

#endif

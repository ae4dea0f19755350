#ifndef GH_CRYPTO_SHARE_H
#define GH_CRYPTO_SHARE_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * A Shamir share of the master key as the operator keeps it (crypto/shamir.h): one line
 *   ghs1.<split id, 8 hex>.<threshold>.<x>.<32 bytes, base64url>.<check, 8 hex>
 * where the split id is random per `gatehouse key split` (shares of two splits do not
 * mix) and the check is the first 4 bytes of SHA-256 of everything before it (a mistyped
 * share is named, not silently combined).
 */

#define GH_SHARE_SECRET_LEN 32
#define GH_SHARE_SPLIT_LEN 4
/* "ghs1." 8 "." 3 "." 3 "." 43 "." 8 */
#define GH_SHARE_TEXT_MAX 80

struct gh_share {
    uint8_t split[GH_SHARE_SPLIT_LEN];
    unsigned threshold; /* 2..255 */
    unsigned x;         /* 1..255 */
    uint8_t y[GH_SHARE_SECRET_LEN];
};

/** Writes s as its line (NUL-terminated) into out (GH_SHARE_TEXT_MAX + 1 bytes). */
void gh_share_format(const struct gh_share *s, char out[GH_SHARE_TEXT_MAX + 1]) GH_NONNULL(1, 2);

/**
 * Parses a share line (n bytes; surrounding blanks and a final newline allowed).
 * GH_ERR_INVALID not a share (another form, bounds, x above threshold's range...);
 * GH_ERR_AUTH the check does not match (mistyped). *out set on GH_OK; the caller wipes it.
 */
gh_err gh_share_parse(const char *text, size_t n, struct gh_share *out) GH_WUR GH_NONNULL(1, 3);

#endif

#ifndef GH_CORE_TEXT_H
#define GH_CORE_TEXT_H

#include <stddef.h>
#include "core/err.h"

/* Small text helpers shared across layers. */

/** The value (0-15) of the hexadecimal digit c, either case, or -1. */
int gh_hex_value(char c);

/**
 * Copies the string src, NUL included, into the size bytes at dst. GH_ERR_INVALID (dst
 * untouched) when it does not fit.
 */
gh_err gh_copy_field(char *dst, size_t size, const char *src) GH_WUR GH_NONNULL(1, 3);

/**
 * in percent-encoded for a URL's query value (RFC 3986: every byte but the unreserved
 * A-Z a-z 0-9 - . _ ~ as %XX) into out (cap bytes, NUL-terminated). GH_ERR_TOO_LARGE
 * when it does not fit (out is then "").
 */
gh_err gh_percent_encode(const char *in, char *out, size_t cap) GH_WUR GH_NONNULL(1, 2);

#endif

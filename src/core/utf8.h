#ifndef GH_CORE_UTF8_H
#define GH_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/**
 * The length (1-4) of the well-formed UTF-8 sequence at s, which has n > 0 bytes left,
 * with its code point in *cp; 0 when it is malformed: a stray continuation byte, a
 * truncated sequence, an overlong form (0xC0 0xAE for '.'), a surrogate or anything past
 * U+10FFFF. Reads at most min(n, 4) bytes.
 */
size_t gh_utf8_next(const unsigned char *s, size_t n, uint32_t *cp) GH_NONNULL(1, 3);

/** Non-zero when the n bytes at s are well-formed UTF-8 (NUL counts as a character). */
int gh_utf8_valid(const unsigned char *s, size_t n);

#endif

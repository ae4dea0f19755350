#ifndef GH_CORE_BUF_H
#define GH_CORE_BUF_H

#include <stddef.h>
#include "core/err.h"

/**
 * A growable byte buffer with a hard cap fixed at init. The content is always
 * NUL-terminated (the NUL is not counted in len). Appends past max fail with
 * GH_ERR_TOO_LARGE and leave the buffer unchanged.
 */
struct gh_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
};

/** Prepares an empty buffer that may grow to max bytes; allocates nothing yet. */
void gh_buf_init(struct gh_buf *b, size_t max) GH_NONNULL(1);

/** Releases the memory (wiping it first: buffers may hold secrets). Accepts NULL. */
void gh_buf_clear(struct gh_buf *b);

/** Appends n bytes. */
gh_err gh_buf_append(struct gh_buf *b, const void *p, size_t n) GH_WUR GH_NONNULL(1);

/** Appends a NUL-terminated string. */
gh_err gh_buf_puts(struct gh_buf *b, const char *s) GH_WUR GH_NONNULL(1, 2);

/** Appends formatted text. */
gh_err gh_buf_printf(struct gh_buf *b, const char *fmt, ...) GH_WUR GH_PRINTF(2, 3);

/** Makes room for n more bytes: then up to n bytes may be written at ptr + len. */
gh_err gh_buf_reserve(struct gh_buf *b, size_t n) GH_WUR GH_NONNULL(1);

/** Appends s as the body of a JSON string (escaped, without the quotes). */
gh_err gh_buf_json_escape(struct gh_buf *b, const char *s, size_t n) GH_WUR GH_NONNULL(1);

/** Writes s[0..n) escaped like gh_buf_json_escape at dst, which has room for 6n bytes;
 * returns the end. */
char *gh_json_escape_to(char *dst, const char *s, size_t n) GH_NONNULL(1);

/** Hands the content to the caller (free() it) and leaves b empty. */
char *gh_buf_take(struct gh_buf *b) GH_NONNULL(1);

#endif

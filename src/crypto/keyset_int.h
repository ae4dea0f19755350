#ifndef GH_CRYPTO_KEYSET_INT_H
#define GH_CRYPTO_KEYSET_INT_H

/* Private to keyset.c and keyset_text.c: what both halves of the key set use. */

#include <stddef.h>
#include "core/err.h"

/** The message of a refusal into err (err_size bytes; a truncated one is still useful). */
void gh_keyset_fail(char *err, size_t err_size, const char *fmt, ...) GH_PRINTF(3, 4);

/** Whether s (n bytes) may be a manifest's "file": a plain file name in the keys directory
 * (no '/', not hidden) or an absolute path without "/../". */
int gh_keyset_file_ok(const char *s, size_t n);

#endif

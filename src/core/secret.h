#ifndef GH_CORE_SECRET_H
#define GH_CORE_SECRET_H

#include <stddef.h>
#include "core/err.h"

/**
 * Reads the secret of exactly len bytes kept in the file path, creating the file on first
 * use (O_EXCL, mode 0600, len random bytes, fsync'd; when another process creates it at the
 * same moment, its secret is read instead). A symlink or non-regular file is GH_ERR_IO, a
 * file readable or writable by group or others GH_ERR_FILE_MODE, one of another size
 * GH_ERR_INVALID. out is written only on GH_OK; the caller wipes it.
 */
gh_err gh_secret_file_load(const char *path, unsigned char *out, size_t len) GH_WUR
    GH_NONNULL(1, 2);

/**
 * 1 when a[0..n) equals b[0..n), else 0, in time that depends on n only. 64 bytes a step:
 * libsodium's sodium_memcmp and OpenSSL's CRYPTO_memcmp go a byte at a time (7.5 and 2.1 us
 * for the 1.2 KB of an RS256-4096 token on the loaded bench machine; bench/hash_cost.c).
 */
int gh_secret_equal(const void *a, const void *b, size_t n) GH_NONNULL(1, 2);

/**
 * realloc for a buffer that may hold secrets (a request head with a token, an answer head
 * with a session cookie): the first used bytes move to a new block of size bytes and the
 * old block is wiped before it is freed, so growing leaves no copy in freed memory. NULL
 * when out of memory, the old block untouched. old may be NULL (used 0).
 */
void *gh_secret_grow(void *old, size_t used, size_t size);

/** Wipes the first used bytes of p and frees it (p may be NULL). */
void gh_secret_free(void *p, size_t used);

#endif

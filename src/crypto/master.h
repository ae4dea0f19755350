#ifndef GH_CRYPTO_MASTER_H
#define GH_CRYPTO_MASTER_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * The master key (32 bytes): it wraps the data keys (crypto/datakeys.h) and nothing else.
 * It comes from GATEHOUSE_MASTER_KEY (64 hexadecimal digits), from crypto.master_key_file
 * (32 raw bytes, mode 0600, created with a fresh key on first use), or, sealed, from
 * Shamir shares (crypto/shamir.h). docs/CRYPTO.md describes the hierarchy.
 */

#define GH_MASTER_KEY_LEN 32

/**
 * The master key from hex (GATEHOUSE_MASTER_KEY) when it is not NULL, else from the file
 * path (gh_secret_file_load), created with a fresh key when missing if create is set
 * (else GH_ERR_NOT_FOUND: a missing file must not become a new key once data keys exist
 * under the old one). GH_ERR_INVALID hex that is not 64
 * hexadecimal digits or a file of another size, GH_ERR_FILE_MODE a file readable or
 * writable by group or others, GH_ERR_IO a symlink or unreadable file. out is written on
 * GH_OK only; the caller wipes it.
 */
gh_err gh_master_load(const char *hex, const char *path, int create,
                      uint8_t out[GH_MASTER_KEY_LEN]) GH_WUR GH_NONNULL(2, 4);

#endif

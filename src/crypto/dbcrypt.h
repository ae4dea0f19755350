#ifndef GH_CRYPTO_DBCRYPT_H
#define GH_CRYPTO_DBCRYPT_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * Encryption at rest for SQLite (storage.encrypt): a VFS over the default one that seals
 * every page image it writes to a database file, its WAL and its rollback journal with
 * XChaCha20-Poly1305 (libsodium). A page keeps its 4096 bytes: the first 4056 are the
 * ciphertext, the last 40 (the page's reserved bytes, SQLITE_FCNTL_RESERVE_BYTES) the
 * nonce and the tag; SQLite is handed those 40 bytes as zeros, as it wrote them, so its
 * WAL and journal checksums hold. docs/CRYPTO.md "SQLite at rest" gives the format.
 */

#define GH_DBCRYPT_PAGE 4096
#define GH_DBCRYPT_RESERVE 40 /* nonce (24) and tag (16) */
#define GH_DBCRYPT_KEY_LEN 32
#define GH_DBCRYPT_VFS "gh-dbcrypt"

/** The page key of the master key (HKDF-SHA256, "gatehouse sqlite pages v1"). */
gh_err gh_dbcrypt_key(const uint8_t master[32], uint8_t out[GH_DBCRYPT_KEY_LEN]) GH_WUR
    GH_NONNULL(1, 2);

/**
 * Registers the VFS named name (never the default) with key, or re-keys it when it is
 * registered already (the tests use two names for two keys). The key is kept in locked
 * memory for the process's life. GH_ERR_NOMEM, GH_ERR_INVALID a name of 32 bytes or more.
 */
gh_err gh_dbcrypt_register(const char *name, const uint8_t key[GH_DBCRYPT_KEY_LEN]) GH_WUR
    GH_NONNULL(1, 2);

/** What the database file at a path holds, as far as its first page tells. */
enum gh_dbcrypt_state {
    GH_DBCRYPT_EMPTY,  /* missing or empty: a new database */
    GH_DBCRYPT_PLAIN,  /* an unencrypted SQLite database */
    GH_DBCRYPT_SEALED, /* a page 1 that opens under the key */
    GH_DBCRYPT_OTHER,  /* neither: encrypted under another key, or not a database */
};

/**
 * Reads the first page of path (never writing) and tells which state it is in; key NULL
 * tells PLAIN from OTHER only. GH_ERR_IO the file cannot be read.
 */
gh_err gh_dbcrypt_probe(const char *path, const uint8_t *key, enum gh_dbcrypt_state *out) GH_WUR
    GH_NONNULL(1, 3);

#endif

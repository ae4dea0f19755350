#ifndef GH_CRYPTO_BACKUP_H
#define GH_CRYPTO_BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "crypto/kdf.h"
#include "crypto/master.h"

/*
 * The backup file (docs/CRYPTO.md, "Backups"): a 36-byte header that names the format
 * version and how the body is protected, then the body:
 *   "GHBACKUP" | version (1) | mode (0 plain, 1 master key, 2 passphrase) | 0 0 |
 *   Argon2id ops (4, big-endian) | Argon2id memory in KiB (4) | salt (16)
 * plain: the payload, then SHA-256 of header and payload (truncation and damage show);
 * encrypted: libsodium's secretstream (XChaCha20-Poly1305) header, then chunks of at most
 * 64 KiB, each as its length (4, big-endian) and its sealed bytes, the header bound to
 * the first as associated data, the last tagged final (truncation shows). The key is
 * Argon2id(passphrase, salt) or HKDF-SHA256(master key, salt, "gatehouse/v1/backup").
 * The payload: sections (name length 2, name, data length 8, data), then a name length 0.
 */

#define GH_BACKUP_VERSION 1
#define GH_BACKUP_HEADER_LEN 36
#define GH_BACKUP_NAME_MAX 128

enum gh_backup_mode {
    GH_BACKUP_PLAIN = 0,
    GH_BACKUP_MASTER = 1,
    GH_BACKUP_PASSPHRASE = 2,
};

struct gh_backup_header {
    unsigned version;
    enum gh_backup_mode mode;
    struct gh_kdf_argon2 argon2; /* passphrase mode; its salt is the salt of every mode */
};

/**
 * Parses the header at the start of a file (n bytes). GH_ERR_INVALID not a backup (too
 * short, another magic, an unknown mode, non-zero reserved bytes); a version other than
 * GH_BACKUP_VERSION parses (the caller names it). *out set on GH_OK.
 */
gh_err gh_backup_header_parse(const uint8_t *file, size_t n, struct gh_backup_header *out) GH_WUR
    GH_NONNULL(1, 3);

/** A section of the payload. name: [A-Za-z0-9_.-/], no "..", at most GH_BACKUP_NAME_MAX. */
struct gh_backup_section {
    const char *name;
    const uint8_t *data;
    size_t len;
};

/** The key of a backup: the master key, or a passphrase (NUL-terminated). */
struct gh_backup_key {
    const uint8_t *master; /* GH_MASTER_KEY_LEN bytes, or NULL */
    const char *passphrase;
};

/**
 * Writes the backup of the n sections into a new buffer (*out, *out_len; the caller
 * frees it with free). mode PLAIN ignores key; MASTER needs key->master; PASSPHRASE
 * key->passphrase (Argon2id with ops and mem_kib of argon2, a fresh salt).
 * progress (may be NULL) is told the payload bytes done so far and in all.
 */
gh_err gh_backup_write(const struct gh_backup_section *s, size_t n, enum gh_backup_mode mode,
                       const struct gh_backup_key *key, const struct gh_kdf_argon2 *argon2,
                       void (*progress)(size_t done, size_t total), uint8_t **out,
                       size_t *out_len) GH_WUR GH_NONNULL(1, 4, 7, 8);

/**
 * Checks and opens a whole backup file (n bytes) into its payload (*payload, *len; free
 * it with gh_backup_free_payload, which wipes it). Nothing outside is touched: the caller
 * restores only after this succeeded. GH_ERR_INVALID not a backup, another format version,
 * truncated, damaged (plain), or no key of its mode given (the caller reads the header
 * first to say which); GH_ERR_AUTH the key does not open it, or it was changed.
 */
gh_err gh_backup_read(const uint8_t *file, size_t n, const struct gh_backup_key *key,
                      uint8_t **payload, size_t *len) GH_WUR GH_NONNULL(1, 3, 4, 5);

void gh_backup_free_payload(uint8_t *payload, size_t len);

/**
 * Walks the payload's sections, calling fn for each (non-zero stops). GH_ERR_INVALID a
 * malformed payload or section name (checked whole before the first call).
 */
gh_err gh_backup_sections(const uint8_t *payload, size_t len,
                          int (*fn)(void *arg, const struct gh_backup_section *s), void *arg) GH_WUR
    GH_NONNULL(1, 3);

#endif

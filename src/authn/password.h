#ifndef GH_AUTHN_PASSWORD_H
#define GH_AUTHN_PASSWORD_H

#include <stddef.h>
#include "core/err.h"

#define GH_PWHASH_MAX 256

/** How new hashes are made. Copied from the config at start. */
enum gh_pwhash_alg {
    GH_PWHASH_BCRYPT,   /* bcrypt via libxcrypt, cost = bcrypt_cost */
    GH_PWHASH_ARGON2ID, /* Argon2id via libsodium */
};

/** How passwords are hashed (the password.hash, bcrypt_cost, argon2_* keys). */
struct gh_pwhash_params {
    enum gh_pwhash_alg alg;
    unsigned bcrypt_cost;
    unsigned argon2_ops;
    size_t argon2_memory;
};

/**
 * Hashes a password (len bytes, may contain any byte but NUL) into out (NUL-terminated).
 * bcrypt hashes are stored as "$bcrypt-sha256$" + a bcrypt string over base64(HMAC-SHA256)
 * of the password, so bytes past bcrypt's 72-byte limit still count; Argon2id hashes are
 * libsodium's "$argon2id$..." strings. Slow by design: call from the hashing pool.
 */
gh_err gh_password_hash(const struct gh_pwhash_params *p, const char *pw, size_t len,
                        char out[GH_PWHASH_MAX]) GH_WUR GH_NONNULL(1, 2, 4);

/**
 * GH_OK when pw matches hash, GH_ERR_AUTH when not (compared in constant time).
 * Accepts our bcrypt-sha256 and Argon2id forms and plain "$2a$/$2b$/$2y$" bcrypt
 * (imported users). GH_ERR_INVALID for a hash in no known form.
 */
gh_err gh_password_verify(const char *hash, const char *pw, size_t len) GH_WUR GH_NONNULL(1, 2);

/** Non-zero when hash was made with other parameters than p (rehash on next login). */
int gh_password_needs_rehash(const struct gh_pwhash_params *p, const char *hash) GH_NONNULL(1, 2);

#endif

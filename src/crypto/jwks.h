#ifndef GH_CRYPTO_JWKS_H
#define GH_CRYPTO_JWKS_H

#include <stddef.h>
#include "core/err.h"
#include "crypto/jwt.h"

/*
 * Another issuer's JSON Web Key Set (RFC 7517 §5), the keys an OpenID provider signs its
 * ID tokens with, as a ring that gh_jws_verify checks tokens against.
 */

/* The longest JWKS document read, in bytes. */
#define GH_JWKS_MAX (64 * 1024)

/**
 * Parses the JWKS text (n bytes) into a new ring of its usable signing keys (see
 * gh_sigkey_from_jwk: RSA, P-256 and Ed25519 public keys with a kid; at most 16). Keys it
 * cannot use (symmetric, another curve or algorithm, "use":"enc", a weak RSA key, a kid
 * seen before) are skipped and counted in *skipped. GH_ERR_INVALID not a JSON object with
 * a "keys" array, or no usable key; GH_ERR_TOO_LARGE past GH_JWKS_MAX; GH_ERR_NOMEM.
 */
gh_err gh_jwks_parse(const char *text, size_t n, struct gh_keyring **out, size_t *skipped) GH_WUR
    GH_NONNULL(1, 3, 4);

#endif

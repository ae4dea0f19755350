#ifndef GH_CRYPTO_SIGKEY_H
#define GH_CRYPTO_SIGKEY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/err.h"

/** JWS algorithms Gatehouse signs with. The algorithm is a property of the key. */
enum gh_alg {
    GH_ALG_RS256, /* RSASSA-PKCS1-v1_5 with SHA-256, RSA key >= 2048 bits */
    GH_ALG_ES256, /* ECDSA P-256 with SHA-256, JOSE raw r||s signature */
    GH_ALG_EDDSA, /* Ed25519 (RFC 8037) */
};

/** Longest signature any supported algorithm makes (RSA 8192). */
#define GH_SIG_MAX 1024
/** kid text: the RFC 7638 JWK thumbprint (SHA-256, base64url) = 43 chars + NUL. */
#define GH_KID_MAX 44

/** An asymmetric signing key bound to exactly one algorithm. Opaque. Thread-safe for sign/verify.
 */
struct gh_sigkey;

/** "RS256", "ES256" or "EdDSA". */
const char *gh_alg_name(enum gh_alg alg);
/** Parses an algorithm name exactly as gh_alg_name writes it; GH_ERR_INVALID otherwise. */
gh_err gh_alg_parse(const char *name, enum gh_alg *out) GH_WUR GH_NONNULL(1, 2);

/** Generates a fresh key. bits is used for RS256 only (2048..8192, multiple of 1024). */
gh_err gh_sigkey_generate(enum gh_alg alg, unsigned bits, struct gh_sigkey **out) GH_WUR
    GH_NONNULL(3);

/**
 * Loads a PEM private key (PKCS#8 or traditional). The algorithm follows from the key
 * type (RSA -> RS256, EC P-256 -> ES256, Ed25519 -> EdDSA; anything else GH_ERR_INVALID).
 * Refuses with GH_ERR_FILE_MODE a file readable or writable by group or others.
 * GH_ERR_IO when the file cannot be read.
 */
gh_err gh_sigkey_load(const char *path, struct gh_sigkey **out) GH_WUR GH_NONNULL(1, 2);

/**
 * Writes the private key as PKCS#8 PEM to a new file created with mode 0600
 * (O_EXCL: never overwrites; GH_ERR_CONFLICT if it exists). fsyncs before returning.
 */
gh_err gh_sigkey_save(const struct gh_sigkey *key, const char *path) GH_WUR GH_NONNULL(1, 2);

/**
 * Another issuer's public key from its JWK (RFC 7517): kty RSA (2048..8192 bits, n and e),
 * EC (crv P-256, x and y on the curve) or OKP (crv Ed25519, x). The JWK's kid (1 to
 * GH_KID_MAX - 1 characters, required) becomes the key's id; "use", when present, must be
 * "sig" and "alg", when present, the algorithm the key is bound to. GH_ERR_INVALID for
 * anything else (symmetric "oct" keys above all: the algorithm comes from the key, never
 * from a token); GH_ERR_CRYPTO / GH_ERR_NOMEM.
 */
gh_err gh_sigkey_from_jwk(const json_t *jwk, struct gh_sigkey **out) GH_WUR GH_NONNULL(2);

void gh_sigkey_free(struct gh_sigkey *key);

enum gh_alg gh_sigkey_alg(const struct gh_sigkey *key) GH_NONNULL(1);
/** The key id: its RFC 7638 thumbprint, base64url (another issuer's: its JWK kid). Owned
 * by the key. */
const char *gh_sigkey_kid(const struct gh_sigkey *key) GH_NONNULL(1);
/** RSA modulus bits, 256 for P-256 and Ed25519. */
unsigned gh_sigkey_bits(const struct gh_sigkey *key) GH_NONNULL(1);

/**
 * The public JWK: {kty, kid, use:"sig", alg, n, e} / {kty:"EC", crv:"P-256", x, y} /
 * {kty:"OKP", crv:"Ed25519", x}. New reference for the caller.
 */
gh_err gh_sigkey_public_jwk(const struct gh_sigkey *key, json_t **out) GH_WUR GH_NONNULL(1, 2);

/** Signs msg. ES256 signatures are the 64-byte JOSE form, not DER. */
gh_err gh_sigkey_sign(const struct gh_sigkey *key, const uint8_t *msg, size_t n, uint8_t *sig,
                      size_t sig_size, size_t *sig_len) GH_WUR GH_NONNULL(1, 4, 6);

/** GH_OK when sig is a valid signature of msg under key's algorithm, GH_ERR_AUTH if not. */
gh_err gh_sigkey_verify(const struct gh_sigkey *key, const uint8_t *msg, size_t n,
                        const uint8_t *sig, size_t sig_len) GH_WUR GH_NONNULL(1);

#endif

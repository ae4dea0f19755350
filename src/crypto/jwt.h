#ifndef GH_CRYPTO_JWT_H
#define GH_CRYPTO_JWT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "core/err.h"
#include <jansson.h>
#include "crypto/sigkey.h"

/** Longest token Gatehouse accepts or makes. */
#define GH_JWT_MAX 8192
#define GH_ID_MAX 64      /* sub, jti, org: UUID text (36) with room to spare */
#define GH_ROLES_MAX 512  /* roles joined with ',' */
#define GH_PERMS_MAX 2048 /* permissions joined with ' ' */

/**
 * The claims of a Gatehouse access token, typed. Strings are NUL-terminated;
 * roles are joined with ',' and perms with ' ' (neither contains those separators).
 */
struct gh_claims {
    char iss[256];
    char aud[256];
    char sub[GH_ID_MAX];
    char jti[GH_ID_MAX];
    char org[GH_ID_MAX];
    char roles[GH_ROLES_MAX];
    char perms[GH_PERMS_MAX];
    int64_t iat;
    int64_t nbf;
    int64_t exp;
    int64_t epoch;     /* "gh_ep": the user's revocation epoch when the token was made */
    int64_t org_epoch; /* "gh_oep": the user's epoch in org (removals from it) when made */
    int64_t auth_time; /* when the user last proved a password (0: unknown, not signed) */
};

/**
 * A set of signing keys: at most one active key signs, every key verifies. Safe to share
 * between threads: sign, verify and the JWKS readers take a read lock, add and replace a
 * write lock, so the ring can be reloaded while it serves (crypto/keyset.h builds it).
 */
struct gh_keyring;

gh_err gh_keyring_new(struct gh_keyring **out) GH_WUR GH_NONNULL(1);
/** Frees the ring and every key in it. Accepts NULL. No thread may still use it. */
void gh_keyring_free(struct gh_keyring *ring);
/**
 * Adds key (the ring takes ownership, also on failure). active != 0 makes it the
 * signing key (replacing a previous active one, which stays for verification).
 * GH_ERR_CONFLICT if a key with the same kid is already in the ring, GH_ERR_TOO_LARGE
 * when the ring already holds 16 keys.
 */
gh_err gh_keyring_add(struct gh_keyring *ring, struct gh_sigkey *key, int active) GH_WUR
    GH_NONNULL(1, 2);
/**
 * Replaces every key of ring by those of from, at once for concurrent signers, verifiers
 * and JWKS readers; the old keys are freed once no reader can hold them. On GH_OK from
 * has been consumed (freed); on error (GH_ERR_INVALID: from has no active key,
 * GH_ERR_NOMEM) both rings are unchanged and the caller still owns from.
 */
gh_err gh_keyring_replace(struct gh_keyring *ring, struct gh_keyring *from) GH_WUR GH_NONNULL(1, 2);
/**
 * The active key, or NULL. The pointer is only valid while nothing replaces the ring's
 * keys: for start-up code and tests, never on a serving thread.
 */
const struct gh_sigkey *gh_keyring_active(const struct gh_keyring *ring) GH_NONNULL(1);
/** The key with this kid, or NULL. Same validity rule as gh_keyring_active. */
const struct gh_sigkey *gh_keyring_find(const struct gh_keyring *ring, const char *kid,
                                        size_t kid_len) GH_NONNULL(1, 2);
/** How many keys the ring holds now. */
size_t gh_keyring_size(const struct gh_keyring *ring) GH_NONNULL(1);
/**
 * The distinct algorithms of the ring's keys, the active key's first, into out (at most
 * max); returns how many were written.
 */
size_t gh_keyring_algs(const struct gh_keyring *ring, enum gh_alg *out, size_t max)
    GH_NONNULL(1, 2);
/**
 * Calls use(arg, text, len) with the current {"keys":[...public JWKs...]} text, under the
 * ring's read lock: use must copy what it keeps and must not call into the ring.
 * GH_ERR_NOT_FOUND (use not called) while the ring is empty.
 */
gh_err gh_keyring_read_jwks(const struct gh_keyring *ring,
                            void (*use)(void *arg, const char *text, size_t len), void *arg) GH_WUR
    GH_NONNULL(1, 2);
/** A copy of the JWKS text ({"keys":[]} when empty); caller frees. */
gh_err gh_keyring_jwks(const struct gh_keyring *ring, char **out) GH_WUR GH_NONNULL(1, 2);

/**
 * Signs claims with the ring's active key: header {"alg","kid","typ":"at+jwt"}.
 * *out is a NUL-terminated compact JWS the caller frees.
 */
gh_err gh_jwt_sign(const struct gh_keyring *ring, const struct gh_claims *claims, char **out) GH_WUR
    GH_NONNULL(1, 2, 3);

/** What a verifier insists on. */
struct gh_jwt_expect {
    const char *iss; /* exact match required */
    const char *aud; /* must equal "aud", or be an element of it when it is an array */
    int64_t now;     /* unix seconds */
    int64_t leeway;  /* seconds of clock skew allowed on exp / nbf / iat */
};

/**
 * Verifies a compact JWS and fills *out. The key is chosen by the header's kid from the
 * ring and the header's alg must equal that key's algorithm (never the other way round):
 * alg "none", an alg that differs from the key's, an unknown or missing kid, a typ other
 * than "at+jwt" (case-insensitive, "application/" prefix allowed), a bad signature, bad
 * base64url, non-object JSON, duplicate or missing claims (iss sub aud exp iat nbf jti
 * org; roles and perms are optional arrays of strings without their separator, gh_ep,
 * gh_oep and auth_time optional integers defaulting to 0) give GH_ERR_AUTH; wrong iss / aud give
 * GH_ERR_AUTH; exp <= now - leeway gives GH_ERR_EXPIRED; nbf > now + leeway (or iat > now +
 * leeway) gives GH_ERR_NOT_YET. Over-long input gives GH_ERR_TOO_LARGE. "crit" headers are
 * refused (GH_ERR_AUTH).
 */
gh_err gh_jwt_verify(const struct gh_keyring *ring, const char *token, size_t len,
                     const struct gh_jwt_expect *expect, struct gh_claims *out) GH_WUR
    GH_NONNULL(1, 2, 4, 5);

/**
 * Verifies another issuer's compact JWS (an OpenID Connect ID token) against r, a ring of
 * that issuer's public keys (gh_jwks_parse): the key chosen by the header's kid (required),
 * the header's alg equal to that key's algorithm (so never "none", never HS256 with a
 * public key), typ absent or "JWT", no "crit". *claims gets the payload object (a new
 * reference) for the caller to judge; nothing of it is checked here. GH_ERR_AUTH for any
 * refusal, GH_ERR_TOO_LARGE past GH_JWT_MAX.
 */
gh_err gh_jws_verify(const struct gh_keyring *r, const char *token, size_t len,
                     json_t **claims) GH_WUR GH_NONNULL(1, 2, 4);

#endif

#ifndef GH_AUTHN_OIDC_IDTOKEN_H
#define GH_AUTHN_OIDC_IDTOKEN_H

#include <stdint.h>
#include "authn/sso_identity.h"
#include "core/err.h"
#include "crypto/jwt.h"

/*
 * The OpenID Connect ID token check (OIDC Core 1.0 §3.1.3.7): the signature against the
 * provider's keys (gh_jws_verify: kid, the algorithm from the key), then the claims.
 */

/** What the token must say. */
struct gh_idtoken_expect {
    const char *issuer;     /* the provider's issuer; "{tenantid}" in it is the token's tid */
    const char *client_id;  /* in aud; azp when aud has several members or azp is present */
    const char *nonce;      /* the nonce sent with the authorization request */
    int64_t now;            /* unix seconds */
    int64_t leeway;         /* seconds of clock skew allowed on exp, iat and nbf */
    const char *issuer_alt; /* another exact iss taken (gh_idtoken_issuer_alt); NULL none */
};

/** The other exact iss p's tokens may carry: "accounts.google.com" for the google preset
 * with Google's own issuer (Google's ID tokens name either form, its docs say to take
 * both); NULL for every other provider. */
const char *gh_idtoken_issuer_alt(const struct gh_sso_provider *p) GH_NONNULL(1);

/** The ID token's fate, one value each (for the audit trail's reason). */
enum gh_idtoken_refusal {
    GH_IDT_OK,
    GH_IDT_SIGNATURE, /* not a JWS, bad signature, unknown kid, alg not the key's */
    GH_IDT_ISSUER,    /* iss not the provider's (or no usable tid for a templated one) */
    GH_IDT_AUDIENCE,  /* client_id not in aud, or azp missing/other */
    GH_IDT_EXPIRED,   /* exp in the past (beyond the leeway) */
    GH_IDT_NOT_YET,   /* iat or nbf in the future (beyond the leeway) */
    GH_IDT_NONCE,     /* nonce missing or another */
    GH_IDT_CLAIMS,    /* a required claim missing or ill-typed, or no usable subject */
};

/** A short name for a refusal ("nonce", "audience"...). */
const char *gh_idtoken_refusal_name(enum gh_idtoken_refusal r);

/**
 * Verifies the ID token (len bytes) against keys and e, then maps its claims by p's claim
 * paths into *out. GH_OK, or GH_ERR_AUTH with *why saying which check refused it (a
 * GH_IDT_SIGNATURE may be a key the provider rotated in: the caller fetches its keys again,
 * once, and retries).
 */
gh_err gh_idtoken_verify(const struct gh_keyring *keys, const char *token, size_t len,
                         const struct gh_idtoken_expect *e, const struct gh_sso_provider *p,
                         struct gh_sso_identity *out, enum gh_idtoken_refusal *why) GH_WUR
    GH_NONNULL(1, 2, 4, 5, 6, 7);

/** Judges already verified claims against e (the part of gh_idtoken_verify after the
 * signature); GH_IDT_OK when they pass. */
enum gh_idtoken_refusal gh_idtoken_check(const json_t *claims, const struct gh_idtoken_expect *e)
    GH_NONNULL(1, 2);

#endif

#ifndef GH_AUTHN_OIDC_META_H
#define GH_AUTHN_OIDC_META_H

#include <stddef.h>
#include "core/err.h"
#include "store/records.h"

/*
 * An OpenID provider's discovery document (OpenID Connect Discovery 1.0 §3), read from
 * <issuer>/.well-known/openid-configuration: what the sign-in needs of it, checked.
 */

/* The longest discovery document read, in bytes. */
#define GH_OIDC_META_MAX (64 * 1024)

struct gh_oidc_meta {
    char issuer[GH_SSO_URL_MAX + 1];
    char authorization_endpoint[GH_SSO_URL_MAX + 1];
    char token_endpoint[GH_SSO_URL_MAX + 1];
    char userinfo_endpoint[GH_SSO_URL_MAX + 1]; /* "" none */
    char jwks_uri[GH_SSO_URL_MAX + 1];
    char introspection_endpoint[GH_SSO_URL_MAX + 1]; /* RFC 7662; "" none */
    int s256;        /* PKCE S256 supported (or the provider does not say) */
    int secret_post; /* client_secret_post listed (basic is the default when none is) */
};

/**
 * Parses the document text (n bytes) of the provider whose configured issuer is issuer.
 * GH_ERR_INVALID: not a JSON object, issuer not exactly the configured one (OIDC
 * Discovery §4.3; Microsoft's "{tenantid}" compares as text), a required endpoint
 * (authorization, token, jwks_uri) missing, or any endpoint not an acceptable URL
 * (gh_ssop_url_ok: https, or http to loopback); *field (may be NULL) names the member.
 * GH_ERR_TOO_LARGE past GH_OIDC_META_MAX.
 */
gh_err gh_oidc_meta_parse(const char *text, size_t n, const char *issuer, struct gh_oidc_meta *out,
                          const char **field) GH_WUR GH_NONNULL(1, 3, 4);

struct gh_fetch;

/**
 * Fetches p's discovery document (its issuer, Microsoft's "{tenantid}" replaced by p's
 * tenant, without a final "/", then "/.well-known/openid-configuration") on f within
 * timeout_ms and parses it as gh_oidc_meta_parse. GH_ERR_IO no answer or not a 200
 * (*why "unreachable"), GH_ERR_INVALID a document that fails the checks (*why
 * "invalid_discovery"), GH_ERR_NOMEM.
 */
gh_err gh_oidc_meta_fetch(struct gh_fetch *f, const struct gh_sso_provider *p, long timeout_ms,
                          struct gh_oidc_meta *out, const char **why) GH_WUR GH_NONNULL(1, 2, 4, 5);

#endif

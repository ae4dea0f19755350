#ifndef GH_AUTHN_SSO_TOKEN_H
#define GH_AUTHN_SSO_TOKEN_H

#include <stddef.h>
#include "authn/signin.h"
#include "authn/sso_providers.h"
#include "authn/sso_remote.h"
#include "core/err.h"

/*
 * Provider-token login (API.md "SSO", POST /api/v1/auth/oauth/login): a native or
 * single-page app sends the access token a provider gave it; the provider's userinfo
 * endpoint says whose it is, and that identity signs in (authn/sso_account) for a
 * Gatehouse token pair; with the provider's allowed_client_ids, only for a token issued to
 * one of those apps (authn/sso_client.h). Answers are cached by the token's SHA-256 (refusals too)
 * for at most the token's remaining life (its exp when it is a JWT; read only to shorten the cache,
 * never trusted) or GH_SSO_TOKEN_CACHE_TTL seconds, so that a replayed token does not reach the
 * provider again.
 */

#define GH_SSO_TOKEN_CACHE_TTL 60
#define GH_SSO_TOKEN_MAX 8192           /* the longest access token taken */
#define GH_SSO_TOKEN_CACHE_ENTRIES 4096 /* answers kept: at most ~4 MB under a flood of tokens */

struct gh_ssotok;

/** Everything must outlive it; cache_size: entries of the answer cache (made on first use). */
gh_err gh_ssotok_new(struct gh_ssop *providers, struct gh_sso_remote *remote,
                     const struct gh_signin *signin, size_t cache_size,
                     struct gh_ssotok **out) GH_WUR GH_NONNULL(1, 2, 3, 5);
void gh_ssotok_free(struct gh_ssotok *t);

/**
 * Signs in with access_token (len bytes) of provider. okta_domain (may be NULL) must be
 * the provider's own Okta domain: a caller never picks the host asked. GH_OK (*out as
 * gh_signin_sso without cookies); GH_ERR_INVALID *reason "provider" (none such enabled
 * with a userinfo endpoint) or "okta_domain"; GH_ERR_AUTH the provider refused the token;
 * GH_ERR_IO it did not answer within sso.timeout (or answered garbage); the refusals of
 * gh_signin_sso. *reason is a fixed word, audited with SSO_LOGIN_FAILED.
 */
gh_err gh_ssotok_login(struct gh_ssotok *t, const char *provider, const char *access_token,
                       size_t len, const char *okta_domain, const struct gh_reqmeta *meta,
                       struct gh_signin_result *out, const char **reason) GH_WUR
    GH_NONNULL(1, 2, 3, 7, 8);

/** Answers from the cache and from the provider since start (the bench's figures). */
void gh_ssotok_stats(struct gh_ssotok *t, uint64_t *hits, uint64_t *misses) GH_NONNULL(1, 2, 3);

#endif

#ifndef GH_AUTHN_SSO_CLIENT_H
#define GH_AUTHN_SSO_CLIENT_H

#include "authn/sso_providers.h"
#include "authn/sso_remote.h"
#include "core/err.h"

/*
 * Which app an access token was issued to, for provider-token login (docs/SSO.md "Tokens
 * of other apps"): a provider's userinfo endpoint answers for any token it issued, to any
 * client, so a provider with allowed_client_ids takes only tokens of those clients. The
 * client is told by, in this order:
 *   - Google's tokeninfo (the google preset's tokeninfo_endpoint): its "aud" or "azp";
 *   - the provider's RFC 7662 introspection endpoint (its discovery document's), asked
 *     with Gatehouse's own client credentials: "active" and its "client_id";
 *   - else, for a JWT access token the userinfo endpoint has just accepted (so its
 *     issuer verified this exact token, signature and all), its client claim: client_id
 *     (RFC 9068), azp, cid (Okta) or appid (Microsoft v1), the first present;
 *   - else nothing can tell it, and the token is refused: never a guess.
 */

/**
 * Judges access_token of p (whose allowed_client_ids is not empty) after its userinfo
 * endpoint accepted it. GH_OK a listed client; GH_ERR_AUTH *reason "token_other_client"
 * (another client, or none can be told) or "token_refused" (introspection says inactive,
 * tokeninfo does not know it); GH_ERR_IO the introspection or tokeninfo did not answer, or answered
 * garbage (*reason "provider_unavailable" or "provider_answer_invalid"); the envelope's errors
 * opening the client secret.
 */
gh_err gh_sso_token_client(struct gh_ssop *providers, struct gh_sso_remote *remote,
                           const struct gh_sso_provider *p, const struct gh_sso_endpoints *ep,
                           const char *access_token, const char **reason) GH_WUR
    GH_NONNULL(1, 2, 3, 4, 5, 6);

/** 1 when the space-separated list holds id (compared whole). */
int gh_sso_client_listed(const char *list, const char *id) GH_NONNULL(1, 2);

#endif

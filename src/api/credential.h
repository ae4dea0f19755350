#ifndef GH_API_CREDENTIAL_H
#define GH_API_CREDENTIAL_H

#include <stddef.h>
#include "api/request.h"
#include "core/err.h"
#include "http/http.h"

/*
 * The credential chain: one ordered table of extractors that finds the caller's
 * credential in a request, used by the dispatcher for protected routes and by /verify.
 * Order and precedence (enum gh_cred_source):
 *   1. Authorization: Bearer <token>   (an access JWT, or an "ak_" API key)
 *   2. X-API-Key: ak_...
 *   3. the gh_sid session cookie        (only when a session hook is plugged in)
 *   4. Sec-WebSocket-Protocol bearer.<token>   (/verify only: WebSocket upgrades)
 *   5. ?token= of the original URI      (/verify on media routes only)
 * The two headers (1, 2) are explicit credentials: both are read, each may be sent once,
 * and when both are sent they must carry the same token (else 400 invalid_request);
 * Authorization with another scheme than Bearer is a credential we do not take (401).
 * The later sources are consulted only when no header credential was sent: a bearer or
 * API-key caller with a stale session cookie is proven by the header, never the cookie.
 */

#define GH_SRC_BIT(s) (1u << (s))
/** What protected API routes accept. */
#define GH_SOURCES_API                                                                             \
    (GH_SRC_BIT(GH_SRC_AUTHORIZATION) | GH_SRC_BIT(GH_SRC_API_KEY) | GH_SRC_BIT(GH_SRC_SESSION))
/** What /verify accepts (the media query only where the route rule allows it). */
#define GH_SOURCES_VERIFY (GH_SOURCES_API | GH_SRC_BIT(GH_SRC_WEBSOCKET))

/** A credential found in a request; token points into the request. */
struct gh_credential {
    enum gh_cred_source source;
    const char *token; /* "" for an Authorization scheme other than Bearer */
    size_t len;
};

/**
 * Runs the chain over the sources in mask sources (GH_SRC_BIT), plus the ?token= of
 * media_uri when it is not NULL. 0 with *out set when a credential was found, 1 when none
 * was, -1 after answering 400 invalid_request (a repeated or disagreeing credential).
 */
int gh_credential_find(struct gh_req *req, unsigned sources, const char *media_uri,
                       struct gh_credential *out) GH_WUR GH_NONNULL(1, 4);

/**
 * Proves cred and makes it the request's caller (gh_api_identity, gh_credential_method).
 * Counts API-key uses in the metrics. The errors of gh_auth_verify_bearer (or of the
 * session hook); GH_ERR_AUTH for an API key in a URL; GH_ERR_NOMEM.
 */
gh_err gh_credential_prove(struct gh_req *req, const struct gh_credential *cred) GH_WUR
    GH_NONNULL(1, 2);

/**
 * gh_credential_prove that also takes a gateway token for audience (authn/gateway.h) when
 * it is not NULL: /verify for a route rule naming it.
 */
gh_err gh_credential_prove_for(struct gh_req *req, const struct gh_credential *cred,
                               const char *audience) GH_WUR GH_NONNULL(1, 2);

/**
 * Answers a failed proof: 401 with WWW-Authenticate (error="invalid_token" when a
 * credential was sent, or always when invalid_token_always), 503/500 for service errors.
 */
void gh_credential_reply_unproven(struct gh_req *req, gh_err err, int had_credential,
                                  int invalid_token_always) GH_NONNULL(1);

/**
 * Finds and proves the caller of a protected route (GH_SOURCES_API): 0 when proven;
 * otherwise answers (400, 401, 503) and returns -1.
 */
int gh_credential_authenticate(struct gh_req *req) GH_WUR GH_NONNULL(1);

/**
 * How the proven caller authenticated, as X-Auth-Method shows it: "jwt", "api_key" or
 * "session" (API.md); NULL when unproven.
 */
const char *gh_credential_method(const struct gh_req *req) GH_NONNULL(1);

#endif

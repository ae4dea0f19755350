#ifndef GH_AUTHN_GATEWAY_H
#define GH_AUTHN_GATEWAY_H

#include <stddef.h>
#include <stdint.h>
#include "authn/service.h"

/*
 * Gateway tokens (API.md "WebSocket and gateway tokens"): short-lived access tokens for one
 * audience, for machines and WebSocket clients that must not hold a long-lived credential.
 * One is an access JWT of the caller in its org whose aud is "gateway:<audience>", not the
 * configured audience: every check of an ordinary access token refuses it (wrong aud), and
 * only /verify, for a route rule naming that audience (aud=<name>), verifies it here. It
 * carries the user's revocation epoch and is checked like an access token (disabled user,
 * logout-all, password change, removal from its org end it at once). Never cached.
 */

#define GH_GATEWAY_TTL_MAX 3600 /* seconds: at most an hour */

/**
 * Signs a gateway token for who (a user's token, session or unscoped key: GH_ERR_FORBIDDEN
 * for a scoped API key, which must not mint a stronger credential) in who's org, for
 * audience (already checked: 1-64 of [a-z0-9._-]), valid ttl seconds (1..GH_GATEWAY_TTL_MAX:
 * else GH_ERR_INVALID). *token is allocated (free()).
 */
gh_err gh_gateway_mint(struct gh_auth *a, const struct gh_identity *who, const char *audience,
                       int64_t ttl, char **token) GH_WUR GH_NONNULL(1, 2, 3, 5);

/**
 * Verifies token as a gateway token for audience and fills *out like gh_auth_verify_bearer
 * (its errors: GH_ERR_AUTH for anything but a valid gateway token for exactly audience).
 */
gh_err gh_gateway_verify(struct gh_auth *a, const char *token, size_t len, const char *audience,
                         struct gh_identity *out) GH_WUR GH_NONNULL(1, 2, 4, 5);

#endif

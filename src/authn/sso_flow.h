#ifndef GH_AUTHN_SSO_FLOW_H
#define GH_AUTHN_SSO_FLOW_H

#include <stddef.h>
#include "authn/signin.h"
#include "authn/sso_providers.h"
#include "authn/sso_remote.h"
#include "core/err.h"

/*
 * The browser's sign-in through an OIDC or OAuth2 provider (API.md "SSO", browser flow):
 * the authorization code flow with state, nonce and PKCE S256.
 *
 * The state is 32 random bytes, kept only as its SHA-256 (store: sso_states) for
 * GH_SSO_STATE_TTL seconds, taken once by the callback, and bound to the browser that
 * started the sign-in: the gh_sso cookie (32 random bytes, HttpOnly) whose SHA-256 the
 * state row holds. The PKCE verifier (HMAC of the cookie and the state) and the nonce
 * (HMAC of the state) are derived under the server's SSO key, so nothing stored is of use
 * without that browser's cookie. Every refusal is audited SSO_LOGIN_FAILED with a reason.
 */

#define GH_SSO_STATE_TTL 600
#define GH_SSO_LEEWAY 60       /* seconds of clock skew allowed on an ID token's times */
#define GH_SSO_BINDING_TEXT 44 /* 32 bytes as base64url and a NUL */
#define GH_SSO_KEY_LEN 32
#define GH_SSO_CALLBACK "/api/v1/auth/sso/callback"
#define GH_SSO_LOCATION_MAX 8192

struct gh_sso_flow;

/** Everything the flow uses must outlive it; key is copied. */
gh_err gh_sso_flow_new(const struct gh_store_handle *store, struct gh_ssop *providers,
                       struct gh_sso_remote *remote, const struct gh_signin *signin,
                       const char *public_url, int64_t leeway,
                       const unsigned char key[GH_SSO_KEY_LEN], struct gh_sso_flow **out) GH_WUR
    GH_NONNULL(1, 2, 3, 4, 5, 7, 8);
/** Wipes the key. Accepts NULL. */
void gh_sso_flow_free(struct gh_sso_flow *f);

/** Where the browser goes next, and its gh_sso cookie. */
struct gh_sso_start {
    char location[GH_SSO_LOCATION_MAX];
    char binding[GH_SSO_BINDING_TEXT];
};

/**
 * Starts a sign-in through provider (enabled, oidc or oauth2) returning to redirect_to
 * (already judged by the caller), for the browser whose gh_sso cookie is binding (NULL or
 * malformed: a new one). GH_ERR_NOT_FOUND no such enabled provider; GH_ERR_IO its
 * discovery document did not come; GH_ERR_INVALID it lacks an endpoint; the store's.
 */
gh_err gh_sso_flow_begin(struct gh_sso_flow *f, const char *provider, const char *redirect_to,
                         const char *binding, struct gh_sso_start *out) GH_WUR
    GH_NONNULL(1, 2, 3, 5);

/** What the provider sent the browser back with (NULL: absent). */
struct gh_sso_callback {
    const char *state;
    const char *code;
    const char *error; /* the provider's refusal (the user declined...) */
    const char *binding;
};

/**
 * Finishes a sign-in: the state taken and judged, the code exchanged, the ID token (OIDC)
 * or the userinfo answer (OAuth2) read, then gh_signin_sso with cookies. redirect_to gets
 * where the sign-in meant to return. GH_OK (out may ask for the second factor); else
 * *reason (a fixed word) and GH_ERR_AUTH (a refused or spoiled sign-in), GH_ERR_IO the
 * provider did not answer in time (nothing stored), GH_ERR_FORBIDDEN a disabled user,
 * GH_ERR_NOT_FOUND / GH_ERR_CONFLICT no account may be used.
 */
gh_err gh_sso_flow_finish(struct gh_sso_flow *f, const struct gh_sso_callback *in,
                          const struct gh_reqmeta *meta, struct gh_signin_result *out,
                          char redirect_to[GH_SSO_RETURN_MAX + 1], const char **reason) GH_WUR
    GH_NONNULL(1, 2, 4, 5, 6);

#endif

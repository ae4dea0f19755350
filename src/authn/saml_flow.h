#ifndef GH_AUTHN_SAML_FLOW_H
#define GH_AUTHN_SAML_FLOW_H

#include <stddef.h>
#include "audit/audit.h"
#include "authn/signin.h"
#include "authn/sso_providers.h"
#include "core/err.h"
#include "store/records.h"

/*
 * The browser's sign-in through a SAML 2.0 identity provider (API.md "SSO", SAML 2.0 SP):
 * our SP metadata, an AuthnRequest by HTTP-Redirect, the IdP's Response by HTTP-POST at
 * the ACS.
 *
 * The RelayState is 32 random bytes (base64url: within SAML's 80 bytes), kept only as its
 * SHA-256 (store: sso_states, shared with the OIDC flow) for GH_SAML_STATE_TTL seconds,
 * taken once by the ACS, and bound to the browser that started the sign-in by the gh_saml
 * cookie (32 random bytes, HttpOnly; its SHA-256 in the state). The AuthnRequest's ID is
 * derived from the RelayState, so the Response's InResponseTo must answer the request
 * this browser made. The Response must be signed (saml_lasso.h), well shaped
 * (saml_facts.h) and meet the rules (saml_check.h); its Assertion ID is then remembered
 * in the store until the assertion expires, so a replay fails on every node. Every
 * refusal is audited SSO_LOGIN_FAILED with a fixed reason, never the assertion's values.
 */

#define GH_SAML_STATE_TTL 600
#define GH_SAML_BINDING_TEXT 44 /* 32 bytes as base64url and a NUL */
#define GH_SAML_RELAY_TEXT 44
#define GH_SAML_ACS "/api/v1/auth/saml/acs"
#define GH_SAML_METADATA "/api/v1/auth/saml/metadata"
#define GH_SAML_LOCATION_MAX 16384
#define GH_SAML_POST_MAX 262144 /* the largest SAMLResponse accepted, base64 */

struct gh_saml_flow;

/** Everything the flow uses must outlive it. */
gh_err gh_saml_flow_new(const struct gh_store_handle *store, struct gh_ssop *providers,
                        const struct gh_signin *signin, const char *public_url,
                        struct gh_saml_flow **out) GH_WUR GH_NONNULL(1, 2, 3, 4, 5);
/** Accepts NULL. */
void gh_saml_flow_free(struct gh_saml_flow *f);

/**
 * Our SP metadata for provider name (enabled, saml) into *out (heap, NUL-terminated; the
 * caller frees): the entity id, the ACS (HTTP-POST) and our signing certificate.
 * GH_ERR_NOT_FOUND no such SAML provider.
 */
gh_err gh_saml_flow_metadata(struct gh_saml_flow *f, const char *name, char **out) GH_WUR
    GH_NONNULL(1, 2, 3);

/** Where the browser goes next, and its gh_saml cookie. */
struct gh_saml_start {
    char location[GH_SAML_LOCATION_MAX];
    char binding[GH_SAML_BINDING_TEXT];
};

/**
 * Starts a sign-in through provider (enabled, saml) returning to redirect_to (already
 * judged by the caller), for the browser whose gh_saml cookie is binding (NULL or
 * malformed: a new one). GH_ERR_NOT_FOUND no such provider; GH_ERR_IO lasso cannot be
 * loaded; GH_ERR_INVALID lasso refuses the provider's configuration; the store's.
 */
gh_err gh_saml_flow_begin(struct gh_saml_flow *f, const char *provider, const char *redirect_to,
                          const char *binding, struct gh_saml_start *out) GH_WUR
    GH_NONNULL(1, 2, 3, 5);

/** What the browser posted to the ACS (NULL: absent), and its gh_saml cookie. */
struct gh_saml_post {
    const char *saml_response;
    const char *relay_state;
    const char *binding;
};

/**
 * Finishes a sign-in: the state taken and judged, the Response checked, its assertion
 * remembered, then gh_signin_sso with cookies. redirect_to gets where the sign-in meant to
 * return. GH_OK (out may ask for the second factor); else *reason (a fixed word) and
 * GH_ERR_AUTH (a refused or spoiled sign-in), GH_ERR_FORBIDDEN a disabled user,
 * GH_ERR_NOT_FOUND / GH_ERR_CONFLICT no account may be used, GH_ERR_IO storage or lasso.
 */
gh_err gh_saml_flow_finish(struct gh_saml_flow *f, const struct gh_saml_post *in,
                           const struct gh_reqmeta *meta, struct gh_signin_result *out,
                           char redirect_to[GH_SSO_RETURN_MAX + 1], const char **reason) GH_WUR
    GH_NONNULL(1, 2, 4, 5, 6);

#endif

#ifndef GH_AUTHN_SSO_SPEC_H
#define GH_AUTHN_SSO_SPEC_H

#include <jansson.h>
#include "core/err.h"
#include "store/records.h"

/*
 * What a caller says about an SSO identity provider, before validation: the body of POST
 * and PATCH /api/v1/sso/providers and each line of the config key sso.providers (one JSON
 * object per line). Only the shape is checked here (known keys, JSON types, no NUL);
 * values are judged by gh_ssop_build (authn/sso_check.h).
 */

#define GH_SSO_SCOPES_MAX 16

struct gh_sso_spec {
    /* NULL: absent (or JSON null). Point into the parsed JSON value. */
    const char *name, *type, *preset, *tenant, *issuer, *authorization_endpoint, *token_endpoint,
        *userinfo_endpoint, *tokeninfo_endpoint, *client_id, *client_secret, *token_auth,
        *default_role;
    const char *sp_entity_id, *idp_metadata_xml, *sp_private_key, *sp_certificate; /* saml */
    const char *idp_metadata_url; /* saml: fetched instead of idp_metadata_xml */
    const char *claim_subject, *claim_email, *claim_username, *claim_name; /* "claims": {...} */
    const char *scopes[GH_SSO_SCOPES_MAX];                                 /* "scopes": [...] */
    size_t nscopes;
    int has_scopes;
    const char *clients[GH_SSO_CLIENTS_MAX]; /* "allowed_client_ids": [...] */
    size_t nclients;
    int has_clients;
    /* -1: absent */
    int pkce, enabled, auto_create_user, link_by_email, trust_email;
};

/**
 * Reads the JSON object obj into *out (pointing into obj, which must outlive it).
 * GH_ERR_INVALID for an unknown key, a value of the wrong JSON type, a string holding a
 * NUL, more than GH_SSO_SCOPES_MAX scopes or GH_SSO_CLIENTS_MAX client ids, obj NULL or not an
 * object: *field (may be NULL) names the key.
 */
gh_err gh_sso_spec_read(const json_t *obj, struct gh_sso_spec *out, const char **field) GH_WUR
    GH_NONNULL(2);

#endif

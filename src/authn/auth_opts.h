#ifndef GH_AUTHN_AUTH_OPTS_H
#define GH_AUTHN_AUTH_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include "authn/password.h"
#include "authn/policy.h"

/** The options of the service (the auth.* and password.* keys). Strings are borrowed. */
struct gh_auth_opts {
    const char *issuer;         /* auth.issuer: iss of the tokens made and checked */
    const char *audience;       /* auth.audience: aud likewise */
    int64_t access_ttl;         /* auth.access_ttl seconds */
    int64_t refresh_ttl;        /* auth.refresh_ttl seconds */
    int64_t clock_leeway;       /* auth.clock_leeway seconds */
    size_t token_cache_size;    /* auth.token_cache_size entries, 0 = off */
    const char *api_key_pepper; /* auth.api_key_pepper: the file of the API-key HMAC key */
    const char
        *member_permissions;    /* authz.member_permissions: the member role of the default org */
    struct gh_pwhash_params pw; /* password.hash and its costs */
    struct gh_policy policy;    /* password.* rules */
};

#endif

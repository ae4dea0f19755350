#ifndef GH_AUTHN_SERVICE_INT_H
#define GH_AUTHN_SERVICE_INT_H

/*
 * Private to the authentication service's files (service.c, operator.c, sso_account.c): its state
 * and the password policy check every password change passes.
 */

#include "authn/auth_opts.h"
#include "authn/password.h"
#include "authn/policy.h"
#include "core/err.h"
#include "store/records.h"

struct gh_store_handle;
struct gh_keyring;
struct gh_cache;
struct gh_views;
struct gh_apikeys;
struct gh_identity;

struct gh_auth {
    struct gh_auth_opts o;
    const struct gh_store_handle *store;
    const struct gh_keyring *ring;
    struct gh_cache *tokens; /* a token's tail -> struct cached_token (see token_cached) */
    struct gh_views *views;  /* users' revocation state and memberships */
    struct gh_apikeys *keys;
    char dummy_hash[GH_PWHASH_MAX]; /* verified against for unknown users: equal timing */
    char default_org[GH_UUID_LEN + 1];
};

/**
 * The identity a verified token proves (service.c's access tokens, gateway.c's gateway
 * tokens): the user sub in org, made under the user's epoch and the user's epoch in org
 * (org_epoch), valid until exp. GH_ERR_EXPIRED past exp (with the clock leeway),
 * GH_ERR_REVOKED when the user was disabled, either epoch moved or it is no longer a member
 * of org; the storage errors of the views. out->auth_time is 0: an access token's caller
 * sets its claim (a gateway token proves no recent sign-in).
 */
gh_err gh_auth_token_identity(struct gh_auth *a, const char *sub, const char *org, int64_t epoch,
                              int64_t org_epoch, int64_t exp, int64_t now,
                              struct gh_identity *out) GH_WUR;

/** The policy check of a user's new password pw (len bytes), its own fields as words it
 * must not be built from. GH_ERR_POLICY sets refusal (field "password", the failed rules). */
gh_err gh_auth_policy(struct gh_auth *a, const char *pw, size_t len, const char *username,
                      const char *email, const char *full_name, struct gh_refusal *refusal) GH_WUR;

#endif

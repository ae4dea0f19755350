#ifndef GH_AUTHN_INTERNAL_H
#define GH_AUTHN_INTERNAL_H

#include <stdint.h>
#include "authn/service.h"

/*
 * Private to authn/: what the API-key code needs of the authentication service. Not for
 * handlers or the CLI.
 */

/** What the token check keeps of a user (cached for a minute, dropped on revocation). */
struct gh_user_view {
    int64_t epoch;
    int disabled;
    uint64_t gen; /* differs each time the view is loaded: dependants reload with it */
    int superadmin;
    char username[65];
};

/** The user's cached view, loaded when missing. GH_ERR_REVOKED for a deleted user. */
gh_err gh_auth_user_view(struct gh_auth *a, const char *user_id, int64_t now,
                         struct gh_user_view *out) GH_WUR GH_NONNULL(1, 2, 4);


const struct gh_store_handle *gh_auth_store(const struct gh_auth *a) GH_NONNULL(1);
struct gh_apikeys *gh_auth_apikeys(const struct gh_auth *a) GH_NONNULL(1);
/** The pool audit records of failed credentials are written on, or NULL (write at once). */
struct gh_pool *gh_auth_audit_pool(const struct gh_auth *a) GH_NONNULL(1);

/** The API-key state: pepper, cache of proven keys, last-use table. */
gh_err gh_apikeys_new(const struct gh_config *cfg, struct gh_apikeys **out) GH_WUR GH_NONNULL(1, 2);
/** Hits and misses of the API-key cache. */
void gh_apikeys_cache_stats(struct gh_apikeys *keys, uint64_t *hits, uint64_t *misses)
    GH_NONNULL(1, 2, 3);
/** Frees it; flush first (gh_apikey_flush) to keep the last uses. Accepts NULL. */
void gh_apikeys_free(struct gh_apikeys *keys);

/**
 * Proves an "ak_" key (digest: SHA-256 of it, the cache key). Fills out like a token check
 * as GH_CRED_API_KEY. GH_ERR_AUTH unknown or malformed, GH_ERR_EXPIRED, GH_ERR_REVOKED
 * (revoked key, disabled owner, owner left the org), GH_ERR_ADDRESS (address not allowed).
 * Failures of known keys are audited as API_KEY_USE_FAILED.
 */
gh_err gh_apikey_check(struct gh_auth *a, const char *key, size_t len,
                       const unsigned char digest[32], const struct gh_reqmeta *meta,
                       struct gh_identity *out) GH_WUR GH_NONNULL(1, 2, 4, 6);

#endif

#ifndef GH_AUTHN_APIKEY_H
#define GH_AUTHN_APIKEY_H

#include <stddef.h>
#include <stdint.h>
#include "audit/audit.h"
#include "authn/policy.h"
#include "authn/views.h"
#include "core/pool.h"
#include "store/store.h"

/*
 * API keys for services: "ak_" + 32 random bytes in base62, shown once. Stored as
 * HMAC-SHA256 under a server pepper kept in a file outside the database, so a copy of
 * the database alone cannot test guesses. A key acts for its owner in one org, with the
 * owner's permissions there at each use, or with scopes cut down to those.
 */

#define GH_APIKEY_TEXT 47 /* "ak_" + 43 base62 characters + NUL */
#define GH_APIKEY_SCOPES_MAX 64
#define GH_APIKEY_IPS_MAX 16

struct gh_apikeys;

/**
 * The API-key state: the pepper (read from pepper_file, created 0600 on first use;
 * GH_ERR_FILE_MODE when readable by group or others), the cache of proven keys (sized from
 * token_cache_size, the token cache's entries), the last-use table. Takes no ownership:
 * store and views must outlive it.
 */
gh_err gh_apikeys_new(const char *pepper_file, size_t token_cache_size,
                      const struct gh_store_handle *store, struct gh_views *views,
                      struct gh_apikeys **out) GH_WUR GH_NONNULL(1, 3, 4, 5);
/** Frees it; flush first (gh_apikey_flush) to keep the last uses. Accepts NULL. */
void gh_apikeys_free(struct gh_apikeys *keys);
/** Lets failed uses be recorded on pool (see gh_audit_record_async) rather than at once. */
void gh_apikeys_set_audit_pool(struct gh_apikeys *keys, struct gh_pool *pool) GH_NONNULL(1, 2);
/** Hits and misses of the API-key cache. */
void gh_apikeys_cache_stats(struct gh_apikeys *keys, uint64_t *hits, uint64_t *misses)
    GH_NONNULL(1, 2, 3);

/**
 * Proves an "ak_" key. Fills out like a token check
 * as GH_CRED_API_KEY. GH_ERR_AUTH unknown or malformed, GH_ERR_EXPIRED, GH_ERR_REVOKED
 * (revoked key, disabled owner, owner left the org), GH_ERR_ADDRESS (address not allowed).
 * Failures of known keys are audited as API_KEY_USE_FAILED.
 */
gh_err gh_apikey_check(struct gh_apikeys *keys, const char *key, size_t len,
                       const struct gh_reqmeta *meta, struct gh_identity *out) GH_WUR
    GH_NONNULL(1, 2, 5);

struct gh_apikey_input {
    const char *name; /* 1-64 characters of UTF-8, no control or invisible ones */
    int has_scopes;   /* 0: inherit (an API-key creator's own scopes, if any) */
    const char *scopes[GH_APIKEY_SCOPES_MAX];
    size_t nscopes;
    int64_t expires_at; /* 0 = never; else must be in the future */
    const char *allowed_ips[GH_APIKEY_IPS_MAX];
    size_t nips;
    const char *org_id; /* NULL: the creator's current org */
};

/**
 * Creates a key for who (a user's token, another key, or an operator identity made by
 * gh_apikey_operator). Scopes must be well-formed and within both the owner's current
 * permissions in the org and who->perms: a credential never mints a stronger one.
 * GH_ERR_INVALID (refusal->field: name, scopes, expires_at, allowed_ips),
 * GH_ERR_FORBIDDEN for scopes beyond the caller's permissions (refusal->field "scopes"),
 * GH_ERR_NOT_FOUND when who is not a member of org_id, GH_ERR_CONFLICT for a live key of
 * the same name. On GH_OK, *out is the stored record and key the key text (wipe it).
 */
gh_err gh_apikey_create(struct gh_apikeys *keys, const struct gh_identity *who,
                        const struct gh_apikey_input *in, const struct gh_reqmeta *meta,
                        struct gh_api_key *out, char key[GH_APIKEY_TEXT],
                        struct gh_refusal *refusal) GH_WUR GH_NONNULL(1, 2, 3, 5, 6, 7);

/** Visits who's keys (revoked ones too), newest first. */
gh_err gh_apikey_list(struct gh_apikeys *keys, const char *user_id, size_t limit, size_t offset,
                      gh_api_key_visit_fn fn, void *arg) GH_WUR GH_NONNULL(1, 2, 5);

/**
 * Revokes key id of user_id (NULL: all of them); the next check of such a key fails, in
 * this process at once and in others through the revocation feed. GH_ERR_NOT_FOUND when
 * id is not one of the user's keys.
 */
gh_err gh_apikey_revoke(struct gh_apikeys *keys, const char *user_id, const char *username,
                        const char *id, const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2);

/**
 * An identity for an operator acting on username's behalf (CLI): the user's primary org
 * and current permissions there. GH_ERR_NOT_FOUND for an unknown user.
 */
gh_err gh_apikey_operator(struct gh_apikeys *keys, const char *username, const char *org_id,
                          struct gh_identity *out) GH_WUR GH_NONNULL(1, 2, 4);

/** Writes the coalesced last uses of keys to the store (every few seconds, and at stop). */
gh_err gh_apikey_flush(struct gh_apikeys *keys) GH_WUR GH_NONNULL(1);

#endif

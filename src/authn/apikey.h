#ifndef GH_AUTHN_APIKEY_H
#define GH_AUTHN_APIKEY_H

#include <stddef.h>
#include <stdint.h>
#include "audit/audit.h"
#include "authn/service.h"
#include "store/store.h"

/*
 * API keys for services: "ak_" + 32 random bytes in base62, shown once. Stored as
 * HMAC-SHA256 under a server pepper kept in a file outside the database, so a copy of
 * the database alone cannot test guesses. A key acts for its owner in one org, with the
 * owner's permissions there at each use, or with scopes cut down to those.
 */

#define GH_APIKEY_TEXT 47      /* "ak_" + 43 base62 characters + NUL */
#define GH_APIKEY_SCOPES_MAX 64
#define GH_APIKEY_IPS_MAX 16

struct gh_apikey_input {
    const char *name;            /* 1-64 characters of UTF-8, no control or invisible ones */
    int has_scopes;              /* 0: inherit (an API-key creator's own scopes, if any) */
    const char *scopes[GH_APIKEY_SCOPES_MAX];
    size_t nscopes;
    int64_t expires_at;          /* 0 = never; else must be in the future */
    const char *allowed_ips[GH_APIKEY_IPS_MAX];
    size_t nips;
    const char *org_id;          /* NULL: the creator's current org */
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
gh_err gh_apikey_create(struct gh_auth *auth, const struct gh_identity *who,
                        const struct gh_apikey_input *in, const struct gh_reqmeta *meta,
                        struct gh_api_key *out, char key[GH_APIKEY_TEXT],
                        struct gh_refusal *refusal) GH_WUR GH_NONNULL(1, 2, 3, 5, 6, 7);

/** Visits who's keys (revoked ones too), newest first. */
gh_err gh_apikey_list(struct gh_auth *auth, const char *user_id, size_t limit, size_t offset,
                      gh_api_key_visit_fn fn, void *arg) GH_WUR GH_NONNULL(1, 2, 5);

/**
 * Revokes key id of user_id (NULL: all of them); the next check of such a key fails, in
 * this process at once and in others through the revocation feed. GH_ERR_NOT_FOUND when
 * id is not one of the user's keys.
 */
gh_err gh_apikey_revoke(struct gh_auth *auth, const char *user_id, const char *username,
                        const char *id, const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2);

/**
 * An identity for an operator acting on username's behalf (CLI): the user's primary org
 * and current permissions there. GH_ERR_NOT_FOUND for an unknown user.
 */
gh_err gh_apikey_operator(struct gh_auth *auth, const char *username, const char *org_id,
                          struct gh_identity *out) GH_WUR GH_NONNULL(1, 2, 4);

/** Writes the coalesced last uses of keys to the store (every few seconds, and at stop). */
gh_err gh_apikey_flush(struct gh_auth *auth) GH_WUR GH_NONNULL(1);

#endif

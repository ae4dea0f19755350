#ifndef GH_AUTHN_SERVICE_H
#define GH_AUTHN_SERVICE_H

#include <stddef.h>
#include <stdint.h>
#include "audit/audit.h"
#include "authn/auth_opts.h"
#include "authn/password.h"
#include "authn/policy.h"
#include "authn/views.h"
#include "core/err.h"
#include "core/pool.h"
#include "crypto/jwt.h"
#include "store/store.h"

/*
 * The authentication service: users, passwords, token pairs, and the token check.
 * Knows nothing of HTTP. Functions that hash passwords are slow by design and are
 * called from the hashing pool; gh_auth_verify_bearer is the hot path and normally
 * touches neither the database nor the signature code (verified tokens are cached).
 */

#define GH_REFRESH_TEXT 44 /* 32 random bytes as base64url (43) + NUL */

struct gh_auth;

/** An access token (heap, caller frees with gh_token_pair_clear) and a refresh token. */
struct gh_token_pair {
    char *access_token;
    char refresh_token[GH_REFRESH_TEXT];
    int64_t expires_in;
    char family_id[GH_UUID_LEN + 1]; /* the refresh token's family (a browser session's) */
    char org_id[GH_UUID_LEN + 1];    /* the org the access token acts in */
};

struct gh_register_input {
    const char *username;
    const char *email;
    const char *full_name; /* may be NULL */
    const char *password;
    size_t password_len;
};

/** Takes no ownership: the strings of opts, store and ring must outlive the service. */
gh_err gh_auth_new(const struct gh_auth_opts *opts, const struct gh_store_handle *store,
                   const struct gh_keyring *ring, struct gh_auth **out) GH_WUR
    GH_NONNULL(1, 2, 3, 4);
void gh_auth_free(struct gh_auth *auth);

/**
 * First start: creates the "default" org when missing and, while there are no users, the
 * superadmin "admin" with password (or a generated one written to generated, which must
 * hold 32 bytes; generated[0] = 0 when nothing was generated).
 */
gh_err gh_auth_bootstrap(struct gh_auth *auth, const char *password, char generated[32]) GH_WUR
    GH_NONNULL(1, 3);

/**
 * Creates a user in the default org as member. GH_ERR_INVALID (refusal->field),
 * GH_ERR_POLICY (refusal->policy_failed), GH_ERR_CONFLICT for a taken username or email.
 */
gh_err gh_auth_register(struct gh_auth *auth, const struct gh_register_input *in, int superadmin,
                        const struct gh_reqmeta *meta, struct gh_user *out,
                        struct gh_refusal *refusal) GH_WUR GH_NONNULL(1, 2, 5, 6);

/**
 * Checks a password: GH_OK fills *out with the user. GH_ERR_AUTH for an unknown user, a
 * wrong password or a disabled user, alike in answer and in time, audited LOGIN_FAILED.
 * Nothing is issued: the caller asks for a second factor or calls gh_auth_issue.
 */
gh_err gh_auth_check_password(struct gh_auth *auth, const char *login, const char *password,
                              size_t len, const struct gh_reqmeta *meta, struct gh_user *out) GH_WUR
    GH_NONNULL(1, 2, 3, 6);

/**
 * Issues a token pair to user u, whose sign-in completed by method ("password",
 * "password+totp", "backup_code"), for org_id (NULL: the primary org); audited LOGIN with
 * the method. GH_ERR_NOT_FOUND when the user is not a member of org_id.
 */
gh_err gh_auth_issue(struct gh_auth *auth, const struct gh_user *u, const char *org_id,
                     const char *method, const struct gh_reqmeta *meta,
                     struct gh_token_pair *out) GH_WUR GH_NONNULL(1, 2, 4, 6);

/**
 * gh_auth_check_password then gh_auth_issue (method "password"), for a user without a
 * second factor (the caller checks that first).
 * GH_ERR_AUTH for an unknown user, a wrong password or a disabled user, alike in answer
 * and in time. GH_ERR_NOT_FOUND when the user is not a member of org_id.
 */
gh_err gh_auth_login(struct gh_auth *auth, const char *login, const char *password, size_t len,
                     const char *org_id, const struct gh_reqmeta *meta,
                     struct gh_token_pair *out) GH_WUR GH_NONNULL(1, 2, 3, 7);

/**
 * Spends a refresh token and issues a new pair, for org_id when given (another org of the
 * user: the family continues there), else for the token's org. GH_ERR_AUTH for anything
 * but a live token; GH_ERR_NOT_FOUND when the user is not a member of org_id (the
 * refresh token is then left unspent).
 */
gh_err gh_auth_refresh(struct gh_auth *auth, const char *refresh_token, const char *org_id,
                       const struct gh_reqmeta *meta, struct gh_token_pair *out) GH_WUR
    GH_NONNULL(1, 2, 5);

/** Revokes a refresh token; unknown tokens are not an error (no oracle). */
gh_err gh_auth_logout(struct gh_auth *auth, const char *refresh_token,
                      const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2);

/** Revokes every refresh token and every access token of the caller, at once. */
gh_err gh_auth_logout_all(struct gh_auth *auth, const struct gh_identity *who,
                          const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2);

/**
 * Changes the caller's password: GH_ERR_AUTH for a wrong current password,
 * GH_ERR_POLICY / GH_ERR_INVALID with refusal. Revokes every token of the user.
 */
gh_err gh_auth_change_password(struct gh_auth *auth, const struct gh_identity *who,
                               const char *current, size_t current_len, const char *next,
                               size_t next_len, const struct gh_reqmeta *meta,
                               struct gh_refusal *refusal) GH_WUR GH_NONNULL(1, 2, 3, 5, 8);

/** Sets a user's password as an operator (CLI); revokes the user's tokens. */
gh_err gh_auth_set_password(struct gh_auth *auth, const char *username, const char *password,
                            size_t len, struct gh_refusal *refusal) GH_WUR GH_NONNULL(1, 2, 3, 5);

/** Enables or disables a user as an operator (CLI); disabling revokes the user's tokens. */
gh_err gh_auth_set_disabled(struct gh_auth *auth, const char *username, int disabled) GH_WUR
    GH_NONNULL(1, 2);

/**
 * The credential check, for access JWTs and "ak_" API keys. GH_OK fills *out;
 * GH_ERR_EXPIRED for an expired credential; GH_ERR_AUTH for a forged, malformed or
 * unknown one; GH_ERR_REVOKED when the key was revoked, or the user logged out
 * everywhere, changed password or was disabled after the token was made; GH_ERR_ADDRESS for
 * an API key used from an address it is not bound to; GH_ERR_IO when storage failed.
 * meta (the client address above all) serves API-key binding and the audit trail.
 */
gh_err gh_auth_verify_bearer(struct gh_auth *auth, const char *token, size_t len,
                             const struct gh_reqmeta *meta, struct gh_identity *out) GH_WUR
    GH_NONNULL(1, 2, 4, 5);

/**
 * A new access token (no refresh token) for who's user in who's org, signed in at
 * auth_time: a re-authentication's (authn/signin.h). GH_ERR_REVOKED disabled meanwhile,
 * GH_ERR_NOT_FOUND no longer a member. The caller clears *out with gh_token_pair_clear.
 */
gh_err gh_auth_reissue(struct gh_auth *auth, const struct gh_identity *who, int64_t auth_time,
                       struct gh_token_pair *out) GH_WUR GH_NONNULL(1, 2, 4);

/** Hits and misses of the token cache and of the API-key cache, since start. */
void gh_auth_cache_stats(struct gh_auth *auth, uint64_t tokens[2], uint64_t keys[2])
    GH_NONNULL(1, 2, 3);

/** The API keys (authn/apikey.h) whose checks gh_auth_verify_bearer makes; owned by auth. */
struct gh_apikeys *gh_auth_apikeys(const struct gh_auth *auth) GH_NONNULL(1);

/** The views of users and memberships the checks read (authn/views.h); owned by auth. */
struct gh_views *gh_auth_views(const struct gh_auth *auth) GH_NONNULL(1);

/** Lets the service write audit records of failed credentials on pool (see gh_audit_record_async).
 */
void gh_auth_set_audit_pool(struct gh_auth *auth, struct gh_pool *pool) GH_NONNULL(1, 2);

/** The caller's user record and memberships (at most max, *n set). */
gh_err gh_auth_me(struct gh_auth *auth, const struct gh_identity *who, struct gh_user *user,
                  struct gh_membership *orgs, size_t max, size_t *n) GH_WUR
    GH_NONNULL(1, 2, 3, 4, 6);

/** The id of the "default" org (registration joins it; its admins operate Gatehouse). */
const char *gh_auth_default_org(const struct gh_auth *auth) GH_NONNULL(1);

/** Makes org_id the caller's primary org. GH_ERR_NOT_FOUND when not a member. */
gh_err gh_auth_set_primary_org(struct gh_auth *auth, const struct gh_identity *who,
                               const char *org_id) GH_WUR GH_NONNULL(1, 2, 3);

/** An admin's change to a user: NULL / -1 leave a field as it is. */
struct gh_user_patch {
    const char *full_name;
    const char *email;
    int disabled;
    int superadmin;
};

/**
 * Applies patch to user_id for by (authorization is the caller's: gh_rbac_user_access).
 * Disabling revokes every token and key of the user at once; any change reloads the
 * user's cached view. GH_ERR_INVALID (refusal->field), GH_ERR_CONFLICT email taken or
 * by acting on its own disabled/superadmin flag, GH_ERR_NOT_FOUND. Audited USER_UPDATE.
 */
gh_err gh_auth_user_update(struct gh_auth *auth, const char *user_id,
                           const struct gh_user_patch *patch, const struct gh_identity *by,
                           const struct gh_reqmeta *meta, struct gh_user *out,
                           struct gh_refusal *refusal) GH_WUR GH_NONNULL(1, 2, 3, 4, 6, 7);

/**
 * Deletes user_id with every token, key and membership; its credentials fail at once.
 * GH_ERR_CONFLICT for by itself or the only admin of an org. Audited USER_DELETE.
 */
gh_err gh_auth_user_delete(struct gh_auth *auth, const char *user_id, const struct gh_identity *by,
                           const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2, 3);

/** Wipes and frees the pair's contents. Accepts NULL. */
void gh_token_pair_clear(struct gh_token_pair *pair);

#endif

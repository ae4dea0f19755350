#ifndef GH_AUTHN_VIEWS_H
#define GH_AUTHN_VIEWS_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "crypto/jwt.h"
#include "store/store.h"

/*
 * What the credential checks know of a caller: the identity a credential proves, and
 * the cached views of users (revocation epoch, disabled flag) and of their memberships
 * that every token and API-key check reads, so that the common check touches no
 * database. A view is dropped when anything the user may do changes (gh_views_forget,
 * here or on another node through the revocation feed: gh_views_watch), and every view
 * loaded gets a new generation, so what was cached under an older one is reloaded.
 * Used by authn/service (tokens), authn/apikey (keys) and authz/rbac (permission checks).
 */

/** What proved a caller. */
enum gh_cred {
    GH_CRED_JWT,      /* an access token */
    GH_CRED_API_KEY,  /* an "ak_" key */
    GH_CRED_OPERATOR, /* the CLI, acting for a user */
    GH_CRED_SESSION,  /* a browser session cookie */
};

/** "jwt", "api_key", "operator" or "session", as X-Auth-Method shows it. */
const char *gh_cred_name(enum gh_cred cred);

/** A caller proven by a credential. */
struct gh_identity {
    char user_id[GH_UUID_LEN + 1];
    char username[65];
    char org_id[GH_UUID_LEN + 1];
    char roles[GH_ROLES_MAX];
    char perms[GH_PERMS_MAX]; /* what the credential may do now */
    int64_t expires_at;       /* 0: no expiry (an API key without one) */
    enum gh_cred cred;
    char key_id[GH_UUID_LEN + 1];     /* the API key, for GH_CRED_API_KEY */
    char session_id[GH_UUID_LEN + 1]; /* the session, for GH_CRED_SESSION */
    int scoped;        /* an API key limited to scopes: perms is their intersection */
    int superadmin;    /* the user is an operator; never set for API keys */
    int64_t auth_time; /* when the user last proved a password (sign-in or re-authentication);
                        * 0 for API keys and the CLI, which cannot */
};

/**
 * Empties an identity as zeroed memory reads: every field zero, every string "", except
 * the bytes past the first of roles and perms (2.5 KB left as they were, since they are
 * read only as strings). For identities in memory the request does not clear.
 */
void gh_identity_init(struct gh_identity *id) GH_NONNULL(1);

/** A user's current place in one org, as the credential checks see it (cached). Read as
 * strings: the bytes past each one's NUL are not set. */
struct gh_member_view {
    int64_t epoch; /* the user's epoch in the org: how often removed from it */
    char role[65];
    char perms[GH_PERMS_MAX];
};

/** What the token check keeps of a user (cached for a minute, dropped on revocation). */
struct gh_user_view {
    int64_t epoch;
    int disabled;
    uint64_t gen; /* differs each time the view is loaded: dependants reload with it */
    int superadmin;
    char username[65];
};

struct gh_views;

/**
 * Caches of at most users user views and as many memberships, over store (which must
 * outlive them); starts following the revocation feed at its current end.
 */
gh_err gh_views_new(const struct gh_store_handle *store, size_t users, struct gh_views **out) GH_WUR
    GH_NONNULL(1, 3);
/** Accepts NULL. */
void gh_views_free(struct gh_views *v);

/** The user's cached view, loaded when missing. GH_ERR_REVOKED for a deleted user. */
gh_err gh_views_user(struct gh_views *v, const char *user_id, int64_t now,
                     struct gh_user_view *out) GH_WUR GH_NONNULL(1, 2, 4);

/** Caches the view of u just read (a login); *out (may be NULL) gets it. */
void gh_views_remember(struct gh_views *v, const struct gh_user *u, struct gh_user_view *out)
    GH_NONNULL(1, 2);

/**
 * Drops the user's cached view: the next check of any of the user's tokens or keys
 * reloads the user and the membership it acts in. Call after every change of what the
 * user may do (the store ops also append it to the revocation feed for other nodes), and
 * publishes it on the revocation bus when there is one.
 */
void gh_views_forget(struct gh_views *v, const char *user_id) GH_NONNULL(1, 2);

/** The same for a change made elsewhere (the revocation feed, the revocation bus): drops
 * the view without telling anyone. */
void gh_views_drop(struct gh_views *v, const char *user_id) GH_NONNULL(1, 2);

/**
 * Has gh_views_forget also call publish(arg, user_id), telling the other nodes at once
 * (edge/revbus.h); set before serving. NULL: the revocation feed alone tells them.
 */
void gh_views_set_publish(struct gh_views *v, void (*publish)(void *arg, const char *user_id),
                          void *arg) GH_NONNULL(1);

/**
 * The user's role and permissions in org_id valid for view (the user's view, taken by the
 * caller before), loaded when missing or cached under an older view. GH_ERR_NOT_FOUND
 * when the user is not a member.
 */
gh_err gh_views_member(struct gh_views *v, const char *user_id, const char *org_id,
                       const struct gh_user_view *view, int64_t now,
                       struct gh_member_view *out) GH_WUR GH_NONNULL(1, 2, 3, 4, 6);

/**
 * The user's current role and permissions in org_id, from a cache that every change of
 * the user's memberships or roles invalidates (gh_views_forget and the revocation feed):
 * no database read on a hit. GH_ERR_NOT_FOUND when the user is not a member (or gone).
 */
gh_err gh_views_membership(struct gh_views *v, const char *user_id, const char *org_id,
                           struct gh_member_view *out) GH_WUR GH_NONNULL(1, 2, 3, 4);

/**
 * Reads revocations made by any process or node on the shared store since the last call
 * and drops the cached views of those users, so their credentials fail at the next check;
 * every ten minutes also deletes old feed entries, long-expired refresh tokens and dead
 * invitations. The server calls it every 100 ms from a background thread. Not
 * thread-safe with itself.
 */
gh_err gh_views_watch(struct gh_views *v) GH_WUR GH_NONNULL(1);

#endif

#ifndef GH_AUTHZ_DECIDE_H
#define GH_AUTHZ_DECIDE_H

#include "authn/views.h"

/*
 * The one permission decision that route permissions, /verify rules, authz/check and
 * the services share, on permissions already at hand (the hot path: no lock, no
 * allocation, no store).
 */

/** Why a check answered as it did (authz/check's "reason"). */
enum gh_authz_reason {
    GH_AUTHZ_GRANTED,            /* a permission of the caller's role covers it */
    GH_AUTHZ_OWNER,              /* only its ":own" form is granted, and the caller owns it */
    GH_AUTHZ_SUPERADMIN,         /* the caller is a superadmin */
    GH_AUTHZ_NOT_GRANTED,        /* a member whose role does not cover it */
    GH_AUTHZ_NOT_A_MEMBER,       /* the org is unknown or the caller is not in it */
    GH_AUTHZ_UNKNOWN_PERMISSION, /* nobody declared a permission it stands for */
};

/** "granted", "owner", "superadmin", "not_granted", "not_a_member", "unknown_permission". */
const char *gh_authz_reason_name(enum gh_authz_reason why);

/**
 * The decision on permissions already at hand (the hot path: no lock, no allocation):
 * 1 when who is a superadmin, when perms cover perm, or when owner_id is who's own id and
 * perms cover perm's ":own" form. *why (may be NULL) gets the reason.
 */
int gh_authz_decide(const struct gh_identity *who, const char *perms, const char *perm,
                    const char *owner_id, enum gh_authz_reason *why) GH_NONNULL(1, 2, 3);

/**
 * The decision for a permission over all of Gatehouse rather than one org (the metrics,
 * the audit chain's proof): 1 for a superadmin, or when who acts in default_org and its
 * permissions cover perm there. An org's own admin (*:*) holds it only in the default org.
 */
int gh_authz_global(const struct gh_identity *who, const char *perm, const char *default_org)
    GH_NONNULL(1, 2, 3);

/**
 * 1 when holder (a permission list) covers every permission of list (space-separated), or
 * who is a superadmin: a caller never grants, through a role, more than it holds.
 */
int gh_authz_holds_all(const struct gh_identity *who, const char *holder, const char *list)
    GH_NONNULL(1, 2, 3);

#endif

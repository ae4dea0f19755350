#ifndef GH_AUTHZ_RBAC_H
#define GH_AUTHZ_RBAC_H

#include <stddef.h>
#include <stdint.h>
#include "audit/audit.h"
#include "authn/service.h"
#include "authz/decide.h"
#include "core/perm.h"
#include "core/err.h"
#include "store/store.h"

/*
 * Organizations, roles, memberships and the permission check (API.md "Authorization and
 * tenancy"). Knows nothing of HTTP. Every operation takes the verified caller and the org
 * it acts in, and decides access itself, the same way for every route:
 *   - GH_ERR_NOT_FOUND: the org (or the row in it) does not exist, or the caller is not a
 *     member of the org (no existence leaks: another org's resources are simply absent);
 *   - GH_ERR_FORBIDDEN: a member without the permission the operation needs (callers answer
 *     403 and audit PERMISSION_DENIED, see denied below);
 *   - GH_ERR_IMMUTABLE: the row is immutable (a system role, the default org);
 *   - GH_ERR_CONFLICT: a name taken, the last admin, a role still held.
 * A superadmin (the flag on a user, carried by access tokens only, never by API keys)
 * acts in every org as its admin. An API key acts only in its own org.
 */

struct gh_rbac;

/** The options of the service (the authz.* and orgs.* keys). Strings are borrowed. */
struct gh_rbac_opts {
    const char *app_permissions;      /* authz.permissions: the apps' own, space-separated */
    const char *member_permissions;   /* authz.member_permissions: the member role of new orgs */
    int64_t invitation_ttl;           /* orgs.invitation_ttl seconds */
    unsigned max_pending_invitations; /* orgs.max_pending_invitations */
    int superadmin_direct_add;        /* orgs.superadmin_direct_add */
};

/**
 * Checks the permission lists of opts: authz.permissions must hold concrete permissions
 * (resource:action, no wildcard), authz.member_permissions permissions that Gatehouse or
 * authz.permissions declare (wildcards and ":own" allowed). GH_ERR_INVALID with err
 * naming the key and the first bad item, e.g. "authz.permissions: expected permissions
 * resource:action without wildcards separated by spaces, got \"file:*\"".
 */
gh_err gh_rbac_opts_check(const struct gh_rbac_opts *opts, char *err, size_t err_size) GH_WUR
    GH_NONNULL(1, 2);

/** Takes no ownership; loads the permissions declared through the API. */
gh_err gh_rbac_new(const struct gh_rbac_opts *opts, const struct gh_store_handle *store,
                   struct gh_auth *auth, struct gh_rbac **out) GH_WUR GH_NONNULL(1, 2, 3, 4);
void gh_rbac_free(struct gh_rbac *r);

/** authz/check: may who do perm in org_id (NULL: the credential's org) on owner_id's resource. */
gh_err gh_rbac_check(struct gh_rbac *r, const struct gh_identity *who, const char *perm,
                     const char *org_id, const char *owner_id, int *allowed,
                     enum gh_authz_reason *why) GH_WUR GH_NONNULL(1, 2, 3, 6, 7);

/**
 * The caller's access to org_id for perm: GH_OK, GH_ERR_NOT_FOUND or GH_ERR_FORBIDDEN as above.
 * perms (may be NULL, GH_PERMS_MAX bytes) gets the caller's permissions there.
 */
gh_err gh_rbac_access(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                      const char *perm, char *perms) GH_WUR GH_NONNULL(1, 2, 3, 4);

/* ---- declared permissions ---- */

/** Calls fn with each declared permission and where it comes from ("builtin", "config", "api"). */
gh_err gh_rbac_perm_list(struct gh_rbac *r,
                         int (*fn)(void *arg, const char *name, const char *source),
                         void *arg) GH_WUR GH_NONNULL(1, 2);
/** Declares an app permission (superadmins only: GH_ERR_FORBIDDEN). GH_ERR_INVALID not one
 * concrete resource:action; GH_ERR_CONFLICT already declared; GH_ERR_TOO_LARGE too many. */
gh_err gh_rbac_perm_add(struct gh_rbac *r, const struct gh_identity *who, const char *name,
                        const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2, 3);

/* ---- orgs ---- */

/** Creates an org with its system roles; who becomes its admin. GH_ERR_INVALID bad name. */
gh_err gh_rbac_org_create(struct gh_rbac *r, const struct gh_identity *who, const char *name,
                          const struct gh_reqmeta *meta, struct gh_org *out) GH_WUR
    GH_NONNULL(1, 2, 3, 5);
/** who's orgs (a superadmin: every org), by name. */
gh_err gh_rbac_org_list(struct gh_rbac *r, const struct gh_identity *who, size_t limit,
                        size_t offset, gh_org_visit_fn fn, void *arg) GH_WUR GH_NONNULL(1, 2, 5);
gh_err gh_rbac_org_get(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                       struct gh_org *out) GH_WUR GH_NONNULL(1, 2, 3, 4);
gh_err gh_rbac_org_rename(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                          const char *name, const struct gh_reqmeta *meta,
                          struct gh_org *out) GH_WUR GH_NONNULL(1, 2, 3, 4, 6);
/** Deletes the org with its roles and memberships; its members' credentials there fail at once. */
gh_err gh_rbac_org_delete(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                          const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2, 3);

/* ---- members ---- */

/** The permission reading org_id's member list needs: org:read, but org:admin in the default
 * org, which every registered user joins (its list would be the whole user base). */
const char *gh_rbac_members_perm(struct gh_rbac *r, const char *org_id) GH_NONNULL(1, 2);
gh_err gh_rbac_member_list(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                           size_t limit, size_t offset, gh_member_visit_fn fn, void *arg) GH_WUR
    GH_NONNULL(1, 2, 3, 6);

/** Whom a member add names: exactly one of the three (the others NULL). A username matches
 * usernames only, an email emails only, both without regard to case. */
struct gh_invitee {
    const char *user_id;
    const char *username;
    const char *email;
};

/**
 * 1 when who's member adds take effect at once (gh_rbac_member_add): the operator at the
 * CLI, or a superadmin's token while orgs.superadmin_direct_add is on. Anyone else invites
 * (gh_rbac_member_invite): nobody is made a member of an org without consenting.
 */
int gh_rbac_adds_directly(const struct gh_rbac *r, const struct gh_identity *who) GH_NONNULL(1, 2);
/**
 * Adds the user to with role (a role name of the org), for those gh_rbac_adds_directly
 * allows (else GH_ERR_FORBIDDEN). GH_ERR_INVALID no such role (refusal: "role");
 * GH_ERR_NOT_FOUND also for an unknown user; GH_ERR_CONFLICT already a member; GH_ERR_FORBIDDEN
 * also when the role grants more than the caller holds.
 */
gh_err gh_rbac_member_add(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                          const struct gh_invitee *to, const char *role,
                          const struct gh_reqmeta *meta, struct gh_member *out) GH_WUR
    GH_NONNULL(1, 2, 3, 4, 5, 7);

/* ---- invitations ---- */

/**
 * Invites the user to to org_id with role; the same checks as gh_rbac_member_add (org:admin,
 * the role exists and grants nothing the caller lacks). *out gets the invitation as the
 * org sees it, valid for orgs.invitation_ttl. Whether to names a user, a member or one
 * already invited changes nothing the caller can see (such an invitation can never be
 * accepted). Audited MEMBER_INVITED without the invitee. GH_ERR_TOO_LARGE when the org
 * already holds orgs.max_pending_invitations live invitations.
 */
gh_err gh_rbac_member_invite(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                             const struct gh_invitee *to, const char *role,
                             const struct gh_reqmeta *meta, struct gh_invitation *out) GH_WUR
    GH_NONNULL(1, 2, 3, 4, 5, 7);
/** The org's live invitations (org:admin), without their invitees. */
gh_err gh_rbac_invitation_list(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                               size_t limit, size_t offset, gh_invitation_visit_fn fn,
                               void *arg) GH_WUR GH_NONNULL(1, 2, 3, 6);
/** Revokes a pending invitation of the org (org:admin); GH_ERR_NOT_FOUND none pending. */
gh_err gh_rbac_invitation_revoke(struct gh_rbac *r, const struct gh_identity *who,
                                 const char *org_id, const char *id,
                                 const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2, 3, 4);
/** The live invitations addressed to who. */
gh_err gh_rbac_my_invitations(struct gh_rbac *r, const struct gh_identity *who, size_t limit,
                              size_t offset, gh_invitation_visit_fn fn, void *arg) GH_WUR
    GH_NONNULL(1, 2, 5);
/**
 * who accepts invitation id: a member of its org with its role at once (cached views
 * dropped). *out gets the invitation. GH_ERR_NOT_FOUND not a pending invitation of who's;
 * GH_ERR_EXPIRED dead; GH_ERR_CONFLICT who is a member already. Audited INVITATION_ACCEPTED.
 */
gh_err gh_rbac_invitation_accept(struct gh_rbac *r, const struct gh_identity *who, const char *id,
                                 const struct gh_reqmeta *meta, struct gh_invitation *out) GH_WUR
    GH_NONNULL(1, 2, 3, 5);
/**
 * who declines invitation id; errors as gh_rbac_invitation_accept. Audited
 * INVITATION_DECLINED outside any org: the inviting org's admins must not learn who
 * declined (an invitation left unanswered looks like one to nobody).
 */
gh_err gh_rbac_invitation_decline(struct gh_rbac *r, const struct gh_identity *who, const char *id,
                                  const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2, 3);
/** GH_ERR_FORBIDDEN also when the member's current role, or the new one, grants more than the
 * caller holds. */
gh_err gh_rbac_member_set_role(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                               const char *user_id, const char *role, const struct gh_reqmeta *meta,
                               struct gh_member *out) GH_WUR GH_NONNULL(1, 2, 3, 4, 5, 7);
/** Removes a member (a member may always leave with its own token, unless the last admin);
 * GH_ERR_FORBIDDEN when the member's role grants more than the caller holds. */
gh_err gh_rbac_member_remove(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                             const char *user_id, const struct gh_reqmeta *meta) GH_WUR
    GH_NONNULL(1, 2, 3, 4);

/* ---- roles ---- */

#define GH_ROLE_PERMS_MAX 64 /* permissions in one role */

/** A role write: name and/or permissions (NULL / has_perms 0: unchanged). */
struct gh_role_input {
    const char *name;
    const char *const *perms;
    size_t nperms;
    int has_perms;
};

/** Why a role write was refused: the field, and an unknown permission when that was it. */
struct gh_role_refusal {
    const char *field;
    char permission[GH_PERM_MAX];
};

gh_err gh_rbac_role_list(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                         size_t limit, size_t offset, gh_role_visit_fn fn, void *arg) GH_WUR
    GH_NONNULL(1, 2, 3, 6);
/** GH_ERR_INVALID with refusal (bad name, malformed or unknown permission, too many);
 * GH_ERR_TOO_LARGE when the org has 256 roles already. */
gh_err gh_rbac_role_create(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                           const struct gh_role_input *in, const struct gh_reqmeta *meta,
                           struct gh_role *out, struct gh_role_refusal *refusal) GH_WUR
    GH_NONNULL(1, 2, 3, 4, 6, 7);
/** GH_ERR_IMMUTABLE: renaming a system role, or any change to admin. */
gh_err gh_rbac_role_update(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                           const char *role_id, const struct gh_role_input *in,
                           const struct gh_reqmeta *meta, struct gh_role *out,
                           struct gh_role_refusal *refusal) GH_WUR GH_NONNULL(1, 2, 3, 4, 5, 7, 8);
gh_err gh_rbac_role_delete(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                           const char *role_id, const struct gh_reqmeta *meta) GH_WUR
    GH_NONNULL(1, 2, 3, 4);

/* ---- users (admin) ---- */

/**
 * May who administer users: a superadmin every user; a holder of user:admin in its
 * current org the members of that org (others are GH_ERR_NOT_FOUND). For a write
 * (write != 0) by a non-superadmin, the target must belong to no other org and not be a
 * superadmin (GH_ERR_FORBIDDEN). target_id NULL: may who list users at all.
 */
gh_err gh_rbac_user_access(struct gh_rbac *r, const struct gh_identity *who, const char *target_id,
                           int write) GH_WUR GH_NONNULL(1, 2);
/** The users who may see: every user for a superadmin, else the members of its org. */
gh_err gh_rbac_user_list(struct gh_rbac *r, const struct gh_identity *who, size_t limit,
                         size_t offset, gh_user_visit_fn fn, void *arg) GH_WUR GH_NONNULL(1, 2, 5);

#endif

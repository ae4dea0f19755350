#include "authz/rbac.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <jansson.h>

#include "authz/catalog.h"
#include "authz/names.h"
#include "core/perm.h"
#include "core/log.h"
#include "core/secure_json.h"
#include "core/time.h"
#include "core/uuid.h"

#define ADMIN_PERMISSIONS "*:*"
#define DEFAULT_ORG "default"
#define ROLES_MAX 256 /* roles of one org, system roles included */

struct gh_rbac {
    struct gh_rbac_opts o;
    const struct gh_store_handle *store;
    struct gh_auth *auth;       /* the default org's id */
    struct gh_views *views;     /* members' cached permissions, dropped on every change */
    struct gh_catalog *catalog; /* the declared permissions */
};

/* ---- declared permissions ---- */

gh_err gh_rbac_opts_check(const struct gh_rbac_opts *o, char *err, size_t err_size)
{
    return gh_catalog_check_config(o->app_permissions, o->member_permissions, err, err_size);
}

gh_err gh_rbac_new(const struct gh_rbac_opts *opts, const struct gh_store_handle *store,
                   struct gh_auth *auth, struct gh_rbac **out)
{
    struct gh_rbac *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return GH_ERR_NOMEM;
    r->o = *opts;
    r->store = store;
    r->auth = auth;
    r->views = gh_auth_views(auth);
    gh_err err = gh_catalog_new(opts->app_permissions, store, &r->catalog);
    if (err != GH_OK) {
        gh_rbac_free(r);
        return err;
    }
    *out = r;
    return GH_OK;
}

void gh_rbac_free(struct gh_rbac *r)
{
    if (r == NULL)
        return;
    gh_catalog_free(r->catalog);
    free(r);
}

gh_err gh_rbac_perm_list(struct gh_rbac *r,
                         int (*fn)(void *arg, const char *name, const char *source), void *arg)
{
    return gh_catalog_list(r->catalog, fn, arg);
}

/* A record of who did what to which resource (its type and id) in org_id. */
static void audit(struct gh_rbac *r, const char *action, const struct gh_reqmeta *meta,
                  const struct gh_identity *who, const char *org_id, const char *type,
                  const char *id, int status, json_t *md)
{
    char *text = md != NULL ? json_dumps(md, JSON_COMPACT) : NULL;
    struct gh_audit_subject s = {who->user_id, who->username, org_id};
    struct gh_audit_resource res = {type, id};
    (void)gh_audit_record_on(r->store, action, meta, &s, &res, status, text);
    gh_secure_json_free(text);
    json_decref(md);
}

gh_err gh_rbac_perm_add(struct gh_rbac *r, const struct gh_identity *who, const char *name,
                        const struct gh_reqmeta *meta)
{
    if (!who->superadmin)
        return GH_ERR_FORBIDDEN;
    gh_err err = gh_catalog_add(r->catalog, name);
    if (err == GH_OK)
        audit(r, "PERMISSION_CREATE", meta, who, who->org_id, "permission", name, 201,
              json_pack("{s:s}", "permission", name));
    return err;
}

/* ---- access ---- */

gh_err gh_rbac_access(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                      const char *perm, char *perms)
{
    struct gh_member_view mv;
    const char *have = NULL;
    if (strcmp(org_id, who->org_id) == 0) {
        have = who->perms; /* the credential's org: its permissions are current */
    } else if (who->cred == GH_CRED_API_KEY) {
        return GH_ERR_NOT_FOUND; /* a key acts in its own org only */
    } else {
        gh_err err = gh_views_membership(r->views, who->user_id, org_id, &mv);
        if (err == GH_OK) {
            have = mv.perms;
        } else if (err == GH_ERR_NOT_FOUND && who->superadmin) {
            struct gh_org o;
            if ((err = gh_store_org_get(r->store, org_id, &o)) != GH_OK)
                return err;
            have = "";
        } else {
            return err;
        }
    }
    if (!gh_authz_decide(who, have, perm, NULL, NULL))
        return GH_ERR_FORBIDDEN;
    if (perms != NULL)
        (void)snprintf(perms, GH_PERMS_MAX, "%s", who->superadmin ? ADMIN_PERMISSIONS : have);
    return GH_OK;
}

gh_err gh_rbac_check(struct gh_rbac *r, const struct gh_identity *who, const char *perm,
                     const char *org_id, const char *owner_id, int *allowed,
                     enum gh_authz_reason *why)
{
    struct gh_member_view mv;
    const char *have = who->perms;
    if (!gh_catalog_known(r->catalog, perm)) {
        *allowed = 0;
        *why = GH_AUTHZ_UNKNOWN_PERMISSION;
        return GH_OK;
    }
    if (org_id != NULL && strcmp(org_id, who->org_id) != 0) {
        gh_err err = who->cred == GH_CRED_API_KEY
                         ? GH_ERR_NOT_FOUND
                         : gh_views_membership(r->views, who->user_id, org_id, &mv);
        if (err == GH_ERR_NOT_FOUND && who->superadmin) {
            struct gh_org o;
            err = gh_store_org_get(r->store, org_id, &o);
            have = "";
        } else {
            have = mv.perms;
        }
        if (err == GH_ERR_NOT_FOUND) {
            *allowed = 0;
            *why = GH_AUTHZ_NOT_A_MEMBER;
            return GH_OK;
        }
        if (err != GH_OK)
            return err;
    }
    *allowed = gh_authz_decide(who, have, perm, owner_id, why);
    return GH_OK;
}

/* ---- orgs ---- */

gh_err gh_rbac_org_create(struct gh_rbac *r, const struct gh_identity *who, const char *name,
                          const struct gh_reqmeta *meta, struct gh_org *out)
{
    struct gh_org org;
    if (!gh_authz_org_name_ok(name))
        return GH_ERR_INVALID;
    memset(&org, 0, sizeof(org));
    gh_uuid_v7(org.id);
    memcpy(org.name, name, strlen(name) + 1);
    org.created_at = gh_time_now();
    gh_err err = gh_store_org_create(r->store, &org, ADMIN_PERMISSIONS, r->o.member_permissions);
    if (err != GH_OK)
        return err;
    err = gh_store_member_add(r->store, org.id, who->user_id, "admin", org.created_at);
    if (err != GH_OK) {
        /* An org without its creator as admin would be nobody's: take it back. */
        if (gh_store_org_delete(r->store, org.id, org.created_at, NULL, NULL) != GH_OK)
            gh_log(GH_LOG_WARN, "orgs: could not remove org %s after a failed create", org.id);
        return err;
    }
    gh_views_forget(r->views, who->user_id);
    audit(r, "ORG_CREATE", meta, who, org.id, "org", org.id, 201,
          json_pack("{s:s}", "name", org.name));
    *out = org;
    return GH_OK;
}

gh_err gh_rbac_org_list(struct gh_rbac *r, const struct gh_identity *who, size_t limit,
                        size_t offset, gh_org_visit_fn fn, void *arg)
{
    if (who->cred == GH_CRED_API_KEY) {
        /* A key sees the one org it acts in. */
        struct gh_org o;
        gh_err err = gh_store_org_get(r->store, who->org_id, &o);
        if (err == GH_OK && offset == 0 && limit > 0)
            (void)fn(arg, &o);
        return err;
    }
    return gh_store_org_list(r->store, who->superadmin ? NULL : who->user_id, limit, offset, fn,
                             arg);
}

gh_err gh_rbac_org_get(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                       struct gh_org *out)
{
    gh_err err = gh_rbac_access(r, who, org_id, "org:read", NULL);
    if (err != GH_OK)
        return err;
    return gh_store_org_get(r->store, org_id, out);
}

gh_err gh_rbac_org_rename(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                          const char *name, const struct gh_reqmeta *meta, struct gh_org *out)
{
    struct gh_org org;
    gh_err err = gh_rbac_access(r, who, org_id, "org:write", NULL);
    if (err != GH_OK)
        return err;
    if (!gh_authz_org_name_ok(name))
        return GH_ERR_INVALID;
    if ((err = gh_store_org_get(r->store, org_id, &org)) != GH_OK)
        return err;
    if (strcmp(org.name, DEFAULT_ORG) == 0 && strcmp(name, DEFAULT_ORG) != 0)
        return GH_ERR_IMMUTABLE; /* registration joins the org by this name */
    if ((err = gh_store_org_rename(r->store, org_id, name)) != GH_OK)
        return err;
    audit(r, "ORG_UPDATE", meta, who, org_id, "org", org_id, 200,
          json_pack("{s:s, s:s}", "name", name, "previous_name", org.name));
    memcpy(org.name, name, strlen(name) + 1);
    *out = org;
    return GH_OK;
}

static void forget(void *arg, const char *user_id)
{
    gh_views_forget(arg, user_id);
}

gh_err gh_rbac_org_delete(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                          const struct gh_reqmeta *meta)
{
    struct gh_org org;
    gh_err err = gh_rbac_access(r, who, org_id, "org:delete", NULL);
    if (err != GH_OK)
        return err;
    if ((err = gh_store_org_get(r->store, org_id, &org)) != GH_OK)
        return err;
    if (strcmp(org.name, DEFAULT_ORG) == 0)
        return GH_ERR_IMMUTABLE;
    /* What an org's deletion takes with it, in one transaction: the refresh tokens scoped
     * to it; the members whose only org it is join the default org as "member", as a user
     * removed from a last org does (every user keeps an org); the primary org of its
     * members moves to another of theirs (their oldest; for those, the default org); then
     * the org with its roles, memberships, invitations and keys. */
    struct gh_store_handle tx;
    int64_t now = gh_time_now(), moved = 0;
    if ((err = gh_store_tx_begin(r->store, &tx)) != GH_OK)
        return err;
    if ((err = gh_store_refresh_revoke_org(&tx, org_id, NULL, now)) == GH_OK &&
        (err = gh_store_member_fallback(&tx, org_id, gh_auth_default_org(r->auth), now, &moved)) ==
            GH_OK &&
        (err = gh_store_user_primary_reassign(&tx, org_id, NULL)) == GH_OK)
        err = gh_store_org_delete(&tx, org_id, now, forget, r->views);
    if ((err = gh_store_tx_end(&tx, err)) != GH_OK)
        return err;
    audit(r, "ORG_DELETE", meta, who, org_id, "org", org_id, 204,
          json_pack("{s:s, s:I}", "name", org.name, "moved_to_default", (json_int_t)moved));
    return GH_OK;
}

/* ---- members ---- */

const char *gh_rbac_members_perm(struct gh_rbac *r, const char *org_id)
{
    return strcmp(org_id, gh_auth_default_org(r->auth)) == 0 ? "org:admin" : "org:read";
}

gh_err gh_rbac_member_list(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                           size_t limit, size_t offset, gh_member_visit_fn fn, void *arg)
{
    gh_err err = gh_rbac_access(r, who, org_id, gh_rbac_members_perm(r, org_id), NULL);
    if (err != GH_OK)
        return err;
    return gh_store_member_list_org(r->store, org_id, limit, offset, fn, arg);
}

struct find_role {
    const char *name;
    struct gh_role *out;
    int found;
};

static int match_role(void *arg, const struct gh_role *role)
{
    struct find_role *f = arg;
    if (strcmp(role->name, f->name) != 0)
        return 0;
    *f->out = *role;
    f->found = 1;
    return 1;
}

static int count_role(void *arg, const struct gh_role *role)
{
    (void)role;
    (*(size_t *)arg)++;
    return 0;
}

/* The org's role called name: GH_ERR_INVALID when there is none. */
static gh_err role_by_name(struct gh_rbac *r, const char *org_id, const char *name,
                           struct gh_role *out)
{
    struct find_role f = {name, out, 0};
    gh_err err = gh_store_role_list(r->store, org_id, SIZE_MAX, 0, match_role, &f);
    if (err != GH_OK)
        return err;
    return f.found ? GH_OK : GH_ERR_INVALID;
}

/* What a member write needs: org:admin there, and holding what the role grants. */
static gh_err may_assign(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                         const char *role, struct gh_role *out)
{
    char perms[GH_PERMS_MAX];
    gh_err err = gh_rbac_access(r, who, org_id, "org:admin", perms);
    if (err != GH_OK)
        return err;
    if ((err = role_by_name(r, org_id, role, out)) != GH_OK)
        return err;
    return gh_authz_holds_all(who, perms, out->permissions) ? GH_OK : GH_ERR_FORBIDDEN;
}

/* What changing or removing a member needs: org:admin, and holding what the member's role
 * grants now (a delegated admin cannot demote or remove one who holds more). */
static gh_err may_touch(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                        const char *user_id)
{
    char perms[GH_PERMS_MAX];
    struct gh_member_view mv;
    gh_err err = gh_rbac_access(r, who, org_id, "org:admin", perms);
    if (err != GH_OK || (err = gh_views_membership(r->views, user_id, org_id, &mv)) != GH_OK)
        return err;
    return gh_authz_holds_all(who, perms, mv.perms) ? GH_OK : GH_ERR_FORBIDDEN;
}

static void audit_member(struct gh_rbac *r, const struct gh_reqmeta *meta,
                         const struct gh_identity *who, const char *org_id, const char *change,
                         const char *user_id, const char *role, int status)
{
    json_t *md = json_pack("{s:s, s:s}", "change", change, "member_id", user_id);
    if (md != NULL && role != NULL)
        json_object_set_new(md, "role", json_string(role));
    audit(r, "MEMBERSHIP_CHANGE", meta, who, org_id, "user", user_id, status, md);
}

int gh_rbac_adds_directly(const struct gh_rbac *r, const struct gh_identity *who)
{
    return who->cred == GH_CRED_OPERATOR ||
           (who->superadmin && (who->cred == GH_CRED_JWT || who->cred == GH_CRED_SESSION) &&
            r->o.superadmin_direct_add);
}

/* The id of the user to names into id, "" when it names none (a username or email that
 * matches nobody, or matches the other field of a user). A user_id is taken as it is. */
static gh_err resolve(struct gh_rbac *r, const struct gh_invitee *to, char id[GH_UUID_LEN + 1])
{
    struct gh_user u;
    id[0] = '\0';
    if (to->user_id != NULL) {
        (void)snprintf(id, GH_UUID_LEN + 1, "%s", to->user_id);
        return GH_OK;
    }
    const char *login = to->username != NULL ? to->username : to->email;
    if (login == NULL)
        return GH_ERR_INVALID;
    gh_err err = gh_store_user_find_login(r->store, login, &u);
    if (err == GH_ERR_NOT_FOUND)
        return GH_OK;
    if (err != GH_OK)
        return err;
    if (strcasecmp(to->username != NULL ? u.username : u.email, login) == 0)
        memcpy(id, u.id, GH_UUID_LEN + 1);
    return GH_OK;
}

gh_err gh_rbac_member_add(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                          const struct gh_invitee *to, const char *role,
                          const struct gh_reqmeta *meta, struct gh_member *out)
{
    struct gh_role rl;
    struct gh_user u;
    char user_id[GH_UUID_LEN + 1];
    if (!gh_rbac_adds_directly(r, who))
        return GH_ERR_FORBIDDEN;
    gh_err err = may_assign(r, who, org_id, role, &rl);
    if (err != GH_OK || (err = resolve(r, to, user_id)) != GH_OK)
        return err;
    err = gh_store_user_get(r->store, user_id, &u);
    if (err != GH_OK)
        return err;
    if ((err = gh_store_member_add(r->store, org_id, u.id, role, gh_time_now())) != GH_OK)
        return err == GH_ERR_NOT_FOUND ? GH_ERR_INVALID : err; /* the role went meanwhile */
    gh_views_forget(r->views, u.id);
    audit_member(r, meta, who, org_id, "add", u.id, role, 201);
    memset(out, 0, sizeof(*out));
    memcpy(out->user_id, u.id, sizeof(out->user_id));
    memcpy(out->username, u.username, sizeof(out->username));
    memcpy(out->role_name, rl.name, sizeof(out->role_name));
    return GH_OK;
}

/*
 * Inside tx: whether user_id's move from its role in org_id to next_role (NULL: leaving the
 * org) leaves the org without an admin. GH_ERR_NOT_FOUND not a member.
 */
static gh_err leaves_no_admin(const struct gh_store_handle *tx, const char *org_id,
                              const char *user_id, const char *next_role, int *last)
{
    struct gh_membership m;
    int64_t admins = 0;
    *last = 0;
    gh_err err = gh_store_member_get(tx, org_id, user_id, &m);
    if (err != GH_OK || strcmp(m.role_name, "admin") != 0 ||
        (next_role != NULL && strcmp(next_role, "admin") == 0))
        return err;
    if ((err = gh_store_member_count_admins(tx, org_id, &admins)) == GH_OK)
        *last = admins <= 1;
    return err;
}

gh_err gh_rbac_member_set_role(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                               const char *user_id, const char *role, const struct gh_reqmeta *meta,
                               struct gh_member *out)
{
    struct gh_role rl;
    struct gh_user u;
    gh_err err = may_touch(r, who, org_id, user_id);
    if (err == GH_OK)
        err = may_assign(r, who, org_id, role, &rl);
    if (err != GH_OK)
        return err;
    /* The check and the change in one transaction: of two concurrent demotions of an org's
     * last two admins, the second sees the first. */
    struct gh_store_handle tx;
    int last = 0;
    if ((err = gh_store_tx_begin(r->store, &tx)) != GH_OK)
        return err;
    if ((err = leaves_no_admin(&tx, org_id, user_id, role, &last)) == GH_OK && last)
        err = GH_ERR_CONFLICT; /* an org keeps an admin */
    if (err == GH_OK)
        err = gh_store_member_set_role(&tx, org_id, user_id, role, gh_time_now());
    if ((err = gh_store_tx_end(&tx, err)) != GH_OK)
        return err;
    gh_views_forget(r->views, user_id);
    audit_member(r, meta, who, org_id, "role", user_id, role, 200);
    err = gh_store_user_get(r->store, user_id, &u);
    if (err != GH_OK)
        return err;
    memset(out, 0, sizeof(*out));
    memcpy(out->user_id, u.id, sizeof(out->user_id));
    memcpy(out->username, u.username, sizeof(out->username));
    memcpy(out->role_name, rl.name, sizeof(out->role_name));
    return GH_OK;
}

gh_err gh_rbac_member_remove(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                             const char *user_id, const struct gh_reqmeta *meta)
{
    gh_err err;
    if (strcmp(user_id, who->user_id) == 0 && who->cred != GH_CRED_API_KEY) {
        /* Leaving needs no permission, only membership (and the user's own token: a key
         * acting for the user needs org:admin like for anyone). */
        struct gh_member_view mv;
        err = gh_rbac_access(r, who, org_id, "org:admin", NULL);
        if (err == GH_ERR_FORBIDDEN)
            err = gh_views_membership(r->views, who->user_id, org_id, &mv);
    } else {
        err = may_touch(r, who, org_id, user_id);
    }
    if (err != GH_OK)
        return err;
    /* The checks, the removal and what the membership granted (refresh tokens, sessions
     * and keys scoped to the org, the org as primary), in one transaction. Every user
     * keeps an org: nobody leaves their last one, and a user removed from their last
     * org falls back to the default org, where registration puts everyone. */
    struct gh_store_handle tx;
    struct gh_membership orgs[2];
    size_t n = 0;
    int last = 0, self = strcmp(user_id, who->user_id) == 0;
    const char *fallback = gh_auth_default_org(r->auth);
    int64_t now = gh_time_now();
    if ((err = gh_store_tx_begin(r->store, &tx)) != GH_OK)
        return err;
    if ((err = leaves_no_admin(&tx, org_id, user_id, NULL, &last)) == GH_OK && last)
        err = GH_ERR_CONFLICT; /* an org keeps an admin */
    if (err == GH_OK && (err = gh_store_member_list_user(&tx, user_id, orgs, 2, &n)) == GH_OK &&
        n < 2 && (self || strcmp(org_id, fallback) == 0))
        err = GH_ERR_CONFLICT; /* a user keeps an org */
    if (err == GH_OK && (err = gh_store_member_remove(&tx, org_id, user_id, now)) == GH_OK &&
        (n >= 2 || (err = gh_store_member_add(&tx, fallback, user_id, "member", now)) == GH_OK) &&
        (err = gh_store_refresh_revoke_org(&tx, org_id, user_id, now)) == GH_OK &&
        (err = gh_store_apikey_revoke_org(&tx, org_id, user_id, now)) == GH_OK)
        err = gh_store_user_primary_reassign(&tx, org_id, user_id);
    if ((err = gh_store_tx_end(&tx, err)) != GH_OK)
        return err;
    gh_views_forget(r->views, user_id);
    audit_member(r, meta, who, org_id, "remove", user_id, NULL, 204);
    return GH_OK;
}

/* ---- invitations ---- */

static void audit_invitation(struct gh_rbac *r, const char *action, const struct gh_reqmeta *meta,
                             const struct gh_identity *who, const char *org_id, int status,
                             const char *id, const char *role)
{
    json_t *md = json_pack("{s:s}", "invitation_id", id);
    if (md != NULL && role != NULL)
        json_object_set_new(md, "role", json_string(role));
    audit(r, action, meta, who, org_id, "invitation", id, status, md);
}

static int count_invitation(void *arg, const struct gh_invitation *inv)
{
    (void)inv;
    (*(size_t *)arg)++;
    return 0;
}

gh_err gh_rbac_member_invite(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                             const struct gh_invitee *to, const char *role,
                             const struct gh_reqmeta *meta, struct gh_invitation *out)
{
    struct gh_role rl;
    struct gh_invitation inv;
    char user_id[GH_UUID_LEN + 1];
    size_t live = 0;
    gh_err err = may_assign(r, who, org_id, role, &rl);
    if (err != GH_OK || (err = resolve(r, to, user_id)) != GH_OK)
        return err;
    /* Bounded, as roles are: an org cannot grow the table without end. */
    err = gh_store_invitation_list_org(r->store, org_id, gh_time_now(),
                                       r->o.max_pending_invitations, 0, count_invitation, &live);
    if (err != GH_OK)
        return err;
    if (live >= r->o.max_pending_invitations)
        return GH_ERR_TOO_LARGE;
    memset(&inv, 0, sizeof(inv));
    gh_uuid_v7(inv.id);
    memcpy(inv.org_id, org_id, strlen(org_id) + 1);
    memcpy(inv.role_name, rl.name, sizeof(inv.role_name));
    inv.created_at = gh_time_now();
    inv.expires_at = inv.created_at + r->o.invitation_ttl;
    err = gh_store_invitation_create(r->store, &inv, user_id, who->user_id);
    if (err != GH_OK)
        return err == GH_ERR_NOT_FOUND ? GH_ERR_INVALID : err; /* the role went meanwhile */
    /* Never the invitee: the org's admins read this record. */
    audit_invitation(r, "MEMBER_INVITED", meta, who, org_id, 202, inv.id, rl.name);
    *out = inv;
    return GH_OK;
}

gh_err gh_rbac_invitation_list(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                               size_t limit, size_t offset, gh_invitation_visit_fn fn, void *arg)
{
    gh_err err = gh_rbac_access(r, who, org_id, "org:admin", NULL);
    if (err != GH_OK)
        return err;
    return gh_store_invitation_list_org(r->store, org_id, gh_time_now(), limit, offset, fn, arg);
}

gh_err gh_rbac_invitation_revoke(struct gh_rbac *r, const struct gh_identity *who,
                                 const char *org_id, const char *id, const struct gh_reqmeta *meta)
{
    gh_err err = gh_rbac_access(r, who, org_id, "org:admin", NULL);
    if (err != GH_OK ||
        (err = gh_store_invitation_revoke(r->store, org_id, id, gh_time_now())) != GH_OK)
        return err;
    audit_invitation(r, "INVITATION_REVOKED", meta, who, org_id, 204, id, NULL);
    return GH_OK;
}

gh_err gh_rbac_my_invitations(struct gh_rbac *r, const struct gh_identity *who, size_t limit,
                              size_t offset, gh_invitation_visit_fn fn, void *arg)
{
    return gh_store_invitation_list_user(r->store, who->user_id, gh_time_now(), limit, offset, fn,
                                         arg);
}

gh_err gh_rbac_invitation_accept(struct gh_rbac *r, const struct gh_identity *who, const char *id,
                                 const struct gh_reqmeta *meta, struct gh_invitation *out)
{
    struct gh_invitation inv;
    gh_err err = gh_store_invitation_accept(r->store, who->user_id, id, gh_time_now(), &inv);
    if (err != GH_OK)
        return err;
    gh_views_forget(r->views, who->user_id);
    audit_invitation(r, "INVITATION_ACCEPTED", meta, who, inv.org_id, 200, id, inv.role_name);
    *out = inv;
    return GH_OK;
}

gh_err gh_rbac_invitation_decline(struct gh_rbac *r, const struct gh_identity *who, const char *id,
                                  const struct gh_reqmeta *meta)
{
    gh_err err = gh_store_invitation_decline(r->store, who->user_id, id, gh_time_now());
    if (err != GH_OK)
        return err;
    audit_invitation(r, "INVITATION_DECLINED", meta, who, NULL, 204, id, NULL);
    return GH_OK;
}

/* ---- roles ---- */

/* Checks and joins a role's permissions into out (2048 bytes). */
static gh_err role_perms(struct gh_rbac *r, const struct gh_role_input *in, char *out, size_t size,
                         struct gh_role_refusal *refusal)
{
    size_t used = 0;
    refusal->field = "permissions";
    out[0] = '\0';
    if (in->nperms > GH_ROLE_PERMS_MAX)
        return GH_ERR_INVALID;
    for (size_t i = 0; i < in->nperms; i++) {
        const char *p = in->perms[i];
        size_t n = strlen(p);
        if (!gh_perm_valid(p, n) || !gh_catalog_known(r->catalog, p)) {
            (void)snprintf(refusal->permission, sizeof(refusal->permission), "%.*s",
                           (int)(n < GH_PERM_MAX - 1 ? n : GH_PERM_MAX - 1), p);
            return GH_ERR_INVALID;
        }
        if (used + (used > 0) + n + 1 > size)
            return GH_ERR_INVALID;
        if (used > 0)
            out[used++] = ' ';
        memcpy(out + used, p, n + 1);
        used += n;
    }
    refusal->field = NULL;
    return GH_OK;
}

gh_err gh_rbac_role_list(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                         size_t limit, size_t offset, gh_role_visit_fn fn, void *arg)
{
    gh_err err = gh_rbac_access(r, who, org_id, "role:read", NULL);
    if (err != GH_OK)
        return err;
    return gh_store_role_list(r->store, org_id, limit, offset, fn, arg);
}

static void audit_role(struct gh_rbac *r, const struct gh_reqmeta *meta,
                       const struct gh_identity *who, const struct gh_role *role,
                       const char *change, int status)
{
    audit(r, "ROLE_CHANGE", meta, who, role->org_id, "role", role->id, status,
          json_pack("{s:s, s:s, s:s, s:s}", "change", change, "role_id", role->id, "name",
                    role->name, "permissions", role->permissions));
}

gh_err gh_rbac_role_create(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                           const struct gh_role_input *in, const struct gh_reqmeta *meta,
                           struct gh_role *out, struct gh_role_refusal *refusal)
{
    struct gh_role role;
    char perms[GH_PERMS_MAX];
    gh_err err = gh_rbac_access(r, who, org_id, "role:write", perms);
    if (err != GH_OK)
        return err;
    memset(&role, 0, sizeof(role));
    refusal->field = "name";
    if (in->name == NULL || !gh_authz_role_name_ok(in->name))
        return GH_ERR_INVALID;
    if ((err = role_perms(r, in, role.permissions, sizeof(role.permissions), refusal)) != GH_OK)
        return err;
    if (!gh_authz_holds_all(who, perms, role.permissions))
        return GH_ERR_FORBIDDEN; /* a role never grants more than its author holds */
    size_t n = 0;
    if ((err = gh_store_role_list(r->store, org_id, ROLES_MAX, 0, count_role, &n)) != GH_OK)
        return err;
    if (n >= ROLES_MAX)
        return GH_ERR_TOO_LARGE;
    gh_uuid_v7(role.id);
    memcpy(role.org_id, org_id, strlen(org_id) + 1);
    memcpy(role.name, in->name, strlen(in->name) + 1);
    if ((err = gh_store_role_create(r->store, &role)) != GH_OK)
        return err;
    audit_role(r, meta, who, &role, "create", 201);
    *out = role;
    return GH_OK;
}

gh_err gh_rbac_role_update(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                           const char *role_id, const struct gh_role_input *in,
                           const struct gh_reqmeta *meta, struct gh_role *out,
                           struct gh_role_refusal *refusal)
{
    struct gh_role role;
    char perms[GH_PERMS_MAX], next[GH_PERMS_MAX];
    gh_err err = gh_rbac_access(r, who, org_id, "role:write", perms);
    if (err != GH_OK)
        return err;
    if ((err = gh_store_role_get(r->store, org_id, role_id, &role)) != GH_OK)
        return err;
    refusal->field = "name";
    if (in->name != NULL && !gh_authz_role_name_ok(in->name))
        return GH_ERR_INVALID;
    int renames = in->name != NULL && strcmp(in->name, role.name) != 0;
    if (role.system && (renames || (strcmp(role.name, "admin") == 0 && in->has_perms)))
        return GH_ERR_IMMUTABLE;
    if (in->has_perms) {
        if ((err = role_perms(r, in, next, sizeof(next), refusal)) != GH_OK)
            return err;
        /* Neither what it grants now nor what it will grant may exceed the author. */
        if (!gh_authz_holds_all(who, perms, next) ||
            !gh_authz_holds_all(who, perms, role.permissions))
            return GH_ERR_FORBIDDEN;
    }
    refusal->field = NULL;
    if ((err = gh_store_role_update(r->store, org_id, role_id, renames ? in->name : NULL,
                                    in->has_perms ? next : NULL, gh_time_now(), forget,
                                    r->views)) != GH_OK)
        return err;
    if (renames)
        memcpy(role.name, in->name, strlen(in->name) + 1);
    if (in->has_perms)
        memcpy(role.permissions, next, sizeof(role.permissions));
    audit_role(r, meta, who, &role, "update", 200);
    *out = role;
    return GH_OK;
}

gh_err gh_rbac_role_delete(struct gh_rbac *r, const struct gh_identity *who, const char *org_id,
                           const char *role_id, const struct gh_reqmeta *meta)
{
    struct gh_role role;
    gh_err err = gh_rbac_access(r, who, org_id, "role:delete", NULL);
    if (err != GH_OK)
        return err;
    if ((err = gh_store_role_get(r->store, org_id, role_id, &role)) != GH_OK)
        return err;
    if (role.system)
        return GH_ERR_IMMUTABLE;
    if ((err = gh_store_role_delete(r->store, org_id, role_id)) != GH_OK)
        return err;
    audit_role(r, meta, who, &role, "delete", 204);
    return GH_OK;
}

/* ---- users ---- */

gh_err gh_rbac_user_access(struct gh_rbac *r, const struct gh_identity *who, const char *target_id,
                           int write)
{
    struct gh_user u;
    struct gh_membership orgs[2];
    struct gh_member_view mv;
    gh_err err;
    if (who->superadmin) {
        if (target_id == NULL)
            return GH_OK;
        err = gh_store_user_get(r->store, target_id, &u);
        return err;
    }
    if (!gh_authz_decide(who, who->perms, "user:admin", NULL, NULL))
        return GH_ERR_FORBIDDEN;
    if (target_id == NULL)
        return GH_OK;
    if ((err = gh_views_membership(r->views, target_id, who->org_id, &mv)) != GH_OK)
        return err; /* not in the caller's org: not there at all */
    if (!write)
        return GH_OK;
    size_t n = 0;
    if ((err = gh_store_user_get(r->store, target_id, &u)) != GH_OK ||
        (err = gh_store_member_list_user(r->store, target_id, orgs, 2, &n)) != GH_OK)
        return err;
    return u.superadmin || n > 1 ? GH_ERR_FORBIDDEN : GH_OK;
}

gh_err gh_rbac_user_list(struct gh_rbac *r, const struct gh_identity *who, size_t limit,
                         size_t offset, gh_user_visit_fn fn, void *arg)
{
    gh_err err = gh_rbac_user_access(r, who, NULL, 0);
    if (err != GH_OK)
        return err;
    if (who->superadmin)
        return gh_store_user_list(r->store, limit, offset, fn, arg);
    return gh_store_user_list_org(r->store, who->org_id, limit, offset, fn, arg);
}

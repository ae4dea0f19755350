/*
 * Authorization and tenancy: /api/v1/orgs..., /api/v1/authz/check, /api/v1/permissions,
 * /api/v1/auth/me/primary-org, /api/v1/auth/me/invitations... The org always comes from
 * the path and the verified caller; the service decides access (authz/rbac.h) and these
 * handlers map its answer.
 */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/reauth.h"
#include "authz/rbac.h"
#include "core/uuid.h"

/* Path segments: /api(0)/v1(1)/orgs(2)/{org}(3)/members|roles|invitations(4)/{id}(5), and
 * /api(0)/v1(1)/auth(2)/me(3)/invitations(4)/{id}(5)/accept|decline(6) */
#define SEG_ORG 3
#define SEG_SUB 5

/* The answers of the rbac service's errors (api/errors.h); "no such <what>" for a 404. */
#define RBAC_ANSWERS(what)                                                                         \
    {GH_ERR_NOT_FOUND, 404, "not_found", "no such " what, NULL},                                   \
        {GH_ERR_IMMUTABLE, 409, "immutable", "this is a system role or the default org", NULL},    \
        {GH_ERR_CONFLICT, 409, "conflict",                                                         \
         "the name is taken, the role is held, the org would lose its last admin, or the "         \
         "user their last org",                                                                    \
         NULL},                                                                                    \
        GH_API_ANSWERS_END
#define VALUE(err, field, message)                                                                 \
    {                                                                                              \
        err, 422, "invalid_value", message, field                                                  \
    }
#define NO_SUCH_ROLE VALUE(GH_ERR_INVALID, "role", "no such role in this organization")

static const struct gh_api_answer org_answers[] = {RBAC_ANSWERS("organization")};
static const struct gh_api_answer member_answers[] = {RBAC_ANSWERS("member")};
static const struct gh_api_answer role_answers[] = {RBAC_ANSWERS("role")};
static const struct gh_api_answer invitation_answers[] = {RBAC_ANSWERS("invitation")};

/*
 * Answers a service error: a 403 is the audited denial of perm in org in (the org of
 * the path; NULL: the caller's), anything else the row of answers for it.
 */
static void reply_rbac(struct gh_req *req, gh_err err, const char *perm,
                       const struct gh_api_answer *answers, const char *in)
{
    if (err == GH_ERR_FORBIDDEN)
        gh_api_deny_in(req, perm, in);
    else
        gh_api_reply_err(req, err, answers);
}

static void reply_value(struct gh_req *req, const char *field, const char *message)
{
    gh_reply_error(req, 422, "invalid_value", message, json_pack("{s:s}", "field", field));
}

/* The answer to a write with nothing to show (a delete, the primary org): 204, or why not. */
static void reply_empty(struct gh_req *req, gh_err err, const char *perm,
                        const struct gh_api_answer *answers, const char *in)
{
    if (err != GH_OK)
        reply_rbac(req, err, perm, answers, in);
    else
        gh_reply_json(req, 204, NULL);
}

/* Reads an optional id field; answers 422 for one that is not an id. */
static int id_field(struct gh_req *req, const char *field, int required, const char **out)
{
    size_t len = 0;
    if (gh_api_string_field(req, field, required, out, &len))
        return -1;
    if (*out != NULL && !gh_uuid_valid(*out, len)) {
        reply_value(req, field, "not an id");
        return -1;
    }
    return 0;
}

static json_t *org_json(const struct gh_org *o)
{
    return json_pack("{s:s, s:s, s:o}", "id", o->id, "name", o->name, "created_at",
                     gh_json_time(o->created_at));
}

static json_t *member_json(const struct gh_member *m)
{
    return json_pack("{s:s, s:s, s:s}", "user_id", m->user_id, "username", m->username, "role",
                     m->role_name);
}

/* An invitation as its org sees it: nothing of the invitee. */
static json_t *org_invitation_json(const struct gh_invitation *inv)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", inv->id, "org_id", inv->org_id, "role",
                     inv->role_name, "status", "pending", "created_at",
                     gh_json_time(inv->created_at), "expires_at", gh_json_time(inv->expires_at));
}

/* An invitation as its invitee sees it. */
static json_t *my_invitation_json(const struct gh_invitation *inv)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", inv->id, "org_id", inv->org_id,
                     "org_name", inv->org_name, "role", inv->role_name, "invited_by_username",
                     inv->invited_by[0] ? json_string(inv->invited_by) : json_null(), "created_at",
                     gh_json_time(inv->created_at), "expires_at", gh_json_time(inv->expires_at));
}

static json_t *role_json(const struct gh_role *r)
{
    return json_pack("{s:s, s:s, s:o, s:b}", "id", r->id, "name", r->name, "permissions",
                     gh_json_words(r->permissions, ' '), "system", r->system);
}

static int add_org(void *arg, const struct gh_org *o)
{
    return gh_api_list_add(arg, org_json(o));
}

static int add_member(void *arg, const struct gh_member *m)
{
    return gh_api_list_add(arg, member_json(m));
}

static int add_role(void *arg, const struct gh_role *r)
{
    return gh_api_list_add(arg, role_json(r));
}

static int add_org_invitation(void *arg, const struct gh_invitation *inv)
{
    return gh_api_list_add(arg, org_invitation_json(inv));
}

static int add_my_invitation(void *arg, const struct gh_invitation *inv)
{
    return gh_api_list_add(arg, my_invitation_json(inv));
}

static void reply_listed(struct gh_req *req, gh_err err, struct gh_api_list *p, size_t offset,
                         const char *perm, const struct gh_api_answer *answers, const char *org_id)
{
    if (err != GH_OK) {
        json_decref(p->items);
        reply_rbac(req, err, perm, answers, org_id);
        return;
    }
    gh_api_reply_page(req, p->items, p->seen, p->limit, offset);
}

/* ---- authz/check ---- */

void gh_h_authz_check(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *perm, *org_id, *owner_id;
    size_t len;
    if (gh_api_string_field(req, "permission", 1, &perm, &len) ||
        id_field(req, "org_id", 0, &org_id) || id_field(req, "owner_id", 0, &owner_id))
        return;
    if (!gh_perm_valid(perm, len)) {
        reply_value(req, "permission", "expected resource:action");
        return;
    }
    int allowed = 0;
    enum gh_authz_reason why = GH_AUTHZ_NOT_GRANTED;
    gh_err err =
        gh_rbac_check(app->rbac, gh_api_identity(req), perm, org_id, owner_id, &allowed, &why);
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    gh_reply_json(req, 200,
                  json_pack("{s:b, s:s}", "allowed", allowed, "reason", gh_authz_reason_name(why)));
}

/* ---- declared permissions ---- */

static int add_perm(void *arg, const char *name, const char *source)
{
    json_array_append_new(arg, json_pack("{s:s, s:s}", "name", name, "source", source));
    return 0;
}

void gh_h_perm_list(struct gh_req *req)
{
    struct gh_app *app = req->app;
    json_t *items = json_array();
    gh_err err = gh_rbac_perm_list(app->rbac, add_perm, items);
    if (err != GH_OK) {
        json_decref(items);
        gh_api_reply_failure(req, err);
        return;
    }
    gh_reply_json(req, 200, json_pack("{s:o, s:n}", "items", items, "next_offset"));
}

void gh_h_perm_add(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *name;
    size_t len;
    if (gh_api_string_field(req, "name", 1, &name, &len))
        return;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = gh_rbac_perm_add(app->rbac, gh_api_identity(req), name, &meta);
    static const struct gh_api_answer answers[] = {
        VALUE(GH_ERR_INVALID, "name", "expected one resource:action without wildcards"),
        VALUE(GH_ERR_TOO_LARGE, "name", "too many declared permissions"),
        {GH_ERR_CONFLICT, 409, "conflict", "the permission is already declared", NULL},
        RBAC_ANSWERS("permission")};
    if (err == GH_OK)
        gh_reply_json(req, 201, json_pack("{s:s, s:s}", "name", name, "source", "api"));
    else
        reply_rbac(req, err, "superadmin", answers, NULL);
}

/* ---- primary org ---- */

void gh_h_primary_org(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *org_id;
    if (id_field(req, "org_id", 1, &org_id))
        return;
    gh_err err = gh_auth_set_primary_org(app->auth, gh_api_identity(req), org_id);
    reply_empty(req, err, "org:read", org_answers, NULL);
}

/* ---- orgs ---- */

void gh_h_org_list(struct gh_req *req)
{
    struct gh_app *app = req->app;
    size_t limit, offset;
    if (gh_api_page(req, &limit, &offset))
        return;
    struct gh_api_list p = {json_array(), limit, 0};
    gh_err err = gh_rbac_org_list(app->rbac, gh_api_identity(req), limit + 1, offset, add_org, &p);
    reply_listed(req, err, &p, offset, "org:read", org_answers, NULL);
}

/* The answer to an org write (create, rename). */
static void reply_org(struct gh_req *req, gh_err err, int status, const struct gh_org *o,
                      const char *org_id)
{
    static const struct gh_api_answer answers[] = {
        VALUE(GH_ERR_INVALID, "name", "1-64 letters, digits, spaces, '.', '_' or '-'"),
        RBAC_ANSWERS("organization")};
    if (err == GH_OK)
        gh_reply_json(req, status, org_json(o));
    else
        reply_rbac(req, err, "org:write", answers, org_id);
}

void gh_h_org_create(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const struct gh_identity *who = gh_api_identity(req);
    const char *name;
    size_t len;
    /* A user may always make an org; a key acting for one needs org:write (the route). */
    if (gh_api_string_field(req, "name", 1, &name, &len))
        return;
    struct gh_reqmeta meta;
    struct gh_org org;
    gh_api_meta(req, &meta);
    gh_err err = gh_rbac_org_create(app->rbac, who, name, &meta, &org);
    reply_org(req, err, 201, &org, NULL);
}

void gh_h_org_get(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1];
    struct gh_org org;
    if (gh_api_path_id(req, SEG_ORG, org_id))
        return;
    gh_err err = gh_rbac_org_get(app->rbac, gh_api_identity(req), org_id, &org);
    if (err != GH_OK) {
        reply_rbac(req, err, "org:read", org_answers, org_id);
        return;
    }
    gh_reply_json(req, 200, org_json(&org));
}

void gh_h_org_update(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1];
    const char *name;
    size_t len;
    if (gh_api_path_id(req, SEG_ORG, org_id) || gh_api_string_field(req, "name", 1, &name, &len))
        return;
    struct gh_reqmeta meta;
    struct gh_org org;
    gh_api_meta(req, &meta);
    gh_err err = gh_rbac_org_rename(app->rbac, gh_api_identity(req), org_id, name, &meta, &org);
    reply_org(req, err, 200, &org, org_id);
}

/* A dangerous action in org_id (api/reauth.h): once the caller may take it (perm there;
 * otherwise the service answers as for anything else), it needs a recent sign-in. */
static int dangerous_refused(struct gh_req *req, const char *org_id, const char *perm)
{
    struct gh_app *app = req->app;
    return gh_rbac_access(app->rbac, gh_api_identity(req), org_id, perm, NULL) == GH_OK &&
           gh_api_reauth_refused(req);
}

/* Granting the admin role is one. */
static int grants_admin_refused(struct gh_req *req, const char *org_id, const char *role)
{
    return strcmp(role, "admin") == 0 && dangerous_refused(req, org_id, "org:admin");
}

void gh_h_org_delete(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1];
    if (gh_api_path_id(req, SEG_ORG, org_id) || dangerous_refused(req, org_id, "org:delete"))
        return;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = gh_rbac_org_delete(app->rbac, gh_api_identity(req), org_id, &meta);
    reply_empty(req, err, "org:delete", org_answers, org_id);
}

/* ---- members ---- */

void gh_h_member_list(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1];
    size_t limit, offset;
    if (gh_api_path_id(req, SEG_ORG, org_id) || gh_api_page(req, &limit, &offset))
        return;
    struct gh_api_list p = {json_array(), limit, 0};
    gh_err err = gh_rbac_member_list(app->rbac, gh_api_identity(req), org_id, limit + 1, offset,
                                     add_member, &p);
    reply_listed(req, err, &p, offset, gh_rbac_members_perm(app->rbac, org_id), org_answers,
                 org_id);
}

/* The answer to a member write (add, role change). */
static void reply_member(struct gh_req *req, gh_err err, int status, const struct gh_member *m,
                         const char *org_id)
{
    static const struct gh_api_answer added[] = {NO_SUCH_ROLE,
                                                 RBAC_ANSWERS("organization or user")};
    static const struct gh_api_answer changed[] = {NO_SUCH_ROLE, RBAC_ANSWERS("member")};
    if (err == GH_OK)
        gh_reply_json(req, status, member_json(m));
    else
        reply_rbac(req, err, "org:admin", status == 201 ? added : changed, org_id);
}

/*
 * Reads whom a member add names: exactly one of user_id, username (1-64 bytes) or email
 * (3-320 bytes with an '@'), the sizes the store keeps; answers 400 or 422 otherwise. The
 * checks look at the input only, never at who exists.
 */
static int invitee_fields(struct gh_req *req, struct gh_invitee *to)
{
    size_t ulen = 0, elen = 0;
    memset(to, 0, sizeof(*to));
    if (id_field(req, "user_id", 0, &to->user_id) ||
        gh_api_string_field(req, "username", 0, &to->username, &ulen) ||
        gh_api_string_field(req, "email", 0, &to->email, &elen))
        return -1;
    if ((to->user_id != NULL) + (to->username != NULL) + (to->email != NULL) != 1) {
        gh_reply_error(req, 400, "invalid_request", "name exactly one of user_id, username, email",
                       json_pack("{s:s}", "field", "user_id"));
        return -1;
    }
    if (to->username != NULL && (ulen == 0 || ulen > 64)) {
        reply_value(req, "username", "1-64 characters");
        return -1;
    }
    if (to->email != NULL && (elen < 3 || elen > 320 || memchr(to->email, '@', elen) == NULL)) {
        reply_value(req, "email", "an email address of at most 320 bytes");
        return -1;
    }
    return 0;
}

/*
 * A superadmin adds at once (201, the member); anyone else invites (202, the invitation),
 * with the same answer whoever the body names.
 */
void gh_h_member_add(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const struct gh_identity *who = gh_api_identity(req);
    char org_id[GH_UUID_LEN + 1];
    struct gh_invitee to;
    const char *role;
    size_t len;
    if (gh_api_path_id(req, SEG_ORG, org_id) || invitee_fields(req, &to) ||
        gh_api_string_field(req, "role", 1, &role, &len) || grants_admin_refused(req, org_id, role))
        return;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    if (gh_rbac_adds_directly(app->rbac, who)) {
        struct gh_member m;
        gh_err err = gh_rbac_member_add(app->rbac, who, org_id, &to, role, &meta, &m);
        reply_member(req, err, 201, &m, org_id);
        return;
    }
    struct gh_invitation inv;
    gh_err err = gh_rbac_member_invite(app->rbac, who, org_id, &to, role, &meta, &inv);
    static const struct gh_api_answer answers[] = {
        NO_SUCH_ROLE,
        {GH_ERR_TOO_LARGE, 409, "conflict",
         "the organization holds as many pending invitations as it may "
         "(orgs.max_pending_invitations): revoke some or let them expire",
         NULL},
        RBAC_ANSWERS("organization")};
    if (err == GH_OK)
        gh_reply_json(req, 202, json_pack("{s:o}", "invitation", org_invitation_json(&inv)));
    else
        reply_rbac(req, err, "org:admin", answers, org_id);
}

void gh_h_member_update(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1], user_id[GH_UUID_LEN + 1];
    const char *role;
    size_t len;
    if (gh_api_path_id(req, SEG_ORG, org_id) || gh_api_path_id(req, SEG_SUB, user_id) ||
        gh_api_string_field(req, "role", 1, &role, &len) || grants_admin_refused(req, org_id, role))
        return;
    struct gh_reqmeta meta;
    struct gh_member m;
    gh_api_meta(req, &meta);
    gh_err err =
        gh_rbac_member_set_role(app->rbac, gh_api_identity(req), org_id, user_id, role, &meta, &m);
    reply_member(req, err, 200, &m, org_id);
}

/* DELETE /orgs/{id}/<what>/{sub}: one org admin removal of a member or an invitation. */
typedef gh_err (*org_sub_delete_fn)(struct gh_rbac *r, const struct gh_identity *who,
                                    const char *org_id, const char *sub_id,
                                    const struct gh_reqmeta *meta);

static void delete_org_sub(struct gh_req *req, org_sub_delete_fn fn,
                           const struct gh_api_answer *answers)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1], sub_id[GH_UUID_LEN + 1];
    if (gh_api_path_id(req, SEG_ORG, org_id) || gh_api_path_id(req, SEG_SUB, sub_id))
        return;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = fn(app->rbac, gh_api_identity(req), org_id, sub_id, &meta);
    reply_empty(req, err, "org:admin", answers, org_id);
}

void gh_h_member_remove(struct gh_req *req)
{
    delete_org_sub(req, gh_rbac_member_remove, member_answers);
}

/* ---- invitations ---- */

void gh_h_invitation_list(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1];
    size_t limit, offset;
    if (gh_api_path_id(req, SEG_ORG, org_id) || gh_api_page(req, &limit, &offset))
        return;
    struct gh_api_list p = {json_array(), limit, 0};
    gh_err err = gh_rbac_invitation_list(app->rbac, gh_api_identity(req), org_id, limit + 1, offset,
                                         add_org_invitation, &p);
    reply_listed(req, err, &p, offset, "org:admin", org_answers, org_id);
}

void gh_h_invitation_revoke(struct gh_req *req)
{
    delete_org_sub(req, gh_rbac_invitation_revoke, invitation_answers);
}

void gh_h_my_invitations(struct gh_req *req)
{
    struct gh_app *app = req->app;
    size_t limit, offset;
    if (gh_api_page(req, &limit, &offset))
        return;
    struct gh_api_list p = {json_array(), limit, 0};
    gh_err err = gh_rbac_my_invitations(app->rbac, gh_api_identity(req), limit + 1, offset,
                                        add_my_invitation, &p);
    reply_listed(req, err, &p, offset, "user:read", invitation_answers, NULL);
}

/* The answer to an invitee's accept or decline that failed. */
static void reply_answer(struct gh_req *req, gh_err err)
{
    static const struct gh_api_answer answers[] = {
        {GH_ERR_EXPIRED, 410, "expired", "the invitation has expired", NULL},
        {GH_ERR_CONFLICT, 409, "conflict", "already a member of this organization", NULL},
        RBAC_ANSWERS("invitation")};
    reply_rbac(req, err, "user:write", answers, NULL);
}

void gh_h_invitation_accept(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char id[GH_UUID_LEN + 1];
    if (gh_api_path_id(req, SEG_SUB, id))
        return;
    struct gh_reqmeta meta;
    struct gh_invitation inv;
    gh_api_meta(req, &meta);
    gh_err err = gh_rbac_invitation_accept(app->rbac, gh_api_identity(req), id, &meta, &inv);
    if (err != GH_OK) {
        reply_answer(req, err);
        return;
    }
    /* The new membership, as /api/v1/auth/me lists it. */
    gh_reply_json(req, 200,
                  json_pack("{s:s, s:s, s:s}", "id", inv.org_id, "name", inv.org_name, "role",
                            inv.role_name));
}

void gh_h_invitation_decline(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char id[GH_UUID_LEN + 1];
    if (gh_api_path_id(req, SEG_SUB, id))
        return;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = gh_rbac_invitation_decline(app->rbac, gh_api_identity(req), id, &meta);
    if (err != GH_OK)
        reply_answer(req, err);
    else
        gh_reply_json(req, 204, NULL);
}

/* ---- roles ---- */

void gh_h_role_list(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1];
    size_t limit, offset;
    if (gh_api_path_id(req, SEG_ORG, org_id) || gh_api_page(req, &limit, &offset))
        return;
    struct gh_api_list p = {json_array(), limit, 0};
    gh_err err =
        gh_rbac_role_list(app->rbac, gh_api_identity(req), org_id, limit + 1, offset, add_role, &p);
    reply_listed(req, err, &p, offset, "role:read", org_answers, org_id);
}

/* Reads a role body; name required when creating. */
static int role_input(struct gh_req *req, int creating, struct gh_role_input *in,
                      const char **perms)
{
    size_t len;
    memset(in, 0, sizeof(*in));
    if (gh_api_string_field(req, "name", creating, &in->name, &len) ||
        gh_api_string_array(req, "permissions", perms, GH_ROLE_PERMS_MAX, &in->nperms,
                            &in->has_perms))
        return -1;
    in->perms = perms;
    if (creating && !in->has_perms) {
        gh_reply_error(req, 400, "invalid_request", "a required field is missing",
                       json_pack("{s:s}", "field", "permissions"));
        return -1;
    }
    return 0;
}

static void reply_role(struct gh_req *req, gh_err err, int status, const struct gh_role *role,
                       const struct gh_role_refusal *refusal, const char *org_id)
{
    if (err == GH_OK) {
        gh_reply_json(req, status, role_json(role));
        return;
    }
    if (err == GH_ERR_INVALID) {
        const char *field = refusal->field ? refusal->field : "permissions";
        json_t *details = json_pack("{s:s}", "field", field);
        if (strcmp(field, "permissions") == 0 && refusal->permission[0] != '\0')
            json_object_set_new(details, "permission", json_string(refusal->permission));
        gh_reply_error(req, 422, "invalid_value",
                       strcmp(field, "name") == 0 ? "a role name is 1-64 of a-z 0-9 '_' '.' '-'"
                                                  : "a permission is malformed or not declared",
                       details);
        return;
    }
    static const struct gh_api_answer answers[] = {
        VALUE(GH_ERR_TOO_LARGE, "name", "the organization has 256 roles already"),
        RBAC_ANSWERS("role")};
    reply_rbac(req, err, "role:write", answers, org_id);
}

void gh_h_role_create(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1];
    const char *perms[GH_ROLE_PERMS_MAX];
    struct gh_role_input in;
    if (gh_api_path_id(req, SEG_ORG, org_id) || role_input(req, 1, &in, perms))
        return;
    struct gh_reqmeta meta;
    struct gh_role *role = gh_req_alloc(req, sizeof(*role));
    struct gh_role_refusal refusal;
    memset(&refusal, 0, sizeof(refusal));
    gh_api_meta(req, &meta);
    gh_err err = role == NULL ? GH_ERR_NOMEM
                              : gh_rbac_role_create(app->rbac, gh_api_identity(req), org_id, &in,
                                                    &meta, role, &refusal);
    reply_role(req, err, 201, role, &refusal, org_id);
}

void gh_h_role_update(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1], role_id[GH_UUID_LEN + 1];
    const char *perms[GH_ROLE_PERMS_MAX];
    struct gh_role_input in;
    if (gh_api_path_id(req, SEG_ORG, org_id) || gh_api_path_id(req, SEG_SUB, role_id) ||
        role_input(req, 0, &in, perms))
        return;
    struct gh_reqmeta meta;
    struct gh_role *role = gh_req_alloc(req, sizeof(*role));
    struct gh_role_refusal refusal;
    memset(&refusal, 0, sizeof(refusal));
    gh_api_meta(req, &meta);
    gh_err err = role == NULL ? GH_ERR_NOMEM
                              : gh_rbac_role_update(app->rbac, gh_api_identity(req), org_id,
                                                    role_id, &in, &meta, role, &refusal);
    reply_role(req, err, 200, role, &refusal, org_id);
}

void gh_h_role_delete(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1], role_id[GH_UUID_LEN + 1];
    if (gh_api_path_id(req, SEG_ORG, org_id) || gh_api_path_id(req, SEG_SUB, role_id))
        return;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = gh_rbac_role_delete(app->rbac, gh_api_identity(req), org_id, role_id, &meta);
    reply_empty(req, err, "role:delete", role_answers, org_id);
}

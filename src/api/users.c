/* /api/v1/users: user administration (superadmins, or user:admin within the caller's org). */
#include <string.h>
#include <sodium.h>

#include "api/app.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/reauth.h"
#include "authz/rbac.h"

#define SEG_USER 3 /* /api(0)/v1(1)/users(2)/{id}(3) */

/* A user as who may see it: the primary org is shown to an org's admin only when it is
 * that org (another org's id would tell that org exists); superadmins see it always. */
static json_t *user_json(const struct gh_user *u, const struct gh_identity *who)
{
    int shown = who->superadmin || strcmp(u->primary_org_id, who->org_id) == 0;
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:o, s:o}", "id", u->id, "username",
                     u->username, "email", u->email, "full_name", u->full_name, "primary_org_id",
                     shown && u->primary_org_id[0] ? json_string(u->primary_org_id) : json_null(),
                     "disabled", u->disabled, "superadmin", u->superadmin, "created_at",
                     gh_json_time(u->created_at), "updated_at", gh_json_time(u->updated_at));
}

/* A 403 is the audited denial of user:admin; the rest comes from the answers. */
static void reply_err(struct gh_req *req, gh_err err)
{
    static const struct gh_api_answer answers[] = {
        {GH_ERR_NOT_FOUND, 404, "not_found", "no such user", NULL},
        {GH_ERR_CONFLICT, 409, "conflict",
         "the email is taken, the change is to the caller itself, or the user is an org's last "
         "admin",
         NULL},
        GH_API_ANSWERS_END};
    if (err == GH_ERR_FORBIDDEN)
        gh_api_deny(req, "user:admin");
    else
        gh_api_reply_err(req, err, answers);
}

struct listing {
    json_t *items;
    size_t limit, seen;
    const struct gh_identity *who;
};

static int add_user(void *arg, const struct gh_user *u)
{
    struct listing *l = arg;
    if (++l->seen > l->limit)
        return 1;
    json_array_append_new(l->items, user_json(u, l->who));
    return 0;
}

void gh_h_user_list(struct gh_req *req)
{
    struct gh_app *app = req->app;
    size_t limit, offset;
    if (gh_api_page(req, &limit, &offset))
        return;
    struct listing l = {json_array(), limit, 0, gh_api_identity(req)};
    gh_err err =
        gh_rbac_user_list(app->rbac, gh_api_identity(req), limit + 1, offset, add_user, &l);
    if (err != GH_OK) {
        json_decref(l.items);
        reply_err(req, err);
        return;
    }
    gh_api_reply_page(req, l.items, l.seen, limit, offset);
}

void gh_h_user_get(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char id[GH_UUID_LEN + 1];
    if (gh_api_path_id(req, SEG_USER, id))
        return;
    struct gh_user *u = gh_req_alloc(req, sizeof(*u)); /* with its hash: the arena is wiped */
    gh_err err =
        u != NULL ? gh_rbac_user_access(app->rbac, gh_api_identity(req), id, 0) : GH_ERR_NOMEM;
    if (err == GH_OK)
        err = gh_store_user_get(&app->store, id, u);
    if (err != GH_OK) {
        reply_err(req, err);
        return;
    }
    gh_reply_json(req, 200, user_json(u, gh_api_identity(req)));
}

/* Reads an optional boolean into *out (-1 when absent); answers 400 for another type. */
static int bool_field(struct gh_req *req, const char *key, int *out)
{
    json_t *v = json_object_get(req->json, key);
    *out = -1;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        gh_reply_error(req, 400, "invalid_request", "a field has the wrong type",
                       json_pack("{s:s}", "field", key));
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

void gh_h_user_update(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const struct gh_identity *who = gh_api_identity(req);
    char id[GH_UUID_LEN + 1];
    struct gh_user_patch p;
    size_t len;
    if (gh_api_path_id(req, SEG_USER, id) ||
        gh_api_string_field(req, "full_name", 0, &p.full_name, &len) ||
        gh_api_string_field(req, "email", 0, &p.email, &len) ||
        bool_field(req, "disabled", &p.disabled) || bool_field(req, "superadmin", &p.superadmin))
        return;
    gh_err err = gh_rbac_user_access(app->rbac, who, id, 1);
    if (err == GH_OK && p.superadmin >= 0 && !who->superadmin) {
        gh_api_deny(req, "superadmin"); /* only operators make operators */
        return;
    }
    /* making an operator, and disabling (which ends every key and session of the user),
     * are dangerous actions: they need a recent sign-in */
    if (err == GH_OK && (p.superadmin == 1 || p.disabled == 1) && gh_api_reauth_refused(req))
        return;
    struct gh_reqmeta meta;
    struct gh_user *u = gh_req_alloc(req, sizeof(*u)); /* with its hash: the arena is wiped */
    struct gh_refusal refusal = {NULL, 0};
    gh_api_meta(req, &meta);
    if (err == GH_OK && u == NULL)
        err = GH_ERR_NOMEM;
    if (err == GH_OK)
        err = gh_auth_user_update(app->auth, id, &p, who, &meta, u, &refusal);
    if (err == GH_ERR_INVALID) {
        gh_reply_error(req, 422, "invalid_value", "a field has an unacceptable value",
                       json_pack("{s:s}", "field", refusal.field ? refusal.field : ""));
        return;
    }
    if (err != GH_OK) {
        reply_err(req, err);
        return;
    }
    gh_reply_json(req, 200, user_json(u, who));
}

void gh_h_user_delete(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const struct gh_identity *who = gh_api_identity(req);
    char id[GH_UUID_LEN + 1];
    if (gh_api_path_id(req, SEG_USER, id))
        return;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = gh_rbac_user_access(app->rbac, who, id, 1);
    if (err == GH_OK && gh_api_reauth_refused(req)) /* a dangerous action */
        return;
    if (err == GH_OK)
        err = gh_auth_user_delete(app->auth, id, who, &meta);
    if (err != GH_OK) {
        reply_err(req, err);
        return;
    }
    gh_reply_json(req, 204, NULL);
}

/* /api/v1/api-keys: a caller manages the API keys of its own account. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "api/app.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "api/json.h"
#include "authn/apikey.h"

static json_t *key_json(const struct gh_api_key *k)
{
    json_t *ips = gh_json_words(k->allowed_ips, ',');
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "id", k->id, "name",
                     k->name, "prefix", k->prefix, "org_id", k->org_id, "scopes",
                     k->has_scopes ? gh_json_words(k->scopes, ' ') : json_null(), "allowed_ips",
                     ips, "expires_at", k->expires_at ? gh_json_time(k->expires_at) : json_null(),
                     "created_at", gh_json_time(k->created_at), "last_used_at",
                     k->last_used_at ? gh_json_time(k->last_used_at) : json_null(), "last_used_ip",
                     k->last_used_ip[0] ? json_string(k->last_used_ip) : json_null(), "revoked",
                     k->revoked_at != 0);
}

void gh_h_apikey_create(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_apikey_input in;
    const char *expires = NULL;
    size_t len = 0;
    int has_ips = 0;
    memset(&in, 0, sizeof(in));
    if (gh_api_string_field(req, "name", 1, &in.name, &len) ||
        gh_api_string_field(req, "expires_at", 0, &expires, &len) ||
        gh_api_string_field(req, "org_id", 0, &in.org_id, &len) ||
        gh_api_string_array(req, "scopes", in.scopes, GH_APIKEY_SCOPES_MAX, &in.nscopes,
                            &in.has_scopes) ||
        gh_api_string_array(req, "allowed_ips", in.allowed_ips, GH_APIKEY_IPS_MAX, &in.nips,
                            &has_ips))
        return;
    /* 0 would read as "never": a time at or before the epoch is simply in the past. */
    if (expires != NULL &&
        (gh_json_parse_time(expires, &in.expires_at) != GH_OK || in.expires_at <= 0)) {
        gh_reply_error(req, 422, "invalid_value",
                       "expires_at must be an RFC 3339 date-time in the future",
                       json_pack("{s:s}", "field", "expires_at"));
        return;
    }

    struct gh_reqmeta meta;
    struct gh_refusal refusal = {NULL, 0};
    struct gh_api_key *key = gh_req_alloc(req, sizeof(*key)); /* too big for a stack */
    char text[GH_APIKEY_TEXT];
    gh_api_meta(req, &meta);
    gh_err err = key == NULL ? GH_ERR_NOMEM
                             : gh_apikey_create(gh_auth_apikeys(app->auth), gh_api_identity(req),
                                                &in, &meta, key, text, &refusal);
    static const struct gh_api_answer answers[] = {
        {GH_ERR_FORBIDDEN, 422, "invalid_scope", "a scope exceeds the caller's permissions",
         "scopes"},
        {GH_ERR_CONFLICT, 409, "conflict", "a live key of this name exists", "name"},
        {GH_ERR_NOT_FOUND, 404, "not_found", "no such organization", NULL},
        GH_API_ANSWERS_END};
    if (err == GH_ERR_INVALID) { /* the refused field is only known here */
        const char *field = refusal.field ? refusal.field : "scopes";
        int scope = strcmp(field, "scopes") == 0;
        gh_reply_error(req, 422, scope ? "invalid_scope" : "invalid_value",
                       scope ? "a scope is not a permission (resource:action)"
                             : "a field has an unacceptable value",
                       json_pack("{s:s}", "field", field));
        return;
    }
    if (err != GH_OK) {
        gh_api_reply_err(req, err, answers);
        return;
    }
    json_t *body = key_json(key);
    json_object_set_new(body, "key", json_string(text));
    sodium_memzero(text, sizeof(text));
    gh_reply_json(req, 201, body);
}

static int add_item(void *arg, const struct gh_api_key *k)
{
    return gh_api_list_add(arg, key_json(k));
}

void gh_h_apikey_list(struct gh_req *req)
{
    struct gh_app *app = req->app;
    size_t limit, offset;
    if (gh_api_page(req, &limit, &offset))
        return;
    struct gh_api_list l = {json_array(), limit, 0};
    gh_err err = gh_apikey_list(gh_auth_apikeys(app->auth), gh_api_identity(req)->user_id,
                                limit + 1, offset, add_item, &l);
    if (err != GH_OK) {
        json_decref(l.items);
        gh_api_reply_failure(req, err);
        return;
    }
    gh_api_reply_page(req, l.items, l.seen, limit, offset);
}

static void revoke(struct gh_req *req, const char *id)
{
    struct gh_app *app = req->app;
    const struct gh_identity *who = gh_api_identity(req);
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err =
        gh_apikey_revoke(gh_auth_apikeys(app->auth), who->user_id, who->username, id, &meta);
    static const struct gh_api_answer answers[] = {
        {GH_ERR_NOT_FOUND, 404, "not_found", "no such API key", NULL}, GH_API_ANSWERS_END};
    if (err != GH_OK) {
        gh_api_reply_err(req, err, answers);
        return;
    }
    gh_reply_json(req, 204, NULL);
}

void gh_h_apikey_revoke(struct gh_req *req)
{
    revoke(req, strrchr(req->path, '/') + 1);
}

void gh_h_apikey_revoke_all(struct gh_req *req)
{
    revoke(req, NULL);
}

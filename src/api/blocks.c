/* /api/v1/edge/blocks: superadmins (or edge:admin) block client addresses (edge/blocks.h). */
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/blocks.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "api/json.h"
#include "authz/decide.h"
#include "core/secure_json.h"
#include "core/time.h"

static json_t *block_json(const struct gh_address_block *b)
{
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:s, s:b}", "id", b->id, "cidr", b->cidr, "reason", b->reason,
        "expires_at", b->expires_at != 0 ? gh_json_time(b->expires_at) : json_null(), "created_at",
        gh_json_time(b->created_at), "created_by", b->created_by, "automatic", b->automatic != 0);
}

void gh_api_block_audit(const struct gh_store_handle *store, const char *action,
                        const struct gh_reqmeta *meta, const struct gh_audit_subject *who,
                        int status, const struct gh_address_block *b)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s}", "block_id", b->id, "cidr", b->cidr, "reason",
                          b->reason, "expires_at",
                          b->expires_at != 0 ? gh_json_time(b->expires_at) : json_null(),
                          "created_by", b->created_by);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    (void)gh_audit_record(store, action, meta, who, status, text != NULL ? text : "{}");
    gh_secure_json_free(text);
}

/* Superadmins, or edge:admin over all of Gatehouse; otherwise answered 403 (audited). */
static int refused(struct gh_req *req)
{
    struct gh_app *app = req->app;
    if (gh_authz_global(gh_api_identity(req), "edge:admin", gh_auth_default_org(app->auth)))
        return 0;
    gh_api_deny(req, "edge:admin");
    return 1;
}

static void audit_change(struct gh_req *req, const char *action, int status,
                         const struct gh_address_block *b)
{
    struct gh_app *app = req->app;
    const struct gh_identity *who = gh_api_identity(req);
    struct gh_audit_subject subject = {who->user_id, who->username, who->org_id};
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_api_block_audit(&app->store, action, &meta, &subject, status, b);
}

void gh_h_block_create(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *cidr = NULL, *reason = NULL, *expires = NULL;
    size_t len = 0;
    if (refused(req) || gh_api_string_field(req, "cidr", 1, &cidr, &len) ||
        gh_api_string_field(req, "reason", 1, &reason, &len) ||
        gh_api_string_field(req, "expires_at", 0, &expires, &len))
        return;
    int64_t now = gh_time_now(), expires_at = 0;
    /* 0 would read as "never": a time at or before the epoch is simply in the past. */
    if (expires != NULL && (gh_json_parse_time(expires, &expires_at) != GH_OK ||
                            expires_at <= now || expires_at <= 0)) {
        gh_reply_error(req, 422, "invalid_value",
                       "expires_at must be an RFC 3339 date-time in the future",
                       json_pack("{s:s}", "field", "expires_at"));
        return;
    }
    const struct gh_block_new in = {cidr, reason, expires_at, gh_api_identity(req)->username, 0};
    struct gh_address_block b;
    const char *why = NULL;
    gh_err err = gh_blocks_add(app->blocks, &in, now, &b, &why);
    if (err == GH_ERR_INVALID) {
        const char *field = strncmp(why, "reason", 6) == 0        ? "reason"
                            : strncmp(why, "expires_at", 10) == 0 ? "expires_at"
                                                                  : "cidr";
        gh_reply_error(req, 422, "invalid_value", why, json_pack("{s:s}", "field", field));
        return;
    }
    static const struct gh_api_answer answers[] = {
        {GH_ERR_CONFLICT, 409, "conflict", "this range is blocked already", "cidr"},
        {GH_ERR_TOO_LARGE, 409, "conflict", "blocks.max blocks exist; remove some first", NULL},
        GH_API_ANSWERS_END};
    if (err != GH_OK) {
        gh_api_reply_err(req, err, answers);
        return;
    }
    audit_change(req, "IP_BLOCKED", 201, &b);
    gh_reply_json(req, 201, block_json(&b));
}

static int add_item(void *arg, const struct gh_address_block *b)
{
    return gh_api_list_add(arg, block_json(b));
}

void gh_h_block_list(struct gh_req *req)
{
    struct gh_app *app = req->app;
    size_t limit, offset;
    if (refused(req) || gh_api_page(req, &limit, &offset))
        return;
    struct gh_api_list l = {json_array(), limit, 0};
    gh_err err = gh_blocks_list(app->blocks, gh_time_now(), limit + 1, offset, add_item, &l);
    if (err != GH_OK) {
        json_decref(l.items);
        gh_api_reply_failure(req, err);
        return;
    }
    gh_api_reply_page(req, l.items, l.seen, limit, offset);
}

void gh_h_block_delete(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char id[GH_UUID_LEN + 1];
    if (refused(req) || gh_api_path_id(req, 4, id))
        return;
    struct gh_address_block b;
    gh_err err = gh_blocks_remove(app->blocks, id, &b);
    static const struct gh_api_answer answers[] = {
        {GH_ERR_NOT_FOUND, 404, "not_found", "no such block", NULL}, GH_API_ANSWERS_END};
    if (err != GH_OK) {
        gh_api_reply_err(req, err, answers);
        return;
    }
    audit_change(req, "IP_UNBLOCKED", 204, &b);
    gh_reply_json(req, 204, NULL);
}

/* POST /api/v1/audit/events: an application writes its own event into the audit chain. */
#include <string.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/json.h"
#include "audit/appevent.h"
#include "authz/rbac.h"
#include "core/secure_json.h"
#include "core/uuid.h"

static const char *const reserved_keys[] = {"recorded_by", "duration_ms"};

static void reply_value(struct gh_req *req, const char *field, const char *why)
{
    gh_reply_error(req, 422, "invalid_value", why, json_pack("{s:s}", "field", field));
}

/* Reads an optional integer field in [lo, hi] into *out (absent or null: dflt); answers
 * 400 for the wrong type, 422 out of range, and returns non-zero then. */
static int int_field(struct gh_req *req, const char *key, json_int_t lo, json_int_t hi,
                     json_int_t dflt, json_int_t *out)
{
    json_t *v = json_object_get(req->json, key);
    if (v == NULL || json_is_null(v)) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v)) {
        gh_reply_error(req, 400, "invalid_request", "a field has the wrong type",
                       json_pack("{s:s}", "field", key));
        return -1;
    }
    if (json_integer_value(v) < lo || json_integer_value(v) > hi) {
        reply_value(req, key, "a number is out of range");
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

/*
 * The record's metadata: the app's object (at most GH_APPEVENT_METADATA_MAX bytes as
 * compact JSON, none of the keys Gatehouse adds) with who recorded it and duration_ms.
 * NULL after answering the request.
 */
static char *metadata_text(struct gh_req *req, json_int_t duration_ms)
{
    const struct gh_identity *who = gh_api_identity(req);
    json_t *md = json_object_get(req->json, "metadata");
    json_t *out = NULL;
    char *text = NULL;
    if (md != NULL && !json_is_null(md)) {
        if (!json_is_object(md)) {
            gh_reply_error(req, 400, "invalid_request", "metadata must be a JSON object",
                           json_pack("{s:s}", "field", "metadata"));
            return NULL;
        }
        size_t size = json_dumpb(md, NULL, 0, JSON_COMPACT);
        if (size == 0 || size > GH_APPEVENT_METADATA_MAX) {
            reply_value(req, "metadata", "metadata exceeds 8 KiB as compact JSON");
            return NULL;
        }
        for (size_t i = 0; i < sizeof(reserved_keys) / sizeof(reserved_keys[0]); i++)
            if (json_object_get(md, reserved_keys[i]) != NULL) {
                reply_value(req, "metadata", "metadata uses a key Gatehouse sets");
                return NULL;
            }
        out = json_deep_copy(md);
    } else {
        out = json_object();
    }
    json_t *by = json_pack("{s:s, s:s, s:s}", "user_id", who->user_id, "username", who->username,
                           "credential", gh_cred_name(who->cred));
    if (by != NULL && who->cred == GH_CRED_API_KEY)
        json_object_set_new(by, "api_key_id", json_string(who->key_id));
    if (out == NULL || by == NULL || json_object_set_new(out, "recorded_by", by) != 0 ||
        (duration_ms >= 0 &&
         json_object_set_new(out, "duration_ms", json_integer(duration_ms)) != 0) ||
        (text = json_dumps(out, JSON_COMPACT)) == NULL)
        gh_api_reply_failure(req, GH_ERR_NOMEM);
    json_decref(out);
    return text;
}

static const char *const field_names[] = {
    [GH_APPEVENT_ACTION] = "action",           [GH_APPEVENT_RESOURCE_TYPE] = "resource_type",
    [GH_APPEVENT_RESOURCE_ID] = "resource_id", [GH_APPEVENT_USER_ID] = "user_id",
    [GH_APPEVENT_STATUS] = "status",
};

void gh_h_audit_event_create(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const struct gh_identity *who = gh_api_identity(req);
    struct gh_appevent ev;
    size_t len = 0;
    json_int_t status, duration;
    memset(&ev, 0, sizeof(ev));
    if (gh_api_string_field(req, "action", 1, &ev.action, &len) ||
        gh_api_string_field(req, "resource_type", 0, &ev.resource_type, &len) ||
        gh_api_string_field(req, "resource_id", 0, &ev.resource_id, &len) ||
        gh_api_string_field(req, "user_id", 0, &ev.user_id, &len) ||
        gh_api_string_field(req, "org_id", 0, &ev.org_id, &len) ||
        int_field(req, "status", 0, GH_APPEVENT_STATUS_MAX, 0, &status) ||
        int_field(req, "duration_ms", 0, GH_APPEVENT_DURATION_MAX, -1, &duration))
        return;
    if (ev.org_id != NULL && !gh_uuid_valid(ev.org_id, strlen(ev.org_id))) {
        reply_value(req, "org_id", "org_id is not an id");
        return;
    }
    if (ev.user_id != NULL && !gh_uuid_valid(ev.user_id, strlen(ev.user_id))) {
        reply_value(req, "user_id", "user_id is not an id");
        return;
    }
    if (ev.org_id == NULL)
        ev.org_id = who->org_id;
    /* The caller writes into an org where it holds audit:write; another org's trail is
     * not its to write, whether or not that org exists. */
    gh_err err = gh_rbac_access(app->rbac, who, ev.org_id, "audit:write", NULL);
    if (err == GH_ERR_NOT_FOUND || err == GH_ERR_FORBIDDEN) {
        gh_api_deny(req, "audit:write");
        return;
    }
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    if (ev.user_id == NULL || strcmp(ev.user_id, who->user_id) == 0) {
        ev.user_id = who->user_id;
        ev.username = who->username;
        ev.by_caller = 1;
    }
    ev.status = (int)status;
    char *metadata = metadata_text(req, duration);
    if (metadata == NULL)
        return;
    ev.metadata_json = metadata;
    struct gh_reqmeta meta;
    enum gh_appevent_field bad = GH_APPEVENT_OK;
    int64_t seq = 0;
    gh_api_meta(req, &meta);
    err = gh_appevent_record(&app->store, &ev, &meta, &seq, &bad);
    gh_secure_json_free(metadata);
    if (err == GH_ERR_INVALID)
        reply_value(req, field_names[bad],
                    bad == GH_APPEVENT_ACTION
                        ? "action must be UPPER_SNAKE_CASE, at most 64 characters, and not one "
                          "of Gatehouse's own actions"
                        : "a field has an unacceptable value");
    else if (err != GH_OK)
        gh_api_reply_failure(req, err);
    else
        gh_reply_json(req, 201, json_pack("{s:I}", "id", (json_int_t)seq));
}

/*
 * The vault of an org: PUT/GET/DELETE /api/v1/orgs/{id}/vault/{name}, GET
 * /api/v1/orgs/{id}/vault (crypto/vault.h). vault:read / vault:write in the org of the
 * path; an org the caller cannot see is 404 as for every org resource. Reads of a value
 * and every write are audited (VAULT_READ, VAULT_WRITE) with the name and version, never
 * the value.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/json.h"
#include "authz/rbac.h"
#include "core/time.h"
#include "crypto/vault.h"

/* /api(0)/v1(1)/orgs(2)/{org}(3)/vault(4)/{name}(5) */
#define SEG_ORG 3
#define SEG_NAME 5

/* The org of the path, where the caller holds perm; answers 404/403 and returns non-zero
 * otherwise. */
static int org_access(struct gh_req *req, const char *perm, char org_id[GH_UUID_LEN + 1])
{
    struct gh_app *app = req->app;
    if (gh_api_path_id(req, SEG_ORG, org_id))
        return -1;
    gh_err err = gh_rbac_access(app->rbac, gh_api_identity(req), org_id, perm, NULL);
    if (err == GH_OK)
        return 0;
    if (err == GH_ERR_NOT_FOUND)
        gh_reply_error(req, 404, "not_found", "no such organization", NULL);
    else if (err == GH_ERR_FORBIDDEN)
        gh_api_deny_in(req, perm, org_id);
    else
        gh_api_reply_failure(req, err);
    return -1;
}

/* The name segment of the path into out; a name that cannot exist is 404. */
static int path_name(struct gh_req *req, char out[GH_VAULT_NAME_MAX + 1])
{
    const char *p = req->path;
    for (int i = 0; i <= SEG_NAME && p != NULL; i++) {
        p = strchr(p, '/');
        if (p != NULL)
            p++;
    }
    size_t n = p != NULL ? strcspn(p, "/") : 0;
    if (n == 0 || n > GH_VAULT_NAME_MAX) {
        gh_reply_error(req, 404, "not_found", "no such vault item", NULL);
        return -1;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    if (!gh_vault_name_ok(out)) {
        gh_reply_error(req, 404, "not_found", "no such vault item", NULL);
        return -1;
    }
    return 0;
}

/* Records action on (org, name) with its version (0: none, a delete). */
static void audit(struct gh_req *req, const char *action, const char *org_id, const char *name,
                  int64_t version, int status)
{
    struct gh_app *app = req->app;
    char metadata[GH_VAULT_NAME_MAX + 64];
    const struct gh_identity *who = gh_api_identity(req);
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    struct gh_audit_subject subject = {who->user_id, who->username, org_id};
    /* Names are [A-Za-z0-9_.:-]: nothing to escape. */
    if (version > 0)
        (void)snprintf(metadata, sizeof(metadata), "{\"name\":\"%s\",\"version\":%lld}", name,
                       (long long)version);
    else
        (void)snprintf(metadata, sizeof(metadata), "{\"name\":\"%s\",\"deleted\":true}", name);
    (void)gh_audit_record(&app->store, action, &meta, &subject, status, metadata);
}

static void reply_missing(struct gh_req *req, gh_err err)
{
    if (err == GH_ERR_NOT_FOUND)
        gh_reply_error(req, 404, "not_found", "no such vault item", NULL);
    else
        gh_api_reply_failure(req, err);
}

void gh_h_vault_put(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1], name[GH_VAULT_NAME_MAX + 1];
    const char *value;
    size_t len = 0;
    int64_t version = 0;
    if (org_access(req, "vault:write", org_id) || path_name(req, name) ||
        gh_api_string_field(req, "value", 1, &value, &len))
        return;
    gh_err err = gh_vault_put(app->datakeys, &app->store, org_id, name, (const uint8_t *)value, len,
                              gh_time_now(), &version);
    if (err == GH_ERR_INVALID || err == GH_ERR_TOO_LARGE) {
        gh_reply_error(req, 422, "invalid_value", "value: expected 1 byte to 64 KiB",
                       json_pack("{s:s}", "field", "value"));
        return;
    }
    if (err != GH_OK) {
        reply_missing(req, err);
        return;
    }
    audit(req, "VAULT_WRITE", org_id, name, version, 204);
    gh_reply_json(req, 204, NULL);
}

void gh_h_vault_get(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1], name[GH_VAULT_NAME_MAX + 1];
    struct gh_vault_item item;
    size_t n = 0;
    if (org_access(req, "vault:read", org_id) || path_name(req, name))
        return;
    uint8_t *value = gh_req_alloc(req, GH_VAULT_VALUE_MAX);
    if (value == NULL) {
        gh_api_reply_failure(req, GH_ERR_NOMEM);
        return;
    }
    gh_err err = gh_vault_get(app->datakeys, &app->store, org_id, name, value, &n, &item);
    if (err == GH_ERR_AUTH) {
        audit(req, "VAULT_READ", org_id, name, 0, 500);
        gh_api_reply_failure(req, GH_ERR_INTERNAL); /* a stored value that does not open */
        return;
    }
    if (err != GH_OK) {
        reply_missing(req, err);
        return;
    }
    json_t *text = json_stringn((const char *)value, n);
    sodium_memzero(value, n);
    audit(req, "VAULT_READ", org_id, name, item.version, 200);
    gh_reply_json(req, 200,
                  json_pack("{s:s, s:o*, s:I, s:o}", "name", item.name, "value", text, "version",
                            (json_int_t)item.version, "updated_at", gh_json_time(item.updated_at)));
}

static int add_item(void *arg, const struct gh_vault_item *it)
{
    return gh_api_list_add(arg, json_pack("{s:s, s:I, s:o}", "name", it->name, "version",
                                          (json_int_t)it->version, "updated_at",
                                          gh_json_time(it->updated_at)));
}

void gh_h_vault_list(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1];
    size_t limit, offset;
    if (org_access(req, "vault:read", org_id) || gh_api_page(req, &limit, &offset))
        return;
    struct gh_api_list p = {json_array(), limit, 0};
    gh_err err = gh_vault_list(&app->store, org_id, limit + 1, offset, add_item, &p);
    if (err != GH_OK) {
        json_decref(p.items);
        gh_api_reply_failure(req, err);
        return;
    }
    gh_api_reply_page(req, p.items, p.seen, limit, offset);
}

void gh_h_vault_delete(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char org_id[GH_UUID_LEN + 1], name[GH_VAULT_NAME_MAX + 1];
    if (org_access(req, "vault:write", org_id) || path_name(req, name))
        return;
    gh_err err = gh_vault_delete(&app->store, org_id, name);
    if (err != GH_OK) {
        reply_missing(req, err);
        return;
    }
    audit(req, "VAULT_WRITE", org_id, name, 0, 204);
    gh_reply_json(req, 204, NULL);
}

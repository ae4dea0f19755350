/* /api/v1/audit: the audit log (audit:read) and the proof of its chain. */
#include "api/audit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/json.h"
#include "audit/audit.h"
#include "authz/rbac.h"

/* ---- the query ---- */

/* 1 when v is 1 to GH_AUDIT_ARG_MAX bytes without control characters; for action, of
 * [A-Z0-9_] only. */
static int good_value(const char *v, int action)
{
    size_t n = strnlen(v, GH_AUDIT_ARG_MAX + 1);
    if (n == 0 || n > GH_AUDIT_ARG_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (action ? !((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
                   : (c < 0x20 || c == 0x7f))
            return 0;
    }
    return 1;
}

/* Reads a decimal count in [lo, hi]; -1 when it is not one. */
static int count_value(const char *v, size_t lo, size_t hi, size_t *out)
{
    char *end = NULL;
    if (v[0] < '0' || v[0] > '9' || strlen(v) > 19)
        return -1;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi)
        return -1;
    *out = (size_t)n;
    return 0;
}

gh_err gh_api_audit_query_parse(gh_api_arg_fn get, void *arg, struct gh_audit_query *out,
                                const char **bad)
{
    static const char *const names[] = {"user_id", "action", "resource_type", "resource_id",
                                        "org_id"};
    struct gh_audit_query q;
    memset(&q, 0, sizeof(q));
    const char **fields[] = {&q.filter.user_id, &q.filter.action, &q.filter.resource_type,
                             &q.filter.resource_id, &q.filter.org_id};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = get(arg, names[i]);
        if (v != NULL && !good_value(v, i == 1)) {
            *bad = names[i];
            return GH_ERR_INVALID;
        }
        *fields[i] = v;
    }
    const char *since = get(arg, "since"), *until = get(arg, "until");
    if (since != NULL &&
        (strlen(since) > 64 || gh_json_parse_time(since, &q.filter.since) != GH_OK)) {
        *bad = "since";
        return GH_ERR_INVALID;
    }
    if (until != NULL &&
        (strlen(until) > 64 || gh_json_parse_time(until, &q.filter.until) != GH_OK)) {
        *bad = "until";
        return GH_ERR_INVALID;
    }
    q.filter.has_since = since != NULL;
    q.filter.has_until = until != NULL;
    if (since != NULL && until != NULL && q.filter.since > q.filter.until) {
        *bad = "since";
        return GH_ERR_INVALID;
    }
    const char *limit = get(arg, "limit"), *offset = get(arg, "offset");
    q.limit = GH_AUDIT_PAGE_DEFAULT;
    if (limit != NULL && count_value(limit, 1, GH_AUDIT_PAGE_MAX, &q.limit) != 0) {
        *bad = "limit";
        return GH_ERR_INVALID;
    }
    if (offset != NULL && count_value(offset, 0, (size_t)1 << 40, &q.offset) != 0) {
        *bad = "offset";
        return GH_ERR_INVALID;
    }
    *out = q;
    return GH_OK;
}

/* ---- the answers ---- */

/* Length of the well-formed UTF-8 sequence at p (n bytes left), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    size_t len = 0;
    if (p[0] < 0x80)
        len = 1;
    else if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        len = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    /* No overlong forms, surrogates or code points past U+10FFFF. */
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

/*
 * A stored text as a JSON string. Clients may put any bytes in a User-Agent or a path: a
 * byte that is not UTF-8 is shown as the four characters \xHH rather than the record
 * being dropped from the answer.
 */
static json_t *opt_string(const char *s)
{
    if (s == NULL || *s == '\0')
        return json_null();
    json_t *j = json_string(s);
    if (j != NULL)
        return j;
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    struct gh_buf b;
    gh_buf_init(&b, 4 * n + 1);
    gh_err err = GH_OK;
    for (size_t i = 0; i < n && err == GH_OK;) {
        size_t len = utf8_seq(p + i, n - i);
        if (len > 0) {
            err = gh_buf_append(&b, p + i, len);
            i += len;
        } else {
            char esc[4] = {'\\', 'x', digits[p[i] >> 4], digits[p[i] & 15]};
            err = gh_buf_append(&b, esc, sizeof(esc));
            i++;
        }
    }
    j = err == GH_OK && b.ptr != NULL ? json_stringn(b.ptr, b.len) : NULL;
    gh_buf_clear(&b);
    return j != NULL ? j : json_null();
}

static json_t *hex(const unsigned char *bytes, size_t n)
{
    char text[2 * 64 + 1];
    if (n > 64)
        return json_null();
    sodium_bin2hex(text, sizeof(text), bytes, n);
    return json_string(text);
}

json_t *gh_api_audit_item(const struct gh_audit_row *row, int with_hashes)
{
    const struct gh_audit_event *ev = &row->ev;
    json_t *metadata = NULL;
    if (ev->metadata_json != NULL && *ev->metadata_json != '\0') {
        metadata = json_loads(ev->metadata_json, JSON_REJECT_DUPLICATES, NULL);
        if (metadata == NULL) /* a damaged row: shown as it is, never dropped */
            metadata = opt_string(ev->metadata_json);
    }
    json_t *item = json_pack(
        "{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
        (json_int_t)row->seq, "timestamp", gh_json_time(ev->ts), "action", opt_string(ev->action),
        "user_id", opt_string(ev->user_id), "username", opt_string(ev->username), "org_id",
        opt_string(ev->org_id), "resource_type", opt_string(ev->resource_type), "resource_id",
        opt_string(ev->resource_id), "ip_address", opt_string(ev->ip_address), "user_agent",
        opt_string(ev->user_agent), "method", opt_string(ev->method), "path", opt_string(ev->path),
        "status", ev->status != 0 ? json_integer(ev->status) : json_null(), "metadata",
        metadata != NULL ? metadata : json_null());
    if (item != NULL && with_hashes) {
        json_object_set_new(item, "prev_hash",
                            row->hashed ? hex(row->prev_hash, GH_HASH_LEN) : json_null());
        json_object_set_new(item, "hash", row->hashed ? hex(row->hash, GH_HASH_LEN) : json_null());
    }
    return item;
}

static const char *query_arg(void *arg, const char *name)
{
    return gh_req_query(arg, name);
}

static int add_item(void *arg, const struct gh_audit_row *row)
{
    return gh_api_list_add(arg, gh_api_audit_item(row, 0));
}

void gh_h_audit_logs(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_audit_query q;
    const char *bad = NULL;
    if (!gh_api_allowed(req, "audit:read"))
        return;
    if (gh_api_audit_query_parse(query_arg, req, &q, &bad) != GH_OK) {
        gh_reply_error(req, 400, "invalid_request", "a query argument is malformed or out of range",
                       json_pack("{s:s}", "field", bad));
        return;
    }
    /* A superadmin sees every org's records; anyone else those of the org it acts in. */
    const struct gh_identity *who = gh_api_identity(req);
    if (!who->superadmin) {
        /* Another org's records are not the caller's to read. */
        if (q.filter.org_id != NULL && strcmp(q.filter.org_id, who->org_id) != 0) {
            struct gh_reqmeta meta;
            struct gh_audit_subject subject = {who->user_id, who->username, who->org_id};
            gh_api_meta(req, &meta);
            gh_audit_record_async(app->io_pool, &app->store, "PERMISSION_DENIED", &meta, &subject,
                                  403, "{\"permission\":\"audit:read\",\"scope\":\"org\"}");
            gh_reply_error(req, 403, "forbidden", "the caller lacks a permission this needs", NULL);
            return;
        }
        q.filter.org_id = who->org_id;
    }
    struct gh_api_list p = {json_array(), q.limit, 0};
    gh_err err = gh_store_audit_list(&app->store, &q.filter, q.limit + 1, q.offset, add_item, &p);
    if (err != GH_OK) {
        json_decref(p.items);
        gh_api_reply_failure(req, err);
        return;
    }
    gh_api_reply_page(req, p.items, p.seen, q.limit, q.offset);
}

void gh_h_audit_verify(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_audit_verdict v;
    unsigned char pk[GH_AUDIT_PK_LEN];
    char key_id[GH_AUDIT_KEY_ID_LEN + 1];
    /* A verification reads the whole chain: one at a time, so that callers cannot take
     * every io thread with it. */
    static pthread_mutex_t verifying = PTHREAD_MUTEX_INITIALIZER;
    /* The proof covers every org's records: an operator's, not an org admin's. */
    if (!gh_authz_global(gh_api_identity(req), "audit:read", gh_auth_default_org(app->auth))) {
        gh_api_deny(req, "audit:read");
        return;
    }
    gh_err err = gh_audit_public_key(pk, key_id);
    if (err == GH_OK) {
        if (pthread_mutex_trylock(&verifying) == 0) {
            err = gh_audit_verify(&app->store, NULL, &v);
            pthread_mutex_unlock(&verifying);
        } else {
            err = GH_ERR_BUSY; /* 503 with Retry-After */
        }
    }
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    json_t *body =
        json_pack("{s:b, s:I, s:I, s:I, s:o, s:s}", "valid", v.valid, "records",
                  (json_int_t)v.records, "legacy_records", (json_int_t)v.legacy, "checkpoints",
                  (json_int_t)v.checkpoints, "public_key", hex(pk, sizeof(pk)), "key_id", key_id);
    if (!v.valid) {
        json_object_set_new(body, "first_bad_id", json_integer((json_int_t)v.first_bad));
        json_object_set_new(body, "reason", json_string(v.reason));
    }
    json_object_set_new(body, "checkpoint",
                        v.checkpoint_seq == 0
                            ? json_null()
                            : json_pack("{s:I, s:o, s:s}", "id", (json_int_t)v.checkpoint_seq,
                                        "timestamp", gh_json_time(v.checkpoint_ts), "key_id",
                                        key_id));
    gh_reply_json(req, 200, body);
}

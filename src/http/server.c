#include "http/internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#include "core/log.h"
#include "core/secret.h"
#include "core/secure_json.h"
#include "core/text.h"

/*
 * The request life cycle seen from a handler: accessors over the parsed head, the
 * per-request arena, answers, deferral to a pool, the response head and the access log.
 */

#define ARENA_BLOCK 4096
#define SPARE_MAX 64 /* freed requests a loop keeps for reuse */
#define LOG_URI_MAX 2048

struct gh_arena_block {
    struct gh_arena_block *next;
    size_t cap, used;
    size_t pad; /* keeps data 16-byte aligned after malloc's 16 */
    char data[];
};

_Static_assert(offsetof(struct gh_arena_block, data) % 16 == 0, "arena alignment");

/* ---- the arena ---- */

void *gh_req_alloc(struct gh_req *req, size_t size)
{
    if (size > SIZE_MAX / 2)
        return NULL;
    size = (size + 15) & ~(size_t)15;
    if (size <= sizeof(req->arena_inline) - req->arena_used - req->arena_plain) {
        void *p = req->arena_inline + req->arena_used;
        req->arena_used += size;
        return p;
    }
    struct gh_arena_block *b = req->blocks;
    if (b == NULL || size > b->cap - b->used) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = req->blocks;
        req->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

void *gh_req_alloc_plain(struct gh_req *req, size_t size)
{
    if (size > SIZE_MAX / 2)
        return NULL;
    size = (size + 15) & ~(size_t)15;
    if (size > sizeof(req->arena_inline) - req->arena_used - req->arena_plain)
        return gh_req_alloc(req, size); /* the blocks are wiped: harmless */
    req->arena_plain += size;
    return req->arena_inline + sizeof(req->arena_inline) - req->arena_plain;
}

static char *arena_strndup(struct gh_req *req, const char *s, size_t n)
{
    char *p = gh_req_alloc(req, n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Wiped: decoded queries and headers may carry credentials (not the plain part). */
static void arena_free(struct gh_req *req)
{
    for (struct gh_arena_block *b = req->blocks, *next; b != NULL; b = next) {
        next = b->next;
        sodium_memzero(b->data, b->used);
        free(b);
    }
    sodium_memzero(req->arena_inline, req->arena_used);
}

/* ---- request accessors ---- */

/* Case-insensitive name match: the length and the first byte before the call. */
static int same_name(const struct gh_h1_field *f, const char *name, size_t n)
{
    return f->name_len == n && (f->name[0] | 0x20) == (name[0] | 0x20) &&
           strncasecmp(f->name, name, n) == 0;
}

const char *gh_req_header(const struct gh_req *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nfields; i++) {
        if (same_name(&req->fields[i], name, n))
            return req->fields[i].value;
    }
    return NULL;
}

unsigned gh_req_header_count(const struct gh_req *req, const char *name)
{
    size_t n = strlen(name);
    unsigned count = 0;
    for (size_t i = 0; i < req->nfields; i++)
        count += same_name(&req->fields[i], name, n);
    return count;
}

unsigned gh_req_header_find(const struct gh_req *req, const char *name, const char **value,
                            size_t *len)
{
    size_t n = strlen(name);
    unsigned count = 0;
    *value = NULL;
    for (size_t i = 0; i < req->nfields; i++) {
        const struct gh_h1_field *f = &req->fields[i];
        if (same_name(f, name, n) && count++ == 0) {
            *value = f->value;
            if (len != NULL)
                *len = f->value_len;
        }
    }
    return count;
}

/*
 * Percent-decodes s[0..n) into out (n + 1 bytes); a malformed escape stays as sent. '+'
 * becomes a space when plus is set (query components). Returns the length; *nul is set
 * when an escape decoded to NUL.
 */
static size_t percent_decode(const char *s, size_t n, int plus, char *out, int *nul)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = gh_hex_value(s[i + 1])) >= 0 &&
            (lo = gh_hex_value(s[i + 2])) >= 0) {
            out[o] = (char)(hi * 16 + lo);
            *nul |= out[o] == '\0';
            o++;
            i += 2;
        } else {
            out[o++] = plus && s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    return o;
}

const char *gh_req_query(const struct gh_req *req, const char *name)
{
    struct gh_req *r = (struct gh_req *)(uintptr_t)req; /* decoding uses the arena */
    size_t nlen = strlen(name);
    for (const char *p = req->query; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq != NULL) {
            size_t klen = (size_t)(eq - p);
            char *key = gh_req_alloc(r, klen + 1);
            int nul = 0;
            if (key == NULL)
                return NULL;
            if (percent_decode(p, klen, 1, key, &nul) == nlen && memcmp(key, name, nlen) == 0) {
                size_t vlen = n - klen - 1;
                char *v = gh_req_alloc(r, vlen + 1);
                if (v != NULL)
                    percent_decode(eq + 1, vlen, 1, v, &nul);
                return v;
            }
        }
        p = end ? end + 1 : p + n;
    }
    return NULL;
}

/* ---- replies ---- */

static void reset_reply(struct gh_req *req)
{
    gh_buf_clear(&req->out);
    gh_buf_init(&req->out, GH_REPLY_MAX);
    req->content_type = NULL;
}

void gh_reply_raw(struct gh_req *req, unsigned status, const char *content_type, const char *body,
                  size_t len)
{
    reset_reply(req);
    req->status = status;
    req->content_type = content_type;
    if (body != NULL && gh_buf_append(&req->out, body, len) != GH_OK) {
        req->status = 500; /* too large or out of memory: empty 500 rather than a partial body */
        req->content_type = NULL;
    }
}

void gh_reply_json(struct gh_req *req, unsigned status, json_t *body)
{
    if (body == NULL) {
        gh_reply_raw(req, status, "application/json", NULL, 0);
        return;
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) {
        gh_reply_raw(req, 500, "application/json", NULL, 0);
        return;
    }
    gh_reply_raw(req, status, "application/json", text, strlen(text));
    gh_secure_json_free(text); /* wiped: token answers pass through here */
}

void gh_reply_error(struct gh_req *req, unsigned status, const char *code, const char *message,
                    json_t *details)
{
    json_t *err = json_pack("{s:s, s:s, s:s}", "code", code, "message", message, "request_id",
                            req->request_id);
    if (err != NULL && details != NULL)
        json_object_set_new(err, "details", details);
    else
        json_decref(details);
    gh_reply_json(req, status, err ? json_pack("{s:o}", "error", err) : NULL);
}

/* No control character but HTAB in s[0..n). */
static int header_text_ok(const char *s, size_t n)
{
    size_t i = 0;
    while ((i += gh_h1_first_ctl(s + i, n - i)) < n) {
        if (s[i] != '\t')
            return 0;
        i++;
    }
    return 1;
}

/* The default headers gh_req_head writes unless the handler set its own. */
enum { OWN_CACHE = 1, OWN_CSP = 2, OWN_REFERRER = 4 };

static unsigned own_default(const char *name, size_t n)
{
    if (n == 13 && strcasecmp(name, "Cache-Control") == 0)
        return OWN_CACHE;
    if (n == 23 && strcasecmp(name, "Content-Security-Policy") == 0)
        return OWN_CSP;
    if (n == 15 && strcasecmp(name, "Referrer-Policy") == 0)
        return OWN_REFERRER;
    return 0;
}

void gh_reply_header(struct gh_req *req, const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    if (req->nheaders_out >= GH_REQ_MAX_HEADERS_OUT ||
        req->headers_out_bytes + n + v + 2 > GH_REQ_HEADERS_OUT_BYTES || !header_text_ok(name, n) ||
        !header_text_ok(value, v)) {
        req->headers_overflow = 1;
        return;
    }
    if (req->nheaders_out == req->headers_out_cap) {
        unsigned cap = req->headers_out_cap ? req->headers_out_cap * 2 : 8;
        struct gh_header_out *grown = gh_req_alloc(req, cap * sizeof(*grown));
        if (grown == NULL) {
            req->headers_overflow = 1;
            return;
        }
        if (req->nheaders_out > 0)
            memcpy(grown, req->headers_out, req->nheaders_out * sizeof(*grown));
        req->headers_out = grown;
        req->headers_out_cap = cap;
    }
    char *dst = gh_req_alloc(req, n + v + 2);
    if (dst == NULL) {
        req->headers_overflow = 1;
        return;
    }
    memcpy(dst, name, n + 1);
    memcpy(dst + n + 1, value, v + 1);
    /* Lengths kept, so that the head is written without measuring the strings again. */
    req->headers_out[req->nheaders_out++] = (struct gh_header_out){dst, dst + n + 1, n, v};
    req->headers_out_bytes += n + v + 2;
    req->headers_own |= own_default(name, n);
}

void gh_req_defer(struct gh_req *req, struct gh_pool *pool, gh_req_job_fn fn)
{
    req->defer_pool = pool;
    req->defer_fn = fn;
}

/* ---- request life cycle ---- */

/* The loops count in turn (loop i: i, i + nloops, ...): unique ids, no counter shared. */
static void request_id(struct gh_req *req, struct gh_loop *loop)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t id = loop->next_id;
    loop->next_id += loop->srv->nloops;
    memcpy(req->request_id, req->srv->id_prefix, 12);
    for (int i = 23; i >= 12; i--, id >>= 4)
        req->request_id[i] = hex[id & 15];
    req->request_id[24] = '\0';
}

struct gh_req *gh_req_new(struct gh_conn *c)
{
    struct gh_loop *loop = c->loop;
    struct gh_req *req = loop->spare;
    if (req != NULL) {
        loop->spare = req->next;
        loop->nspare--;
    } else if ((req = malloc(sizeof(*req))) == NULL) {
        return NULL;
    }
    memset(req, 0, offsetof(struct gh_req, arena_inline));
    req->srv = loop->srv;
    req->conn = c;
    req->app = loop->srv->app;
    req->route = SIZE_MAX;
    clock_gettime(CLOCK_MONOTONIC, &req->started);
    gh_buf_init(&req->body, loop->srv->opts.max_body);
    gh_buf_init(&req->out, GH_REPLY_MAX);
    memcpy(req->ip, c->ip, sizeof(c->ip));
    memcpy(req->peer, c->peer, sizeof(req->peer));
    memcpy(req->client_ip, c->ip, sizeof(c->ip));
    memcpy(req->client, c->peer, sizeof(req->client));
    req->client_known = 1;
    request_id(req, loop);
    return req;
}

static enum gh_method parse_method(const char *m)
{
    static const struct {
        const char *name;
        enum gh_method method;
    } methods[] = {{"GET", GH_GET},        {"HEAD", GH_HEAD},   {"POST", GH_POST},
                   {"PUT", GH_PUT},        {"PATCH", GH_PATCH}, {"DELETE", GH_DELETE},
                   {"OPTIONS", GH_OPTIONS}};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].method;
    }
    return GH_METHOD_OTHER;
}

/* Incoming X-Request-Id is kept when it is short and plain, so traces span proxies. */
static int acceptable_request_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= GH_REQUEST_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static void scrub_for_log(struct gh_req *req, const char *uri, size_t len)
{
    struct gh_buf b;
    gh_buf_init(&b, LOG_URI_MAX);
    if (len > LOG_URI_MAX)
        len = LOG_URI_MAX;
    if (gh_log_scrub_uri(&b, uri, len) == GH_OK && b.ptr != NULL)
        req->log_uri = arena_strndup(req, b.ptr, b.len);
    gh_buf_clear(&b);
}

gh_err gh_req_begin(struct gh_req *req, const struct gh_h1_head *head)
{
    req->fields = head->fields;
    req->nfields = head->nfields;
    req->method_name = head->method;
    req->method = parse_method(head->method);
    const char *rid = gh_req_header(req, "X-Request-Id");
    if (rid != NULL && acceptable_request_id(rid))
        memcpy(req->request_id, rid, strlen(rid) + 1);
    if (req->srv->opts.access_log)
        scrub_for_log(req, head->target, head->target_len);

    const char *q = memchr(head->target, '?', head->target_len);
    size_t plen = q ? (size_t)(q - head->target) : head->target_len;
    char *path = gh_req_alloc(req, plen + 1);
    if (path == NULL)
        return GH_ERR_NOMEM;
    int nul = 0;
    percent_decode(head->target, plen, 0, path, &nul);
    req->path = path;
    if (q != NULL)
        req->query = q + 1;
    return nul ? GH_ERR_INVALID : GH_OK; /* a decoded NUL would shorten the path */
}

void gh_req_refuse(struct gh_req *req, unsigned status)
{
    static const struct {
        unsigned status;
        const char *code, *message;
    } refusals[] = {
        {400, "invalid_request", "malformed request"},
        {408, "request_timeout", "the request did not arrive in time"},
        {413, "payload_too_large", "request body is too large"},
        {414, "uri_too_long", "the request target is too long"},
        {431, "headers_too_large", "request headers are too large"},
        {501, "not_implemented", "the transfer coding is not supported"},
        {503, "unavailable", "server is busy, retry shortly"},
        {505, "http_version_not_supported", "only HTTP/1.1 and HTTP/1.0 are served"},
    };
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        if (refusals[i].status == status) {
            gh_reply_error(req, status, refusals[i].code, refusals[i].message, NULL);
            if (status == 503)
                gh_reply_header(req, "Retry-After", "1");
            return;
        }
    }
    gh_reply_error(req, 500, "internal", "internal error", NULL);
}

static void run_deferred(void *arg)
{
    struct gh_req *req = arg;
    req->defer_fn(req);
    gh_loop_post(req->conn->loop, req);
}

int gh_req_dispatch(struct gh_req *req)
{
    req->srv->dispatch(req);
    if (req->defer_fn == NULL)
        return 0;
    /* Once stopping, nothing more is queued: the pools are about to drain. */
    if (atomic_load(&req->srv->stopping) ||
        gh_pool_submit(req->defer_pool, run_deferred, req) != GH_OK) {
        gh_req_refuse(req, 503);
        return 0;
    }
    req->conn->loop->deferred++;
    return 1;
}

/* ---- the response head ---- */

static const char *reason(unsigned status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Status";
    }
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_str(char *p, const char *s)
{
    return put(p, s, strlen(s));
}

static char *put_uint(char *p, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* Unless the answer sets its own (an HTML page). */
static const char default_csp[] = "Content-Security-Policy: default-src 'none'; "
                                  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n";

static const char default_referrer[] = "Referrer-Policy: no-referrer\r\n";

static size_t head_size(const struct gh_req *req)
{
    size_t n = 128 + sizeof(default_csp) + sizeof(default_referrer) + strlen(reason(req->status)) +
               sizeof(req->conn->loop->date) + req->srv->fixed_len + strlen(req->request_id);
    if (req->content_type != NULL)
        n += strlen(req->content_type) + 16;
    return n + req->headers_out_bytes + 2 * (size_t)req->nheaders_out; /* ": " and CRLF */
}

size_t gh_req_head(struct gh_req *req, int keep_alive, char **buf, size_t *cap)
{
    if (req->headers_overflow) {
        req->nheaders_out = 0;
        req->headers_out_bytes = 0;
        req->headers_own = 0;
        gh_reply_error(req, 500, "internal", "internal error", NULL);
    } else if (req->status == 0) {
        gh_reply_error(req, 500, "internal", "internal error", NULL);
    }
    int bodiless = req->status == 204 || req->status == 304;
    if (bodiless)
        reset_reply(req);
    size_t need = head_size(req);
    if (need > *cap) {
        char *grown = malloc(need); /* the old head is done with: wiped (a session cookie) */
        if (grown == NULL)
            return 0;
        gh_secret_free(*buf, *cap);
        *buf = grown;
        *cap = need;
    }
    const struct gh_loop *loop = req->conn->loop;
    char *p = put(*buf, "HTTP/1.1 ", 9);
    p = put_uint(p, req->status);
    *p++ = ' ';
    p = put_str(p, reason(req->status));
    p = put(p, "\r\n", 2);
    p = put(p, loop->date, loop->date_len);
    if (!bodiless) {
        p = put(p, "Content-Length: ", 16);
        p = put_uint(p, req->out.len);
        p = put(p, "\r\n", 2);
    }
    if (req->content_type != NULL && req->out.len > 0) {
        p = put(p, "Content-Type: ", 14);
        p = put_str(p, req->content_type);
        p = put(p, "\r\n", 2);
    }
    p = put(p, "X-Request-Id: ", 14);
    p = put_str(p, req->request_id);
    p = put(p, "\r\n", 2);
    p = put(p, req->srv->fixed_headers, req->srv->fixed_len);
    for (unsigned i = 0; i < req->nheaders_out; i++) {
        const struct gh_header_out *h = &req->headers_out[i];
        p = put(p, h->name, h->name_len);
        p = put(p, ": ", 2);
        p = put(p, h->value, h->value_len);
        p = put(p, "\r\n", 2);
    }
    if (!(req->headers_own & OWN_CACHE))
        p = put_str(p, "Cache-Control: no-store\r\n");
    if (!(req->headers_own & OWN_CSP)) /* a page names its own policy (api/dispatch.c) */
        p = put(p, default_csp, sizeof(default_csp) - 1);
    /* Pages send their origin on their own form posts (the CSRF check reads it). */
    if (!(req->headers_own & OWN_REFERRER))
        p = put(p, default_referrer, sizeof(default_referrer) - 1);
    if (keep_alive == 0)
        p = put_str(p, "Connection: close\r\n");
    else if (keep_alive == 2)
        p = put_str(p, "Connection: keep-alive\r\n");
    p = put(p, "\r\n", 2);
    return (size_t)(p - *buf);
}

/* ---- the end of a request ---- */

/* Microseconds since the request started. */
static int64_t elapsed_us(const struct gh_req *req)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t us = (int64_t)(now.tv_sec - req->started.tv_sec) * 1000000 +
                 (now.tv_nsec - req->started.tv_nsec) / 1000;
    return us < 0 ? 0 : us;
}

/* key, then v JSON-escaped and a closing quote; p has room for strlen(key) + 6 n + 1. */
static char *put_field(char *p, const char *key, const char *v, size_t n)
{
    p = gh_json_escape_to(put_str(p, key), v, n);
    *p++ = '"';
    return p;
}

/*
 * One JSON line per request, built in the loop's line buffer: the room for the worst case
 * (every byte escaped) is made once, then the fields are written in place, plain runs of
 * them eight bytes at a time.
 */
static gh_err access_line(struct gh_req *req, int aborted, int64_t us, struct gh_buf *b)
{
    const char *ua = gh_req_header(req, "User-Agent");
    const char *method = req->method_name ? req->method_name : "";
    const char *uri = req->log_uri ? req->log_uri : "";
    int client = strcmp(req->client_ip, req->ip) != 0;
    size_t nid = strnlen(req->request_id, GH_REQUEST_ID_MAX), nm = strnlen(method, 16),
           nuri = strnlen(uri, LOG_URI_MAX * 4), nip = strnlen(req->ip, sizeof(req->ip)),
           ncip = client ? strnlen(req->client_ip, sizeof(req->client_ip)) : 0,
           nuid = strnlen(req->user_id_for_log, sizeof(req->user_id_for_log)),
           nua = ua ? strnlen(ua, 256) : 0;
    gh_err err = gh_buf_puts(b, "{\"ts\":\"");
    if (err == GH_OK)
        err = gh_log_timestamp(b);
    if (err == GH_OK) /* the fixed text is under 256 bytes */
        err = gh_buf_reserve(b, 256 + 6 * (nid + nm + nuri + nip + ncip + nuid + nua));
    if (err != GH_OK)
        return err;
    char *p = b->ptr + b->len;
    p = put_field(p, "\",\"level\":\"info\",\"msg\":\"request\",\"request_id\":\"", req->request_id,
                  nid);
    p = put_field(p, ",\"method\":\"", method, nm);
    p = put_field(p, ",\"path\":\"", uri, nuri);
    p = put(p, ",\"status\":", 10);
    p = put_uint(p, req->status);
    p = put(p, ",\"duration_ms\":", 15);
    p = put_uint(p, (uint64_t)(us / 1000));
    *p++ = '.';
    *p++ = (char)('0' + us % 1000 / 100);
    *p++ = (char)('0' + us % 100 / 10);
    *p++ = (char)('0' + us % 10);
    p = put_field(p, ",\"ip\":\"", req->ip, nip);
    if (client)
        p = put_field(p, ",\"client_ip\":\"", req->client_ip, ncip);
    if (nuid > 0)
        p = put_field(p, ",\"user_id\":\"", req->user_id_for_log, nuid);
    if (ua != NULL)
        p = put_field(p, ",\"user_agent\":\"", ua, nua);
    if (aborted)
        p = put_str(p, ",\"aborted\":true");
    p = put(p, "}\n", 3); /* with the NUL the buffer keeps */
    b->len = (size_t)(p - b->ptr) - 1;
    return GH_OK;
}

void gh_loop_flush_log(struct gh_loop *loop)
{
    if (loop->log_len > 0)
        gh_log_json_lines(loop->log_batch, loop->log_len);
    loop->log_len = 0;
}

/*
 * Lines are batched per loop and written when the batch is full or the loop is about to
 * wait: one write(2) per batch instead of one per request. A batch never passes
 * PIPE_BUF, so lines stay whole on a pipe too.
 */
static void access_log(struct gh_req *req, int aborted, int64_t us)
{
    struct gh_loop *loop = req->conn->loop;
    struct gh_buf *b = &loop->log_line;
    b->len = 0;
    if (access_line(req, aborted, us, b) != GH_OK)
        return;
    if (b->len > sizeof(loop->log_batch) - loop->log_len)
        gh_loop_flush_log(loop);
    if (b->len > sizeof(loop->log_batch)) {
        gh_log_json_lines(b->ptr, b->len);
        return;
    }
    memcpy(loop->log_batch + loop->log_len, b->ptr, b->len);
    loop->log_len += b->len;
}

void gh_req_end(struct gh_req *req, int aborted)
{
    struct gh_http *srv = req->srv;
    if (srv->opts.access_log || srv->opts.observe != NULL) {
        int64_t us = elapsed_us(req);
        if (srv->opts.observe != NULL && req->status != 0)
            srv->opts.observe(req, (uint64_t)us);
        if (srv->opts.access_log)
            access_log(req, aborted, us);
    }
    gh_buf_clear(&req->body);
    gh_buf_clear(&req->out); /* wiped: answers carry tokens */
    json_decref(req->json);
    if (req->user_free != NULL)
        req->user_free(req->user);
    if (req->head != NULL) {
        sodium_memzero(req->head, req->head_len);
        free(req->head);
    }
    arena_free(req);
    struct gh_loop *loop = req->conn->loop;
    if (loop->nspare < SPARE_MAX) {
        req->next = loop->spare;
        loop->spare = req;
        loop->nspare++;
    } else {
        free(req);
    }
}

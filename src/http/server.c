#include "http/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sodium.h>

#include "core/log.h"
#include "core/secure_json.h"

/*
 * Per-connection memory for MHD's request head and buffers. It must hold headers up to
 * server.max_header_bytes (16 KiB by default) so that we, not MHD, refuse larger ones;
 * MHD clears it between requests, so bigger costs throughput.
 */
#define CONNECTION_MEMORY 32768
#define LOG_URI_MAX 2048

struct gh_http {
    struct MHD_Daemon *daemon;
    gh_dispatch_fn dispatch;
    void *app;
    struct gh_http_opts opts;
    atomic_uint_fast64_t next_id;
    atomic_int in_flight;
    char id_prefix[13];
    uint16_t port;
};

static const char *const security_headers[][2] = {
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Content-Security-Policy",
     "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
    {"Permissions-Policy",
     "accelerometer=(), camera=(), geolocation=(), microphone=(), payment=(), usb=()"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
};

/* ---- request accessors ---- */

const char *gh_req_header(const struct gh_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct count_ctx {
    const char *name;
    unsigned n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    (void)value;
    struct count_ctx *c = cls;
    if (strcasecmp(key, c->name) == 0)
        c->n++;
    return MHD_YES;
}

unsigned gh_req_header_count(const struct gh_req *req, const char *name)
{
    struct count_ctx c = {name, 0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_header, &c);
    return c.n;
}

const char *gh_req_query(const struct gh_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- replies ---- */

static void reset_reply(struct gh_req *req)
{
    gh_buf_clear(&req->out);
    gh_buf_init(&req->out, SIZE_MAX / 2);
    req->content_type = NULL;
}

void gh_reply_raw(struct gh_req *req, unsigned status, const char *content_type, const char *body,
                  size_t len)
{
    reset_reply(req);
    req->status = status;
    req->content_type = content_type;
    if (body != NULL && gh_buf_append(&req->out, body, len) != GH_OK) {
        req->status = 500; /* out of memory: empty 500 rather than a partial body */
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
    gh_secure_json_free(text);
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

void gh_reply_header(struct gh_req *req, const char *name, const char *value)
{
    /* Copied into the request's own arena: no allocation on the hot path. */
    size_t n = strlen(name) + 1, v = strlen(value) + 1;
    if (req->nheaders_out >= GH_REQ_MAX_HEADERS_OUT ||
        n + v > sizeof(req->headers_arena) - req->arena_used)
        return;
    char *dst = req->headers_arena + req->arena_used;
    memcpy(dst, name, n);
    memcpy(dst + n, value, v);
    req->headers_out[req->nheaders_out][0] = dst;
    req->headers_out[req->nheaders_out][1] = dst + n;
    req->nheaders_out++;
    req->arena_used += n + v;
}

void gh_req_defer(struct gh_req *req, struct gh_pool *pool, gh_req_job_fn fn)
{
    req->defer_pool = pool;
    req->defer_fn = fn;
}

/* ---- request life cycle ---- */

static void req_free(struct gh_req *req)
{
    if (req == NULL)
        return;
    gh_buf_clear(&req->body);
    gh_buf_clear(&req->out);
    json_decref(req->json);
    if (req->user_free != NULL)
        req->user_free(req->user);
    free(req->log_uri);
    free(req);
}

/* Called by MHD with the raw request line URI before anything else: our request starts here. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct gh_http *srv = cls;
    struct gh_req *req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    req->srv = srv;
    req->conn = conn;
    req->app = srv->app;
    req->route = SIZE_MAX;
    clock_gettime(CLOCK_MONOTONIC, &req->started);
    gh_buf_init(&req->body, srv->opts.max_body);
    gh_buf_init(&req->out, SIZE_MAX / 2);

    uint64_t id = atomic_fetch_add(&srv->next_id, 1);
    snprintf(req->request_id, sizeof(req->request_id), "%s%012llx", srv->id_prefix,
             (unsigned long long)id);

    /* MHD decodes %00 into a NUL that would silently shorten the path: refuse it. */
    req->bad_path = strcasestr(uri, "%00") != NULL;
    if (srv->opts.access_log) {
        struct gh_buf b;
        gh_buf_init(&b, LOG_URI_MAX);
        size_t len = strnlen(uri, LOG_URI_MAX);
        if (gh_log_scrub_uri(&b, uri, len) == GH_OK)
            req->log_uri = gh_buf_take(&b);
        gh_buf_clear(&b);
    }
    atomic_fetch_add(&srv->in_flight, 1);
    return req;
}

static enum gh_method parse_method(const char *m)
{
    static const struct {
        const char *name;
        enum gh_method method;
    } methods[] = {{"GET", GH_GET},     {"HEAD", GH_HEAD},     {"POST", GH_POST},
                   {"PUT", GH_PUT},     {"PATCH", GH_PATCH},   {"DELETE", GH_DELETE},
                   {"OPTIONS", GH_OPTIONS}};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].method;
    }
    return GH_METHOD_OTHER;
}

struct header_sum {
    size_t total;
    const char *request_id;
};

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    struct header_sum *s = cls;
    s->total += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
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

static void client_ip(struct gh_req *req)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    memcpy(req->ip, "-", 2);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, req->ip,
                  sizeof(req->ip));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, req->ip,
                  sizeof(req->ip));
}

/* First call of the access handler: look at the request head. */
static void begin(struct gh_req *req, const char *url, const char *method)
{
    struct gh_http *srv = req->srv;
    req->method_name = method;
    req->method = parse_method(method);
    req->path = url;
    client_ip(req);
    memcpy(req->client_ip, req->ip, sizeof(req->client_ip));

    if (req->bad_path) {
        req->early_status = 400;
        return;
    }
    const char *rid = gh_req_header(req, "X-Request-Id");
    if (rid != NULL && acceptable_request_id(rid))
        snprintf(req->request_id, sizeof(req->request_id), "%s", rid);

    struct header_sum sum = {0, NULL};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, sum_header, &sum);
    if (sum.total > srv->opts.max_header_bytes) {
        req->early_status = 431;
        return;
    }
    const char *cl = gh_req_header(req, "Content-Length");
    if (cl != NULL) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end == cl || *end != '\0' || n > srv->opts.max_body)
            req->early_status = 413;
    }
}

static void early_reply(struct gh_req *req)
{
    if (req->early_status == 431)
        gh_reply_error(req, 431, "headers_too_large", "request headers are too large", NULL);
    else if (req->early_status == 400)
        gh_reply_error(req, 400, "invalid_request", "the path contains a NUL byte", NULL);
    else
        gh_reply_error(req, 413, "payload_too_large", "request body is too large", NULL);
}

/* MHD releases a response body through this: a body may carry tokens. */
static void free_body(void *cls)
{
    struct gh_buf *body = cls;
    gh_buf_clear(body);
    free(body);
}

static enum MHD_Result send_reply(struct gh_req *req)
{
    struct gh_http *srv = req->srv;
    if (req->status == 0)
        gh_reply_error(req, 500, "internal", "internal error", NULL);

    struct gh_buf *body = malloc(sizeof(*body));
    if (body == NULL)
        return MHD_NO;
    *body = req->out; /* the body moves to the response */
    gh_buf_init(&req->out, req->out.max);
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(
        body->len, body->ptr, free_body, body);
    if (resp == NULL) {
        free_body(body);
        return MHD_NO;
    }
    if (req->content_type != NULL && body->len > 0)
        MHD_add_response_header(resp, "Content-Type", req->content_type);
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    for (size_t i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]); i++)
        MHD_add_response_header(resp, security_headers[i][0], security_headers[i][1]);
    if (srv->opts.hsts)
        MHD_add_response_header(resp, "Strict-Transport-Security",
                                "max-age=63072000; includeSubDomains; preload");
    int cache_set = 0;
    for (unsigned i = 0; i < req->nheaders_out; i++) {
        MHD_add_response_header(resp, req->headers_out[i][0], req->headers_out[i][1]);
        cache_set |= strcasecmp(req->headers_out[i][0], "Cache-Control") == 0;
    }
    if (!cache_set)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result r = MHD_queue_response(req->conn, req->status, resp);
    MHD_destroy_response(resp);
    return r;
}

static void run_deferred(void *arg)
{
    struct gh_req *req = arg;
    req->defer_fn(req);
    req->resumed = 1;
    MHD_resume_connection(req->conn);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    struct gh_http *srv = cls;
    struct gh_req *req = *con_cls;
    (void)conn;
    if (req == NULL)
        return MHD_NO; /* out of memory in on_uri */

    if (req->resumed)
        return send_reply(req);

    /*
     * MHD 0.9.75 closes keep-alive connections answered on the first call, so requests are
     * answered on a later one; refusals made from the head alone (413 by Content-Length,
     * 431) are the exception: closing is what they want, and MHD accepts an answer only
     * before the body starts or after it ends.
     */
    if (req->calls++ == 0) {
        begin(req, url, method);
        if (req->early_status == 0)
            return MHD_YES;
        early_reply(req);
        return send_reply(req);
    }
    if (*upload_size > 0) {
        if (req->early_status == 0 &&
            gh_buf_append(&req->body, upload_data, *upload_size) != GH_OK)
            req->early_status = 413;
        /* A chunked body past the cap is drained, not stored; a flood is cut off. */
        req->discarded += req->early_status ? *upload_size : 0;
        *upload_size = 0;
        return req->discarded > 16 * srv->opts.max_body ? MHD_NO : MHD_YES;
    }
    if (req->early_status != 0) {
        early_reply(req);
        return send_reply(req);
    }

    srv->dispatch(req);
    if (req->defer_fn == NULL)
        return send_reply(req);

    MHD_suspend_connection(conn);
    if (gh_pool_submit(req->defer_pool, run_deferred, req) != GH_OK) {
        gh_reply_error(req, 503, "unavailable", "server is busy, retry shortly", NULL);
        gh_reply_header(req, "Retry-After", "1");
        req->resumed = 1;
        MHD_resume_connection(conn);
    }
    return MHD_YES;
}

/* Microseconds since the request line arrived. */
static int64_t elapsed_us(const struct gh_req *req)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t us = (int64_t)(now.tv_sec - req->started.tv_sec) * 1000000 +
                 (now.tv_nsec - req->started.tv_nsec) / 1000;
    return us < 0 ? 0 : us;
}

static void access_log(struct gh_req *req, enum MHD_RequestTerminationCode toe, int64_t us)
{
    const char *ua = req->calls > 0 ? gh_req_header(req, "User-Agent") : NULL;

    struct gh_buf b;
    gh_buf_init(&b, 8192);
    gh_err err = gh_buf_puts(&b, "{\"ts\":\"");
    if (err == GH_OK)
        err = gh_log_timestamp(&b);
    if (err == GH_OK)
        err = gh_buf_printf(&b, "\",\"level\":\"info\",\"msg\":\"request\",\"request_id\":\"%s\","
                                "\"method\":\"",
                            req->request_id);
    if (err == GH_OK && req->method_name != NULL)
        err = gh_buf_json_escape(&b, req->method_name, strnlen(req->method_name, 16));
    if (err == GH_OK)
        err = gh_buf_puts(&b, "\",\"path\":\"");
    if (err == GH_OK && req->log_uri != NULL)
        err = gh_buf_json_escape(&b, req->log_uri, strlen(req->log_uri));
    if (err == GH_OK)
        err = gh_buf_printf(&b, "\",\"status\":%u,\"duration_ms\":%lld.%03lld,\"ip\":\"%s\"",
                            req->status, (long long)(us / 1000), (long long)(us % 1000), req->ip);
    if (err == GH_OK && strcmp(req->client_ip, req->ip) != 0)
        err = gh_buf_printf(&b, ",\"client_ip\":\"%s\"", req->client_ip);
    if (err == GH_OK && req->user_id_for_log[0] != '\0')
        err = gh_buf_printf(&b, ",\"user_id\":\"%s\"", req->user_id_for_log);
    if (err == GH_OK && ua != NULL) {
        err = gh_buf_puts(&b, ",\"user_agent\":\"");
        if (err == GH_OK)
            err = gh_buf_json_escape(&b, ua, strnlen(ua, 256));
        if (err == GH_OK)
            err = gh_buf_puts(&b, "\"");
    }
    if (err == GH_OK && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        err = gh_buf_puts(&b, ",\"aborted\":true");
    if (err == GH_OK)
        err = gh_buf_puts(&b, "}");
    if (err == GH_OK)
        gh_log_json_line(b.ptr, b.len);
    gh_buf_clear(&b);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    struct gh_http *srv = cls;
    struct gh_req *req = *con_cls;
    if (req == NULL)
        return;
    if (srv->opts.access_log || srv->opts.observe != NULL) {
        int64_t us = elapsed_us(req);
        if (srv->opts.observe != NULL && req->status != 0)
            srv->opts.observe(req, (uint64_t)us);
        if (srv->opts.access_log)
            access_log(req, toe, us);
    }
    req_free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->in_flight, 1);
}

GH_PRINTF(2, 0) static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    gh_log(GH_LOG_WARN, "http: %s", msg);
}

gh_err gh_http_start(const struct gh_http_opts *opts, gh_dispatch_fn dispatch, void *app,
                     struct gh_http **out)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, opts->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(opts->port);
    } else if (inet_pton(AF_INET6, opts->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(opts->port);
        flags |= MHD_USE_IPv6;
    } else {
        return GH_ERR_INVALID;
    }

    struct gh_http *srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return GH_ERR_NOMEM;
    srv->dispatch = dispatch;
    srv->app = app;
    srv->opts = *opts;
    uint8_t rnd[6];
    randombytes_buf(rnd, sizeof(rnd));
    snprintf(srv->id_prefix, sizeof(srv->id_prefix), "%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5]);

    unsigned threads = opts->threads ? opts->threads : 1;
    srv->daemon = MHD_start_daemon(
        /* The logger first: MHD warns about options it reads before one is set. */
        flags, opts->port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error,
        NULL, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, opts->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        free(srv);
        return GH_ERR_IO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : opts->port;
    *out = srv;
    return GH_OK;
}

uint16_t gh_http_port(const struct gh_http *srv)
{
    return srv->port;
}

void gh_http_stop(struct gh_http *srv, unsigned timeout_s)
{
    if (srv == NULL)
        return;
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    /* In-flight requests (including those suspended on a pool) finish; idle keep-alive
     * connections do not hold the stop. */
    for (unsigned waited = 0; waited < timeout_s * 100u; waited++) {
        if (atomic_load(&srv->in_flight) == 0)
            break;
        usleep(10000);
    }
    MHD_stop_daemon(srv->daemon);
    free(srv);
}

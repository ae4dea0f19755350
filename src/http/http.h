#ifndef GH_HTTP_HTTP_H
#define GH_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include "core/buf.h"
#include "core/err.h"
#include "core/pool.h"

/*
 * The HTTP server: Gatehouse's own HTTP/1.1 server (docs/ARCHITECTURE.md, "The HTTP core"),
 * one epoll event loop per thread. A request is read fully (bounded), handed to the
 * dispatch function, and answered either at once on its loop or, when the handler defers,
 * from a worker pool: the connection is parked meanwhile and the loop serves others.
 */

enum gh_method {
    GH_GET = 1 << 0,
    GH_HEAD = 1 << 1,
    GH_POST = 1 << 2,
    GH_PUT = 1 << 3,
    GH_PATCH = 1 << 4,
    GH_DELETE = 1 << 5,
    GH_OPTIONS = 1 << 6,
    GH_METHOD_OTHER = 1 << 7,
};

#define GH_REQ_MAX_HEADERS_OUT 64      /* response headers a handler may add */
#define GH_REQ_HEADERS_OUT_BYTES 16384 /* and their text */
#define GH_REPLY_MAX (16u << 20)       /* the largest response body */
#define GH_REQUEST_ID_MAX 65
/* The arena's part inside the request: a /verify's fields, path, identity (2.8 KB) and
 * answer headers fit, so the request allocates nothing else (kept for reuse per loop). */
#define GH_REQ_ARENA_INLINE 6144

struct gh_req;
struct gh_conn;

/** A response header a handler added: both strings copied into the request's arena. */
struct gh_header_out {
    const char *name, *value;
    size_t name_len, value_len;
};

struct gh_h1_field;
struct gh_arena_block;
typedef void (*gh_req_job_fn)(struct gh_req *req);

/** One request and its answer. Owned by the server; valid until the answer is sent. */
struct gh_req {
    void *app; /* the dispatch context given to gh_http_start */
    enum gh_method method;
    const char *method_name; /* as sent */
    const char *path;        /* decoded path without query */
    char request_id[GH_REQUEST_ID_MAX];
    char ip[64];        /* the TCP peer */
    uint8_t peer[16];   /* the TCP peer's address (IPv4 mapped), for CIDR matches unparsed */
    char client_ip[64]; /* the client: the peer, or who a trusted proxy says it serves */
    uint8_t client[16]; /* client_ip's address (IPv4 mapped), when client_known */
    int client_known;   /* 0: a proxy forwards for a client it does not name readably */
    struct gh_buf body; /* raw request body (capped at max_body) */
    json_t *json;       /* parsed body, set by the dispatcher for JSON routes */
    void *user;         /* dispatcher's per-request data (an identity...) */
    void (*user_free)(void *user);

    /* the answer */
    unsigned status;   /* 0 until a reply is set */
    struct gh_buf out; /* response body, wiped when freed */
    const char *content_type;
    struct gh_header_out *headers_out; /* in the arena */
    unsigned nheaders_out;
    char user_id_for_log[40]; /* set by authentication, logged with the request */
    size_t route;             /* the dispatcher's route index, SIZE_MAX until matched */

    /* server-private state */
    struct gh_http *srv;
    struct gh_conn *conn;
    struct gh_req *next; /* in a loop's completion or spare list */
    struct timespec started;
    char *head; /* the request head, owned; fields point into it */
    size_t head_cap;
    struct gh_h1_field *fields;
    size_t nfields;
    const char *query; /* the raw query (after '?'), or NULL */
    unsigned headers_out_cap;
    size_t headers_out_bytes;
    int headers_overflow; /* a header past the caps: answered 500 */
    unsigned headers_own; /* the default headers an added one replaces (server.c) */
    struct gh_pool *defer_pool;
    gh_req_job_fn defer_fn;
    char *log_uri;                 /* scrubbed URI for the access log, in the arena */
    void *h2_stream;               /* the HTTP/2 stream of it (h2.c), or NULL */
    struct gh_arena_block *blocks; /* the arena beyond the inline part */
    size_t arena_used;             /* of arena_inline, from its start: wiped at the end */
    size_t arena_plain;            /* of arena_inline, from its end: no secrets, not wiped */
    size_t head_len;               /* of head, what was read into it */
    /* kept last: not cleared between requests */
    _Alignas(16) char arena_inline[GH_REQ_ARENA_INLINE];
};

/** Value of request header name (case-insensitive), or NULL. The first when repeated. */
const char *gh_req_header(const struct gh_req *req, const char *name) GH_NONNULL(1, 2);
/** How many times request header name was sent. */
unsigned gh_req_header_count(const struct gh_req *req, const char *name) GH_NONNULL(1, 2);
/**
 * Both in one pass: how many times header name was sent, its first value in *value (NULL
 * when none) and that value's length in *len (when len is not NULL).
 */
unsigned gh_req_header_find(const struct gh_req *req, const char *name, const char **value,
                            size_t *len) GH_NONNULL(1, 2, 3);
/** Value of query argument name, or NULL. */
const char *gh_req_query(const struct gh_req *req, const char *name) GH_NONNULL(1, 2);

/** Sets a JSON answer; takes the reference to body (which may be NULL for no body). */
void gh_reply_json(struct gh_req *req, unsigned status, json_t *body) GH_NONNULL(1);
/** Sets an answer whose body is already JSON text. */
void gh_reply_raw(struct gh_req *req, unsigned status, const char *content_type, const char *body,
                  size_t len) GH_NONNULL(1, 3);
/** Sets the uniform error answer {"error":{"code","message","request_id"[,"details"]}}; takes
 * details. */
void gh_reply_error(struct gh_req *req, unsigned status, const char *code, const char *message,
                    json_t *details) GH_NONNULL(1, 3, 4);
/**
 * Adds a response header (both strings copied into the request). Past
 * GH_REQ_MAX_HEADERS_OUT headers or GH_REQ_HEADERS_OUT_BYTES of text the request is
 * answered 500 instead: a header is never dropped silently.
 */
void gh_reply_header(struct gh_req *req, const char *name, const char *value) GH_NONNULL(1, 2, 3);

/**
 * Memory that lives until the request ends (16-byte aligned), or NULL when out of memory.
 * Freed in one go with the request.
 */
void *gh_req_alloc(struct gh_req *req, size_t size) GH_NONNULL(1);

/**
 * gh_req_alloc for what holds no secret (a proven identity): memory the request does not
 * wipe when it ends, so a /verify does not clear its 2.8 KB identity. Anything a client
 * sent or may not read (tokens, cookies, bodies, decoded queries) goes to gh_req_alloc.
 */
void *gh_req_alloc_plain(struct gh_req *req, size_t size) GH_NONNULL(1);

/**
 * Asks the server to run fn(req) on pool after the dispatcher returns; fn must set the
 * answer. When the pool's queue is full the server answers 503 unavailable with
 * Retry-After instead.
 */
void gh_req_defer(struct gh_req *req, struct gh_pool *pool, gh_req_job_fn fn) GH_NONNULL(1, 2, 3);

typedef void (*gh_dispatch_fn)(struct gh_req *req);

struct gh_http_opts {
    const char *host;
    uint16_t port;
    unsigned threads;
    size_t max_body;
    size_t max_header_bytes;
    unsigned connection_timeout; /* idle and inactivity, seconds */
    unsigned header_timeout;     /* a whole request head, seconds */
    unsigned max_connections_per_ip;
    int hsts;                /* Strict-Transport-Security on plain HTTP too (always over TLS) */
    struct gh_tls *tls;      /* TLS on every connection (http/tls.h), or NULL: plain */
    int h2c;                 /* a plain connection may start HTTP/2 (prior knowledge, Upgrade) */
    unsigned h2_max_streams; /* concurrent streams of an HTTP/2 connection */
    int access_log;
    /* Called once per answered request with its duration, from a polling thread (may be NULL). */
    void (*observe)(struct gh_req *req, uint64_t micros);
};

struct gh_http;
struct gh_tls;

/** Binds and starts serving; dispatch(req) is called with req->app = app. */
gh_err gh_http_start(const struct gh_http_opts *opts, gh_dispatch_fn dispatch, void *app,
                     struct gh_http **out) GH_WUR GH_NONNULL(1, 2, 4);

/** The port actually bound (useful with port 0). */
uint16_t gh_http_port(const struct gh_http *srv) GH_NONNULL(1);

/**
 * Stops accepting and closes idle connections; requests being read or run are answered
 * with Connection: close, requests reaching a pool from now on get 503. After timeout_s
 * seconds every connection is closed; requests already on a pool are still waited for
 * (their memory is in use). Then frees the server. Accepts NULL.
 */
void gh_http_stop(struct gh_http *srv, unsigned timeout_s);

#endif

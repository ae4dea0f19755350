#include "http/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <nghttp2/nghttp2.h>

/*
 * HTTP/2 on a connection (libnghttp2 does the framing, HPACK and flow control): each
 * stream is a struct gh_req filled as an HTTP/1.1 head would fill it, dispatched through
 * the same request layer, answered with the same headers (the HTTP/1.1 head the server
 * builds, turned into a header list). Reached by ALPN over TLS, by the client preface on a
 * plain connection (prior knowledge) or by `Upgrade: h2c` (conn.c); both cleartext ways
 * only with server.h2c.
 *
 * Limits: concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS; nghttp2 refuses the rest),
 * the header list (server.max_header_bytes: 431 past it; a list four times over is an
 * HPACK bomb and ends the connection), at most MAX_FIELDS fields, CONTINUATION frames per
 * block, RST_STREAM frames received (a token bucket: the rapid-reset defence of
 * CVE-2023-44487), bodies (server.max_body: 413), a header block or the preface within
 * server.header_timeout, silence within server.connection_timeout, and no reading while
 * answers wait for the client to read.
 */

#define MAX_FIELDS 256
#define FIELDS_START 16
#define RESET_BURST 200 /* resets a connection may send at once */
#define RESET_RATE 33   /* and per second after that (nghttp2's own default) */
#define READS_PER_EVENT 16
#define BOMB_FACTOR 4
#define DROP_MAX (1u << 20) /* body bytes read and dropped after an early answer */
#define MAX_NV (GH_REQ_MAX_HEADERS_OUT + 24)
#define SETTINGS_MAX 96 /* an HTTP2-Settings header: 16 settings */
#define BATCH 8192      /* frames gathered for one write */

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct h2_stream {
    struct gh_req *req;
    struct h2_stream *prev, *next; /* the connection's live streams */
    int32_t id;
    size_t field_bytes;
    struct gh_h1_field *fields;
    size_t nfields, fields_cap;
    const char *method, *path, *authority;
    size_t path_len;
    size_t sent;     /* of req->out */
    unsigned refuse; /* a status decided while reading (400, 413, 431) */
    int started;     /* dispatched or answered */
    int deferred;    /* on a pool */
    int closed;      /* nghttp2 closed it while it was on a pool */
    size_t dropped;  /* body bytes that came after an early answer */
};

struct gh_h2 {
    nghttp2_session *s;
    struct h2_stream *streams;
    unsigned deferred;  /* streams on a pool */
    const uint8_t *out; /* bytes not yet written: in batch, or a frame larger than it */
    size_t out_len;
    const uint8_t *next; /* a frame from nghttp2 not yet in the batch (valid until the */
    size_t next_len;     /* next nghttp2_session_mem_send) */
    uint64_t block_ms;   /* a header block (or the preface) began; 0: none open */
    int dead;            /* the connection is gone; waiting for its requests on pools */
    int goaway;          /* the stop's GOAWAY is queued */
    int freeing;
    unsigned continuations; /* CONTINUATION frames of the header block being read */
    /* nghttp2 hands out one frame at a time: the frames of every answer ready are copied
     * here and written with one call, not one write per frame (two per answer). */
    uint8_t batch[BATCH];
};

int gh_h2_preface(const char *p, size_t n)
{
    size_t m = n < sizeof(preface) - 1 ? n : sizeof(preface) - 1;
    if (memcmp(p, preface, m) != 0)
        return -1;
    return m == sizeof(preface) - 1;
}

static struct gh_http *srv_of(struct gh_conn *c)
{
    return c->loop->srv;
}

/* A header block of max_header_bytes spans this many 16 KiB frames, and a few spare. */
static unsigned max_continuations(const struct gh_http *srv)
{
    return (unsigned)(srv->opts.max_header_bytes / 16384) + 2;
}

/* ---- streams ---- */

static void unlink_stream(struct gh_h2 *h2, struct h2_stream *st)
{
    if (st->prev != NULL)
        st->prev->next = st->next;
    else if (h2->streams == st)
        h2->streams = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    st->prev = st->next = NULL;
}

static struct h2_stream *stream_new(struct gh_conn *c, int32_t id)
{
    struct gh_req *req = gh_req_new(c);
    if (req == NULL)
        return NULL;
    struct h2_stream *st = gh_req_alloc(req, sizeof(*st));
    struct gh_h1_field *fields = gh_req_alloc(req, FIELDS_START * sizeof(*fields));
    if (st == NULL || fields == NULL) {
        gh_req_end(req, 1);
        return NULL;
    }
    memset(st, 0, sizeof(*st));
    st->req = req;
    st->id = id;
    st->fields = fields;
    st->fields_cap = FIELDS_START;
    req->h2_stream = st;
    struct gh_h2 *h2 = c->h2;
    st->next = h2->streams;
    if (h2->streams != NULL)
        h2->streams->prev = st;
    h2->streams = st;
    return st;
}

static char *copy(struct gh_req *req, const uint8_t *s, size_t n)
{
    char *p = gh_req_alloc(req, n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Cookie fields may come apart in HTTP/2; the request layer reads one (RFC 9113 8.2.3). */
static int add_field(struct h2_stream *st, const uint8_t *name, size_t nlen, const uint8_t *value,
                     size_t vlen)
{
    struct gh_req *req = st->req;
    if (nlen == 6 && memcmp(name, "cookie", 6) == 0) {
        for (size_t i = 0; i < st->nfields; i++) {
            struct gh_h1_field *f = &st->fields[i];
            if (f->name_len == 6 && memcmp(f->name, "cookie", 6) == 0) {
                char *joined = gh_req_alloc(req, f->value_len + 2 + vlen + 1);
                if (joined == NULL)
                    return -1;
                memcpy(joined, f->value, f->value_len);
                memcpy(joined + f->value_len, "; ", 2);
                memcpy(joined + f->value_len + 2, value, vlen);
                f->value_len += 2 + vlen;
                joined[f->value_len] = '\0';
                f->value = joined;
                return 0;
            }
        }
    }
    if (st->nfields == MAX_FIELDS) {
        st->refuse = 431;
        return 0;
    }
    if (st->nfields == st->fields_cap) { /* doubled in the arena: most requests fit the start */
        struct gh_h1_field *grown = gh_req_alloc(req, 2 * st->fields_cap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        memcpy(grown, st->fields, st->nfields * sizeof(*grown));
        st->fields = grown;
        st->fields_cap *= 2;
    }
    struct gh_h1_field *f = &st->fields[st->nfields];
    f->name = copy(req, name, nlen);
    f->value = copy(req, value, vlen);
    if (f->name == NULL || f->value == NULL)
        return -1;
    f->name_len = nlen;
    f->value_len = vlen;
    st->nfields++;
    return 0;
}

/* A Content-Length past server.max_body is refused before any of the body comes. */
static void check_length(struct h2_stream *st, const uint8_t *v, size_t n, size_t max)
{
    uint64_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || len > UINT64_MAX / 10 - 9)
            return; /* nghttp2 refuses a malformed one */
        len = len * 10 + (uint64_t)(v[i] - '0');
    }
    if (len > max && st->refuse == 0)
        st->refuse = 413;
}

/* ---- answers ---- */

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *arg)
{
    (void)s, (void)id, (void)arg;
    struct h2_stream *st = src->ptr;
    struct gh_req *req = st->req;
    size_t left = req->out.len - st->sent;
    size_t n = left < len ? left : len;
    if (n > 0)
        memcpy(buf, req->out.ptr + st->sent, n);
    st->sent += n;
    if (st->sent == req->out.len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/*
 * The answer's header list is the HTTP/1.1 head the server builds (one place decides the
 * headers of both protocols), its names lower-cased, without the status line.
 */
static int respond(struct gh_conn *c, struct h2_stream *st)
{
    struct gh_req *req = st->req;
    size_t n = gh_req_head(req, 1, &c->head_out, &c->head_out_cap);
    if (n < 16)
        return -1;
    char *p = c->head_out, *end = p + n;
    nghttp2_nv nv[MAX_NV];
    size_t nnv = 0;
    /* "HTTP/1.1 200 OK\r\n": the three digits at 9. */
    nv[nnv++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)p + 9, 7, 3, NGHTTP2_NV_FLAG_NONE};
    p = memchr(p, '\n', (size_t)(end - p)) + 1;
    while (p < end && *p != '\r' && nnv < MAX_NV) {
        char *colon = memchr(p, ':', (size_t)(end - p));
        char *eol = memchr(p, '\r', (size_t)(end - p));
        if (colon == NULL || eol == NULL || colon > eol)
            return -1;
        for (char *q = p; q < colon; q++)
            *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
        /* A value new in every answer would take a place in the client's HPACK table each
         * time, pushing out the headers every answer repeats (then sent in full again). */
        uint8_t flags = colon - p == 12 && memcmp(p, "x-request-id", 12) == 0
                            ? NGHTTP2_NV_FLAG_NO_INDEX
                            : NGHTTP2_NV_FLAG_NONE;
        nv[nnv++] = (nghttp2_nv){(uint8_t *)p, (uint8_t *)colon + 2, (size_t)(colon - p),
                                 (size_t)(eol - colon - 2), flags};
        p = eol + 2;
    }
    int bodiless = req->method == GH_HEAD || req->out.len == 0;
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_body};
    st->started = 1;
    return nghttp2_submit_response(c->h2->s, st->id, nv, nnv, bodiless ? NULL : &prd) == 0 ? 0 : -1;
}

/* A refusal the server makes itself, answered at once; the body's rest is dropped. */
static int refuse(struct gh_conn *c, struct h2_stream *st, unsigned status)
{
    gh_req_refuse(st->req, status);
    return respond(c, st);
}

static int run(struct gh_conn *c, struct h2_stream *st)
{
    if (st->started)
        return 0;
    st->started = 1;
    if (gh_req_dispatch(st->req)) {
        st->deferred = 1;
        c->h2->deferred++;
        return 0;
    }
    return respond(c, st);
}

/* The header block is complete: fill the request as an HTTP/1.1 head would. */
static int begin_request(struct gh_conn *c, struct h2_stream *st, int ended)
{
    struct gh_req *req = st->req;
    if (st->refuse != 0)
        return refuse(c, st, st->refuse);
    req->fields = st->fields;
    req->nfields = st->nfields;
    if (st->authority != NULL && gh_req_header(req, "host") == NULL &&
        add_field(st, (const uint8_t *)"host", 4, (const uint8_t *)st->authority,
                  strlen(st->authority)) != 0)
        return -1;
    struct gh_h1_head head = {
        .method = st->method,
        .target = st->path,
        .target_len = st->path_len,
        .minor = 1,
        .fields = st->fields,
        .nfields = st->nfields,
        .fields_max = st->fields_cap,
    };
    if (st->path_len > srv_of(c)->opts.max_header_bytes)
        return refuse(c, st, 414);
    gh_err err = gh_req_begin(req, &head);
    if (err == GH_ERR_INVALID)
        return refuse(c, st, 400);
    if (err != GH_OK)
        return -1;
    return ended ? run(c, st) : 0;
}

/* ---- nghttp2's callbacks ---- */

/* More CONTINUATION frames than a block of max_header_bytes needs is a flood
 * (CVE-2024-27316's kind): whatever they carry, the connection ends. */
static int on_begin_frame(nghttp2_session *s, const nghttp2_frame_hd *hd, void *arg)
{
    struct gh_conn *c = arg;
    if (hd->type == NGHTTP2_HEADERS) {
        c->h2->continuations = 0;
    } else if (hd->type == NGHTTP2_CONTINUATION &&
               ++c->h2->continuations > max_continuations(srv_of(c))) {
        nghttp2_session_terminate_session(s, NGHTTP2_ENHANCE_YOUR_CALM);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    struct gh_conn *c = arg;
    c->h2->block_ms = c->loop->now_ms;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2_stream *st = stream_new(c, f->hd.stream_id);
    if (st == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
    nghttp2_session_set_stream_user_data(s, f->hd.stream_id, st);
    return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *arg)
{
    (void)flags;
    struct gh_conn *c = arg;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (st == NULL || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* trailers: counted by nghttp2's list limit, not kept */
    size_t max = srv_of(c)->opts.max_header_bytes;
    st->field_bytes += nlen + vlen + 4;
    if (st->field_bytes > BOMB_FACTOR * max) {
        /* An HPACK bomb: a small block that decodes into a huge list. */
        nghttp2_session_terminate_session(s, NGHTTP2_ENHANCE_YOUR_CALM);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (st->field_bytes > max && st->refuse == 0)
        st->refuse = 431;
    if (st->refuse != 0)
        return 0;
    /* nghttp2 checked the name (a lower-case token) and the value (visible characters,
     * SP and HTAB only, as HTTP/1.1 here): anything else resets the stream. */
    struct gh_req *req = st->req;
    if (nlen > 0 && name[0] == ':') {
        const char **slot = nlen == 7 && memcmp(name, ":method", 7) == 0        ? &st->method
                            : nlen == 5 && memcmp(name, ":path", 5) == 0        ? &st->path
                            : nlen == 10 && memcmp(name, ":authority", 10) == 0 ? &st->authority
                                                                                : NULL;
        if (slot != NULL && (*slot = copy(req, value, vlen)) == NULL)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        if (slot == &st->path)
            st->path_len = vlen;
        return 0;
    }
    if (nlen == 14 && memcmp(name, "content-length", 14) == 0)
        check_length(st, value, vlen, srv_of(c)->opts.max_body);
    return add_field(st, name, nlen, value, vlen) == 0 ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *arg)
{
    (void)flags;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(s, id);
    if (st == NULL)
        return 0;
    if (st->started) {
        /* Answered early (RFC 9113 8.1): the rest is read and dropped, as HTTP/1.1 lingers,
         * up to a bound past which the stream is reset. */
        if ((st->dropped += len) > DROP_MAX)
            nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
        return 0;
    }
    if (gh_buf_append(&st->req->body, data, len) != GH_OK)
        return refuse(arg, st, 413) == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
    return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    struct gh_conn *c = arg;
    int ended = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    int r = 0;
    switch (f->hd.type) {
    case NGHTTP2_SETTINGS: /* the preface is complete */
    case NGHTTP2_PING:
        if (f->hd.stream_id == 0 && c->h2->block_ms != 0 && c->h2->streams == NULL)
            c->h2->block_ms = 0;
        break;
    case NGHTTP2_HEADERS:
        c->h2->block_ms = 0;
        if (st != NULL && f->headers.cat == NGHTTP2_HCAT_REQUEST)
            r = begin_request(c, st, ended);
        else if (st != NULL && ended)
            r = run(c, st); /* after trailers */
        break;
    case NGHTTP2_DATA:
        if (st != NULL && ended)
            r = run(c, st);
        break;
    default:
        break;
    }
    return r == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *arg)
{
    struct gh_conn *c = arg;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(s, id);
    if (st == NULL || c->h2->freeing)
        return 0;
    nghttp2_session_set_stream_user_data(s, id, NULL);
    unlink_stream(c->h2, st);
    if (st->deferred) {
        st->closed = 1; /* ended when the pool gives it back */
        return 0;
    }
    gh_req_end(st->req, code != NGHTTP2_NO_ERROR || st->sent < st->req->out.len);
    return 0;
}

/* ---- the connection ---- */

static void free_session(struct gh_conn *c)
{
    struct gh_h2 *h2 = c->h2;
    h2->freeing = 1;
    while (h2->streams != NULL) {
        struct h2_stream *st = h2->streams;
        unlink_stream(h2, st);
        gh_req_end(st->req, 1); /* none is on a pool: see h2_close */
    }
    nghttp2_session_del(h2->s);
    free(h2);
    c->h2 = NULL;
}

void gh_h2_free(struct gh_conn *c)
{
    if (c->h2 != NULL)
        free_session(c);
}

/* Closes c, or, while requests of it are on pools, leaves it dead until they return. */
static int h2_close(struct gh_conn *c)
{
    struct gh_h2 *h2 = c->h2;
    if (h2->deferred == 0) {
        gh_loop_close(c);
        return -1;
    }
    h2->dead = 1;
    gh_loop_watch(c, 0);
    shutdown(c->fd, SHUT_RDWR);
    return -1;
}

/*
 * The frames nghttp2 has ready, as many as the batch holds, as h2->out. A frame larger than
 * the batch is written from nghttp2's own buffer, alone. -1: nghttp2 failed.
 */
static int gather(struct gh_h2 *h2)
{
    size_t len = 0;
    for (;;) {
        if (h2->next_len == 0) {
            ssize_t n = nghttp2_session_mem_send(h2->s, &h2->next);
            if (n < 0)
                return -1;
            if (n == 0)
                break;
            h2->next_len = (size_t)n;
        }
        if (len + h2->next_len > BATCH)
            break;
        memcpy(h2->batch + len, h2->next, h2->next_len);
        len += h2->next_len;
        h2->next_len = 0;
    }
    if (len > 0) {
        h2->out = h2->batch;
        h2->out_len = len;
    } else {
        h2->out = h2->next;
        h2->out_len = h2->next_len;
        h2->next_len = 0;
    }
    return 0;
}

/* Writes what nghttp2 has to send; reading pauses while the client does not read. */
static int flush(struct gh_conn *c)
{
    struct gh_h2 *h2 = c->h2;
    for (;;) {
        if (h2->out_len == 0) {
            if (gather(h2) != 0)
                return h2_close(c);
            if (h2->out_len == 0)
                break;
        }
        struct iovec iov = {(void *)(uintptr_t)h2->out, h2->out_len};
        ssize_t w = c->tr->writev(c, &iov, 1);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            gh_loop_watch(c, EPOLLOUT);
            return 0;
        }
        if (w <= 0)
            return h2_close(c);
        c->active_ms = c->loop->now_ms;
        h2->out += w;
        h2->out_len -= (size_t)w;
    }
    if (!nghttp2_session_want_read(h2->s) && !nghttp2_session_want_write(h2->s))
        return h2_close(c); /* after a GOAWAY, once its streams are done */
    gh_loop_watch(c, EPOLLIN);
    return 0;
}

static int feed(struct gh_conn *c, const char *p, size_t n)
{
    ssize_t r = nghttp2_session_mem_recv(c->h2->s, (const uint8_t *)p, n);
    if (r < 0) {
        /* A GOAWAY says why, unless one is queued already (a protocol error's). */
        int flood = r == NGHTTP2_ERR_FLOODED || r == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS;
        nghttp2_session_terminate_session(c->h2->s, flood ? NGHTTP2_ENHANCE_YOUR_CALM
                                                          : NGHTTP2_PROTOCOL_ERROR);
        if (flush(c) != 0)
            return -1;
        return h2_close(c);
    }
    return 0;
}

int gh_h2_io(struct gh_conn *c)
{
    struct gh_h2 *h2 = c->h2;
    if (h2->dead)
        return -1;
    for (int i = 0; i < READS_PER_EVENT && h2->out_len == 0; i++) {
        ssize_t r = c->tr->read(c, c->loop->scratch, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (r <= 0)
            return h2_close(c);
        c->active_ms = c->loop->now_ms;
        if (feed(c, c->loop->scratch, (size_t)r) != 0)
            return -1;
        if (nghttp2_session_want_write(h2->s) && flush(c) != 0)
            return -1;
        /* A short read emptied the socket (epoll says when more comes): no EAGAIN call. */
        if ((size_t)r < 65536 && !(c->tls != NULL && gh_tls_pending(c)))
            break;
    }
    return flush(c);
}

void gh_h2_resume(struct gh_req *req)
{
    struct gh_conn *c = req->conn;
    struct gh_h2 *h2 = c->h2;
    struct h2_stream *st = req->h2_stream;
    st->deferred = 0;
    h2->deferred--;
    if (st->closed || h2->dead) {
        if (!st->closed)
            unlink_stream(h2, st);
        gh_req_end(req, 1);
        if (h2->dead && h2->deferred == 0)
            gh_loop_close(c);
        return;
    }
    if (respond(c, st) != 0) {
        h2_close(c);
        return;
    }
    flush(c);
}

int gh_h2_tick(struct gh_conn *c, uint64_t now)
{
    struct gh_h2 *h2 = c->h2;
    const struct gh_http_opts *o = &srv_of(c)->opts;
    if (h2->dead)
        return 0;
    if (atomic_load_explicit(&srv_of(c)->stopping, memory_order_relaxed) && !h2->goaway) {
        h2->goaway = 1;
        nghttp2_submit_goaway(h2->s, NGHTTP2_FLAG_NONE,
                              nghttp2_session_get_last_proc_stream_id(h2->s), NGHTTP2_NO_ERROR,
                              NULL, 0);
        return flush(c) != 0;
    }
    int late = h2->block_ms != 0 && now - h2->block_ms >= (uint64_t)o->header_timeout * 1000;
    int silent = now - c->active_ms >= (uint64_t)o->connection_timeout * 1000;
    if ((late || silent) && h2->deferred == 0)
        return h2_close(c) != 0;
    return 0;
}

int gh_h2_close(struct gh_conn *c)
{
    return c->h2->dead ? -1 : h2_close(c);
}

/* HTTP2-Settings is base64url without padding (RFC 7540 3.2.1). */
static ssize_t b64url(const char *s, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    for (; *s != '\0'; s++) {
        int v = *s >= 'A' && *s <= 'Z'   ? *s - 'A'
                : *s >= 'a' && *s <= 'z' ? *s - 'a' + 26
                : *s >= '0' && *s <= '9' ? *s - '0' + 52
                : *s == '-'              ? 62
                : *s == '_'              ? 63
                                         : -1;
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        if ((bits += 6) >= 8) {
            if (n == cap)
                return -1;
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

int gh_h2_start(struct gh_conn *c, const char *in, size_t n, struct gh_req *upgrade)
{
    struct gh_http *srv = srv_of(c);
    uint8_t settings[SETTINGS_MAX];
    ssize_t nsettings = 0;
    if (upgrade != NULL) {
        const char *text = gh_req_header(upgrade, "HTTP2-Settings");
        if ((nsettings = b64url(text, settings, sizeof(settings))) < 0 || nsettings % 6 != 0)
            return 1; /* not an upgrade we take: answered as HTTP/1.1 */
        static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                 "Upgrade: h2c\r\n\r\n";
        struct iovec iov = {(void *)(uintptr_t)sw, sizeof(sw) - 1};
        if (c->tr->writev(c, &iov, 1) != (ssize_t)iov.iov_len) {
            gh_req_end(upgrade, 1);
            gh_loop_close(c);
            return -1;
        }
    }
    struct gh_h2 *h2 = calloc(1, sizeof(*h2));
    nghttp2_session_callbacks *cb = NULL;
    nghttp2_option *opt = NULL;
    if (h2 == NULL || nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0)
        goto fail;
    nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_option_set_stream_reset_rate_limit(opt, RESET_BURST, RESET_RATE);
    nghttp2_option_set_max_continuations(opt, max_continuations(srv));
    c->h2 = h2;
    if (nghttp2_session_server_new2(&h2->s, cb, c, opt) != 0) {
        c->h2 = NULL;
        goto fail;
    }
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, srv->opts.h2_max_streams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)srv->opts.max_header_bytes},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    c->state = GH_CONN_H2;
    c->active_ms = c->loop->now_ms;
    h2->block_ms = c->loop->now_ms; /* the client's preface and SETTINGS are due */
    if (nghttp2_submit_settings(h2->s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0)
        return h2_close(c);
    if (upgrade != NULL) {
        struct h2_stream *st = gh_req_alloc(upgrade, sizeof(*st));
        if (st == NULL || nghttp2_session_upgrade2(h2->s, settings, (size_t)nsettings,
                                                   upgrade->method == GH_HEAD, st) != 0) {
            gh_req_end(upgrade, 1);
            return h2_close(c);
        }
        memset(st, 0, sizeof(*st));
        st->req = upgrade;
        st->id = 1;
        upgrade->h2_stream = st;
        h2->streams = st;
        if (run(c, st) != 0)
            return h2_close(c);
    }
    if (n > 0 && feed(c, in, n) != 0)
        return -1;
    if (c->tls != NULL && gh_tls_pending(c))
        return gh_h2_io(c);
    return flush(c);
fail:
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    free(h2);
    if (upgrade != NULL)
        gh_req_end(upgrade, 1);
    gh_loop_close(c);
    return -1;
}

#include "http/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sodium.h>

#include "core/secret.h"

/*
 * HTTP/1.1 on one connection: read a head into a buffer that starts small and grows only
 * as far as the head needs (up to the server's head bound), parse it, read the body
 * (Content-Length or chunked, refused at once past max_body), dispatch, write the answer,
 * then wait for the next request with at most a small buffer kept. Every function that can
 * close the connection returns -1 when it did (c is freed), 0 otherwise.
 */

#define IN_START 2048     /* a new head buffer */
#define IN_KEEP 4096      /* a buffer at most this big stays with a kept-alive connection */
#define IDLE_FREE_MS 1000 /* an idle connection gives its buffer back after this */
#define LINGER_MS 2000    /* reading what a client still sends after a closing answer */
#define LINGER_BYTES (1u << 20)

enum body_result { BODY_MORE, BODY_DONE, BODY_FAILED };

static int stopping(const struct gh_conn *c)
{
    return atomic_load_explicit(&c->loop->srv->stopping, memory_order_relaxed);
}

static void free_in(struct gh_conn *c)
{
    gh_secret_free(c->in, c->in_len);
    c->in = NULL;
    c->in_len = c->in_cap = c->scanned = 0;
}

/* Stops writing, then reads and drops what the client still sends, so that closing does
 * not reset the connection before the client read the answer. */
static int linger(struct gh_conn *c)
{
    free_in(c);
    c->state = GH_CONN_LINGER;
    c->head_ms = c->loop->now_ms + LINGER_MS; /* the linger deadline */
    c->body_left = 0;
    if (c->tr->shut != NULL)
        c->tr->shut(c);
    if (shutdown(c->fd, SHUT_WR) != 0) {
        gh_loop_close(c);
        return -1;
    }
    gh_loop_watch(c, EPOLLIN);
    return 0;
}

/* The answer is written: end the request and get ready for the next one. */
static int finish(struct gh_conn *c)
{
    struct gh_req *req = c->req;
    c->req = NULL;
    /* The head buffer goes back to the connection when it is small and nothing is buffered;
     * the access log still reads the head, so it is wiped only after the request ends. */
    char *head = NULL;
    size_t cap = 0, used = 0;
    if (c->in == NULL && req->head != NULL && req->head_cap <= IN_KEEP) {
        head = req->head;
        cap = req->head_cap;
        used = req->head_len; /* the rest was wiped when an earlier request left it */
        req->head = NULL;
    }
    gh_req_end(req, 0);
    if (head != NULL) {
        sodium_memzero(head, used);
        c->in = head;
        c->in_cap = cap;
        c->in_len = 0;
    }
    if (!c->keep_alive || stopping(c))
        return linger(c);
    c->state = GH_CONN_HEAD;
    c->head_ms = 0;
    c->scanned = 0;
    gh_loop_watch(c, EPOLLIN);
    return 0;
}

static int write_out(struct gh_conn *c)
{
    while (c->iov[0].iov_len + c->iov[1].iov_len > 0) {
        ssize_t w = c->tr->writev(c, c->iov, 2);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                gh_loop_watch(c, EPOLLOUT);
                return 0;
            }
            gh_loop_close(c);
            return -1;
        }
        c->active_ms = c->loop->now_ms;
        for (int i = 0; i < 2 && w > 0; i++) {
            size_t take = (size_t)w < c->iov[i].iov_len ? (size_t)w : c->iov[i].iov_len;
            if (take == 0)
                continue; /* an empty body may have no buffer at all */
            c->iov[i].iov_base = (char *)c->iov[i].iov_base + take;
            c->iov[i].iov_len -= take;
            w -= (ssize_t)take;
        }
    }
    return finish(c);
}

/* Writes the current request's answer. */
static int answer(struct gh_conn *c)
{
    struct gh_req *req = c->req;
    if (stopping(c))
        c->keep_alive = 0;
    size_t n = gh_req_head(req, c->keep_alive, &c->head_out, &c->head_out_cap);
    if (n == 0) {
        gh_loop_close(c);
        return -1;
    }
    c->iov[0].iov_base = c->head_out;
    c->iov[0].iov_len = n;
    c->iov[1].iov_base = req->out.ptr;
    c->iov[1].iov_len = req->method == GH_HEAD ? 0 : req->out.len;
    c->state = GH_CONN_WRITE;
    return write_out(c);
}

/* Answers a refusal the server makes itself, and closes after it. */
static int refuse(struct gh_conn *c, unsigned status)
{
    if (c->req == NULL && (c->req = gh_req_new(c)) == NULL) {
        gh_loop_close(c);
        return -1;
    }
    gh_req_refuse(c->req, status);
    c->keep_alive = 0;
    free_in(c);
    return answer(c);
}

static int body_sink(void *arg, const char *data, size_t n)
{
    struct gh_req *req = arg;
    return gh_buf_append(&req->body, data, n) != GH_OK;
}

/* Takes body bytes; *used says how many belonged to this request. */
static enum body_result body_feed(struct gh_conn *c, const char *p, size_t n, size_t *used)
{
    struct gh_req *req = c->req;
    *used = 0;
    if (c->chunk.state == GH_CHUNK_DONE) { /* no chunked body: Content-Length (maybe 0) */
        size_t take = (uint64_t)n < c->body_left ? n : (size_t)c->body_left;
        if (take > 0 && gh_buf_append(&req->body, p, take) != GH_OK)
            return BODY_FAILED;
        c->body_left -= take;
        *used = take;
        return c->body_left == 0 ? BODY_DONE : BODY_MORE;
    }
    gh_err err =
        gh_chunked_feed(&c->chunk, p, n, c->loop->srv->opts.max_header_bytes, body_sink, req, used);
    if (err == GH_ERR_TOO_LARGE)
        return BODY_FAILED;
    if (err != GH_OK) {
        c->body_left = UINT64_MAX; /* marks malformed framing for the caller */
        return BODY_FAILED;
    }
    return c->chunk.state == GH_CHUNK_DONE ? BODY_DONE : BODY_MORE;
}

static int body_failed(struct gh_conn *c)
{
    return refuse(c, c->body_left == UINT64_MAX ? 400 : 413);
}

/* Keeps bytes past the request (pipelining) as the start of the next head. */
static int keep_rest(struct gh_conn *c, const char *p, size_t n)
{
    if (n == 0)
        return 0;
    size_t need = c->in_len + n;
    if (need > c->in_cap) {
        size_t cap = need > IN_START ? need : IN_START;
        char *grown = gh_secret_grow(c->in, c->in_len, cap);
        if (grown == NULL) {
            gh_loop_close(c);
            return -1;
        }
        c->in = grown;
        c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, p, n);
    c->in_len += n;
    return 0;
}

/* The request is complete: run it on the loop or park the connection while a pool does. */
static int run(struct gh_conn *c)
{
    if (gh_req_dispatch(c->req)) {
        c->state = GH_CONN_HANDLER;
        gh_loop_watch(c, 0);
        return 0;
    }
    return answer(c);
}

static int start_body(struct gh_conn *c, const struct gh_h1_head *head, const char *rest,
                      size_t nrest)
{
    struct gh_http *srv = c->loop->srv;
    if (head->has_length && head->content_length > srv->opts.max_body)
        return refuse(c, 413); /* before a byte of it is read */
    memset(&c->chunk, 0, sizeof(c->chunk));
    if (!head->chunked)
        c->chunk.state = GH_CHUNK_DONE;
    c->body_left = head->has_length ? head->content_length : 0;
    if (head->expect_continue && head->minor == 1 && (head->chunked || c->body_left > 0)) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        struct iovec iov = {(void *)(uintptr_t)cont, sizeof(cont) - 1};
        if (c->tr->writev(c, &iov, 1) != (ssize_t)iov.iov_len) {
            gh_loop_close(c);
            return -1;
        }
    }
    c->state = GH_CONN_BODY;
    size_t used;
    enum body_result r = body_feed(c, rest, nrest, &used);
    if (r == BODY_FAILED)
        return body_failed(c);
    if (keep_rest(c, rest + used, nrest - used) != 0)
        return -1;
    return r == BODY_DONE ? run(c) : 0;
}

/* Has the token tok in the comma-separated list of header name (case-insensitive)? */
static int has_token(const struct gh_req *req, const char *name, const char *tok)
{
    const char *v = gh_req_header(req, name);
    size_t n = strlen(tok);
    while (v != NULL && *v != '\0') {
        v += strspn(v, " \t,");
        size_t len = strcspn(v, ",");
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        if (len == n && strncasecmp(v, tok, n) == 0)
            return 1;
        v += strcspn(v, ",");
    }
    return 0;
}

/* Upgrade: h2c (RFC 7540 3.2) on a request without a body, over plain TCP only. */
static int wants_h2c(const struct gh_req *req, const struct gh_h1_head *head)
{
    return req->conn->tls == NULL && head->minor == 1 && !head->chunked &&
           (!head->has_length || head->content_length == 0) &&
           gh_req_header_count(req, "Upgrade") == 1 && has_token(req, "Upgrade", "h2c") &&
           gh_req_header_count(req, "HTTP2-Settings") == 1 &&
           has_token(req, "Connection", "Upgrade") &&
           has_token(req, "Connection", "HTTP2-Settings");
}

/* A complete head is in c->in[0..end): the request takes that buffer over. */
static int start_request(struct gh_conn *c, size_t end)
{
    struct gh_http *srv = c->loop->srv;
    struct gh_req *req = gh_req_new(c);
    if (req == NULL) {
        gh_loop_close(c);
        return -1;
    }
    c->req = req;
    req->head = c->in;
    req->head_cap = c->in_cap;
    req->head_len = c->in_len;
    size_t nrest = c->in_len - end;
    c->in = NULL;
    c->in_len = c->in_cap = c->scanned = 0;
    c->head_ms = 0;

    struct gh_h1_head head;
    memset(&head, 0, sizeof(head));
    head.fields_max = gh_h1_count_lines(req->head, end);
    head.fields = gh_req_alloc(req, head.fields_max * sizeof(*head.fields));
    if (head.fields == NULL) {
        gh_loop_close(c);
        return -1;
    }
    enum gh_h1_status st =
        gh_h1_parse(req->head, end, srv->opts.max_header_bytes, srv->opts.max_header_bytes, &head);
    if (st != GH_H1_OK)
        return refuse(c, st);
    c->keep_alive = !head.keep_alive ? 0 : head.minor == 0 ? 2 : 1;
    gh_err err = gh_req_begin(req, &head);
    if (err == GH_ERR_INVALID)
        return refuse(c, 400);
    if (err != GH_OK) {
        gh_loop_close(c);
        return -1;
    }
    if (srv->opts.h2c && wants_h2c(req, &head)) {
        c->req = NULL;
        int r = gh_h2_start(c, req->head + end, nrest, req);
        if (r != 1)
            return r;
        c->req = req; /* a malformed HTTP2-Settings: served as HTTP/1.1 */
    }
    return start_body(c, &head, req->head + end, nrest);
}

/* Looks at buffered head bytes: starts a request when the head is complete. */
static int parse_buffered(struct gh_conn *c)
{
    size_t skip = 0; /* empty lines before a request line are ignored (RFC 9112 2.2) */
    while (skip < c->in_len && (c->in[skip] == '\r' || c->in[skip] == '\n') && skip < 4)
        skip++;
    if (skip > 0) {
        memmove(c->in, c->in + skip, c->in_len - skip);
        c->in_len -= skip;
        sodium_memzero(c->in + c->in_len, skip); /* buffers are wiped up to in_len only */
        c->scanned = 0;
        if (c->in_len == 0)
            return 0;
    }
    size_t end = gh_h1_head_end(c->in, c->in_len, &c->scanned);
    if (end > 0)
        return start_request(c, end);
    enum gh_h1_status st = gh_h1_check_line(c->in, c->in_len, c->loop->srv->opts.max_header_bytes);
    return st == GH_H1_OK ? 0 : refuse(c, st);
}

/* Runs every complete request already buffered (pipelining), one after the other. */
static int pump(struct gh_conn *c)
{
    while (c->state == GH_CONN_HEAD && c->in_len > 0) {
        size_t before = c->in_len;
        if (parse_buffered(c) != 0)
            return -1;
        if (c->state == GH_CONN_HEAD && c->req == NULL && c->in_len == before)
            return 0; /* an incomplete head: wait for more */
    }
    return 0;
}

static int read_head(struct gh_conn *c)
{
    struct gh_http *srv = c->loop->srv;
    if (c->in_len == c->in_cap) {
        if (c->in_cap >= srv->head_max)
            return refuse(c, memchr(c->in, '\n', c->in_len) ? 431 : 414);
        size_t cap = c->in_cap == 0 ? IN_START : c->in_cap * 2;
        cap = cap > srv->head_max ? srv->head_max : cap;
        char *grown = gh_secret_grow(c->in, c->in_len, cap);
        if (grown == NULL) {
            gh_loop_close(c);
            return -1;
        }
        c->in = grown;
        c->in_cap = cap;
    }
    ssize_t r = c->tr->read(c, c->in + c->in_len, c->in_cap - c->in_len);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (r <= 0) {
        gh_loop_close(c);
        return -1;
    }
    c->in_len += (size_t)r;
    c->active_ms = c->loop->now_ms;
    if (c->head_ms == 0)
        c->head_ms = c->loop->now_ms;
    return 0;
}

static int read_body(struct gh_conn *c)
{
    char *buf = c->loop->scratch;
    ssize_t r = c->tr->read(c, buf, 65536);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (r <= 0) {
        gh_loop_close(c);
        return -1;
    }
    c->active_ms = c->loop->now_ms;
    size_t used;
    enum body_result res = body_feed(c, buf, (size_t)r, &used);
    if (res == BODY_FAILED)
        return body_failed(c);
    if (res == BODY_MORE)
        return 0;
    if (keep_rest(c, buf + used, (size_t)r - used) != 0)
        return -1;
    return run(c);
}

static void drain(struct gh_conn *c)
{
    ssize_t r = c->tr->read(c, c->loop->scratch, 65536);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    c->body_left += r > 0 ? (uint64_t)r : 0;
    if (r <= 0 || c->body_left > LINGER_BYTES)
        gh_loop_close(c);
}

/* The handshake is done: HTTP/1.1 unless ALPN chose h2. 1 to go on reading, -1 closed. */
static int handshake(struct gh_conn *c)
{
    int r = gh_tls_handshake(c);
    if (r <= 0) {
        if (r < 0)
            gh_loop_close(c);
        return r;
    }
    c->head_ms = 0;
    c->active_ms = c->loop->now_ms;
    if (gh_tls_alpn_h2(c))
        return gh_h2_start(c, NULL, 0, NULL) < 0 ? -1 : 0;
    c->state = GH_CONN_HEAD;
    gh_loop_watch(c, EPOLLIN);
    return 1;
}

/* server.h2c: the client preface starts HTTP/2, anything else is HTTP/1.1. */
static int sniff(struct gh_conn *c)
{
    int p = gh_h2_preface(c->in, c->in_len);
    if (p == 0)
        return 0;
    if (p < 0) {
        c->state = GH_CONN_HEAD;
        return pump(c);
    }
    char *in = c->in;
    size_t n = c->in_len;
    c->in = NULL;
    c->in_len = c->in_cap = c->scanned = 0;
    c->head_ms = 0;
    int r = gh_h2_start(c, in, n, NULL);
    sodium_memzero(in, n);
    free(in);
    return r < 0 ? -1 : 0;
}

void gh_conn_readable(struct gh_conn *c)
{
    for (;;) {
        int r;
        switch (c->state) {
        case GH_CONN_PREFACE:
            r = read_head(c) == 0 ? sniff(c) : -1;
            break;
        case GH_CONN_H2:
            gh_h2_io(c);
            return;
        case GH_CONN_TLS:
            r = handshake(c);
            break;
        case GH_CONN_HEAD:
            r = read_head(c) == 0 ? pump(c) : -1;
            break;
        case GH_CONN_BODY:
            r = read_body(c) == 0 ? pump(c) : -1;
            break;
        case GH_CONN_LINGER:
            drain(c);
            return;
        case GH_CONN_HANDLER:
        case GH_CONN_WRITE:
        default:
            return;
        }
        /* OpenSSL may hold decrypted bytes that epoll cannot announce: read them now. */
        if (r < 0 || (r == 0 && (c->tls == NULL || !gh_tls_pending(c))))
            return;
    }
}

/* After an answer: the next buffered requests, then bytes OpenSSL holds. */
static void next(struct gh_conn *c)
{
    if (pump(c) == 0 && c->tls != NULL && gh_tls_pending(c))
        gh_conn_readable(c);
}

void gh_conn_writable(struct gh_conn *c)
{
    if (write_out(c) == 0)
        next(c);
}

void gh_conn_resume(struct gh_req *req)
{
    struct gh_conn *c = req->conn;
    if (c->h2 != NULL) {
        gh_h2_resume(req);
        return;
    }
    if (answer(c) == 0)
        next(c);
}

int gh_conn_tick(struct gh_conn *c, uint64_t now)
{
    const struct gh_http_opts *o = &c->loop->srv->opts;
    uint64_t idle = (uint64_t)o->connection_timeout * 1000;
    switch (c->state) {
    case GH_CONN_TLS: /* a handshake has the head's deadline from the accept on */
        if (stopping(c) || now - c->head_ms >= (uint64_t)o->header_timeout * 1000) {
            gh_loop_close(c);
            return 1;
        }
        return 0;
    case GH_CONN_H2:
        return gh_h2_tick(c, now);
    case GH_CONN_PREFACE:
    case GH_CONN_HEAD:
        if (c->head_ms == 0) { /* idle between requests */
            if (stopping(c) || now - c->active_ms >= idle) {
                gh_loop_close(c);
                return 1;
            }
            if (now - c->active_ms >= IDLE_FREE_MS && c->in_len == 0 &&
                (c->in != NULL || c->head_out != NULL)) {
                c->loop->idle_freed += c->in_cap + c->head_out_cap;
                free_in(c); /* an idle connection keeps no buffer */
                gh_secret_free(c->head_out, c->head_out_cap);
                c->head_out = NULL;
                c->head_out_cap = 0;
            }
            return 0;
        }
        /* The whole head has a deadline, whatever the trickle; silence has a shorter one. */
        if (now - c->head_ms >= (uint64_t)o->header_timeout * 1000 || now - c->active_ms >= idle)
            return refuse(c, 408) != 0;
        return 0;
    case GH_CONN_BODY:
        return now - c->active_ms >= idle ? refuse(c, 408) != 0 : 0;
    case GH_CONN_WRITE:
        if (now - c->active_ms >= idle) {
            gh_loop_close(c);
            return 1;
        }
        return 0;
    case GH_CONN_LINGER:
        if (stopping(c) || now >= c->head_ms) {
            gh_loop_close(c);
            return 1;
        }
        return 0;
    case GH_CONN_HANDLER:
        break;
    }
    return 0;
}

#ifndef GH_TESTS_H2_CONN_H
#define GH_TESTS_H2_CONN_H
/*
 * An HTTP/2 connection of http/h2.c without a socket, for test_h2.c and fuzz/fuzz_h2.c: a
 * server and a loop of the caller's own, a transport whose reads return the bytes the
 * caller queued (then EAGAIN, or end of file once told) and whose writes collect what the
 * server sends. The connection is freed by the server's own close (gh_loop_close), which
 * leaves the loop without connections.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

struct h2_peer {
    struct gh_http srv;
    struct gh_loop loop;
    const uint8_t *in; /* what the next reads return */
    size_t in_len;
    int eof;      /* reads past the input: 0 (the client left) rather than EAGAIN */
    uint8_t *out; /* what the server wrote */
    size_t out_len, out_cap;
};

struct h2_conn {
    struct gh_conn c; /* first: gh_loop_close frees the block through it */
    struct h2_peer *peer;
};

static inline struct h2_peer *h2_peer_of(struct gh_conn *c)
{
    return ((struct h2_conn *)(void *)c)->peer;
}

static ssize_t h2_peer_read(struct gh_conn *c, void *buf, size_t n)
{
    struct h2_peer *p = h2_peer_of(c);
    if (p->in_len == 0) {
        if (p->eof)
            return 0;
        errno = EAGAIN;
        return -1;
    }
    size_t m = n < p->in_len ? n : p->in_len;
    memcpy(buf, p->in, m);
    p->in += m;
    p->in_len -= m;
    return (ssize_t)m;
}

static ssize_t h2_peer_writev(struct gh_conn *c, const struct iovec *iov, int n)
{
    struct h2_peer *p = h2_peer_of(c);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (iov[i].iov_len == 0)
            continue;
        if (p->out_len + iov[i].iov_len > p->out_cap) {
            size_t cap = (p->out_len + iov[i].iov_len) * 2;
            uint8_t *grown = realloc(p->out, cap);
            if (grown == NULL) {
                errno = ENOMEM;
                return -1;
            }
            p->out = grown;
            p->out_cap = cap;
        }
        memcpy(p->out + p->out_len, iov[i].iov_base, iov[i].iov_len);
        p->out_len += iov[i].iov_len;
        total += iov[i].iov_len;
    }
    return (ssize_t)total;
}

static const struct gh_transport h2_peer_transport = {h2_peer_read, h2_peer_writev, NULL};

/* The server's limits as the tests state them; dispatch answers every request. */
static inline void h2_peer_init(struct h2_peer *p, gh_dispatch_fn dispatch)
{
    memset(p, 0, sizeof(*p));
    p->srv.dispatch = dispatch;
    p->srv.opts.max_body = 4096;
    p->srv.opts.max_header_bytes = 8192;
    p->srv.opts.header_timeout = 10;
    p->srv.opts.connection_timeout = 60;
    p->srv.opts.h2_max_streams = 8;
    p->srv.opts.h2c = 1;
    memcpy(p->srv.id_prefix, "0123456789ab", 13);
    memcpy(p->srv.fixed_headers, "X-Fixed: 1\r\n", 12);
    p->srv.fixed_len = 12;
    p->loop.srv = &p->srv;
    p->loop.epfd = -1;
    p->loop.now_ms = 1000;
    memcpy(p->loop.date, "Date: x\r\n", 10);
    p->loop.date_len = 9;
    p->loop.scratch = malloc(65536);
}

/* A new connection of the loop (NULL when out of memory). */
static inline struct gh_conn *h2_peer_connect(struct h2_peer *p)
{
    struct h2_conn *hc = calloc(1, sizeof(*hc));
    if (hc == NULL)
        return NULL;
    hc->peer = p;
    struct gh_conn *c = &hc->c;
    c->loop = &p->loop;
    c->tr = &h2_peer_transport;
    c->fd = -1;
    memcpy(c->ip, "127.0.0.1", 10);
    p->loop.conns = c;
    p->loop.nconns = 1;
    atomic_store(&p->srv.conns, 1);
    return c;
}

/* The connection is still open (the server has not closed it). */
static inline int h2_peer_open(const struct h2_peer *p)
{
    return p->loop.conns != NULL;
}

/* Queues bytes for the server and lets it read them; -1 once it closed the connection. */
static inline int h2_peer_send(struct h2_peer *p, const void *bytes, size_t n)
{
    p->in = bytes;
    p->in_len = n;
    return h2_peer_open(p) ? gh_h2_io(p->loop.conns) : -1;
}

static inline void h2_peer_free(struct h2_peer *p)
{
    if (h2_peer_open(p))
        gh_loop_close(p->loop.conns);
    while (p->loop.spare != NULL) {
        struct gh_req *r = p->loop.spare;
        p->loop.spare = r->next;
        free(r);
    }
    gh_buf_clear(&p->loop.log_line);
    free(p->loop.scratch);
    free(p->out);
}

#endif

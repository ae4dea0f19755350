#ifndef GH_HTTP_INTERNAL_H
#define GH_HTTP_INTERNAL_H

/*
 * Shared between the http/ modules only: loop.c (threads, epoll, accept, limits, timers,
 * completions), conn.c (the HTTP/1.1 protocol on a connection) and server.c (the request:
 * accessors, answers, the response head, the access log). Nothing outside http/ includes it.
 */

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "http/h1.h"
#include "http/http.h"

struct gh_conn;
struct gh_loop;

/*
 * How bytes move on a connection: a plain socket (loop.c) or TLS (tls.c); the protocol
 * above (HTTP/1.1 in conn.c, HTTP/2 in h2.c) does not know which. read and writev return
 * what read(2)/writev(2) return, with errno EAGAIN when they would block; shut (may be
 * NULL) says goodbye before the socket's write side is shut.
 */
struct gh_transport {
    ssize_t (*read)(struct gh_conn *c, void *buf, size_t n);
    ssize_t (*writev)(struct gh_conn *c, const struct iovec *iov, int n);
    void (*shut)(struct gh_conn *c);
};

enum gh_conn_state {
    GH_CONN_PREFACE, /* server.h2c: the first bytes say HTTP/2 (prior knowledge) or HTTP/1.1 */
    GH_CONN_H2,      /* HTTP/2 (h2.c) */
    GH_CONN_TLS,     /* the TLS handshake (deadline: server.header_timeout from accept) */
    GH_CONN_HEAD,    /* reading a request head (or idle between requests) */
    GH_CONN_BODY,    /* reading a request body */
    GH_CONN_HANDLER, /* the request is on a worker pool */
    GH_CONN_WRITE,   /* writing an answer */
    GH_CONN_LINGER,  /* answered and closing: reading what the client still sends */
};

struct gh_conn {
    struct gh_loop *loop;
    struct gh_conn *prev, *next; /* the loop's connections */
    const struct gh_transport *tr;
    int fd;
    enum gh_conn_state state;
    unsigned events; /* registered with epoll */
    int keep_alive;  /* the current request allows another after it */
    char ip[INET6_ADDRSTRLEN];
    uint8_t peer[16]; /* the peer address, IPv4 mapped, for the per-address limit */
    void *tls;        /* OpenSSL's SSL of a TLS connection, else NULL */
    struct gh_h2 *h2; /* the HTTP/2 session, else NULL */

    char *in; /* bytes read and not yet consumed; NULL when idle */
    size_t in_len, in_cap, scanned;
    uint64_t head_ms;   /* when the current head's first byte came (0: none yet) */
    uint64_t active_ms; /* the last read or write */

    struct gh_req *req;
    uint64_t body_left; /* of a Content-Length body */
    struct gh_chunked chunk;

    struct iovec iov[2]; /* the answer being written */
    char *head_out;
    size_t head_out_cap;
};

struct gh_loop {
    struct gh_http *srv;
    pthread_t thread;
    int epfd;
    int evfd; /* completions and stop wake-ups */
    pthread_mutex_t lock;
    struct gh_req *done; /* requests back from pools, under lock */
    struct gh_conn *conns;
    unsigned nconns;
    unsigned deferred; /* requests out on pools */
    int listening;
    uint64_t now_ms;
    char *scratch; /* body reads */
    char date[40]; /* "Date: ...\r\n" for this second */
    size_t date_len;
    time_t date_sec;
    struct gh_req *spare; /* freed requests kept for reuse */
    unsigned nspare;
    struct gh_buf log_line; /* the access-log line being built */
    char log_batch[4096];   /* access-log lines not yet written (PIPE_BUF) */
    size_t log_len;
    size_t idle_freed; /* buffer bytes idle connections gave back since the last trim */
    uint64_t next_id;  /* of this loop's next request (see request_id) */
    /* The loops lie side by side: the fields this loop writes on every request and the next
     * loop's are never on one cache line. */
    char apart[64];
};

struct gh_peers;

struct gh_http {
    gh_dispatch_fn dispatch;
    void *app;
    struct gh_http_opts opts;
    int listen_fd;
    uint16_t port;
    unsigned nloops;
    struct gh_loop *loops;
    struct gh_peers *peers;
    atomic_uint conns;  /* open connections, all loops */
    unsigned max_conns; /* sized from RLIMIT_NOFILE */
    atomic_int stopping;
    uint64_t stop_deadline_ms;
    char id_prefix[13];
    char fixed_headers[1024]; /* security headers (+HSTS), ready to copy */
    size_t fixed_len;
    size_t head_max; /* the most a request head may take */
};

/* loop.c */
uint64_t gh_loop_now_ms(void);
/** Sets the epoll interest of c (EPOLLIN, EPOLLOUT or 0). */
void gh_loop_watch(struct gh_conn *c, unsigned events);
/** Closes and frees c. */
void gh_loop_close(struct gh_conn *c);
/** Called from a pool thread when a deferred request is answered. */
void gh_loop_post(struct gh_loop *loop, struct gh_req *req);

/* conn.c */
void gh_conn_readable(struct gh_conn *c);
void gh_conn_writable(struct gh_conn *c);
/** A deferred request came back: write its answer. */
void gh_conn_resume(struct gh_req *req);
/** The timer: acts on deadlines; returns 1 when c was closed. */
int gh_conn_tick(struct gh_conn *c, uint64_t now_ms);

/* tls.c: a TLS connection (c->tls), its handshake and its transport */
struct gh_tls;
extern const struct gh_transport gh_tls_transport;
/** Gives c an SSL on the current context; GH_ERR_NOMEM when OpenSSL cannot. */
gh_err gh_tls_attach(struct gh_tls *tls, struct gh_conn *c);
void gh_tls_detach(struct gh_conn *c);
/** One handshake step: 1 done, 0 waiting (epoll interest set), -1 failed. */
int gh_tls_handshake(struct gh_conn *c);
/** The client and the server agreed on h2 through ALPN. */
int gh_tls_alpn_h2(const struct gh_conn *c);
/** Decrypted or buffered bytes are waiting in OpenSSL (epoll will not say so). */
int gh_tls_pending(const struct gh_conn *c);

/* h2.c: HTTP/2 on a connection (c->h2). Functions returning int return -1 once c is
 * closed (or, with requests still on pools, dead until they return). */
struct gh_h2;
/** Of the client preface: 1 p[0..n) is all of it, 0 a beginning of it, -1 not it. */
int gh_h2_preface(const char *p, size_t n);
/**
 * Starts HTTP/2 on c with the bytes in[0..n) already read. With upgrade (an HTTP/1.1
 * request carrying Upgrade: h2c, taken from c->req), answers 101 and serves it as stream
 * 1; 1 means its HTTP2-Settings is malformed and nothing was done (serve it as HTTP/1.1).
 */
int gh_h2_start(struct gh_conn *c, const char *in, size_t n, struct gh_req *upgrade);
/** Reads what the socket has, then writes what nghttp2 has. */
int gh_h2_io(struct gh_conn *c);
void gh_h2_resume(struct gh_req *req);
/** Deadlines and the stop's GOAWAY; returns 1 when c was closed. */
int gh_h2_tick(struct gh_conn *c, uint64_t now_ms);
int gh_h2_close(struct gh_conn *c);
/** Frees the session and its streams' requests (none may be on a pool). */
void gh_h2_free(struct gh_conn *c);

/* server.c */
/** A request for c, or NULL (out of memory). */
struct gh_req *gh_req_new(struct gh_conn *c);
/** Writes the access-log lines the loop batched. */
void gh_loop_flush_log(struct gh_loop *loop);
/** Ends a request: access log, observe, frees it (wiping its answer). */
void gh_req_end(struct gh_req *req, int aborted);
/** Fills req from a parsed head (path, query, request id, headers). GH_ERR_INVALID: 400. */
gh_err gh_req_begin(struct gh_req *req, const struct gh_h1_head *head) GH_WUR;
/** Sets the error answer for a refusal the server makes itself (400, 408, 413, 414, ...). */
void gh_req_refuse(struct gh_req *req, unsigned status);
/** Runs the dispatcher; returns 1 when the request went to a pool (answer comes later). */
int gh_req_dispatch(struct gh_req *req);
/**
 * Builds the status line and headers of req's answer into *buf (grown as needed); returns
 * the length, or 0 when out of memory.
 */
size_t gh_req_head(struct gh_req *req, int keep_alive, char **buf, size_t *cap);

#endif

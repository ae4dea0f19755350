#include "http/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sodium.h>

#include "core/log.h"
#include "core/secret.h"
#include "core/shard.h"

/*
 * The event loops: one thread per server.threads, each with its own epoll set, all
 * accepting from one listening socket (EPOLLEXCLUSIVE wakes one of them). A loop owns its
 * connections: it reads, dispatches and writes them, enforces the deadlines on a tick, and
 * takes back requests answered on worker pools through its eventfd.
 */

#define MAX_EVENTS 256
#define ACCEPT_BATCH 64
#define TICK_MS 200
#define SCRATCH_SIZE 65536
#define PEER_BUCKETS 4096
#define FD_RESERVE 64 /* descriptors kept for the store, logs, keys, outbound calls */
#define BACKLOG 4096
#define TRIM_BYTES (1u << 20)

/* ---- connections per peer address ---- */

struct peer {
    struct peer *next;
    uint8_t addr[16];
    unsigned n;
};

struct gh_peers {
    pthread_mutex_t lock;
    struct peer *buckets[PEER_BUCKETS];
};

static size_t peer_hash(const uint8_t addr[16])
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 1099511628211ull;
    return (size_t)(h % PEER_BUCKETS);
}

/* Counts one more connection from addr; 0 when that would pass limit (or no memory). */
static int peers_take(struct gh_peers *peers, const uint8_t addr[16], unsigned limit)
{
    int ok = 0;
    pthread_mutex_lock(&peers->lock);
    struct peer **slot = &peers->buckets[peer_hash(addr)], *p = *slot;
    while (p != NULL && memcmp(p->addr, addr, 16) != 0)
        p = p->next;
    if (p == NULL && (p = calloc(1, sizeof(*p))) != NULL) {
        memcpy(p->addr, addr, 16);
        p->next = *slot;
        *slot = p;
    }
    if (p != NULL && p->n < limit) {
        p->n++;
        ok = 1;
    }
    pthread_mutex_unlock(&peers->lock);
    return ok;
}

static void peers_drop(struct gh_peers *peers, const uint8_t addr[16])
{
    if (peers == NULL)
        return; /* a connection made without a listener: tests/unit/http/h2_conn.h */
    pthread_mutex_lock(&peers->lock);
    for (struct peer **pp = &peers->buckets[peer_hash(addr)]; *pp != NULL; pp = &(*pp)->next) {
        struct peer *p = *pp;
        if (memcmp(p->addr, addr, 16) == 0) {
            if (--p->n == 0) {
                *pp = p->next;
                free(p);
            }
            break;
        }
    }
    pthread_mutex_unlock(&peers->lock);
}

static void peers_free(struct gh_peers *peers)
{
    if (peers == NULL)
        return;
    for (size_t i = 0; i < PEER_BUCKETS; i++) {
        for (struct peer *p = peers->buckets[i], *next; p != NULL; p = next) {
            next = p->next;
            free(p);
        }
    }
    pthread_mutex_destroy(&peers->lock);
    free(peers);
}

/* ---- the plain transport ---- */

static ssize_t plain_read(struct gh_conn *c, void *buf, size_t n)
{
    return recv(c->fd, buf, n, 0);
}

static ssize_t plain_writev(struct gh_conn *c, const struct iovec *iov, int n)
{
    struct msghdr m = {.msg_iov = (struct iovec *)(uintptr_t)iov, .msg_iovlen = (size_t)n};
    return sendmsg(c->fd, &m, MSG_NOSIGNAL);
}

static const struct gh_transport plain = {plain_read, plain_writev, NULL};

/* ---- time ---- */

uint64_t gh_loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void update_clock(struct gh_loop *loop)
{
    loop->now_ms = gh_loop_now_ms();
    time_t now = time(NULL);
    if (now == loop->date_sec)
        return;
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(loop->date, sizeof(loop->date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    if (n > 0) {
        loop->date_len = n;
        loop->date_sec = now;
    }
}

/* ---- connections ---- */

void gh_loop_watch(struct gh_conn *c, unsigned events)
{
    if (events == c->events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    int op = c->events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    /* Parked connections leave the set: a hang-up must not spin a level-triggered loop. */
    if (epoll_ctl(c->loop->epfd, op, c->fd, &ev) == 0)
        c->events = events;
}

void gh_loop_close(struct gh_conn *c)
{
    struct gh_loop *loop = c->loop;
    struct gh_http *srv = loop->srv;
    if (c->req != NULL)
        gh_req_end(c->req, 1);
    if (c->h2 != NULL)
        gh_h2_free(c);
    if (c->tls != NULL)
        gh_tls_detach(c);
    close(c->fd);
    peers_drop(srv->peers, c->peer);
    atomic_fetch_sub(&srv->conns, 1);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        loop->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    loop->nconns--;
    gh_secret_free(c->in, c->in_len);
    gh_secret_free(c->head_out, c->head_out_cap); /* Set-Cookie: a session id */
    free(c);
}

static void peer_of(const struct sockaddr_storage *ss, struct gh_conn *c)
{
    memset(c->peer, 0, sizeof(c->peer));
    memcpy(c->ip, "-", 2);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ss;
        c->peer[10] = c->peer[11] = 0xff;
        memcpy(c->peer + 12, &sin->sin_addr, 4);
        inet_ntop(AF_INET, &sin->sin_addr, c->ip, sizeof(c->ip));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)ss;
        memcpy(c->peer, &sin6->sin6_addr, 16);
        inet_ntop(AF_INET6, &sin6->sin6_addr, c->ip, sizeof(c->ip));
    }
}

/* Over a limit the connection is closed at once: no memory, no answer to write. */
static void admit(struct gh_loop *loop, int fd, const struct sockaddr_storage *ss)
{
    struct gh_http *srv = loop->srv;
    struct gh_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    peer_of(ss, c);
    if (atomic_fetch_add(&srv->conns, 1) >= srv->max_conns) {
        atomic_fetch_sub(&srv->conns, 1);
        free(c);
        close(fd);
        return;
    }
    if (!peers_take(srv->peers, c->peer, srv->opts.max_connections_per_ip)) {
        atomic_fetch_sub(&srv->conns, 1);
        free(c);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    c->loop = loop;
    c->tr = &plain;
    c->state = GH_CONN_HEAD;
    c->active_ms = loop->now_ms;
    if (srv->opts.tls != NULL) {
        if (gh_tls_attach(srv->opts.tls, c) != GH_OK) {
            peers_drop(srv->peers, c->peer);
            atomic_fetch_sub(&srv->conns, 1);
            free(c);
            close(fd);
            return;
        }
        c->tr = &gh_tls_transport;
        c->state = GH_CONN_TLS;
        c->head_ms = loop->now_ms; /* the handshake's deadline counts from here */
    } else if (srv->opts.h2c) {
        c->state = GH_CONN_PREFACE;
    }
    c->next = loop->conns;
    if (loop->conns != NULL)
        loop->conns->prev = c;
    loop->conns = c;
    loop->nconns++;
    gh_loop_watch(c, EPOLLIN);
    if (c->events == 0)
        gh_loop_close(c);
}

static void accept_some(struct gh_loop *loop)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(loop->srv->listen_fd, (struct sockaddr *)&ss, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        if (atomic_load(&loop->srv->stopping)) {
            close(fd);
            continue;
        }
        admit(loop, fd, &ss);
    }
}

/* ---- completions from the pools ---- */

void gh_loop_post(struct gh_loop *loop, struct gh_req *req)
{
    pthread_mutex_lock(&loop->lock);
    req->next = loop->done;
    loop->done = req;
    pthread_mutex_unlock(&loop->lock);
    uint64_t one = 1;
    while (write(loop->evfd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

static void take_completions(struct gh_loop *loop)
{
    uint64_t n;
    while (read(loop->evfd, &n, sizeof(n)) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&loop->lock);
    struct gh_req *list = loop->done;
    loop->done = NULL;
    pthread_mutex_unlock(&loop->lock);
    while (list != NULL) {
        struct gh_req *req = list;
        list = req->next;
        loop->deferred--;
        gh_conn_resume(req);
    }
}

/* ---- the loop ---- */

static void tick(struct gh_loop *loop)
{
    for (struct gh_conn *c = loop->conns, *next; c != NULL; c = next) {
        next = c->next;
        gh_conn_tick(c, loop->now_ms);
    }
    /* Thousands of connections going idle leave their buffers in malloc's free lists:
     * give those pages back, so that idle connections cost their struct only. */
    if (loop->idle_freed >= TRIM_BYTES) {
        malloc_trim(0);
        loop->idle_freed = 0;
    }
}

/* Once stopping: no more accepts; after the deadline, every connection not on a pool goes. */
static int stop_step(struct gh_loop *loop)
{
    struct gh_http *srv = loop->srv;
    if (loop->listening) {
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, srv->listen_fd, NULL);
        loop->listening = 0;
    }
    if (loop->now_ms >= srv->stop_deadline_ms) {
        for (struct gh_conn *c = loop->conns, *next; c != NULL; c = next) {
            next = c->next;
            if (c->state == GH_CONN_H2)
                gh_h2_close(c);
            else if (c->state != GH_CONN_HANDLER)
                gh_loop_close(c);
        }
    }
    return loop->nconns == 0 && loop->deferred == 0;
}

static void *loop_main(void *arg)
{
    struct gh_loop *loop = arg;
    struct gh_http *srv = loop->srv;
    struct epoll_event ev[MAX_EVENTS];
    uint64_t next_tick = 0;
    gh_shard_pin((unsigned)(loop - srv->loops)); /* no two loops write the same counters */
    for (;;) {
        int stopping = atomic_load(&srv->stopping);
        if (stopping && stop_step(loop))
            break;
        gh_loop_flush_log(loop);
        int n = epoll_wait(loop->epfd, ev, MAX_EVENTS, stopping ? TICK_MS / 4 : TICK_MS);
        update_clock(loop);
        for (int i = 0; i < n; i++) {
            void *p = ev[i].data.ptr;
            if (p == NULL) {
                if (loop->listening)
                    accept_some(loop);
            } else if (p == loop) {
                take_completions(loop);
            } else {
                struct gh_conn *c = p;
                if (c->state == GH_CONN_WRITE)
                    gh_conn_writable(c);
                else
                    gh_conn_readable(c);
            }
        }
        if (loop->now_ms >= next_tick || stopping) {
            tick(loop);
            next_tick = loop->now_ms + TICK_MS;
        }
    }
    gh_loop_flush_log(loop);
    return NULL;
}

/* ---- start and stop ---- */

static int listen_on(const struct gh_http_opts *opts)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    socklen_t len;
    if (inet_pton(AF_INET, opts->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(opts->port);
        len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, opts->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(opts->port);
        len = sizeof(*sin6);
    } else {
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, BACKLOG) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The connection limit follows the descriptor limit, raised to its hard maximum. */
static unsigned size_connections(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024 - FD_RESERVE;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
        struct rlimit raised = {want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = want;
    }
    rlim_t n = rl.rlim_cur == RLIM_INFINITY ? 1048576 : rl.rlim_cur;
    return n > 2 * FD_RESERVE ? (unsigned)(n - FD_RESERVE) : (unsigned)(n / 2);
}

static void fixed_headers(struct gh_http *srv)
{
    static const char security[] =
        "X-Content-Type-Options: nosniff\r\n"
        "X-Frame-Options: DENY\r\n"
        "Permissions-Policy: accelerometer=(), camera=(), geolocation=(), microphone=(), "
        "payment=(), usb=()\r\n"
        "Cross-Origin-Opener-Policy: same-origin\r\n";
    static const char hsts[] = "Strict-Transport-Security: max-age=63072000; includeSubDomains; "
                               "preload\r\n";
    _Static_assert(sizeof(security) + sizeof(hsts) < sizeof(srv->fixed_headers), "headers fit");
    memcpy(srv->fixed_headers, security, sizeof(security) - 1);
    srv->fixed_len = sizeof(security) - 1;
    if (srv->opts.hsts || srv->opts.tls != NULL) {
        memcpy(srv->fixed_headers + srv->fixed_len, hsts, sizeof(hsts) - 1);
        srv->fixed_len += sizeof(hsts) - 1;
    }
}

static void loops_free(struct gh_http *srv)
{
    for (unsigned i = 0; i < srv->nloops; i++) {
        struct gh_loop *loop = &srv->loops[i];
        while (loop->conns != NULL)
            gh_loop_close(loop->conns);
        while (loop->spare != NULL) {
            struct gh_req *req = loop->spare;
            loop->spare = req->next;
            free(req);
        }
        if (loop->epfd >= 0)
            close(loop->epfd);
        if (loop->evfd >= 0)
            close(loop->evfd);
        free(loop->scratch);
        gh_loop_flush_log(loop);
        gh_buf_clear(&loop->log_line);
        pthread_mutex_destroy(&loop->lock);
    }
    free(srv->loops);
}

static gh_err loop_init(struct gh_http *srv, struct gh_loop *loop)
{
    loop->srv = srv;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->scratch = malloc(SCRATCH_SIZE);
    gh_buf_init(&loop->log_line, 8192);
    loop->now_ms = gh_loop_now_ms();
    update_clock(loop);
    if (loop->epfd < 0 || loop->evfd < 0 || loop->scratch == NULL)
        return GH_ERR_IO;
    struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL};
    struct epoll_event eev = {.events = EPOLLIN, .data.ptr = loop};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, srv->listen_fd, &lev) != 0 ||
        epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->evfd, &eev) != 0)
        return GH_ERR_IO;
    loop->listening = 1;
    return GH_OK;
}

static void server_free(struct gh_http *srv)
{
    loops_free(srv);
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    peers_free(srv->peers);
    free(srv);
}

/* Wakes the first n loops into their stop, waits for them and frees the server. */
static void stop_loops(struct gh_http *srv, unsigned n, unsigned timeout_s)
{
    srv->stop_deadline_ms = gh_loop_now_ms() + (uint64_t)timeout_s * 1000;
    atomic_store(&srv->stopping, 1);
    uint64_t one = 1;
    for (unsigned i = 0; i < n; i++) {
        while (write(srv->loops[i].evfd, &one, sizeof(one)) < 0 && errno == EINTR)
            ;
    }
    for (unsigned i = 0; i < n; i++)
        pthread_join(srv->loops[i].thread, NULL);
    server_free(srv);
}

gh_err gh_http_start(const struct gh_http_opts *opts, gh_dispatch_fn dispatch, void *app,
                     struct gh_http **out)
{
    struct gh_http *srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return GH_ERR_NOMEM;
    srv->dispatch = dispatch;
    srv->app = app;
    srv->opts = *opts;
    if (srv->opts.max_connections_per_ip == 0)
        srv->opts.max_connections_per_ip = UINT32_MAX;
    if (srv->opts.header_timeout == 0)
        srv->opts.header_timeout = 10;
    /* The request line and the fields are bounded separately, plus room for OWS and CRLFs. */
    srv->head_max = 2 * opts->max_header_bytes + 4096;
    srv->max_conns = size_connections();
    fixed_headers(srv);
    uint8_t rnd[6];
    static const char hex[] = "0123456789abcdef";
    randombytes_buf(rnd, sizeof(rnd));
    for (int i = 0; i < 6; i++) {
        srv->id_prefix[2 * i] = hex[rnd[i] >> 4];
        srv->id_prefix[2 * i + 1] = hex[rnd[i] & 15];
    }
    srv->peers = calloc(1, sizeof(*srv->peers));
    srv->loops = calloc(opts->threads ? opts->threads : 1, sizeof(*srv->loops));
    if (srv->peers == NULL || srv->loops == NULL) {
        free(srv->peers);
        free(srv->loops);
        free(srv);
        return GH_ERR_NOMEM;
    }
    pthread_mutex_init(&srv->peers->lock, NULL);
    srv->nloops = opts->threads ? opts->threads : 1;
    for (unsigned i = 0; i < srv->nloops; i++) {
        srv->loops[i].epfd = srv->loops[i].evfd = -1;
        srv->loops[i].next_id = i;
        pthread_mutex_init(&srv->loops[i].lock, NULL);
    }
    if ((srv->listen_fd = listen_on(opts)) < 0) {
        server_free(srv);
        return GH_ERR_IO;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    getsockname(srv->listen_fd, (struct sockaddr *)&ss, &len);
    srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    unsigned started = 0;
    gh_err err = GH_OK;
    for (unsigned i = 0; i < srv->nloops && err == GH_OK; i++) {
        if ((err = loop_init(srv, &srv->loops[i])) == GH_OK &&
            pthread_create(&srv->loops[i].thread, NULL, loop_main, &srv->loops[i]) != 0)
            err = GH_ERR_IO;
        started += err == GH_OK;
    }
    if (err != GH_OK) {
        stop_loops(srv, started, 0);
        return err;
    }
    *out = srv;
    return GH_OK;
}

uint16_t gh_http_port(const struct gh_http *srv)
{
    return srv->port;
}

void gh_http_stop(struct gh_http *srv, unsigned timeout_s)
{
    if (srv != NULL)
        stop_loops(srv, srv->nloops, timeout_s);
}

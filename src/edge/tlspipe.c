/* A TLS connection behind a socket pair (tlspipe.h). */
#include "edge/tlspipe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/log.h"

struct pipe {
    SSL *ssl;
    int tcp;   /* the TLS connection's socket */
    int local; /* our end of the pair */
};

static int ms_of(const struct timeval *t)
{
    return (int)(t->tv_sec * 1000 + t->tv_usec / 1000);
}

/* A TCP connection to host:port (an IP address) within timeout, then blocking. */
static int tcp_connect(const char *host, uint16_t port, const struct timeval *timeout)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof(*v6);
    } else {
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, (struct sockaddr *)&ss, len);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        int err = 0;
        socklen_t elen = sizeof(err);
        rc = poll(&p, 1, ms_of(timeout)) == 1 &&
                     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0
                 ? 0
                 : -1;
    }
    if (rc != 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    /* the handshake's bound; the relay then waits as long as the client does */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, sizeof(*timeout));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, timeout, sizeof(*timeout));
    return fd;
}

/* Writes all of buf to fd. */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Whether a TLS call that returned rc may be tried again once the socket is ready. */
static int again(SSL *ssl, int rc)
{
    int e = SSL_get_error(ssl, rc);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/* Writes all of buf over TLS (the socket is non-blocking: waits for it, 5 s at most). */
static int tls_write_all(struct pipe *p, const char *buf, int n)
{
    for (int tries = 0; tries < 50; tries++) {
        int w = SSL_write(p->ssl, buf, n);
        if (w > 0)
            return 0;
        if (!again(p->ssl, w))
            return -1;
        struct pollfd fd = {p->tcp, POLLIN | POLLOUT, 0};
        (void)poll(&fd, 1, 100);
    }
    return -1;
}

/* Relays between the pair and the TLS connection until either side ends. The TLS socket
 * is non-blocking, so that records without data (TLS 1.3 session tickets) never hold up
 * the other direction. */
static void *relay(void *arg)
{
    struct pipe *p = arg;
    char buf[16384];
    for (;;) {
        struct pollfd fds[2] = {{p->local, POLLIN, 0}, {p->tcp, POLLIN, 0}};
        if (SSL_pending(p->ssl) == 0 && poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents != 0) {
            ssize_t n = read(p->local, buf, sizeof(buf));
            if (n <= 0 || tls_write_all(p, buf, (int)n) != 0)
                break;
        }
        if (SSL_pending(p->ssl) > 0 || fds[1].revents != 0) {
            int n = SSL_read(p->ssl, buf, sizeof(buf));
            if (n <= 0 && again(p->ssl, n))
                continue;
            if (n <= 0 || write_all(p->local, buf, (size_t)n) != 0)
                break;
        }
    }
    SSL_free(p->ssl);
    close(p->tcp);
    close(p->local);
    free(p);
    return NULL;
}

/* A client SSL on fd checking the peer against ca_file and server_name, handshaken. */
static SSL *handshake(int fd, const char *ca_file, const char *server_name)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int ok = ca_file[0] != '\0' ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                                : SSL_CTX_set_default_verify_paths(ctx);
    if (ok == 1 && (ssl = SSL_new(ctx)) != NULL) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        struct in6_addr any;
        int is_ip = inet_pton(AF_INET, server_name, &any) == 1 ||
                    inet_pton(AF_INET6, server_name, &any) == 1;
        ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, server_name)
                   : X509_VERIFY_PARAM_set1_host(vp, server_name, 0) &&
                         SSL_set_tlsext_host_name(ssl, server_name);
        ok = ok == 1 && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1;
        if (!ok) {
            gh_log(GH_LOG_ERROR, "redis tls: handshake with %s failed: %s", server_name,
                   SSL_get_verify_result(ssl) != X509_V_OK
                       ? X509_verify_cert_error_string(SSL_get_verify_result(ssl))
                       : "no TLS answer");
            SSL_free(ssl);
            ssl = NULL;
        }
    }
    ERR_clear_error();
    SSL_CTX_free(ctx); /* the SSL keeps its own reference */
    return ssl;
}

gh_err gh_tlspipe_open(const char *host, uint16_t port, const struct timeval *timeout,
                       const char *ca_file, const char *server_name, int *fd)
{
    int pair[2];
    struct timeval none = {0, 0};
    int tcp = tcp_connect(host, port, timeout);
    if (tcp < 0)
        return GH_ERR_IO;
    SSL *ssl = handshake(tcp, ca_file, server_name[0] != '\0' ? server_name : host);
    struct pipe *p = ssl != NULL ? calloc(1, sizeof(*p)) : NULL;
    if (p == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        SSL_free(ssl);
        free(p);
        close(tcp);
        return GH_ERR_IO;
    }
    (void)setsockopt(tcp, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
    (void)setsockopt(tcp, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
    (void)fcntl(tcp, F_SETFL, fcntl(tcp, F_GETFL) | O_NONBLOCK);
    *p = (struct pipe){ssl, tcp, pair[1]};
    pthread_attr_t attr;
    pthread_t th;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &attr, relay, p);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        SSL_free(ssl);
        close(tcp);
        close(pair[0]);
        close(pair[1]);
        free(p);
        return GH_ERR_IO;
    }
    *fd = pair[0];
    return GH_OK;
}

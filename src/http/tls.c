#include "http/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/log.h"
#include "http/internal.h"

/*
 * TLS under the HTTP protocols: the context (certificate, key, versions, ciphers, ALPN),
 * its reload, and the transport a TLS connection reads and writes through. Handshakes are
 * non-blocking steps of the event loop (conn.c), bounded by server.header_timeout.
 */

#define PEM_MAX (1u << 20)
#define RECORD 16384 /* one TLS record: the most a write sends at once */

struct gh_tls {
    pthread_mutex_t lock; /* guards ctx against a reload while a connection starts */
    SSL_CTX *ctx;
    struct gh_tls_opts opts;
    char cert[4096], key[4096], ciphers[1024], suites[1024];
};

/* The first OpenSSL reason on this thread's queue (the queue is then cleared). */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r != NULL ? r : "unknown error";
}

/* ALPN: h2 when HTTP/2 is on and offered, else http/1.1; a client offering neither gets
 * no ALPN answer and speaks HTTP/1.1. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl;
    static const unsigned char both[] = "\x02h2\x08http/1.1", one[] = "\x08http/1.1";
    const struct gh_tls *tls = arg;
    const unsigned char *ours = tls->opts.http2 ? both : one;
    unsigned n = tls->opts.http2 ? sizeof(both) - 1 : sizeof(one) - 1;
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, ours, n, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* The key, read from a regular file that neither group nor others may read or write. */
static gh_err load_key(const char *path, EVP_PKEY **out, char *why, size_t n)
{
    gh_err ret = GH_ERR_IO;
    FILE *f = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0) {
        snprintf(why, n, "server.tls_key: cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > PEM_MAX) {
        snprintf(why, n, "server.tls_key: %s is not a regular file of at most 1 MiB", path);
        goto out;
    }
    if (st.st_mode & 077) {
        ret = GH_ERR_FILE_MODE;
        snprintf(why, n, "server.tls_key: %s is open to group or others: chmod 600 it", path);
        goto out;
    }
    if ((f = fdopen(fd, "rb")) == NULL)
        goto out;
    fd = -1;
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    if (key == NULL) {
        ret = GH_ERR_INVALID;
        snprintf(why, n, "server.tls_key: %s holds no readable PEM private key (%s)", path,
                 ssl_reason());
        goto out;
    }
    *out = key;
    ret = GH_OK;
out:
    if (f != NULL)
        fclose(f);
    if (fd >= 0)
        close(fd);
    return ret;
}

static gh_err load_pair(struct gh_tls *tls, SSL_CTX *ctx, char *why, size_t n)
{
    EVP_PKEY *key = NULL;
    gh_err ret = GH_ERR_INVALID;
    if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert) != 1) {
        snprintf(why, n, "server.tls_cert: %s holds no readable PEM certificate chain (%s)",
                 tls->cert, ssl_reason());
        goto out;
    }
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
        snprintf(why, n, "server.tls_cert: %s has expired", tls->cert);
        goto out;
    }
    if ((ret = load_key(tls->key, &key, why, n)) != GH_OK)
        goto out;
    ret = GH_ERR_INVALID;
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(why, n, "server.tls_key: %s does not match the certificate (%s)", tls->key,
                 ssl_reason());
        goto out;
    }
    ret = GH_OK;
out:
    EVP_PKEY_free(key);
    return ret;
}

/* A whole new context from the files and options; *out only on success. */
static gh_err build(struct gh_tls *tls, SSL_CTX **out, char *why, size_t n)
{
    gh_err ret = GH_ERR_CRYPTO;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        snprintf(why, n, "TLS: %s", ssl_reason());
        goto out;
    }
    int min = tls->opts.min == GH_TLS_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(ctx, min);
    /* No renegotiation (a CPU sink), no compression (CRIME), no server-side session cache
     * (memory per client); TLS 1.3 tickets still resume. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* Idle connections give their record buffers back; a write may return part of its
     * bytes, and is retried from a buffer that may have moved (the loop's scratch). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    ret = GH_ERR_INVALID;
    if (SSL_CTX_set_cipher_list(ctx, tls->ciphers) != 1) {
        snprintf(why, n, "server.tls_ciphers: no cipher OpenSSL knows in \"%s\" (%s)", tls->ciphers,
                 ssl_reason());
        goto out;
    }
    if (SSL_CTX_set_ciphersuites(ctx, tls->suites) != 1) {
        snprintf(why, n, "server.tls_ciphersuites: no TLS 1.3 suite OpenSSL knows in \"%s\" (%s)",
                 tls->suites, ssl_reason());
        goto out;
    }
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, tls);
    if ((ret = load_pair(tls, ctx, why, n)) != GH_OK)
        goto out;
    *out = ctx;
    ctx = NULL;
out:
    SSL_CTX_free(ctx);
    return ret;
}

static int copy(char *dst, size_t size, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= size)
        return -1;
    memcpy(dst, src != NULL ? src : "", n + 1);
    return 0;
}

gh_err gh_tls_new(const struct gh_tls_opts *opts, struct gh_tls **out, char *why, size_t why_size)
{
    struct gh_tls *tls = calloc(1, sizeof(*tls));
    if (tls == NULL)
        return GH_ERR_NOMEM;
    tls->opts = *opts;
    if (copy(tls->cert, sizeof(tls->cert), opts->cert) != 0 ||
        copy(tls->key, sizeof(tls->key), opts->key) != 0 ||
        copy(tls->ciphers, sizeof(tls->ciphers), opts->ciphers) != 0 ||
        copy(tls->suites, sizeof(tls->suites), opts->ciphersuites) != 0) {
        snprintf(why, why_size, "server.tls_*: a path or cipher list is too long");
        free(tls);
        return GH_ERR_TOO_LARGE;
    }
    gh_err err = build(tls, &tls->ctx, why, why_size);
    if (err != GH_OK) {
        free(tls);
        return err;
    }
    pthread_mutex_init(&tls->lock, NULL);
    *out = tls;
    return GH_OK;
}

gh_err gh_tls_reload(struct gh_tls *tls, char *why, size_t why_size)
{
    SSL_CTX *ctx = NULL;
    gh_err err = build(tls, &ctx, why, why_size);
    if (err != GH_OK)
        return err;
    pthread_mutex_lock(&tls->lock);
    SSL_CTX *old = tls->ctx;
    tls->ctx = ctx;
    pthread_mutex_unlock(&tls->lock);
    SSL_CTX_free(old); /* freed once its last connection ends */
    return GH_OK;
}

void gh_tls_free(struct gh_tls *tls)
{
    if (tls == NULL)
        return;
    SSL_CTX_free(tls->ctx);
    pthread_mutex_destroy(&tls->lock);
    free(tls);
}

/* ---- a connection ---- */

gh_err gh_tls_attach(struct gh_tls *tls, struct gh_conn *c)
{
    pthread_mutex_lock(&tls->lock);
    SSL *ssl = SSL_new(tls->ctx); /* holds a reference on the context */
    pthread_mutex_unlock(&tls->lock);
    if (ssl == NULL || SSL_set_fd(ssl, c->fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        return GH_ERR_NOMEM;
    }
    SSL_set_accept_state(ssl);
    c->tls = ssl;
    return GH_OK;
}

void gh_tls_detach(struct gh_conn *c)
{
    SSL_free(c->tls);
    c->tls = NULL;
}

/* Maps an SSL call's failure to errno (EAGAIN while it waits on the socket). */
static ssize_t ssl_failed(SSL *ssl, int r)
{
    int e = SSL_get_error(ssl, r);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    errno = e == SSL_ERROR_SYSCALL && errno != 0 ? errno : EPROTO;
    return -1;
}

int gh_tls_handshake(struct gh_conn *c)
{
    SSL *ssl = c->tls;
    ERR_clear_error();
    int r = SSL_do_handshake(ssl);
    if (r == 1)
        return 1;
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        gh_loop_watch(c, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
        return 0;
    }
    /* A version below the minimum, no shared cipher, a port scan: the client is told by
     * OpenSSL's alert; the log keeps the reason at debug level (scans are common). */
    gh_log(GH_LOG_DEBUG, "tls handshake with %s failed: %s", c->ip,
           e == SSL_ERROR_SSL ? ssl_reason() : "connection closed");
    ERR_clear_error();
    return -1;
}

int gh_tls_alpn_h2(const struct gh_conn *c)
{
    const unsigned char *p = NULL;
    unsigned n = 0;
    SSL_get0_alpn_selected(c->tls, &p, &n);
    return n == 2 && memcmp(p, "h2", 2) == 0;
}

int gh_tls_pending(const struct gh_conn *c)
{
    /* Decrypted bytes only: a partial record needs the socket, and epoll announces that. */
    return SSL_pending(c->tls) > 0;
}

static ssize_t tls_read(struct gh_conn *c, void *buf, size_t n)
{
    size_t got = 0;
    ERR_clear_error();
    int r = SSL_read_ex(c->tls, buf, n, &got);
    return r == 1 ? (ssize_t)got : ssl_failed(c->tls, r);
}

/* One record at most per call, gathered into the loop's scratch (SSL has no writev). */
static ssize_t tls_writev(struct gh_conn *c, const struct iovec *iov, int n)
{
    const void *src = NULL;
    size_t len = 0;
    for (int i = 0; i < n && len < RECORD; i++) {
        size_t take = iov[i].iov_len < RECORD - len ? iov[i].iov_len : RECORD - len;
        if (take == 0)
            continue;
        if (len == 0) {
            src = iov[i].iov_base; /* one piece: no copy */
        } else {
            if (src != c->loop->scratch)
                memcpy(c->loop->scratch, src, len);
            memcpy(c->loop->scratch + len, iov[i].iov_base, take);
            src = c->loop->scratch;
        }
        len += take;
    }
    if (len == 0)
        return 0;
    size_t put = 0;
    ERR_clear_error();
    int r = SSL_write_ex(c->tls, src, len, &put);
    return r == 1 ? (ssize_t)put : ssl_failed(c->tls, r);
}

/* close_notify, once, without waiting for the peer's. */
static void tls_shut(struct gh_conn *c)
{
    ERR_clear_error();
    SSL_shutdown(c->tls);
    ERR_clear_error();
}

const struct gh_transport gh_tls_transport = {tls_read, tls_writev, tls_shut};

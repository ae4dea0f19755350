#ifndef GH_HTTP_TLS_H
#define GH_HTTP_TLS_H

#include <stddef.h>
#include "core/err.h"

/*
 * The server's TLS (OpenSSL): the certificate chain and key of server.tls_cert /
 * server.tls_key, the lowest protocol version, the cipher lists, and ALPN (h2 when HTTP/2
 * is on, else http/1.1). The context is replaced as a whole on reload: connections already
 * open keep the one they started with (OpenSSL counts its references), new ones get the
 * new one, so a reload drops no connection.
 */

enum gh_tls_version {
    GH_TLS_1_2, /* TLS 1.2 and 1.3 */
    GH_TLS_1_3, /* TLS 1.3 only */
};

struct gh_tls_opts {
    const char *cert;         /* PEM: the certificate, then its chain */
    const char *key;          /* PEM private key, a regular file not open to group or others */
    enum gh_tls_version min;  /* lowest version accepted */
    const char *ciphers;      /* TLS 1.2 cipher list (OpenSSL syntax) */
    const char *ciphersuites; /* TLS 1.3 suites (OpenSSL syntax) */
    int http2;                /* offer h2 through ALPN */
};

struct gh_tls;

/**
 * Loads the certificate and key and builds a context; on failure *why says what is wrong
 * with which file (an unreadable or truncated PEM, a key mode open to others, a key that
 * does not match, an expired certificate, an unknown cipher) and *out is untouched.
 */
gh_err gh_tls_new(const struct gh_tls_opts *opts, struct gh_tls **out, char *why,
                  size_t why_size) GH_WUR GH_NONNULL(1, 2, 3);

/**
 * Reads the same files again (SIGHUP). A pair that fails any check of gh_tls_new leaves the
 * context in use unchanged and says why in *why (GH_ERR_INVALID, GH_ERR_FILE_MODE,
 * GH_ERR_IO). Safe while serving.
 */
gh_err gh_tls_reload(struct gh_tls *tls, char *why, size_t why_size) GH_WUR GH_NONNULL(1, 2);

/** Frees the server's reference; open connections keep theirs. Accepts NULL. */
void gh_tls_free(struct gh_tls *tls);

#endif

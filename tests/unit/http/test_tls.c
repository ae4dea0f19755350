/*
 * Unit tests for http/tls: the TLS configuration checks (server.tls_min_version, the
 * cipher lists, the key file's mode, a key of another certificate, a truncated or expired
 * certificate), the reload that keeps the old pair when the new one is bad, and a
 * handshake in memory (BIO pairs, no socket) for the lowest version and ALPN. The
 * certificates are made here, with OpenSSL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config/config_fixture.h"
#include "http/internal.h"
#include "http/tls.h"
#include "tmpdir.h"

struct files {
    char dir[64];
    char cert[96], key[96];   /* a good pair */
    char cert2[96], key2[96]; /* another good pair */
    char why[512];
};

/* A self-signed P-256 certificate for CN name valid from now + from_days to + to_days. */
static X509 *make_cert(EVP_PKEY *key, const char *name, long from_days, long to_days)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, key);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    return x;
}

static void write_pem(const char *path, X509 *cert, EVP_PKEY *key, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (cert != NULL)
        assert_int_equal(PEM_write_X509(f, cert), 1);
    if (key != NULL)
        assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void make_pair(const char *cert_path, const char *key_path, const char *name, long to_days)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    X509 *cert = make_cert(key, name, -1, to_days);
    write_pem(cert_path, cert, NULL, 0644);
    write_pem(key_path, NULL, key, 0600);
    X509_free(cert);
    EVP_PKEY_free(key);
}

static int setup(void **state)
{
    struct files *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-test-tls-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
    snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
    snprintf(f->cert2, sizeof(f->cert2), "%s/cert2.pem", f->dir);
    snprintf(f->key2, sizeof(f->key2), "%s/key2.pem", f->dir);
    make_pair(f->cert, f->key, "one.test", 30);
    make_pair(f->cert2, f->key2, "two.test", 30);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct files *f = *state;
    remove_tree(f->dir);
    free(f);
    return 0;
}

static struct gh_tls_opts opts_of(const char *cert, const char *key)
{
    return (struct gh_tls_opts){.cert = cert,
                                .key = key,
                                .min = GH_TLS_1_2,
                                .ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20",
                                .ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
                                .http2 = 1};
}

/* gh_tls_new's result; *why must name the problem when it fails. */
static gh_err try_new(struct files *f, const struct gh_tls_opts *o, const char *why_has)
{
    struct gh_tls *tls = NULL;
    f->why[0] = '\0';
    gh_err err = gh_tls_new(o, &tls, f->why, sizeof(f->why));
    if (err == GH_OK) {
        assert_non_null(tls);
        gh_tls_free(tls);
    } else {
        assert_null(tls);
        if (strstr(f->why, why_has) == NULL)
            fail_msg("\"%s\" does not say \"%s\"", f->why, why_has);
    }
    return err;
}

static void good_pair(void **state)
{
    struct files *f = *state;
    struct gh_tls_opts o = opts_of(f->cert, f->key);
    assert_int_equal(try_new(f, &o, ""), GH_OK);
    o.min = GH_TLS_1_3;
    assert_int_equal(try_new(f, &o, ""), GH_OK);
}

static void key_mode_checked(void **state)
{
    struct files *f = *state;
    struct gh_tls_opts o = opts_of(f->cert, f->key);
    static const mode_t open_modes[] = {0640, 0604, 0660, 0644};
    for (size_t i = 0; i < sizeof(open_modes) / sizeof(open_modes[0]); i++) {
        assert_int_equal(chmod(f->key, open_modes[i]), 0);
        assert_int_equal(try_new(f, &o, "chmod 600"), GH_ERR_FILE_MODE);
    }
    assert_int_equal(chmod(f->key, 0400), 0);
    assert_int_equal(try_new(f, &o, ""), GH_OK);
}

static void pair_mismatch(void **state)
{
    struct files *f = *state;
    struct gh_tls_opts o = opts_of(f->cert, f->key2);
    assert_int_equal(try_new(f, &o, "does not match the certificate"), GH_ERR_INVALID);
}

static void unreadable_files(void **state)
{
    struct files *f = *state;
    char path[128];
    /* a certificate cut in half */
    FILE *in = fopen(f->cert, "r");
    char pem[4096];
    size_t n = fread(pem, 1, sizeof(pem), in);
    fclose(in);
    snprintf(path, sizeof(path), "%s/half.pem", f->dir);
    FILE *out = fopen(path, "w");
    fwrite(pem, 1, n / 2, out);
    fclose(out);
    struct gh_tls_opts o = opts_of(path, f->key);
    assert_int_equal(try_new(f, &o, "no readable PEM certificate"), GH_ERR_INVALID);
    /* a key file holding a certificate, and one that is not there */
    o = opts_of(f->cert, f->cert2);
    assert_int_equal(chmod(f->cert2, 0600), 0);
    assert_int_equal(try_new(f, &o, "no readable PEM private key"), GH_ERR_INVALID);
    snprintf(path, sizeof(path), "%s/missing.pem", f->dir);
    o = opts_of(f->cert, path);
    assert_int_equal(try_new(f, &o, "cannot open"), GH_ERR_IO);
}

static void expired_certificate(void **state)
{
    struct files *f = *state;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = make_cert(key, "old.test", -30, -1);
    write_pem(f->cert, cert, NULL, 0644);
    write_pem(f->key, NULL, key, 0600);
    X509_free(cert);
    EVP_PKEY_free(key);
    struct gh_tls_opts o = opts_of(f->cert, f->key);
    assert_int_equal(try_new(f, &o, "has expired"), GH_ERR_INVALID);
}

static void cipher_lists(void **state)
{
    struct files *f = *state;
    struct gh_tls_opts o = opts_of(f->cert, f->key);
    o.ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384";
    assert_int_equal(try_new(f, &o, ""), GH_OK);
    o.ciphers = "NO-SUCH-CIPHER";
    assert_int_equal(try_new(f, &o, "server.tls_ciphers"), GH_ERR_INVALID);
    o = opts_of(f->cert, f->key);
    o.ciphersuites = "TLS_NO_SUCH_SUITE";
    assert_int_equal(try_new(f, &o, "server.tls_ciphersuites"), GH_ERR_INVALID);
}

static void min_version_config(void **state)
{
    (void)state;
    struct gh_config c;
    env_accepts("GATEHOUSE_SERVER_TLS_MIN_VERSION=1.3", &c);
    assert_int_equal(c.tls_min_version, GH_TLS_1_3);
    env_accepts("GATEHOUSE_SERVER_TLS_MIN_VERSION=1.2", &c);
    assert_int_equal(c.tls_min_version, GH_TLS_1_2);
    struct gh_config d;
    char err[512];
    static char *const none[] = {NULL};
    assert_int_equal(load(&d, NULL, none, err, sizeof(err)), GH_OK);
    assert_int_equal(d.tls_min_version, GH_TLS_1_2); /* the default */
    for (const char *const *bad =
             (const char *const[]){"GATEHOUSE_SERVER_TLS_MIN_VERSION=1.1",
                                   "GATEHOUSE_SERVER_TLS_MIN_VERSION=1.0",
                                   "GATEHOUSE_SERVER_TLS_MIN_VERSION=tls1.3", NULL};
         *bad != NULL; bad++) {
        char *env[] = {(char *)*bad, NULL};
        assert_int_equal(load(&d, NULL, env, err, sizeof(err)), GH_ERR_INVALID);
        assert_non_null(strstr(err, "1.2 or 1.3")); /* what is accepted */
    }
}

/* ---- handshakes in memory ---- */

/* A connection of the server's context, its SSL on one end of a BIO pair. */
struct hs {
    struct gh_conn conn;
    SSL_CTX *client_ctx;
    SSL *client;
};

static void hs_open(struct hs *h, struct gh_tls *tls, int client_max, const char *alpn)
{
    memset(h, 0, sizeof(*h));
    h->conn.fd = -1;
    assert_int_equal(gh_tls_attach(tls, &h->conn), GH_OK);
    BIO *a = NULL, *b = NULL;
    assert_int_equal(BIO_new_bio_pair(&a, 0, &b, 0), 1);
    SSL_set_bio(h->conn.tls, a, a);
    h->client_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(h->client_ctx, client_max);
    h->client = SSL_new(h->client_ctx);
    SSL_set_bio(h->client, b, b);
    SSL_set_connect_state(h->client);
    if (alpn != NULL)
        SSL_set_alpn_protos(h->client, (const unsigned char *)alpn, (unsigned)strlen(alpn));
}

/* Steps both ends until the handshake ends: 1 done, 0 refused. */
static int hs_run(struct hs *h)
{
    for (int i = 0; i < 20; i++) {
        int c = SSL_do_handshake(h->client);
        int s = SSL_do_handshake(h->conn.tls);
        if (c == 1 && s == 1)
            return 1;
        int ce = SSL_get_error(h->client, c), se = SSL_get_error(h->conn.tls, s);
        if ((c != 1 && ce != SSL_ERROR_WANT_READ) || (s != 1 && se != SSL_ERROR_WANT_READ))
            return 0;
    }
    return 0;
}

static void hs_close(struct hs *h)
{
    SSL_free(h->client);
    SSL_CTX_free(h->client_ctx);
    gh_tls_detach(&h->conn);
}

static X509 *read_cert(const char *path)
{
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    X509 *x = PEM_read_X509(in, NULL, NULL, NULL);
    fclose(in);
    assert_non_null(x);
    return x;
}

/* The certificate the client was shown is the one in path. */
static void shown(struct hs *h, const char *path)
{
    X509 *want = read_cert(path);
    X509 *got = SSL_get1_peer_certificate(h->client);
    assert_non_null(got);
    assert_int_equal(X509_cmp(want, got), 0);
    X509_free(got);
    X509_free(want);
}

static void handshake_versions_and_alpn(void **state)
{
    struct files *f = *state;
    struct gh_tls *tls = NULL;
    struct gh_tls_opts o = opts_of(f->cert, f->key);
    assert_int_equal(gh_tls_new(&o, &tls, f->why, sizeof(f->why)), GH_OK);
    struct hs h;
    hs_open(&h, tls, TLS1_2_VERSION, "\x02h2\x08http/1.1");
    assert_int_equal(hs_run(&h), 1);
    assert_true(gh_tls_alpn_h2(&h.conn));
    shown(&h, f->cert);
    hs_close(&h);
    hs_open(&h, tls, TLS1_1_VERSION, NULL); /* below the lowest */
    assert_int_equal(hs_run(&h), 0);
    hs_close(&h);
    gh_tls_free(tls);

    o.min = GH_TLS_1_3;
    o.http2 = 0;
    assert_int_equal(gh_tls_new(&o, &tls, f->why, sizeof(f->why)), GH_OK);
    hs_open(&h, tls, TLS1_2_VERSION, NULL);
    assert_int_equal(hs_run(&h), 0);
    hs_close(&h);
    hs_open(&h, tls, TLS1_3_VERSION, "\x02h2\x08http/1.1");
    assert_int_equal(hs_run(&h), 1);
    assert_false(gh_tls_alpn_h2(&h.conn)); /* HTTP/2 off: http/1.1 */
    hs_close(&h);
    gh_tls_free(tls);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
    assert_int_equal(chmod(to, mode), 0);
}

/* SIGHUP's reload: a good new pair serves new connections while one opened before keeps
 * the old; a bad new pair (another key, an open mode) leaves the pair in use. */
static void reload(void **state)
{
    struct files *f = *state;
    char one_cert[128], one_key[128];
    snprintf(one_cert, sizeof(one_cert), "%s/one-cert.pem", f->dir);
    snprintf(one_key, sizeof(one_key), "%s/one-key.pem", f->dir);
    copy_file(f->cert, one_cert, 0644);
    copy_file(f->key, one_key, 0600);
    struct gh_tls *tls = NULL;
    struct gh_tls_opts o = opts_of(f->cert, f->key);
    assert_int_equal(gh_tls_new(&o, &tls, f->why, sizeof(f->why)), GH_OK);
    struct hs before;
    hs_open(&before, tls, TLS1_3_VERSION, NULL);

    copy_file(f->cert2, f->cert, 0644); /* the new certificate, the old key: a mismatch */
    assert_int_equal(gh_tls_reload(tls, f->why, sizeof(f->why)), GH_ERR_INVALID);
    assert_non_null(strstr(f->why, "does not match"));
    struct hs h;
    hs_open(&h, tls, TLS1_3_VERSION, NULL);
    assert_int_equal(hs_run(&h), 1);
    shown(&h, one_cert);
    hs_close(&h);

    copy_file(f->key2, f->key, 0644); /* the new key, open to others */
    assert_int_equal(gh_tls_reload(tls, f->why, sizeof(f->why)), GH_ERR_FILE_MODE);
    hs_open(&h, tls, TLS1_3_VERSION, NULL);
    assert_int_equal(hs_run(&h), 1);
    shown(&h, one_cert);
    hs_close(&h);

    assert_int_equal(chmod(f->key, 0600), 0);
    assert_int_equal(gh_tls_reload(tls, f->why, sizeof(f->why)), GH_OK);
    hs_open(&h, tls, TLS1_3_VERSION, NULL);
    assert_int_equal(hs_run(&h), 1);
    shown(&h, f->cert2);
    hs_close(&h);

    assert_int_equal(hs_run(&before), 1); /* opened before the reload: the old pair */
    shown(&before, one_cert);
    hs_close(&before);
    gh_tls_free(tls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(good_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(key_mode_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(pair_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_files, setup, teardown),
        cmocka_unit_test_setup_teardown(expired_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(cipher_lists, setup, teardown),
        cmocka_unit_test(min_version_config),
        cmocka_unit_test_setup_teardown(handshake_versions_and_alpn, setup, teardown),
        cmocka_unit_test_setup_teardown(reload, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

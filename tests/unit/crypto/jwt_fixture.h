#ifndef GH_TESTS_CRYPTO_JWT_FIXTURE_H
#define GH_TESTS_CRYPTO_JWT_FIXTURE_H
/* What the crypto/jwt tests share (test_jwt.c, test_jwt_forgery.c): three keys in one ring
 * made once per binary, the standard claims, and the forging of tokens header by header. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "core/secure_json.h"
#include "crypto/b64url.h"
#include "crypto/jwt.h"
#include "crypto/sigkey.h"
#include "tmpdir.h"

#define NOW 1700000000
#define ISS "https://id.example.com"
#define AUD "api.example.com"
#define SUB "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
#define JTI "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"
#define ORG "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d"

static const struct gh_jwt_expect EXPECT = {ISS, AUD, NOW, 30};

/* One RSA-2048 key (with its OpenSSL public half for the HS256 confusion tests), one
 * ES256, one EdDSA, shared by the tests: key generation is the slow part. */
struct fixture {
    struct gh_keyring *ring;
    struct gh_sigkey *rsa, *ec, *ed; /* owned by ring */
    EVP_PKEY *rsa_pub;
};
static struct fixture fx;
static char dir[] = "/tmp/gh-test-jwt-XXXXXX";

static inline struct gh_sigkey *key_from_evp(EVP_PKEY *pkey)
{
    char path[256];
    static int n;
    snprintf(path, sizeof(path), "%s/k%d.pem", dir, n++);
    FILE *f = fopen(path, "w");
    if (f == NULL || PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1)
        return NULL;
    fclose(f);
    chmod(path, 0600);
    struct gh_sigkey *k = NULL;
    return gh_sigkey_load(path, &k) == GH_OK ? k : NULL;
}

static inline int setup(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL || gh_keyring_new(&fx.ring) != GH_OK)
        return -1;
    fx.rsa_pub = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    fx.rsa = fx.rsa_pub ? key_from_evp(fx.rsa_pub) : NULL;
    if (fx.rsa == NULL || gh_sigkey_generate(GH_ALG_ES256, 0, &fx.ec) != GH_OK ||
        gh_sigkey_generate(GH_ALG_EDDSA, 0, &fx.ed) != GH_OK)
        return -1;
    if (gh_keyring_add(fx.ring, fx.rsa, 1) != GH_OK || gh_keyring_add(fx.ring, fx.ec, 0) != GH_OK ||
        gh_keyring_add(fx.ring, fx.ed, 0) != GH_OK)
        return -1;
    return 0;
}

static inline int teardown(void **state)
{
    (void)state;
    gh_keyring_free(fx.ring);
    EVP_PKEY_free(fx.rsa_pub);
    return remove_tree(dir) == 0 ? 0 : -1;
}

static inline struct gh_claims claims(void)
{
    struct gh_claims c;
    memset(&c, 0, sizeof(c));
    snprintf(c.iss, sizeof(c.iss), "%s", ISS);
    snprintf(c.aud, sizeof(c.aud), "%s", AUD);
    snprintf(c.sub, sizeof(c.sub), "%s", SUB);
    snprintf(c.jti, sizeof(c.jti), "%s", JTI);
    snprintf(c.org, sizeof(c.org), "%s", ORG);
    snprintf(c.roles, sizeof(c.roles), "%s", "admin,member");
    snprintf(c.perms, sizeof(c.perms), "%s", "users:read users:write");
    c.iat = NOW;
    c.nbf = NOW;
    c.exp = NOW + 900;
    c.epoch = 7;
    return c;
}

/* Verifies token against the shared ring and EXPECT. */
static inline gh_err verify_text(const char *token, struct gh_claims *out)
{
    return gh_jwt_verify(fx.ring, token, strlen(token), &EXPECT, out);
}

static inline gh_err verify(const char *token)
{
    struct gh_claims out;
    return verify_text(token, &out);
}

static inline void append_b64(char *dst, size_t size, const void *data, size_t n)
{
    size_t used = strlen(dst), len = 0;
    assert_int_equal(gh_b64url_encode(data, n, dst + used, size - used, &len), GH_OK);
}

static inline void append_dot(char *dst, size_t size)
{
    size_t used = strlen(dst);
    assert_true(used + 1 < size);
    dst[used] = '.';
    dst[used + 1] = '\0';
}

/* header.claims.signature with the signature made by key (NULL: empty signature). */
static inline char *forge(const char *header, const char *body, const struct gh_sigkey *key)
{
    size_t size = 3 * GH_JWT_MAX;
    char *t = calloc(1, size);
    assert_non_null(t);
    append_b64(t, size, header, strlen(header));
    append_dot(t, size);
    append_b64(t, size, body, strlen(body));
    if (key != NULL) {
        uint8_t sig[GH_SIG_MAX];
        size_t n = 0;
        assert_int_equal(gh_sigkey_sign(key, (const uint8_t *)t, strlen(t), sig, sizeof(sig), &n),
                         GH_OK);
        append_dot(t, size);
        append_b64(t, size, sig, n);
    } else {
        append_dot(t, size);
    }
    return t;
}

/* header.claims.HMAC-SHA256(secret) */
static inline char *forge_hs256(const char *header, const char *body, const void *secret, size_t n)
{
    char *t = forge(header, body, NULL);
    uint8_t mac[32];
    unsigned mac_len = 0;
    assert_non_null(
        HMAC(EVP_sha256(), secret, (int)n, (const uint8_t *)t, strlen(t) - 1, mac, &mac_len));
    append_b64(t, 3 * GH_JWT_MAX, mac, mac_len);
    return t;
}

static char header_buf[512];
/* {"alg":alg,"kid":kid of key,"typ":"at+jwt"} */
static inline const char *header(const char *alg, const struct gh_sigkey *key)
{
    snprintf(header_buf, sizeof(header_buf), "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
             alg, gh_sigkey_kid(key));
    return header_buf;
}

static char body_buf[2 * GH_JWT_MAX];
/* The standard claims; each argument replaces one raw JSON value (NULL: the default, "-":
 * leave the claim out); extra is appended inside the object. */
static inline const char *body(const char *iss, const char *aud, const char *exp, const char *nbf,
                               const char *iat, const char *extra)
{
    char *p = body_buf;
    size_t left = sizeof(body_buf);
    int n = snprintf(p, left, "{\"sub\":\"" SUB "\",\"jti\":\"" JTI "\",\"org\":\"" ORG "\"");
    const char *names[] = {"iss", "aud", "exp", "nbf", "iat"};
    const char *vals[] = {iss ? iss : "\"" ISS "\"", aud ? aud : "\"" AUD "\"",
                          exp ? exp : "1700000900", nbf ? nbf : "1700000000",
                          iat ? iat : "1700000000"};
    for (size_t i = 0; i < 5; i++) {
        if (strcmp(vals[i], "-") != 0)
            n += snprintf(p + n, left - (size_t)n, ",\"%s\":%s", names[i], vals[i]);
    }
    snprintf(p + n, left - (size_t)n, "%s%s}", extra ? "," : "", extra ? extra : "");
    return body_buf;
}

/* A token signed by key with the given body and a proper header. */
static inline gh_err verify_body(const struct gh_sigkey *key, const char *b)
{
    char *t = forge(header(gh_alg_name(gh_sigkey_alg(key)), key), b, key);
    gh_err err = verify(t);
    free(t);
    return err;
}

#endif

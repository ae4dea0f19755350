/* Unit tests for crypto/jwt: the keyring, sign/verify round trips and every forgery we know. */
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

static struct gh_sigkey *key_from_evp(EVP_PKEY *pkey)
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

static int setup(void **state)
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

static int teardown(void **state)
{
    (void)state;
    gh_keyring_free(fx.ring);
    EVP_PKEY_free(fx.rsa_pub);
    return remove_tree(dir) == 0 ? 0 : -1;
}

static struct gh_claims claims(void)
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
static gh_err verify_text(const char *token, struct gh_claims *out)
{
    return gh_jwt_verify(fx.ring, token, strlen(token), &EXPECT, out);
}

static gh_err verify(const char *token)
{
    struct gh_claims out;
    return verify_text(token, &out);
}

static void append_b64(char *dst, size_t size, const void *data, size_t n)
{
    size_t used = strlen(dst), len = 0;
    assert_int_equal(gh_b64url_encode(data, n, dst + used, size - used, &len), GH_OK);
}

static void append_dot(char *dst, size_t size)
{
    size_t used = strlen(dst);
    assert_true(used + 1 < size);
    dst[used] = '.';
    dst[used + 1] = '\0';
}

/* header.claims.signature with the signature made by key (NULL: empty signature). */
static char *forge(const char *header, const char *body, const struct gh_sigkey *key)
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
static char *forge_hs256(const char *header, const char *body, const void *secret, size_t n)
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
static const char *header(const char *alg, const struct gh_sigkey *key)
{
    snprintf(header_buf, sizeof(header_buf), "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
             alg, gh_sigkey_kid(key));
    return header_buf;
}

static char body_buf[2 * GH_JWT_MAX];
/* The standard claims; each argument replaces one raw JSON value (NULL: the default, "-":
 * leave the claim out); extra is appended inside the object. */
static const char *body(const char *iss, const char *aud, const char *exp, const char *nbf,
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
static gh_err verify_body(const struct gh_sigkey *key, const char *b)
{
    char *t = forge(header(gh_alg_name(gh_sigkey_alg(key)), key), b, key);
    gh_err err = verify(t);
    free(t);
    return err;
}

/* ---- round trips ---- */

static void round_trip(const struct gh_sigkey *key)
{
    struct gh_keyring *r = NULL;
    struct gh_sigkey *k = NULL;
    /* a ring whose active key is key: sign with it, verify with the shared ring */
    assert_int_equal(gh_keyring_new(&r), GH_OK);
    char path[256];
    snprintf(path, sizeof(path), "%s/rt-%s.pem", dir, gh_alg_name(gh_sigkey_alg(key)));
    assert_int_equal(gh_sigkey_save(key, path), GH_OK);
    assert_int_equal(gh_sigkey_load(path, &k), GH_OK);
    assert_int_equal(gh_keyring_add(r, k, 1), GH_OK);

    struct gh_claims c = claims(), out;
    char *token = NULL;
    assert_int_equal(gh_jwt_sign(r, &c, &token), GH_OK);
    assert_true(strlen(token) <= GH_JWT_MAX);

    /* the exact header */
    const char *dot = strchr(token, '.');
    char hdr[256];
    size_t n = 0;
    assert_int_equal(
        gh_b64url_decode(token, (size_t)(dot - token), (uint8_t *)hdr, sizeof(hdr) - 1, &n), GH_OK);
    hdr[n] = '\0';
    char want[256];
    snprintf(want, sizeof(want), "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
             gh_alg_name(gh_sigkey_alg(key)), gh_sigkey_kid(key));
    assert_string_equal(hdr, want);

    /* compact claims with arrays */
    const char *dot2 = strchr(dot + 1, '.');
    char body_text[1024];
    assert_int_equal(gh_b64url_decode(dot + 1, (size_t)(dot2 - dot - 1), (uint8_t *)body_text,
                                      sizeof(body_text) - 1, &n),
                     GH_OK);
    body_text[n] = '\0';
    assert_string_equal(body_text,
                        "{\"iss\":\"" ISS "\",\"sub\":\"" SUB "\",\"aud\":\"" AUD
                        "\",\"exp\":1700000900,\"iat\":1700000000,\"nbf\":1700000000,\"jti\":\"" JTI
                        "\",\"org\":\"" ORG "\",\"roles\":[\"admin\",\"member\"],\"perms\":["
                        "\"users:read\",\"users:write\"],\"gh_ep\":7}");

    memset(&out, 0x55, sizeof(out));
    assert_int_equal(verify_text(token, &out), GH_OK);
    assert_string_equal(out.iss, ISS);
    assert_string_equal(out.aud, AUD);
    assert_string_equal(out.sub, SUB);
    assert_string_equal(out.jti, JTI);
    assert_string_equal(out.org, ORG);
    assert_string_equal(out.roles, "admin,member");
    assert_string_equal(out.perms, "users:read users:write");
    assert_int_equal(out.iat, NOW);
    assert_int_equal(out.nbf, NOW);
    assert_int_equal(out.exp, NOW + 900);
    assert_int_equal(out.epoch, 7);

    /* empty roles and perms travel as empty arrays */
    c.roles[0] = '\0';
    c.perms[0] = '\0';
    free(token);
    assert_int_equal(gh_jwt_sign(r, &c, &token), GH_OK);
    assert_int_equal(verify_text(token, &out), GH_OK);
    assert_string_equal(out.roles, "");
    assert_string_equal(out.perms, "");
    assert_int_equal(out.org_epoch, 0); /* absent while 0: the body above has no gh_oep */

    /* the user's epoch in the org travels once the user has been removed from it */
    c.org_epoch = 3;
    free(token);
    assert_int_equal(gh_jwt_sign(r, &c, &token), GH_OK);
    assert_int_equal(verify_text(token, &out), GH_OK);
    assert_int_equal(out.org_epoch, 3);
    free(token);
    gh_keyring_free(r);
}

static void round_trip_rs256(void **state)
{
    (void)state;
    round_trip(fx.rsa);
}

static void round_trip_es256(void **state)
{
    (void)state;
    round_trip(fx.ec);
}

static void round_trip_eddsa(void **state)
{
    (void)state;
    round_trip(fx.ed);
}

static void optional_claims(void **state)
{
    (void)state;
    struct gh_claims out;
    char *t = forge(header("EdDSA", fx.ed), body(NULL, NULL, NULL, NULL, NULL, NULL), fx.ed);
    assert_int_equal(verify_text(t, &out), GH_OK);
    assert_string_equal(out.roles, "");
    assert_string_equal(out.perms, "");
    assert_int_equal(out.epoch, 0);
    assert_int_equal(out.org_epoch, 0);
    free(t);
}

static void sign_without_active_key(void **state)
{
    (void)state;
    struct gh_keyring *r = NULL;
    assert_int_equal(gh_keyring_new(&r), GH_OK);
    struct gh_claims c = claims();
    char *t = NULL;
    assert_int_equal(gh_jwt_sign(r, &c, &t), GH_ERR_INVALID);
    assert_null(t);
    assert_null(gh_keyring_active(r));
    gh_keyring_free(r);
    gh_keyring_free(NULL);
}

/* ---- algorithm confusion ---- */

static void rejects_alg_none_unsigned(void **state)
{
    (void)state;
    char *t = forge(header("none", fx.rsa), body(NULL, NULL, NULL, NULL, NULL, NULL), NULL);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
    /* and without a kid at all */
    t = forge("{\"alg\":\"none\",\"typ\":\"at+jwt\"}", body(NULL, NULL, NULL, NULL, NULL, NULL),
              NULL);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
}

static void rejects_alg_none_with_signature(void **state)
{
    (void)state;
    static const char *names[] = {"none", "None", "NONE"};
    for (size_t i = 0; i < 3; i++) {
        char *t = forge(header(names[i], fx.ed), body(NULL, NULL, NULL, NULL, NULL, NULL), fx.ed);
        assert_int_equal(verify(t), GH_ERR_AUTH);
        free(t);
    }
}

static void rejects_hs256_with_public_key_pem(void **state)
{
    (void)state;
    BIO *bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, fx.rsa_pub), 1);
    char *pem = NULL;
    long n = BIO_get_mem_data(bio, &pem);
    assert_true(n > 0);
    const char *b = body(NULL, NULL, NULL, NULL, NULL, NULL);
    char *t = forge_hs256(header("HS256", fx.rsa), b, pem, (size_t)n);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
    /* the header naming the key's own alg does not help an HMAC either */
    t = forge_hs256(header("RS256", fx.rsa), b, pem, (size_t)n);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
    BIO_free(bio);
}

static void rejects_hs256_with_jwk_secret(void **state)
{
    (void)state;
    json_t *jwk = NULL;
    assert_int_equal(gh_sigkey_public_jwk(fx.rsa, &jwk), GH_OK);
    char *text = json_dumps(jwk, JSON_COMPACT);
    assert_non_null(text);
    char *jwks = NULL;
    assert_int_equal(gh_keyring_jwks(fx.ring, &jwks), GH_OK);
    const char *b = body(NULL, NULL, NULL, NULL, NULL, NULL);
    static const char *algs[] = {"HS256", "HS384", "HS512"};
    for (size_t i = 0; i < 3; i++) {
        char *t = forge_hs256(header(algs[i], fx.rsa), b, text, strlen(text));
        assert_int_equal(verify(t), GH_ERR_AUTH);
        free(t);
        t = forge_hs256(header(algs[i], fx.rsa), b, jwks, strlen(jwks));
        assert_int_equal(verify(t), GH_ERR_AUTH);
        free(t);
    }
    free(jwks);
    gh_secure_json_free(text);
    json_decref(jwk);
}

static void rejects_alg_differing_from_key(void **state)
{
    (void)state;
    const char *b = body(NULL, NULL, NULL, NULL, NULL, NULL);
    /* right key, right signature, header names another (or a mis-cased) algorithm */
    static const char *rsa_algs[] = {"ES256", "EdDSA", "PS256", "RS384", "RS512", "rs256"};
    for (size_t i = 0; i < sizeof(rsa_algs) / sizeof(rsa_algs[0]); i++) {
        char *t = forge(header(rsa_algs[i], fx.rsa), b, fx.rsa);
        assert_int_equal(verify(t), GH_ERR_AUTH);
        free(t);
    }
    /* EC key's kid, header says RS256, signed by the RSA key */
    char *t = forge(header("RS256", fx.ec), b, fx.rsa);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
    t = forge(header("Ed25519", fx.ed), b, fx.ed);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
    /* alg of the wrong type */
    char h[256];
    snprintf(h, sizeof(h), "{\"alg\":[\"EdDSA\"],\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
             gh_sigkey_kid(fx.ed));
    t = forge(h, b, fx.ed);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
}

/* ---- key selection ---- */

static void rejects_missing_kid(void **state)
{
    (void)state;
    char *t = forge("{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\"}",
                    body(NULL, NULL, NULL, NULL, NULL, NULL), fx.ed);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
    t = forge("{\"alg\":\"EdDSA\",\"kid\":null,\"typ\":\"at+jwt\"}",
              body(NULL, NULL, NULL, NULL, NULL, NULL), fx.ed);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
}

static void rejects_unknown_kid(void **state)
{
    (void)state;
    const char *b = body(NULL, NULL, NULL, NULL, NULL, NULL);
    char *t = forge("{\"alg\":\"EdDSA\",\"kid\":\"nope\",\"typ\":\"at+jwt\"}", b, fx.ed);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
    /* a prefix of a real kid, and a real kid with a NUL-free suffix */
    char h[256];
    snprintf(h, sizeof(h), "{\"alg\":\"EdDSA\",\"kid\":\"%.42s\",\"typ\":\"at+jwt\"}",
             gh_sigkey_kid(fx.ed));
    t = forge(h, b, fx.ed);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
    snprintf(h, sizeof(h), "{\"alg\":\"EdDSA\",\"kid\":\"%sA\",\"typ\":\"at+jwt\"}",
             gh_sigkey_kid(fx.ed));
    t = forge(h, b, fx.ed);
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
}

static void rejects_other_key_with_same_kid(void **state)
{
    (void)state;
    static const enum gh_alg algs[] = {GH_ALG_RS256, GH_ALG_ES256, GH_ALG_EDDSA};
    const struct gh_sigkey *ours[] = {fx.rsa, fx.ec, fx.ed};
    for (size_t i = 0; i < 3; i++) {
        struct gh_sigkey *other = NULL;
        assert_int_equal(gh_sigkey_generate(algs[i], 2048, &other), GH_OK);
        char *t = forge(header(gh_alg_name(algs[i]), ours[i]),
                        body(NULL, NULL, NULL, NULL, NULL, NULL), other);
        assert_int_equal(verify(t), GH_ERR_AUTH);
        free(t);
        gh_sigkey_free(other);
    }
}

static void rejects_flipped_signature_bit(void **state)
{
    (void)state;
    const struct gh_sigkey *keys[] = {fx.rsa, fx.ec, fx.ed};
    for (size_t i = 0; i < 3; i++) {
        char *t = forge(header(gh_alg_name(gh_sigkey_alg(keys[i])), keys[i]),
                        body(NULL, NULL, NULL, NULL, NULL, NULL), keys[i]);
        assert_int_equal(verify(t), GH_OK);
        char *sig = strrchr(t, '.') + 1;
        uint8_t raw[GH_SIG_MAX];
        size_t n = 0;
        assert_int_equal(gh_b64url_decode(sig, strlen(sig), raw, sizeof(raw), &n), GH_OK);
        for (size_t bit = 0; bit < n * 8; bit += 61) {
            raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            *sig = '\0';
            append_b64(t, 3 * GH_JWT_MAX, raw, n);
            assert_int_equal(verify(t), GH_ERR_AUTH);
            raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* a truncated signature, an empty one */
        *sig = '\0';
        append_b64(t, 3 * GH_JWT_MAX, raw, n - 1);
        assert_int_equal(verify(t), GH_ERR_AUTH);
        *sig = '\0';
        assert_int_equal(verify(t), GH_ERR_AUTH);
        free(t);
    }
}

static void rejects_tampered_claims(void **state)
{
    (void)state;
    struct gh_claims c = claims();
    char *t = NULL;
    assert_int_equal(gh_jwt_sign(fx.ring, &c, &t), GH_OK);
    char *dot = strchr(t, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(t), GH_ERR_AUTH);
    free(t);
}

static void rotation_older_key_still_verifies(void **state)
{
    (void)state;
    struct gh_keyring *r = NULL;
    struct gh_sigkey *old_key = NULL, *new_key = NULL, *dup = NULL;
    assert_int_equal(gh_keyring_new(&r), GH_OK);
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &old_key), GH_OK);
    assert_int_equal(gh_sigkey_generate(GH_ALG_EDDSA, 0, &new_key), GH_OK);
    char old_kid[GH_KID_MAX], new_kid[GH_KID_MAX];
    snprintf(old_kid, sizeof(old_kid), "%s", gh_sigkey_kid(old_key));
    snprintf(new_kid, sizeof(new_kid), "%s", gh_sigkey_kid(new_key));

    assert_int_equal(gh_keyring_add(r, old_key, 1), GH_OK);
    struct gh_claims c = claims(), out;
    char *old_token = NULL, *new_token = NULL;
    assert_int_equal(gh_jwt_sign(r, &c, &old_token), GH_OK);

    assert_int_equal(gh_keyring_add(r, new_key, 1), GH_OK);
    assert_string_equal(gh_sigkey_kid(gh_keyring_active(r)), new_kid);
    assert_int_equal(gh_jwt_sign(r, &c, &new_token), GH_OK);
    assert_int_equal(gh_jwt_verify(r, old_token, strlen(old_token), &EXPECT, &out), GH_OK);
    assert_int_equal(gh_jwt_verify(r, new_token, strlen(new_token), &EXPECT, &out), GH_OK);
    assert_non_null(gh_keyring_find(r, old_kid, strlen(old_kid)));
    assert_null(gh_keyring_find(r, old_kid, strlen(old_kid) - 1));

    /* JWKS lists both */
    char *jwks = NULL;
    assert_int_equal(gh_keyring_jwks(r, &jwks), GH_OK);
    assert_non_null(strstr(jwks, old_kid));
    assert_non_null(strstr(jwks, new_kid));
    assert_null(strstr(jwks, "\"d\""));
    free(jwks);

    /* a kid already in the ring is refused (and the key freed) */
    char path[256];
    snprintf(path, sizeof(path), "%s/rot.pem", dir);
    assert_int_equal(gh_sigkey_save(new_key, path), GH_OK);
    assert_int_equal(gh_sigkey_load(path, &dup), GH_OK);
    assert_int_equal(gh_keyring_add(r, dup, 0), GH_ERR_CONFLICT);
    assert_string_equal(gh_sigkey_kid(gh_keyring_active(r)), new_kid);

    /* the shared ring knows neither key */
    assert_int_equal(verify(old_token), GH_ERR_AUTH);
    free(old_token);
    free(new_token);
    gh_keyring_free(r);
}

/* ---- time ---- */

static void rejects_expired(void **state)
{
    (void)state;
    /* exp <= now - leeway is expired; one second more is still fine */
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, "1699999970", NULL, "1699990000", NULL)),
                     GH_ERR_EXPIRED);
    assert_int_equal(
        verify_body(fx.ed, body(NULL, NULL, "1699999971", "1699990000", "1699990000", NULL)),
        GH_OK);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, "0", "0", "0", NULL)), GH_ERR_EXPIRED);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, "-9223372036854775808", NULL, NULL, NULL)),
                     GH_ERR_EXPIRED);
}

static void rejects_nbf_in_future(void **state)
{
    (void)state;
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, "1700000031", NULL, NULL)),
                     GH_ERR_NOT_YET);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, "1700000030", NULL, NULL)), GH_OK);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, "9223372036854775807",
                                             "9223372036854775807", NULL, NULL)),
                     GH_ERR_NOT_YET);
}

static void rejects_iat_in_future(void **state)
{
    (void)state;
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, NULL, "1700000031", NULL)),
                     GH_ERR_NOT_YET);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, NULL, "1700000030", NULL)), GH_OK);
}

/* ---- issuer, audience, type ---- */

static void rejects_wrong_iss(void **state)
{
    (void)state;
    static const char *bad[] = {"\"https://evil.example.com\"",
                                "\"https://id.example.com/\"",
                                "\"HTTPS://ID.EXAMPLE.COM\"",
                                "\"\"",
                                "[\"" ISS "\"]",
                                "null"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(verify_body(fx.ed, body(bad[i], NULL, NULL, NULL, NULL, NULL)),
                         GH_ERR_AUTH);
}

static void rejects_wrong_aud(void **state)
{
    (void)state;
    static const char *bad[] = {"\"other.example.com\"", "\"api.example.com \"", "\"\"", "7",
                                "{\"aud\":\"" AUD "\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(verify_body(fx.ed, body(NULL, bad[i], NULL, NULL, NULL, NULL)),
                         GH_ERR_AUTH);
}

static void aud_array_containing_ours(void **state)
{
    (void)state;
    struct gh_claims out;
    char *t = forge(header("EdDSA", fx.ed),
                    body(NULL, "[\"billing\",\"" AUD "\"]", NULL, NULL, NULL, NULL), fx.ed);
    assert_int_equal(verify_text(t, &out), GH_OK);
    assert_string_equal(out.aud, AUD);
    free(t);
}

static void aud_array_not_containing_ours(void **state)
{
    (void)state;
    static const char *bad[] = {"[\"billing\",\"other\"]", "[]", "[\"" AUD "\",7]",
                                "[[\"" AUD "\"]]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(verify_body(fx.ed, body(NULL, bad[i], NULL, NULL, NULL, NULL)),
                         GH_ERR_AUTH);
}

/* {"alg":"EdDSA","kid":<the EdDSA kid> followed by rest, signed by that key. */
static gh_err verify_header(const char *rest)
{
    char h[512];
    snprintf(h, sizeof(h), "{\"alg\":\"EdDSA\",\"kid\":\"%s\"%s", gh_sigkey_kid(fx.ed), rest);
    char *t = forge(h, body(NULL, NULL, NULL, NULL, NULL, NULL), fx.ed);
    gh_err err = verify(t);
    free(t);
    return err;
}

static void typ_variants(void **state)
{
    (void)state;
    assert_int_equal(verify_header(",\"typ\":\"AT+JWT\"}"), GH_OK);
    assert_int_equal(verify_header(",\"typ\":\"application/at+jwt\"}"), GH_OK);
    assert_int_equal(verify_header(",\"typ\":\"Application/At+Jwt\"}"), GH_OK);
}

static void rejects_wrong_typ(void **state)
{
    (void)state;
    static const char *bad[] = {
        ",\"typ\":\"JWT\"}",
        "}",
        ",\"typ\":\"\"}",
        ",\"typ\":\"at+jwt \"}",
        ",\"typ\":\"application/jwt\"}",
        ",\"typ\":\"application/application/at+jwt\"}",
        ",\"typ\":[\"at+jwt\"]}",
        ",\"typ\":null}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(verify_header(bad[i]), GH_ERR_AUTH);
}

static void rejects_crit_header(void **state)
{
    (void)state;
    assert_int_equal(verify_header(",\"typ\":\"at+jwt\",\"crit\":[\"exp\"]}"), GH_ERR_AUTH);
    assert_int_equal(verify_header(",\"typ\":\"at+jwt\","
                                   "\"crit\":[\"b64\"],\"b64\":false}"),
                     GH_ERR_AUTH);
    assert_int_equal(verify_header(",\"typ\":\"at+jwt\",\"crit\":[]}"), GH_ERR_AUTH);
}

/* ---- claim syntax ---- */

static void rejects_duplicate_claim(void **state)
{
    (void)state;
    assert_int_equal(
        verify_body(fx.ed, body(NULL, NULL, NULL, NULL, NULL, "\"sub\":\"someone-else\"")),
        GH_ERR_AUTH);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, NULL, NULL, "\"exp\":9999999999")),
                     GH_ERR_AUTH);
    /* and a duplicate header member */
    assert_int_equal(verify_header(",\"typ\":\"at+jwt\","
                                   "\"alg\":\"none\"}"),
                     GH_ERR_AUTH);
}

static void rejects_non_integer_exp(void **state)
{
    (void)state;
    static const char *bad[] = {"1700000900.0", "1.7000009e9",  "\"1700000900\"",      "null",
                                "true",         "[1700000900]", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(verify_body(fx.ed, body(NULL, NULL, bad[i], NULL, NULL, NULL)),
                         GH_ERR_AUTH);
        assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, bad[i], NULL, NULL)),
                         GH_ERR_AUTH);
        assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, NULL, bad[i], NULL)),
                         GH_ERR_AUTH);
    }
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, NULL, NULL, "\"gh_ep\":1.5")),
                     GH_ERR_AUTH);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, NULL, NULL, "\"gh_oep\":-0.5")),
                     GH_ERR_AUTH);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, NULL, NULL, "\"gh_ep\":\"3\"")),
                     GH_ERR_AUTH);
}

static void rejects_missing_claims(void **state)
{
    (void)state;
    assert_int_equal(verify_body(fx.ed, body("-", NULL, NULL, NULL, NULL, NULL)), GH_ERR_AUTH);
    assert_int_equal(verify_body(fx.ed, body(NULL, "-", NULL, NULL, NULL, NULL)), GH_ERR_AUTH);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, "-", NULL, NULL, NULL)), GH_ERR_AUTH);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, "-", NULL, NULL)), GH_ERR_AUTH);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, NULL, "-", NULL)), GH_ERR_AUTH);
    static const char *without[] = {
        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000900,\"nbf\":1700000000,"
        "\"iat\":1700000000,\"jti\":\"" JTI "\",\"org\":\"" ORG "\"}",
        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000900,\"nbf\":1700000000,"
        "\"iat\":1700000000,\"sub\":\"" SUB "\",\"org\":\"" ORG "\"}",
        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000900,\"nbf\":1700000000,"
        "\"iat\":1700000000,\"sub\":\"" SUB "\",\"jti\":\"" JTI "\"}",
    };
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(verify_body(fx.ed, without[i]), GH_ERR_AUTH);
}

static void checks_string_claims(void **state)
{
    (void)state;
    /* sub filling the struct, one byte too long, of the wrong type, with a NUL */
    const char *ok =
        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000900,"
        "\"nbf\":1700000000,\"iat\":1700000000,\"jti\":\"" JTI "\",\"org\":\"" ORG "\",\"sub\":";
    char b[1024];
    snprintf(b, sizeof(b), "%s\"%063d\"}", ok, 0);
    assert_int_equal(verify_body(fx.ed, b), GH_OK);
    snprintf(b, sizeof(b), "%s\"%064d\"}", ok, 0);
    assert_int_equal(verify_body(fx.ed, b), GH_ERR_AUTH);
    snprintf(b, sizeof(b), "%s42}", ok);
    assert_int_equal(verify_body(fx.ed, b), GH_ERR_AUTH);
    snprintf(b, sizeof(b), "%s\"a\\u0000b\"}", ok);
    assert_int_equal(verify_body(fx.ed, b), GH_ERR_AUTH);
}

static void checks_roles_and_perms(void **state)
{
    (void)state;
    struct gh_claims out;
    char *t = forge(header("EdDSA", fx.ed),
                    body(NULL, NULL, NULL, NULL, NULL,
                         "\"roles\":[\"owner\",\"a b\"],\"perms\":[\"x:read\",\"y,z\"]"),
                    fx.ed);
    assert_int_equal(verify_text(t, &out), GH_OK);
    assert_string_equal(out.roles, "owner,a b");
    assert_string_equal(out.perms, "x:read y,z");
    free(t);

    static const char *bad[] = {
        "\"roles\":[\"a,b\"]",     "\"perms\":[\"a b\"]", "\"roles\":\"admin\"", "\"roles\":[1]",
        "\"perms\":[\"ok\",null]", "\"perms\":{}",        "\"roles\":[\"\"]",    "\"roles\":null",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, NULL, NULL, bad[i])),
                         GH_ERR_AUTH);

    /* exactly filling roles (511 characters and the NUL) fits; one more does not */
    char extra[700], item[300];
    memset(item, 'r', 255);
    item[255] = '\0';
    snprintf(extra, sizeof(extra), "\"roles\":[\"%s\",\"%s\"]", item, item);
    t = forge(header("EdDSA", fx.ed), body(NULL, NULL, NULL, NULL, NULL, extra), fx.ed);
    assert_int_equal(verify_text(t, &out), GH_OK);
    assert_int_equal(strlen(out.roles), GH_ROLES_MAX - 1);
    free(t);
    snprintf(extra, sizeof(extra), "\"roles\":[\"%s\",\"%sr\"]", item, item);
    assert_int_equal(verify_body(fx.ed, body(NULL, NULL, NULL, NULL, NULL, extra)), GH_ERR_AUTH);
}

/* ---- compact syntax ---- */

static void rejects_extra_or_missing_dots(void **state)
{
    (void)state;
    char *t = forge(header("EdDSA", fx.ed), body(NULL, NULL, NULL, NULL, NULL, NULL), fx.ed);
    assert_int_equal(verify(t), GH_OK);
    size_t n = strlen(t);
    char *buf = malloc(n + 8);
    assert_non_null(buf);

    memcpy(buf, t, n);
    memcpy(buf + n, ".", 2);
    assert_int_equal(verify(buf), GH_ERR_AUTH);
    memcpy(buf, t, n);
    memcpy(buf + n, ".x", 3);
    assert_int_equal(verify(buf), GH_ERR_AUTH);
    buf[0] = '.';
    memcpy(buf + 1, t, n + 1);
    assert_int_equal(verify(buf), GH_ERR_AUTH);
    /* header.claims (no signature part) and header only */
    memcpy(buf, t, n + 1);
    *strrchr(buf, '.') = '\0';
    assert_int_equal(verify(buf), GH_ERR_AUTH);
    *strchr(buf, '.') = '\0';
    assert_int_equal(verify(buf), GH_ERR_AUTH);
    assert_int_equal(verify(""), GH_ERR_AUTH);
    assert_int_equal(verify(".."), GH_ERR_AUTH);
    assert_int_equal(verify("..."), GH_ERR_AUTH);
    /* an embedded NUL inside the length */
    memcpy(buf, t, n + 1);
    buf[n - 3] = '\0';
    struct gh_claims out;
    assert_int_equal(gh_jwt_verify(fx.ring, buf, n, &EXPECT, &out), GH_ERR_AUTH);
    /* the length bounds the token: a valid token followed by junk outside len still verifies */
    memcpy(buf, t, n + 1);
    memcpy(buf + n, "junk", 5);
    assert_int_equal(gh_jwt_verify(fx.ring, buf, n, &EXPECT, &out), GH_OK);
    free(buf);
    free(t);
}

static void rejects_too_long_token(void **state)
{
    (void)state;
    char *t = malloc(GH_JWT_MAX + 2);
    assert_non_null(t);
    memset(t, 'A', GH_JWT_MAX + 1);
    t[10] = '.';
    t[20] = '.';
    t[GH_JWT_MAX + 1] = '\0';
    assert_int_equal(verify(t), GH_ERR_TOO_LARGE);
    /* a real token padded with a huge claim */
    char extra[GH_JWT_MAX];
    snprintf(extra, sizeof(extra), "\"pad\":\"%0*d\"", 6500, 0);
    char *big = forge(header("EdDSA", fx.ed), body(NULL, NULL, NULL, NULL, NULL, extra), fx.ed);
    assert_true(strlen(big) > GH_JWT_MAX);
    assert_int_equal(verify(big), GH_ERR_TOO_LARGE);
    free(big);
    /* an over-long header is refused even when the whole token is short enough */
    char h[2048];
    snprintf(h, sizeof(h), "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"at+jwt\",\"x\":\"%0*d\"}",
             gh_sigkey_kid(fx.ed), 1100, 0);
    big = forge(h, body(NULL, NULL, NULL, NULL, NULL, NULL), fx.ed);
    assert_true(strlen(big) <= GH_JWT_MAX);
    assert_int_equal(verify(big), GH_ERR_AUTH);
    free(big);
    free(t);
}

static void rejects_garbage_base64(void **state)
{
    (void)state;
    char *t = forge(header("EdDSA", fx.ed), body(NULL, NULL, NULL, NULL, NULL, NULL), fx.ed);
    size_t n = strlen(t);
    char *buf = malloc(n + 8);
    assert_non_null(buf);
    const char *dot1 = strchr(t, '.'), *dot2 = strrchr(t, '.');
    size_t spots[] = {1, (size_t)(dot1 - t) + 3, (size_t)(dot2 - t) + 3};
    static const char bad[] = {'+', '/', '=', ' ', '!', '\x80'};
    for (size_t s = 0; s < 3; s++) {
        for (size_t b = 0; b < sizeof(bad); b++) {
            memcpy(buf, t, n + 1);
            buf[spots[s]] = bad[b];
            assert_int_equal(verify(buf), GH_ERR_AUTH);
        }
    }
    /* padding appended to the signature */
    memcpy(buf, t, n);
    memcpy(buf + n, "==", 3);
    assert_int_equal(verify(buf), GH_ERR_AUTH);
    /* payloads that decode but are not JSON objects */
    static const char *not_objects[] = {"[]", "\"str\"", "42", "{", "{\"a\":1}x", "null"};
    for (size_t i = 0; i < sizeof(not_objects) / sizeof(not_objects[0]); i++) {
        char *u = forge(header("EdDSA", fx.ed), not_objects[i], fx.ed);
        assert_int_equal(verify(u), GH_ERR_AUTH);
        free(u);
        u = forge(not_objects[i], body(NULL, NULL, NULL, NULL, NULL, NULL), fx.ed);
        assert_int_equal(verify(u), GH_ERR_AUTH);
        free(u);
    }
    free(buf);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_rs256),
        cmocka_unit_test(round_trip_es256),
        cmocka_unit_test(round_trip_eddsa),
        cmocka_unit_test(optional_claims),
        cmocka_unit_test(sign_without_active_key),
        cmocka_unit_test(rejects_alg_none_unsigned),
        cmocka_unit_test(rejects_alg_none_with_signature),
        cmocka_unit_test(rejects_hs256_with_public_key_pem),
        cmocka_unit_test(rejects_hs256_with_jwk_secret),
        cmocka_unit_test(rejects_alg_differing_from_key),
        cmocka_unit_test(rejects_missing_kid),
        cmocka_unit_test(rejects_unknown_kid),
        cmocka_unit_test(rejects_other_key_with_same_kid),
        cmocka_unit_test(rejects_flipped_signature_bit),
        cmocka_unit_test(rejects_tampered_claims),
        cmocka_unit_test(rotation_older_key_still_verifies),
        cmocka_unit_test(rejects_expired),
        cmocka_unit_test(rejects_nbf_in_future),
        cmocka_unit_test(rejects_iat_in_future),
        cmocka_unit_test(rejects_wrong_iss),
        cmocka_unit_test(rejects_wrong_aud),
        cmocka_unit_test(aud_array_containing_ours),
        cmocka_unit_test(aud_array_not_containing_ours),
        cmocka_unit_test(typ_variants),
        cmocka_unit_test(rejects_wrong_typ),
        cmocka_unit_test(rejects_crit_header),
        cmocka_unit_test(rejects_duplicate_claim),
        cmocka_unit_test(rejects_non_integer_exp),
        cmocka_unit_test(rejects_missing_claims),
        cmocka_unit_test(checks_string_claims),
        cmocka_unit_test(checks_roles_and_perms),
        cmocka_unit_test(rejects_extra_or_missing_dots),
        cmocka_unit_test(rejects_too_long_token),
        cmocka_unit_test(rejects_garbage_base64),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

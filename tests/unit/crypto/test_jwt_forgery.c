/* Unit tests for crypto/jwt: every forgery we know: algorithm confusion, key selection
 * (missing, unknown or borrowed kids, altered signatures and claims, rotation), and the
 * compact syntax (dots, length, base64url). */
#include "crypto/jwt_fixture.h"

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
        cmocka_unit_test(rejects_extra_or_missing_dots),
        cmocka_unit_test(rejects_too_long_token),
        cmocka_unit_test(rejects_garbage_base64),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

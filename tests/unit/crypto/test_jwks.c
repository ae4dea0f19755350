/* Unit tests for crypto/jwks and gh_jws_verify: another issuer's keys (RSA, P-256,
 * Ed25519) and the tokens they sign, and every refusal an ID-token check relies on: alg
 * none, HMAC with the public key, an algorithm switch, an unknown or missing kid, a
 * tampered payload, a typ of another kind, crit; JWKS members Gatehouse cannot use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/hmac.h>

#include "crypto/b64url.h"
#include "crypto/jwks.h"

struct keys {
    struct gh_sigkey *rsa, *ec, *ed;
    char jwks[8192];
};

/* The public JWK of k with kid. */
static json_t *jwk_of(const struct gh_sigkey *k, const char *kid)
{
    json_t *jwk = NULL;
    assert_int_equal(gh_sigkey_public_jwk(k, &jwk), GH_OK);
    json_object_set_new(jwk, "kid", json_string(kid));
    return jwk;
}

static int setup(void **state)
{
    struct keys *k = calloc(1, sizeof(*k));
    if (k == NULL || gh_sigkey_generate(GH_ALG_RS256, 2048, &k->rsa) != GH_OK ||
        gh_sigkey_generate(GH_ALG_ES256, 0, &k->ec) != GH_OK ||
        gh_sigkey_generate(GH_ALG_EDDSA, 0, &k->ed) != GH_OK)
        return -1;
    json_t *keys = json_array();
    json_array_append_new(keys, jwk_of(k->rsa, "r1"));
    json_array_append_new(keys, jwk_of(k->ec, "e1"));
    json_array_append_new(keys, jwk_of(k->ed, "d1"));
    json_t *doc = json_pack("{s:o}", "keys", keys);
    char *text = json_dumps(doc, JSON_COMPACT);
    snprintf(k->jwks, sizeof(k->jwks), "%s", text);
    free(text);
    json_decref(doc);
    *state = k;
    return 0;
}

static int teardown(void **state)
{
    struct keys *k = *state;
    gh_sigkey_free(k->rsa);
    gh_sigkey_free(k->ec);
    gh_sigkey_free(k->ed);
    free(k);
    return 0;
}

static void b64(const void *p, size_t n, char *out, size_t size)
{
    size_t len = 0;
    assert_int_equal(gh_b64url_encode(p, n, out, size, &len), GH_OK);
}

/* header.payload signed by key (NULL: signature sig_text as given). */
static void make_token(const char *header, const char *payload, const struct gh_sigkey *key,
                       char *out, size_t size)
{
    char h[512], p[1024], s[1400] = "";
    b64(header, strlen(header), h, sizeof(h));
    b64(payload, strlen(payload), p, sizeof(p));
    snprintf(out, size, "%s.%s", h, p);
    if (key != NULL) {
        uint8_t sig[GH_SIG_MAX];
        size_t n = 0;
        assert_int_equal(
            gh_sigkey_sign(key, (const uint8_t *)out, strlen(out), sig, sizeof(sig), &n), GH_OK);
        b64(sig, n, s, sizeof(s));
    }
    size_t at = strlen(out);
    snprintf(out + at, size - at, ".%s", s);
}

#define PAYLOAD "{\"iss\":\"https://idp.example.com\",\"sub\":\"alice\",\"aud\":\"gh\"}"

static gh_err verify(const struct keys *k, const char *token, json_t **claims)
{
    struct gh_keyring *ring = NULL;
    size_t skipped = 9;
    assert_int_equal(gh_jwks_parse(k->jwks, strlen(k->jwks), &ring, &skipped), GH_OK);
    assert_int_equal(skipped, 0);
    gh_err err = gh_jws_verify(ring, token, strlen(token), claims);
    gh_keyring_free(ring);
    return err;
}

static void each_key_type_verifies(void **state)
{
    struct keys *k = *state;
    char token[4096];
    json_t *claims = NULL;
    const struct {
        const char *header;
        const struct gh_sigkey *key;
    } cases[] = {
        {"{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"JWT\"}", k->rsa},
        {"{\"alg\":\"ES256\",\"kid\":\"e1\"}", k->ec},
        {"{\"alg\":\"EdDSA\",\"kid\":\"d1\",\"typ\":\"jwt\"}", k->ed},
    };
    for (size_t i = 0; i < 3; i++) {
        make_token(cases[i].header, PAYLOAD, cases[i].key, token, sizeof(token));
        assert_int_equal(verify(k, token, &claims), GH_OK);
        assert_string_equal(json_string_value(json_object_get(claims, "sub")), "alice");
        json_decref(claims);
        claims = NULL;
    }
}

static void refusals(void **state)
{
    struct keys *k = *state;
    char token[4096];
    json_t *claims = NULL;
    /* alg none, with and without a signature */
    make_token("{\"alg\":\"none\",\"kid\":\"r1\"}", PAYLOAD, NULL, token, sizeof(token));
    assert_int_equal(verify(k, token, &claims), GH_ERR_AUTH);
    make_token("{\"alg\":\"none\",\"kid\":\"r1\"}", PAYLOAD, k->rsa, token, sizeof(token));
    assert_int_equal(verify(k, token, &claims), GH_ERR_AUTH);
    /* HS256 keyed with the RSA key's public JWK text (the classic confusion) */
    char h[256], p[512], mac_text[64];
    b64("{\"alg\":\"HS256\",\"kid\":\"r1\"}", strlen("{\"alg\":\"HS256\",\"kid\":\"r1\"}"), h,
        sizeof(h));
    b64(PAYLOAD, strlen(PAYLOAD), p, sizeof(p));
    snprintf(token, sizeof(token), "%s.%s", h, p);
    unsigned char mac[32];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), k->jwks, (int)strlen(k->jwks), (const unsigned char *)token, strlen(token),
         mac, &maclen);
    b64(mac, maclen, mac_text, sizeof(mac_text));
    size_t at = strlen(token);
    snprintf(token + at, sizeof(token) - at, ".%s", mac_text);
    assert_int_equal(verify(k, token, &claims), GH_ERR_AUTH);
    /* an algorithm switch: the EC key's kid with RS256 signed by the RSA key */
    make_token("{\"alg\":\"RS256\",\"kid\":\"e1\"}", PAYLOAD, k->rsa, token, sizeof(token));
    assert_int_equal(verify(k, token, &claims), GH_ERR_AUTH);
    /* signed by another key under a known kid */
    make_token("{\"alg\":\"ES256\",\"kid\":\"e1\"}", PAYLOAD, k->ed, token, sizeof(token));
    assert_int_equal(verify(k, token, &claims), GH_ERR_AUTH);
    /* unknown or missing kid */
    make_token("{\"alg\":\"RS256\",\"kid\":\"r2\"}", PAYLOAD, k->rsa, token, sizeof(token));
    assert_int_equal(verify(k, token, &claims), GH_ERR_AUTH);
    make_token("{\"alg\":\"RS256\"}", PAYLOAD, k->rsa, token, sizeof(token));
    assert_int_equal(verify(k, token, &claims), GH_ERR_AUTH);
    /* another kind of token, crit */
    make_token("{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"at+jwt\"}", PAYLOAD, k->rsa, token,
               sizeof(token));
    assert_int_equal(verify(k, token, &claims), GH_ERR_AUTH);
    make_token("{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":[\"exp\"]}", PAYLOAD, k->rsa, token,
               sizeof(token));
    assert_int_equal(verify(k, token, &claims), GH_ERR_AUTH);
    /* a payload changed after signing */
    make_token("{\"alg\":\"RS256\",\"kid\":\"r1\"}", PAYLOAD, k->rsa, token, sizeof(token));
    char *dot = strchr(token, '.');
    dot[2] = dot[2] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(k, token, &claims), GH_ERR_AUTH);
    assert_null(claims);
}

static gh_err parse(const char *text, size_t *skipped)
{
    struct gh_keyring *ring = NULL;
    gh_err err = gh_jwks_parse(text, strlen(text), &ring, skipped);
    if (err == GH_OK)
        assert_int_equal(gh_keyring_size(ring), 1);
    gh_keyring_free(ring);
    return err;
}

static void unusable_members_skipped(void **state)
{
    struct keys *k = *state;
    json_t *keys = json_array();
    json_array_append_new(keys, jwk_of(k->ec, "good"));
    json_array_append_new(keys,
                          json_pack("{s:s, s:s, s:s}", "kty", "oct", "kid", "h", "k", "c2VjcmV0"));
    json_t *enc = jwk_of(k->rsa, "enc");
    json_object_set_new(enc, "use", json_string("enc"));
    json_array_append_new(keys, enc);
    json_t *rs384 = jwk_of(k->rsa, "rs384");
    json_object_set_new(rs384, "alg", json_string("RS384"));
    json_array_append_new(keys, rs384);
    json_array_append_new(keys, jwk_of(k->ed, "good")); /* a kid seen before */
    json_t *nokid = jwk_of(k->rsa, "x");
    json_object_del(nokid, "kid");
    json_array_append_new(keys, nokid);
    json_t *p384 = jwk_of(k->ec, "p384");
    json_object_set_new(p384, "crv", json_string("P-384"));
    json_array_append_new(keys, p384);
    json_t *offcurve = jwk_of(k->ec, "off");
    json_object_set_new(offcurve, "y", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    json_array_append_new(keys, offcurve);
    json_array_append_new(keys, json_string("not a key"));
    json_t *doc = json_pack("{s:o}", "keys", keys);
    char *text = json_dumps(doc, JSON_COMPACT);
    size_t skipped = 0;
    assert_int_equal(parse(text, &skipped), GH_OK);
    assert_int_equal(skipped, 8);
    free(text);
    json_decref(doc);

    assert_int_equal(parse("{\"keys\":[]}", &skipped), GH_ERR_INVALID);
    assert_int_equal(parse("{\"keys\":{}}", &skipped), GH_ERR_INVALID);
    assert_int_equal(parse("[]", &skipped), GH_ERR_INVALID);
    assert_int_equal(parse("not json", &skipped), GH_ERR_INVALID);
    char *big = calloc(1, GH_JWKS_MAX + 2);
    memset(big, ' ', GH_JWKS_MAX + 1);
    assert_int_equal(parse(big, &skipped), GH_ERR_TOO_LARGE);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_key_type_verifies),
        cmocka_unit_test(refusals),
        cmocka_unit_test(unusable_members_skipped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests for crypto/: base64url, signing keys, JWS sign/verify, with known answers. */
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
#include <sodium.h>

#include "core/buf.h"
#include "crypto/b64url.h"
#include "crypto/jwt.h"
#include "crypto/sigkey.h"
#include "tmpdir.h"
#include "vectors/jws_keys.h"

/* RFC 8037 appendix A.1 / A.4: Ed25519 key and the JWS of "Example of Ed25519 signing". */
static const char ED25519_PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                                  "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                                  "-----END PRIVATE KEY-----\n";
static const char ED25519_INPUT[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
static const char ED25519_SIG[] =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
/* RFC 7638 thumbprint of that key, computed by jwcrypto. */
static const char ED25519_KID[] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

static char tmpdir[] = "/tmp/gh-test-crypto-XXXXXX";

static struct gh_sigkey *load_pem(const char *pem, mode_t mode, gh_err *err_out)
{
    char path[256];
    static int n;
    snprintf(path, sizeof(path), "%s/k%d.pem", tmpdir, n++);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(pem, f);
    fclose(f);
    chmod(path, mode);
    struct gh_sigkey *k = NULL;
    gh_err err = gh_sigkey_load(path, &k);
    if (err_out != NULL)
        *err_out = err;
    return k;
}

static void b64(const char *raw, const char *want)
{
    char out[64];
    size_t n = 0;
    assert_int_equal(gh_b64url_encode((const uint8_t *)raw, strlen(raw), out, sizeof(out), &n),
                     GH_OK);
    assert_string_equal(out, want);
    uint8_t back[64];
    assert_int_equal(gh_b64url_decode(want, strlen(want), back, sizeof(back), &n), GH_OK);
    assert_int_equal(n, strlen(raw));
    assert_memory_equal(back, raw, n);
}

static void b64url_rfc4648_vectors(void **state)
{
    (void)state;
    b64("", "");
    b64("f", "Zg");
    b64("fo", "Zm8");
    b64("foo", "Zm9v");
    b64("foob", "Zm9vYg");
    b64("fooba", "Zm9vYmE");
    b64("foobar", "Zm9vYmFy");
    b64("\xfb\xff\xbf", "-_-_");
}

static void b64url_strict(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n = 0;
    assert_int_equal(gh_b64url_decode("Zg==", 4, out, sizeof(out), &n), GH_ERR_INVALID);
    assert_int_equal(gh_b64url_decode("Zm+v", 4, out, sizeof(out), &n), GH_ERR_INVALID);
    assert_int_equal(gh_b64url_decode("Zm/v", 4, out, sizeof(out), &n), GH_ERR_INVALID);
    assert_int_equal(gh_b64url_decode("Zm9vY", 5, out, sizeof(out), &n), GH_ERR_INVALID);
    assert_int_equal(gh_b64url_decode("Zh", 2, out, sizeof(out), &n), GH_ERR_INVALID);
    assert_int_equal(gh_b64url_decode("Zm9vYmFy", 8, out, 5, &n), GH_ERR_TOO_LARGE);
    char small[4];
    assert_int_equal(gh_b64url_encode((const uint8_t *)"foo", 3, small, sizeof(small), &n),
                     GH_ERR_TOO_LARGE);
}

static void sign_and_compare(struct gh_sigkey *k, const char *input, const char *want_b64)
{
    uint8_t sig[GH_SIG_MAX];
    size_t len = 0;
    char text[GH_SIG_MAX * 2];
    size_t tlen = 0;
    assert_int_equal(gh_sigkey_sign(k, (const uint8_t *)input, strlen(input), sig, sizeof(sig),
                                    &len),
                     GH_OK);
    assert_int_equal(gh_b64url_encode(sig, len, text, sizeof(text), &tlen), GH_OK);
    assert_string_equal(text, want_b64);
}

static void verify_b64(struct gh_sigkey *k, const char *input, const char *sig_b64, gh_err want)
{
    uint8_t sig[GH_SIG_MAX];
    size_t len = 0;
    assert_int_equal(gh_b64url_decode(sig_b64, strlen(sig_b64), sig, sizeof(sig), &len), GH_OK);
    assert_int_equal(gh_sigkey_verify(k, (const uint8_t *)input, strlen(input), sig, len), want);
}

static void sigkey_ed25519_rfc8037(void **state)
{
    (void)state;
    struct gh_sigkey *k = load_pem(ED25519_PEM, 0600, NULL);
    assert_non_null(k);
    assert_int_equal(gh_sigkey_alg(k), GH_ALG_EDDSA);
    assert_string_equal(gh_sigkey_kid(k), ED25519_KID);
    sign_and_compare(k, ED25519_INPUT, ED25519_SIG);
    verify_b64(k, ED25519_INPUT, ED25519_SIG, GH_OK);
    verify_b64(k, "eyJhbGciOiJFZERTQSJ9.x", ED25519_SIG, GH_ERR_AUTH);
    gh_sigkey_free(k);
}

static void sigkey_rs256_known_answer(void **state)
{
    (void)state;
    struct gh_sigkey *k = load_pem(RSA_PEM, 0600, NULL);
    assert_non_null(k);
    assert_int_equal(gh_sigkey_alg(k), GH_ALG_RS256);
    assert_int_equal(gh_sigkey_bits(k), 2048);
    /* PKCS#1 v1.5 is deterministic: we must produce exactly the other implementation's bytes. */
    sign_and_compare(k, SIGNING_INPUT, RSA_SIG);
    verify_b64(k, SIGNING_INPUT, RSA_SIG, GH_OK);
    gh_sigkey_free(k);
}

static void sigkey_es256_known_answer(void **state)
{
    (void)state;
    struct gh_sigkey *k = load_pem(EC_PEM, 0600, NULL);
    assert_non_null(k);
    assert_int_equal(gh_sigkey_alg(k), GH_ALG_ES256);
    verify_b64(k, SIGNING_INPUT, EC_SIG, GH_OK);
    verify_b64(k, "eyJhbGciOiJFUzI1NiJ9.x", EC_SIG, GH_ERR_AUTH);
    /* our own signatures are 64-byte JOSE form and verify */
    uint8_t sig[GH_SIG_MAX];
    size_t len = 0;
    assert_int_equal(gh_sigkey_sign(k, (const uint8_t *)"abc", 3, sig, sizeof(sig), &len), GH_OK);
    assert_int_equal(len, 64);
    assert_int_equal(gh_sigkey_verify(k, (const uint8_t *)"abc", 3, sig, len), GH_OK);
    assert_int_equal(gh_sigkey_verify(k, (const uint8_t *)"abc", 3, sig, 63), GH_ERR_AUTH);
    gh_sigkey_free(k);
}

static void sigkey_refuses_loose_permissions(void **state)
{
    (void)state;
    gh_err err = GH_OK;
    assert_null(load_pem(ED25519_PEM, 0644, &err));
    assert_int_equal(err, GH_ERR_PERM);
    assert_null(load_pem(ED25519_PEM, 0640, &err));
    assert_int_equal(err, GH_ERR_PERM);
    assert_null(load_pem("not a key", 0600, &err));
    assert_int_equal(err, GH_ERR_INVALID);
}

static void sigkey_save_is_0600_and_never_overwrites(void **state)
{
    (void)state;
    struct gh_sigkey *k = NULL, *back = NULL;
    char path[256];
    struct stat st;
    snprintf(path, sizeof(path), "%s/saved.pem", tmpdir);
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &k), GH_OK);
    assert_int_equal(gh_sigkey_save(k, path), GH_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(gh_sigkey_save(k, path), GH_ERR_CONFLICT);
    assert_int_equal(gh_sigkey_load(path, &back), GH_OK);
    assert_string_equal(gh_sigkey_kid(back), gh_sigkey_kid(k));
    gh_sigkey_free(k);
    gh_sigkey_free(back);
    assert_int_equal(gh_sigkey_generate(GH_ALG_RS256, 1024, &k), GH_ERR_INVALID);
}

/* ---- JWT ---- */

static struct gh_keyring *ring;
static struct gh_sigkey *rsa_key; /* in the ring, active */
static struct gh_sigkey *outsider; /* not in the ring */

static const struct gh_jwt_expect expect = {"https://gh.test", "gatehouse", 1800000000, 30};

static void good_claims(struct gh_claims *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->iss, sizeof(c->iss), "%s", "https://gh.test");
    snprintf(c->aud, sizeof(c->aud), "%s", "gatehouse");
    snprintf(c->sub, sizeof(c->sub), "%s", "user-1");
    snprintf(c->jti, sizeof(c->jti), "%s", "jti-1");
    snprintf(c->org, sizeof(c->org), "%s", "org-1");
    snprintf(c->roles, sizeof(c->roles), "%s", "admin,member");
    snprintf(c->perms, sizeof(c->perms), "%s", "file:read *:*");
    c->iat = c->nbf = expect.now - 10;
    c->exp = expect.now + 900;
    c->epoch = 3;
}

static void b64_append(struct gh_buf *b, const void *p, size_t n)
{
    char text[4096];
    size_t len = 0;
    assert_int_equal(gh_b64url_encode(p, n, text, sizeof(text), &len), GH_OK);
    assert_int_equal(gh_buf_append(b, text, len), GH_OK);
}

/* Builds header.claims.signature by hand; key NULL: an empty signature (alg none). */
static char *forge(const char *header, const char *claims, const struct gh_sigkey *key,
                   const char *hmac_secret)
{
    struct gh_buf b;
    gh_buf_init(&b, 65536);
    b64_append(&b, header, strlen(header));
    assert_int_equal(gh_buf_append(&b, ".", 1), GH_OK);
    b64_append(&b, claims, strlen(claims));
    uint8_t sig[GH_SIG_MAX];
    size_t len = 0;
    if (key != NULL) {
        assert_int_equal(
            gh_sigkey_sign(key, (const uint8_t *)b.ptr, b.len, sig, sizeof(sig), &len), GH_OK);
    } else if (hmac_secret != NULL) {
        unsigned int l = 0;
        HMAC(EVP_sha256(), hmac_secret, (int)strlen(hmac_secret), (const uint8_t *)b.ptr, b.len,
             sig, &l);
        len = l;
    }
    assert_int_equal(gh_buf_append(&b, ".", 1), GH_OK);
    if (len > 0)
        b64_append(&b, sig, len);
    return gh_buf_take(&b);
}

static char header_for(const char *alg, const char *kid, const char *typ, char *out, size_t n)
{
    snprintf(out, n, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"%s\"}", alg, kid, typ);
    return 0;
}

static char claims_text[1024];
static const char *claims_with(const char *extra_iss, const char *aud_json, long exp, long nbf,
                               long iat)
{
    snprintf(claims_text, sizeof(claims_text),
             "{\"iss\":\"%s\",\"sub\":\"user-1\",\"aud\":%s,\"exp\":%ld,\"iat\":%ld,"
             "\"nbf\":%ld,\"jti\":\"j\",\"org\":\"o\",\"roles\":[\"member\"],\"perms\":[]}",
             extra_iss, aud_json, exp, iat, nbf);
    return claims_text;
}

static gh_err verify_text(const char *token)
{
    struct gh_claims c;
    return gh_jwt_verify(ring, token, strlen(token), &expect, &c);
}

static void expect_forged(const char *header, const char *claims, const struct gh_sigkey *key,
                          const char *secret, gh_err want)
{
    char *t = forge(header, claims, key, secret);
    assert_int_equal(verify_text(t), want);
    free(t);
}

static int jwt_setup(void **state)
{
    (void)state;
    assert_int_equal(gh_keyring_new(&ring), GH_OK);
    rsa_key = load_pem(RSA_PEM, 0600, NULL);
    assert_non_null(rsa_key);
    assert_int_equal(gh_keyring_add(ring, rsa_key, 1), GH_OK);
    assert_int_equal(gh_sigkey_generate(GH_ALG_RS256, 2048, &outsider), GH_OK);
    return 0;
}

static int jwt_teardown(void **state)
{
    (void)state;
    gh_keyring_free(ring);
    gh_sigkey_free(outsider);
    return 0;
}

static void jwt_round_trip_all_algorithms(void **state)
{
    (void)state;
    const enum gh_alg algs[] = {GH_ALG_RS256, GH_ALG_ES256, GH_ALG_EDDSA};
    for (size_t i = 0; i < 3; i++) {
        struct gh_keyring *r;
        struct gh_sigkey *k;
        struct gh_claims c, out;
        char *token = NULL;
        assert_int_equal(gh_keyring_new(&r), GH_OK);
        assert_int_equal(gh_sigkey_generate(algs[i], 2048, &k), GH_OK);
        assert_int_equal(gh_keyring_add(r, k, 1), GH_OK);
        good_claims(&c);
        assert_int_equal(gh_jwt_sign(r, &c, &token), GH_OK);
        assert_int_equal(gh_jwt_verify(r, token, strlen(token), &expect, &out), GH_OK);
        assert_string_equal(out.sub, "user-1");
        assert_string_equal(out.org, "org-1");
        assert_string_equal(out.roles, "admin,member");
        assert_string_equal(out.perms, "file:read *:*");
        assert_int_equal(out.exp, c.exp);
        assert_int_equal(out.epoch, 3);
        free(token);
        gh_keyring_free(r);
    }
}

static void jwt_older_key_still_verifies_after_rotation(void **state)
{
    (void)state;
    struct gh_keyring *r;
    struct gh_sigkey *old, *fresh;
    struct gh_claims c, out;
    char *token = NULL;
    assert_int_equal(gh_keyring_new(&r), GH_OK);
    assert_int_equal(gh_sigkey_generate(GH_ALG_EDDSA, 0, &old), GH_OK);
    assert_int_equal(gh_keyring_add(r, old, 1), GH_OK);
    good_claims(&c);
    assert_int_equal(gh_jwt_sign(r, &c, &token), GH_OK);
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &fresh), GH_OK);
    assert_int_equal(gh_keyring_add(r, fresh, 1), GH_OK);
    assert_ptr_equal(gh_keyring_active(r), fresh);
    assert_int_equal(gh_jwt_verify(r, token, strlen(token), &expect, &out), GH_OK);
    char *jwks = NULL;
    assert_int_equal(gh_keyring_jwks(r, &jwks), GH_OK);
    assert_non_null(strstr(jwks, gh_sigkey_kid(old)));
    assert_non_null(strstr(jwks, gh_sigkey_kid(fresh)));
    assert_null(strstr(jwks, "\"d\""));
    free(jwks);
    free(token);
    gh_keyring_free(r);
}

static void jwt_rejects_forgeries(void **state)
{
    (void)state;
    char h[512];
    const char *kid = gh_sigkey_kid(rsa_key);
    const char *ok = claims_with("https://gh.test", "\"gatehouse\"", expect.now + 60,
                                 expect.now - 5, expect.now - 5);

    header_for("RS256", kid, "at+jwt", h, sizeof(h));
    expect_forged(h, ok, rsa_key, NULL, GH_OK); /* the control */
    header_for("RS256", kid, "application/AT+JWT", h, sizeof(h));
    expect_forged(h, ok, rsa_key, NULL, GH_OK);

    header_for("none", kid, "at+jwt", h, sizeof(h));
    expect_forged(h, ok, NULL, NULL, GH_ERR_AUTH);
    expect_forged(h, ok, rsa_key, NULL, GH_ERR_AUTH);
    /* HS256 keyed with the public key, the classic algorithm confusion */
    header_for("HS256", kid, "at+jwt", h, sizeof(h));
    char *jwks = NULL;
    assert_int_equal(gh_keyring_jwks(ring, &jwks), GH_OK);
    expect_forged(h, ok, NULL, jwks, GH_ERR_AUTH);
    free(jwks);
    header_for("ES256", kid, "at+jwt", h, sizeof(h));
    expect_forged(h, ok, rsa_key, NULL, GH_ERR_AUTH);
    header_for("RS256", "unknown-kid", "at+jwt", h, sizeof(h));
    expect_forged(h, ok, rsa_key, NULL, GH_ERR_AUTH);
    expect_forged("{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}", ok, rsa_key, NULL, GH_ERR_AUTH);
    header_for("RS256", kid, "at+jwt", h, sizeof(h));
    expect_forged(h, ok, outsider, NULL, GH_ERR_AUTH); /* another key claiming our kid */
    header_for("RS256", kid, "JWT", h, sizeof(h));
    expect_forged(h, ok, rsa_key, NULL, GH_ERR_AUTH);
    snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"at+jwt\",\"crit\":[\"x\"]}",
             kid);
    expect_forged(h, ok, rsa_key, NULL, GH_ERR_AUTH);
    snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
             kid);
    expect_forged(h, ok, rsa_key, NULL, GH_ERR_AUTH);
}

static void jwt_checks_claims(void **state)
{
    (void)state;
    char h[512];
    long now = (long)expect.now;
    header_for("RS256", gh_sigkey_kid(rsa_key), "at+jwt", h, sizeof(h));
    expect_forged(h, claims_with("https://gh.test", "\"gatehouse\"", now - 31, now - 100, now - 100),
                  rsa_key, NULL, GH_ERR_EXPIRED);
    expect_forged(h, claims_with("https://gh.test", "\"gatehouse\"", now - 10, now - 100, now - 100),
                  rsa_key, NULL, GH_OK); /* within the leeway */
    expect_forged(h, claims_with("https://gh.test", "\"gatehouse\"", now + 900, now + 60, now),
                  rsa_key, NULL, GH_ERR_NOT_YET);
    expect_forged(h, claims_with("https://gh.test", "\"gatehouse\"", now + 900, now, now + 60),
                  rsa_key, NULL, GH_ERR_NOT_YET);
    expect_forged(h, claims_with("https://evil.test", "\"gatehouse\"", now + 60, now, now),
                  rsa_key, NULL, GH_ERR_AUTH);
    expect_forged(h, claims_with("https://gh.test", "\"other\"", now + 60, now, now), rsa_key,
                  NULL, GH_ERR_AUTH);
    expect_forged(h, claims_with("https://gh.test", "[\"x\",\"gatehouse\"]", now + 60, now, now),
                  rsa_key, NULL, GH_OK);
    expect_forged(h, claims_with("https://gh.test", "[\"x\"]", now + 60, now, now), rsa_key, NULL,
                  GH_ERR_AUTH);
    expect_forged(h,
                  "{\"iss\":\"https://gh.test\",\"sub\":\"u\",\"aud\":\"gatehouse\",\"exp\":1.8e9,"
                  "\"iat\":1,\"nbf\":1,\"jti\":\"j\",\"org\":\"o\"}",
                  rsa_key, NULL, GH_ERR_AUTH);
    expect_forged(h,
                  "{\"iss\":\"https://gh.test\",\"sub\":\"u\",\"sub\":\"v\",\"aud\":\"gatehouse\","
                  "\"exp\":1800000100,\"iat\":1,\"nbf\":1,\"jti\":\"j\",\"org\":\"o\"}",
                  rsa_key, NULL, GH_ERR_AUTH);
    expect_forged(h,
                  "{\"iss\":\"https://gh.test\",\"sub\":\"u\",\"aud\":\"gatehouse\","
                  "\"exp\":1800000100,\"iat\":1,\"nbf\":1,\"jti\":\"j\"}",
                  rsa_key, NULL, GH_ERR_AUTH); /* no org */
    expect_forged(h,
                  "{\"iss\":\"https://gh.test\",\"sub\":\"u\",\"aud\":\"gatehouse\","
                  "\"exp\":1800000100,\"iat\":1,\"nbf\":1,\"jti\":\"j\",\"org\":\"o\","
                  "\"roles\":[\"a,b\"]}",
                  rsa_key, NULL, GH_ERR_AUTH); /* separator smuggled into a role */
}

static void jwt_rejects_malformed(void **state)
{
    (void)state;
    struct gh_claims c, out;
    char *token = NULL;
    good_claims(&c);
    assert_int_equal(gh_jwt_sign(ring, &c, &token), GH_OK);
    size_t n = strlen(token);
    assert_int_equal(verify_text(token), GH_OK);

    token[n - 5] ^= 1; /* flipped signature bit */
    assert_int_equal(verify_text(token), GH_ERR_AUTH);
    token[n - 5] ^= 1;

    char buf[GH_JWT_MAX + 16];
    snprintf(buf, sizeof(buf), "%s.x", token);
    assert_int_equal(verify_text(buf), GH_ERR_AUTH);
    snprintf(buf, sizeof(buf), "%s=", token);
    assert_int_equal(verify_text(buf), GH_ERR_AUTH);
    assert_int_equal(verify_text(""), GH_ERR_AUTH);
    assert_int_equal(verify_text(".."), GH_ERR_AUTH);
    assert_int_equal(verify_text("a.b"), GH_ERR_AUTH);
    assert_int_equal(verify_text("!!!.???.###"), GH_ERR_AUTH);
    memset(buf, 'a', GH_JWT_MAX + 1);
    buf[GH_JWT_MAX + 1] = '\0';
    assert_int_equal(gh_jwt_verify(ring, buf, GH_JWT_MAX + 1, &expect, &out), GH_ERR_TOO_LARGE);
    free(token);
}

int main(void)
{
    if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b64url_rfc4648_vectors),
        cmocka_unit_test(b64url_strict),
        cmocka_unit_test(sigkey_ed25519_rfc8037),
        cmocka_unit_test(sigkey_rs256_known_answer),
        cmocka_unit_test(sigkey_es256_known_answer),
        cmocka_unit_test(sigkey_refuses_loose_permissions),
        cmocka_unit_test(sigkey_save_is_0600_and_never_overwrites),
        cmocka_unit_test(jwt_round_trip_all_algorithms),
        cmocka_unit_test(jwt_older_key_still_verifies_after_rotation),
        cmocka_unit_test(jwt_rejects_forgeries),
        cmocka_unit_test(jwt_checks_claims),
        cmocka_unit_test(jwt_rejects_malformed),
    };
    int failed = cmocka_run_group_tests(tests, jwt_setup, jwt_teardown);
    if (remove_tree(tmpdir) != 0)
        return 1;
    return failed;
}

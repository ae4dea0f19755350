/* Unit tests for crypto/jwt: sign/verify round trips, time, issuer, audience and type, and
 * the syntax of each claim (the forgeries: test_jwt_forgery.c). */
#include "crypto/jwt_fixture.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_rs256),
        cmocka_unit_test(round_trip_es256),
        cmocka_unit_test(round_trip_eddsa),
        cmocka_unit_test(optional_claims),
        cmocka_unit_test(sign_without_active_key),
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

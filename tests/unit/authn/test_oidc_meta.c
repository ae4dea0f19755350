/* Unit tests for authn/oidc_meta: a provider's discovery document, its issuer bound to the
 * configured one, required endpoints, URLs https (http to loopback only), PKCE and client
 * authentication methods, size bound. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "authn/oidc_meta.h"

#define ISS "https://idp.example.com"

static json_t *doc(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s, s], s:[s]}", "issuer", ISS,
                     "authorization_endpoint", ISS "/authorize", "token_endpoint", ISS "/token",
                     "userinfo_endpoint", ISS "/me", "jwks_uri", ISS "/jwks",
                     "code_challenge_methods_supported", "plain", "S256",
                     "token_endpoint_auth_methods_supported", "client_secret_basic");
}

static gh_err parse(json_t *d, const char *issuer, struct gh_oidc_meta *m, const char **field)
{
    char *text = json_dumps(d, JSON_COMPACT);
    gh_err err = gh_oidc_meta_parse(text, strlen(text), issuer, m, field);
    free(text);
    json_decref(d);
    return err;
}

static void good_document(void **state)
{
    (void)state;
    struct gh_oidc_meta m;
    const char *field = NULL;
    assert_int_equal(parse(doc(), ISS, &m, &field), GH_OK);
    assert_string_equal(m.token_endpoint, ISS "/token");
    assert_string_equal(m.jwks_uri, ISS "/jwks");
    assert_string_equal(m.introspection_endpoint, ""); /* optional */
    assert_true(m.s256);
    assert_false(m.secret_post);
    json_t *d = doc();
    json_object_set_new(d, "introspection_endpoint", json_string(ISS "/introspect"));
    assert_int_equal(parse(d, ISS, &m, &field), GH_OK);
    assert_string_equal(m.introspection_endpoint, ISS "/introspect");
    d = doc();
    json_object_del(d, "userinfo_endpoint");
    json_object_del(d, "code_challenge_methods_supported");
    json_object_set_new(d, "token_endpoint_auth_methods_supported",
                        json_pack("[s]", "client_secret_post"));
    assert_int_equal(parse(d, ISS, &m, &field), GH_OK);
    assert_string_equal(m.userinfo_endpoint, "");
    assert_true(m.s256); /* silent: assumed, the provider refuses otherwise */
    assert_true(m.secret_post);
    d = doc();
    json_object_set_new(d, "code_challenge_methods_supported", json_pack("[s]", "plain"));
    assert_int_equal(parse(d, ISS, &m, &field), GH_OK);
    assert_false(m.s256);
}

static void refusals(void **state)
{
    (void)state;
    struct gh_oidc_meta m;
    const struct {
        const char *key;
        json_t *value;
        const char *field;
    } cases[] = {
        {"issuer", json_string(ISS "/"), "issuer"},
        {"issuer", json_string("https://evil.example.com"), "issuer"},
        {"issuer", NULL, "issuer"},
        {"authorization_endpoint", NULL, "authorization_endpoint"},
        {"authorization_endpoint", json_string("http://idp.example.com/a"),
         "authorization_endpoint"},
        {"token_endpoint", json_integer(1), "token_endpoint"},
        {"token_endpoint", json_string("javascript:alert(1)"), "token_endpoint"},
        {"userinfo_endpoint", json_string("https://u@idp.example.com/"), "userinfo_endpoint"},
        {"introspection_endpoint", json_string("http://idp.example.com/i"),
         "introspection_endpoint"},
        {"jwks_uri", NULL, "jwks_uri"},
        {"jwks_uri", json_string("file:///etc/passwd"), "jwks_uri"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *d = doc();
        const char *field = NULL;
        if (cases[i].value != NULL)
            json_object_set_new(d, cases[i].key, cases[i].value);
        else
            json_object_del(d, cases[i].key);
        assert_int_equal(parse(d, ISS, &m, &field), GH_ERR_INVALID);
        assert_string_equal(field, cases[i].field);
    }
    const char *field = NULL;
    assert_int_equal(gh_oidc_meta_parse("[1]", 3, ISS, &m, &field), GH_ERR_INVALID);
    assert_int_equal(gh_oidc_meta_parse("{\"issuer\":1,\"issuer\":2}", 24, ISS, &m, &field),
                     GH_ERR_INVALID);
    char *big = malloc(GH_OIDC_META_MAX + 1);
    memset(big, ' ', GH_OIDC_META_MAX + 1);
    assert_int_equal(gh_oidc_meta_parse(big, GH_OIDC_META_MAX + 1, ISS, &m, &field),
                     GH_ERR_TOO_LARGE);
    free(big);
    /* loopback providers (local IdPs, tests) may speak http */
    json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "issuer", "http://127.0.0.1:9000",
                          "authorization_endpoint", "http://127.0.0.1:9000/auth", "token_endpoint",
                          "http://127.0.0.1:9000/token", "jwks_uri", "http://127.0.0.1:9000/jwks");
    assert_int_equal(parse(d, "http://127.0.0.1:9000", &m, &field), GH_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_document),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

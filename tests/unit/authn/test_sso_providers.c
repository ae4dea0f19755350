/* Unit tests for authn/sso_providers: the providers of sso.providers (sealed secrets that
 * open again, errors naming the line and the field, names unique across config and store),
 * and the admin calls refused to anyone but a superadmin. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "authn/sso_providers.h"
#include "crypto/store_fixture.h"

struct fixture {
    struct store_fixture s;
    struct gh_datakeys *dk;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    uint8_t master[32];
    randombytes_buf(master, sizeof(master));
    if (f == NULL || store_fixture_open(&f->s) != 0 ||
        gh_datakeys_open(&f->s.h, master, 10, &f->dk) != GH_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gh_datakeys_free(f->dk);
    store_fixture_close(&f->s);
    free(f);
    return 0;
}

/* The registry's options over config lines, without discovery checks. */
#define OPTS(lines) (&(const struct gh_ssop_opts){(lines), 1000, 0})

#define CORP                                                                                       \
    "{\"name\":\"corp\",\"type\":\"oidc\",\"issuer\":\"https://idp.example.com\","                 \
    "\"client_id\":\"gh\",\"client_secret\":\"top-secret\"}"
#define BETA "{\"name\":\"beta\",\"type\":\"oidc\",\"preset\":\"google\",\"client_id\":\"g\"}"

static void config_secrets_sealed_and_opened(void **state)
{
    struct fixture *f = *state;
    struct gh_ssop *r = NULL;
    struct gh_sso_provider p;
    char err[200] = "", secret[GH_SSO_SECRET_MAX + 1];
    assert_int_equal(
        gh_ssop_new(&f->s.h, f->dk, OPTS(CORP "\n\n  \n" BETA "\n"), 5, err, sizeof(err), &r),
        GH_OK);
    assert_int_equal(gh_ssop_find(r, "corp", &p), GH_OK);
    assert_memory_equal(p.client_secret, "enc:v1:", 7);
    assert_null(strstr(p.client_secret, "top-secret"));
    assert_int_equal(gh_ssop_secret(r, &p, secret, sizeof(secret)), GH_OK);
    assert_string_equal(secret, "top-secret");
    /* Bound to the name: under another name it does not open. */
    snprintf(p.name, sizeof(p.name), "%s", "other");
    assert_int_equal(gh_ssop_secret(r, &p, secret, sizeof(secret)), GH_ERR_AUTH);
    assert_int_equal(gh_ssop_find(r, "beta", &p), GH_OK);
    assert_int_equal(gh_ssop_secret(r, &p, secret, sizeof(secret)), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_ssop_find(r, "nobody", &p), GH_ERR_NOT_FOUND);

    struct gh_identity who;
    memset(&who, 0, sizeof(who));
    int from_config = 0;
    assert_int_equal(gh_ssop_get(r, &who, "corp", &p, &from_config), GH_ERR_FORBIDDEN);
    who.superadmin = 1;
    assert_int_equal(gh_ssop_get(r, &who, "corp", &p, &from_config), GH_OK);
    assert_true(from_config);
    gh_ssop_free(r);
}

static void config_errors_name_line_and_field(void **state)
{
    struct fixture *f = *state;
    struct gh_ssop *r = NULL;
    char err[200] = "";
    assert_int_equal(gh_ssop_new(&f->s.h, f->dk, OPTS(CORP "\n" CORP), 5, err, sizeof(err), &r),
                     GH_ERR_INVALID);
    assert_string_equal(err, "line 2: name: a second provider of that name");
    assert_int_equal(gh_ssop_new(&f->s.h, f->dk, OPTS("{\"name\":\"x\",\"type\":\"oidc\"}"), 5, err,
                                 sizeof(err), &r),
                     GH_ERR_INVALID);
    assert_string_equal(err, "line 1: issuer: unacceptable, missing or ill-typed value");
    assert_int_equal(gh_ssop_new(&f->s.h, f->dk, OPTS("[1]"), 5, err, sizeof(err), &r),
                     GH_ERR_INVALID);
    assert_string_equal(err, "line 1: expected one JSON object");
    assert_null(r);

    /* A name the store holds too cannot come from the config. */
    struct gh_sso_provider p;
    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", "corp");
    snprintf(p.type, sizeof(p.type), "%s", "oidc");
    assert_int_equal(gh_store_sso_provider_create(&f->s.h, &p), GH_OK);
    assert_int_equal(gh_ssop_new(&f->s.h, f->dk, OPTS(CORP), 5, err, sizeof(err), &r),
                     GH_ERR_INVALID);
    assert_non_null(strstr(err, "\"corp\" is also kept in the database"));
}

static void admin_calls_need_a_superadmin(void **state)
{
    struct fixture *f = *state;
    struct gh_ssop *r = NULL;
    struct gh_sso_provider p;
    struct gh_sso_spec spec;
    struct gh_identity who;
    struct gh_reqmeta meta;
    struct gh_ssop_refusal why = {NULL, NULL};
    char err[200];
    memset(&who, 0, sizeof(who));
    memset(&meta, 0, sizeof(meta));
    memset(&spec, 0, sizeof(spec));
    assert_int_equal(gh_ssop_new(&f->s.h, f->dk, OPTS(""), 5, err, sizeof(err), &r), GH_OK);
    assert_int_equal(gh_ssop_create(r, &who, &spec, &meta, &p, &why), GH_ERR_FORBIDDEN);
    assert_int_equal(gh_ssop_update(r, &who, "x", &spec, &meta, &p, &why), GH_ERR_FORBIDDEN);
    assert_int_equal(gh_ssop_delete(r, &who, "x", &meta), GH_ERR_FORBIDDEN);
    gh_ssop_free(r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(config_secrets_sealed_and_opened, setup, teardown),
        cmocka_unit_test_setup_teardown(config_errors_name_line_and_field, setup, teardown),
        cmocka_unit_test_setup_teardown(admin_calls_need_a_superadmin, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

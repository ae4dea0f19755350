/* edge/origin: the public origin, the CSRF origin check, return-to URLs (no open redirect). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "edge/origin.h"

static void origin_of_urls(void **state)
{
    (void)state;
    char o[GH_ORIGIN_MAX];
    assert_int_equal(gh_origin_of("https://Auth.Example.COM/base/", o), GH_OK);
    assert_string_equal(o, "https://auth.example.com");
    assert_int_equal(gh_origin_of("https://auth.example.com:443", o), GH_OK);
    assert_string_equal(o, "https://auth.example.com");
    assert_int_equal(gh_origin_of("http://127.0.0.1:8080", o), GH_OK);
    assert_string_equal(o, "http://127.0.0.1:8080");
    assert_int_equal(gh_origin_of("http://[::1]:8080/", o), GH_OK);
    assert_string_equal(o, "http://[::1]:8080");
    assert_int_equal(gh_origin_of("ftp://x", o), GH_ERR_INVALID);
    assert_int_equal(gh_origin_of("https://", o), GH_ERR_INVALID);
    assert_int_equal(gh_origin_of("https://u@host", o), GH_ERR_INVALID);
    assert_int_equal(gh_origin_of("https://host:99999", o), GH_ERR_INVALID);
}

static void same_origin_refuses_tricks(void **state)
{
    (void)state;
    const char *me = "https://auth.example.com";
    assert_true(gh_origin_same(me, "https://auth.example.com", NULL));
    assert_true(gh_origin_same(me, "https://AUTH.example.com:443", NULL));
    assert_true(gh_origin_same(me, NULL, "https://auth.example.com/login?rd=x"));
    assert_false(gh_origin_same(me, NULL, NULL));
    assert_false(gh_origin_same(me, "null", NULL));
    assert_false(gh_origin_same(me, "null", "https://auth.example.com/"));
    assert_false(gh_origin_same(me, "http://auth.example.com", NULL));
    assert_false(gh_origin_same(me, "https://auth.example.com:8443", NULL));
    assert_false(gh_origin_same(me, "https://auth.example.com.evil.example", NULL));
    assert_false(gh_origin_same(me, "https://evilauth.example.com", NULL));
    assert_false(gh_origin_same(me, "https://sub.auth.example.com", NULL));
    assert_false(gh_origin_same(me, "https://auth.example.com/path", NULL));
    assert_false(gh_origin_same(me, NULL, "https://auth.example.com.evil.example/"));
    assert_false(gh_origin_same(me, NULL, "https://auth.example.com@evil.example/"));
    /* an Origin that disagrees wins over a Referer that agrees */
    assert_false(gh_origin_same(me, "https://evil.example", "https://auth.example.com/"));
}

static void redirects_never_open(void **state)
{
    (void)state;
    const char *me = "https://auth.example.com";
    const char *allowed = "app.example.com, *.apps.example.com";
    assert_true(gh_redirect_ok(me, allowed, "/account"));
    assert_true(gh_redirect_ok(me, allowed, "/admin?tab=users"));
    assert_true(gh_redirect_ok(me, allowed, "https://auth.example.com/x"));
    assert_true(gh_redirect_ok(me, allowed, "https://app.example.com/dash?a=1"));
    assert_true(gh_redirect_ok(me, allowed, "https://APP.example.com"));
    assert_true(gh_redirect_ok(me, allowed, "https://one.apps.example.com/"));
    assert_true(gh_redirect_ok(me, "", "/x%20y"));
    const char *bad[] = {
        "//evil.example",
        "//evil.example/path",
        "/\\evil.example",
        "/%5cevil.example",
        "/%5Cevil.example",
        "/%2f%2fevil.example",
        "https:evil.example",
        "https:/evil.example",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,x",
        "https://good.example@evil.example",
        "https://auth.example.com@evil.example",
        "https://auth.example.com.evil.example/",
        "https://evil.example",
        "https://apps.example.com/", /* *.apps covers subdomains only */
        "https://xapp.example.com/",
        "https://app.example.com\\@evil.example",
        "https://app.example.com:99999/",
        "http://app.example.com%2eevil.example/",
        "/x\r\nLocation: https://evil.example",
        "/x y",
        "evil.example",
        "",
        "%2f%2fevil.example",
        "/%zz",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (gh_redirect_ok(me, allowed, bad[i]))
            fail_msg("followed: %s", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(origin_of_urls),
        cmocka_unit_test(same_origin_refuses_tricks),
        cmocka_unit_test(redirects_never_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

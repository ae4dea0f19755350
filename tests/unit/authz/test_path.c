/*
 * Unit tests for authz/rules' gh_path_normalize: the original request path of a
 * ForwardAuth check, normalized before the route rules see it (test_rules.c). Cases marked
 * REGRESSION pin bugs this suite found (now fixed); each is described where it is declared.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "authz/rules.h"

/* A case's length: len, or strlen(s) when 0 (for cases with embedded NULs). */
static size_t case_len(const char *s, size_t len)
{
    return len != 0 ? len : strlen(s);
}

/* ---------------------------------------------------------------------------------------- */
/* gh_path_normalize                                                                         */

struct norm_case {
    const char *in;
    size_t len; /* 0: strlen(in) */
    gh_err err;
    const char *out; /* on GH_OK */
};

#define OK(in, out)                                                                                \
    {                                                                                              \
        in, 0, GH_OK, out                                                                          \
    }
#define BAD(in)                                                                                    \
    {                                                                                              \
        in, 0, GH_ERR_INVALID, NULL                                                                \
    }

static const struct norm_case norm_cases[] = {
    /* plain paths */
    OK("/", "/"),
    OK("/a", "/a"),
    OK("/a/b", "/a/b"),
    OK("/a/b/", "/a/b/"),
    OK("/a/...", "/a/..."),
    OK("/a/.b/..c/c..", "/a/.b/..c/c.."),
    /* ";params" removed from each segment, nothing else */
    OK("/a;jsessionid=x/b", "/a/b"),
    OK("/a/b;jsessionid=x", "/a/b"),
    OK("/a/b;", "/a/b"),
    OK("/a;x;y=/b/", "/a/b/"),
    /* dots that do not make a whole segment */
    OK("/a/%2e%2e%2e", "/a/..."),
    OK("/a/.x;y", "/a/.x"),
    OK("/a/x.;y", "/a/x."),
    OK("/a/%2ex", "/a/.x"),
    /* decoded ';', '?' and '#' are written back encoded */
    OK("/a%3bb/c", "/a%3Bb/c"),
    OK("/a%3F", "/a%3F"),
    OK("/a%23", "/a%23"),
    /* query and fragment cut off */
    OK("/a?x=1", "/a"),
    OK("/a?x=/../../..", "/a"),
    OK("/a/?x", "/a/"),
    BAD("/a#frag"), /* a request never carries a fragment: a raw # is refused */
    BAD("/a#x?y"),
    BAD("/a?q#x"),
    BAD("/public/..#/../admin"),
    OK("/a?\\%zz\x01", "/a"),
    /* decoding */
    OK("/a%20b", "/a b"),
    OK("/%41%42c", "/ABc"),
    OK("/%7e", "/~"),
    OK("/a%2Db", "/a-b"),
    /* non-ASCII UTF-8 kept, raw or encoded */
    OK("/caf\xc3\xa9", "/caf\xc3\xa9"),
    OK("/caf%C3%A9", "/caf\xc3\xa9"),
    OK("/\xe2\x82\xac/\xf0\x9f\x94\x91", "/\xe2\x82\xac/\xf0\x9f\x94\x91"),
    /* anything else that is not UTF-8 refused: overlong dots read as '.' by lax decoders */
    BAD("/admin/%c0%ae%c0%ae/public/x"),
    BAD("/admin/%C0%AE/x"),
    BAD("/admin/%e0%80%ae%e0%80%ae/public/x"),
    BAD("/admin/%f0%80%80%ae/x"),
    BAD("/a\xc0\xae"),
    BAD("/a%80"),
    BAD("/a%c3"),
    BAD("/a%ed%a0%80"),
    BAD("/a%f4%90%80%80"),
    BAD("/a%ff"),
    /* encoded separators and NUL refused */
    BAD("/a%2Fb"),
    BAD("/a%2fb"),
    BAD("/a/%2e%2e%2fadmin"),
    BAD("/a%5cb"),
    BAD("/a%5Cb"),
    BAD("/a%00b"),
    BAD("/a%00"),
    /* raw backslash and control characters refused */
    BAD("/a\\b"),
    BAD("/a\\..\\b"),
    BAD("/a\x01"),
    BAD("/a\tb"),
    BAD("/a\r\n"),
    BAD("/a\x7f"),
    BAD("/a%0d%0aX: y"),
    BAD("/a%09"),
    BAD("/a%7F"),
    {"/a\0b", 4, GH_ERR_INVALID, NULL},
    {"/\0", 2, GH_ERR_INVALID, NULL},
    /* bad escapes */
    BAD("/a%"),
    BAD("/a%2"),
    BAD("/a%2/b"),
    BAD("/a%zz"),
    BAD("/a%g0"),
    BAD("/a%0g"),
    BAD("/%%41"),
    BAD("/a%+1"),
    /* ".." at the root */
    BAD("/.."),
    BAD("/../"),
    BAD("/../a"),
    BAD("/a/../.."),
    BAD("/a/../../b"),
    BAD("//.."),
    BAD("/%2e%2e"),
    BAD("/%2e%2e/a"),
    BAD("/..;/admin"),
    BAD("/a/..;/..;/b"),
    /* not an absolute path */
    BAD(""),
    BAD("a"),
    BAD("a/b"),
    BAD("./a"),
    BAD("../a"),
    BAD("?x=1"),
    BAD("#x"),
    BAD("*"),
    BAD("http://host/a"),
    BAD("HTTP://host/a/../b"),
    BAD("%2fa"),
    BAD(" /a"),
    BAD("\\a"),
};

/*
 * REGRESSION (rules.c, decode_segment): everything after a ';' in a segment is skipped
 * without any check, so the refusals the contract promises ("an encoded '/' or '\' or NUL,
 * a raw '\' or control character, a bad escape") do not apply to ";params". A backend
 * that does not strip ";params" (most besides Tomcat/Jetty) and that treats '\' as '/'
 * sees "/public;\..\admin" as "/admin" while Gatehouse matches "/public".
 * Expected: GH_ERR_INVALID for each input below. Was: GH_OK ("/public", "/a", ...).
 */
static const struct norm_case norm_param_bug_cases[] = {
    BAD("/public;\\..\\admin"),
    BAD("/a;x\\y"),
    BAD("/a;%2f..%2fadmin"),
    BAD("/a;%5c"),
    BAD("/a;%00"),
    BAD("/a;\x01"),
    BAD("/a;\t"),
    BAD("/a;%zz"),
    BAD("/a;%2"),
    {"/a;\0", 4, GH_ERR_INVALID, NULL},
};

/*
 * REGRESSION (rules.c, gh_path_normalize): dot segments were resolved after ";params"
 * were stripped and "%2e" decoded, so "/admin/..;/public/x" was judged as "/public/x"
 * while an app routing on the raw path (Node, Go's ServeMux, Express, most Python stacks)
 * runs its /admin handler; empty segments were merged ("//public/admin/x" judged as
 * "/public/admin/x", which Node's URL parser reads as host "public", path "/admin/x").
 * Expected: GH_ERR_INVALID for each input below. Was: GH_OK ("/public/x", "/a/b", ...).
 */
static const struct norm_case norm_dot_bug_cases[] = {
    /* raw */
    BAD("/."),
    BAD("/./"),
    BAD("/a/."),
    BAD("/a/./b"),
    BAD("/a/.."),
    BAD("/a/../"),
    BAD("/a/../b"),
    BAD("/admin/../public/x"),
    BAD("/a/b/../../c/./d/"),
    /* encoded, whole or in part, either case */
    BAD("/a/%2e"),
    BAD("/a/%2E/b"),
    BAD("/admin/%2e%2e/public/x"),
    BAD("/admin/%2E%2E/public/x"),
    BAD("/admin/%2e%2E/public/x"),
    BAD("/admin/.%2e/public/x"),
    BAD("/admin/%2e./public/x"),
    BAD("/admin/.%2E/public/x"),
    /* before ";params", raw or encoded ';' */
    BAD("/admin/..;/public/x"),
    BAD("/admin/..;x/public/x"),
    BAD("/admin/..;jsessionid=1/public/x"),
    BAD("/admin/.;/x"),
    BAD("/admin/.;x/x"),
    BAD("/admin/%2e%2e;x/public/x"),
    BAD("/admin/.%2e;/public/x"),
    BAD("/admin/..%3b/public/x"),
    BAD("/admin/..%3Bx/public/x"),
    BAD("/admin/%2e%3B/x"),
    BAD("/admin;x/../public/x"),
    /* double encoding: "%252e" is "%2e" decoded once, '.' decoded twice */
    BAD("/admin/%252e%252e/public/x"),
    BAD("/admin/%252E%252E/public/x"),
    BAD("/admin/%252e./public/x"),
    BAD("/admin/..%252f/public/x"),
    BAD("/a%25"),
    BAD("/a;%2525"),
    /* empty segments, also once ";params" are gone; a trailing slash is not one */
    BAD("//"),
    BAD("//a"),
    BAD("//public/admin/x"),
    BAD("/a//b"),
    BAD("/a//"),
    BAD("/a///b///"),
    BAD("/;x/a"),
    BAD("/a/;x"),
    BAD("/a/;"),
    BAD("/a/%3Bx/b"),
};

static int run_norm_cases(const struct norm_case *cases, size_t n)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const struct norm_case *c = &cases[i];
        size_t len = case_len(c->in, c->len);
        char out[512];
        memset(out, 'X', sizeof(out));
        gh_err e = gh_path_normalize(c->in, len, out, sizeof(out));
        if (e != c->err || (e == GH_OK && strcmp(out, c->out) != 0)) {
            print_error("gh_path_normalize(\"%.*s\") = %d \"%s\", expected %d \"%s\"\n", (int)len,
                        c->in, e, e == GH_OK ? out : "", c->err, c->out ? c->out : "");
            failures++;
        }
    }
    return failures;
}

static void path_normalize_table(void **state)
{
    (void)state;
    assert_true(sizeof(norm_cases) / sizeof(norm_cases[0]) >= 40);
    assert_int_equal(run_norm_cases(norm_cases, sizeof(norm_cases) / sizeof(norm_cases[0])), 0);
}

static void path_normalize_params_checked(void **state)
{
    (void)state;
    assert_int_equal(run_norm_cases(norm_param_bug_cases,
                                    sizeof(norm_param_bug_cases) / sizeof(norm_param_bug_cases[0])),
                     0);
}

static void path_normalize_bounds(void **state)
{
    (void)state;
    char out[64];
    /* len bounds the input: bytes past it are never read. */
    assert_int_equal(gh_path_normalize("/ab/../cd", 3, out, sizeof(out)), GH_OK);
    assert_string_equal(out, "/ab");
    assert_int_equal(gh_path_normalize("/a\\b", 2, out, sizeof(out)), GH_OK);
    assert_string_equal(out, "/a");

    /* out must hold the path part + 2: "/abc" needs 6 bytes. */
    assert_int_equal(gh_path_normalize("/abc", 4, out, 6), GH_OK);
    assert_string_equal(out, "/abc");
    assert_int_equal(gh_path_normalize("/abc", 4, out, 5), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_path_normalize("/abc", 4, out, 1), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_path_normalize("/abc", 4, out, 0), GH_ERR_TOO_LARGE);
    /* The query does not count. */
    assert_int_equal(gh_path_normalize("/a?0123456789", 13, out, 4), GH_OK);
    assert_string_equal(out, "/a");
    /* A long path and an exactly sized buffer. */
    char in[4000], big[4002];
    in[0] = '/';
    for (size_t i = 1; i < sizeof(in); i++)
        in[i] = (i % 10 == 0) ? '/' : 'x';
    assert_int_equal(gh_path_normalize(in, sizeof(in), big, sizeof(big)), GH_OK);
    assert_int_equal(strlen(big), sizeof(in));
    assert_memory_equal(big, in, sizeof(in));
    assert_int_equal(gh_path_normalize(in, sizeof(in), big, sizeof(big) - 1), GH_ERR_TOO_LARGE);
}

static void path_normalize_dot_segments_refused(void **state)
{
    (void)state;
    assert_int_equal(run_norm_cases(norm_dot_bug_cases,
                                    sizeof(norm_dot_bug_cases) / sizeof(norm_dot_bug_cases[0])),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(path_normalize_table),
        cmocka_unit_test(path_normalize_params_checked),
        cmocka_unit_test(path_normalize_dot_segments_refused),
        cmocka_unit_test(path_normalize_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

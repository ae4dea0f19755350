/* Unit tests for authn/policy: length in code points, composition, guessability, encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "authn/policy.h"

/* The configuration defaults: 8..128 code points, no composition rules, zxcvbn >= 20 bits. */
static const struct gh_policy defaults = {8, 128, 0, 0, 0, 0, 1, 20};

static unsigned check_n(const struct gh_policy *p, const char *pw, size_t len,
                        const char *const *words)
{
    unsigned failed = 0xdead;
    gh_err err = gh_policy_check(p, pw, len, words, &failed);
    assert_true(err == GH_OK || err == GH_ERR_POLICY);
    assert_int_equal(err == GH_OK, failed == 0);
    return failed;
}

static unsigned check(const struct gh_policy *p, const char *pw, const char *const *words)
{
    return check_n(p, pw, strlen(pw), words);
}

static void length_in_code_points(void **state)
{
    (void)state;
    struct gh_policy p = defaults;
    p.reject_common = 0;
    assert_int_equal(strlen("ééééééé"), 14);
    assert_int_equal(check(&p, "ééééééé", NULL), GH_RULE_TOO_SHORT); /* 7 chars, 14 bytes */
    assert_int_equal(check(&p, "éééééééé", NULL), 0);
    assert_int_equal(check(&p, "😀😀😀😀😀😀😀", NULL), GH_RULE_TOO_SHORT); /* 28 bytes */
    assert_int_equal(check(&p, "abcdefg", NULL), GH_RULE_TOO_SHORT);
    assert_int_equal(check(&p, "abcdefgh", NULL), 0);
    assert_int_equal(check(&p, "", NULL), GH_RULE_TOO_SHORT);
}

static void max_length(void **state)
{
    (void)state;
    /* A 128-character passphrase of real words passes every default rule, zxcvbn included. */
    char pw[600];
    const char *words = "correct horse battery staple ";
    size_t n = 0;
    while (n < 128) {
        pw[n] = words[n % strlen(words)];
        n++;
    }
    pw[n] = '\0';
    assert_int_equal(check(&defaults, pw, NULL), 0);
    pw[128] = 'x';
    pw[129] = '\0';
    assert_int_equal(check(&defaults, pw, NULL), GH_RULE_TOO_LONG);

    /* 128 two-byte characters are 256 bytes and still 128 characters */
    struct gh_policy p = defaults;
    p.reject_common = 0;
    for (size_t i = 0; i < 129; i++)
        memcpy(pw + 2 * i, "ß", 2);
    assert_int_equal(check_n(&p, pw, 256, NULL), 0);
    assert_int_equal(check_n(&p, pw, 258, NULL), GH_RULE_TOO_LONG);
}

static void composition_rules_are_options(void **state)
{
    (void)state;
    struct gh_policy p = defaults;
    p.reject_common = 0;
    /* off by default */
    assert_int_equal(check(&p, "alllowercase", NULL), 0);
    assert_int_equal(check(&p, "ALLUPPERCASE", NULL), 0);

    p.require_upper = 1;
    assert_int_equal(check(&p, "no upper case", NULL), GH_RULE_UPPER);
    assert_int_equal(check(&p, "One upper case", NULL), 0);
    p = defaults;
    p.reject_common = 0;
    p.require_lower = 1;
    assert_int_equal(check(&p, "NO LOWER CASE", NULL), GH_RULE_LOWER);
    assert_int_equal(check(&p, "NO LOWER CASe", NULL), 0);
    p = defaults;
    p.reject_common = 0;
    p.require_digit = 1;
    assert_int_equal(check(&p, "no digits here", NULL), GH_RULE_DIGIT);
    assert_int_equal(check(&p, "one digit 7 here", NULL), 0);
    p = defaults;
    p.reject_common = 0;
    p.require_symbol = 1;
    assert_int_equal(check(&p, "NoSymbolsHere42", NULL), GH_RULE_SYMBOL);
    assert_int_equal(check(&p, "NoSymbolsHere42!", NULL), 0);
    assert_int_equal(check(&p, "spaces count", NULL), 0);
    assert_int_equal(check(&p, "Grüße1234", NULL), 0); /* non-ASCII counts as a symbol */

    p.require_upper = p.require_lower = p.require_digit = 1;
    assert_int_equal(check(&p, "Aa1!aaaa", NULL), 0);
}

static void common_passwords_rejected(void **state)
{
    (void)state;
    const char *common[] = {"password123", "letmein12", "qwertyuiop",
                            "P@ssw0rd",    "12345678",  "aaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        assert_int_equal(check(&defaults, common[i], NULL), GH_RULE_COMMON);

    assert_int_equal(check(&defaults, "correct horse battery staple", NULL), 0);
    assert_int_equal(check(&defaults, "Tr0ub4dor&3", NULL), 0);
    assert_int_equal(check(&defaults, "S3cure-Passw0rd!", NULL), 0); /* 27.7 bits */
    assert_int_equal(check(&defaults, "kxm2vq8z", NULL), 0);

    /* the threshold is the configured one */
    struct gh_policy p = defaults;
    p.min_entropy_bits = 30;
    assert_int_equal(check(&p, "S3cure-Passw0rd!", NULL), GH_RULE_COMMON);
    p.min_entropy_bits = 0;
    assert_int_equal(check(&p, "password123", NULL), 0);
    /* and the check is an option */
    p = defaults;
    p.reject_common = 0;
    assert_int_equal(check(&p, "password123", NULL), 0);
}

static void user_words_rejected(void **state)
{
    (void)state;
    const char *const words[] = {"bobbytables", "bob@example.com", "Robert Tables", NULL};
    assert_int_equal(check(&defaults, "bobbytables", words), GH_RULE_COMMON);
    assert_int_equal(check(&defaults, "BobbyTables", words), GH_RULE_COMMON);
    /* 23.3 bits by itself: only the user's own words make it guessable */
    assert_int_equal(check(&defaults, "Bobbytables1", NULL), 0);
    assert_int_equal(check(&defaults, "Bobbytables1", words), GH_RULE_COMMON);
    assert_int_equal(check(&defaults, "xX-bob@example.com-Xx", words), GH_RULE_COMMON);
    /* parts of the name and the e-mail address, four bytes or more */
    assert_int_equal(check(&defaults, "Zebra-Quilt-42-ROBERT", words), GH_RULE_COMMON);
    assert_int_equal(check(&defaults, "Zebra-Quilt-42-tables", words), GH_RULE_COMMON);
    assert_int_equal(check(&defaults, "Zebra-Quilt-42-bob", words), 0); /* "bob" is too short */
    assert_int_equal(check(&defaults, "Zebra-Quilt-42", words), 0);
    assert_int_equal(check(&defaults, "correct horse battery staple", words), 0);

    /* a short user word still may not be the whole password */
    struct gh_policy p = defaults;
    p.min_length = 1;
    const char *const short_name[] = {"Zed", NULL};
    assert_int_equal(check(&p, "zed", short_name), GH_RULE_COMMON);
}

static void bad_encoding_rejected(void **state)
{
    (void)state;
    assert_int_equal(check_n(&defaults, "abc\0defgh", 9, NULL), GH_RULE_ENCODING);
    assert_int_equal(check_n(&defaults, "correct horse\0battery staple", 28, NULL),
                     GH_RULE_ENCODING);
    const char *bad[] = {
        "bad \xff\xfe utf8 here",  /* never valid */
        "overlong \xc0\xaf slash", /* overlong '/' */
        "overlong \xe0\x80\xaf three",
        "surrogate \xed\xa0\x80 half",
        "past max \xf4\x90\x80\x80 code point",
        "lone \x80 continuation",
        "truncated at the end \xe2\x82",
        "tab\tinside password",
        "newline\ninside password",
        "delete\x7finside password",
        "C1 \xc2\x85 next line control",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(check(&defaults, bad[i], NULL), GH_RULE_ENCODING);
    /* and the well-formed neighbours pass */
    assert_int_equal(check(&defaults, "euro \xe2\x82\xac sign, fine", NULL), 0);
    assert_int_equal(check(&defaults, "nbsp \xc2\xa0 and more text", NULL), 0);
}

static void every_failure_reported(void **state)
{
    (void)state;
    struct gh_policy p = defaults;
    p.require_upper = p.require_digit = p.require_symbol = 1;
    assert_int_equal(check(&p, "short", NULL), GH_RULE_TOO_SHORT | GH_RULE_UPPER | GH_RULE_DIGIT |
                                                   GH_RULE_SYMBOL | GH_RULE_COMMON);
    assert_int_equal(check(&p, "letmein12", NULL), GH_RULE_UPPER | GH_RULE_SYMBOL | GH_RULE_COMMON);
    /* bad encoding does not hide the other rules */
    assert_int_equal(check_n(&p, "ab\0", 3, NULL), GH_RULE_ENCODING | GH_RULE_TOO_SHORT |
                                                       GH_RULE_UPPER | GH_RULE_DIGIT |
                                                       GH_RULE_SYMBOL);
    const char *const words[] = {"alice", NULL};
    p.require_upper = p.require_digit = p.require_symbol = 0;
    assert_int_equal(check(&p, "alice", words), GH_RULE_TOO_SHORT | GH_RULE_COMMON);
}

static void rule_names(void **state)
{
    (void)state;
    const char *names[GH_RULE_COUNT] = {"too_short", "too_long", "upper",  "lower",
                                        "digit",     "symbol",   "common", "encoding"};
    for (unsigned bit = 0; bit < GH_RULE_COUNT; bit++)
        assert_string_equal(gh_policy_rule_name((enum gh_policy_rule)(1u << bit)), names[bit]);
    assert_string_equal(gh_policy_rule_name((enum gh_policy_rule)(1u << GH_RULE_COUNT)), "unknown");
}

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(length_in_code_points),
        cmocka_unit_test(max_length),
        cmocka_unit_test(composition_rules_are_options),
        cmocka_unit_test(common_passwords_rejected),
        cmocka_unit_test(user_words_rejected),
        cmocka_unit_test(bad_encoding_rejected),
        cmocka_unit_test(every_failure_reported),
        cmocka_unit_test(rule_names),
    };
    /* clang-format on */
    return cmocka_run_group_tests(tests, NULL, NULL);
}

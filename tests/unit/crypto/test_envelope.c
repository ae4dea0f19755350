/* Unit tests for crypto/envelope: the "enc:v1:<key-id>:<base64url>" text, strictly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/envelope.h"

static void format_and_parse(void **state)
{
    (void)state;
    uint8_t sealed[40], back[64];
    char text[128];
    size_t len = 0, got = 0;
    uint32_t kid = 0;
    for (size_t i = 0; i < sizeof(sealed); i++)
        sealed[i] = (uint8_t)(i * 13);
    assert_int_equal(gh_envelope_format(42, sealed, sizeof(sealed), text, sizeof(text), &len),
                     GH_OK);
    assert_int_equal(len, strlen(text));
    assert_int_equal(len, gh_envelope_len(42, sizeof(sealed)));
    assert_memory_equal(text, "enc:v1:42:", 10);
    assert_true(gh_envelope_is(text, len));
    assert_int_equal(gh_envelope_parse(text, len, &kid, back, sizeof(back), &got), GH_OK);
    assert_int_equal(kid, 42);
    assert_int_equal(got, sizeof(sealed));
    assert_memory_equal(back, sealed, sizeof(sealed));
    assert_int_equal(gh_envelope_key_id(text, len, &kid), GH_OK);
    assert_int_equal(kid, 42);
    /* Too small an output, a key id out of range. */
    assert_int_equal(gh_envelope_format(42, sealed, sizeof(sealed), text, 20, &len),
                     GH_ERR_TOO_LARGE);
    assert_int_equal(gh_envelope_format(0, sealed, sizeof(sealed), text, sizeof(text), &len),
                     GH_ERR_INVALID);
    assert_int_equal(
        gh_envelope_format(2147483648u, sealed, sizeof(sealed), text, sizeof(text), &len),
        GH_ERR_INVALID);
}

/* Each malformed text is GH_ERR_INVALID and leaves the outputs alone. */
static void malformed_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "enc:v1:",
        "enc:v2:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "ENC:v1:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "plain text",
        "enc:v1:0:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:01:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:2147483648:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:99999999999:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:-1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1::AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",   /* padding */
        "enc:v1:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+A",   /* not base64url */
        "enc:v1:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 1 mod 4: truncated */
        "enc:v1:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",     /* non-zero trailing bits */
        "enc:v1:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",      /* 27 bytes: too short */
        "enc:v1:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t out[64];
        uint32_t kid = 7;
        size_t got = 9;
        assert_int_equal(gh_envelope_parse(bad[i], strlen(bad[i]), &kid, out, sizeof(out), &got),
                         GH_ERR_INVALID);
        assert_int_equal(kid, 7);
        assert_int_equal(got, 9);
    }
    /* 28 bytes, the shortest, parse. */
    uint8_t out[64];
    uint32_t kid = 0;
    size_t got = 0;
    const char *ok = "enc:v1:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_int_equal(gh_envelope_parse(ok, strlen(ok), &kid, out, sizeof(out), &got), GH_OK);
    assert_int_equal(got, 28);
    assert_int_equal(gh_envelope_parse(ok, strlen(ok), &kid, out, 27, &got), GH_ERR_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_and_parse),
        cmocka_unit_test(malformed_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* authn/totp: RFC 6238's and RFC 4226's known answers, skew, replay-safe matching, base32. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "authn/totp.h"

static const unsigned char rfc_key[] = "12345678901234567890";
#define RFC_KEY_LEN 20

/* RFC 6238 Appendix B, HMAC-SHA1, 8 digits. */
static void rfc6238_vectors(void **state)
{
    (void)state;
    static const struct {
        int64_t time;
        const char *code;
    } v[] = {{59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
             {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char out[9];
        assert_int_equal(gh_totp_code(rfc_key, RFC_KEY_LEN, v[i].time / GH_TOTP_STEP, 8, out),
                         GH_OK);
        assert_string_equal(out, v[i].code);
    }
}

/* RFC 4226 Appendix D: HOTP values for counters 0..9 are TOTP's for steps 0..9. */
static void rfc4226_vectors(void **state)
{
    (void)state;
    static const char *const want[] = {"755224", "287082", "359152", "969429", "338314",
                                       "254676", "287922", "162583", "399871", "520489"};
    for (int64_t c = 0; c < 10; c++) {
        char out[9];
        assert_int_equal(gh_totp_code(rfc_key, RFC_KEY_LEN, c, 6, out), GH_OK);
        assert_string_equal(out, want[c]);
    }
}

static void match_allows_one_step_of_skew(void **state)
{
    (void)state;
    int64_t now = 1111111111, step = 0, cur = now / GH_TOTP_STEP;
    char code[9];
    for (int64_t d = -1; d <= 1; d++) {
        assert_int_equal(gh_totp_code(rfc_key, RFC_KEY_LEN, cur + d, 6, code), GH_OK);
        assert_int_equal(gh_totp_match(rfc_key, RFC_KEY_LEN, now, code, &step), GH_OK);
        assert_int_equal(step, cur + d);
    }
    /* two steps away: refused */
    assert_int_equal(gh_totp_code(rfc_key, RFC_KEY_LEN, cur + 2, 6, code), GH_OK);
    assert_int_equal(gh_totp_match(rfc_key, RFC_KEY_LEN, now, code, &step), GH_ERR_AUTH);
    assert_int_equal(gh_totp_code(rfc_key, RFC_KEY_LEN, cur - 2, 6, code), GH_OK);
    assert_int_equal(gh_totp_match(rfc_key, RFC_KEY_LEN, now, code, &step), GH_ERR_AUTH);
}

static void match_refuses_malformed_codes(void **state)
{
    (void)state;
    int64_t step = 0;
    const char *bad[] = {"", "12345", "1234567", "12345a", " 12345", "-12345", "12 345"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gh_totp_match(rfc_key, RFC_KEY_LEN, 59, bad[i], &step), GH_ERR_INVALID);
    char out[9];
    assert_int_equal(gh_totp_code(rfc_key, 0, 1, 6, out), GH_ERR_INVALID);
    assert_int_equal(gh_totp_code(rfc_key, RFC_KEY_LEN, 1, 5, out), GH_ERR_INVALID);
    assert_int_equal(gh_totp_code(rfc_key, RFC_KEY_LEN, 1, 9, out), GH_ERR_INVALID);
}

/* RFC 4648 section 10 base32, unpadded, over 20 bytes. */
static void secret_text_is_base32(void **state)
{
    (void)state;
    char text[GH_TOTP_SECRET_TEXT];
    assert_int_equal(gh_totp_secret_text(rfc_key, text), GH_OK);
    assert_string_equal(text, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc6238_vectors),
        cmocka_unit_test(rfc4226_vectors),
        cmocka_unit_test(match_allows_one_step_of_skew),
        cmocka_unit_test(match_refuses_malformed_codes),
        cmocka_unit_test(secret_text_is_base32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

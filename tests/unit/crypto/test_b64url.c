/* Unit tests for crypto/b64url: RFC 4648 section 10 vectors and strict decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/b64url.h"

/* Encodes raw and compares with want, then decodes want back to raw. */
static void round_trip(const char *raw, size_t n, const char *want)
{
    char text[128];
    uint8_t back[128];
    size_t len = 99;
    assert_int_equal(gh_b64url_encoded_len(n), strlen(want));
    assert_int_equal(gh_b64url_encode((const uint8_t *)raw, n, text, sizeof(text), &len), GH_OK);
    assert_int_equal(len, strlen(want));
    assert_string_equal(text, want);
    len = 99;
    assert_int_equal(gh_b64url_decode(want, strlen(want), back, sizeof(back), &len), GH_OK);
    assert_int_equal(len, n);
    assert_memory_equal(back, raw, n);
}

static void rfc4648_vectors(void **state)
{
    (void)state;
    /* RFC 4648 section 10, without the padding section 5 lets us omit. */
    round_trip("", 0, "");
    round_trip("f", 1, "Zg");
    round_trip("fo", 2, "Zm8");
    round_trip("foo", 3, "Zm9v");
    round_trip("foob", 4, "Zm9vYg");
    round_trip("fooba", 5, "Zm9vYmE");
    round_trip("foobar", 6, "Zm9vYmFy");
}

static void url_alphabet(void **state)
{
    (void)state;
    /* 62 and 63 are '-' and '_' (not '+' and '/'). */
    round_trip("\xfb\xff\xbf", 3, "-_-_");
    round_trip("\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93\x51\x55\x97"
               "\x61\x96\x9b\x71\xd7\x9f\x82\x18\xa3\x92\x59\xa7\xa2\x9a\xab\xb2\xdb\xaf"
               "\xc3\x1c\xb3\xd3\x5d\xb7\xe3\x9e\xbb\xf3\xdf\xbf",
               48, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    round_trip("\0\0", 2, "AAA");
}

static gh_err dec(const char *text)
{
    uint8_t out[64];
    size_t len = 12345;
    gh_err err = gh_b64url_decode(text, strlen(text), out, sizeof(out), &len);
    if (err != GH_OK)
        assert_int_equal(len, 12345); /* untouched on failure */
    return err;
}

static void strict_rejections(void **state)
{
    (void)state;
    /* padding */
    assert_int_equal(dec("Zg=="), GH_ERR_INVALID);
    assert_int_equal(dec("Zm8="), GH_ERR_INVALID);
    assert_int_equal(dec("Zg="), GH_ERR_INVALID);
    /* the standard alphabet's 62 and 63 */
    assert_int_equal(dec("+/+/"), GH_ERR_INVALID);
    assert_int_equal(dec("Zm9+"), GH_ERR_INVALID);
    assert_int_equal(dec("Zm9/"), GH_ERR_INVALID);
    /* whitespace, dots, NUL, high bytes */
    assert_int_equal(dec("Zm9v Yg"), GH_ERR_INVALID);
    assert_int_equal(dec("Zm9v\nYg"), GH_ERR_INVALID);
    assert_int_equal(dec("Zm9v.Yg"), GH_ERR_INVALID);
    assert_int_equal(dec("Zm9\xc3\xa9"), GH_ERR_INVALID);
    uint8_t out[8];
    size_t len = 0;
    assert_int_equal(gh_b64url_decode("Zm\0v", 4, out, sizeof(out), &len), GH_ERR_INVALID);
    /* a length of 1 mod 4 can encode nothing */
    assert_int_equal(dec("Z"), GH_ERR_INVALID);
    assert_int_equal(dec("Zm9vY"), GH_ERR_INVALID);
    /* non-zero trailing bits: "Zh" and "Zm9" would also decode to "f" / "fo" */
    assert_int_equal(dec("Zh"), GH_ERR_INVALID);
    assert_int_equal(dec("Zm9"), GH_ERR_INVALID);
    assert_int_equal(dec("Zm_"), GH_ERR_INVALID);
    assert_int_equal(dec("Zg"), GH_OK);
    assert_int_equal(dec("Zm8"), GH_OK);
}

static void buffer_too_small(void **state)
{
    (void)state;
    char text[8];
    size_t len = 77;
    /* "foobar" needs 8 characters and a NUL */
    assert_int_equal(gh_b64url_encode((const uint8_t *)"foobar", 6, text, 8, &len),
                     GH_ERR_TOO_LARGE);
    assert_int_equal(len, 77);
    assert_int_equal(gh_b64url_encode((const uint8_t *)"fooba", 5, text, 8, &len), GH_OK);
    assert_string_equal(text, "Zm9vYmE");
    assert_int_equal(gh_b64url_encode((const uint8_t *)"", 0, text, 0, &len), GH_ERR_TOO_LARGE);

    uint8_t raw[6];
    len = 77;
    assert_int_equal(gh_b64url_decode("Zm9vYmFy", 8, raw, 5, &len), GH_ERR_TOO_LARGE);
    assert_int_equal(len, 77);
    assert_int_equal(gh_b64url_decode("Zm9vYmFy", 8, raw, 6, &len), GH_OK);
    assert_int_equal(len, 6);
    assert_int_equal(gh_b64url_decode("Zm9vYmE", 7, raw, 4, &len), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_b64url_decode("", 0, raw, 0, &len), GH_OK);
    assert_int_equal(len, 0);
}

static void encoded_len(void **state)
{
    (void)state;
    static const size_t want[] = {0, 2, 3, 4, 6, 7, 8, 10};
    for (size_t n = 0; n < sizeof(want) / sizeof(want[0]); n++)
        assert_int_equal(gh_b64url_encoded_len(n), want[n]);
    assert_int_equal(gh_b64url_encoded_len(32), 43); /* a SHA-256 kid */
    assert_int_equal(gh_b64url_encoded_len(64), 86); /* an ES256 / EdDSA signature */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4648_vectors),   cmocka_unit_test(url_alphabet),
        cmocka_unit_test(strict_rejections), cmocka_unit_test(buffer_too_small),
        cmocka_unit_test(encoded_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

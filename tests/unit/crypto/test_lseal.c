/* crypto/lseal: sealed small secrets bound to their owner. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/lseal.h"

static void seal_round_trip_and_refusals(void **state)
{
    (void)state;
    unsigned char key[GH_LSEAL_KEY_LEN], other[GH_LSEAL_KEY_LEN], pt[64];
    char text[256], text2[256];
    size_t n = 0;
    randombytes_buf(key, sizeof(key));
    randombytes_buf(other, sizeof(other));
    const unsigned char secret[20] = "12345678901234567890";
    assert_int_equal(gh_lseal(key, "user-1", secret, sizeof(secret), text, sizeof(text)), GH_OK);
    assert_true(strncmp(text, "lseal:v1:", 9) == 0);
    assert_int_equal(gh_lunseal(key, "user-1", text, pt, sizeof(pt), &n), GH_OK);
    assert_int_equal(n, 20);
    assert_memory_equal(pt, secret, 20);
    /* a fresh nonce each time */
    assert_int_equal(gh_lseal(key, "user-1", secret, sizeof(secret), text2, sizeof(text2)), GH_OK);
    assert_string_not_equal(text, text2);
    /* another owner, another key, altered, not sealed */
    assert_int_equal(gh_lunseal(key, "user-2", text, pt, sizeof(pt), &n), GH_ERR_AUTH);
    assert_int_equal(gh_lunseal(other, "user-1", text, pt, sizeof(pt), &n), GH_ERR_AUTH);
    text[20] = text[20] == 'A' ? 'B' : 'A';
    assert_int_equal(gh_lunseal(key, "user-1", text, pt, sizeof(pt), &n), GH_ERR_AUTH);
    assert_int_equal(gh_lunseal(key, "user-1", "enc:v1:k:abc", pt, sizeof(pt), &n), GH_ERR_INVALID);
    assert_int_equal(gh_lunseal(key, "user-1", "lseal:v1:!!", pt, sizeof(pt), &n), GH_ERR_INVALID);
    assert_int_equal(gh_lunseal(key, "user-1", "lseal:v1:", pt, sizeof(pt), &n), GH_ERR_INVALID);
    /* bounds */
    unsigned char big[65] = {0};
    assert_int_equal(gh_lseal(key, "u", big, sizeof(big), text, sizeof(text)), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_lseal(key, "u", secret, sizeof(secret), text, 20), GH_ERR_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(seal_round_trip_and_refusals)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for crypto/shamir: the field against FIPS-197's worked products, split with
 * fixed coefficients against hand-computed shares, and the property that any threshold
 * shares recover the secret and any fewer do not. Includes the .c for its static
 * functions (gf_mul, gf_inv, split_with). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/shamir.c"

static void field_known_answers(void **state)
{
    (void)state;
    /* FIPS-197 section 4.2: {57} . {83} = {c1}, {57} . {13} = {fe}; 4.2.1: {57} . {02} =
     * {ae}. */
    assert_int_equal(gf_mul(0x57, 0x83), 0xc1);
    assert_int_equal(gf_mul(0x57, 0x13), 0xfe);
    assert_int_equal(gf_mul(0x57, 0x02), 0xae);
    /* The S-box's inverse step: {53}^-1 = {ca}. */
    assert_int_equal(gf_inv(0x53), 0xca);
    assert_int_equal(gf_inv(0), 0);
    for (unsigned a = 1; a < 256; a++) {
        assert_int_equal(gf_mul((uint8_t)a, gf_inv((uint8_t)a)), 1);
        assert_int_equal(gf_mul((uint8_t)a, 1), a);
        assert_int_equal(gf_mul((uint8_t)a, 0), 0);
    }
}

/* f(x) = 0x42 + 0x01 x + 0x03 x^2 (threshold 3): f(1) = 0x42^0x01^0x03 = 0x40,
 * f(2) = 0x42^0x02^(0x03.0x04 = 0x0c) = 0x4c, f(3) = 0x42^0x03^(0x03.0x05 = 0x0f) = 0x4e. */
static void split_known_vector(void **state)
{
    (void)state;
    const uint8_t coefs[] = {0x42, 0x01, 0x03};
    uint8_t shares[3], secret = 0;
    split_with(coefs, 1, 3, 3, shares);
    assert_int_equal(shares[0], 0x40);
    assert_int_equal(shares[1], 0x4c);
    assert_int_equal(shares[2], 0x4e);
    const uint8_t xs[] = {3, 1, 2}, ys[] = {0x4e, 0x40, 0x4c};
    assert_int_equal(gh_shamir_combine(xs, ys, 3, 1, &secret), GH_OK);
    assert_int_equal(secret, 0x42);
}

/* Any threshold of n shares recovers the secret; any threshold - 1 give something else. */
static void any_threshold_recovers_fewer_do_not(void **state)
{
    (void)state;
    for (unsigned n = 2; n <= 7; n++) {
        for (unsigned m = 2; m <= n; m++) {
            uint8_t secret[32], got[32], shares[7 * 32], xs[7], ys[7 * 32];
            randombytes_buf(secret, sizeof(secret));
            assert_int_equal(gh_shamir_split(secret, 32, n, m, shares), GH_OK);
            /* Every subset of the n shares, by bit mask. */
            for (unsigned mask = 1; mask < (1u << n); mask++) {
                size_t k = 0;
                for (unsigned i = 0; i < n; i++) {
                    if (mask & (1u << i)) {
                        xs[k] = (uint8_t)(i + 1);
                        memcpy(ys + k * 32, shares + i * 32, 32);
                        k++;
                    }
                }
                if (k < 2)
                    continue;
                assert_int_equal(gh_shamir_combine(xs, ys, k, 32, got), GH_OK);
                if (k >= m)
                    assert_memory_equal(got, secret, 32);
                else
                    assert_memory_not_equal(got, secret, 32);
            }
        }
    }
}

static void bounds_refused(void **state)
{
    (void)state;
    uint8_t secret[32] = {1}, shares[256 * 32], got[32];
    assert_int_equal(gh_shamir_split(secret, 32, 5, 1, shares), GH_ERR_INVALID);
    assert_int_equal(gh_shamir_split(secret, 32, 3, 4, shares), GH_ERR_INVALID);
    assert_int_equal(gh_shamir_split(secret, 32, 256, 2, shares), GH_ERR_INVALID);
    assert_int_equal(gh_shamir_split(secret, 0, 3, 2, shares), GH_ERR_INVALID);
    assert_int_equal(gh_shamir_split(secret, 32, 255, 255, shares), GH_OK);
    const uint8_t dup[] = {1, 1}, zero[] = {0, 1};
    assert_int_equal(gh_shamir_combine(dup, shares, 2, 32, got), GH_ERR_INVALID);
    assert_int_equal(gh_shamir_combine(zero, shares, 2, 32, got), GH_ERR_INVALID);
    assert_int_equal(gh_shamir_combine(dup, shares, 1, 32, got), GH_ERR_INVALID);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(field_known_answers),
        cmocka_unit_test(split_known_vector),
        cmocka_unit_test(any_threshold_recovers_fewer_do_not),
        cmocka_unit_test(bounds_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

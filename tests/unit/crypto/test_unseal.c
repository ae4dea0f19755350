/* Unit tests for crypto/unseal: shares collected to the threshold give the key; another
 * split's share and a duplicate are refused without changing what is held. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/shamir.h"
#include "crypto/unseal.h"

static void make_shares(const uint8_t key[32], const char *split, unsigned n, unsigned m,
                        struct gh_share *out)
{
    uint8_t ys[8 * 32];
    assert_int_equal(gh_shamir_split(key, 32, n, m, ys), GH_OK);
    for (unsigned i = 0; i < n; i++) {
        memcpy(out[i].split, split, 4);
        out[i].threshold = m;
        out[i].x = i + 1;
        memcpy(out[i].y, ys + i * 32, 32);
    }
}

static void threshold_mismatch_and_duplicates(void **state)
{
    (void)state;
    uint8_t key[32], got[32];
    struct gh_share a[5], b[5];
    struct gh_unseal *u = NULL;
    struct gh_unseal_progress p;
    randombytes_buf(key, sizeof(key));
    make_shares(key, "AAAA", 5, 3, a);
    make_shares(key, "BBBB", 5, 3, b);
    assert_int_equal(gh_unseal_new(&u), GH_OK);
    assert_int_equal(gh_unseal_add(u, &a[4], &p, got), GH_OK);
    assert_int_equal(p.have, 1);
    assert_int_equal(p.threshold, 3);
    assert_false(p.complete);
    assert_int_equal(gh_unseal_add(u, &a[4], &p, got), GH_ERR_REUSED);
    assert_int_equal(gh_unseal_add(u, &b[1], &p, got), GH_ERR_CONFLICT);
    assert_int_equal(gh_unseal_add(u, &a[0], &p, got), GH_OK);
    assert_int_equal(p.have, 2);
    assert_int_equal(gh_unseal_add(u, &a[2], &p, got), GH_OK);
    assert_true(p.complete);
    assert_int_equal(p.have, 0);
    assert_memory_equal(got, key, 32);
    /* Everything was dropped: another split may start now. */
    assert_int_equal(gh_unseal_add(u, &b[1], &p, got), GH_OK);
    assert_int_equal(p.have, 1);
    gh_unseal_free(u);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threshold_mismatch_and_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

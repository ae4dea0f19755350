/* Unit tests for edge/backoff: waits double from base to max, per key, cleared on success. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "edge/backoff.h"

static void doubles_to_max(void **state)
{
    (void)state;
    struct gh_backoff *b;
    assert_int_equal(gh_backoff_new(64, 1, 900, &b), GH_OK);
    int64_t now = 1000;
    assert_int_equal(gh_backoff_wait(b, "u:alice", now), 0);
    static const int64_t want[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        gh_backoff_fail(b, "u:alice", now);
        assert_int_equal(gh_backoff_wait(b, "u:alice", now), want[i]);
    }
    assert_int_equal(gh_backoff_wait(b, "u:alice", now + 899), 1);
    assert_int_equal(gh_backoff_wait(b, "u:alice", now + 900), 0);
    /* Other keys are untouched; a success forgets the key. */
    assert_int_equal(gh_backoff_wait(b, "u:bob", now), 0);
    gh_backoff_clear(b, "u:alice");
    assert_int_equal(gh_backoff_wait(b, "u:alice", now), 0);
    gh_backoff_fail(b, "u:alice", now);
    assert_int_equal(gh_backoff_wait(b, "u:alice", now), 1);
    gh_backoff_free(b);
}

static void remembered_past_the_wait(void **state)
{
    (void)state;
    struct gh_backoff *b;
    assert_int_equal(gh_backoff_new(64, 1, 60, &b), GH_OK);
    gh_backoff_fail(b, "ip:10.0.0.1", 0);
    gh_backoff_fail(b, "ip:10.0.0.1", 1);
    /* Waiting out the wait does not reset the count: the next failure waits 4 s. */
    gh_backoff_fail(b, "ip:10.0.0.1", 30);
    assert_int_equal(gh_backoff_wait(b, "ip:10.0.0.1", 30), 4);
    gh_backoff_free(b);
}

static void long_keys_and_flood(void **state)
{
    (void)state;
    struct gh_backoff *b;
    assert_int_equal(gh_backoff_new(64, 1, 900, &b), GH_OK);
    char key[300];
    for (size_t i = 0; i < sizeof(key) - 1; i++)
        key[i] = 'a';
    key[sizeof(key) - 1] = '\0';
    gh_backoff_fail(b, key, 0);
    assert_int_equal(gh_backoff_wait(b, key, 0), 1);
    /* A flood of distinct keys is bounded by the cache: no failure, no growth. */
    char k[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(k, sizeof(k), "ip:%d", i);
        gh_backoff_fail(b, k, 0);
    }
    gh_backoff_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(doubles_to_max),
        cmocka_unit_test(remembered_past_the_wait),
        cmocka_unit_test(long_keys_and_flood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for edge/ratelimit: the GCRA arithmetic (burst, steady rate, no window
 * edge to exploit, the header values), the bounded in-process table under a flood of a
 * million distinct addresses, the per-route override parser and the failure modes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <cmocka.h>

#include "edge/ratelimit.h"

#define S 1000000LL /* microseconds */
#define T0 (1700000000LL * S)

static void burst_then_steady(void **state)
{
    (void)state;
    struct gh_rate r = {5, 60}; /* one every 12 s, 5 at once */
    struct gh_rl_verdict v;
    int64_t tat = 0;
    for (uint32_t i = 0; i < 5; i++) {
        tat = gh_gcra(tat, T0, r, &v);
        assert_true(v.allowed);
        assert_int_equal(v.limit, 5);
        assert_int_equal(v.remaining, 4 - i);
        assert_int_equal(v.reset, T0 / S + 12 * (i + 1));
    }
    int64_t kept = tat;
    tat = gh_gcra(tat, T0, r, &v);
    assert_false(v.allowed);
    assert_int_equal(tat, kept); /* a refusal is not recorded */
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.retry_after, 12);
    assert_int_equal(v.reset, T0 / S + 60);
    /* 11.9 s later still refused (retry in 1 s, rounded up), at 12 s one more passes. */
    tat = gh_gcra(tat, T0 + 11 * S + 900000, r, &v);
    assert_false(v.allowed);
    assert_int_equal(v.retry_after, 1);
    tat = gh_gcra(tat, T0 + 12 * S, r, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 0);
    tat = gh_gcra(tat, T0 + 12 * S, r, &v);
    assert_false(v.allowed);
    /* After a full idle period the whole burst is back. */
    tat = gh_gcra(tat, T0 + 200 * S, r, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 4);
}

/* Over any stretch of time, no more than limit + (elapsed / T) requests pass: a client
 * hammering across a would-be window edge gets no double burst. */
static void sliding_not_fixed(void **state)
{
    (void)state;
    struct gh_rate r = {100, 60};
    struct gh_rl_verdict v;
    int64_t tat = 0;
    unsigned passed = 0;
    /* 150 requests just before a minute boundary and 150 just after: a fixed window
     * would let 200 through; here it is the 100 of the burst and one more per 0.6 s. */
    for (int i = 0; i < 150; i++) {
        tat = gh_gcra(tat, T0 + 59 * S + 900000, r, &v);
        passed += (unsigned)v.allowed;
    }
    for (int i = 0; i < 150; i++) {
        tat = gh_gcra(tat, T0 + 60 * S + 100000, r, &v);
        passed += (unsigned)v.allowed;
    }
    assert_int_equal(passed, 100);
    /* 10 requests a second for 3 minutes more: one per 0.6 s passes. */
    passed = 0;
    for (int64_t t = T0 + 61 * S; t < T0 + 241 * S; t += S / 10) {
        tat = gh_gcra(tat, t, r, &v);
        passed += (unsigned)v.allowed;
    }
    assert_true(passed >= 299 && passed <= 301);
}

static void odd_limits(void **state)
{
    (void)state;
    struct gh_rl_verdict v;
    int64_t tat = 0;
    /* 7 per minute does not divide: exactly 7 at once, never 8. */
    struct gh_rate seven = {7, 60};
    for (int i = 0; i < 7; i++) {
        tat = gh_gcra(tat, T0, seven, &v);
        assert_true(v.allowed);
    }
    (void)gh_gcra(tat, T0, seven, &v);
    assert_false(v.allowed);
    /* The largest limit over the shortest period still counts. */
    struct gh_rate huge = {GH_RL_LIMIT_MAX, 1};
    tat = 0;
    for (int i = 0; i < 1000; i++)
        tat = gh_gcra(tat, T0, huge, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, GH_RL_LIMIT_MAX - 1000);
    /* One a day. */
    struct gh_rate daily = {1, 86400};
    tat = gh_gcra(0, T0, daily, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 0);
    (void)gh_gcra(tat, T0 + S, daily, &v);
    assert_false(v.allowed);
    assert_int_equal(v.retry_after, 86399);
}

static struct gh_rl_key key_of(uint32_t n, uint32_t cls)
{
    struct gh_rl_key k;
    memset(&k, 0, sizeof(k));
    k.addr[10] = 0xff;
    k.addr[11] = 0xff;
    memcpy(k.addr + 12, &n, sizeof(n));
    k.cls = cls;
    return k;
}

static void table_limits_per_key(void **state)
{
    (void)state;
    void *t = NULL;
    assert_int_equal(gh_rl_memory_new(64, &t), GH_OK);
    struct gh_rate r = {3, 60};
    struct gh_rl_verdict v;
    struct gh_rl_key a = key_of(1, 0), b = key_of(2, 0), a_auth = key_of(1, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gh_rl_memory_ops.check(t, &a, r, T0, &v), GH_OK);
    assert_int_equal(gh_rl_memory_ops.check(t, &a, r, T0, &v), GH_OK);
    assert_false(v.allowed);
    assert_int_equal(gh_rl_memory_ops.check(t, &b, r, T0, &v), GH_OK);
    assert_true(v.allowed); /* another address */
    assert_int_equal(gh_rl_memory_ops.check(t, &a_auth, r, T0, &v), GH_OK);
    assert_true(v.allowed); /* another class of the same address */
    /* 20 s later one more passes (3 a minute). */
    assert_int_equal(gh_rl_memory_ops.check(t, &a, r, T0 + 20 * S, &v), GH_OK);
    assert_true(v.allowed);
    gh_rl_memory_ops.free(t);
}

/* A million distinct addresses: the table neither grows nor allocates, and a client at
 * its limit is not pushed out by the newcomers (they are evicted first). */
static void flood_is_bounded(void **state)
{
    (void)state;
    const size_t capacity = 4096;
    void *t = NULL;
    assert_int_equal(gh_rl_memory_new(capacity, &t), GH_OK);
    size_t bytes = gh_rl_memory_bytes(t);
    /* 32-byte slots and one lock per 8, nothing else. */
    assert_true(bytes >= capacity * 32 && bytes <= capacity * 32 + capacity / 8 * 64 + 4096);

    struct gh_rate r = {100, 60};
    struct gh_rl_verdict v;
    struct gh_rl_key hot = key_of(0xdeadbeef, 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(gh_rl_memory_ops.check(t, &hot, r, T0, &v), GH_OK);
    struct mallinfo2 before = mallinfo2();
    for (uint32_t i = 0; i < 1000000; i++) {
        struct gh_rl_key k = key_of(i, 0);
        assert_int_equal(gh_rl_memory_ops.check(t, &k, r, T0 + (int64_t)(i / 1000), &v), GH_OK);
        if (!v.allowed)
            fail_msg("a new address was refused at %u", i);
    }
    struct mallinfo2 after = mallinfo2();
    assert_int_equal(after.uordblks, before.uordblks); /* not one byte allocated */
    assert_int_equal(gh_rl_memory_bytes(t), bytes);
    assert_int_equal(gh_rl_memory_ops.check(t, &hot, r, T0 + S / 10, &v), GH_OK);
    assert_false(v.allowed);
    gh_rl_memory_ops.free(t);
}

static void routes_parse(void **state)
{
    (void)state;
    struct gh_rl_route routes[GH_RL_ROUTES_MAX];
    size_t n = 99;
    char why[200];
    assert_int_equal(gh_rl_routes_parse("", routes, &n, why, sizeof(why)), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(gh_rl_routes_parse("POST /api/v1/sql/validate 20/1m\n"
                                        "  # a comment\n\n"
                                        "* /api/v1/api-keys/* 10/30s; GET /healthz 0/60",
                                        routes, &n, why, sizeof(why)),
                     GH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(routes[0].method, "POST");
    assert_string_equal(routes[0].path, "/api/v1/sql/validate");
    assert_int_equal(routes[0].rate.limit, 20);
    assert_int_equal(routes[0].rate.period, 60);
    assert_int_equal(routes[1].rate.period, 30);
    assert_int_equal(routes[2].rate.limit, 0);
    assert_int_equal(gh_rl_routes_find(routes, n, "POST", "/api/v1/sql/validate"), 0);
    assert_int_equal(gh_rl_routes_find(routes, n, "GET", "/api/v1/sql/validate"), -1);
    assert_int_equal(gh_rl_routes_find(routes, n, "DELETE", "/api/v1/api-keys/abc"), 1);
    assert_int_equal(gh_rl_routes_find(routes, n, "GET", "/healthz"), 2);
    assert_int_equal(gh_rl_routes_find(routes, n, "GET", "/healthz/x"), -1);

    static const char *const bad[] = {
        "POST /x",             /* no limit */
        "POST /x 20",          /* no period */
        "POST /x 20/",         /* empty period */
        "POST /x 20/0",        /* zero period */
        "POST /x 20/2d",       /* past a day */
        "POST /x 1000001/1m",  /* past the largest limit */
        "POST /x -1/1m",       /* a sign */
        "POST /x 20/1m extra", /* a fourth word */
        "post /x 20/1m",       /* methods are upper case */
        "POST x 20/1m",        /* not a path */
        "POST /a*b 20/1m",     /* '*' only at the end */
        "POST /x 20/1w",       /* no such unit */
        "POST /x 99999999999999999999/1m",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 99;
        assert_int_equal(gh_rl_routes_parse(bad[i], routes, &n, why, sizeof(why)), GH_ERR_INVALID);
        assert_int_equal(n, 99);
        assert_non_null(strstr(why, "line 1"));
    }
    static const char line[] = "GET /x 1/1m\n";
    char many[(GH_RL_ROUTES_MAX + 1) * (sizeof(line) - 1) + 1];
    for (int i = 0; i <= GH_RL_ROUTES_MAX; i++)
        memcpy(many + (size_t)i * (sizeof(line) - 1), line, sizeof(line) - 1);
    many[sizeof(many) - 1] = '\0';
    assert_int_equal(gh_rl_routes_parse(many, routes, &n, why, sizeof(why)), GH_ERR_INVALID);
}

/* A backend that always fails, to see the failure modes and the outage events. */
static int failing = 1;
static gh_err flaky_check(void *b, const struct gh_rl_key *k, struct gh_rate r, int64_t now,
                          struct gh_rl_verdict *out)
{
    (void)b;
    (void)k;
    if (failing)
        return GH_ERR_IO;
    (void)gh_gcra(0, now, r, out);
    return GH_OK;
}
static void flaky_free(void *b)
{
    free(b);
}
static const struct gh_rl_ops flaky = {"flaky", flaky_check, flaky_free};

static void failure_modes(void **state)
{
    (void)state;
    for (int closed = 0; closed <= 1; closed++) {
        struct gh_ratelimit *rl = NULL;
        assert_int_equal(
            gh_ratelimit_new(&flaky, malloc(1), closed ? GH_RL_FAIL_CLOSED : GH_RL_FAIL_OPEN, &rl),
            GH_OK);
        struct gh_rl_key k = key_of(1, 0);
        struct gh_rl_result res;
        struct gh_rate r = {5, 60};
        failing = 1;
        gh_ratelimit_check(rl, &k, r, T0, &res);
        assert_true(res.backend_failed);
        assert_int_equal(res.allowed, !closed);
        assert_int_equal(res.event, GH_RL_EVENT_DOWN);
        assert_int_equal(gh_ratelimit_backend_up(rl), 0);
        gh_ratelimit_check(rl, &k, r, T0, &res);
        assert_int_equal(res.event, GH_RL_EVENT_NONE); /* once per outage */
        failing = 0;
        gh_ratelimit_check(rl, &k, r, T0, &res);
        assert_false(res.backend_failed);
        assert_true(res.allowed);
        assert_int_equal(res.event, GH_RL_EVENT_UP);
        gh_ratelimit_check(rl, &k, r, T0, &res);
        assert_int_equal(res.event, GH_RL_EVENT_NONE);
        assert_int_equal(gh_ratelimit_backend_up(rl), 1);
        assert_string_equal(gh_ratelimit_backend_name(rl), "flaky");
        gh_ratelimit_free(rl);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_steady), cmocka_unit_test(sliding_not_fixed),
        cmocka_unit_test(odd_limits),        cmocka_unit_test(table_limits_per_key),
        cmocka_unit_test(flood_is_bounded),  cmocka_unit_test(routes_parse),
        cmocka_unit_test(failure_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

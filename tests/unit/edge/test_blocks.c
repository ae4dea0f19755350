/* Unit tests for edge/blocks: the canonical ranges, the per-prefix-length match, expiry,
 * the protected addresses and the caps of automatic blocks, another writer's changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/time.h"
#include "crypto/store_fixture.h"
#include "edge/blocks.h"

struct fx {
    struct store_fixture s;
    struct gh_blocks *b;
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof(f));
    if (store_fixture_open(&f.s) != 0)
        return -1;
    struct gh_blocks_opts o = {.max = 8, .auto_max = 2};
    size_t bad = 0;
    if (gh_cidr_list_parse("127.0.0.0/8, ::1", &o.trusted, &bad) != GH_OK ||
        gh_cidr_list_parse("0.0.0.0/0, ::/0, 10.9.0.0/16", &o.admin, &bad) != GH_OK ||
        gh_blocks_new(&f.s.h, &o, &f.b) != GH_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    gh_blocks_free(f->b);
    store_fixture_close(&f->s);
    return 0;
}

static int hits(struct gh_blocks *b, const char *ip)
{
    uint8_t a[16];
    assert_int_equal(gh_ip_parse(ip, strlen(ip), a), GH_OK);
    return gh_blocks_match(b, a, NULL);
}

static gh_err add(struct fx *f, const char *cidr, int64_t expires, int automatic, int64_t now)
{
    const struct gh_block_new in = {cidr, "test", expires, "unit", automatic};
    struct gh_address_block out;
    const char *why = NULL;
    return gh_blocks_add(f->b, &in, now, &out, &why);
}

static void canonical(void **state)
{
    (void)state;
    char out[GH_BLOCK_CIDR_MAX];
    static const char *const good[][2] = {
        {"192.0.2.7", "192.0.2.7/32"},      {"10.0.0.0/8", "10.0.0.0/8"},
        {"2001:DB8::/32", "2001:db8::/32"}, {"::ffff:10.0.0.0/104", "10.0.0.0/8"},
        {"2001:db8::1", "2001:db8::1/128"}, {"128.0.0.0/1", "128.0.0.0/1"},
        {"8000::/1", "8000::/1"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_null(gh_blocks_canonical(good[i][0], out));
        assert_string_equal(out, good[i][1]);
    }
    static const char *const bad[] = {"0.0.0.0/0", "::/0",       "::/1",        "::ffff:0:0/96",
                                      "::/80",     "10.0.0.1/8", "10.0.0.0/33", "",
                                      "host",      "1.2.3.4/",   "1.2.3.4 ",    "1.2.3.4/08"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gh_blocks_canonical(bad[i], out) == NULL)
            fail_msg("accepted \"%s\"", bad[i]);
}

static void matches_by_prefix(void **state)
{
    struct fx *f = *state;
    int64_t now = 1000;
    assert_false(hits(f->b, "203.0.113.9"));
    assert_int_equal(add(f, "203.0.113.0/24", 0, 0, now), GH_OK);
    assert_int_equal(add(f, "198.51.100.7", 0, 0, now), GH_OK);
    assert_int_equal(add(f, "2001:db8::/32", 0, 0, now), GH_OK);
    assert_int_equal(add(f, "203.0.113.0/24", 0, 0, now), GH_ERR_CONFLICT);
    assert_true(hits(f->b, "203.0.113.9"));
    assert_true(hits(f->b, "203.0.113.255"));
    assert_false(hits(f->b, "203.0.114.0"));
    assert_true(hits(f->b, "198.51.100.7"));
    assert_false(hits(f->b, "198.51.100.8"));
    assert_true(hits(f->b, "::ffff:198.51.100.7"));
    assert_true(hits(f->b, "2001:db8:1234::1"));
    assert_false(hits(f->b, "2001:db9::1"));

    /* A hit names its block; a removal takes effect at once. */
    uint8_t a[16];
    struct gh_block_hit hit;
    assert_int_equal(gh_ip_parse("203.0.113.1", 11, a), GH_OK);
    assert_true(gh_blocks_match(f->b, a, &hit));
    assert_string_equal(hit.cidr, "203.0.113.0/24");
    struct gh_address_block gone;
    assert_int_equal(gh_blocks_remove(f->b, hit.id, &gone), GH_OK);
    assert_string_equal(gone.cidr, "203.0.113.0/24");
    assert_false(hits(f->b, "203.0.113.1"));
    assert_int_equal(gh_blocks_remove(f->b, hit.id, &gone), GH_ERR_NOT_FOUND);
}

static void expiry_and_other_writers(void **state)
{
    struct fx *f = *state;
    int64_t now = gh_time_now();
    assert_int_equal(add(f, "192.0.2.1", now + 5, 0, now), GH_OK);
    assert_true(hits(f->b, "192.0.2.1"));
    /* Expired at the poll after its time. */
    assert_int_equal(gh_blocks_poll(f->b, now + 4), GH_OK);
    assert_true(hits(f->b, "192.0.2.1"));
    assert_int_equal(gh_blocks_poll(f->b, now + 5), GH_OK);
    assert_false(hits(f->b, "192.0.2.1"));
    assert_int_equal(add(f, "192.0.2.2", now, 0, now), GH_ERR_INVALID); /* not in the future */

    /* Another process writes to the store: the next poll sees it by the epoch. */
    struct gh_address_block rec;
    memset(&rec, 0, sizeof(rec));
    snprintf(rec.id, sizeof(rec.id), "00000000-0000-4000-8000-0000000000aa");
    snprintf(rec.cidr, sizeof(rec.cidr), "192.0.2.3/32");
    snprintf(rec.reason, sizeof(rec.reason), "elsewhere");
    rec.created_at = now;
    assert_int_equal(gh_store_block_add(&f->s.h, &rec, now), GH_OK);
    assert_false(hits(f->b, "192.0.2.3"));
    assert_int_equal(gh_blocks_poll(f->b, now), GH_OK);
    assert_true(hits(f->b, "192.0.2.3"));
    assert_int_equal(gh_store_block_remove(&f->s.h, rec.id, NULL), GH_OK);
    assert_int_equal(gh_blocks_poll(f->b, now), GH_OK);
    assert_false(hits(f->b, "192.0.2.3"));
}

static void automatic_blocks(void **state)
{
    struct fx *f = *state;
    int64_t now = gh_time_now();
    /* Trusted proxies and the admin allowlist (not its "everyone" entries) are never
     * blocked automatically; a person may. */
    assert_int_equal(add(f, "127.0.0.1", now + 60, 1, now), GH_ERR_ADDRESS);
    assert_int_equal(add(f, "::1", now + 60, 1, now), GH_ERR_ADDRESS);
    assert_int_equal(add(f, "10.9.3.4", now + 60, 1, now), GH_ERR_ADDRESS);
    assert_int_equal(add(f, "10.9.3.4", now + 60, 0, now), GH_OK);
    /* Requests are made by the poll; the cap holds (auto_max 2). */
    gh_blocks_request(f->b, "192.0.2.20", 60, "brute");
    gh_blocks_request(f->b, "192.0.2.21", 60, "brute");
    gh_blocks_request(f->b, "192.0.2.22", 60, "brute");
    gh_blocks_request(f->b, "unknown", 60, "brute");
    assert_false(hits(f->b, "192.0.2.20"));
    assert_int_equal(gh_blocks_poll(f->b, now), GH_OK);
    assert_true(hits(f->b, "192.0.2.20"));
    assert_true(hits(f->b, "192.0.2.21"));
    assert_false(hits(f->b, "192.0.2.22"));
    /* blocks.max (8) in all: 3 live, 5 more, then refused. */
    char ip[32];
    for (int i = 0; i < 5; i++) {
        snprintf(ip, sizeof(ip), "198.18.0.%d", i);
        assert_int_equal(add(f, ip, 0, 0, now), GH_OK);
    }
    assert_int_equal(add(f, "198.18.1.0", 0, 0, now), GH_ERR_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical),
        cmocka_unit_test_setup_teardown(matches_by_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(expiry_and_other_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(automatic_blocks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for core/: capped buffer, URI scrubbing, cache, pool, UUIDs, UTF-8, JSON limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "api/json.h"
#include "core/buf.h"
#include "core/cache.h"
#include "core/log.h"
#include "core/pool.h"
#include "core/secret.h"
#include "core/text.h"
#include "core/utf8.h"
#include "core/uuid.h"

static void buf_respects_cap(void **state)
{
    (void)state;
    struct gh_buf b;
    gh_buf_init(&b, 8);
    assert_int_equal(gh_buf_puts(&b, "12345678"), GH_OK);
    assert_int_equal(gh_buf_puts(&b, "9"), GH_ERR_TOO_LARGE);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.ptr, "12345678");
    gh_buf_clear(&b);
    gh_buf_clear(NULL);
}

static void buf_json_escape(void **state)
{
    (void)state;
    struct gh_buf b;
    gh_buf_init(&b, 100);
    assert_int_equal(gh_buf_json_escape(&b, "a\"b\\c\n\x01", 7), GH_OK);
    assert_string_equal(b.ptr, "a\\\"b\\\\c\\u000a\\u0001");
    gh_buf_clear(&b);

    /* Each byte that needs an escape, at every place of a run scanned eight at a time,
     * gives the same text through the buffer and through gh_json_escape_to. */
    static const char special[] = {'"', '\\', '\0', '\t', '\n', 0x1f, 0x7f};
    static const char *const want[] = {"\\\"",    "\\\\",    "\\u0000", "\\u0009",
                                       "\\u000a", "\\u001f", "\\u007f"};
    for (size_t k = 0; k < sizeof(special); k++) {
        for (size_t at = 0; at < 19; at++) {
            char in[19], expect[64], out[6 * 19 + 1];
            memset(in, 'x', sizeof(in));
            in[at] = special[k];
            snprintf(expect, sizeof(expect), "%.*s%s%.*s", (int)at, in, want[k],
                     (int)(sizeof(in) - at - 1), in + at + 1);
            gh_buf_init(&b, 200);
            assert_int_equal(gh_buf_json_escape(&b, in, sizeof(in)), GH_OK);
            assert_string_equal(b.ptr, expect);
            gh_buf_clear(&b);
            *gh_json_escape_to(out, in, sizeof(in)) = '\0';
            assert_string_equal(out, expect);
        }
    }
    /* bytes above 0x7f are not escaped (UTF-8 passes as sent) */
    gh_buf_init(&b, 100);
    assert_int_equal(gh_buf_json_escape(&b,
                                        "\xc3\xa9\x80\xff"
                                        "0123456789",
                                        14),
                     GH_OK);
    assert_string_equal(b.ptr, "\xc3\xa9\x80\xff"
                               "0123456789");
    gh_buf_clear(&b);
}

static void scrub(const char *in, const char *want)
{
    struct gh_buf b;
    gh_buf_init(&b, 1024);
    assert_int_equal(gh_log_scrub_uri(&b, in, strlen(in)), GH_OK);
    assert_string_equal(b.ptr, want);
    gh_buf_clear(&b);
}

static void scrub_redacts_credentials(void **state)
{
    (void)state;
    scrub("/a/b", "/a/b");
    scrub("/v?token=abc", "/v?token=***REDACTED***");
    scrub("/v?x=1&token=abc&y=2", "/v?x=***REDACTED***&token=***REDACTED***&y=***REDACTED***");
    scrub("/v?TOKEN=abc&access_token=d&refresh_token=e&password=f&code=g",
          "/v?TOKEN=***REDACTED***&access_token=***REDACTED***&refresh_token=***REDACTED***"
          "&password=***REDACTED***&code=***REDACTED***");
    scrub("/v?limit=10&offset=5&token=a", "/v?limit=10&offset=5&token=***REDACTED***");
    scrub("/v?LIMIT=10&mode=cookie", "/v?LIMIT=10&mode=cookie");
    /* harmless names keep only short plain values */
    scrub("/v?limit=token=abc", "/v?limit=***REDACTED***");
    scrub("/v?limit=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "/v?limit=***REDACTED***");
    /* any other name, an encoded one, an empty one, or none at all */
    scrub("/v?apikey=ak_x&jwt=e&%74oken=t", "/v?apikey=***REDACTED***&jwt=***REDACTED***"
                                            "&%74oken=***REDACTED***");
    scrub("/v?=token=abc", "/v?=***REDACTED***");
    scrub("/v?tokenx=abc&xtoken=1", "/v?tokenx=***REDACTED***&xtoken=***REDACTED***");
    scrub("/v?token", "/v?***REDACTED***");
    scrub("/v?limit", "/v?limit");
    scrub("/v?&&", "/v?&&");
    scrub("/v?token=", "/v?token=***REDACTED***");
    scrub("/v?a=1;token=s", "/v?a=***REDACTED***;token=***REDACTED***");
    scrub("/v?x/y?token==s&z", "/v?***REDACTED***?token=***REDACTED***&***REDACTED***");
}

static void cache_put_get_expire(void **state)
{
    (void)state;
    struct gh_cache *c;
    char out[16];
    size_t n = 0;
    assert_int_equal(gh_cache_new(64, &c), GH_OK);
    assert_int_equal(gh_cache_put(c, "k1", 2, "value", 5, 100), GH_OK);
    assert_int_equal(gh_cache_get(c, "k1", 2, 99, out, sizeof(out), &n), GH_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "value", 5);
    assert_int_equal(gh_cache_get(c, "k1", 2, 100, out, sizeof(out), &n), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_cache_get(c, "k2", 2, 1, out, sizeof(out), &n), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_cache_get(c, "k1", 2, 1, out, 2, &n), GH_ERR_TOO_LARGE);
    gh_cache_del(c, "k1", 2);
    assert_int_equal(gh_cache_get(c, "k1", 2, 1, out, sizeof(out), &n), GH_ERR_NOT_FOUND);
    uint64_t hits = 0, misses = 0;
    gh_cache_stats(c, &hits, &misses);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 4);
    gh_cache_free(c);
}

/* A value ending in a secret answers its head only to the same secret, whole. */
static void cache_get_proven(void **state)
{
    (void)state;
    struct gh_cache *c;
    char head[4] = "????";
    assert_int_equal(gh_cache_new(64, &c), GH_OK);
    assert_int_equal(gh_cache_put(c, "tail", 4, "HEADsecret-token", 16, 100), GH_OK);
    assert_int_equal(gh_cache_get_proven(c, "tail", 4, 99, "secret-token", 12, head, 4), GH_OK);
    assert_memory_equal(head, "HEAD", 4);
    memcpy(head, "????", 4);
    assert_int_equal(gh_cache_get_proven(c, "tail", 4, 99, "secret-tokeN", 12, head, 4),
                     GH_ERR_NOT_FOUND); /* one byte differs */
    assert_int_equal(gh_cache_get_proven(c, "tail", 4, 99, "secret-toke", 11, head, 4),
                     GH_ERR_NOT_FOUND); /* a prefix */
    assert_int_equal(gh_cache_get_proven(c, "tail", 4, 99, "secret-token!", 13, head, 4),
                     GH_ERR_NOT_FOUND); /* longer */
    assert_int_equal(gh_cache_get_proven(c, "tail", 4, 99, "secret-token", 12, head, 3),
                     GH_ERR_NOT_FOUND); /* another split of head and secret */
    assert_int_equal(gh_cache_get_proven(c, "tail", 4, 100, "secret-token", 12, head, 4),
                     GH_ERR_NOT_FOUND); /* expired */
    assert_int_equal(gh_cache_get_proven(c, "liat", 4, 99, "secret-token", 12, head, 4),
                     GH_ERR_NOT_FOUND);
    assert_memory_equal(head, "????", 4); /* nothing copied on a refusal */
    gh_cache_free(c);
}

static void cache_stays_bounded(void **state)
{
    (void)state;
    struct gh_cache *c;
    assert_int_equal(gh_cache_new(16, &c), GH_OK);
    char key[32], out[8];
    size_t n = 0, found = 0;
    for (int i = 0; i < 10000; i++) {
        int len = snprintf(key, sizeof(key), "key-%d", i);
        gh_cache_put(c, key, (size_t)len, "v", 1, 1000 + i);
    }
    for (int i = 0; i < 10000; i++) {
        int len = snprintf(key, sizeof(key), "key-%d", i);
        if (gh_cache_get(c, key, (size_t)len, 0, out, sizeof(out), &n) == GH_OK)
            found++;
    }
    assert_true(found <= 16);
    assert_true(found > 0);
    gh_cache_free(c);
}

static void bump(void *arg)
{
    __atomic_fetch_add((int *)arg, 1, __ATOMIC_SEQ_CST);
}

static void slow(void *arg)
{
    (void)arg;
    usleep(20000);
}

static void pool_runs_and_bounds(void **state)
{
    (void)state;
    struct gh_pool *p;
    int counter = 0;
    assert_int_equal(gh_pool_new("t", 2, 100, &p), GH_OK);
    for (int i = 0; i < 50; i++)
        assert_int_equal(gh_pool_submit(p, bump, &counter), GH_OK);
    gh_pool_free(p); /* drains */
    assert_int_equal(counter, 50);

    assert_int_equal(gh_pool_new("t", 1, 2, &p), GH_OK);
    int busy = 0;
    for (int i = 0; i < 10; i++)
        busy += gh_pool_submit(p, slow, NULL) == GH_ERR_BUSY;
    assert_true(busy >= 7);
    gh_pool_free(p);
}

static void uuid_v7_shape(void **state)
{
    (void)state;
    char a[GH_UUID_STR], b[GH_UUID_STR];
    gh_uuid_v7(a);
    gh_uuid_v7(b);
    assert_true(gh_uuid_valid(a, strlen(a)));
    assert_int_equal(a[14], '7');
    assert_true(strchr("89ab", a[19]) != NULL);
    assert_string_not_equal(a, b);
    assert_false(gh_uuid_valid("not-a-uuid", 10));
    assert_false(gh_uuid_valid("0190e4a2-1c2b-7d3e-8f40-12345678901g", 36));
}

/* Well-formed UTF-8 only: the boundaries of each length, and every malformation class. */
static void utf8_well_formed(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len; /* of the first sequence, 0 = malformed */
        uint32_t cp;
    } cases[] = {
        {"a", 1, 'a'},
        {"\x7f", 1, 0x7f},
        {"\xc2\x80", 2, 0x80},
        {"\xdf\xbf", 2, 0x7ff},
        {"\xe0\xa0\x80", 3, 0x800},
        {"\xed\x9f\xbf", 3, 0xd7ff},
        {"\xef\xbf\xbf", 3, 0xffff},
        {"\xf0\x90\x80\x80", 4, 0x10000},
        {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
        {"\xc0\xae", 0, 0},         /* overlong '.' */
        {"\xc1\xbf", 0, 0},         /* overlong */
        {"\xe0\x80\xae", 0, 0},     /* overlong '.' */
        {"\xf0\x80\x80\xae", 0, 0}, /* overlong '.' */
        {"\xed\xa0\x80", 0, 0},     /* surrogate */
        {"\xf4\x90\x80\x80", 0, 0}, /* past U+10FFFF */
        {"\xf5\x80\x80\x80", 0, 0},
        {"\x80", 0, 0}, /* stray continuation */
        {"\xc3", 0, 0}, /* truncated */
        {"\xe2\x82", 0, 0},
        {"\xe2\x82"
         "a",
         0, 0},
        {"\xff", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const unsigned char *s = (const unsigned char *)cases[i].s;
        size_t n = strlen(cases[i].s);
        uint32_t cp = 0;
        size_t len = gh_utf8_next(s, n, &cp);
        if (len != cases[i].len || (len > 0 && cp != cases[i].cp))
            fail_msg("case %zu: length %zu code point %x", i, len, (unsigned)cp);
        assert_int_equal(gh_utf8_valid(s, n), cases[i].len == n);
    }
    /* The length bounds the read: a 4-byte lead with 3 bytes left is malformed. */
    uint32_t cp;
    assert_int_equal(gh_utf8_next((const unsigned char *)"\xf0\x90\x80\x80", 3, &cp), 0);
    assert_true(gh_utf8_valid((const unsigned char *)"caf\xc3\xa9 \xe2\x82\xac", 9));
    assert_true(gh_utf8_valid((const unsigned char *)"", 0));
}

static void text_helpers(void **state)
{
    (void)state;
    static const char digits[] = "0123456789abcdefABCDEF";
    for (size_t i = 0; i < sizeof(digits) - 1; i++)
        assert_int_equal(gh_hex_value(digits[i]), i < 16 ? (int)i : (int)i - 6);
    for (const char *c = "gG/:@`\x20\x7f"; *c != '\0'; c++)
        assert_int_equal(gh_hex_value(*c), -1);
    assert_int_equal(gh_hex_value('\0'), -1);
    char field[4] = "xyz";
    assert_int_equal(gh_copy_field(field, sizeof(field), "abcd"), GH_ERR_INVALID);
    assert_string_equal(field, "xyz"); /* untouched */
    assert_int_equal(gh_copy_field(field, sizeof(field), "abc"), GH_OK);
    assert_string_equal(field, "abc");
    assert_int_equal(gh_copy_field(field, sizeof(field), ""), GH_OK);
    assert_string_equal(field, "");
}

static void secret_equal(void **state)
{
    (void)state;
    unsigned char a[1237], b[1237];
    randombytes_buf(a, sizeof(a));
    memcpy(b, a, sizeof(b));
    for (size_t n = 0; n <= sizeof(a); n += n < 20 ? 1 : 97)
        assert_int_equal(gh_secret_equal(a, b, n), 1);
    assert_int_equal(gh_secret_equal(a, b, sizeof(a)), 1);
    /* a difference in any byte, in the 8-byte steps or in the tail, and of any bit */
    for (size_t i = 0; i < sizeof(a); i++) {
        b[i] ^= (unsigned char)(1u << (i % 8));
        assert_int_equal(gh_secret_equal(a, b, sizeof(a)), 0);
        assert_int_equal(gh_secret_equal(a, b, i), 1);
        b[i] = a[i];
    }
}

static void json_limits(void **state)
{
    (void)state;
    json_t *j = NULL;
    const char *ok = "{\"a\":{\"b\":[1,2,\"x\"]}}";
    assert_int_equal(gh_json_parse_object(ok, strlen(ok), 4, 10, &j, NULL), GH_OK);
    json_decref(j);
    assert_int_equal(gh_json_parse_object(ok, strlen(ok), 2, 10, &j, NULL), GH_ERR_TOO_LARGE);
    const char *long_str = "{\"a\":\"0123456789x\"}";
    struct gh_json_excess excess;
    assert_int_equal(gh_json_parse_object(long_str, strlen(long_str), 4, 10, &j, &excess),
                     GH_ERR_TOO_LARGE);
    assert_string_equal(excess.field, "a"); /* a long value names its member */
    const char *nested = "{\"k\":1,\"s\":[\"ok\",\"0123456789x\"]}";
    assert_int_equal(gh_json_parse_object(nested, strlen(nested), 4, 10, &j, &excess),
                     GH_ERR_TOO_LARGE);
    assert_string_equal(excess.field, "s");
    const char *long_key = "{\"0123456789x\":1}";
    assert_int_equal(gh_json_parse_object(long_key, strlen(long_key), 4, 10, &j, &excess),
                     GH_ERR_TOO_LARGE);
    assert_string_equal(excess.field, ""); /* a long key or deep nesting names nothing */
    assert_int_equal(gh_json_parse_object(ok, strlen(ok), 2, 10, &j, &excess), GH_ERR_TOO_LARGE);
    assert_string_equal(excess.field, "");
    const char *dup = "{\"a\":1,\"a\":2}";
    assert_int_equal(gh_json_parse_object(dup, strlen(dup), 4, 10, &j, NULL), GH_ERR_INVALID);
    assert_int_equal(gh_json_parse_object("[1]", 3, 4, 10, &j, NULL), GH_ERR_INVALID);
    assert_int_equal(gh_json_parse_object("{", 1, 4, 10, &j, NULL), GH_ERR_INVALID);

    /* jansson refuses \u0000 unless asked: a NUL never reaches a C string. */
    const char *nul = "{\"s\":\"a\\u0000b\"}";
    assert_int_equal(gh_json_parse_object(nul, strlen(nul), 4, 10, &j, NULL), GH_ERR_INVALID);
    const char *typed = "{\"n\":5,\"z\":null}";
    assert_int_equal(gh_json_parse_object(typed, strlen(typed), 4, 10, &j, NULL), GH_OK);
    const char *s;
    size_t len;
    assert_int_equal(gh_json_string(j, "z", &s, &len), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_json_string(j, "n", &s, &len), GH_ERR_INVALID);
    assert_int_equal(gh_json_string(j, "missing", &s, &len), GH_ERR_NOT_FOUND);
    json_decref(j);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_respects_cap),
        cmocka_unit_test(buf_json_escape),
        cmocka_unit_test(scrub_redacts_credentials),
        cmocka_unit_test(cache_put_get_expire),
        cmocka_unit_test(cache_get_proven),
        cmocka_unit_test(cache_stays_bounded),
        cmocka_unit_test(pool_runs_and_bounds),
        cmocka_unit_test(uuid_v7_shape),
        cmocka_unit_test(json_limits),
        cmocka_unit_test(utf8_well_formed),
        cmocka_unit_test(text_helpers),
        cmocka_unit_test(secret_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

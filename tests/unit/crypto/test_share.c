/* Unit tests for crypto/share: a share's line round-trips; a mistyped character is named by
 * the check; malformed lines are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/share.h"

static void make(struct gh_share *s)
{
    memset(s, 0, sizeof(*s));
    memcpy(s->split, "\x0a\x1b\x2c\x3d", 4);
    s->threshold = 3;
    s->x = 5;
    for (int i = 0; i < 32; i++)
        s->y[i] = (uint8_t)(i * 9);
}

static void round_trip_and_mistypes(void **state)
{
    (void)state;
    struct gh_share s, got;
    char line[GH_SHARE_TEXT_MAX + 1], copy[GH_SHARE_TEXT_MAX + 3];
    make(&s);
    gh_share_format(&s, line);
    assert_memory_equal(line, "ghs1.0a1b2c3d.3.5.", 18);
    assert_int_equal(gh_share_parse(line, strlen(line), &got), GH_OK);
    assert_memory_equal(&got, &s, sizeof(s));
    snprintf(copy, sizeof(copy), "  %s\n", line);
    assert_int_equal(gh_share_parse(copy, strlen(copy), &got), GH_OK);
    /* Each character of the value changed: the check names it (or the form breaks). */
    for (size_t i = 18; i < strlen(line); i++) {
        memcpy(copy, line, strlen(line) + 1);
        copy[i] = copy[i] == 'A' ? 'B' : 'A';
        gh_err err = gh_share_parse(copy, strlen(copy), &got);
        assert_true(err == GH_ERR_AUTH || err == GH_ERR_INVALID);
    }
    /* Another x: the check fails. */
    memcpy(copy, line, strlen(line) + 1);
    copy[16] = '6';
    assert_int_equal(gh_share_parse(copy, strlen(copy), &got), GH_ERR_AUTH);
}

static void malformed_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "ghs1.",
        "ghs2.0a1b2c3d.3.5.AAAA.00000000",
        "ghs1.0a1b2c3.3.5.AAAA.00000000",
        "ghs1.0a1b2c3d.1.5.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.00000000",
        "ghs1.0a1b2c3d.3.0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.00000000",
        "ghs1.0a1b2c3d.3.256.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.00000000",
        "ghs1.0a1b2c3d.03.5.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.00000000",
        "ghs1.0a1b2c3d.3.5.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.00000000",
        "ghs1.0a1b2c3d.3.5.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.0000000",
        "ghs1.0a1b2c3d.3.5.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.00000000.x",
        "ghs1.zz1b2c3d.3.5.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.00000000",
    };
    struct gh_share got;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gh_share_parse(bad[i], strlen(bad[i]), &got), GH_ERR_INVALID);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_and_mistypes),
        cmocka_unit_test(malformed_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

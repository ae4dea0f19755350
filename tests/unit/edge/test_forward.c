/*
 * Unit tests for edge/forward: the client address a trusted proxy names, one hop
 * ("ADDR", "IPv4:PORT", "[IPv6]", "[IPv6]:PORT") and the X-Forwarded-For walk from the
 * right. What cannot be read must never fall back to the proxy's address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "edge/forward.h"

/* addr as text, the way the tests name what they expect. */
static void ip(const char *text, uint8_t out[16])
{
    assert_int_equal(gh_ip_parse(text, strlen(text), out), GH_OK);
}

static void hop_forms(void **state)
{
    (void)state;
    static const struct {
        const char *in, *addr; /* addr NULL: refused */
    } cases[] = {
        {"9.9.9.9", "9.9.9.9"},
        {"9.9.9.9:80", "9.9.9.9"},
        {"9.9.9.9:65535", "9.9.9.9"},
        {"9.9.9.9:1", "9.9.9.9"},
        {"2001:db8::1", "2001:db8::1"},
        {"2001:db8::1:443", "2001:db8::1:443"}, /* bare IPv6: every colon is the address's */
        {"[2001:db8::1]", "2001:db8::1"},
        {"[2001:db8::1]:443", "2001:db8::1"},
        {"[::ffff:1.2.3.4]:8080", "1.2.3.4"},
        {"::1", "::1"},
        {"", NULL},
        {"junk", NULL},
        {"9.9.9.9:", NULL},
        {"9.9.9.9:65536", NULL},
        {"9.9.9.9:123456", NULL},
        {"9.9.9.9:8x", NULL},
        {"9.9.9.9:-1", NULL},
        {"9.9.9.9: 80", NULL},
        {"9.9.9.9 ", NULL},
        {"[9.9.9.9]", NULL}, /* brackets are for IPv6 */
        {"[2001:db8::1", NULL},
        {"[2001:db8::1]:", NULL},
        {"[2001:db8::1]80", NULL},
        {"[2001:db8::1]:80:80", NULL},
        {"[]", NULL},
        {"[junk]", NULL},
        {"unknown", NULL},
        {"_hidden", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t got[16], want[16];
        gh_err err = gh_forward_hop_parse(cases[i].in, strlen(cases[i].in), got);
        if (cases[i].addr == NULL) {
            if (err != GH_ERR_INVALID)
                fail_msg("\"%s\" was read as an address", cases[i].in);
            continue;
        }
        if (err != GH_OK)
            fail_msg("\"%s\" was refused", cases[i].in);
        ip(cases[i].addr, want);
        assert_memory_equal(got, want, 16);
    }
    /* n bounds the read: an address cut from a longer text */
    uint8_t a[16], b[16];
    assert_int_equal(gh_forward_hop_parse("9.9.9.9:80, 1.1.1.1", 10, a), GH_OK);
    ip("9.9.9.9", b);
    assert_memory_equal(a, b, 16);
}

static void xff_walk(void **state)
{
    (void)state;
    struct gh_cidr_list trusted;
    size_t bad = 0;
    assert_int_equal(gh_cidr_list_parse("127.0.0.0/8, 10.0.0.0/8, ::1/128", &trusted, &bad), GH_OK);
    static const struct {
        const char *xff, *client; /* client NULL: GH_ERR_INVALID */
    } cases[] = {
        {"9.9.9.9", "9.9.9.9"},
        {"1.1.1.1, 9.9.9.9", "9.9.9.9"},           /* what a client prepends is not believed */
        {"1.1.1.1, 9.9.9.9, 10.0.0.2", "9.9.9.9"}, /* inner proxies are skipped */
        {"9.9.9.9,10.0.0.2,127.0.0.1", "9.9.9.9"},
        {"10.0.0.2, 127.0.0.1", "10.0.0.2"}, /* all trusted: the left-most */
        {"\t9.9.9.9 ,  10.0.0.2 ", "9.9.9.9"},
        {"[2001:db8::1]:443, 10.0.0.2:80", "2001:db8::1"},
        {"junk, 9.9.9.9", "9.9.9.9"}, /* the walk stops before it */
        {"9.9.9.9, junk", NULL},      /* never the proxy */
        {"9.9.9.9, junk, 10.0.0.2", NULL},
        {"9.9.9.9,", NULL},
        {",9.9.9.9", "9.9.9.9"},
        {"", NULL},
        {",", NULL},
        {"9.9.9.9:99999", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t got[16], want[16];
        gh_err err = gh_forward_xff_client(cases[i].xff, &trusted, got);
        if (cases[i].client == NULL) {
            if (err != GH_ERR_INVALID)
                fail_msg("\"%s\" named a client", cases[i].xff);
            continue;
        }
        if (err != GH_OK)
            fail_msg("\"%s\" named no client", cases[i].xff);
        ip(cases[i].client, want);
        if (memcmp(got, want, 16) != 0)
            fail_msg("\"%s\" named another client than %s", cases[i].xff, cases[i].client);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hop_forms),
        cmocka_unit_test(xff_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

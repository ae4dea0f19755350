/*
 * Unit tests for permissions: their syntax and matching (core/perm.c) and the permission
 * decision (authz/decide.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/perm.h"
#include "authz/rbac.h"

/* ---------------------------------------------------------------------------------------- */
/* perm                                                                                      */

struct perm_case {
    const char *s;
    size_t len; /* 0: strlen(s) */
    int valid;
};

static size_t case_len(const char *s, size_t len)
{
    return len != 0 ? len : strlen(s);
}

static void perm_valid_table(void **state)
{
    (void)state;
    static const struct perm_case cases[] = {
        {"file:read", 0, 1},
        {"file:*", 0, 1},
        {"*:read", 0, 1},
        {"*:*", 0, 1},
        {"a:b", 0, 1},
        {"my_app.v2-x:read_all.v-1", 0, 1},
        {"0:9", 0, 1},
        {"", 0, 0},
        {":", 0, 0},
        {"file:", 0, 0},
        {":read", 0, 0},
        {"file", 0, 0},
        {"*", 0, 0},
        {"File:read", 0, 0},
        {"file:READ", 0, 0},
        {"file:read:x", 0, 0},
        {"file::read", 0, 0},
        {"**:read", 0, 0},
        {"file:**", 0, 0},
        {"fi*:read", 0, 0},
        {"file:re*", 0, 0},
        {"file read", 0, 0},
        {" file:read", 0, 0},
        {"file:read ", 0, 0},
        {"file\t:read", 0, 0},
        {"file/x:read", 0, 0},
        {"caf\xc3\xa9:read", 0, 0},
        {"file:\xff", 0, 0},
        {"file:re\0d", 9, 0},
        {"file:read\0", 10, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct perm_case *c = &cases[i];
        int got = gh_perm_valid(c->s, case_len(c->s, c->len));
        if (got != c->valid)
            fail_msg("gh_perm_valid(\"%s\") = %d, expected %d", c->s, got, c->valid);
    }
    /* A length shorter than the string is honoured: "file:read" cut to "file:". */
    assert_false(gh_perm_valid("file:read", 5));
    assert_true(gh_perm_valid("file:read", 6));
}

static void perm_part_lengths(void **state)
{
    (void)state;
    char p[200];
    /* 64-char parts are the maximum; 65 is refused on either side. */
    memset(p, 'a', 64);
    memcpy(p + 64, ":b", 3);
    assert_true(gh_perm_valid(p, strlen(p)));
    memset(p, 'a', 65);
    memcpy(p + 65, ":b", 3);
    assert_false(gh_perm_valid(p, strlen(p)));
    memcpy(p, "b:", 2);
    memset(p + 2, 'z', 64);
    p[66] = '\0';
    assert_true(gh_perm_valid(p, strlen(p)));
    memset(p + 2, 'z', 65);
    p[67] = '\0';
    assert_false(gh_perm_valid(p, strlen(p)));
    /* The longest valid permission fits GH_PERM_MAX with its NUL. */
    memset(p, 'r', 64);
    p[64] = ':';
    memset(p + 65, 'a', 64);
    p[129] = '\0';
    assert_true(gh_perm_valid(p, strlen(p)));
    memcpy(p + 129, ":own", 5);
    assert_true(gh_perm_valid(p, strlen(p)));
    assert_int_equal(strlen(p) + 1, GH_PERM_MAX);
}

static void perm_covers_every_wildcard(void **state)
{
    (void)state;
    static const char *const granted[] = {"file:read", "file:*", "*:read", "*:*"};
    static const char *const wanted[] = {"file:read",  "file:*",    "*:read",    "*:*",
                                         "file:write", "user:read", "user:write"};
    /* expect[g][w]: granted covers wanted when every concrete permission wanted stands for
     * is granted. */
    static const int expect[4][7] = {
        /*              f:r f:* *:r *:* f:w u:r u:w */
        /* file:read */ {1, 0, 0, 0, 0, 0, 0},
        /* file:*    */ {1, 1, 0, 0, 1, 0, 0},
        /* *:read    */ {1, 0, 1, 0, 0, 1, 0},
        /* *:*       */ {1, 1, 1, 1, 1, 1, 1},
    };
    for (size_t g = 0; g < 4; g++)
        for (size_t w = 0; w < 7; w++) {
            int got = gh_perm_covers(granted[g], strlen(granted[g]), wanted[w], strlen(wanted[w]));
            if (got != expect[g][w])
                fail_msg("covers(%s, %s) = %d, expected %d", granted[g], wanted[w], got,
                         expect[g][w]);
        }
    /* Malformed input covers nothing, even under *:*. */
    assert_false(gh_perm_covers("*:*", 3, "FILE:read", 9));
    assert_false(gh_perm_covers("*:*", 3, "file", 4));
    assert_false(gh_perm_covers("*:*", 3, "", 0));
    assert_false(gh_perm_covers("*", 1, "file:read", 9));
    assert_false(gh_perm_covers("file:read:x", 11, "file:read", 9));
    assert_false(gh_perm_covers("**:*", 4, "file:read", 9));
    /* Prefixes are not matches. */
    assert_false(gh_perm_covers("file:read", 9, "file:reader", 11));
    assert_false(gh_perm_covers("file:reader", 11, "file:read", 9));
    assert_false(gh_perm_covers("fil:read", 8, "file:read", 9));
    /* Lengths are honoured: "file:readX" cut to 9 bytes is file:read. */
    assert_true(gh_perm_covers("file:readX", 9, "file:read", 9));
}

struct allow_case {
    const char *list, *wanted;
    int allow;
};

static void perms_allow_lists(void **state)
{
    (void)state;
    static const struct allow_case cases[] = {
        {"file:read", "file:read", 1},
        {"file:read user:write", "user:write", 1},
        {"  file:read    user:write  ", "user:write", 1},
        {"  file:read    user:write  ", "file:read", 1},
        {"   ", "file:read", 0},
        {"", "file:read", 0},
        {"file:read user:write", "user:read", 0},
        {"file:* user:read", "file:delete", 1},
        {"*:read", "billing:read", 1},
        {"*:read", "billing:write", 0},
        {"*:*", "any:thing", 1},
        {"BAD file:read", "file:read", 1},
        {"BAD", "file:read", 0},
        /* A wildcard wanted needs a single grant that covers all of it. */
        {"file:read file:write", "file:*", 0},
        {"file:*", "file:*", 1},
        {"*:read file:write", "*:read", 1},
        /* Only spaces separate: a tab or a comma joins two items into one bad item. */
        {"user:read\tfile:read", "file:read", 0},
        {"user:read,file:read", "file:read", 0},
        /* Malformed wanted is never allowed. */
        {"*:*", "file read", 0},
        {"*:*", "", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct allow_case *c = &cases[i];
        int got = gh_perms_allow(c->list, c->wanted, strlen(c->wanted));
        if (got != c->allow)
            fail_msg("allow(\"%s\", \"%s\") = %d, expected %d", c->list, c->wanted, got, c->allow);
    }
}

struct meet_case {
    const char *a, *b, *want;
};

static void perms_intersect_table(void **state)
{
    (void)state;
    static const struct meet_case cases[] = {
        {"file:*", "*:read", "file:read"},
        {"*:read", "file:*", "file:read"},
        {"*:*", "x:y", "x:y"},
        {"x:y", "*:*", "x:y"},
        {"*:*", "*:*", "*:*"},
        {"file:*", "file:*", "file:*"},
        {"file:*", "file:read", "file:read"},
        {"file:read", "user:read", ""},
        {"file:read", "file:write", ""},
        {"file:*", "user:*", ""},
        {"", "*:*", ""},
        {"*:*", "", ""},
        {"", "", ""},
        {"file:read file:read", "*:*", "file:read"},
        {"file:read", "file:read file:read *:read", "file:read"},
        {"file:* user:read", "*:read", "file:read user:read"},
        {"  file:read   user:write ", " *:* ", "file:read user:write"},
        {"BAD file:read", "file:* ALSO:BAD", "file:read"},
        /* What the list already grants is dropped, not only byte-equal duplicates. */
        {"file:* file:read", "*:*", "file:*"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct meet_case *c = &cases[i];
        char out[256];
        memset(out, 'X', sizeof(out));
        gh_err e = gh_perms_intersect(c->a, c->b, out, sizeof(out));
        if (e != GH_OK || strcmp(out, c->want) != 0)
            fail_msg("intersect(\"%s\", \"%s\") = %d \"%s\", expected \"%s\"", c->a, c->b, e,
                     e == GH_OK ? out : "", c->want);
    }
}

/* The ":own" qualifier: narrower than the plain permission, and only ever "own". */
static void perm_own_qualifier(void **state)
{
    (void)state;
    static const struct perm_case valid[] = {
        {"file:read:own", 0, 1},     {"file:*:own", 0, 1},    {"*:*:own", 0, 1},
        {"file:read:own:own", 0, 0}, {"file:read:OWN", 0, 0}, {"file:read:ow", 0, 0},
        {"file:read:", 0, 0},        {"file::own", 0, 0},     {":read:own", 0, 0},
        {"file:read:owner", 0, 0},   {"file:own", 0, 1},
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        if (gh_perm_valid(valid[i].s, strlen(valid[i].s)) != valid[i].valid)
            fail_msg("gh_perm_valid(\"%s\") != %d", valid[i].s, valid[i].valid);
    static const struct allow_case cases[] = {
        {"file:read", "file:read:own", 1},     {"file:*", "file:read:own", 1},
        {"*:*", "file:read:own", 1},           {"file:read:own", "file:read:own", 1},
        {"file:*:own", "file:delete:own", 1},  {"file:read:own", "file:read", 0},
        {"*:*:own", "file:read", 0},           {"file:read:own", "file:write:own", 0},
        {"file:read:own", "user:read:own", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct allow_case *c = &cases[i];
        if (gh_perms_allow(c->list, c->wanted, strlen(c->wanted)) != c->allow)
            fail_msg("allow(\"%s\", \"%s\") != %d", c->list, c->wanted, c->allow);
    }
    static const struct meet_case meets[] = {
        {"file:*", "*:read:own", "file:read:own"},
        {"file:read:own", "*:*", "file:read:own"},
        {"file:read:own", "file:read", "file:read:own"},
        {"file:read file:read:own", "*:*", "file:read"},
        {"file:write:own", "file:read", ""},
    };
    for (size_t i = 0; i < sizeof(meets) / sizeof(meets[0]); i++) {
        char out[256];
        assert_int_equal(gh_perms_intersect(meets[i].a, meets[i].b, out, sizeof(out)), GH_OK);
        if (strcmp(out, meets[i].want) != 0)
            fail_msg("intersect(\"%s\", \"%s\") = \"%s\", expected \"%s\"", meets[i].a, meets[i].b,
                     out, meets[i].want);
    }
}

/* Declared permissions: a role may name only what some declared permission stands for. */
static void perm_known_catalog(void **state)
{
    (void)state;
    const char *catalog = "user:read user:admin file:read file:write";
    static const struct allow_case cases[] = {
        {NULL, "file:read", 1},   {NULL, "file:write:own", 1},
        {NULL, "file:*", 1},      {NULL, "*:read", 1},
        {NULL, "*:*", 1},         {NULL, "*:admin", 1},
        {NULL, "file:delete", 0}, {NULL, "billing:*", 0},
        {NULL, "*:delete", 0},    {NULL, "file:delete:own", 0},
        {NULL, "file read", 0},   {NULL, "", 0},
        {NULL, "FILE:read", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (gh_perm_known(catalog, cases[i].wanted, strlen(cases[i].wanted)) != cases[i].allow)
            fail_msg("known(\"%s\") != %d", cases[i].wanted, cases[i].allow);
    assert_false(gh_perm_known("", "*:*", 3));
    /* A malformed catalog item stands for nothing. */
    assert_false(gh_perm_known("BAD:x", "*:*", 3));
}

/* The one decision every check uses: superadmin, granted, owner, or not. */
static void authz_decide_reasons(void **state)
{
    (void)state;
    struct gh_identity who;
    enum gh_authz_reason why;
    memset(&who, 0, sizeof(who));
    memcpy(who.user_id, "01a23cd7-d13e-7bad-9527-35a935d81420", 37);
    const char *perms = "file:read doc:write:own";
    assert_true(gh_authz_decide(&who, perms, "file:read", NULL, &why));
    assert_int_equal(why, GH_AUTHZ_GRANTED);
    assert_false(gh_authz_decide(&who, perms, "doc:write", NULL, &why));
    assert_int_equal(why, GH_AUTHZ_NOT_GRANTED);
    assert_false(gh_authz_decide(&who, perms, "doc:write", "someone-else", &why));
    assert_true(gh_authz_decide(&who, perms, "doc:write", who.user_id, &why));
    assert_int_equal(why, GH_AUTHZ_OWNER);
    assert_true(gh_authz_decide(&who, perms, "file:read", who.user_id, &why));
    assert_int_equal(why, GH_AUTHZ_GRANTED); /* the plain grant wins */
    assert_false(gh_authz_decide(&who, perms, "doc:write:own:own", who.user_id, NULL));
    assert_false(gh_authz_decide(&who, "", "file:read", who.user_id, NULL));
    who.superadmin = 1;
    assert_true(gh_authz_decide(&who, "", "anything:at_all", NULL, &why));
    assert_int_equal(why, GH_AUTHZ_SUPERADMIN);
    assert_string_equal(gh_authz_reason_name(GH_AUTHZ_OWNER), "owner");
    assert_string_equal(gh_authz_reason_name(GH_AUTHZ_UNKNOWN_PERMISSION), "unknown_permission");
}

static void perms_intersect_bounds(void **state)
{
    (void)state;
    char out[32];
    /* Exact fit: "a:b" needs 4 bytes; "a:b c:d" 8. */
    assert_int_equal(gh_perms_intersect("a:b", "*:*", out, 4), GH_OK);
    assert_string_equal(out, "a:b");
    assert_int_equal(gh_perms_intersect("a:b c:d", "*:*", out, 8), GH_OK);
    assert_string_equal(out, "a:b c:d");

    /* One byte short: GH_ERR_TOO_LARGE with out emptied, not a truncated list. */
    memset(out, 'X', sizeof(out));
    assert_int_equal(gh_perms_intersect("a:b", "*:*", out, 3), GH_ERR_TOO_LARGE);
    assert_int_equal(out[0], '\0');
    memset(out, 'X', sizeof(out));
    assert_int_equal(gh_perms_intersect("a:b c:d", "*:*", out, 7), GH_ERR_TOO_LARGE);
    assert_int_equal(out[0], '\0');
    assert_int_equal(gh_perms_intersect("a:b", "*:*", out, 0), GH_ERR_TOO_LARGE);
    /* An empty result fits in one byte. */
    assert_int_equal(gh_perms_intersect("a:b", "c:d", out, 1), GH_OK);
    assert_string_equal(out, "");

    /* A long list overflowing a realistic buffer. */
    char a[4096], big[64];
    size_t used = 0;
    for (int i = 0; i < 100; i++)
        used += (size_t)snprintf(a + used, sizeof(a) - used, "%sres%d:read", i ? " " : "", i);
    memset(big, 'X', sizeof(big));
    assert_int_equal(gh_perms_intersect(a, "*:read", big, sizeof(big)), GH_ERR_TOO_LARGE);
    assert_int_equal(big[0], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(perm_valid_table),           cmocka_unit_test(perm_part_lengths),
        cmocka_unit_test(perm_covers_every_wildcard), cmocka_unit_test(perms_allow_lists),
        cmocka_unit_test(perms_intersect_table),      cmocka_unit_test(perm_own_qualifier),
        cmocka_unit_test(perm_known_catalog),         cmocka_unit_test(authz_decide_reasons),
        cmocka_unit_test(perms_intersect_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for api/router.c: the route patterns (segment-wise matching, "*" for exactly
 * one non-empty segment anywhere in the pattern), and the index over the dispatcher's own
 * route table, which must answer every path exactly as matching each pattern in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/router.h"

struct match_case {
    const char *route, *path;
    int match;
};

static void route_patterns(void **state)
{
    (void)state;
    static const struct match_case cases[] = {
        {"/healthz", "/healthz", 1},
        {"/healthz", "/healthz/", 0},
        {"/healthz", "/healthzz", 0},
        {"/healthz", "/health", 0},
        {"/healthz", "", 0},
        {"/api/v1/orgs", "/api/v1/orgs", 1},
        {"/api/v1/orgs", "/api/v1/orgs/", 0},
        {"/api/v1/orgs/*", "/api/v1/orgs/abc", 1},
        {"/api/v1/orgs/*", "/api/v1/orgs/", 0},
        {"/api/v1/orgs/*", "/api/v1/orgs", 0},
        {"/api/v1/orgs/*", "/api/v1/orgs/abc/", 0},
        {"/api/v1/orgs/*", "/api/v1/orgs/abc/members", 0},
        {"/api/v1/orgs/*", "/api/v1/orgs//", 0},
        {"/api/v1/orgs/*/members", "/api/v1/orgs/o1/members", 1},
        {"/api/v1/orgs/*/members", "/api/v1/orgs//members", 0},
        {"/api/v1/orgs/*/members", "/api/v1/orgs/o1/members/", 0},
        {"/api/v1/orgs/*/members", "/api/v1/orgs/o1/memberz", 0},
        {"/api/v1/orgs/*/members", "/api/v1/orgs/o1/o2/members", 0},
        {"/api/v1/orgs/*/members/*", "/api/v1/orgs/o1/members/u1", 1},
        {"/api/v1/orgs/*/members/*", "/api/v1/orgs/o1/members/", 0},
        {"/api/v1/orgs/*/members/*", "/api/v1/orgs/o1/members/u1/x", 0},
        {"/api/v1/orgs/*/members/*", "/api/v1/orgs/o1/roles/r1", 0},
        {"/api/v1/orgs/*/roles/*", "/api/v1/orgs/o1/roles/r1", 1},
        /* a star is a whole segment only: "*x" is literal text */
        {"/api/v1/*x", "/api/v1/ax", 0},
        {"/api/v1/*x", "/api/v1/*x", 1},
        {"/a/*/b", "/a/*/b", 1},
        {"/a/*/b", "/a/x/b", 1},
        {"/a/*", "//", 0},
        {"*", "x", 0}, /* patterns and paths start with '/' */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct match_case *c = &cases[i];
        int got = gh_router_path_matches(c->route, c->path);
        if (got != c->match)
            fail_msg("match(\"%s\", \"%s\") = %d, expected %d", c->route, c->path, got, c->match);
    }
}

/* The patterns of the dispatcher's routes, from their metrics labels ("METHOD path"). */
static size_t route_table(const char **paths)
{
    size_t n;
    const char *const *labels = gh_api_route_labels(&n);
    assert_true(n > 0 && n <= GH_ROUTER_MAX);
    for (size_t i = 0; i < n; i++)
        paths[i] = strchr(labels[i], ' ') + 1;
    return n;
}

static void check_path(const struct gh_router *r, const char *const *paths, size_t n,
                       const char *path)
{
    uint8_t match[GH_ROUTER_MAX];
    size_t got = gh_router_match(r, path, match), want = 0;
    for (size_t i = 0; i < n; i++) {
        if (!gh_router_path_matches(paths[i], path))
            continue;
        if (want >= got || match[want] != i)
            fail_msg("\"%s\": the index disagrees with pattern %zu \"%s\"", path, i, paths[i]);
        want++;
    }
    if (got != want)
        fail_msg("\"%s\": %zu matches, expected %zu", path, got, want);
}

/* xorshift32: a fixed sequence of pseudo-random numbers (rand() is banned). */
static uint32_t next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Each pattern with its stars filled, and mutated; and random paths of route words. */
static void index_agrees_with_patterns(void **state)
{
    (void)state;
    static const char *const words[] = {"api", "v1", "orgs", "members", "roles",  "auth",   "me",
                                        "x",   "*",  "",     "users",   "verify", "healthz"};
    const char *paths[GH_ROUTER_MAX];
    size_t n = route_table(paths);
    static struct gh_router r;
    assert_int_equal(gh_router_init(&r, paths, n), GH_OK);
    char buf[256];
    for (size_t i = 0; i < n; i++) {
        static const char *const fills[] = {"0190e3a1-0000-7000-8000-000000000000", "*", "me"};
        for (size_t f = 0; f < 3; f++) {
            size_t o = 0;
            for (const char *p = paths[i]; *p != '\0'; p++) {
                int star = p[0] == '*' && p[-1] == '/' && (p[1] == '/' || p[1] == '\0');
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s",
                                      star ? fills[f] : (char[2]){*p, 0});
            }
            check_path(&r, paths, n, buf);
            static const char *const tails[] = {"/", "/x", "//"};
            for (size_t t = 0; t < 3; t++) {
                char more[300];
                (void)snprintf(more, sizeof(more), "%s%s", buf, tails[t]);
                check_path(&r, paths, n, more);
            }
            buf[o - 1] = '\0'; /* one byte short */
            check_path(&r, paths, n, buf);
        }
    }
    uint32_t seed = 11;
    for (int k = 0; k < 20000; k++) {
        size_t o = 0, segs = 1 + (size_t)next(&seed) % 7;
        for (size_t s = 0; s < segs; s++)
            o += (size_t)snprintf(buf + o, sizeof(buf) - o, "/%s",
                                  words[(size_t)next(&seed) % (sizeof(words) / sizeof(words[0]))]);
        check_path(&r, paths, n, buf);
    }
    check_path(&r, paths, n, "");
    check_path(&r, paths, n, "healthz");
}

static void index_bounds(void **state)
{
    (void)state;
    static struct gh_router r;
    static const char *const same[] = {"/a", "/a", "/a", "/a", "/a", "/a", "/a", "/a", "/a"};
    assert_int_equal(gh_router_init(&r, same, 8), GH_OK);
    assert_int_equal(gh_router_init(&r, same, 9), GH_ERR_TOO_LARGE); /* one text, 9 routes */
    static const char *many[GH_ROUTER_MAX + 1];
    static char text[GH_ROUTER_MAX + 1][16];
    for (size_t i = 0; i <= GH_ROUTER_MAX; i++) {
        (void)snprintf(text[i], sizeof(text[i]), "/p%zu/*", i);
        many[i] = text[i];
    }
    assert_int_equal(gh_router_init(&r, many, GH_ROUTER_MAX), GH_OK);
    assert_int_equal(gh_router_init(&r, many, GH_ROUTER_MAX + 1), GH_ERR_TOO_LARGE);
    for (size_t i = 0; i <= GH_ROUTER_SLOTS / 2; i++)
        (void)snprintf(text[i], sizeof(text[i]), "/p%zu", i);
    assert_int_equal(gh_router_init(&r, many, GH_ROUTER_SLOTS / 2), GH_OK);
    assert_int_equal(gh_router_init(&r, many, GH_ROUTER_SLOTS / 2 + 1), GH_ERR_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(route_patterns),
        cmocka_unit_test(index_agrees_with_patterns),
        cmocka_unit_test(index_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

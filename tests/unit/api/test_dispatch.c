/*
 * Unit tests for the route patterns of api/dispatch.c: segment-wise matching, "*" for
 * exactly one non-empty segment anywhere in the pattern.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "api/handlers.h"

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
        int got = gh_api_path_matches(c->route, c->path);
        if (got != c->match)
            fail_msg("match(\"%s\", \"%s\") = %d, expected %d", c->route, c->path, got, c->match);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(route_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * libFuzzer target: gh_rl_routes_parse, the per-route rate-limit overrides from the
 * configuration; on success every override is checked against the parser's promises,
 * a few requests are matched, and the GCRA arithmetic is run on each override's rate
 * (a verdict within its bounds, an allowed request moving the arrival time forward).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static const char *const methods[] = {"GET", "POST", "DELETE", "*", "get", ""};
static const char *const paths[] = {"/", "/healthz", "/api/v1/auth/login", "/api/v1/x/y", "/x*"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct gh_rl_route routes[GH_RL_ROUTES_MAX];
    size_t n = SIZE_MAX;
    char why[200];
    if (gh_rl_routes_parse(text, routes, &n, why, sizeof(why)) != GH_OK) {
        check(n == SIZE_MAX && memchr(why, '\0', sizeof(why)) != NULL);
        free(text);
        return 0;
    }
    check(n <= GH_RL_ROUTES_MAX);
    for (size_t i = 0; i < n; i++) {
        const struct gh_rl_route *r = &routes[i];
        size_t pl = strnlen(r->path, sizeof(r->path));
        check(pl > 0 && pl < sizeof(r->path) && r->path[0] == '/');
        check(strnlen(r->method, sizeof(r->method)) < sizeof(r->method));
        check(r->rate.limit <= GH_RL_LIMIT_MAX);
        check(r->rate.period >= 1 && r->rate.period <= GH_RL_PERIOD_MAX);
        check(strstr(text, r->path) != NULL);
        if (r->rate.limit == 0)
            continue;
        struct gh_rl_verdict v;
        int64_t now = (int64_t)1700000000 * 1000000;
        int64_t tat = gh_gcra(0, now, r->rate, &v);
        check(v.allowed && tat > now && v.remaining == r->rate.limit - 1);
        for (uint32_t k = 1; k < r->rate.limit && k < 64; k++)
            tat = gh_gcra(tat, now, r->rate, &v);
        check(v.remaining < r->rate.limit && v.reset >= now / 1000000);
    }
    for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
        for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
            int i = gh_rl_routes_find(routes, n, methods[m], paths[p]);
            check(i >= -1 && i < (int)n);
        }
    free(text);
    return 0;
}

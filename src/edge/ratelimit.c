#include "edge/ratelimit.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/words.h"

#define US 1000000

struct gh_ratelimit {
    const struct gh_rl_ops *ops;
    void *backend;
    enum gh_rl_failure failure;
    atomic_int up; /* 1 until a failure, again 1 after the next success */
};

static int64_t ceil_seconds(int64_t us)
{
    return us / US + (us % US != 0);
}

int64_t gh_gcra(int64_t tat, int64_t now, struct gh_rate rate, struct gh_rl_verdict *v)
{
    /* Emission interval T and tolerance tau = (limit - 1) * T: a client with no recent
     * requests may send exactly limit at once, then one every T. T is rounded down, so
     * limit * T <= period: never less than the limit is allowed. */
    int64_t t = (int64_t)rate.period * US / rate.limit;
    if (t < 1)
        t = 1;
    int64_t tau = (int64_t)(rate.limit - 1) * t;
    int64_t base = tat > now ? tat : now;
    v->limit = rate.limit;
    if (base - now > tau) {
        v->allowed = 0;
        v->remaining = 0;
        v->reset = ceil_seconds(base);
        v->retry_after = ceil_seconds(base - now - tau);
        if (v->retry_after < 1)
            v->retry_after = 1;
        return tat;
    }
    int64_t next = base + t;
    v->allowed = 1;
    v->remaining = (uint32_t)((tau + t - (next - now)) / t);
    v->reset = ceil_seconds(next);
    v->retry_after = 0;
    return next;
}

/* ---- per-route overrides ---- */

/* A duration as config.c reads them: plain seconds or a number with s, m, h or d. */
static int parse_period(const char *s, size_t n, uint32_t *out)
{
    uint64_t v = 0, mul = 1;
    size_t i = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > GH_RL_PERIOD_MAX)
            return -1;
    }
    if (i == 0)
        return -1;
    if (i + 1 == n) {
        switch (s[i]) {
        case 's':
            mul = 1;
            break;
        case 'm':
            mul = 60;
            break;
        case 'h':
            mul = 3600;
            break;
        case 'd':
            mul = 86400;
            break;
        default:
            return -1;
        }
    } else if (i != n) {
        return -1;
    }
    if (v == 0 || v * mul > GH_RL_PERIOD_MAX)
        return -1;
    *out = (uint32_t)(v * mul);
    return 0;
}

static int parse_limit(const char *s, size_t n, uint32_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 7)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > GH_RL_LIMIT_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int method_ok(const char *s, size_t n)
{
    if (n == 1 && s[0] == '*')
        return 1;
    if (n == 0 || n >= sizeof(((struct gh_rl_route *)0)->method))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return 0;
    return 1;
}

static int path_ok(const char *s, size_t n)
{
    if (n == 0 || n >= GH_RL_PATH_MAX || s[0] != '/')
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
            (s[i] == '*' && i + 1 != n))
            return 0;
    return 1;
}

gh_err gh_rl_routes_parse(const char *text, struct gh_rl_route out[GH_RL_ROUTES_MAX], size_t *n,
                          char *why, size_t why_size)
{
    size_t count = 0, lineno = 0;
    for (const char *line = text; *line != '\0';) {
        size_t len = strcspn(line, "\n;");
        lineno++;
        const char *at = line, *end = line + len, *m, *p, *r, *extra;
        size_t ml, pl, rl, el;
        if (!gh_word_next(&at, end, &m, &ml) || m[0] == '#')
            goto next;
        (void)gh_word_next(&at, end, &p, &pl);
        (void)gh_word_next(&at, end, &r, &rl);
        (void)gh_word_next(&at, end, &extra, &el);
        const char *slash = rl > 0 ? memchr(r, '/', rl) : NULL;
        struct gh_rl_route route;
        if (el != 0 || !method_ok(m, ml) || !path_ok(p, pl) || slash == NULL ||
            parse_limit(r, (size_t)(slash - r), &route.rate.limit) != 0 ||
            parse_period(slash + 1, rl - (size_t)(slash - r) - 1, &route.rate.period) != 0) {
            (void)snprintf(why, why_size,
                           "line %zu: expected METHOD PATH LIMIT/PERIOD (e.g. POST /api/v1/x "
                           "20/1m; a limit up to %u, a period up to 1d)",
                           lineno, GH_RL_LIMIT_MAX);
            return GH_ERR_INVALID;
        }
        if (count == GH_RL_ROUTES_MAX) {
            (void)snprintf(why, why_size, "line %zu: at most %d overrides", lineno,
                           GH_RL_ROUTES_MAX);
            return GH_ERR_INVALID;
        }
        memcpy(route.method, m, ml);
        route.method[ml] = '\0';
        memcpy(route.path, p, pl);
        route.path[pl] = '\0';
        out[count++] = route;
    next:
        line += len;
        if (*line != '\0')
            line++;
    }
    *n = count;
    return GH_OK;
}

int gh_rl_routes_find(const struct gh_rl_route *routes, size_t n, const char *method,
                      const char *path)
{
    for (size_t i = 0; i < n; i++) {
        const struct gh_rl_route *r = &routes[i];
        if (strcmp(r->method, "*") != 0 && strcmp(r->method, method) != 0)
            continue;
        size_t pl = strlen(r->path);
        if (r->path[pl - 1] == '*' ? strncmp(r->path, path, pl - 1) == 0
                                   : strcmp(r->path, path) == 0)
            return (int)i;
    }
    return -1;
}

/* ---- the limiter ---- */

gh_err gh_ratelimit_new(const struct gh_rl_ops *ops, void *backend, enum gh_rl_failure failure,
                        struct gh_ratelimit **out)
{
    struct gh_ratelimit *rl = calloc(1, sizeof(*rl));
    if (rl == NULL) {
        ops->free(backend);
        return GH_ERR_NOMEM;
    }
    rl->ops = ops;
    rl->backend = backend;
    rl->failure = failure;
    atomic_init(&rl->up, 1);
    *out = rl;
    return GH_OK;
}

void gh_ratelimit_free(struct gh_ratelimit *rl)
{
    if (rl == NULL)
        return;
    rl->ops->free(rl->backend);
    free(rl);
}

void gh_ratelimit_check(struct gh_ratelimit *rl, const struct gh_rl_key *key, struct gh_rate rate,
                        int64_t now, struct gh_rl_result *out)
{
    gh_err err = rl->ops->check(rl->backend, key, rate, now, &out->verdict);
    /* Only the check that flips the state reports it: once per outage, once per recovery. */
    int was = err == GH_OK ? 0 : 1;
    out->event = GH_RL_EVENT_NONE;
    if (atomic_load_explicit(&rl->up, memory_order_relaxed) == was &&
        atomic_compare_exchange_strong(&rl->up, &was, !was))
        out->event = err == GH_OK ? GH_RL_EVENT_UP : GH_RL_EVENT_DOWN;
    out->backend_failed = err != GH_OK;
    out->allowed = err == GH_OK ? out->verdict.allowed : rl->failure == GH_RL_FAIL_OPEN;
}

int gh_ratelimit_backend_up(const struct gh_ratelimit *rl)
{
    return atomic_load_explicit(&((struct gh_ratelimit *)rl)->up, memory_order_relaxed);
}

const char *gh_ratelimit_backend_name(const struct gh_ratelimit *rl)
{
    return rl->ops->name;
}

enum gh_rl_failure gh_ratelimit_failure(const struct gh_ratelimit *rl)
{
    return rl->failure;
}

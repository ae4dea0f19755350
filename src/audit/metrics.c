#include "audit/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shard.h"

/* Upper bounds of the latency buckets, in microseconds (+Inf is implied). */
static const uint64_t bounds_us[] = {100,   250,   500,    1000,   2500,   5000,    10000,
                                     25000, 50000, 100000, 250000, 500000, 1000000, 2500000};
#define NBOUNDS (sizeof(bounds_us) / sizeof(bounds_us[0]))

/* The statuses Gatehouse answers with; anything else is counted as "other". */
static const unsigned statuses[] = {200, 201, 204, 400, 401, 403, 404, 405,
                                    409, 413, 415, 422, 429, 431, 500, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

struct series {
    atomic_uint_fast64_t bucket[NBOUNDS + 1]; /* not cumulative; +Inf last */
    atomic_uint_fast64_t sum_us;
};

/* A thread's part (core/shard.h), an allocation of its own: the polling threads count
 * every request without writing a line another one writes; rendering sums the parts. */
struct part {
    atomic_uint_fast64_t counters[GH_COUNTER_COUNT];
    struct series series[]; /* (nroutes + 1) * NSTATUS */
};

struct gh_metrics {
    const char *const *routes;
    size_t nroutes; /* one more series row for unmatched requests */
    struct part *parts[GH_SHARDS];
};

gh_err gh_metrics_new(const char *const *route_names, size_t nroutes, struct gh_metrics **out)
{
    struct gh_metrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return GH_ERR_NOMEM;
    m->routes = route_names;
    m->nroutes = nroutes;
    /* Zeroed pages a part never writes stay out of the resident set. */
    size_t size = sizeof(struct part) + (nroutes + 1) * NSTATUS * sizeof(struct series);
    for (unsigned i = 0; i < GH_SHARDS; i++)
        if ((m->parts[i] = calloc(1, size)) == NULL) {
            gh_metrics_free(m);
            return GH_ERR_NOMEM;
        }
    *out = m;
    return GH_OK;
}

void gh_metrics_free(struct gh_metrics *m)
{
    if (m == NULL)
        return;
    for (unsigned i = 0; i < GH_SHARDS; i++)
        free(m->parts[i]);
    free(m);
}

void gh_metrics_count(struct gh_metrics *m, enum gh_counter c)
{
    if ((unsigned)c < GH_COUNTER_COUNT)
        atomic_fetch_add_explicit(&m->parts[gh_shard_self()]->counters[c], 1, memory_order_relaxed);
}

/* Counter c summed over the parts. */
static uint64_t counter_total(const struct gh_metrics *m, enum gh_counter c)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < GH_SHARDS; i++)
        n += atomic_load_explicit(&m->parts[i]->counters[c], memory_order_relaxed);
    return n;
}

static size_t status_index(unsigned status)
{
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return NSTATUS - 1;
}

void gh_metrics_observe(struct gh_metrics *m, size_t route, unsigned status, uint64_t micros)
{
    if (route > m->nroutes)
        route = m->nroutes;
    struct series *s = &m->parts[gh_shard_self()]->series[route * NSTATUS + status_index(status)];
    size_t b = 0;
    while (b < NBOUNDS && micros > bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, micros, memory_order_relaxed);
}

static gh_err counter(struct gh_buf *out, const char *name, const char *help,
                      const struct gh_metrics *m, const char *const *labels,
                      const enum gh_counter *which, size_t n)
{
    gh_err err = gh_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (size_t i = 0; err == GH_OK && i < n; i++)
        err =
            gh_buf_printf(out, "%s%s%s%s %llu\n", name, labels ? "{" : "", labels ? labels[i] : "",
                          labels ? "}" : "", (unsigned long long)counter_total(m, which[i]));
    return err;
}

/* Series i summed over the parts. */
static void series_total(const struct gh_metrics *m, size_t i, uint64_t bucket[NBOUNDS + 1],
                         uint64_t *sum_us)
{
    memset(bucket, 0, (NBOUNDS + 1) * sizeof(*bucket));
    *sum_us = 0;
    for (unsigned p = 0; p < GH_SHARDS; p++) {
        const struct series *s = &m->parts[p]->series[i];
        for (size_t b = 0; b <= NBOUNDS; b++)
            bucket[b] += atomic_load_explicit(&s->bucket[b], memory_order_relaxed);
        *sum_us += atomic_load_explicit(&s->sum_us, memory_order_relaxed);
    }
}

static gh_err status_label(char *text, size_t size, size_t i)
{
    int n =
        i < NSTATUS - 1 ? snprintf(text, size, "%u", statuses[i]) : snprintf(text, size, "other");
    return n > 0 && (size_t)n < size ? GH_OK : GH_ERR_INTERNAL;
}

static gh_err requests(struct gh_metrics *m, struct gh_buf *out)
{
    gh_err err = gh_buf_puts(out, "# HELP gatehouse_requests_total Requests answered, by route "
                                  "and status.\n# TYPE gatehouse_requests_total counter\n");
    struct gh_buf hist;
    gh_buf_init(&hist, 4 * 1024 * 1024);
    if (err == GH_OK)
        err = gh_buf_puts(&hist, "# HELP gatehouse_request_duration_seconds Time from the request "
                                 "line to the answer, by route and status.\n"
                                 "# TYPE gatehouse_request_duration_seconds histogram\n");
    for (size_t r = 0; err == GH_OK && r <= m->nroutes; r++) {
        const char *route = r < m->nroutes ? m->routes[r] : "unmatched";
        for (size_t st = 0; err == GH_OK && st < NSTATUS; st++) {
            uint64_t bucket[NBOUNDS + 1], sum_us, total = 0, cumulative = 0;
            series_total(m, r * NSTATUS + st, bucket, &sum_us);
            for (size_t b = 0; b <= NBOUNDS; b++)
                total += bucket[b];
            if (total == 0)
                continue;
            char status[8];
            if ((err = status_label(status, sizeof(status), st)) != GH_OK)
                break;
            err = gh_buf_printf(out, "gatehouse_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                                route, status, (unsigned long long)total);
            for (size_t b = 0; err == GH_OK && b <= NBOUNDS; b++) {
                cumulative += bucket[b];
                if (b < NBOUNDS)
                    err = gh_buf_printf(&hist,
                                        "gatehouse_request_duration_seconds_bucket{route=\"%s\","
                                        "status=\"%s\",le=\"%g\"} %llu\n",
                                        route, status, (double)bounds_us[b] / 1e6,
                                        (unsigned long long)cumulative);
                else
                    err = gh_buf_printf(&hist,
                                        "gatehouse_request_duration_seconds_bucket{route=\"%s\","
                                        "status=\"%s\",le=\"+Inf\"} %llu\n",
                                        route, status, (unsigned long long)cumulative);
            }
            if (err == GH_OK)
                err = gh_buf_printf(&hist,
                                    "gatehouse_request_duration_seconds_sum{route=\"%s\","
                                    "status=\"%s\"} %.6f\n"
                                    "gatehouse_request_duration_seconds_count{route=\"%s\","
                                    "status=\"%s\"} %llu\n",
                                    route, status, (double)sum_us / 1e6, route, status,
                                    (unsigned long long)cumulative);
        }
    }
    if (err == GH_OK && hist.len > 0)
        err = gh_buf_append(out, hist.ptr, hist.len);
    gh_buf_clear(&hist);
    return err;
}

gh_err gh_metrics_render(struct gh_metrics *m, struct gh_buf *out)
{
    static const char *const auth_labels[] = {"status=\"success\"", "status=\"failure\"",
                                              "status=\"rate_limited\""};
    static const enum gh_counter auth[] = {GH_AUTH_SUCCESS, GH_AUTH_FAILURE, GH_AUTH_RATE_LIMITED};
    static const char *const two_labels[] = {"status=\"success\"", "status=\"failure\""};
    static const enum gh_counter refresh[] = {GH_REFRESH_SUCCESS, GH_REFRESH_FAILURE};
    static const enum gh_counter keys[] = {GH_API_KEY_SUCCESS, GH_API_KEY_FAILURE};
    static const enum gh_counter hits[] = {GH_RATE_LIMIT_HITS};
    static const enum gh_counter backend[] = {GH_RATE_LIMIT_BACKEND_ERRORS};
    gh_err err = counter(out, "gatehouse_auth_attempts_total", "Password logins, by outcome.", m,
                         auth_labels, auth, 3);
    if (err == GH_OK)
        err = counter(out, "gatehouse_rate_limit_hits_total",
                      "Requests refused because a limit or backoff applied.", m, NULL, hits, 1);
    if (err == GH_OK)
        err = counter(out, "gatehouse_rate_limit_backend_errors_total",
                      "Requests decided without the rate-limit backend (it did not answer).", m,
                      NULL, backend, 1);
    if (err == GH_OK)
        err = counter(out, "gatehouse_token_refreshes_total",
                      "Refresh-token exchanges, by outcome.", m, two_labels, refresh, 2);
    if (err == GH_OK)
        err = counter(out, "gatehouse_api_key_usage_total", "API-key checks, by outcome.", m,
                      two_labels, keys, 2);
    if (err == GH_OK)
        err = requests(m, out);
    return err;
}

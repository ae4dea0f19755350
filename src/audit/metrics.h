#ifndef GH_AUDIT_METRICS_H
#define GH_AUDIT_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"

/*
 * Counters and latency histograms, rendered in the Prometheus text format (0.0.4).
 * Recording is a few relaxed atomic additions to the calling thread's part of them
 * (core/shard.h; rendering sums the parts): safe from every thread, no lock, no
 * allocation, no cache line written by two polling threads. Routes are numbered by the
 * caller (the dispatcher's route table).
 */

/** Counters with a fixed label set, named after what they count. */
enum gh_counter {
    GH_AUTH_SUCCESS,      /* gatehouse_auth_attempts_total{status="success"} */
    GH_AUTH_FAILURE,      /* ...{status="failure"} */
    GH_AUTH_RATE_LIMITED, /* ...{status="rate_limited"} */
    GH_RATE_LIMIT_HITS,   /* gatehouse_rate_limit_hits_total: request limits and login backoff */
    GH_RATE_LIMIT_BACKEND_ERRORS, /* gatehouse_rate_limit_backend_errors_total */
    GH_REFRESH_SUCCESS,           /* gatehouse_token_refreshes_total{status="success"} */
    GH_REFRESH_FAILURE,           /* ...{status="failure"} */
    GH_API_KEY_SUCCESS,           /* gatehouse_api_key_usage_total{status="success"} */
    GH_API_KEY_FAILURE,           /* ...{status="failure"} */
    GH_COUNTER_COUNT
};

struct gh_metrics;

/** route_names (nroutes, borrowed, must outlive m) label the request metrics. */
gh_err gh_metrics_new(const char *const *route_names, size_t nroutes,
                      struct gh_metrics **out) GH_WUR GH_NONNULL(1, 3);
void gh_metrics_free(struct gh_metrics *m);

void gh_metrics_count(struct gh_metrics *m, enum gh_counter c) GH_NONNULL(1);

/** One answered request: route index (nroutes or more: "unmatched"), status, duration. */
void gh_metrics_observe(struct gh_metrics *m, size_t route, unsigned status, uint64_t micros)
    GH_NONNULL(1);

/** Appends every metric of m as Prometheus text. */
gh_err gh_metrics_render(struct gh_metrics *m, struct gh_buf *out) GH_WUR GH_NONNULL(1, 2);

#endif

/*
 * GET /metrics: Prometheus text. The dispatcher's allowlist lets through clients in
 * metrics.allow (loopback by default) and callers whose permissions cover metrics:read;
 * others get 403 ip_not_allowed there.
 */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/handlers.h"

static double ratio(uint64_t hits, uint64_t misses)
{
    return hits + misses > 0 ? (double)hits / (double)(hits + misses) : 0.0;
}

void gh_h_metrics(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_buf out;
    gh_buf_init(&out, 8 * 1024 * 1024);
    uint64_t tokens[2], keys[2];
    gh_auth_cache_stats(app->auth, tokens, keys);
    gh_err err = gh_metrics_render(app->metrics, &out);
    if (err == GH_OK)
        err = gh_buf_puts(&out, "# HELP gatehouse_pool_queue_depth Jobs waiting for a worker.\n"
                                "# TYPE gatehouse_pool_queue_depth gauge\n");
    struct {
        const char *name;
        struct gh_pool *pool;
    } pools[] = {{"hash", app->hash_pool}, {"io", app->io_pool}};
    for (size_t i = 0; err == GH_OK && i < sizeof(pools) / sizeof(pools[0]); i++)
        err = gh_buf_printf(&out, "gatehouse_pool_queue_depth{pool=\"%s\"} %u\n", pools[i].name,
                            gh_pool_depth(pools[i].pool));
    if (err == GH_OK)
        err = gh_buf_puts(&out, "# HELP gatehouse_cache_hit_ratio Lookups answered from the "
                                "cache, since start.\n# TYPE gatehouse_cache_hit_ratio gauge\n");
    if (err == GH_OK)
        err = gh_buf_printf(&out,
                            "gatehouse_cache_hit_ratio{cache=\"token\"} %.6f\n"
                            "gatehouse_cache_hit_ratio{cache=\"api_key\"} %.6f\n",
                            ratio(tokens[0], tokens[1]), ratio(keys[0], keys[1]));
    if (err == GH_OK && app->alerts != NULL)
        err = gh_alerts_render(app->alerts, &out);
    if (err == GH_OK && app->ratelimit != NULL)
        err = gh_buf_printf(&out,
                            "# HELP gatehouse_rate_limit_backend_up 1 while the rate-limit "
                            "backend answers.\n# TYPE gatehouse_rate_limit_backend_up gauge\n"
                            "gatehouse_rate_limit_backend_up{backend=\"%s\"} %d\n",
                            gh_ratelimit_backend_name(app->ratelimit),
                            gh_ratelimit_backend_up(app->ratelimit));
    if (err != GH_OK) {
        gh_buf_clear(&out);
        gh_api_reply_failure(req, err);
        return;
    }
    gh_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.ptr, out.len);
    gh_buf_clear(&out);
}

/*
 * GET /metrics: Prometheus text. Answered for clients in metrics.allow (loopback by
 * default) and for callers whose permissions cover metrics:read; others get
 * 403 ip_not_allowed.
 */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/handlers.h"
#include "authz/rbac.h"
#include "authz/perm.h"

static double ratio(uint64_t hits, uint64_t misses)
{
    return hits + misses > 0 ? (double)hits / (double)(hits + misses) : 0.0;
}

/* 1 when the caller may read the metrics; otherwise answers. */
static int may_read(struct gh_req *req, struct gh_app *app)
{
    if (gh_cidr_list_match_text(&app->cfg.metrics_allowed, req->client_ip))
        return 1;
    const char *token = NULL;
    size_t len = 0;
    int r = gh_api_credential(req, &token, &len);
    if (r < 0)
        return 0;
    if (r == 0) {
        gh_err err = gh_api_prove(req, token, len);
        if (err != GH_OK) {
            gh_api_reply_unproven(req, err, 1, 0);
            return 0;
        }
        const struct gh_identity *who = gh_api_identity(req);
        /* The metrics cover every org: an org's own admin (*:*) does not read them, only
         * a superadmin or a holder of metrics:read in the default org. */
        if (gh_authz_decide(who, who->perms, "metrics:read", NULL, NULL) &&
            (who->superadmin || strcmp(who->org_id, gh_auth_default_org(app->auth)) == 0))
            return 1;
    }
    /* Audited like every 403, with the caller when one was proven. */
    const struct gh_identity *who = req->user != NULL ? gh_api_identity(req) : NULL;
    struct gh_audit_subject subject = {who ? who->user_id : NULL, who ? who->username : NULL,
                                       who ? who->org_id : NULL};
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_audit_record_async(app->io_pool, &app->store, "PERMISSION_DENIED", &meta, &subject, 403,
                          "{\"permission\":\"metrics:read\"}");
    gh_reply_error(req, 403, "ip_not_allowed",
                   "metrics are served to allowed addresses or callers with metrics:read", NULL);
    return 0;
}

void gh_h_metrics(struct gh_req *req)
{
    struct gh_app *app = req->app;
    if (!may_read(req, app))
        return;
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
    if (err != GH_OK) {
        gh_buf_clear(&out);
        gh_api_reply_failure(req, err);
        return;
    }
    gh_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.ptr, out.len);
    gh_buf_clear(&out);
}

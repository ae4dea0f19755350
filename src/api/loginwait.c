#include "api/loginwait.h"

#include <ctype.h>
#include <stdio.h>
#include <time.h>

#include "api/app.h"
#include "api/handlers.h"

int64_t gh_api_login_wait(struct gh_req *req, char kind, const char *login,
                          struct gh_login_keys *keys)
{
    struct gh_app *app = req->app;
    size_t n = 0;
    keys->account[n++] = kind;
    keys->account[n++] = ':';
    for (const char *p = login; *p != '\0' && n < sizeof(keys->account) - 1; p++)
        keys->account[n++] = (char)tolower((unsigned char)*p);
    keys->account[n] = '\0';
    (void)snprintf(keys->client, sizeof(keys->client), "ip:%s", req->client_ip);
    if (app->backoff == NULL)
        return 0;
    int64_t now = (int64_t)time(NULL);
    int64_t wait = gh_backoff_wait(app->backoff, keys->account, now);
    int64_t wait_ip = gh_backoff_wait(app->backoff, keys->client, now);
    if (wait_ip > wait)
        wait = wait_ip;
    if (wait == 0)
        return 0;
    char md[64];
    (void)snprintf(md, sizeof(md), "{\"limit\":\"login_backoff\",\"retry_after\":%lld}",
                   (long long)wait);
    struct gh_reqmeta meta;
    struct gh_audit_subject who = {NULL, kind == 'u' ? login : NULL, NULL};
    gh_api_meta(req, &meta);
    gh_audit_record_async(app->io_pool, &app->store, "RATE_LIMITED", &meta, &who, 429, md);
    gh_metrics_count(app->metrics, GH_AUTH_RATE_LIMITED);
    gh_metrics_count(app->metrics, GH_RATE_LIMIT_HITS);
    return wait;
}

void gh_api_login_result(struct gh_req *req, const struct gh_login_keys *keys, gh_err err,
                         int partial)
{
    struct gh_app *app = req->app;
    int failed = err == GH_ERR_AUTH || err == GH_ERR_REUSED;
    if ((err != GH_OK || partial) && !failed)
        return;
    gh_metrics_count(app->metrics, failed ? GH_AUTH_FAILURE : GH_AUTH_SUCCESS);
    if (app->backoff == NULL)
        return;
    if (!failed) {
        gh_backoff_clear(app->backoff, keys->account);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    gh_backoff_fail(app->backoff, keys->account, now);
    gh_backoff_fail(app->backoff, keys->client, now);
}

#include <string.h>

#include "api/app.h"
#include "api/handlers.h"

void gh_h_healthz(struct gh_req *req)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    gh_reply_raw(req, 200, "application/json", ok, sizeof(ok) - 1);
}

void gh_h_readyz(struct gh_req *req)
{
    struct gh_app *app = req->app;
    if (app->store.ops->ping(app->store.st) != GH_OK) {
        gh_reply_error(req, 503, "unavailable", "storage does not answer", NULL);
        gh_reply_header(req, "Retry-After", "1");
        return;
    }
    static const char ready[] = "{\"status\":\"ready\"}";
    gh_reply_raw(req, 200, "application/json", ready, sizeof(ready) - 1);
}

/* Public documents: cacheable for a few minutes; rotation keeps old keys published longer. */
static void reply_document(struct gh_req *req, const char *doc)
{
    gh_reply_raw(req, 200, "application/json", doc, strlen(doc));
    gh_reply_header(req, "Cache-Control", "public, max-age=300");
    gh_reply_header(req, "Access-Control-Allow-Origin", "*");
}

void gh_h_jwks(struct gh_req *req)
{
    struct gh_app *app = req->app;
    reply_document(req, app->jwks);
}

void gh_h_openid(struct gh_req *req)
{
    struct gh_app *app = req->app;
    reply_document(req, app->openid);
}

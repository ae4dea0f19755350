#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/openapi.h"
#include "core/secure_json.h"

void gh_h_healthz(struct gh_req *req)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    gh_reply_raw(req, 200, "application/json", ok, sizeof(ok) - 1);
}

void gh_h_readyz(struct gh_req *req)
{
    struct gh_app *app = req->app;
    if (gh_api_sealed(req)) {
        gh_reply_error(req, 503, "sealed", "the master key is sealed: unseal with its shares",
                       NULL);
        return;
    }
    if (gh_store_ping(&app->store) != GH_OK) {
        gh_reply_error(req, 503, "unavailable", "storage does not answer", NULL);
        gh_reply_header(req, "Retry-After", "1");
        return;
    }
    static const char ready[] = "{\"status\":\"ready\"}";
    gh_reply_raw(req, 200, "application/json", ready, sizeof(ready) - 1);
}

/* Public documents: cacheable for a few minutes; rotation keeps old keys published longer. */
static void document_headers(struct gh_req *req)
{
    gh_reply_header(req, "Cache-Control", "public, max-age=300");
    gh_reply_header(req, "Access-Control-Allow-Origin", "*");
}

/* GET /openapi.json: the document compiled in from docs/openapi.json. */
void gh_h_openapi(struct gh_req *req)
{
    document_headers(req);
    gh_reply_raw(req, 200, "application/json", gh_openapi_json, gh_openapi_json_len);
}

/* Copies the ring's JWKS text into the reply, under the ring's read lock. */
static void copy_jwks(void *arg, const char *text, size_t len)
{
    gh_reply_raw(arg, 200, "application/json", text, len);
}

void gh_h_jwks(struct gh_req *req)
{
    struct gh_app *app = req->app;
    if (gh_keyring_read_jwks(app->ring, copy_jwks, req) != GH_OK) {
        gh_reply_error(req, 503, "unavailable", "no signing keys", NULL);
        return;
    }
    document_headers(req);
}

/* Rendered per request (it is rarely fetched): the algorithms follow key reloads. */
void gh_h_openid(struct gh_req *req)
{
    struct gh_app *app = req->app;
    enum gh_alg algs[3];
    size_t n = gh_keyring_algs(app->ring, algs, sizeof(algs) / sizeof(algs[0]));
    char jwks_uri[600];
    snprintf(jwks_uri, sizeof(jwks_uri), "%s/.well-known/jwks.json", app->cfg.public_url);
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < n; i++)
        json_array_append_new(list, json_string(gh_alg_name(algs[i])));
    json_t *doc =
        list ? json_pack("{s:s, s:s, s:o, s:[s], s:[s]}", "issuer", app->cfg.issuer, "jwks_uri",
                         jwks_uri, "id_token_signing_alg_values_supported", list,
                         "response_types_supported", "token", "subject_types_supported", "public")
             : NULL;
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text == NULL) {
        gh_reply_raw(req, 500, "application/json", NULL, 0);
        return;
    }
    gh_reply_raw(req, 200, "application/json", text, strlen(text));
    gh_secure_json_free(text);
    document_headers(req);
}

/* POST /api/v1/auth/gateway-token: a short-lived token for one audience (authn/gateway.h). */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "api/app.h"
#include "api/handlers.h"
#include "authn/gateway.h"
#include "authz/rules.h"

#define TTL_DEFAULT 300 /* seconds, when the body names none */

void gh_h_gateway_token(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *audience;
    size_t len;
    if (gh_api_string_field(req, "audience", 1, &audience, &len))
        return;
    if (!gh_rules_audience_ok(audience, len)) {
        gh_reply_error(req, 422, "invalid_value", "audience: 1-64 of a-z 0-9 . _ -",
                       json_pack("{s:s}", "field", "audience"));
        return;
    }
    json_int_t ttl = TTL_DEFAULT;
    const json_t *t = json_object_get(req->json, "ttl");
    if (t != NULL && !json_is_null(t)) {
        if (!json_is_integer(t)) {
            gh_reply_error(req, 400, "invalid_request", "ttl: an integer of seconds",
                           json_pack("{s:s}", "field", "ttl"));
            return;
        }
        ttl = json_integer_value(t);
        if (ttl < 1 || ttl > GH_GATEWAY_TTL_MAX) {
            gh_reply_error(req, 422, "invalid_value", "ttl: 1 to 3600 seconds (at most an hour)",
                           json_pack("{s:s}", "field", "ttl"));
            return;
        }
    }
    char *token = NULL;
    gh_err err = gh_gateway_mint(app->auth, gh_api_identity(req), audience, (int64_t)ttl, &token);
    if (err == GH_ERR_FORBIDDEN) {
        /* A scoped key lacks the whole of its owner's permissions ("*:*" in the audit
         * record), which a token that passes for the owner at /verify would carry. */
        gh_api_deny(req, "*:*");
        return;
    }
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    gh_reply_header(req, "Cache-Control", "no-store");
    gh_reply_json(req, 200, json_pack("{s:s, s:I}", "token", token, "expires_in", ttl));
    sodium_memzero(token, strlen(token));
    free(token);
}

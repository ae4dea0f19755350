/* The browser's sign-in through an OIDC or OAuth2 provider: /api/v1/auth/sso/authorize
 * and /api/v1/auth/sso/callback (API.md "SSO", browser flow). */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/cookies.h"
#include "api/handlers.h"
#include "api/page.h"
#include "authn/sso_flow.h"

#define BINDING_PATH "/api/v1/auth/sso"

/* The gh_sso cookie: this browser's binding of its pending sign-ins (HttpOnly; Lax, so
 * that the provider's redirect back, a top-level GET, carries it). */
static void set_binding(struct gh_req *req, const char *value)
{
    const struct gh_app *app = req->app;
    char line[160];
    int secure = strncmp(app->cfg.public_url, "https://", 8) == 0;
    (void)snprintf(line, sizeof(line),
                   "gh_sso=%s; Path=" BINDING_PATH "; Max-Age=%d; HttpOnly; "
                   "SameSite=Lax%s",
                   value, GH_SSO_STATE_TTL, secure ? "; Secure" : "");
    gh_reply_header(req, "Set-Cookie", line);
}

/* The gh_sso cookie's value (NUL-terminated into out), or NULL. */
static const char *binding(const struct gh_req *req, char out[GH_SSO_BINDING_TEXT])
{
    const char *v;
    size_t len;
    if (gh_api_cookie(req, "gh_sso", &v, &len) != 0 || len >= GH_SSO_BINDING_TEXT)
        return NULL;
    memcpy(out, v, len);
    out[len] = '\0';
    return out;
}

void gh_h_sso_authorize(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_sso_start start;
    char bound[GH_SSO_BINDING_TEXT];
    const char *provider = gh_req_query(req, "provider");
    const char *rd = gh_req_query(req, "redirect_to");
    if (rd == NULL)
        rd = gh_req_query(req, "rd");
    if (app->sso_flow == NULL || provider == NULL || *provider == '\0') {
        gh_api_page_message(req, 404, "No such sign-in", "That identity provider is not known.",
                            "/login", "Back to sign in");
        return;
    }
    /* judged now by the portal's rules, and kept with the state */
    const char *to = gh_api_return_to(req, rd != NULL && *rd != '\0' ? rd : NULL);
    gh_err err = gh_sso_flow_begin(app->sso_flow, provider, to, binding(req, bound), &start);
    if (err == GH_ERR_NOT_FOUND) {
        gh_api_page_message(req, 404, "No such sign-in", "That identity provider is not known.",
                            "/login", "Back to sign in");
    } else if (err != GH_OK) {
        gh_api_page_message(req, err == GH_ERR_IO || err == GH_ERR_BUSY ? 503 : 500,
                            "Sign-in unavailable",
                            "The identity provider cannot be reached now; try again soon.",
                            "/login", "Back to sign in");
    } else {
        gh_reply_raw(req, 302, "text/html; charset=utf-8", NULL, 0);
        gh_reply_header(req, "Location", start.location);
        set_binding(req, start.binding);
    }
    memset(&start, 0, sizeof(start));
}

void gh_h_sso_callback(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char bound[GH_SSO_BINDING_TEXT], to[GH_SSO_RETURN_MAX + 1];
    struct gh_sso_callback in = {gh_req_query(req, "state"), gh_req_query(req, "code"),
                                 gh_req_query(req, "error"), binding(req, bound)};
    struct gh_reqmeta meta;
    struct gh_signin_result r;
    const char *reason = NULL;
    if (app->sso_flow == NULL) {
        gh_api_page_message(req, 404, "No such sign-in", "Single sign-on is not set up.", "/login",
                            "Back to sign in");
        return;
    }
    gh_api_meta(req, &meta);
    gh_err err = gh_sso_flow_finish(app->sso_flow, &in, &meta, &r, to, &reason);
    if (err == GH_OK) {
        gh_api_page_signed_in(req, &r, to[0] ? to : NULL);
        return;
    }
    gh_signin_result_clear(&r);
    if (err == GH_ERR_IO || err == GH_ERR_BUSY)
        gh_api_page_message(req, 503, "Sign-in unavailable",
                            "The identity provider did not answer in time; try again soon.",
                            "/login", "Back to sign in");
    else if (err == GH_ERR_FORBIDDEN)
        gh_api_page_message(req, 403, "Sign-in refused", "This account is disabled.", "/login",
                            "Back to sign in");
    else if (err == GH_ERR_NOT_FOUND || err == GH_ERR_CONFLICT)
        gh_api_page_message(req, 403, "Sign-in refused",
                            "No account may be used with this identity. Ask an administrator.",
                            "/login", "Back to sign in");
    else if (err == GH_ERR_AUTH || err == GH_ERR_INVALID)
        gh_api_page_message(req, 401, "Sign-in failed",
                            "The sign-in could not be completed (it may have expired or been "
                            "used already). Start again.",
                            "/login", "Back to sign in");
    else
        gh_api_page_message(req, 500, "Sign-in failed", "Signing in failed; try again soon.",
                            "/login", "Back to sign in");
}

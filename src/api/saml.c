/* /api/v1/auth/saml: our SP metadata, a sign-in's start and the ACS (authn/saml_flow.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/cookies.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "api/page.h"

#define BINDING_PATH "/api/v1/auth/saml"

void gh_h_saml_metadata(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *name = gh_req_query(req, "provider");
    char *xml = NULL;
    if (name == NULL || *name == '\0') {
        gh_reply_error(req, 400, "invalid_request", "name the provider", NULL);
        return;
    }
    gh_err err = gh_saml_flow_metadata(app->saml, name, &xml);
    if (err == GH_OK)
        gh_reply_raw(req, 200, "application/samlmetadata+xml", xml, strlen(xml));
    else if (err == GH_ERR_NOT_FOUND)
        gh_reply_error(req, 404, "not_found", "no such SAML identity provider", NULL);
    else
        gh_api_reply_err(req, err, NULL);
    free(xml);
}

/*
 * The gh_saml cookie: this browser's binding of its pending SAML sign-ins (HttpOnly). The
 * IdP posts the answer from its own site: a Lax cookie would not come along, so over https
 * it is SameSite=None (and Secure); over http (a loopback test setup) browsers refuse None
 * without Secure, and Lax serves an IdP of the same site.
 */
static void set_binding(struct gh_req *req, const char *value)
{
    const struct gh_app *app = req->app;
    int https = strncmp(app->cfg.public_url, "https://", 8) == 0;
    char line[256];
    (void)snprintf(line, sizeof(line), "gh_saml=%s; Path=" BINDING_PATH "; Max-Age=%d; HttpOnly%s",
                   value, GH_SAML_STATE_TTL, https ? "; SameSite=None; Secure" : "; SameSite=Lax");
    gh_reply_header(req, "Set-Cookie", line);
}

/* The gh_saml cookie's value (NUL-terminated into out), or NULL. */
static const char *binding(const struct gh_req *req, char out[GH_SAML_BINDING_TEXT])
{
    const char *v;
    size_t len;
    if (gh_api_cookie(req, "gh_saml", &v, &len) != 0 || len >= GH_SAML_BINDING_TEXT)
        return NULL;
    memcpy(out, v, len);
    out[len] = '\0';
    return out;
}

void gh_h_saml_login(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *provider = gh_req_query(req, "provider");
    const char *rd = gh_req_query(req, "redirect_to");
    char bound[GH_SAML_BINDING_TEXT];
    if (provider == NULL || *provider == '\0') {
        gh_api_page_message(req, 404, "No such sign-in", "That identity provider is not known.",
                            "/login", "Back to sign in");
        return;
    }
    struct gh_saml_start *start = gh_req_alloc(req, sizeof(*start));
    if (start == NULL) {
        gh_api_reply_err(req, GH_ERR_NOMEM, NULL);
        return;
    }
    const char *to = gh_api_return_to(req, rd != NULL && *rd != '\0' ? rd : NULL);
    gh_err err = gh_saml_flow_begin(app->saml, provider, to, binding(req, bound), start);
    if (err == GH_ERR_NOT_FOUND) {
        gh_api_page_message(req, 404, "No such sign-in", "That identity provider is not known.",
                            "/login", "Back to sign in");
    } else if (err != GH_OK) {
        gh_api_page_message(req, err == GH_ERR_IO || err == GH_ERR_BUSY ? 503 : 500,
                            "Sign-in unavailable", "Signing in there failed; try again soon.",
                            "/login", "Back to sign in");
    } else {
        gh_reply_raw(req, 302, "text/html; charset=utf-8", NULL, 0);
        gh_reply_header(req, "Location", start->location);
        set_binding(req, start->binding);
    }
}

void gh_h_saml_acs(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char bound[GH_SAML_BINDING_TEXT], to[GH_SSO_RETURN_MAX + 1] = "";
    struct gh_saml_post in = {gh_api_page_value(req, "SAMLResponse"),
                              gh_api_page_value(req, "RelayState"), binding(req, bound)};
    struct gh_reqmeta meta;
    struct gh_signin_result r;
    const char *reason = NULL;
    gh_api_meta(req, &meta);
    memset(&r, 0, sizeof(r));
    gh_err err = gh_saml_flow_finish(app->saml, &in, &meta, &r, to, &reason);
    if (err == GH_OK) {
        gh_api_page_signed_in(req, &r, to[0] != '\0' ? to : NULL);
        return;
    }
    gh_signin_result_clear(&r);
    if (err == GH_ERR_IO || err == GH_ERR_BUSY)
        gh_api_page_message(req, 503, "Sign-in unavailable",
                            "Signing in is not possible right now; try again soon.", "/login",
                            "Back to sign in");
    else if (err == GH_ERR_FORBIDDEN)
        gh_api_page_message(req, 403, "Sign-in refused", "This account is disabled.", "/login",
                            "Back to sign in");
    else if (err == GH_ERR_NOT_FOUND || err == GH_ERR_CONFLICT)
        gh_api_page_message(req, 403, "Sign-in refused",
                            "No account here may be used with that identity.", "/login",
                            "Back to sign in");
    else if (err == GH_ERR_AUTH)
        gh_api_page_message(req, 401, "Sign-in failed",
                            "The identity provider's answer was not accepted. Start again.",
                            "/login", "Back to sign in");
    else
        gh_api_page_message(req, 500, "Sign-in failed", "Signing in failed; try again soon.",
                            "/login", "Back to sign in");
}

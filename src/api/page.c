#include "api/page.h"

#include <string.h>

#include "api/app.h"
#include "api/cookies.h"
#include "api/credential.h"
#include "api/handlers.h"
#include "api/request.h"
#include "api/sessions.h"
#include "authz/decide.h"

int gh_api_page_caller(struct gh_req *req, struct gh_page_caller *out)
{
    struct gh_app *app = req->app;
    struct gh_credential cred;
    memset(out, 0, sizeof(*out));
    int r = gh_credential_find(req, GH_SRC_BIT(GH_SRC_SESSION), NULL, &cred);
    if (r != 0)
        return r;
    gh_err err = gh_credential_prove(req, &cred);
    if (err == GH_ERR_IO || err == GH_ERR_BUSY || err == GH_ERR_NOMEM) {
        gh_api_page_message(req, 503, "Unavailable", "The service is unavailable; retry soon.",
                            "/login", "Sign in");
        return -1;
    }
    if (err != GH_OK)
        return 1;
    if (gh_session_csrf(app->signin.sessions, cred.token, cred.len, out->csrf) != GH_OK)
        return 1;
    out->who = gh_api_identity(req);
    out->admin = gh_authz_decide(out->who, out->who->perms, "user:admin", NULL, NULL) ||
                 gh_authz_decide(out->who, out->who->perms, "audit:read", NULL, NULL);
    return 0;
}

const char *gh_api_page_value(const struct gh_req *req, const char *name)
{
    const struct gh_form *form = gh_api_form(req);
    const char *value = NULL;
    size_t len = 0;
    if (form == NULL || gh_form_get(form, name, &value, &len) != GH_OK)
        return NULL;
    return value;
}

void gh_api_page_reply(struct gh_req *req, unsigned status, struct gh_page *p)
{
    if (gh_page_end(p) != GH_OK) {
        gh_reply_raw(req, 500, "text/plain; charset=utf-8", "internal error\n", 15);
        return;
    }
    gh_reply_raw(req, status, "text/html; charset=utf-8", p->out.ptr, p->out.len);
    gh_buf_clear(&p->out);
}

void gh_api_page_redirect(struct gh_req *req, const char *location)
{
    gh_reply_raw(req, 303, "text/html; charset=utf-8", NULL, 0);
    gh_reply_header(req, "Location", location);
}

void gh_api_page_message(struct gh_req *req, unsigned status, const char *title,
                         const char *message, const char *link, const char *link_text)
{
    struct gh_page p;
    struct gh_page_head head = {title, NULL, 0, NULL};
    gh_page_begin(&p, GH_PAGE_MAX, &head);
    if (status >= 400)
        gh_page_error(&p, message);
    else
        gh_page_notice(&p, message);
    gh_page_printf(&p, "<p><a href=\"%s\">%s</a></p>", link, link_text);
    gh_api_page_reply(req, status, &p);
}

int gh_api_page_csrf_refused(struct gh_req *req, int anonymous)
{
    if (gh_api_csrf_refusal(req, gh_api_page_value(req, "csrf_token"), anonymous) == NULL)
        return 0;
    gh_api_page_message(req, 403, "Request refused",
                        "This form was not sent from this site's own page, or it is stale. "
                        "Reload the page and try again.",
                        "/account", "Back");
    return 1;
}

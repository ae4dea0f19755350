/* Browser sessions at the API: the credential chain's session hook, the CSRF check of
 * cookie-authenticated requests, and /api/v1/auth/sessions. */
#include <string.h>

#include "api/app.h"
#include "api/cookies.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/sessions.h"
#include "core/time.h"
#include "edge/origin.h"

gh_err gh_api_session_prove(void *ctx, const char *sid, size_t len, const struct gh_reqmeta *meta,
                            struct gh_identity *out)
{
    struct gh_app *app = ctx;
    (void)meta;
    return gh_session_check(app->signin.sessions, sid, len, gh_time_now(), out);
}

static int origin_ok(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char origin[GH_ORIGIN_MAX];
    return gh_origin_of(app->cfg.public_url, origin) == GH_OK &&
           gh_req_header_count(req, "Origin") <= 1 && gh_req_header_count(req, "Referer") <= 1 &&
           gh_origin_same(origin, gh_req_header(req, "Origin"), gh_req_header(req, "Referer"));
}

/* Why a request fails the CSRF check (token NULL: an anonymous form, the origin only),
 * NULL when it passes. */
static const char *csrf_failure(struct gh_req *req, const char *token, int anonymous)
{
    struct gh_app *app = req->app;
    const char *sid = NULL;
    size_t sid_len = 0;
    if (!origin_ok(req))
        return "origin";
    if (anonymous)
        return NULL;
    if (gh_api_cookie(req, "gh_sid", &sid, &sid_len) != 0)
        return "session";
    if (token == NULL || gh_req_header_count(req, "X-CSRF-Token") > 1)
        return "token_missing";
    if (!gh_session_csrf_ok(app->signin.sessions, sid, sid_len, token, strlen(token)))
        return "token_mismatch";
    return NULL;
}

const char *gh_api_csrf_refusal(struct gh_req *req, const char *token, int anonymous)
{
    struct gh_app *app = req->app;
    const char *why = csrf_failure(req, token, anonymous);
    if (why == NULL)
        return NULL;
    struct gh_reqmeta meta;
    const struct gh_identity *who = gh_api_identity(req);
    struct gh_audit_subject subject = {who ? who->user_id : NULL, who ? who->username : NULL,
                                       who ? who->org_id : NULL};
    char md[64];
    (void)snprintf(md, sizeof(md), "{\"reason\":\"%s\"}", why);
    gh_api_meta(req, &meta);
    gh_audit_record_async(app->io_pool, &app->store, "CSRF_FAILED", &meta, &subject, 403, md);
    return why;
}

int gh_api_csrf_check_token(struct gh_req *req, const char *token)
{
    if (gh_api_csrf_refusal(req, token, 0) == NULL)
        return 0;
    gh_reply_error(req, 403, "csrf_failed", "the CSRF check failed", NULL);
    return 1;
}

int gh_api_session_csrf(void *ctx, struct gh_req *req)
{
    (void)ctx;
    return gh_api_csrf_check_token(req, gh_req_header(req, "X-CSRF-Token"));
}

/* ---- /api/v1/auth/sessions ---- */

struct session_page {
    struct gh_api_list list;
    const char *current;
};

static int add_session(void *arg, const struct gh_session *s)
{
    struct session_page *p = arg;
    json_t *item =
        json_pack("{s:s, s:o, s:o, s:o, s:s, s:s, s:b}", "id", s->id, "created_at",
                  gh_json_time(s->created_at), "last_seen_at", gh_json_time(s->last_seen_at),
                  "expires_at", gh_json_time(s->expires_at), "ip_address", s->ip_address,
                  "user_agent", s->user_agent, "current", strcmp(s->id, p->current) == 0);
    return gh_api_list_add(&p->list, item);
}

void gh_h_sessions_list(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const struct gh_identity *who = gh_api_identity(req);
    size_t limit, offset;
    if (gh_api_page(req, &limit, &offset))
        return;
    struct session_page p = {{json_array(), limit, 0}, who->session_id};
    gh_err err =
        gh_session_list(app->signin.sessions, who->user_id, limit + 1, offset, add_session, &p);
    if (err != GH_OK) {
        json_decref(p.list.items);
        gh_api_reply_failure(req, err);
        return;
    }
    gh_api_reply_page(req, p.list.items, p.list.seen, limit, offset);
}

void gh_h_session_revoke(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char id[GH_UUID_LEN + 1];
    struct gh_reqmeta meta;
    if (gh_api_path_id(req, 4, id))
        return;
    gh_api_meta(req, &meta);
    gh_err err = gh_session_revoke(app->signin.sessions, gh_api_identity(req), id, &meta);
    if (err == GH_ERR_NOT_FOUND) {
        gh_reply_error(req, 404, "not_found", "no such session", NULL);
        return;
    }
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    gh_reply_json(req, 204, NULL);
}

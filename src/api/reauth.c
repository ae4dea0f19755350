/*
 * The re-authentication window of dangerous actions (API.md "Incident response"): the
 * check of the routes that need a recent sign-in, and POST /api/v1/auth/reauth, which
 * proves the password (and code) again without a new sign-in.
 */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/loginwait.h"
#include "api/reauth.h"
#include "core/time.h"
#include "core/words.h"

/* Whether key_id is an API key a line of auth.reauth_automations ("NAME KEY_ID") names. */
static int automation(const char *lines, const char *key_id)
{
    struct gh_lines it = {lines, 0};
    const char *line, *end, *w, *id;
    size_t n, idn;
    while (gh_line_next(&it, &line, &end)) {
        if (gh_word_next(&line, end, &w, &n) && gh_word_next(&line, end, &id, &idn) &&
            gh_word_is(id, idn, key_id))
            return 1;
    }
    return 0;
}

/* 403 reauth_required, audited REAUTH_REQUIRED with the credential and its sign-in's age. */
static void refuse(struct gh_req *req, const struct gh_identity *who, int64_t age)
{
    struct gh_app *app = req->app;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    struct gh_audit_subject subject = {who->user_id, who->username, who->org_id};
    char md[96];
    (void)snprintf(md, sizeof(md), "{\"credential\":\"%s\",\"age\":%lld}", gh_cred_name(who->cred),
                   (long long)age);
    gh_audit_record_async(app->io_pool, &app->store, "REAUTH_REQUIRED", &meta, &subject, 403, md);
    gh_reply_error(req, 403, "reauth_required",
                   who->cred == GH_CRED_API_KEY
                       ? "an API key cannot re-authenticate: use a signed-in user's credential"
                       : "this action needs a recent sign-in: re-authenticate first",
                   json_pack("{s:s, s:I}", "reauth_url", "/api/v1/auth/reauth", "window",
                             (json_int_t)app->cfg.reauth_window));
}

int gh_api_reauth_refused(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const struct gh_identity *who = gh_api_identity(req);
    int64_t age = who->auth_time > 0 ? gh_time_now() - who->auth_time : -1;
    if (who->cred == GH_CRED_API_KEY && automation(app->cfg.reauth_automations, who->key_id))
        return 0; /* an automation the operator named: it has no one to ask */
    if (who->cred != GH_CRED_API_KEY && age >= 0 && age <= app->cfg.reauth_window)
        return 0;
    refuse(req, who, age);
    return 1;
}

void gh_h_reauth(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const struct gh_identity *who = gh_api_identity(req);
    const char *password, *code;
    size_t plen, clen;
    if (gh_api_string_field(req, "password", 1, &password, &plen) ||
        gh_api_string_field(req, "code", 0, &code, &clen))
        return;
    if (who->cred == GH_CRED_API_KEY) { /* it proves no sign-in to renew */
        refuse(req, who, -1);
        return;
    }
    /* the same backoff as the sign-in of this account: a stolen token guesses no faster */
    struct gh_login_keys keys;
    int64_t wait = gh_api_login_wait(req, 'u', who->username, &keys);
    if (wait > 0) {
        char after[24];
        (void)snprintf(after, sizeof(after), "%lld", (long long)wait);
        gh_reply_error(req, 429, "rate_limited", "too many failed attempts; retry later", NULL);
        gh_reply_header(req, "Retry-After", after);
        return;
    }
    struct gh_reqmeta meta;
    struct gh_signin_result r;
    char at[GH_TIME_TEXT];
    gh_api_meta(req, &meta);
    gh_err err = gh_signin_reauth(&app->signin, who, password, plen, code, &meta, &r);
    gh_api_login_result(req, &keys, err, r.mfa_required);
    if (err == GH_OK && r.mfa_required)
        gh_reply_error(req, 401, "mfa_required", "the code of the second factor is required", NULL);
    else if (err == GH_ERR_AUTH || err == GH_ERR_REUSED)
        gh_reply_error(req, 401, "invalid_credentials", "the password or the code is wrong", NULL);
    else if (err != GH_OK || gh_time_format(r.auth_time, at) != GH_OK)
        gh_api_reply_failure(req, err != GH_OK ? err : GH_ERR_INTERNAL);
    else if (r.pair.access_token != NULL) /* a token caller: a fresher token */
        gh_reply_json(req, 200,
                      json_pack("{s:s, s:s, s:I, s:s}", "access_token", r.pair.access_token,
                                "token_type", "Bearer", "expires_in", (json_int_t)r.pair.expires_in,
                                "auth_time", at));
    else /* a session: it carries the new time itself */
        gh_reply_json(req, 200, json_pack("{s:s}", "auth_time", at));
    gh_signin_result_clear(&r);
}

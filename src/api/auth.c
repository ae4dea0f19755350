#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/app.h"
#include "api/cookies.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/loginwait.h"
#include "api/sessions.h"
#include "core/cache.h"
#include "core/uuid.h"

#define MAX_ORGS 64

static void reply_pair(struct gh_req *req, struct gh_token_pair *pair)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:I}", "access_token", pair->access_token,
                             "refresh_token", pair->refresh_token, "token_type", "Bearer",
                             "expires_in", (json_int_t)pair->expires_in);
    gh_token_pair_clear(pair);
    gh_reply_json(req, 200, body);
    gh_reply_header(req, "Pragma", "no-cache");
}

#define NO_SUCH_ORG                                                                                \
    {                                                                                              \
        GH_ERR_NOT_FOUND, 404, "not_found", "no such organization", NULL                           \
    }

static void reply_refusal(struct gh_req *req, gh_err err, const struct gh_refusal *refusal)
{
    if (err == GH_ERR_POLICY) {
        json_t *rules = json_array();
        for (unsigned bit = 0; bit < GH_RULE_COUNT; bit++) {
            if (refusal->policy_failed & (1u << bit))
                json_array_append_new(rules, json_string(gh_policy_rule_name(1u << bit)));
        }
        gh_reply_error(req, 422, "password_policy", "the password does not meet the policy",
                       json_pack("{s:o}", "rules", rules));
        return;
    }
    json_t *details = json_pack("{s:s}", "field", refusal->field ? refusal->field : "");
    gh_reply_error(req, 422, "invalid_value", "a field has an unacceptable value", details);
}

void gh_h_register(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_register_input in;
    size_t ulen, elen, flen;
    memset(&in, 0, sizeof(in));

    if (!app->cfg.registration) {
        gh_reply_error(req, 403, "forbidden", "self-registration is closed", NULL);
        return;
    }
    if (gh_api_string_field(req, "username", 1, &in.username, &ulen) ||
        gh_api_string_field(req, "email", 1, &in.email, &elen) ||
        gh_api_string_field(req, "password", 1, &in.password, &in.password_len) ||
        gh_api_string_field(req, "full_name", 0, &in.full_name, &flen))
        return;

    struct gh_reqmeta meta;
    struct gh_user user;
    struct gh_refusal refusal = {NULL, 0};
    gh_api_meta(req, &meta);
    gh_err err = gh_auth_register(app->auth, &in, 0, &meta, &user, &refusal);
    if (err == GH_ERR_INVALID || err == GH_ERR_POLICY) {
        reply_refusal(req, err, &refusal);
        return;
    }
    static const struct gh_api_answer answers[] = {
        {GH_ERR_CONFLICT, 409, "conflict", "username or email is already registered", NULL},
        GH_API_ANSWERS_END};
    if (err != GH_OK) {
        gh_api_reply_err(req, err, answers);
        return;
    }
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", user.id, "username", user.username,
                             "email", user.email, "full_name", user.full_name, "created_at",
                             gh_json_time(user.created_at));
    gh_reply_json(req, 201, body);
}

/* 429 with Retry-After for a login that must wait (gh_api_login_wait said how long). */
static void reply_wait(struct gh_req *req, int64_t wait)
{
    char after[24];
    (void)snprintf(after, sizeof(after), "%lld", (long long)wait);
    gh_reply_error(req, 429, "rate_limited", "too many failed logins; retry later", NULL);
    gh_reply_header(req, "Retry-After", after);
}

/* ?mode=cookie: a browser login, answered with the session cookies. */
static int cookie_mode(const struct gh_req *req)
{
    const char *mode = gh_req_query(req, "mode");
    return mode != NULL && strcmp(mode, "cookie") == 0;
}

/* The answer of a sign-in step: mfa_required, the cookies, or the token pair. */
static void reply_signin(struct gh_req *req, gh_err err, struct gh_signin_result *r)
{
    static const struct gh_api_answer answers[] = {
        {GH_ERR_AUTH, 401, "invalid_credentials", "invalid username or password", NULL},
        {GH_ERR_REUSED, 401, "invalid_code", "the code is wrong or was used already", NULL},
        NO_SUCH_ORG,
        GH_API_ANSWERS_END};
    if (err != GH_OK) {
        gh_api_reply_err(req, err, answers);
    } else if (r->mfa_required) {
        gh_reply_json(req, 200,
                      json_pack("{s:b, s:s, s:[s,s]}", "mfa_required", 1, "mfa_token", r->mfa_token,
                                "methods", "totp", "backup_code"));
    } else if (r->session) {
        gh_api_set_session_cookies(req, r);
        gh_reply_json(req, 200,
                      json_pack("{s:s, s:I}", "access_token", r->pair.access_token, "expires_in",
                                (json_int_t)r->pair.expires_in));
    } else {
        reply_pair(req, &r->pair);
    }
    gh_signin_result_clear(r);
}

void gh_h_login(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *login, *password, *org_id;
    size_t llen, plen, olen;
    if (gh_api_string_field(req, "username", 1, &login, &llen) ||
        gh_api_string_field(req, "password", 1, &password, &plen) ||
        gh_api_string_field(req, "org_id", 0, &org_id, &olen))
        return;
    if (org_id != NULL && !gh_uuid_valid(org_id, olen)) {
        gh_reply_error(req, 422, "invalid_value", "org_id is not an id",
                       json_pack("{s:s}", "field", "org_id"));
        return;
    }

    struct gh_login_keys keys;
    int64_t wait = gh_api_login_wait(req, 'u', login, &keys);
    if (wait > 0) {
        reply_wait(req, wait);
        return;
    }

    struct gh_reqmeta meta;
    struct gh_signin_result r;
    gh_api_meta(req, &meta);
    gh_err err = gh_signin_password(&app->signin, login, password, plen, org_id, cookie_mode(req),
                                    &meta, &r);
    gh_api_login_result(req, &keys, err, r.mfa_required);
    reply_signin(req, err, &r);
}

void gh_h_mfa_verify(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *token, *code;
    size_t tlen, clen;
    if (gh_api_string_field(req, "mfa_token", 1, &token, &tlen) ||
        gh_api_string_field(req, "code", 1, &code, &clen))
        return;
    /* the account here is the challenge: many clients guessing at one wait together */
    struct gh_login_keys keys;
    int64_t wait = gh_api_login_wait(req, 'm', token, &keys);
    if (wait > 0) {
        reply_wait(req, wait);
        return;
    }
    struct gh_reqmeta meta;
    struct gh_signin_result r;
    gh_api_meta(req, &meta);
    gh_err err = gh_signin_mfa(&app->signin, token, code, cookie_mode(req), &meta, &r);
    gh_api_login_result(req, &keys, err, 0);
    if (err == GH_ERR_AUTH || err == GH_ERR_REUSED) {
        gh_reply_error(req, 401, "invalid_code", "the code is wrong or was used already", NULL);
        return;
    }
    if (err == GH_ERR_NOT_FOUND) {
        gh_reply_error(req, 401, "invalid_token", "the MFA token is unknown, used or expired",
                       NULL);
        return;
    }
    reply_signin(req, err, &r);
}

/*
 * The gh_rid cookie's value (NUL-terminated in the arena) for a refresh or logout without
 * a refresh_token in the body; NULL after answering: 400 without one, 403 when the CSRF
 * check fails (a cookie is sent by the browser, whoever made the request).
 */
static const char *refresh_cookie(struct gh_req *req)
{
    const char *val;
    size_t len;
    if (gh_api_cookie(req, "gh_rid", &val, &len) != 0) {
        gh_reply_error(req, 400, "invalid_request", "refresh_token is required",
                       json_pack("{s:s}", "field", "refresh_token"));
        return NULL;
    }
    if (gh_api_csrf_check_token(req, gh_req_header(req, "X-CSRF-Token")) != 0)
        return NULL;
    char *copy = gh_req_alloc(req, len + 1);
    if (copy == NULL) {
        gh_api_reply_failure(req, GH_ERR_NOMEM);
        return NULL;
    }
    memcpy(copy, val, len);
    copy[len] = '\0';
    return copy;
}

void gh_h_refresh(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *token, *org_id;
    size_t len, olen;
    if (gh_api_string_field(req, "refresh_token", 0, &token, &len) ||
        gh_api_string_field(req, "org_id", 0, &org_id, &olen))
        return;
    int from_cookie = token == NULL;
    if (from_cookie && (token = refresh_cookie(req)) == NULL)
        return;
    if (org_id != NULL && !gh_uuid_valid(org_id, olen)) {
        gh_reply_error(req, 422, "invalid_value", "org_id is not an id",
                       json_pack("{s:s}", "field", "org_id"));
        return;
    }

    struct gh_reqmeta meta;
    struct gh_token_pair pair;
    gh_api_meta(req, &meta);
    gh_err err = gh_auth_refresh(app->auth, token, org_id, &meta, &pair);
    if (err == GH_ERR_AUTH || err == GH_OK)
        gh_metrics_count(app->metrics, err == GH_OK ? GH_REFRESH_SUCCESS : GH_REFRESH_FAILURE);
    static const struct gh_api_answer answers[] = {
        {GH_ERR_AUTH, 401, "invalid_token", "the refresh token is not valid", NULL},
        NO_SUCH_ORG,
        GH_API_ANSWERS_END};
    if (err != GH_OK) {
        gh_api_reply_err(req, err, answers);
        return;
    }
    if (!from_cookie) {
        reply_pair(req, &pair);
        return;
    }
    gh_api_set_refresh_cookie(req, pair.refresh_token);
    gh_reply_json(req, 200,
                  json_pack("{s:s, s:I}", "access_token", pair.access_token, "expires_in",
                            (json_int_t)pair.expires_in));
    gh_token_pair_clear(&pair);
}

void gh_h_logout(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *token, *sid = NULL;
    size_t len, sid_len = 0;
    if (gh_api_string_field(req, "refresh_token", 0, &token, &len))
        return;
    int from_cookie = token == NULL;
    if (from_cookie && (token = refresh_cookie(req)) == NULL)
        return;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = gh_auth_logout(app->auth, token, &meta);
    if (err == GH_OK && from_cookie && gh_api_cookie(req, "gh_sid", &sid, &sid_len) == 0)
        err = gh_session_logout(app->signin.sessions, sid, sid_len, &meta);
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    if (from_cookie)
        gh_api_clear_session_cookies(req);
    gh_reply_json(req, 204, NULL);
}

void gh_h_logout_all(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = gh_auth_logout_all(app->auth, gh_api_identity(req), &meta);
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    gh_reply_json(req, 204, NULL);
}

void gh_h_change_password(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *current, *next;
    size_t clen, nlen;
    if (gh_api_string_field(req, "current_password", 1, &current, &clen) ||
        gh_api_string_field(req, "new_password", 1, &next, &nlen))
        return;

    struct gh_reqmeta meta;
    struct gh_refusal refusal = {NULL, 0};
    gh_api_meta(req, &meta);
    gh_err err = gh_auth_change_password(app->auth, gh_api_identity(req), current, clen, next, nlen,
                                         &meta, &refusal);
    static const struct gh_api_answer answers[] = {
        {GH_ERR_AUTH, 401, "invalid_credentials", "the current password is wrong", NULL},
        GH_API_ANSWERS_END};
    if (err == GH_ERR_POLICY || err == GH_ERR_INVALID) {
        reply_refusal(req, err, &refusal);
        return;
    }
    if (err != GH_OK) {
        gh_api_reply_err(req, err, answers);
        return;
    }
    gh_reply_json(req, 204, NULL);
}

void gh_h_me(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const struct gh_identity *who = gh_api_identity(req);
    struct gh_user user;
    /* 150 KB: off the worker's stack, in the arena (wiped and freed with the request) */
    struct gh_membership *orgs = gh_req_alloc(req, MAX_ORGS * sizeof(*orgs));
    size_t n = 0;
    int mfa = 0;

    gh_err err =
        orgs != NULL ? gh_auth_me(app->auth, who, &user, orgs, MAX_ORGS, &n) : GH_ERR_NOMEM;
    if (err == GH_OK)
        err = gh_mfa_enabled(app->signin.mfas, who->user_id, &mfa);
    static const struct gh_api_answer answers[] = {
        {GH_ERR_NOT_FOUND, 401, "invalid_token", "the token is not valid", NULL}, /* deleted */
        GH_API_ANSWERS_END};
    if (err != GH_OK) {
        gh_api_reply_err(req, err, answers);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "id", orgs[i].org_id, "name",
                                              orgs[i].org_name, "role", orgs[i].role_name));
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:b}", "id", user.id, "username",
                  user.username, "email", user.email, "full_name", user.full_name, "primary_org_id",
                  user.primary_org_id, "orgs", list, "permissions", gh_json_words(who->perms, ' '),
                  "mfa_enabled", mfa, "superadmin", user.superadmin);
    gh_reply_json(req, 200, body);
}

/* POST /api/v1/auth/oauth/login: a provider's access token for a Gatehouse token pair. */
void gh_h_oauth_login(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *provider, *token, *okta;
    size_t plen, tlen, olen;
    if (gh_api_string_field(req, "provider", 1, &provider, &plen) ||
        gh_api_string_field(req, "access_token", 1, &token, &tlen) ||
        gh_api_string_field(req, "okta_domain", 0, &okta, &olen))
        return;
    static const struct gh_api_answer answers[] = {
        {GH_ERR_AUTH, 401, "invalid_credentials", "the provider does not accept this token", NULL},
        {GH_ERR_IO, 503, "unavailable", "the identity provider did not answer; try again soon",
         NULL},
        {GH_ERR_FORBIDDEN, 403, "forbidden", "this account is disabled", NULL},
        {GH_ERR_NOT_FOUND, 403, "forbidden", "no account may sign in with this identity", NULL},
        {GH_ERR_CONFLICT, 403, "forbidden", "no account may sign in with this identity", NULL},
        GH_API_ANSWERS_END};
    struct gh_reqmeta meta;
    struct gh_signin_result r;
    const char *reason = NULL;
    gh_api_meta(req, &meta);
    gh_err err = app->sso_tokens == NULL ? GH_ERR_INVALID
                                         : gh_ssotok_login(app->sso_tokens, provider, token, tlen,
                                                           okta, &meta, &r, &reason);
    if (err == GH_ERR_INVALID) {
        const char *field =
            reason != NULL && strcmp(reason, "okta_domain") == 0 ? "okta_domain" : "provider";
        gh_reply_error(req, 422, "invalid_value", "no such identity provider for tokens",
                       json_pack("{s:s}", "field", field));
        return;
    }
    if (err != GH_OK) {
        gh_api_reply_err(req, err, answers);
        return;
    }
    reply_signin(req, err, &r);
}

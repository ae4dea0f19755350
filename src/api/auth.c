#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/app.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "api/json.h"
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

/* The backoff keys of a login attempt: the account name as typed (folded), the client. */
struct backoff_keys {
    char account[GH_CACHE_KEY_MAX + 1];
    char client[72];
};

/*
 * Answers 429 when the account or the client must still wait after failed logins. An
 * unknown account backs off exactly like a real one: the answer tells nothing.
 */
static int backed_off(struct gh_req *req, struct gh_backoff *b, const char *login,
                      struct backoff_keys *keys)
{
    size_t n = 0;
    keys->account[n++] = 'u';
    keys->account[n++] = ':';
    for (; *login != '\0' && n < sizeof(keys->account) - 1; login++)
        keys->account[n++] = (char)tolower((unsigned char)*login);
    keys->account[n] = '\0';
    (void)snprintf(keys->client, sizeof(keys->client), "ip:%s", req->client_ip);
    int64_t now = (int64_t)time(NULL);
    int64_t wait = gh_backoff_wait(b, keys->account, now);
    int64_t wait_ip = gh_backoff_wait(b, keys->client, now);
    if (wait_ip > wait)
        wait = wait_ip;
    if (wait == 0)
        return 0;
    char after[24];
    (void)snprintf(after, sizeof(after), "%lld", (long long)wait);
    gh_reply_error(req, 429, "rate_limited", "too many failed logins; retry later", NULL);
    gh_reply_header(req, "Retry-After", after);
    return 1;
}

/* A failure makes both wait longer; a success clears the account (not the client, or one
 * valid account would reset an address that guesses at others). */
static void backoff_record(struct gh_backoff *b, const struct backoff_keys *keys, int ok)
{
    if (ok) {
        gh_backoff_clear(b, keys->account);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    gh_backoff_fail(b, keys->account, now);
    gh_backoff_fail(b, keys->client, now);
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

    struct backoff_keys keys;
    if (app->backoff != NULL && backed_off(req, app->backoff, login, &keys)) {
        gh_metrics_count(app->metrics, GH_AUTH_RATE_LIMITED);
        gh_metrics_count(app->metrics, GH_RATE_LIMIT_HITS);
        return;
    }

    struct gh_reqmeta meta;
    struct gh_token_pair pair;
    gh_api_meta(req, &meta);
    gh_err err = gh_auth_login(app->auth, login, password, plen, org_id, &meta, &pair);
    if (app->backoff != NULL && (err == GH_ERR_AUTH || err == GH_OK))
        backoff_record(app->backoff, &keys, err == GH_OK);
    if (err == GH_ERR_AUTH || err == GH_OK)
        gh_metrics_count(app->metrics, err == GH_OK ? GH_AUTH_SUCCESS : GH_AUTH_FAILURE);
    static const struct gh_api_answer answers[] = {
        {GH_ERR_AUTH, 401, "invalid_credentials", "invalid username or password", NULL},
        NO_SUCH_ORG,
        GH_API_ANSWERS_END};
    if (err != GH_OK) {
        gh_api_reply_err(req, err, answers);
        return;
    }
    reply_pair(req, &pair);
}

void gh_h_refresh(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *token, *org_id;
    size_t len, olen;
    if (gh_api_string_field(req, "refresh_token", 1, &token, &len) ||
        gh_api_string_field(req, "org_id", 0, &org_id, &olen))
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
    reply_pair(req, &pair);
}

void gh_h_logout(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *token;
    size_t len;
    if (gh_api_string_field(req, "refresh_token", 1, &token, &len))
        return;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = gh_auth_logout(app->auth, token, &meta);
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
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

    gh_err err =
        orgs != NULL ? gh_auth_me(app->auth, who, &user, orgs, MAX_ORGS, &n) : GH_ERR_NOMEM;
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
                  "mfa_enabled", 0, "superadmin", user.superadmin);
    gh_reply_json(req, 200, body);
}

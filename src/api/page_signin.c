/* The sign-in pages: /login, /login/mfa, /register, /logout and the stylesheet. */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/cookies.h"
#include "api/handlers.h"
#include "api/loginwait.h"
#include "api/page.h"
#include "core/log.h"
#include "core/text.h"
#include "edge/origin.h"

#define RD_MAX 2048

void gh_h_stylesheet(struct gh_req *req)
{
    gh_reply_raw(req, 200, "text/css; charset=utf-8", gh_web_stylesheet, strlen(gh_web_stylesheet));
    gh_reply_header(req, "Cache-Control", "public, max-age=86400");
}

const char *gh_api_return_to(const struct gh_req *req, const char *rd)
{
    const struct gh_app *app = req->app;
    char origin[GH_ORIGIN_MAX];
    if (rd == NULL || gh_origin_of(app->cfg.public_url, origin) != GH_OK ||
        !gh_redirect_ok(origin, app->cfg.redirect_hosts, rd))
        return "/account";
    return rd;
}

/* path + "?rd=" + rd percent-encoded (or path alone), in the arena. */
static const char *with_rd(struct gh_req *req, const char *path, const char *rd)
{
    char enc[3 * RD_MAX + 1];
    if (rd == NULL || strcmp(rd, "/account") == 0 || gh_percent_encode(rd, enc, sizeof(enc)))
        return path;
    size_t n = strlen(path) + 4 + strlen(enc) + 1;
    char *out = gh_req_alloc(req, n);
    if (out == NULL)
        return path;
    (void)snprintf(out, n, "%s?rd=%s", path, enc);
    return out;
}

/* The gh_mfa cookie: the login's challenge between /login and /login/mfa (HttpOnly,
 * SameSite=Strict, Path=/login, five minutes). */
static void set_mfa_cookie(struct gh_req *req, const char *token, int max_age)
{
    const struct gh_app *app = req->app;
    char line[160];
    int secure = strncmp(app->cfg.public_url, "https://", 8) == 0;
    (void)snprintf(line, sizeof(line),
                   "gh_mfa=%s; Path=/login; Max-Age=%d; HttpOnly; SameSite=Strict%s", token,
                   max_age, secure ? "; Secure" : "");
    gh_reply_header(req, "Set-Cookie", line);
}

/* ---- /login ---- */

struct buttons {
    struct gh_page *p;
    const char *rd; /* percent-encoded, or NULL */
    int n;
};

static int sso_button(void *arg, const struct gh_sso_provider *pv, int from_config)
{
    struct buttons *b = arg;
    (void)from_config;
    /* SAML has its own start (api/saml.c) */
    const char *start =
        strcmp(pv->type, "saml") == 0 ? "/api/v1/auth/saml/login" : "/api/v1/auth/sso/authorize";
    if (b->n++ == 0)
        gh_page_raw(b->p, "<section class=\"sso\"><h2>Or sign in with</h2>");
    gh_page_printf(b->p, "<a class=\"sso\" href=\"%s?provider=%s%s%s\">Sign in with %s</a>", start,
                   pv->name, b->rd ? "&redirect_to=" : "", b->rd ? b->rd : "", pv->name);
    return 0;
}

/* A button per enabled identity provider, carrying the return-to along. */
static void sso_buttons(struct gh_req *req, struct gh_page *p, const char *rd)
{
    const struct gh_app *app = req->app;
    char enc[3 * RD_MAX + 1];
    struct buttons b = {p, NULL, 0};
    if (app->sso == NULL)
        return;
    if (rd != NULL && *rd != '\0' && gh_percent_encode(rd, enc, sizeof(enc)) == GH_OK)
        b.rd = enc;
    if (gh_ssop_enabled(app->sso, 20, sso_button, &b) != GH_OK)
        gh_log(GH_LOG_WARN, "login page: the identity providers could not be listed");
    if (b.n > 0)
        gh_page_raw(p, "</section>");
}

static void login_page(struct gh_req *req, unsigned status, const char *rd, const char *error,
                       const char *username)
{
    struct gh_page p;
    struct gh_page_head head = {"Sign in", NULL, 0, NULL};
    const char *notice = NULL;
    if (gh_req_query(req, "registered") != NULL)
        notice = "Your account was created. Sign in to continue.";
    else if (gh_req_query(req, "signed_out") != NULL)
        notice = "You are signed out.";
    else if (gh_req_query(req, "changed") != NULL)
        notice = "Your password was changed and every session ended. Sign in again.";
    else if (gh_req_query(req, "expired") != NULL)
        notice = "That sign-in took too long. Start again.";
    gh_page_begin(&p, GH_PAGE_MAX, &head);
    if (error != NULL)
        gh_page_error(&p, error);
    else if (notice != NULL)
        gh_page_notice(&p, notice);
    gh_page_raw(&p, "<section>");
    gh_page_form(&p, "/login", NULL);
    gh_page_hidden(&p, "rd", rd != NULL ? rd : "");
    struct gh_field user = {"Username or email", "username",    "text", username,
                            "username",          error != NULL, 0,      NULL};
    struct gh_field pass = {"Password",         "password",    "password", NULL,
                            "current-password", error != NULL, 0,          NULL};
    gh_page_field(&p, &user);
    gh_page_field(&p, &pass);
    gh_page_submit(&p, "Sign in", 0);
    const struct gh_app *app = req->app;
    if (app->cfg.registration)
        gh_page_raw(&p, "<p>No account yet? <a href=\"/register\">Create one</a>.</p>");
    gh_page_raw(&p, "</section>");
    sso_buttons(req, &p, rd);
    gh_api_page_reply(req, status, &p);
}

void gh_h_login_page(struct gh_req *req)
{
    struct gh_page_caller c;
    int r = gh_api_page_caller(req, &c);
    if (r < 0)
        return;
    const char *rd = gh_req_query(req, "rd");
    if (r == 0) { /* signed in already: straight on */
        gh_api_page_redirect(req, gh_api_return_to(req, rd));
        return;
    }
    login_page(req, 200, rd, NULL, NULL);
}

static void wait_page(struct gh_req *req, int64_t wait)
{
    char after[24];
    (void)snprintf(after, sizeof(after), "%lld", (long long)wait);
    gh_api_page_message(req, 429, "Too many attempts",
                        "Too many failed sign-ins. Wait a little and try again.", "/login",
                        "Back to sign in");
    gh_reply_header(req, "Retry-After", after);
}

/*
 * A completed sign-in: the session cookies, and on to where the user was going. A path
 * here is a 303; another host gets a page that moves on by itself (a meta refresh, which
 * needs no script), because the pages' CSP (form-action 'self') stops a form's redirect
 * to another host.
 */
static void signed_in(struct gh_req *req, struct gh_signin_result *r, const char *rd)
{
    const char *to = gh_api_return_to(req, rd);
    if (to[0] == '/') {
        gh_reply_raw(req, 303, "text/html; charset=utf-8", NULL, 0);
        gh_reply_header(req, "Location", to);
    } else {
        struct gh_page p;
        struct gh_page_head head = {"Signed in", NULL, 0, NULL};
        gh_page_begin(&p, GH_PAGE_MAX, &head);
        gh_page_printf(&p,
                       "<meta http-equiv=\"refresh\" content=\"0;url=%s\">"
                       "<p>You are signed in. <a href=\"%s\" id=\"continue\">Continue</a></p>",
                       to, to);
        gh_api_page_reply(req, 200, &p);
    }
    gh_api_set_session_cookies(req, r);
    gh_signin_result_clear(r);
}

void gh_api_page_signed_in(struct gh_req *req, struct gh_signin_result *r, const char *rd)
{
    if (!r->mfa_required) {
        signed_in(req, r, rd);
        return;
    }
    set_mfa_cookie(req, r->mfa_token, 300);
    gh_signin_result_clear(r);
    gh_reply_raw(req, 303, "text/html; charset=utf-8", NULL, 0);
    gh_reply_header(req, "Location", with_rd(req, "/login/mfa", rd));
}

void gh_h_login_post(struct gh_req *req)
{
    struct gh_app *app = req->app;
    if (gh_api_page_csrf_refused(req, 1))
        return;
    const char *login = gh_api_page_value(req, "username");
    const char *password = gh_api_page_value(req, "password");
    const char *rd = gh_api_page_value(req, "rd");
    if (rd != NULL && *rd == '\0')
        rd = NULL;
    if (login == NULL || password == NULL || *login == '\0' || *password == '\0') {
        login_page(req, 400, rd, "Enter your username (or email) and your password.", login);
        return;
    }
    struct gh_login_keys keys;
    int64_t wait = gh_api_login_wait(req, 'u', login, &keys);
    if (wait > 0) {
        wait_page(req, wait);
        return;
    }
    struct gh_reqmeta meta;
    struct gh_signin_result r;
    gh_api_meta(req, &meta);
    gh_err err =
        gh_signin_password(&app->signin, login, password, strlen(password), NULL, 1, &meta, &r);
    gh_api_login_result(req, &keys, err, r.mfa_required);
    if (err == GH_ERR_AUTH) {
        login_page(req, 401, rd, "The username or the password is wrong.", login);
    } else if (err != GH_OK) {
        gh_api_page_message(req, err == GH_ERR_IO || err == GH_ERR_BUSY ? 503 : 500,
                            "Sign-in failed", "Signing in failed; try again soon.", "/login",
                            "Back to sign in");
    } else {
        gh_api_page_signed_in(req, &r, rd);
        return;
    }
    gh_signin_result_clear(&r);
}

/* ---- /login/mfa ---- */

static void mfa_page(struct gh_req *req, unsigned status, const char *rd, const char *error)
{
    struct gh_page p;
    struct gh_page_head head = {"Two-step verification", NULL, 0, NULL};
    gh_page_begin(&p, GH_PAGE_MAX, &head);
    if (error != NULL)
        gh_page_error(&p, error);
    gh_page_raw(&p, "<section>");
    gh_page_form(&p, "/login/mfa", NULL);
    gh_page_hidden(&p, "rd", rd != NULL ? rd : "");
    struct gh_field code = {"Code",
                            "code",
                            "text",
                            NULL,
                            "one-time-code",
                            error != NULL,
                            0,
                            "The 6-digit code of your authenticator app, or one of your "
                            "backup codes (xxxxx-xxxxx)."};
    gh_page_field(&p, &code);
    gh_page_submit(&p, "Verify", 0);
    gh_page_raw(&p, "</section><p><a href=\"/login\">Start again</a></p>");
    gh_api_page_reply(req, status, &p);
}

void gh_h_login_mfa_page(struct gh_req *req)
{
    const char *token;
    size_t len;
    if (gh_api_cookie(req, "gh_mfa", &token, &len) != 0) {
        gh_api_page_redirect(req, "/login");
        return;
    }
    mfa_page(req, 200, gh_req_query(req, "rd"), NULL);
}

void gh_h_login_mfa_post(struct gh_req *req)
{
    struct gh_app *app = req->app;
    char token[GH_MFA_TOKEN_TEXT];
    const char *cookie;
    size_t len;
    if (gh_api_page_csrf_refused(req, 1))
        return;
    const char *rd = gh_api_page_value(req, "rd");
    const char *code = gh_api_page_value(req, "code");
    if (rd != NULL && *rd == '\0')
        rd = NULL;
    if (gh_api_cookie(req, "gh_mfa", &cookie, &len) != 0 || len != GH_MFA_TOKEN_TEXT - 1) {
        gh_api_page_redirect(req, "/login?expired=1");
        return;
    }
    memcpy(token, cookie, len);
    token[len] = '\0';
    if (code == NULL || *code == '\0') {
        mfa_page(req, 400, rd, "Enter the code.");
        return;
    }
    struct gh_login_keys keys;
    int64_t wait = gh_api_login_wait(req, 'm', token, &keys);
    if (wait > 0) {
        wait_page(req, wait);
        return;
    }
    struct gh_reqmeta meta;
    struct gh_signin_result r;
    gh_api_meta(req, &meta);
    gh_err err = gh_signin_mfa(&app->signin, token, code, 1, &meta, &r);
    gh_api_login_result(req, &keys, err, 0);
    if (err == GH_ERR_AUTH || err == GH_ERR_REUSED) {
        mfa_page(req, 401, rd, "The code is wrong or was used already.");
    } else if (err == GH_ERR_NOT_FOUND) {
        set_mfa_cookie(req, "", 0);
        gh_api_page_redirect(req, "/login?expired=1");
    } else if (err != GH_OK) {
        gh_api_page_message(req, 503, "Sign-in failed", "Signing in failed; try again soon.",
                            "/login", "Back to sign in");
    } else {
        set_mfa_cookie(req, "", 0);
        signed_in(req, &r, rd);
    }
    gh_signin_result_clear(&r);
}

/* ---- /register ---- */

static void register_page(struct gh_req *req, unsigned status, const char *error, const char *field,
                          const struct gh_register_input *in)
{
    struct gh_page p;
    struct gh_page_head head = {"Create an account", NULL, 0, NULL};
    gh_page_begin(&p, GH_PAGE_MAX, &head);
    if (error != NULL)
        gh_page_error(&p, error);
    gh_page_raw(&p, "<section>");
    gh_page_form(&p, "/register", NULL);
    const char *f = field != NULL ? field : "";
    struct gh_field fields[] = {
        {"Username", "username", "text", in ? in->username : NULL, "username",
         strcmp(f, "username") == 0, 0, "3 to 64 letters, digits, '.', '_' or '-'."},
        {"Email", "email", "email", in ? in->email : NULL, "email", strcmp(f, "email") == 0, 0,
         NULL},
        {"Full name", "full_name", "text", in ? in->full_name : NULL, "name",
         strcmp(f, "full_name") == 0, 1, NULL},
        {"Password", "password", "password", NULL, "new-password", strcmp(f, "password") == 0, 0,
         "At least 8 characters; not a common or guessable one."},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        gh_page_field(&p, &fields[i]);
    gh_page_submit(&p, "Create account", 0);
    gh_page_raw(&p, "</section><p>Have an account? <a href=\"/login\">Sign in</a>.</p>");
    gh_api_page_reply(req, status, &p);
}

static int registration_closed(struct gh_req *req)
{
    const struct gh_app *app = req->app;
    if (app->cfg.registration)
        return 0;
    gh_api_page_message(req, 404, "Registration is closed",
                        "New accounts are created by an administrator.", "/login", "Sign in");
    return 1;
}

void gh_h_register_page(struct gh_req *req)
{
    if (!registration_closed(req))
        register_page(req, 200, NULL, NULL, NULL);
}

void gh_h_register_post(struct gh_req *req)
{
    struct gh_app *app = req->app;
    if (registration_closed(req) || gh_api_page_csrf_refused(req, 1))
        return;
    struct gh_register_input in = {
        gh_api_page_value(req, "username"), gh_api_page_value(req, "email"),
        gh_api_page_value(req, "full_name"), gh_api_page_value(req, "password"), 0};
    if (in.username == NULL || in.email == NULL || in.password == NULL) {
        register_page(req, 400, "Fill in the username, the email and the password.", NULL, &in);
        return;
    }
    in.password_len = strlen(in.password);
    struct gh_reqmeta meta;
    struct gh_user user;
    struct gh_refusal refusal = {NULL, 0};
    gh_api_meta(req, &meta);
    gh_err err = gh_auth_register(app->auth, &in, 0, &meta, &user, &refusal);
    if (err == GH_ERR_POLICY)
        register_page(req, 422,
                      "That password is too short, too common or too easy to guess. "
                      "Choose a longer one.",
                      "password", &in);
    else if (err == GH_ERR_INVALID)
        register_page(req, 422, "A field has an unacceptable value: check it.", refusal.field, &in);
    else if (err == GH_ERR_CONFLICT)
        register_page(req, 409, "That username or email is already registered.", "username", &in);
    else if (err != GH_OK)
        gh_api_page_message(req, 503, "Registration failed", "Try again soon.", "/register",
                            "Back");
    else
        gh_api_page_redirect(req, "/login?registered=1");
}

/* ---- /logout ---- */

void gh_h_logout_page(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    const char *sid;
    size_t len;
    int r = gh_api_page_caller(req, &c);
    if (r < 0)
        return;
    if (r == 0 && gh_api_page_csrf_refused(req, 0))
        return;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    /* the session's refresh family ends with it (gh_rid is not sent to this path) */
    if (r == 0 && gh_api_cookie(req, "gh_sid", &sid, &len) == 0 &&
        gh_session_logout(app->signin.sessions, sid, len, &meta) != GH_OK) {
        gh_api_page_message(req, 503, "Sign-out failed", "Try again soon.", "/account", "Back");
        return;
    }
    gh_api_clear_session_cookies(req);
    gh_api_page_redirect(req, "/login?signed_out=1");
}

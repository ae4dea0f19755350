/* /account: the profile, invitations to orgs, the password, TOTP enrolment,
 * re-authentication, API keys and sessions, and the forms that change them (each a POST
 * with the session's CSRF token). */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "api/app.h"
#include "api/cookies.h"
#include "api/handlers.h"
#include "api/loginwait.h"
#include "api/page.h"
#include "authn/apikey.h"
#include "authn/sso_account.h"
#include "core/time.h"

#define LIST_MAX 50

/* The signed-in caller of a post, with its CSRF token checked; 0 or answered. */
static int poster(struct gh_req *req, struct gh_page_caller *c)
{
    int r = gh_api_page_caller(req, c);
    if (r > 0)
        gh_api_page_redirect(req, "/login?rd=/account");
    if (r != 0)
        return -1;
    return gh_api_page_csrf_refused(req, 0) ? -1 : 0;
}

static void head_of(const struct gh_page_caller *c, const char *title, struct gh_page_head *h)
{
    *h = (struct gh_page_head){title, c->who->username, c->admin, c->csrf};
}

static const char *when(char buf[GH_TIME_TEXT], int64_t t)
{
    if (t == 0 || gh_time_format(t, buf) != GH_OK)
        return "never";
    return buf;
}

/* A one-button form that posts name=value (with the CSRF token) to action. */
static void button_form(struct gh_page *p, const struct gh_page_caller *c, const char *action,
                        const char *name, const char *value, const char *label)
{
    gh_page_form(p, action, c->csrf);
    gh_page_hidden(p, name, value);
    gh_page_submit(p, label, 1);
}

/* ---- the page ---- */

struct rows {
    struct gh_page *p;
    const struct gh_page_caller *c;
    size_t n;
};

static int key_row(void *arg, const struct gh_api_key *k)
{
    struct rows *r = arg;
    char made[GH_TIME_TEXT], used[GH_TIME_TEXT];
    gh_page_printf(r->p, "<tr><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td><td>",
                   k->name, k->prefix, when(made, k->created_at), when(used, k->last_used_at));
    if (k->revoked_at != 0)
        gh_page_raw(r->p, "revoked");
    else
        button_form(r->p, r->c, "/account/keys/revoke", "id", k->id, "Revoke");
    gh_page_raw(r->p, "</td></tr>");
    return ++r->n >= LIST_MAX;
}

static int invitation_row(void *arg, const struct gh_invitation *inv)
{
    struct rows *r = arg;
    char until[GH_TIME_TEXT];
    gh_page_printf(r->p, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>", inv->org_name,
                   inv->role_name, inv->invited_by[0] ? inv->invited_by : "-",
                   when(until, inv->expires_at));
    button_form(r->p, r->c, "/account/invitations/accept", "id", inv->id, "Accept");
    button_form(r->p, r->c, "/account/invitations/decline", "id", inv->id, "Decline");
    gh_page_raw(r->p, "</td></tr>");
    return ++r->n >= LIST_MAX;
}

static int session_row(void *arg, const struct gh_session *s)
{
    struct rows *r = arg;
    char made[GH_TIME_TEXT], seen[GH_TIME_TEXT];
    int current = strcmp(s->id, r->c->who->session_id) == 0;
    gh_page_printf(r->p, "<tr><td>%s%s</td><td>%s</td><td>%s</td><td>%s</td><td>",
                   s->user_agent[0] ? s->user_agent : "unknown", current ? " (this one)" : "",
                   s->ip_address, when(made, s->created_at), when(seen, s->last_seen_at));
    button_form(r->p, r->c, "/account/sessions/revoke", "id", s->id,
                current ? "Sign out" : "Revoke");
    gh_page_raw(r->p, "</td></tr>");
    return ++r->n >= LIST_MAX;
}

/* Dangerous actions (deleting users or orgs, granting admin...) need a recent sign-in:
 * this form proves the password (and code) again without signing in anew. */
static void reauth_section(struct gh_page *p, const struct gh_page_caller *c, int mfa,
                           int64_t window)
{
    char at[GH_TIME_TEXT];
    int64_t age = gh_time_now() - c->who->auth_time;
    gh_page_raw(p, "<section aria-labelledby=\"s-reauth\"><h2 id=\"s-reauth\">Confirm it is "
                   "you</h2>");
    int minutes = window >= 60 && window % 60 == 0;
    gh_page_printf(p,
                   "<p id=\"reauth-state\">Password last confirmed: %s. Deleting users or "
                   "organizations, granting admin and changing sign-in providers need it "
                   "confirmed within %lld %s: %s.</p>",
                   when(at, c->who->auth_time), (long long)(minutes ? window / 60 : window),
                   minutes ? "minutes" : "seconds",
                   c->who->auth_time > 0 && age <= window ? "you may now" : "confirm it first");
    gh_page_form(p, "/account/reauth", c->csrf);
    /* names of their own: the TOTP form above has a password and a code field too */
    struct gh_field pw = {
        "Your password", "confirm_password", "password", NULL, "current-password", 0, 0, NULL};
    gh_page_field(p, &pw);
    if (mfa) {
        struct gh_field code = {"Your code",
                                "confirm_code",
                                "text",
                                NULL,
                                "one-time-code",
                                0,
                                0,
                                "A current code of the app, or an unused backup code."};
        gh_page_field(p, &code);
    }
    gh_page_submit(p, "Confirm", 0);
    gh_page_raw(p, "</section>");
}

static int identity_row(void *arg, const struct gh_sso_link *l)
{
    struct rows *r = arg;
    char made[GH_TIME_TEXT], used[GH_TIME_TEXT];
    gh_page_printf(r->p, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>", l->provider,
                   l->email[0] ? l->email : "-", when(made, l->created_at),
                   when(used, l->last_login_at));
    button_form(r->p, r->c, "/account/identities/unlink", "id", l->id, "Unlink");
    gh_page_raw(r->p, "</td></tr>");
    return ++r->n >= LIST_MAX;
}

static void account_page(struct gh_req *req, const struct gh_page_caller *c, unsigned status,
                         const char *error, const char *notice)
{
    struct gh_app *app = req->app;
    struct gh_page p;
    struct gh_page_head head;
    struct gh_user u;
    struct gh_membership orgs[8];
    size_t norgs = 0;
    int mfa = 0;
    gh_err err = gh_auth_me(app->auth, c->who, &u, orgs, 8, &norgs);
    if (err == GH_OK)
        err = gh_mfa_enabled(app->signin.mfas, c->who->user_id, &mfa);
    if (err != GH_OK) {
        gh_api_page_message(req, 503, "Unavailable", "Try again soon.", "/account", "Reload");
        return;
    }
    head_of(c, "Your account", &head);
    gh_page_begin(&p, GH_PAGE_MAX, &head);
    if (error != NULL)
        gh_page_error(&p, error);
    else if (notice != NULL)
        gh_page_notice(&p, notice);

    gh_page_printf(&p,
                   "<section aria-labelledby=\"s-profile\"><h2 id=\"s-profile\">Profile</h2><dl>"
                   "<dt>Username</dt><dd>%s</dd><dt>Email</dt><dd>%s</dd>"
                   "<dt>Full name</dt><dd>%s</dd><dt>Organizations</dt><dd>",
                   u.username, u.email, u.full_name[0] ? u.full_name : "-");
    for (size_t i = 0; i < norgs; i++)
        gh_page_printf(&p, "%s%s (%s)", i ? ", " : "", orgs[i].org_name, orgs[i].role_name);
    gh_page_raw(&p, "</dd></dl></section>");

    /* Nobody becomes a member of an org without saying yes here (or through the API). */
    struct rows rows = {&p, c, 0};
    static const char *const inv_cols[] = {"Organization", "Role", "Invited by", "Expires",
                                           "Answer"};
    gh_page_raw(&p, "<section aria-labelledby=\"s-inv\"><h2 id=\"s-inv\">Invitations</h2>");
    gh_page_table(&p, "Invitations to organizations", inv_cols, 5);
    err = gh_rbac_my_invitations(app->rbac, c->who, LIST_MAX, 0, invitation_row, &rows);
    gh_page_table_end(&p);
    if (rows.n == 0)
        gh_page_raw(&p, "<p>No pending invitations.</p>");
    gh_page_raw(&p, "</section>");

    gh_page_raw(&p, "<section aria-labelledby=\"s-pw\"><h2 id=\"s-pw\">Password</h2>");
    gh_page_form(&p, "/account/password", c->csrf);
    struct gh_field cur = {
        "Current password", "current_password", "password", NULL, "current-password", 0, 0, NULL};
    struct gh_field next = {"New password",
                            "new_password",
                            "password",
                            NULL,
                            "new-password",
                            0,
                            0,
                            "Changing it signs you out everywhere."};
    gh_page_field(&p, &cur);
    gh_page_field(&p, &next);
    gh_page_submit(&p, "Change password", 0);
    gh_page_raw(&p, "</section>");

    gh_page_raw(&p,
                "<section aria-labelledby=\"s-mfa\"><h2 id=\"s-mfa\">Two-step verification</h2>");
    if (mfa) {
        gh_page_raw(&p, "<p>On: signing in asks for a code of your authenticator app.</p>");
        gh_page_form(&p, "/account/mfa/disable", c->csrf);
        struct gh_field pw = {"Password",         "password", "password", NULL,
                              "current-password", 0,          0,          NULL};
        struct gh_field code = {
            "Code",          "code", "text", NULL,
            "one-time-code", 0,      0,      "A current code, or an unused backup code."};
        gh_page_field(&p, &pw);
        gh_page_field(&p, &code);
        gh_page_submit(&p, "Turn off", 1);
    } else {
        gh_page_raw(&p, "<p>Off. Turn it on to sign in with a code of an authenticator app "
                        "as well as your password.</p>");
        gh_page_form(&p, "/account/mfa/setup", c->csrf);
        gh_page_submit(&p, "Set up", 0);
    }
    gh_page_raw(&p, "</section>");
    reauth_section(&p, c, mfa, app->cfg.reauth_window);

    rows.n = 0;
    static const char *const key_cols[] = {"Name", "Prefix", "Created", "Last used", "Action"};
    gh_page_raw(&p, "<section aria-labelledby=\"s-keys\"><h2 id=\"s-keys\">API keys</h2>");
    gh_page_table(&p, "Your API keys", key_cols, 5);
    if (err == GH_OK)
        err = gh_apikey_list(gh_auth_apikeys(app->auth), c->who->user_id, LIST_MAX, 0, key_row,
                             &rows);
    gh_page_table_end(&p);
    gh_page_form(&p, "/account/keys", c->csrf);
    struct gh_field name = {"New key name", "name", "text", NULL, "off", 0, 0, NULL};
    gh_page_field(&p, &name);
    gh_page_submit(&p, "Create key", 0);
    gh_page_raw(&p, "</section>");

    rows.n = 0;
    static const char *const session_cols[] = {"Browser", "Address", "Signed in", "Last seen",
                                               "Action"};
    gh_page_raw(&p, "<section aria-labelledby=\"s-sessions\"><h2 id=\"s-sessions\">Sessions</h2>");
    gh_page_table(&p, "Where you are signed in", session_cols, 5);
    if (err == GH_OK)
        err =
            gh_session_list(app->signin.sessions, c->who->user_id, LIST_MAX, 0, session_row, &rows);
    gh_page_table_end(&p);
    gh_page_raw(&p, "</section>");

    /* the identity providers this account signs in through (authn/sso_account) */
    rows.n = 0;
    static const char *const id_cols[] = {"Provider", "Email", "Linked", "Last sign-in", "Action"};
    gh_page_raw(&p, "<section aria-labelledby=\"s-ids\"><h2 id=\"s-ids\">Linked sign-ins</h2>");
    gh_page_table(&p, "Identity providers you sign in with", id_cols, 5);
    if (err == GH_OK)
        err = gh_sso_account_links(app->auth, c->who->user_id, identity_row, &rows);
    gh_page_table_end(&p);
    if (rows.n == 0)
        gh_page_raw(&p, "<p>None: you sign in with your password.</p>");
    gh_page_raw(&p, "</section>");
    if (err != GH_OK) {
        gh_buf_clear(&p.out);
        gh_api_page_message(req, 503, "Unavailable", "Try again soon.", "/account", "Reload");
        return;
    }
    gh_api_page_reply(req, status, &p);
}

void gh_h_account_page(struct gh_req *req)
{
    struct gh_page_caller c;
    int r = gh_api_page_caller(req, &c);
    if (r > 0)
        gh_api_page_redirect(req, "/login?rd=/account");
    if (r != 0)
        return;
    const char *confirmed = gh_req_query(req, "confirmed");
    account_page(req, &c, 200, NULL,
                 confirmed != NULL && strcmp(confirmed, "1") == 0
                     ? "Confirmed: you may take the actions that need a recent sign-in."
                     : NULL);
}

/* ---- the forms ---- */

void gh_h_account_password(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    if (poster(req, &c) != 0)
        return;
    const char *cur = gh_api_page_value(req, "current_password");
    const char *next = gh_api_page_value(req, "new_password");
    if (cur == NULL || next == NULL) {
        account_page(req, &c, 400, "Enter your current and your new password.", NULL);
        return;
    }
    struct gh_reqmeta meta;
    struct gh_refusal refusal = {NULL, 0};
    gh_api_meta(req, &meta);
    gh_err err = gh_auth_change_password(app->auth, c.who, cur, strlen(cur), next, strlen(next),
                                         &meta, &refusal);
    if (err == GH_ERR_AUTH)
        account_page(req, &c, 401, "The current password is wrong.", NULL);
    else if (err == GH_ERR_POLICY || err == GH_ERR_INVALID)
        account_page(req, &c, 422,
                     "The new password is too short, too common or too easy to guess.", NULL);
    else if (err != GH_OK)
        account_page(req, &c, 503, "The password could not be changed; try again soon.", NULL);
    else {
        gh_api_clear_session_cookies(req); /* every session ended, this one too */
        gh_api_page_redirect(req, "/login?changed=1");
    }
}

void gh_h_account_mfa_setup(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    if (poster(req, &c) != 0)
        return;
    struct gh_mfa_enrolment e;
    struct gh_page p;
    struct gh_page_head head;
    struct gh_buf svg;
    gh_buf_init(&svg, 64 * 1024);
    gh_err err = gh_mfa_setup(app->signin.mfas, c.who, &e, &svg);
    if (err != GH_OK) {
        gh_buf_clear(&svg);
        account_page(req, &c, err == GH_ERR_CONFLICT ? 409 : 503,
                     err == GH_ERR_CONFLICT ? "Two-step verification is on already."
                                            : "Setting it up failed; try again soon.",
                     NULL);
        return;
    }
    head_of(&c, "Set up two-step verification", &head);
    gh_page_begin(&p, GH_PAGE_MAX, &head);
    gh_page_raw(&p, "<section><ol><li>Scan this QR code with an authenticator app:</li></ol>");
    gh_page_raw(&p, svg.ptr); /* made by core/qr: no user data but the escaped URI */
    gh_page_printf(&p,
                   "<p>Or enter this secret by hand: <code id=\"totp-secret\">%s</code></p>"
                   "<ol start=\"2\"><li>Enter the code the app shows:</li></ol>",
                   e.secret);
    gh_page_form(&p, "/account/mfa/confirm", c.csrf);
    struct gh_field code = {"Code", "code", "text", NULL, "one-time-code", 0, 0, NULL};
    gh_page_field(&p, &code);
    gh_page_submit(&p, "Turn on", 0);
    gh_page_raw(&p, "</section><p><a href=\"/account\">Cancel</a></p>");
    sodium_memzero(&e, sizeof(e));
    gh_buf_clear(&svg);
    gh_api_page_reply(req, 200, &p);
}

void gh_h_account_mfa_confirm(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    char codes[GH_BACKUP_CODES][GH_BACKUP_CODE_TEXT];
    if (poster(req, &c) != 0)
        return;
    const char *code = gh_api_page_value(req, "code");
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err =
        code == NULL ? GH_ERR_AUTH : gh_mfa_confirm(app->signin.mfas, c.who, code, &meta, codes);
    if (err != GH_OK) {
        account_page(req, &c, err == GH_ERR_AUTH || err == GH_ERR_INVALID ? 401 : 409,
                     err == GH_ERR_AUTH || err == GH_ERR_INVALID
                         ? "That code is wrong: set up again and enter the current code."
                         : "Nothing waits for confirmation: set up again.",
                     NULL);
        return;
    }
    struct gh_page p;
    struct gh_page_head head;
    head_of(&c, "Two-step verification is on", &head);
    gh_page_begin(&p, GH_PAGE_MAX, &head);
    gh_page_raw(&p, "<section><p>Keep these backup codes somewhere safe. Each signs you in "
                    "once without the app. They are shown only now.</p>"
                    "<ul class=\"codes\" id=\"backup-codes\">");
    for (size_t i = 0; i < GH_BACKUP_CODES; i++)
        gh_page_printf(&p, "<li>%s</li>", codes[i]);
    sodium_memzero(codes, sizeof(codes));
    gh_page_raw(&p, "</ul><p><a href=\"/account\">Done</a></p></section>");
    gh_api_page_reply(req, 200, &p);
}

void gh_h_account_mfa_disable(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    if (poster(req, &c) != 0)
        return;
    const char *pw = gh_api_page_value(req, "password");
    const char *code = gh_api_page_value(req, "code");
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = pw == NULL || code == NULL
                     ? GH_ERR_AUTH
                     : gh_mfa_disable(app->signin.mfas, c.who, pw, strlen(pw), code, &meta);
    if (err == GH_OK)
        account_page(req, &c, 200, NULL, "Two-step verification is off.");
    else if (err == GH_ERR_AUTH)
        account_page(req, &c, 401, "The password or the code is wrong.", NULL);
    else
        account_page(req, &c, err == GH_ERR_NOT_FOUND ? 404 : 503,
                     "Two-step verification could not be turned off.", NULL);
}

void gh_h_account_reauth(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    if (poster(req, &c) != 0)
        return;
    const char *pw = gh_api_page_value(req, "confirm_password");
    const char *code = gh_api_page_value(req, "confirm_code");
    if (pw == NULL || *pw == '\0') {
        account_page(req, &c, 400, "Enter your password.", NULL);
        return;
    }
    struct gh_login_keys keys;
    int64_t wait = gh_api_login_wait(req, 'u', c.who->username, &keys);
    if (wait > 0) {
        char after[24];
        (void)snprintf(after, sizeof(after), "%lld", (long long)wait);
        account_page(req, &c, 429, "Too many failed attempts. Wait a little and try again.", NULL);
        gh_reply_header(req, "Retry-After", after);
        return;
    }
    struct gh_reqmeta meta;
    struct gh_signin_result r;
    gh_api_meta(req, &meta);
    gh_err err = gh_signin_reauth(&app->signin, c.who, pw, strlen(pw), code, &meta, &r);
    gh_api_login_result(req, &keys, err, r.mfa_required);
    if (err == GH_OK && r.mfa_required)
        account_page(req, &c, 401, "Enter the code of your authenticator app too.", NULL);
    else if (err == GH_ERR_AUTH || err == GH_ERR_REUSED)
        account_page(req, &c, 401, "The password or the code is wrong.", NULL);
    else if (err != GH_OK)
        account_page(req, &c, 503, "Confirming failed; try again soon.", NULL);
    else
        gh_api_page_redirect(req, "/account?confirmed=1");
    gh_signin_result_clear(&r);
}

void gh_h_account_key_create(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    if (poster(req, &c) != 0)
        return;
    struct gh_apikey_input in;
    memset(&in, 0, sizeof(in));
    in.name = gh_api_page_value(req, "name");
    struct gh_api_key key;
    char text[GH_APIKEY_TEXT];
    struct gh_reqmeta meta;
    struct gh_refusal refusal = {NULL, 0};
    gh_api_meta(req, &meta);
    gh_err err = in.name == NULL ? GH_ERR_INVALID
                                 : gh_apikey_create(gh_auth_apikeys(app->auth), c.who, &in, &meta,
                                                    &key, text, &refusal);
    if (err == GH_ERR_INVALID || err == GH_ERR_CONFLICT) {
        account_page(req, &c, err == GH_ERR_CONFLICT ? 409 : 422,
                     err == GH_ERR_CONFLICT ? "You have a key of that name already."
                                            : "Give the key a name (1 to 64 characters).",
                     NULL);
        return;
    }
    if (err != GH_OK) {
        account_page(req, &c, 503, "The key could not be created; try again soon.", NULL);
        return;
    }
    struct gh_page p;
    struct gh_page_head head;
    head_of(&c, "API key created", &head);
    gh_page_begin(&p, GH_PAGE_MAX, &head);
    gh_page_printf(&p,
                   "<section><p>Copy the key of <strong>%s</strong> now: it is shown only "
                   "once.</p><p><code id=\"api-key\">%s</code></p>"
                   "<p><a href=\"/account\">Done</a></p></section>",
                   key.name, text);
    sodium_memzero(text, sizeof(text));
    gh_api_page_reply(req, 201, &p);
}

void gh_h_account_key_revoke(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    if (poster(req, &c) != 0)
        return;
    const char *id = gh_api_page_value(req, "id");
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = id == NULL ? GH_ERR_NOT_FOUND
                            : gh_apikey_revoke(gh_auth_apikeys(app->auth), c.who->user_id,
                                               c.who->username, id, &meta);
    if (err == GH_OK)
        account_page(req, &c, 200, NULL, "The key was revoked.");
    else
        account_page(req, &c, err == GH_ERR_NOT_FOUND ? 404 : 503, "No such key of yours.", NULL);
}

void gh_h_account_session_revoke(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    if (poster(req, &c) != 0)
        return;
    const char *id = gh_api_page_value(req, "id");
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err =
        id == NULL ? GH_ERR_NOT_FOUND : gh_session_revoke(app->signin.sessions, c.who, id, &meta);
    if (err == GH_OK && strcmp(id, c.who->session_id) == 0) {
        gh_api_clear_session_cookies(req);
        gh_api_page_redirect(req, "/login?signed_out=1");
    } else if (err == GH_OK) {
        account_page(req, &c, 200, NULL, "The session was ended.");
    } else {
        account_page(req, &c, err == GH_ERR_NOT_FOUND ? 404 : 503, "No such session of yours.",
                     NULL);
    }
}

/* POST /account/identities/unlink: one of the caller's linked sign-ins, unless it is the
 * last way the caller can sign in. */
void gh_h_account_identity_unlink(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    if (poster(req, &c) != 0)
        return;
    const char *id = gh_api_page_value(req, "id");
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err = id == NULL ? GH_ERR_NOT_FOUND : gh_sso_account_unlink(app->auth, c.who, id, &meta);
    if (err == GH_OK)
        account_page(req, &c, 200, NULL, "The sign-in was unlinked.");
    else if (err == GH_ERR_CONFLICT)
        account_page(req, &c, 409, "That is the last way you can sign in: link another one first.",
                     NULL);
    else
        account_page(req, &c, err == GH_ERR_NOT_FOUND ? 404 : 503,
                     "No such linked sign-in of yours.", NULL);
}

/* POST /account/invitations/accept|decline: the caller's answer to one of its invitations. */
static void answer_invitation(struct gh_req *req, int accept)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    if (poster(req, &c) != 0)
        return;
    const char *id = gh_api_page_value(req, "id");
    struct gh_reqmeta meta;
    struct gh_invitation inv;
    gh_api_meta(req, &meta);
    gh_err err = id == NULL ? GH_ERR_NOT_FOUND
                 : accept   ? gh_rbac_invitation_accept(app->rbac, c.who, id, &meta, &inv)
                            : gh_rbac_invitation_decline(app->rbac, c.who, id, &meta);
    if (err == GH_OK)
        account_page(req, &c, 200, NULL,
                     accept ? "You joined the organization." : "The invitation was declined.");
    else if (err == GH_ERR_CONFLICT)
        account_page(req, &c, 409, "You are a member of that organization already.", NULL);
    else if (err == GH_ERR_NOT_FOUND || err == GH_ERR_EXPIRED)
        account_page(req, &c, 404, "No such pending invitation of yours.", NULL);
    else
        account_page(req, &c, 503, "Unavailable: try again soon.", NULL);
}

void gh_h_account_invitation_accept(struct gh_req *req)
{
    answer_invitation(req, 1);
}

void gh_h_account_invitation_decline(struct gh_req *req)
{
    answer_invitation(req, 0);
}

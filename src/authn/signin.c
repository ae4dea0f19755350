#include "authn/signin.h"

#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "authn/sso_account.h"
#include "core/log.h"
#include "core/time.h"

void gh_signin_result_clear(struct gh_signin_result *r)
{
    if (r == NULL)
        return;
    gh_token_pair_clear(&r->pair);
    sodium_memzero(r, sizeof(*r));
}

/* The last step of every sign-in: tokens, and with cookies the session they belong to. */
static gh_err finish(const struct gh_signin *si, const struct gh_user *u, const char *org_id,
                     const char *method, int cookies, const struct gh_reqmeta *meta,
                     struct gh_signin_result *out)
{
    gh_err err = gh_auth_issue(si->auth, u, org_id, method, meta, &out->pair);
    if (err == GH_OK && cookies) {
        err = gh_session_start(si->sessions, u->id, out->pair.org_id, out->pair.family_id, method,
                               meta, out->sid, out->csrf);
        out->session = err == GH_OK;
        /* no refresh token outlives a session that was not made */
        if (err != GH_OK && gh_auth_logout(si->auth, out->pair.refresh_token, meta) != GH_OK)
            gh_log(GH_LOG_WARN, "sign-in: a refresh token without its session stays live");
    }
    if (err != GH_OK)
        gh_signin_result_clear(out);
    return err;
}

gh_err gh_signin_password(const struct gh_signin *si, const char *login, const char *password,
                          size_t len, const char *org_id, int cookies,
                          const struct gh_reqmeta *meta, struct gh_signin_result *out)
{
    struct gh_user u;
    int mfa = 0;
    memset(out, 0, sizeof(*out));
    gh_err err = gh_auth_check_password(si->auth, login, password, len, meta, &u);
    if (err == GH_OK)
        err = gh_mfa_enabled(si->mfas, u.id, &mfa);
    if (err != GH_OK)
        return err;
    if (!mfa)
        return finish(si, &u, org_id, "password", cookies, meta, out);
    out->mfa_required = 1;
    return gh_mfa_challenge(si->mfas, &u, org_id, out->mfa_token);
}

gh_err gh_signin_mfa(const struct gh_signin *si, const char *token, const char *code, int cookies,
                     const struct gh_reqmeta *meta, struct gh_signin_result *out)
{
    struct gh_mfa_passed p;
    memset(out, 0, sizeof(*out));
    gh_err err = gh_mfa_answer(si->mfas, token, code, meta, &p);
    if (err != GH_OK)
        return err;
    err = finish(si, &p.user, p.org_id[0] != '\0' ? p.org_id : NULL, p.method, cookies, meta, out);
    sodium_memzero(&p, sizeof(p));
    return err;
}

gh_err gh_signin_reauth(const struct gh_signin *si, const struct gh_identity *who,
                        const char *password, size_t len, const char *code,
                        const struct gh_reqmeta *meta, struct gh_signin_result *out)
{
    struct gh_user u;
    const char *method = "password";
    int mfa = 0;
    memset(out, 0, sizeof(*out));
    if (who->cred != GH_CRED_JWT && who->cred != GH_CRED_SESSION)
        return GH_ERR_FORBIDDEN;
    gh_err err = gh_auth_check_password(si->auth, who->username, password, len, meta, &u);
    if (err == GH_OK && strcmp(u.id, who->user_id) != 0)
        err = GH_ERR_AUTH; /* usernames never look like emails: cannot happen */
    if (err == GH_OK)
        err = gh_mfa_enabled(si->mfas, u.id, &mfa);
    if (err != GH_OK)
        return err;
    if (mfa && (code == NULL || *code == '\0')) {
        out->mfa_required = 1;
        return GH_OK;
    }
    if (mfa && (err = gh_mfa_prove(si->mfas, who, code, meta, &method)) != GH_OK)
        return err;
    int64_t now = gh_time_now();
    struct gh_audit_subject subject = {who->user_id, who->username, who->org_id};
    char md[80];
    (void)snprintf(md, sizeof(md), "{\"method\":\"%s\",\"credential\":\"%s\"}", method,
                   gh_cred_name(who->cred));
    /* the record first: no fresher credential the trail does not show */
    if ((err = gh_audit_record(si->store, "REAUTH", meta, &subject, 200, md)) != GH_OK)
        return err;
    if (who->cred == GH_CRED_SESSION)
        err = gh_session_reauth(si->sessions, who, now);
    else
        err = gh_auth_reissue(si->auth, who, now, &out->pair);
    if (err == GH_OK)
        out->auth_time = now;
    else
        gh_signin_result_clear(out);
    return err;
}

gh_err gh_signin_sso(const struct gh_signin *si, const struct gh_sso_provider *p,
                     const struct gh_sso_identity *id, int cookies, const struct gh_reqmeta *meta,
                     struct gh_signin_result *out, const char **reason)
{
    struct gh_user u;
    int mfa = 0;
    memset(out, 0, sizeof(*out));
    gh_err err = gh_sso_account_resolve(si->auth, p, id, meta, &u, reason);
    if (err != GH_OK) {
        gh_sso_audit_failed(si->auth, p->name, *reason, err == GH_ERR_FORBIDDEN ? &u : NULL, meta);
        return err;
    }
    if ((err = gh_mfa_enabled(si->mfas, u.id, &mfa)) != GH_OK)
        return err;
    if ((err = gh_sso_audit_login(si->auth, p->name, &u, mfa, meta)) != GH_OK)
        return err;
    if (!mfa)
        return finish(si, &u, NULL, "sso", cookies, meta, out);
    out->mfa_required = 1;
    return gh_mfa_challenge(si->mfas, &u, NULL, out->mfa_token);
}

#ifndef GH_AUTHN_SIGNIN_H
#define GH_AUTHN_SIGNIN_H

#include <stddef.h>
#include "authn/mfa.h"
#include "authn/service.h"
#include "authn/session.h"
#include "authn/sso_identity.h"

/*
 * Signing in, for the API and the pages alike: the password, then (with TOTP enabled) the
 * second factor, then what the caller asked for: a token pair, or a browser session with
 * its refresh token (the cookies). No token and no session exists before the last step.
 */

struct gh_signin {
    const struct gh_store_handle *store; /* the audit trail of re-authentications */
    struct gh_auth *auth;
    struct gh_mfas *mfas;
    struct gh_sessions *sessions;
};

/** What a sign-in step gave. */
struct gh_signin_result {
    int mfa_required; /* the password was right: mfa_token waits for a code */
    char mfa_token[GH_MFA_TOKEN_TEXT];
    struct gh_token_pair pair; /* the tokens (the refresh token is gh_rid's value) */
    int session;               /* sid and csrf are set */
    char sid[GH_SID_TEXT];
    char csrf[GH_CSRF_TEXT];
    int64_t auth_time; /* a re-authentication's new sign-in time */
};

/**
 * The first step: login and password (len bytes), for org_id (NULL: the primary org),
 * with cookies a browser session too. The errors of gh_auth_check_password and
 * gh_auth_issue. The caller clears *out with gh_signin_result_clear.
 */
gh_err gh_signin_password(const struct gh_signin *si, const char *login, const char *password,
                          size_t len, const char *org_id, int cookies,
                          const struct gh_reqmeta *meta, struct gh_signin_result *out) GH_WUR
    GH_NONNULL(1, 2, 3, 8);

/**
 * The second step: the challenge token answered with code. The errors of gh_mfa_answer
 * (GH_ERR_NOT_FOUND a dead token, GH_ERR_AUTH / GH_ERR_REUSED a wrong code) and of
 * gh_auth_issue.
 */
gh_err gh_signin_mfa(const struct gh_signin *si, const char *token, const char *code, int cookies,
                     const struct gh_reqmeta *meta, struct gh_signin_result *out) GH_WUR
    GH_NONNULL(1, 2, 3, 6);

/**
 * Re-authentication of who (a token's or a session's caller) without a new sign-in: the
 * password (len bytes), then the code (NULL or "" when none) if a second factor is on.
 * GH_OK with out->mfa_required when the password was right but the code is missing
 * (nothing changed); otherwise GH_OK sets the caller's sign-in time to now
 * (out->auth_time): a session keeps it (and its refresh family), a token caller gets a new
 * access token in out->pair. Audited REAUTH. GH_ERR_FORBIDDEN an API key (it proves no
 * sign-in); GH_ERR_AUTH a wrong password (LOGIN_FAILED) or code (MFA_FAILED),
 * GH_ERR_REUSED a replayed code; the errors of gh_auth_reissue and gh_session_reauth.
 */
gh_err gh_signin_reauth(const struct gh_signin *si, const struct gh_identity *who,
                        const char *password, size_t len, const char *code,
                        const struct gh_reqmeta *meta, struct gh_signin_result *out) GH_WUR
    GH_NONNULL(1, 2, 3, 7);

/**
 * Signing in as the identity id that provider p vouched for (an ID token, a userinfo
 * answer or a SAML assertion already checked): the user of gh_sso_account_resolve, then
 * as gh_signin_password (the second factor when the user has TOTP). SSO_LOGIN audited on
 * success, SSO_LOGIN_FAILED with *reason on a refusal (the errors of
 * gh_sso_account_resolve), then the errors of gh_auth_issue.
 */
gh_err gh_signin_sso(const struct gh_signin *si, const struct gh_sso_provider *p,
                     const struct gh_sso_identity *id, int cookies, const struct gh_reqmeta *meta,
                     struct gh_signin_result *out, const char **reason) GH_WUR
    GH_NONNULL(1, 2, 3, 6, 7);

/** Wipes *r and frees what it holds. Accepts NULL. */
void gh_signin_result_clear(struct gh_signin_result *r);

#endif

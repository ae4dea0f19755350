#ifndef GH_AUTHN_SSO_ACCOUNT_H
#define GH_AUTHN_SSO_ACCOUNT_H

#include <stddef.h>
#include "audit/audit.h"
#include "authn/service.h"
#include "authn/sso_identity.h"
#include "core/err.h"
#include "store/records.h"

/*
 * Which user an outside identity signs in as (API.md "SSO", Accounts), for every kind of
 * provider (OIDC, OAuth2, SAML): the identity (provider, subject) linked already; else,
 * with the provider's link_by_email and an email the provider says it verified, the user
 * of that email (linked from then on); else, with auto_create_user, a new user without a
 * password in the default org with the provider's default_role (SSO_USER_CREATED). A
 * disabled user is refused whichever way it was found. The sign-in's own audit records
 * (SSO_LOGIN, SSO_LOGIN_FAILED) are the caller's (authn/signin.h gh_signin_sso).
 */

/**
 * The user that identity id of provider p signs in as, into *out. GH_OK; or a refusal
 * with *reason (a fixed word for the audit trail): GH_ERR_NOT_FOUND "no_account" (not
 * linked, nothing to link to, no auto_create_user), GH_ERR_FORBIDDEN "disabled",
 * GH_ERR_CONFLICT "email_taken" (a user has that email and may not be linked to it);
 * GH_ERR_INVALID "invalid_identity" (an empty subject); the store's errors ("storage").
 */
gh_err gh_sso_account_resolve(struct gh_auth *a, const struct gh_sso_provider *p,
                              const struct gh_sso_identity *id, const struct gh_reqmeta *meta,
                              struct gh_user *out, const char **reason) GH_WUR
    GH_NONNULL(1, 2, 3, 5, 6);

/** Records SSO_LOGIN_FAILED for provider (a provider name or "") with reason (a fixed
 * word), and for user (may be NULL) when the identity was known. */
void gh_sso_audit_failed(struct gh_auth *a, const char *provider, const char *reason,
                         const struct gh_user *user, const struct gh_reqmeta *meta)
    GH_NONNULL(1, 2, 3);

/** Records SSO_LOGIN of user through provider (mfa: a second factor is still asked). */
gh_err gh_sso_audit_login(struct gh_auth *a, const char *provider, const struct gh_user *user,
                          int mfa, const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2, 3);

/** Visits user_id's linked identities, oldest first. */
gh_err gh_sso_account_links(struct gh_auth *a, const char *user_id, gh_sso_link_visit_fn fn,
                            void *arg) GH_WUR GH_NONNULL(1, 2, 3);

/**
 * Unlinks who's identity link_id. GH_ERR_NOT_FOUND not one of who's; GH_ERR_CONFLICT it
 * is the last way who signs in (no password and no other identity). Audited SSO_UNLINKED.
 */
gh_err gh_sso_account_unlink(struct gh_auth *a, const struct gh_identity *who, const char *link_id,
                             const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2, 3);

#endif

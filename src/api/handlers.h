#ifndef GH_API_HANDLERS_H
#define GH_API_HANDLERS_H

#include "audit/audit.h"
#include "authn/service.h"
#include "http/http.h"
#include <jansson.h>

/*
 * Route handlers: parse and validate input, call a service, map the result to a status.
 * By the time a handler runs, the dispatcher has matched the route, parsed a JSON body
 * for routes that take one (req->json) and, for protected routes, proven the caller
 * (gh_api_identity). Handlers of routes with a pool run on that pool.
 */

/** The proven caller of a protected route (NULL before the credential chain proved one). */
const struct gh_identity *gh_api_identity(const struct gh_req *req) GH_NONNULL(1);

/** The request origin for services and the audit trail. */
void gh_api_meta(const struct gh_req *req, struct gh_reqmeta *meta) GH_NONNULL(1, 2);

/**
 * Reads string field key of the JSON body into *out; on a missing (when required) or
 * ill-typed field answers 400 invalid_request and returns non-zero.
 */
int gh_api_string_field(struct gh_req *req, const char *key, int required, const char **out,
                        size_t *len) GH_NONNULL(1, 2, 4, 5);

/**
 * For a route that changes state (the CSRF flag): when a browser session proved the
 * caller, runs the session hook's CSRF check (api/app.h; 403 csrf_failed without one).
 * 1 when the request was refused (and answered), 0 when it may go on; bearer and API-key
 * callers always pass.
 */
int gh_api_csrf_refused(struct gh_req *req) GH_NONNULL(1);

/**
 * 1 when the caller's permissions cover permission; otherwise answers 403 forbidden,
 * audits PERMISSION_DENIED and returns 0.
 */
int gh_api_allowed(struct gh_req *req, const char *permission) GH_NONNULL(1, 2);

/** Answers 403 forbidden for a permission the caller lacks, audited as PERMISSION_DENIED. */
void gh_api_deny(struct gh_req *req, const char *permission) GH_NONNULL(1, 2);

/** The same, for a refusal in org_id (the org of the path, recorded as the audit's org). */
void gh_api_deny_in(struct gh_req *req, const char *permission, const char *org_id)
    GH_NONNULL(1, 2);

/**
 * Reads ?limit= (1..1000, default 100) and ?offset= (default 0); answers 400 and returns
 * non-zero on a bad one.
 */
int gh_api_page(struct gh_req *req, size_t *limit, size_t *offset) GH_NONNULL(1, 2, 3);

/** A page being listed: limit + 1 rows are asked for, the last only tells there are more. */
struct gh_api_list {
    json_t *items; /* a JSON array */
    size_t limit, seen;
};

/**
 * Counts a visited row: appends item (taking it) while the page has room and returns 0;
 * past the limit drops item and returns 1 (stop: there is a next page).
 */
int gh_api_list_add(struct gh_api_list *l, json_t *item) GH_NONNULL(1);

/**
 * Answers 200 {"items": items, "next_offset": n|null} for a page listed with limit + 1
 * rows asked for, of which seen were visited (more than limit: there is a next page).
 * Takes items.
 */
void gh_api_reply_page(struct gh_req *req, json_t *items, size_t seen, size_t limit, size_t offset)
    GH_NONNULL(1, 2);

/**
 * Reads an optional array of at most max strings at field into items (pointing into the
 * body); *present says whether it was there. Answers 400 and returns non-zero otherwise.
 */
int gh_api_string_array(struct gh_req *req, const char *field, const char **items, size_t max,
                        size_t *n, int *present) GH_NONNULL(1, 2, 3, 5, 6);

/**
 * Copies path segment index (0 = "api") into out when it is an id (a UUID); otherwise
 * answers 404 not_found (an id that cannot exist names nothing) and returns non-zero.
 */
int gh_api_path_id(struct gh_req *req, size_t index, char out[GH_UUID_LEN + 1]) GH_NONNULL(1, 3);

/**
 * Answers an unexpected service error by its default in the error table (api/errors.h:
 * 503 unavailable with Retry-After for storage or a full queue, else 500, logged).
 */
void gh_api_reply_failure(struct gh_req *req, gh_err err) GH_NONNULL(1);

void gh_h_healthz(struct gh_req *req);
void gh_h_readyz(struct gh_req *req);
void gh_h_jwks(struct gh_req *req);
void gh_h_openapi(struct gh_req *req);
void gh_h_openid(struct gh_req *req);

void gh_h_register(struct gh_req *req);
void gh_h_login(struct gh_req *req);
void gh_h_refresh(struct gh_req *req);
void gh_h_logout(struct gh_req *req);
void gh_h_logout_all(struct gh_req *req);
void gh_h_change_password(struct gh_req *req);
void gh_h_me(struct gh_req *req);
void gh_h_verify(struct gh_req *req);
void gh_h_mfa_verify(struct gh_req *req);
void gh_h_mfa_setup(struct gh_req *req);
void gh_h_mfa_confirm(struct gh_req *req);
void gh_h_mfa_disable(struct gh_req *req);
void gh_h_reauth(struct gh_req *req);
void gh_h_sessions_list(struct gh_req *req);
void gh_h_stylesheet(struct gh_req *req);
void gh_h_login_page(struct gh_req *req);
void gh_h_login_post(struct gh_req *req);
void gh_h_login_mfa_page(struct gh_req *req);
void gh_h_login_mfa_post(struct gh_req *req);
void gh_h_register_page(struct gh_req *req);
void gh_h_register_post(struct gh_req *req);
void gh_h_logout_page(struct gh_req *req);
void gh_h_account_page(struct gh_req *req);
void gh_h_admin_page(struct gh_req *req);
void gh_h_account_password(struct gh_req *req);
void gh_h_account_mfa_setup(struct gh_req *req);
void gh_h_account_mfa_confirm(struct gh_req *req);
void gh_h_account_mfa_disable(struct gh_req *req);
void gh_h_account_key_create(struct gh_req *req);
void gh_h_account_key_revoke(struct gh_req *req);
void gh_h_account_session_revoke(struct gh_req *req);
void gh_h_account_invitation_accept(struct gh_req *req);
void gh_h_gateway_token(struct gh_req *req);
void gh_h_account_invitation_decline(struct gh_req *req);
void gh_h_account_reauth(struct gh_req *req);
void gh_h_session_revoke(struct gh_req *req);

void gh_h_apikey_create(struct gh_req *req);
void gh_h_apikey_list(struct gh_req *req);
void gh_h_apikey_revoke(struct gh_req *req);
void gh_h_apikey_revoke_all(struct gh_req *req);

void gh_h_sql_validate(struct gh_req *req);

void gh_h_crypto_encrypt(struct gh_req *req);
void gh_h_crypto_decrypt(struct gh_req *req);
void gh_h_crypto_rewrap(struct gh_req *req);
void gh_h_vault_put(struct gh_req *req);
void gh_h_vault_get(struct gh_req *req);
void gh_h_vault_list(struct gh_req *req);
void gh_h_vault_delete(struct gh_req *req);
void gh_h_unseal(struct gh_req *req);

/** 1 while the server is sealed (crypto.sealed, before the shares arrived). */
int gh_api_sealed(const struct gh_req *req) GH_NONNULL(1);

void gh_h_audit_logs(struct gh_req *req);
void gh_h_audit_verify(struct gh_req *req);
void gh_h_audit_event_create(struct gh_req *req);
void gh_h_authz_check(struct gh_req *req);
void gh_h_perm_list(struct gh_req *req);
void gh_h_perm_add(struct gh_req *req);
void gh_h_primary_org(struct gh_req *req);
void gh_h_org_list(struct gh_req *req);
void gh_h_org_create(struct gh_req *req);
void gh_h_org_get(struct gh_req *req);
void gh_h_org_update(struct gh_req *req);
void gh_h_org_delete(struct gh_req *req);
void gh_h_member_list(struct gh_req *req);
void gh_h_member_add(struct gh_req *req);
void gh_h_member_update(struct gh_req *req);
void gh_h_member_remove(struct gh_req *req);
void gh_h_invitation_list(struct gh_req *req);
void gh_h_invitation_revoke(struct gh_req *req);
void gh_h_my_invitations(struct gh_req *req);
void gh_h_invitation_accept(struct gh_req *req);
void gh_h_invitation_decline(struct gh_req *req);
void gh_h_role_list(struct gh_req *req);
void gh_h_role_create(struct gh_req *req);
void gh_h_role_update(struct gh_req *req);
void gh_h_role_delete(struct gh_req *req);
void gh_h_user_list(struct gh_req *req);
void gh_h_user_get(struct gh_req *req);
void gh_h_user_update(struct gh_req *req);
void gh_h_user_delete(struct gh_req *req);
void gh_h_sso_provider_list(struct gh_req *req);
void gh_h_sso_provider_get(struct gh_req *req);
void gh_h_sso_provider_create(struct gh_req *req);
void gh_h_sso_provider_update(struct gh_req *req);
void gh_h_sso_provider_delete(struct gh_req *req);
void gh_h_block_create(struct gh_req *req);
void gh_h_block_list(struct gh_req *req);
void gh_h_block_delete(struct gh_req *req);
void gh_h_sso_authorize(struct gh_req *req);
void gh_h_sso_callback(struct gh_req *req);
void gh_h_oauth_login(struct gh_req *req);
void gh_h_account_identity_unlink(struct gh_req *req);

/* api/saml.c: the SAML 2.0 service provider */
void gh_h_saml_metadata(struct gh_req *req);
void gh_h_saml_login(struct gh_req *req);
void gh_h_saml_acs(struct gh_req *req);

/** Labels of the routes ("POST /api/v1/auth/login"), in route order, for the metrics. */
const char *const *gh_api_route_labels(size_t *n) GH_NONNULL(1);

/** Records an answered request in the metrics (the server's observe hook). */
void gh_api_observe(struct gh_req *req, uint64_t micros) GH_NONNULL(1);

void gh_h_metrics(struct gh_req *req);

/** Matches the route, runs the middleware and the handler (the server's dispatch function). */
void gh_api_dispatch(struct gh_req *req) GH_NONNULL(1);

#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/app.h"
#include "api/body.h"
#include "api/cors.h"
#include "api/credential.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/router.h"
#include "core/perm.h"
#include "authz/rbac.h"
#include "core/log.h"
#include "core/uuid.h"
#include "edge/forward.h"
#include "edge/sqlcheck.h"

enum route_flags {
    JSON_BODY = 1 << 0, /* a JSON object body is required (req->json) */
    AUTH = 1 << 1,      /* a valid credential is required (the credential chain) */
    ANY_METHOD = 1 << 2,
    LONG_STRINGS = 1 << 3, /* JSON strings up to GH_SQL_MAX + 1, not server.max_field_length */
    SELF = 1 << 4,         /* the caller's own account: a user's token may, an API key needs perm */
    FORM_BODY = 1 << 5,    /* an application/x-www-form-urlencoded body (gh_api_form) */
    CSRF = 1 << 6,         /* changes state: a session caller must pass the CSRF hook */
    PAGE = 1 << 7,         /* an HTML page: answered with PAGE_CSP instead of the API's policy */
    SEALED_OK = 1 << 8,    /* served while sealed (crypto.sealed); every other route is 503 */
};

/* Pages: own scripts, styles and images only, forms posting back to Gatehouse, no
 * inline code, never framed. API answers keep the server's "default-src 'none'". */
#define PAGE_CSP                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* ON_SSO_POOL: calls to identity providers, which may wait up to sso.timeout each: a pool
 * of their own, so that a provider that hangs never holds the I/O pool's threads. */
enum route_pool { ON_LOOP, ON_HASH_POOL, ON_IO_POOL, ON_SSO_POOL };

struct route {
    const char *path;
    unsigned methods;
    void (*handler)(struct gh_req *req);
    unsigned flags;
    enum route_pool pool;
    const char *perm; /* with AUTH: a permission needed in the credential's org (with SELF:
                       * needed by API keys only), or NULL */
};

/* Every route of the product. A route not listed here is a 404. */
static const struct route routes[] = {
    {"/healthz", GH_GET, gh_h_healthz, SEALED_OK, ON_LOOP, NULL},
    {"/readyz", GH_GET, gh_h_readyz, SEALED_OK, ON_IO_POOL, NULL},
    {"/.well-known/jwks.json", GH_GET, gh_h_jwks, 0, ON_LOOP, NULL},
    {"/openapi.json", GH_GET, gh_h_openapi, 0, ON_LOOP, NULL},
    {"/docs", GH_GET, gh_h_docs_page, PAGE, ON_IO_POOL, NULL},
    {"/.well-known/openid-configuration", GH_GET, gh_h_openid, 0, ON_LOOP, NULL},
    {"/api/v1/auth/register", GH_POST, gh_h_register, JSON_BODY, ON_HASH_POOL, NULL},
    {"/api/v1/auth/login", GH_POST, gh_h_login, JSON_BODY, ON_HASH_POOL, NULL},
    {"/api/v1/auth/refresh", GH_POST, gh_h_refresh, JSON_BODY, ON_IO_POOL, NULL},
    {"/api/v1/auth/logout", GH_POST, gh_h_logout, JSON_BODY, ON_IO_POOL, NULL},
    {"/api/v1/auth/logout-all", GH_POST, gh_h_logout_all, AUTH | CSRF | SELF, ON_IO_POOL,
     "user:write"},
    {"/api/v1/auth/gateway-token", GH_POST, gh_h_gateway_token, JSON_BODY | AUTH | CSRF, ON_IO_POOL,
     NULL},
    {"/api/v1/auth/change-password", GH_POST, gh_h_change_password, JSON_BODY | AUTH | CSRF | SELF,
     ON_HASH_POOL, "user:write"},
    {"/api/v1/auth/me", GH_GET, gh_h_me, AUTH, ON_IO_POOL, NULL},
    /* The password (and code) again, for dangerous actions (api/reauth.h). */
    {"/api/v1/auth/reauth", GH_POST, gh_h_reauth, JSON_BODY | AUTH | CSRF | SELF, ON_HASH_POOL,
     NULL},
    /* The second factor: the login's second step, and a user's own enrolment. */
    {"/api/v1/auth/mfa/verify", GH_POST, gh_h_mfa_verify, JSON_BODY, ON_IO_POOL, NULL},
    {"/api/v1/auth/mfa/totp/setup", GH_POST, gh_h_mfa_setup, AUTH | CSRF | SELF, ON_IO_POOL,
     "user:write"},
    {"/api/v1/auth/mfa/totp/confirm", GH_POST, gh_h_mfa_confirm, JSON_BODY | AUTH | CSRF | SELF,
     ON_IO_POOL, "user:write"},
    {"/api/v1/auth/mfa/totp", GH_DELETE, gh_h_mfa_disable, JSON_BODY | AUTH | CSRF | SELF,
     ON_HASH_POOL, "user:write"},
    {"/api/v1/auth/sessions", GH_GET, gh_h_sessions_list, AUTH | SELF, ON_IO_POOL, "user:read"},
    {"/api/v1/auth/sessions/*", GH_DELETE, gh_h_session_revoke, AUTH | CSRF | SELF, ON_IO_POOL,
     "user:write"},
    /* ForwardAuth: proxies ask with the method of the original request. The handler
     * proves the caller itself: a route rule may make the original request public. */
    {"/api/v1/auth/verify", 0, gh_h_verify, ANY_METHOD, ON_LOOP, NULL},
    /* A user's token may always manage that user's keys; a key needs apikey:<action>, so
     * a narrow key cannot mint or revoke others. */
    {"/api/v1/api-keys", GH_POST, gh_h_apikey_create, JSON_BODY | AUTH | CSRF | SELF, ON_IO_POOL,
     "apikey:write"},
    {"/api/v1/api-keys", GH_GET, gh_h_apikey_list, AUTH | SELF, ON_IO_POOL, "apikey:read"},
    {"/api/v1/api-keys", GH_DELETE, gh_h_apikey_revoke_all, AUTH | CSRF | SELF, ON_IO_POOL,
     "apikey:delete"},
    {"/api/v1/api-keys/*", GH_DELETE, gh_h_apikey_revoke, AUTH | CSRF | SELF, ON_IO_POOL,
     "apikey:delete"},
    {"/api/v1/sql/validate", GH_POST, gh_h_sql_validate, JSON_BODY | AUTH | CSRF | LONG_STRINGS,
     ON_IO_POOL, NULL},
    /* Authorization and tenancy. Org routes decide in the service, which takes the org
     * from the path and checks the caller's membership there (404 for another org). */
    {"/api/v1/authz/check", GH_POST, gh_h_authz_check, JSON_BODY | AUTH | CSRF, ON_LOOP, NULL},
    {"/api/v1/permissions", GH_GET, gh_h_perm_list, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/permissions", GH_POST, gh_h_perm_add, JSON_BODY | AUTH | CSRF, ON_IO_POOL, NULL},
    {"/api/v1/auth/me/primary-org", GH_PUT, gh_h_primary_org, JSON_BODY | AUTH | CSRF | SELF,
     ON_IO_POOL, "user:write"},
    {"/api/v1/orgs", GH_GET, gh_h_org_list, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/orgs", GH_POST, gh_h_org_create, JSON_BODY | AUTH | CSRF | SELF, ON_IO_POOL,
     "org:write"},
    {"/api/v1/orgs/*", GH_GET, gh_h_org_get, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/orgs/*", GH_PATCH, gh_h_org_update, JSON_BODY | AUTH | CSRF, ON_IO_POOL, NULL},
    {"/api/v1/orgs/*", GH_DELETE, gh_h_org_delete, AUTH | CSRF, ON_IO_POOL, NULL},
    {"/api/v1/orgs/*/members", GH_GET, gh_h_member_list, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/orgs/*/members", GH_POST, gh_h_member_add, JSON_BODY | AUTH | CSRF, ON_IO_POOL, NULL},
    {"/api/v1/orgs/*/members/*", GH_PATCH, gh_h_member_update, JSON_BODY | AUTH | CSRF, ON_IO_POOL,
     NULL},
    {"/api/v1/orgs/*/members/*", GH_DELETE, gh_h_member_remove, AUTH | CSRF, ON_IO_POOL, NULL},
    /* Invitations: an org's admins see them without their invitees; the invitee answers
     * with its own account (a key needs user:read / user:write, like primary-org). */
    {"/api/v1/orgs/*/invitations", GH_GET, gh_h_invitation_list, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/orgs/*/invitations/*", GH_DELETE, gh_h_invitation_revoke, AUTH | CSRF, ON_IO_POOL,
     NULL},
    {"/api/v1/auth/me/invitations", GH_GET, gh_h_my_invitations, AUTH | SELF, ON_IO_POOL,
     "user:read"},
    {"/api/v1/auth/me/invitations/*/accept", GH_POST, gh_h_invitation_accept, AUTH | CSRF | SELF,
     ON_IO_POOL, "user:write"},
    {"/api/v1/auth/me/invitations/*/decline", GH_POST, gh_h_invitation_decline, AUTH | CSRF | SELF,
     ON_IO_POOL, "user:write"},
    {"/api/v1/orgs/*/roles", GH_GET, gh_h_role_list, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/orgs/*/roles", GH_POST, gh_h_role_create, JSON_BODY | AUTH | CSRF, ON_IO_POOL, NULL},
    {"/api/v1/orgs/*/roles/*", GH_PATCH, gh_h_role_update, JSON_BODY | AUTH | CSRF, ON_IO_POOL,
     NULL},
    {"/api/v1/orgs/*/roles/*", GH_DELETE, gh_h_role_delete, AUTH | CSRF, ON_IO_POOL, NULL},
    /* Superadmins, or user:admin for the members of the caller's org (the service). */
    {"/api/v1/users", GH_GET, gh_h_user_list, AUTH, ON_IO_POOL, "user:admin"},
    {"/api/v1/users/*", GH_GET, gh_h_user_get, AUTH, ON_IO_POOL, "user:admin"},
    {"/api/v1/users/*", GH_PATCH, gh_h_user_update, JSON_BODY | AUTH | CSRF, ON_IO_POOL,
     "user:admin"},
    {"/api/v1/users/*", GH_DELETE, gh_h_user_delete, AUTH | CSRF, ON_IO_POOL, "user:admin"},
    /* SSO identity providers: superadmins only (the service). */
    {"/api/v1/sso/providers", GH_GET, gh_h_sso_provider_list, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/sso/providers", GH_POST, gh_h_sso_provider_create,
     JSON_BODY | LONG_STRINGS | AUTH | CSRF, ON_IO_POOL, NULL},
    {"/api/v1/sso/providers/*", GH_GET, gh_h_sso_provider_get, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/sso/providers/*", GH_PATCH, gh_h_sso_provider_update,
     JSON_BODY | LONG_STRINGS | AUTH | CSRF, ON_IO_POOL, NULL},
    {"/api/v1/sso/providers/*", GH_DELETE, gh_h_sso_provider_delete, AUTH | CSRF, ON_IO_POOL, NULL},
    /* Address blocks: superadmins or edge:admin (the handlers). */
    {"/api/v1/edge/blocks", GH_GET, gh_h_block_list, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/edge/blocks", GH_POST, gh_h_block_create, JSON_BODY | AUTH | CSRF, ON_IO_POOL, NULL},
    {"/api/v1/edge/blocks/*", GH_DELETE, gh_h_block_delete, AUTH | CSRF, ON_IO_POOL, NULL},
    /* Signing in through identity providers: their calls wait on the SSO pool. */
    {"/api/v1/auth/sso/authorize", GH_GET, gh_h_sso_authorize, PAGE, ON_SSO_POOL, NULL},
    {"/api/v1/auth/sso/callback", GH_GET, gh_h_sso_callback, PAGE, ON_SSO_POOL, NULL},
    {"/api/v1/auth/oauth/login", GH_POST, gh_h_oauth_login, JSON_BODY, ON_SSO_POOL, NULL},
    /* SAML: the IdP posts to the ACS from its own site, so no CSRF token: the single-use
     * RelayState bound to the browser's gh_saml cookie stands in for it. Its sign-in waits
     * on lasso (one lock, XML signatures) and so on the SSO pool, as OIDC's does. */
    {"/api/v1/auth/saml/metadata", GH_GET, gh_h_saml_metadata, 0, ON_IO_POOL, NULL},
    {"/api/v1/auth/saml/login", GH_GET, gh_h_saml_login, PAGE, ON_SSO_POOL, NULL},
    {"/api/v1/auth/saml/acs", GH_POST, gh_h_saml_acs, FORM_BODY | LONG_STRINGS | PAGE, ON_SSO_POOL,
     NULL},
    /* audit:read, within the caller's org unless a superadmin: the handler decides. */
    {"/api/v1/audit/logs", GH_GET, gh_h_audit_logs, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/audit/verify", GH_GET, gh_h_audit_verify, AUTH, ON_IO_POOL, NULL},
    /* audit:write in the body's org (default: the caller's): the handler decides. Metadata
     * strings may be as long as the 8 KiB the whole object may take. */
    {"/api/v1/audit/events", GH_POST, gh_h_audit_event_create,
     JSON_BODY | AUTH | CSRF | LONG_STRINGS, ON_IO_POOL, NULL},
    /* The sign-in portal (PAGE: the pages' CSP). Its handlers find the session themselves
     * and send a browser without one to /login; posts carry the session's CSRF token. */
    {"/static/gatehouse.css", GH_GET, gh_h_stylesheet, 0, ON_LOOP, NULL},
    {"/login", GH_GET, gh_h_login_page, PAGE, ON_IO_POOL, NULL},
    {"/login", GH_POST, gh_h_login_post, FORM_BODY | PAGE, ON_HASH_POOL, NULL},
    {"/login/mfa", GH_GET, gh_h_login_mfa_page, PAGE, ON_LOOP, NULL},
    {"/login/mfa", GH_POST, gh_h_login_mfa_post, FORM_BODY | PAGE, ON_IO_POOL, NULL},
    {"/register", GH_GET, gh_h_register_page, PAGE, ON_LOOP, NULL},
    {"/register", GH_POST, gh_h_register_post, FORM_BODY | PAGE, ON_HASH_POOL, NULL},
    {"/logout", GH_POST, gh_h_logout_page, FORM_BODY | PAGE, ON_IO_POOL, NULL},
    {"/account", GH_GET, gh_h_account_page, PAGE, ON_IO_POOL, NULL},
    {"/admin", GH_GET, gh_h_admin_page, PAGE, ON_IO_POOL, NULL},
    {"/account/password", GH_POST, gh_h_account_password, FORM_BODY | PAGE, ON_HASH_POOL, NULL},
    {"/account/mfa/setup", GH_POST, gh_h_account_mfa_setup, FORM_BODY | PAGE, ON_IO_POOL, NULL},
    {"/account/mfa/confirm", GH_POST, gh_h_account_mfa_confirm, FORM_BODY | PAGE, ON_IO_POOL, NULL},
    {"/account/mfa/disable", GH_POST, gh_h_account_mfa_disable, FORM_BODY | PAGE, ON_HASH_POOL,
     NULL},
    {"/account/reauth", GH_POST, gh_h_account_reauth, FORM_BODY | PAGE, ON_HASH_POOL, NULL},
    {"/account/keys", GH_POST, gh_h_account_key_create, FORM_BODY | PAGE, ON_IO_POOL, NULL},
    {"/account/keys/revoke", GH_POST, gh_h_account_key_revoke, FORM_BODY | PAGE, ON_IO_POOL, NULL},
    {"/account/invitations/accept", GH_POST, gh_h_account_invitation_accept, FORM_BODY | PAGE,
     ON_IO_POOL, NULL},
    {"/account/invitations/decline", GH_POST, gh_h_account_invitation_decline, FORM_BODY | PAGE,
     ON_IO_POOL, NULL},
    {"/account/sessions/revoke", GH_POST, gh_h_account_session_revoke, FORM_BODY | PAGE, ON_IO_POOL,
     NULL},
    {"/account/identities/unlink", GH_POST, gh_h_account_identity_unlink, FORM_BODY | PAGE,
     ON_IO_POOL, NULL},
    /* Allowlisted addresses, or metrics:read: see groups below. */
    /* Data protection (issue 14): the org's permission is checked by the handlers. */
    {"/api/v1/crypto/encrypt", GH_POST, gh_h_crypto_encrypt, JSON_BODY | AUTH | LONG_STRINGS,
     ON_IO_POOL, NULL},
    {"/api/v1/crypto/decrypt", GH_POST, gh_h_crypto_decrypt, JSON_BODY | AUTH | LONG_STRINGS,
     ON_IO_POOL, NULL},
    {"/api/v1/crypto/rewrap", GH_POST, gh_h_crypto_rewrap, JSON_BODY | AUTH | LONG_STRINGS,
     ON_IO_POOL, NULL},
    {"/api/v1/orgs/*/vault", GH_GET, gh_h_vault_list, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/orgs/*/vault/*", GH_PUT, gh_h_vault_put, JSON_BODY | AUTH | LONG_STRINGS, ON_IO_POOL,
     NULL},
    {"/api/v1/orgs/*/vault/*", GH_GET, gh_h_vault_get, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/orgs/*/vault/*", GH_DELETE, gh_h_vault_delete, AUTH, ON_IO_POOL, NULL},
    {"/api/v1/sys/unseal", GH_POST, gh_h_unseal, JSON_BODY | SEALED_OK, ON_IO_POOL, NULL},

    {"/metrics", GH_GET, gh_h_metrics, 0, ON_IO_POOL, NULL},
};

/*
 * Route groups behind an address allowlist, matched by path prefix before routing so
 * that routes added under a prefix later are covered. A caller outside the list is
 * refused 403 ip_not_allowed, unless the group names a permission that the caller's
 * credential carries.
 */
static const struct route_group {
    const char *prefix; /* the path itself, or anything under it */
    size_t list;        /* offset of the struct gh_cidr_list in struct gh_config */
    const char *or_permission;
    const char *message;
} groups[] = {
    {"/api/v1/users", offsetof(struct gh_config, admin_allowed), NULL,
     "the admin API is not served to this address"},
    {"/api/v1/audit", offsetof(struct gh_config, admin_allowed), NULL,
     "the admin API is not served to this address"},
    {"/api/v1/sys", offsetof(struct gh_config, admin_allowed), NULL,
     "the admin API is not served to this address"},
    {"/admin", offsetof(struct gh_config, admin_allowed), NULL,
     "the admin pages are not served to this address"},
    {"/api/v1/sso/providers", offsetof(struct gh_config, admin_allowed), NULL,
     "the admin API is not served to this address"},
    {"/api/v1/edge", offsetof(struct gh_config, admin_allowed), NULL,
     "the admin API is not served to this address"},
    {"/metrics", offsetof(struct gh_config, metrics_allowed), "metrics:read",
     "metrics are served to allowed addresses or callers with metrics:read"},
};

/* Rate-limit classes: which of a client's counters a request counts against. */
enum rl_class {
    RL_GLOBAL, /* rate_limit.global: every route without a stricter limit */
    RL_AUTH,   /* rate_limit.auth: login, registration, MFA, refresh, together */
    RL_ROUTE,  /* RL_ROUTE + i: override i of rate_limit.routes, per route */
};
#define RL_UNKNOWN_CLIENT 0x80000000u /* or'ed in: the client's address is unknown */

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* The route index (api/router.h), built once on first use and read-only after. */
static struct gh_router router;
static const char *route_paths[NROUTES];
static pthread_once_t router_once = PTHREAD_ONCE_INIT;

static void router_build(void)
{
    for (size_t i = 0; i < NROUTES; i++)
        route_paths[i] = routes[i].path;
    /* A constant table within the router's bounds (tests/unit/api/test_router.c). */
    if (gh_router_init(&router, route_paths, NROUTES) != GH_OK)
        abort();
}

/*
 * The first route of the path that takes the request's method (in table order), or NULL;
 * *allowed gets the methods of the path's routes before it (all of them when NULL).
 */
static const struct route *find_route(const struct gh_req *req, unsigned *allowed)
{
    uint8_t match[GH_ROUTER_MAX];
    (void)pthread_once(&router_once, router_build);
    size_t n = gh_router_match(&router, req->path, match);
    *allowed = 0;
    for (size_t k = 0; k < n; k++) {
        const struct route *r = &routes[match[k]];
        unsigned methods = r->methods;
        if (methods & GH_GET)
            methods |= GH_HEAD; /* HEAD works wherever GET does */
        if ((r->flags & ANY_METHOD) || (methods & req->method))
            return r;
        *allowed |= r->methods;
    }
    return NULL;
}

static const char *const method_names[] = {"GET",   "HEAD",   "POST",   "PUT",
                                           "PATCH", "DELETE", "OPTIONS"};

static void reply_not_allowed(struct gh_req *req, unsigned methods)
{
    char allow[64] = "";
    size_t used = 0;
    if (methods & GH_GET)
        methods |= GH_HEAD;
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++) {
        if (!(methods & (1u << i)))
            continue;
        size_t n = strlen(method_names[i]);
        if (used + n + 3 > sizeof(allow))
            break;
        if (used > 0) {
            memcpy(allow + used, ", ", 2);
            used += 2;
        }
        memcpy(allow + used, method_names[i], n + 1);
        used += n;
    }
    gh_reply_error(req, 405, "method_not_allowed", "method not allowed on this resource", NULL);
    gh_reply_header(req, "Allow", allow);
}

int gh_api_allowed(struct gh_req *req, const char *permission)
{
    const struct gh_identity *who = gh_api_identity(req);
    if (gh_authz_decide(who, who->perms, permission, NULL, NULL))
        return 1;
    gh_api_deny(req, permission);
    return 0;
}

void gh_api_deny(struct gh_req *req, const char *permission)
{
    gh_api_deny_in(req, permission, NULL);
}

void gh_api_deny_in(struct gh_req *req, const char *permission, const char *org_id)
{
    const struct gh_identity *who = gh_api_identity(req);
    struct gh_app *app = req->app;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    struct gh_audit_subject subject = {who->user_id, who->username,
                                       org_id != NULL ? org_id : who->org_id};
    char metadata[GH_PERM_MAX + 32];
    (void)snprintf(metadata, sizeof(metadata), "{\"permission\":\"%s\"}", permission);
    gh_audit_record_async(app->io_pool, &app->store, "PERMISSION_DENIED", &meta, &subject, 403,
                          metadata);
    gh_reply_error(req, 403, "forbidden", "the caller lacks a permission this needs", NULL);
}

void gh_api_meta(const struct gh_req *req, struct gh_reqmeta *meta)
{
    meta->request_id = req->request_id;
    meta->ip = req->client_ip;
    meta->user_agent = gh_req_header(req, "User-Agent");
    meta->method = req->method_name;
    meta->path = req->path;
}

int gh_api_string_field(struct gh_req *req, const char *key, int required, const char **out,
                        size_t *len)
{
    gh_err err = gh_json_string(req->json, key, out, len);
    if (err == GH_OK || (err == GH_ERR_NOT_FOUND && !required)) {
        if (err != GH_OK) {
            *out = NULL;
            *len = 0;
        }
        return 0;
    }
    json_t *details = json_pack("{s:s}", "field", key);
    gh_reply_error(req, 400, "invalid_request",
                   err == GH_ERR_NOT_FOUND ? "a required field is missing"
                                           : "a field has the wrong type",
                   details);
    return -1;
}

static void reply_invalid(struct gh_req *req, const char *field, const char *why)
{
    gh_reply_error(req, 400, "invalid_request", why, json_pack("{s:s}", "field", field));
}

int gh_api_string_array(struct gh_req *req, const char *field, const char **items, size_t max,
                        size_t *n, int *present)
{
    json_t *a = json_object_get(req->json, field);
    *n = 0;
    *present = a != NULL && !json_is_null(a);
    if (!*present)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > max) {
        reply_invalid(req, field, json_is_array(a) ? "too many items" : "expected an array");
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        if (s == NULL || strlen(s) != json_string_length(v)) {
            reply_invalid(req, field, "expected an array of strings");
            return -1;
        }
        items[i] = s;
    }
    *n = json_array_size(a);
    return 0;
}

#define LIST_DEFAULT 100
#define LIST_MAX 1000

/* Reads a non-negative integer query argument; answers 400 on a bad one. */
static int query_count(struct gh_req *req, const char *name, size_t def, size_t max, size_t *out)
{
    const char *v = gh_req_query(req, name);
    *out = def;
    if (v == NULL)
        return 0;
    char *end = NULL;
    unsigned long long n = strtoull(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || *end != '\0' || n > max || (n == 0 && max == LIST_MAX)) {
        reply_invalid(req, name, "expected a whole number in range");
        return -1;
    }
    *out = (size_t)n;
    return 0;
}

int gh_api_page(struct gh_req *req, size_t *limit, size_t *offset)
{
    return query_count(req, "limit", LIST_DEFAULT, LIST_MAX, limit) ||
           query_count(req, "offset", 0, (size_t)1 << 40, offset);
}

int gh_api_list_add(struct gh_api_list *l, json_t *item)
{
    if (++l->seen > l->limit) {
        json_decref(item);
        return 1;
    }
    json_array_append_new(l->items, item);
    return 0;
}

void gh_api_reply_page(struct gh_req *req, json_t *items, size_t seen, size_t limit, size_t offset)
{
    json_t *next = seen > limit ? json_integer((json_int_t)(offset + limit)) : json_null();
    gh_reply_json(req, 200, json_pack("{s:o, s:o}", "items", items, "next_offset", next));
}

int gh_api_path_id(struct gh_req *req, size_t index, char out[GH_UUID_LEN + 1])
{
    const char *p = req->path;
    for (size_t i = 0; i <= index && p != NULL; i++) {
        p = strchr(p, '/');
        if (p != NULL)
            p++;
    }
    size_t n = p != NULL ? strcspn(p, "/") : 0;
    if (n != GH_UUID_LEN || !gh_uuid_valid(p, n)) {
        gh_reply_error(req, 404, "not_found", "no such resource", NULL);
        return -1;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static int under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The limiter key of the request's client. Clients without an address (GH_CLIENT_UNKNOWN)
 * share one counter per class, kept apart from "::" (the all-zero address) by the class. */
static void client_key(const struct gh_req *req, uint32_t cls, struct gh_rl_key *key)
{
    memset(key, 0, sizeof(*key));
    key->cls = cls;
    if (gh_ip_parse(req->client_ip, strlen(req->client_ip), key->addr) != GH_OK) {
        memset(key->addr, 0, sizeof(key->addr));
        key->cls |= RL_UNKNOWN_CLIENT;
    }
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Audits a refusal that a flood repeats (rate limit, allowlist). The trail aggregates
 * repeats of one action, address, user and metadata into one record per window and a
 * summary with their count (audit.aggregate_window), so metadata must not vary between
 * repeats. metadata_head is the JSON object's members.
 */
static void audit_denial(struct gh_req *req, const char *action, int status,
                         const char *metadata_head)
{
    struct gh_app *app = req->app;
    char metadata[128];
    (void)snprintf(metadata, sizeof(metadata), "{%s}", metadata_head);
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    const struct gh_identity *who = gh_api_identity(req);
    struct gh_audit_subject subject = {who != NULL ? who->user_id : NULL,
                                       who != NULL ? who->username : NULL,
                                       who != NULL ? who->org_id : NULL};
    gh_audit_record_async(app->io_pool, &app->store, action, &meta, &subject, status, metadata);
}

/*
 * Refuses a client whose address is blocked (edge/blocks.h), on every route: one hash
 * probe per prefix length in use, nothing when no block exists. 1 when it did.
 */
static int refused_by_block(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_block_hit hit;
    if (app->blocks == NULL || !req->client_known ||
        !gh_blocks_match(app->blocks, req->client, &hit))
        return 0;
    char head[128];
    (void)snprintf(head, sizeof(head), "\"reason\":\"ip_blocked\",\"block_id\":\"%s\"", hit.id);
    audit_denial(req, "PERMISSION_DENIED", 403, head);
    gh_reply_error(req, 403, "ip_blocked", "requests from this address are blocked", NULL);
    return 1;
}

/* Refuses callers outside the allowlist of the request's route group; 1 when it did. */
static int refused_by_allowlist(struct gh_req *req)
{
    struct gh_app *app = req->app;
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        const struct route_group *g = &groups[i];
        if (!under(req->path, g->prefix))
            continue;
        const struct gh_cidr_list *list =
            (const struct gh_cidr_list *)((const char *)&app->cfg + g->list);
        if (gh_cidr_list_match_text(list, req->client_ip))
            return 0;
        struct gh_credential cred;
        int r = g->or_permission != NULL ? gh_credential_find(req, GH_SOURCES_API, NULL, &cred) : 1;
        if (r < 0)
            return 1;
        if (r == 0) {
            gh_err err = gh_credential_prove(req, &cred);
            if (err != GH_OK) {
                gh_credential_reply_unproven(req, err, 1, 0);
                return 1;
            }
            /* The group's permission covers all of Gatehouse, not one org. */
            if (gh_authz_global(gh_api_identity(req), g->or_permission,
                                gh_auth_default_org(app->auth)))
                return 0;
        }
        audit_denial(req, "PERMISSION_DENIED", 403, "\"reason\":\"ip_not_allowed\"");
        gh_reply_error(req, 403, "ip_not_allowed", g->message, NULL);
        return 1;
    }
    return 0;
}

/* Login, registration, refresh, MFA (every path under /api/v1/auth/mfa), re-authentication. */
static int is_auth_path(const struct gh_req *req)
{
    const char *path = req->path;
    return strcmp(path, "/api/v1/auth/login") == 0 || strcmp(path, "/api/v1/auth/register") == 0 ||
           strcmp(path, "/api/v1/auth/refresh") == 0 || under(path, "/api/v1/auth/mfa") ||
           strcmp(path, "/api/v1/auth/oauth/login") == 0 ||
           strcmp(path, "/api/v1/auth/reauth") == 0 ||
           (req->method == GH_POST &&
            (strcmp(path, "/login") == 0 || strcmp(path, "/login/mfa") == 0 ||
             strcmp(path, "/register") == 0 || strcmp(path, "/account/reauth") == 0));
}

/* Logs and audits a change of the limiter backend's state (once per outage). */
static void backend_changed(struct gh_req *req, enum gh_rl_event event)
{
    struct gh_app *app = req->app;
    const char *name = gh_ratelimit_backend_name(app->ratelimit);
    const char *mode = gh_ratelimit_failure(app->ratelimit) == GH_RL_FAIL_OPEN ? "open" : "closed";
    int down = event == GH_RL_EVENT_DOWN;
    if (down)
        gh_log(GH_LOG_WARN, "rate limit: the %s backend does not answer; failing %s until it does",
               name, mode);
    else
        gh_log(GH_LOG_INFO, "rate limit: the %s backend answers again", name);
    char metadata[96];
    (void)snprintf(metadata, sizeof(metadata), "{\"backend\":\"%s\",\"failure\":\"%s\"}", name,
                   mode);
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_audit_record_async(app->io_pool, &app->store,
                          down ? "RATE_LIMIT_BACKEND_DOWN" : "RATE_LIMIT_BACKEND_UP", &meta, NULL,
                          down ? 503 : 200, metadata);
}

/*
 * Counts the request against its client's limit: the route's override, else the auth
 * limit for auth routes, else the global one. Sets the X-RateLimit-* headers; answers
 * 429 (or 503 when the backend failed closed) and returns 1 when the request may not go on.
 */
static int refused_by_rate_limit(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const struct gh_config *cfg = &app->cfg;
    if (app->ratelimit == NULL)
        return 0;
    struct gh_rate rate = {cfg->rl_global, 60};
    uint32_t cls = RL_GLOBAL;
    const char *which = "global";
    int o = gh_rl_routes_find(app->rl_route, app->rl_nroutes, req->method_name, req->path);
    if (o >= 0) {
        rate = app->rl_route[o].rate;
        cls = RL_ROUTE + (uint32_t)o;
        which = "route";
    } else if (is_auth_path(req)) {
        rate.limit = cfg->rl_auth;
        cls = RL_AUTH;
        which = "auth";
    }
    if (rate.limit == 0)
        return 0;
    struct gh_rl_key key;
    client_key(req, cls, &key);
    struct gh_rl_result res;
    gh_ratelimit_check(app->ratelimit, &key, rate, now_us(), &res);
    if (res.event != GH_RL_EVENT_NONE)
        backend_changed(req, res.event);
    if (res.backend_failed) {
        if (app->metrics != NULL)
            gh_metrics_count(app->metrics, GH_RATE_LIMIT_BACKEND_ERRORS);
        if (res.allowed)
            return 0;
        gh_reply_error(req, 503, "unavailable", "rate limiting is unavailable, retry shortly",
                       NULL);
        gh_reply_header(req, "Retry-After", "1");
        return 1;
    }
    char text[24];
    (void)snprintf(text, sizeof(text), "%u", (unsigned)res.verdict.limit);
    gh_reply_header(req, "X-RateLimit-Limit", text);
    (void)snprintf(text, sizeof(text), "%u", (unsigned)res.verdict.remaining);
    gh_reply_header(req, "X-RateLimit-Remaining", text);
    (void)snprintf(text, sizeof(text), "%lld", (long long)res.verdict.reset);
    gh_reply_header(req, "X-RateLimit-Reset", text);
    if (res.allowed)
        return 0;
    if (app->metrics != NULL)
        gh_metrics_count(app->metrics, GH_RATE_LIMIT_HITS);
    char head[32];
    (void)snprintf(head, sizeof(head), "\"limit\":\"%s\"", which);
    audit_denial(req, "RATE_LIMITED", 429, head);
    gh_reply_error(req, 429, "rate_limited", "too many requests; retry later", NULL);
    (void)snprintf(text, sizeof(text), "%lld", (long long)res.verdict.retry_after);
    gh_reply_header(req, "Retry-After", text);
    return 1;
}

int gh_api_csrf_refused(struct gh_req *req)
{
    const struct gh_app *app = req->app;
    const struct gh_api_req *st = req->user;
    if (st == NULL || st->who == NULL || st->source != GH_SRC_SESSION)
        return 0; /* bearer and API-key callers carry no ambient credential */
    if (app->session.csrf_check != NULL)
        return app->session.csrf_check(app->session.ctx, req) != 0;
    gh_reply_error(req, 403, "csrf_failed", "the CSRF check failed", NULL);
    return 1;
}

int gh_api_sealed(const struct gh_req *req)
{
    const struct gh_app *app = req->app;
    return app->unseal != NULL && atomic_load(&app->datakeys) == NULL;
}

void gh_api_dispatch(struct gh_req *req)
{
    struct gh_app *app = req->app;
    unsigned allowed;

    gh_forward_client_ip(req, &app->cfg.trusted);
    if (refused_by_block(req))
        return;
    const struct route *route = find_route(req, &allowed);
    if (route != NULL)
        req->route = (size_t)(route - routes);
    /* Before any 404 and any credential (the metrics group may prove one): a scan of
     * unknown paths is limited like any flood, and the allowlist goes by path prefix so
     * that routes added later are covered. */
    if (refused_by_rate_limit(req) || refused_by_allowlist(req) || gh_api_cors(req))
        return; /* a CORS preflight is answered here, before any credential */
    if (route == NULL) {
        if (allowed != 0)
            reply_not_allowed(req, allowed);
        else
            gh_reply_error(req, 404, "not_found", "no such resource", NULL);
        return;
    }
    if (!(route->flags & SEALED_OK) && gh_api_sealed(req)) {
        gh_reply_error(req, 503, "unavailable", "the server is sealed", NULL);
        return;
    }
    if (route->flags & PAGE) { /* before the form's refusals: they are pages */
        gh_reply_header(req, "Content-Security-Policy", PAGE_CSP);
        /* a form post then carries Origin: the public origin, not "null" */
        gh_reply_header(req, "Referrer-Policy", "same-origin");
    }
    size_t max_string = app->cfg.max_field_length;
    if ((route->flags & LONG_STRINGS) && max_string < GH_SQL_MAX + 1)
        max_string = GH_SQL_MAX + 1; /* the validator refuses past GH_SQL_MAX itself */
    if ((route->flags & JSON_BODY) && gh_api_read_json(req, app->cfg.max_json_depth, max_string))
        return;
    if ((route->flags & FORM_BODY) && gh_api_read_form(req, max_string))
        return;
    if ((route->flags & AUTH) && gh_credential_authenticate(req) != 0)
        return;
    if ((route->flags & CSRF) && gh_api_csrf_refused(req))
        return;
    if (route->perm != NULL &&
        (!(route->flags & SELF) || gh_api_identity(req)->cred == GH_CRED_API_KEY) &&
        !gh_api_allowed(req, route->perm))
        return;

    switch (route->pool) {
    case ON_HASH_POOL:
        gh_req_defer(req, app->hash_pool, route->handler);
        break;
    case ON_IO_POOL:
        gh_req_defer(req, app->io_pool, route->handler);
        break;
    case ON_SSO_POOL:
        gh_req_defer(req, app->sso_pool, route->handler);
        break;
    case ON_LOOP:
        route->handler(req);
        break;
    }
}

const char *const *gh_api_route_labels(size_t *n)
{
    /* "METHOD path", built once before serving (single-threaded) and read-only after. */
    static char text[NROUTES][96];
    static const char *labels[NROUTES];
    for (size_t i = 0; i < NROUTES; i++) {
        const char *method = "*";
        for (size_t b = 0; b < sizeof(method_names) / sizeof(method_names[0]); b++)
            if (!(routes[i].flags & ANY_METHOD) && (routes[i].methods & (1u << b))) {
                method = method_names[b];
                break;
            }
        (void)snprintf(text[i], sizeof(text[i]), "%s %s", method, routes[i].path);
        labels[i] = text[i];
    }
    *n = NROUTES;
    return labels;
}

void gh_api_observe(struct gh_req *req, uint64_t micros)
{
    struct gh_app *app = req->app;
    if (app->metrics != NULL)
        gh_metrics_observe(app->metrics, req->route == SIZE_MAX ? NROUTES : req->route, req->status,
                           micros);
}

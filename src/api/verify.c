/*
 * ForwardAuth: GET (any method) /api/v1/auth/verify. A reverse proxy asks whether the
 * request it holds may pass; the answer is 200 with the caller's identity in X-Auth-*
 * headers, 401 or 403. The original request (from a trusted proxy only) picks the route
 * rule: public, authenticated, a permission, and whether ?token= is accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/app.h"
#include "api/credential.h"
#include "api/handlers.h"
#include "core/text.h"
#include "edge/forward.h"

#define PATH_STACK 1024

/* An HTTP method token as proxies send it: upper-case letters (RFC 9110 allows more, but
 * no rule can name anything else, and a strange one must not match a looser rule). */
static int method_ok(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > 32)
        return 0;
    for (; *m != '\0'; m++)
        if (*m < 'A' || *m > 'Z')
            return 0;
    return 1;
}

/*
 * 403 before any credential is looked at, audited like every denial. reason is a constant
 * word; the original URI is not recorded (a media link carries a token).
 */
static void deny(struct gh_req *req, const char *reason, const char *message)
{
    struct gh_app *app = req->app;
    struct gh_reqmeta meta;
    char metadata[96];
    gh_api_meta(req, &meta);
    (void)snprintf(metadata, sizeof(metadata), "{\"reason\":\"%s\"}", reason);
    gh_audit_record_async(app->io_pool, &app->store, "PERMISSION_DENIED", &meta, NULL, 403,
                          metadata);
    gh_reply_error(req, 403, "forbidden", message, NULL);
}

static void reply_identity(struct gh_req *req)
{
    const struct gh_identity *who = gh_api_identity(req);
    gh_reply_json(req, 200, NULL);
    gh_reply_header(req, "X-Auth-User-Id", who->user_id);
    gh_reply_header(req, "X-Auth-Username", who->username);
    gh_reply_header(req, "X-Auth-Org-Id", who->org_id);
    gh_reply_header(req, "X-Auth-Roles", who->roles);
    gh_reply_header(req, "X-Auth-Method", gh_credential_method(req));
}

/*
 * A browser's navigation: the portal is on, the original request is a GET or HEAD (nginx's
 * auth_request may not say: GET) and its Accept names text/html. API clients keep 401.
 */
static int browser_navigation(const struct gh_req *req, const struct gh_forwarded *fw)
{
    const struct gh_app *app = req->app;
    const char *accept = gh_req_header(req, "Accept");
    const char *m = fw->method != NULL ? fw->method : "GET";
    return app->cfg.portal_enabled && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) &&
           accept != NULL && strcasestr(accept, "text/html") != NULL;
}

/* The original URL from a trusted proxy's X-Forwarded-Proto/-Host and the original URI,
 * in the arena; NULL when the proxy does not say enough (or says something strange). */
static char *original_url(struct gh_req *req, const struct gh_forwarded *fw)
{
    const struct gh_app *app = req->app;
    const char *host = gh_req_header(req, "X-Forwarded-Host");
    const char *proto = gh_req_header(req, "X-Forwarded-Proto");
    if (fw->uri == NULL || fw->uri[0] != '/' || host == NULL || *host == '\0' ||
        gh_req_header_count(req, "X-Forwarded-Host") > 1 ||
        !gh_forward_peer_trusted(req, &app->cfg.trusted) ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
            strlen(host))
        return NULL;
    if (proto == NULL || (strcmp(proto, "http") != 0 && strcmp(proto, "https") != 0))
        proto = strncmp(app->cfg.public_url, "https://", 8) == 0 ? "https" : "http";
    size_t n = strlen(proto) + 3 + strlen(host) + strlen(fw->uri) + 1;
    char *url = gh_req_alloc(req, n);
    if (url != NULL)
        (void)snprintf(url, n, "%s://%s%s", proto, host, fw->uri);
    return url;
}

/*
 * 302 to the sign-in page, with the original URL to come back to when it is known (the
 * login page follows it only to allowed hosts: edge/origin.h). nginx's auth_request takes
 * only 2xx, 401 and 403 from us (anything else is its 500): asked the nginx way
 * (X-Original-URI), the answer is 401 with the same Location, which the shipped config
 * turns into the redirect (examples/nginx/portal.conf).
 */
static void redirect_to_login(struct gh_req *req, const struct gh_forwarded *fw)
{
    const struct gh_app *app = req->app;
    const char *url = original_url(req, fw);
    size_t cap = url != NULL ? 3 * strlen(url) + 1 : 1;
    char *rd = gh_req_alloc(req, cap);
    size_t n = strlen(app->cfg.public_url) + sizeof("/login?rd=") + cap;
    char *location = gh_req_alloc(req, n);
    if (rd == NULL || location == NULL) {
        gh_api_reply_failure(req, GH_ERR_NOMEM);
        return;
    }
    if (url == NULL || gh_percent_encode(url, rd, cap) != GH_OK)
        rd[0] = '\0';
    (void)snprintf(location, n, "%s/login%s%s", app->cfg.public_url, rd[0] ? "?rd=" : "", rd);
    int nginx = gh_req_header(req, "X-Forwarded-Uri") == NULL &&
                gh_req_header(req, "X-Original-URI") != NULL;
    if (nginx) {
        gh_credential_reply_unproven(req, GH_ERR_AUTH, 0, 1);
    } else {
        gh_reply_json(req, 302, NULL);
    }
    gh_reply_header(req, "Location", location);
}

/* Decides with a normalized original path (NULL: none given) on the caller's identity. */
static void decide(struct gh_req *req, const struct gh_forwarded *fw, char *path)
{
    struct gh_app *app = req->app;
    const struct gh_rule *rule = NULL;
    enum gh_access access = GH_ACCESS_AUTHENTICATED;
    if (path != NULL) {
        if (fw->method != NULL && !method_ok(fw->method)) {
            deny(req, "malformed_method", "the original method is malformed");
            return;
        }
        rule = gh_rules_match(&app->rules, fw->method ? fw->method : "GET", path);
        access = rule ? rule->access : app->rules.fallback;
    }
    if (access == GH_ACCESS_DENY) {
        deny(req, "default_policy", "no route rule lets this request pass");
        return;
    }

    struct gh_credential cred;
    const char *media = rule != NULL && rule->media ? fw->uri : NULL;
    int r = gh_credential_find(req, GH_SOURCES_VERIFY, media, &cred);
    if (r < 0)
        return;
    /* A rule naming an audience also takes gateway tokens for it (authn/gateway.h). */
    const char *aud = rule != NULL && rule->audience[0] != '\0' ? rule->audience : NULL;
    gh_err err = r == 0 ? gh_credential_prove_for(req, &cred, aud) : GH_ERR_AUTH;
    if (err != GH_OK) {
        if (access == GH_ACCESS_PUBLIC) {
            gh_reply_json(req, 200, NULL); /* public: passes, with no identity */
            return;
        }
        if (err != GH_ERR_IO && err != GH_ERR_BUSY && browser_navigation(req, fw)) {
            redirect_to_login(req, fw);
            return;
        }
        gh_credential_reply_unproven(req, err, r == 0, 1);
        return;
    }
    if (access == GH_ACCESS_PERMISSION && !gh_api_allowed(req, rule->permission))
        return;
    reply_identity(req);
}

void gh_h_verify(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_forwarded fw;
    gh_forward_original(req, gh_forward_peer_trusted(req, &app->cfg.trusted), &fw);
    if (fw.conflict) {
        deny(req, "conflicting_headers", "the forwarded headers are repeated or disagree");
        return;
    }
    if (fw.uri == NULL) {
        decide(req, &fw, NULL);
        return;
    }
    char stack[PATH_STACK];
    size_t need = strlen(fw.uri) + 2;
    char *path = need <= sizeof(stack) ? stack : malloc(need);
    if (path == NULL) {
        gh_api_reply_failure(req, GH_ERR_NOMEM);
        return;
    }
    gh_err err = gh_path_normalize(fw.uri, strlen(fw.uri), path, need);
    if (err != GH_OK)
        deny(req, "ambiguous_uri", "the original URI is ambiguous or malformed");
    else
        decide(req, &fw, path);
    if (path != stack)
        free(path);
}

/*
 * ForwardAuth: GET (any method) /api/v1/auth/verify. A reverse proxy asks whether the
 * request it holds may pass; the answer is 200 with the caller's identity in X-Auth-*
 * headers, 401 or 403. The original request (from a trusted proxy only) picks the route
 * rule: public, authenticated, a permission, and whether ?token= is accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/credential.h"
#include "api/handlers.h"
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
    gh_err err = r == 0 ? gh_credential_prove(req, &cred) : GH_ERR_AUTH;
    if (err != GH_OK) {
        if (access == GH_ACCESS_PUBLIC) {
            gh_reply_json(req, 200, NULL); /* public: passes, with no identity */
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

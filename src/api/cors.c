#include "api/cors.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/app.h"

/* The separators of the cors.* lists and of Access-Control-Request-Headers. */
static const char SEP[] = " ,\t";

int gh_cors_listed(const char *list, const char *word, size_t n)
{
    const char *p = list;
    while (*p != '\0') {
        p += strspn(p, SEP);
        size_t len = strcspn(p, SEP);
        if (len > 0 && len == n && strncasecmp(p, word, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* Every header name of the request's comma-separated list is allowed. */
static int headers_allowed(const char *allowed, const char *requested)
{
    const char *p = requested;
    while (*p != '\0') {
        p += strspn(p, SEP);
        size_t len = strcspn(p, SEP);
        if (len > 0 && !gh_cors_listed(allowed, p, len))
            return 0;
        p += len;
    }
    return 1;
}

int gh_api_cors(struct gh_req *req)
{
    const struct gh_config *cfg = &((const struct gh_app *)req->app)->cfg;
    if (cfg->cors_origins[0] == '\0' || strncmp(req->path, "/api/", 5) != 0)
        return 0;
    gh_reply_header(req, "Vary", "Origin"); /* the answer depends on it, cached or not */
    const char *origin = gh_req_header(req, "Origin");
    const char *method = gh_req_header(req, "Access-Control-Request-Method");
    int preflight = req->method == GH_OPTIONS && origin != NULL && method != NULL;
    if (origin == NULL)
        return 0;
    int exact = gh_cors_listed(cfg->cors_origins, origin, strlen(origin));
    int any = !exact && gh_cors_listed(cfg->cors_origins, "*", 1);
    if (strcmp(origin, "null") == 0)
        exact = any = 0; /* sandboxed frames and file: pages share it: never trusted */
    if (preflight) {
        const char *headers = gh_req_header(req, "Access-Control-Request-Headers");
        if ((!exact && !any) || !gh_cors_listed(cfg->cors_methods, method, strlen(method)) ||
            (headers != NULL && !headers_allowed(cfg->cors_headers, headers))) {
            gh_reply_error(req, 403, "cors_refused",
                           "this origin, method or header may not call the API", NULL);
            return 1;
        }
    } else if (!exact && !any) {
        return 0;
    }
    gh_reply_header(req, "Access-Control-Allow-Origin", exact ? origin : "*");
    if (cfg->cors_credentials && exact)
        gh_reply_header(req, "Access-Control-Allow-Credentials", "true");
    if (!preflight) {
        gh_reply_header(req, "Access-Control-Expose-Headers",
                        "X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
                        "X-RateLimit-Reset");
        return 0;
    }
    char age[24];
    (void)snprintf(age, sizeof(age), "%lld", (long long)cfg->cors_max_age);
    gh_reply_header(req, "Access-Control-Allow-Methods", cfg->cors_methods);
    gh_reply_header(req, "Access-Control-Allow-Headers", cfg->cors_headers);
    gh_reply_header(req, "Access-Control-Max-Age", age);
    gh_reply_json(req, 204, NULL);
    return 1;
}

#include "api/cookies.h"

#include <stdio.h>
#include <string.h>

#include "api/app.h"

int gh_api_cookie(const struct gh_req *req, const char *name, const char **val, size_t *len)
{
    size_t nlen = strlen(name);
    const char *found = NULL;
    size_t found_len = 0;
    if (gh_req_header_count(req, "Cookie") > 1)
        return -1;
    for (const char *p = gh_req_header(req, "Cookie"); p != NULL && *p != '\0';) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t n = strcspn(p, ";");
        if (n > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
            if (found != NULL)
                return -1;
            found = p + nlen + 1;
            found_len = n - nlen - 1;
            while (found_len > 0 && found[found_len - 1] == ' ')
                found_len--;
        }
        p += n;
    }
    if (found == NULL || found_len == 0)
        return 1;
    *val = found;
    *len = found_len;
    return 0;
}

/* One Set-Cookie header: name=value with its attributes; max_age < 0 leaves it a
 * browser-session cookie, 0 clears it. */
static void set_cookie(struct gh_req *req, const char *name, const char *value, const char *path,
                       const char *same_site, int http_only, long long max_age)
{
    const struct gh_app *app = req->app;
    const struct gh_config *cfg = &app->cfg;
    char text[512], age[32] = "";
    if (max_age >= 0)
        (void)snprintf(age, sizeof(age), "; Max-Age=%lld", max_age);
    int secure = strncmp(cfg->public_url, "https://", 8) == 0;
    int n = snprintf(text, sizeof(text), "%s=%s; Path=%s%s%s; SameSite=%s%s%s%s", name, value, path,
                     age, http_only ? "; HttpOnly" : "", same_site, secure ? "; Secure" : "",
                     cfg->cookie_domain[0] != '\0' ? "; Domain=" : "", cfg->cookie_domain);
    if (n < 0 || (size_t)n >= sizeof(text)) {
        gh_reply_error(req, 500, "internal", "internal error", NULL);
        return;
    }
    gh_reply_header(req, "Set-Cookie", text);
}

void gh_api_set_session_cookies(struct gh_req *req, const struct gh_signin_result *r)
{
    const struct gh_app *app = req->app;
    long long ttl = (long long)app->cfg.session_absolute;
    set_cookie(req, "gh_sid", r->sid, "/", "Lax", 1, ttl);
    set_cookie(req, "gh_rid", r->pair.refresh_token, "/api/v1/auth", "Strict", 1, ttl);
    set_cookie(req, "gh_csrf", r->csrf, "/", "Lax", 0, ttl);
}

void gh_api_set_refresh_cookie(struct gh_req *req, const char *refresh_token)
{
    const struct gh_app *app = req->app;
    set_cookie(req, "gh_rid", refresh_token, "/api/v1/auth", "Strict", 1,
               (long long)app->cfg.session_absolute);
}

void gh_api_clear_session_cookies(struct gh_req *req)
{
    set_cookie(req, "gh_sid", "", "/", "Lax", 1, 0);
    set_cookie(req, "gh_rid", "", "/api/v1/auth", "Strict", 1, 0);
    set_cookie(req, "gh_csrf", "", "/", "Lax", 0, 0);
}

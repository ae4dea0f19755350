/* An OpenID provider's discovery document (oidc_meta.h). */
#include <string.h>
#include <jansson.h>

#include "authn/oidc_meta.h"
#include "authn/sso_check.h"
#include "core/log.h"
#include "edge/fetch.h"

/* Copies URL member name into dst when it is acceptable; "" when absent and optional. */
static int url_member(const json_t *doc, const char *name, int required, char *dst, size_t size)
{
    const json_t *v = json_object_get(doc, name);
    dst[0] = '\0';
    if (v == NULL && !required)
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= size ||
        strlen(json_string_value(v)) != json_string_length(v) ||
        !gh_ssop_url_ok(json_string_value(v)))
        return -1;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

/* 1 when the array member name lists word, or is absent (then absent_means). */
static int lists(const json_t *doc, const char *name, const char *word, int absent_means)
{
    const json_t *arr = json_object_get(doc, name);
    size_t i;
    const json_t *v;
    if (arr == NULL)
        return absent_means;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), word) == 0)
            return 1;
    }
    return 0;
}

gh_err gh_oidc_meta_parse(const char *text, size_t n, const char *issuer, struct gh_oidc_meta *out,
                          const char **field)
{
    struct gh_oidc_meta m;
    const char *bad = NULL;
    if (n > GH_OIDC_META_MAX)
        return GH_ERR_TOO_LARGE;
    json_t *doc = json_loadb(text, n, JSON_REJECT_DUPLICATES, NULL);
    memset(&m, 0, sizeof(m));
    if (!json_is_object(doc))
        bad = "";
    else if (url_member(doc, "issuer", 1, m.issuer, sizeof(m.issuer)) != 0 ||
             strcmp(m.issuer, issuer) != 0)
        bad = "issuer";
    else if (url_member(doc, "authorization_endpoint", 1, m.authorization_endpoint,
                        sizeof(m.authorization_endpoint)) != 0)
        bad = "authorization_endpoint";
    else if (url_member(doc, "token_endpoint", 1, m.token_endpoint, sizeof(m.token_endpoint)) != 0)
        bad = "token_endpoint";
    else if (url_member(doc, "userinfo_endpoint", 0, m.userinfo_endpoint,
                        sizeof(m.userinfo_endpoint)) != 0)
        bad = "userinfo_endpoint";
    else if (url_member(doc, "jwks_uri", 1, m.jwks_uri, sizeof(m.jwks_uri)) != 0)
        bad = "jwks_uri";
    else if (url_member(doc, "introspection_endpoint", 0, m.introspection_endpoint,
                        sizeof(m.introspection_endpoint)) != 0)
        bad = "introspection_endpoint";
    if (bad == NULL) {
        m.s256 = lists(doc, "code_challenge_methods_supported", "S256", 1);
        m.secret_post =
            lists(doc, "token_endpoint_auth_methods_supported", "client_secret_post", 0);
    }
    json_decref(doc);
    if (bad != NULL) {
        if (field != NULL)
            *field = bad;
        return GH_ERR_INVALID;
    }
    *out = m;
    return GH_OK;
}

#define WELL_KNOWN "/.well-known/openid-configuration"
#define TEMPLATE "{tenantid}"

gh_err gh_oidc_meta_fetch(struct gh_fetch *f, const struct gh_sso_provider *p, long timeout_ms,
                          struct gh_oidc_meta *out, const char **why)
{
    char url[GH_SSO_URL_MAX + sizeof(p->tenant) + sizeof(WELL_KNOWN)], reason[128];
    const char *at = strstr(p->issuer, TEMPLATE);
    size_t head = at != NULL ? (size_t)(at - p->issuer) : strlen(p->issuer);
    int n = snprintf(url, sizeof(url), "%.*s%s%s", (int)head, p->issuer,
                     at != NULL ? p->tenant : "", at != NULL ? at + strlen(TEMPLATE) : "");
    if (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
    if (n <= 0 || (size_t)n + sizeof(WELL_KNOWN) > sizeof(url))
        return GH_ERR_INTERNAL;
    memcpy(url + n, WELL_KNOWN, sizeof(WELL_KNOWN));
    struct gh_fetch_req rq = {.url = url, .timeout_ms = timeout_ms, .max_bytes = GH_OIDC_META_MAX};
    struct gh_fetch_resp doc = {0, NULL, 0};
    gh_err err = gh_fetch_do(f, &rq, &doc, reason, sizeof(reason));
    if (err == GH_ERR_NOMEM)
        return err;
    *why = "unreachable";
    if (err != GH_OK || doc.status != 200 || doc.body == NULL) {
        gh_log(GH_LOG_WARN, "sso: provider %s: discovery: %s", p->name,
               err != GH_OK ? reason : "not a 200 with a body");
        gh_fetch_resp_clear(&doc);
        return GH_ERR_IO;
    }
    const char *field = "";
    err = gh_oidc_meta_parse(doc.body, doc.len, p->issuer, out, &field);
    gh_fetch_resp_clear(&doc);
    if (err != GH_OK) {
        gh_log(GH_LOG_WARN, "sso: provider %s: discovery document refused (%s)", p->name,
               field[0] != '\0' ? field : "not a JSON object");
        *why = "invalid_discovery";
        return GH_ERR_INVALID;
    }
    return GH_OK;
}

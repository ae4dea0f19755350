/* The rules of an SSO provider's values (sso_check.h). */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "authn/sso_check.h"

/* What a preset gives a new provider; "%s" is its tenant (Microsoft) or domain (Okta). */
struct preset {
    const char *name;
    const char *default_tenant; /* NULL: a tenant is required; "" none is taken */
    const char *issuer, *authorization, *token, *userinfo;
    const char *tokeninfo; /* NULL: none (only Google has one) */
};
static const struct preset presets[] = {
    {"google", "", "https://accounts.google.com", "https://accounts.google.com/o/oauth2/v2/auth",
     "https://oauth2.googleapis.com/token", "https://openidconnect.googleapis.com/v1/userinfo",
     "https://oauth2.googleapis.com/tokeninfo"},
    /* Multi-tenant apps (common, organizations, consumers) get tokens whose iss names the
     * user's tenant: their issuer keeps {tenantid}, which the ID-token check fills from the
     * token's tid (see multi_tenant). */
    {"microsoft", "common", "https://login.microsoftonline.com/%s/v2.0",
     "https://login.microsoftonline.com/%s/oauth2/v2.0/authorize",
     "https://login.microsoftonline.com/%s/oauth2/v2.0/token",
     "https://graph.microsoft.com/oidc/userinfo", NULL},
    {"okta", NULL, "https://%s", "https://%s/oauth2/v1/authorize", "https://%s/oauth2/v1/token",
     "https://%s/oauth2/v1/userinfo", NULL},
};

#define DEFAULT_SCOPES "openid email profile"

static int in(const char *s, const char *const *set)
{
    for (; *set != NULL; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

/* 1..max characters, each a lower-case letter, digit, '_' or '-'. */
static int name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

#define HOST_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"

/* A host name or tenant: 1..253 of [A-Za-z0-9.-], no leading dot or dash. */
static int host_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 253 && s[0] != '.' && s[0] != '-' && strspn(s, HOST_CHARS) == n;
}

/* Printable ASCII without blanks, 1..max bytes (client ids, secrets, scopes). */
static int token_ok(const char *s, size_t max, int spaces)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < (spaces ? 0x20 : 0x21) || s[i] > 0x7e)
            return 0;
    return 1;
}

/* A claim path: dot-separated names of [A-Za-z0-9_:-], none empty, 1..63 bytes. */
static int path_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:.-") == n;
}

/* 1 when host (brackets removed) is a loopback name or address. */
static int loopback(const char *host, size_t n)
{
    char h[64];
    unsigned char a[16];
    if (n == 0 || n >= sizeof(h))
        return 0;
    memcpy(h, host, n);
    h[n] = '\0';
    if (strcasecmp(h, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, h, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, h, a) == 1) {
        static const unsigned char one[16] = {[15] = 1};
        return memcmp(a, one, 16) == 0;
    }
    return 0;
}

int gh_ssop_url_ok(const char *url)
{
    size_t n = strlen(url);
    int https = strncmp(url, "https://", 8) == 0;
    if (n > GH_SSO_URL_MAX || (!https && strncmp(url, "http://", 7) != 0))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (url[i] <= 0x20 || url[i] >= 0x7f || url[i] == '#' || url[i] == '\\')
            return 0;
    const char *auth = url + (https ? 8 : 7);
    size_t alen = strcspn(auth, "/?");
    if (alen == 0 || memchr(auth, '@', alen) != NULL)
        return 0;
    /* The host: [v6] or a name, then an optional :port of digits. */
    const char *host = auth;
    size_t hlen;
    const char *rest;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (close == NULL)
            return 0;
        host = auth + 1;
        hlen = (size_t)(close - host);
        rest = close + 1;
    } else {
        hlen = strcspn(auth, ":/?");
        if (hlen > alen)
            hlen = alen;
        rest = auth + hlen;
        if (strspn(host, HOST_CHARS) < hlen)
            return 0;
    }
    if (hlen == 0)
        return 0;
    size_t left = alen - (size_t)(rest - auth);
    if (left > 0) {
        if (rest[0] != ':' || left == 1 || left > 6 || strspn(rest + 1, "0123456789") != left - 1)
            return 0;
    }
    return https || loopback(host, hlen);
}

/* Copies src into dst[size]; -1 when it does not fit. */
static int put(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* dst = tmpl with its "%s" (if any) replaced by arg; -1 when it does not fit. */
static int put_fmt(char *dst, size_t size, const char *tmpl, const char *arg)
{
    const char *at = strstr(tmpl, "%s");
    if (at == NULL)
        return put(dst, size, tmpl);
    size_t head = (size_t)(at - tmpl), n = strlen(arg), tail = strlen(at + 2);
    if (head + n + tail >= size)
        return -1;
    memcpy(dst, tmpl, head);
    memcpy(dst + head, arg, n);
    memcpy(dst + head + n, at + 2, tail + 1);
    return 0;
}

/* A new provider's starting values, before the spec. */
static void defaults(struct gh_sso_provider *p, int64_t now)
{
    memset(p, 0, sizeof(*p));
    (void)put(p->token_auth, sizeof(p->token_auth), "client_secret_basic");
    (void)put(p->claim_subject, sizeof(p->claim_subject), "sub");
    (void)put(p->claim_email, sizeof(p->claim_email), "email");
    (void)put(p->claim_username, sizeof(p->claim_username), "preferred_username");
    (void)put(p->claim_name, sizeof(p->claim_name), "name");
    (void)put(p->default_role, sizeof(p->default_role), "member");
    p->pkce = 1;
    p->enabled = 1;
    p->created_at = now;
}

/* The fixed parts of a new provider: name, type, preset and tenant, and the preset's
 * defaults. */
static gh_err identity(const struct gh_sso_spec *s, struct gh_sso_provider *p, const char **field)
{
    static const char *const types[] = {"oidc", "oauth2", "saml", NULL};
    const struct preset *ps = NULL;
    if ((*field = "name", s->name == NULL || !name_ok(s->name, GH_SSO_NAME_MAX)) ||
        (*field = "type", s->type == NULL || !in(s->type, types)))
        return GH_ERR_INVALID;
    (void)put(p->name, sizeof(p->name), s->name);
    (void)put(p->type, sizeof(p->type), s->type);
    *field = "preset";
    if (s->preset != NULL) {
        for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
            if (strcmp(presets[i].name, s->preset) == 0)
                ps = &presets[i];
        if (ps == NULL)
            return GH_ERR_INVALID;
        (void)put(p->preset, sizeof(p->preset), ps->name);
    }
    *field = "tenant";
    const char *tenant = s->tenant;
    if (ps == NULL || ps->default_tenant == NULL || ps->default_tenant[0] == '\0') {
        /* Only Microsoft and Okta take one; Okta's is required. */
        if ((ps == NULL || ps->default_tenant != NULL) && tenant != NULL)
            return GH_ERR_INVALID;
        if (ps != NULL && ps->default_tenant == NULL && tenant == NULL)
            return GH_ERR_INVALID;
    } else if (tenant == NULL) {
        tenant = ps->default_tenant;
    }
    if (tenant != NULL) {
        if (!host_ok(tenant) || put(p->tenant, sizeof(p->tenant), tenant) != 0)
            return GH_ERR_INVALID;
    }
    if (ps == NULL)
        return GH_OK;
    static const char *const multi_tenant[] = {"common", "organizations", "consumers", NULL};
    const char *iss_tenant =
        strcmp(ps->name, "microsoft") == 0 && in(tenant, multi_tenant) ? "{tenantid}" : tenant;
    if (put_fmt(p->issuer, sizeof(p->issuer), ps->issuer, iss_tenant) != 0 ||
        put_fmt(p->authorization_endpoint, sizeof(p->authorization_endpoint), ps->authorization,
                tenant) != 0 ||
        put_fmt(p->token_endpoint, sizeof(p->token_endpoint), ps->token, tenant) != 0 ||
        put_fmt(p->userinfo_endpoint, sizeof(p->userinfo_endpoint), ps->userinfo, tenant) != 0 ||
        (ps->tokeninfo != NULL &&
         put(p->tokeninfo_endpoint, sizeof(p->tokeninfo_endpoint), ps->tokeninfo) != 0))
        return GH_ERR_INVALID;
    (void)put(p->scopes, sizeof(p->scopes), DEFAULT_SCOPES);
    return GH_OK;
}

/* A PATCH names the fixed parts only to repeat them. */
static gh_err same_identity(const struct gh_sso_spec *s, const struct gh_sso_provider *p,
                            const char **field)
{
    if ((*field = "name", s->name != NULL && strcmp(s->name, p->name) != 0) ||
        (*field = "type", s->type != NULL && strcmp(s->type, p->type) != 0) ||
        (*field = "preset", s->preset != NULL && strcmp(s->preset, p->preset) != 0) ||
        (*field = "tenant", s->tenant != NULL && strcmp(s->tenant, p->tenant) != 0))
        return GH_ERR_INVALID;
    return GH_OK;
}

/* The n words (each 1..max printable bytes, no blank or '"'), space-separated, into
 * dst[size]. */
static gh_err words(const char *const *w, size_t n, size_t max, char *dst, size_t size)
{
    size_t at = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(w[i]);
        if (!token_ok(w[i], max, 0) || strchr(w[i], '"') != NULL || at + len + 2 > size)
            return GH_ERR_INVALID;
        if (at > 0)
            dst[at++] = ' ';
        memcpy(dst + at, w[i], len + 1);
        at += len;
    }
    return GH_OK;
}

/* 1 when the space-separated list has word. */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *at = list; (at = strstr(at, word)) != NULL; at += n)
        if ((at == list || at[-1] == ' ') && (at[n] == ' ' || at[n] == '\0'))
            return 1;
    return 0;
}

/* The values spec may set on a new or a stored provider. */
static gh_err values(const struct gh_sso_spec *s, struct gh_sso_provider *p, const char **field)
{
    const struct {
        const char *key, *v;
        char *dst;
        size_t size;
    } texts[] = {
        {"issuer", s->issuer, p->issuer, sizeof(p->issuer)},
        {"authorization_endpoint", s->authorization_endpoint, p->authorization_endpoint,
         sizeof(p->authorization_endpoint)},
        {"token_endpoint", s->token_endpoint, p->token_endpoint, sizeof(p->token_endpoint)},
        {"userinfo_endpoint", s->userinfo_endpoint, p->userinfo_endpoint,
         sizeof(p->userinfo_endpoint)},
        {"tokeninfo_endpoint", s->tokeninfo_endpoint, p->tokeninfo_endpoint,
         sizeof(p->tokeninfo_endpoint)},
        {"client_id", s->client_id, p->client_id, sizeof(p->client_id)},
        {"token_auth", s->token_auth, p->token_auth, sizeof(p->token_auth)},
        {"default_role", s->default_role, p->default_role, sizeof(p->default_role)},
        {"claims.subject", s->claim_subject, p->claim_subject, sizeof(p->claim_subject)},
        {"claims.email", s->claim_email, p->claim_email, sizeof(p->claim_email)},
        {"claims.username", s->claim_username, p->claim_username, sizeof(p->claim_username)},
        {"claims.name", s->claim_name, p->claim_name, sizeof(p->claim_name)},
        {"sp_entity_id", s->sp_entity_id, p->sp_entity_id, sizeof(p->sp_entity_id)},
        {"idp_metadata_xml", s->idp_metadata_xml, p->idp_metadata, sizeof(p->idp_metadata)},
        {"idp_metadata_url", s->idp_metadata_url, p->idp_metadata_url, sizeof(p->idp_metadata_url)},
        {"sp_certificate", s->sp_certificate, p->sp_certificate, sizeof(p->sp_certificate)},
    };
    /* the IdP's metadata comes one way: given inline, or fetched (by the registry) */
    *field = "idp_metadata_url";
    if (s->idp_metadata_xml != NULL && s->idp_metadata_url != NULL)
        return GH_ERR_INVALID;
    if (s->idp_metadata_xml != NULL || s->idp_metadata_url != NULL) {
        p->idp_metadata[0] = p->idp_metadata_url[0] = '\0';
        p->idp_metadata_at = 0;
    }
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        *field = texts[i].key;
        if (texts[i].v != NULL && put(texts[i].dst, texts[i].size, texts[i].v) != 0)
            return GH_ERR_INVALID;
    }
    *field = "scopes";
    if (s->has_scopes && words(s->scopes, s->nscopes, 64, p->scopes, sizeof(p->scopes)) != GH_OK)
        return GH_ERR_INVALID;
    *field = "allowed_client_ids";
    if (s->has_clients && words(s->clients, s->nclients, sizeof(p->client_id) - 1,
                                p->allowed_client_ids, sizeof(p->allowed_client_ids)) != GH_OK)
        return GH_ERR_INVALID;
    if (s->pkce >= 0)
        p->pkce = s->pkce;
    if (s->enabled >= 0)
        p->enabled = s->enabled;
    if (s->auto_create_user >= 0)
        p->auto_create_user = s->auto_create_user;
    if (s->link_by_email >= 0)
        p->link_by_email = s->link_by_email;
    if (s->trust_email >= 0)
        p->trust_email = s->trust_email;
    return GH_OK;
}

/* A SAML provider's own values: the IdP's metadata and our certificate (judged whole by
 * the registry, which knows lasso and OpenSSL: sso_providers.c), an entity id that is an
 * absolute URI or URN of printable ASCII, trust_email. Other types carry none (OIDC says
 * email_verified itself). */
static gh_err saml_complete(const struct gh_sso_provider *p, const char **field)
{
    int saml = strcmp(p->type, "saml") == 0;
    if ((*field = "idp_metadata_url",
         p->idp_metadata_url[0] != '\0' && (!saml || !gh_ssop_url_ok(p->idp_metadata_url))) ||
        (*field = "idp_metadata_xml",
         saml != (p->idp_metadata[0] != '\0' || p->idp_metadata_url[0] != '\0')) ||
        (*field = "trust_email", !saml && p->trust_email) ||
        (*field = "sp_certificate", saml != (p->sp_certificate[0] != '\0')) ||
        (*field = "sp_entity_id",
         p->sp_entity_id[0] != '\0' &&
             (!saml || !token_ok(p->sp_entity_id, sizeof(p->sp_entity_id) - 1, 0) ||
              strcspn(p->sp_entity_id, "<>\"'&") != strlen(p->sp_entity_id) ||
              strchr(p->sp_entity_id, ':') == NULL)))
        return GH_ERR_INVALID;
    return GH_OK;
}

/* The whole provider, whatever set its values: each valid, the type's required ones there. */
static gh_err complete(const struct gh_sso_provider *p, const char **field)
{
    static const char *const auths[] = {"client_secret_basic", "client_secret_post", NULL};
    const struct {
        const char *key, *v;
        int required;
    } urls[] = {
        {"issuer", p->issuer, strcmp(p->type, "oidc") == 0},
        {"authorization_endpoint", p->authorization_endpoint, strcmp(p->type, "oauth2") == 0},
        {"token_endpoint", p->token_endpoint, strcmp(p->type, "oauth2") == 0},
        {"userinfo_endpoint", p->userinfo_endpoint, strcmp(p->type, "oauth2") == 0},
        {"tokeninfo_endpoint", p->tokeninfo_endpoint, 0},
    };
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        *field = urls[i].key;
        if (urls[i].v[0] == '\0' ? urls[i].required : !gh_ssop_url_ok(urls[i].v))
            return GH_ERR_INVALID;
    }
    const char *paths[][2] = {{"claims.subject", p->claim_subject},
                              {"claims.email", p->claim_email},
                              {"claims.username", p->claim_username},
                              {"claims.name", p->claim_name}};
    for (size_t i = 0; i < 4; i++) {
        *field = paths[i][0];
        if (!path_ok(paths[i][1]))
            return GH_ERR_INVALID;
    }
    if ((*field = "client_id",
         strcmp(p->type, "saml") != 0 && !token_ok(p->client_id, sizeof(p->client_id) - 1, 0)) ||
        (*field = "token_auth", !in(p->token_auth, auths)) ||
        (*field = "default_role", !token_ok(p->default_role, sizeof(p->default_role) - 1, 0)) ||
        (*field = "scopes", strcmp(p->type, "oidc") == 0 && !has_word(p->scopes, "openid")) ||
        /* a templated issuer takes its tenant from the token: Microsoft's rule, no other's */
        (*field = "issuer",
         strstr(p->issuer, "{tenantid}") != NULL && strcmp(p->preset, "microsoft") != 0) ||
        /* its answer is Google's own shape: Google's rule, no other's */
        (*field = "tokeninfo_endpoint",
         p->tokeninfo_endpoint[0] != '\0' && strcmp(p->preset, "google") != 0))
        return GH_ERR_INVALID;
    return saml_complete(p, field);
}

gh_err gh_ssop_build(const struct gh_sso_spec *spec, const struct gh_sso_provider *base,
                     int64_t now, struct gh_sso_provider *out, char secret[GH_SSO_SECRET_MAX + 1],
                     int *has_secret, const char **field)
{
    struct gh_sso_provider p;
    gh_err err;
    if (base != NULL) {
        p = *base;
        err = same_identity(spec, &p, field);
    } else {
        defaults(&p, now);
        err = identity(spec, &p, field);
        if (err == GH_OK && strcmp(p.type, "oidc") == 0 && p.scopes[0] == '\0')
            (void)put(p.scopes, sizeof(p.scopes), DEFAULT_SCOPES);
    }
    if (err == GH_OK)
        err = values(spec, &p, field);
    if (err == GH_OK)
        err = complete(&p, field);
    if (err == GH_OK && spec->client_secret != NULL &&
        (*field = "client_secret", !token_ok(spec->client_secret, GH_SSO_SECRET_MAX, 0)))
        err = GH_ERR_INVALID;
    if (err != GH_OK)
        return err;
    p.updated_at = now;
    *has_secret = spec->client_secret != NULL;
    if (*has_secret)
        (void)put(secret, GH_SSO_SECRET_MAX + 1, spec->client_secret);
    *out = p;
    return GH_OK;
}

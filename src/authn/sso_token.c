#include "authn/sso_token.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#include "authn/sso_account.h"
#include "authn/sso_client.h"
#include "core/cache.h"
#include "core/time.h"
#include "crypto/b64url.h"

struct gh_ssotok {
    struct gh_ssop *providers;
    struct gh_sso_remote *remote;
    const struct gh_signin *signin;
    size_t cache_size;
    pthread_mutex_t mu; /* making the cache */
    struct gh_cache *_Atomic cache;
};

/* What the cache keeps of a provider's answer. */
struct answer {
    const char *refused; /* NULL, or why the token is refused (a static word) */
    struct gh_sso_identity id;
};

gh_err gh_ssotok_new(struct gh_ssop *providers, struct gh_sso_remote *remote,
                     const struct gh_signin *signin, size_t cache_size, struct gh_ssotok **out)
{
    struct gh_ssotok *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return GH_ERR_NOMEM;
    t->providers = providers;
    t->remote = remote;
    t->signin = signin;
    t->cache_size = cache_size > 0 ? cache_size : 1;
    pthread_mutex_init(&t->mu, NULL);
    *out = t;
    return GH_OK;
}

void gh_ssotok_free(struct gh_ssotok *t)
{
    if (t == NULL)
        return;
    gh_cache_free(t->cache);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* The cache, made on first use (an idle server without provider tokens keeps no memory). */
static struct gh_cache *cache(struct gh_ssotok *t)
{
    struct gh_cache *c = t->cache;
    if (c != NULL)
        return c;
    pthread_mutex_lock(&t->mu);
    if (t->cache == NULL && gh_cache_new(t->cache_size, &c) == GH_OK)
        t->cache = c;
    c = t->cache;
    pthread_mutex_unlock(&t->mu);
    return c;
}

void gh_ssotok_stats(struct gh_ssotok *t, uint64_t *hits, uint64_t *misses)
{
    *hits = *misses = 0;
    if (t->cache != NULL)
        gh_cache_stats(t->cache, hits, misses);
}

/* How long an answer about token may be kept: GH_SSO_TOKEN_CACHE_TTL, or less when the
 * token is a JWT that expires sooner (its exp read, not trusted: it only shortens). */
static int64_t keep_for(const char *token, int64_t now)
{
    const char *dot = strchr(token, '.');
    const char *end = dot != NULL ? strchr(dot + 1, '.') : NULL;
    unsigned char payload[4096];
    size_t n = 0;
    int64_t ttl = GH_SSO_TOKEN_CACHE_TTL;
    if (end == NULL || gh_b64url_decode(dot + 1, (size_t)(end - dot - 1), payload,
                                        sizeof(payload) - 1, &n) != GH_OK)
        return ttl;
    json_t *claims = json_loadb((const char *)payload, n, 0, NULL);
    const json_t *exp = json_object_get(claims, "exp");
    if (json_is_integer(exp) && json_integer_value(exp) - now < ttl)
        ttl = json_integer_value(exp) - now;
    json_decref(claims);
    sodium_memzero(payload, sizeof(payload));
    return ttl;
}

/* Who the provider says holds token: the cache, else the userinfo endpoint (and, with
 * allowed_client_ids, which app it was issued to). */
static gh_err ask(struct gh_ssotok *t, const struct gh_sso_provider *p, const char *token,
                  size_t len, struct gh_sso_identity *id, const char **reason)
{
    unsigned char key[crypto_generichash_BYTES];
    struct answer a;
    size_t n = 0;
    struct gh_cache *c = cache(t);
    int64_t now = gh_time_now();
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(key));
    crypto_generichash_update(&st, (const unsigned char *)p->name, strlen(p->name) + 1);
    crypto_generichash_update(&st, (const unsigned char *)token, len);
    crypto_generichash_final(&st, key, sizeof(key));
    memset(&a, 0, sizeof(a));
    if (c != NULL && gh_cache_get(c, key, sizeof(key), now, &a, sizeof(a), &n) == GH_OK &&
        n == sizeof(a)) {
        const char *refused = a.refused;
        *id = a.id;
        sodium_memzero(&a, sizeof(a));
        *reason = refused;
        return refused != NULL ? GH_ERR_AUTH : GH_OK;
    }
    struct gh_sso_endpoints ep;
    json_t *claims = NULL;
    gh_err err = gh_sso_remote_endpoints(t->remote, p, &ep);
    if (err == GH_OK && ep.userinfo[0] == '\0')
        err = GH_ERR_INVALID;
    if (err == GH_OK)
        err = gh_sso_remote_userinfo(t->remote, ep.userinfo, token, &claims);
    if (err == GH_OK && gh_sso_identity_map(claims, p, &a.id) != GH_OK)
        err = GH_ERR_INVALID;
    json_decref(claims);
    /* with allowed_client_ids, only the tokens of those apps (sso_client.h) */
    const char *why = NULL;
    if (err == GH_OK && p->allowed_client_ids[0] != '\0')
        err = gh_sso_token_client(t->providers, t->remote, p, &ep, token, &why);
    switch (err) {
    case GH_OK:
        break;
    case GH_ERR_AUTH:
        *reason = a.refused = why != NULL ? why : "token_refused";
        break;
    case GH_ERR_INVALID:
        *reason = "provider_answer_invalid";
        return GH_ERR_IO;
    default:
        *reason = why != NULL ? why : "provider_unavailable";
        return GH_ERR_IO;
    }
    int64_t ttl = keep_for(token, now);
    if (c != NULL && ttl > 0)
        (void)gh_cache_put(c, key, sizeof(key), &a, sizeof(a), now + ttl);
    *id = a.id;
    sodium_memzero(&a, sizeof(a));
    return err;
}

gh_err gh_ssotok_login(struct gh_ssotok *t, const char *provider, const char *access_token,
                       size_t len, const char *okta_domain, const struct gh_reqmeta *meta,
                       struct gh_signin_result *out, const char **reason)
{
    struct gh_sso_provider p;
    struct gh_sso_identity id;
    memset(out, 0, sizeof(*out));
    memset(&id, 0, sizeof(id));
    *reason = NULL;
    gh_err err = gh_ssop_find(t->providers, provider, &p);
    if (err == GH_ERR_NOT_FOUND || (err == GH_OK && !p.enabled) ||
        (err == GH_OK && strcmp(p.type, "oidc") != 0 && strcmp(p.type, "oauth2") != 0)) {
        *reason = "provider";
        return GH_ERR_INVALID;
    }
    if (err != GH_OK)
        return err;
    if (okta_domain != NULL &&
        (strcmp(p.preset, "okta") != 0 || strcasecmp(okta_domain, p.tenant) != 0)) {
        *reason = "okta_domain";
        return GH_ERR_INVALID;
    }
    if (len == 0 || len > GH_SSO_TOKEN_MAX || strlen(access_token) != len) {
        *reason = "token_refused";
        err = GH_ERR_AUTH;
    } else {
        err = ask(t, &p, access_token, len, &id, reason);
    }
    if (err == GH_OK) /* audits SSO_LOGIN, or SSO_LOGIN_FAILED itself */
        err = gh_signin_sso(t->signin, &p, &id, 0, meta, out, reason);
    else
        gh_sso_audit_failed(t->signin->auth, p.name, *reason, NULL, meta);
    sodium_memzero(&id, sizeof(id));
    return err;
}

#include "authn/sso_remote.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "authn/oidc_meta.h"
#include "core/log.h"
#include "core/text.h"
#include "core/time.h"
#include "crypto/jwks.h"
#include "edge/fetch.h"

/* Providers whose discovery and keys are kept; past it the oldest entry is reused. */
#define CACHED_PROVIDERS 64

struct cached {
    char name[GH_SSO_NAME_MAX + 1];
    char issuer[GH_SSO_URL_MAX + 1]; /* the issuer the entry was fetched for */
    struct gh_oidc_meta meta;
    int64_t meta_at; /* 0: none */
    struct gh_keyring *keys;
    int64_t keys_tried; /* the last fetch of the keys started (0: none), came or not */
};

struct gh_sso_remote {
    long timeout_ms;
    pthread_mutex_t mu; /* the cache, and the keys while a token is checked against them */
    int fetch_open;     /* gh_fetch_open succeeded (under mu) */
    struct cached cache[CACHED_PROVIDERS];
};

gh_err gh_sso_remote_new(long timeout_ms, struct gh_sso_remote **out)
{
    struct gh_sso_remote *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return GH_ERR_NOMEM;
    r->timeout_ms = timeout_ms;
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return GH_OK;
}

void gh_sso_remote_free(struct gh_sso_remote *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < CACHED_PROVIDERS; i++)
        gh_keyring_free(r->cache[i].keys);
    if (r->fetch_open)
        gh_fetch_close();
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* A fetch handle for this call; libcurl loaded on the first (it costs memory at idle). */
static gh_err handle(struct gh_sso_remote *r, struct gh_fetch **f)
{
    gh_err err = GH_OK;
    pthread_mutex_lock(&r->mu);
    if (!r->fetch_open && (err = gh_fetch_open()) == GH_OK)
        r->fetch_open = 1;
    pthread_mutex_unlock(&r->mu);
    return err == GH_OK ? gh_fetch_new(f) : err;
}

/* p's entry (under mu): the one of its name and issuer, else a free or the oldest one. */
static struct cached *entry(struct gh_sso_remote *r, const struct gh_sso_provider *p)
{
    struct cached *pick = &r->cache[0];
    for (size_t i = 0; i < CACHED_PROVIDERS; i++) {
        struct cached *c = &r->cache[i];
        if (strcmp(c->name, p->name) == 0 && strcmp(c->issuer, p->issuer) == 0)
            return c;
        if (c->meta_at < pick->meta_at)
            pick = c;
    }
    gh_keyring_free(pick->keys);
    memset(pick, 0, sizeof(*pick));
    (void)snprintf(pick->name, sizeof(pick->name), "%s", p->name);
    (void)snprintf(pick->issuer, sizeof(pick->issuer), "%s", p->issuer);
    return pick;
}

/* p's discovery document: the cached one while fresh, unless refresh asks for it anew. */
static gh_err discovery(struct gh_sso_remote *r, const struct gh_sso_provider *p, int refresh,
                        struct gh_oidc_meta *out)
{
    int64_t now = gh_time_now();
    pthread_mutex_lock(&r->mu);
    struct cached *c = entry(r, p);
    int fresh = !refresh && c->meta_at != 0 && now - c->meta_at < GH_SSO_META_TTL;
    if (fresh)
        *out = c->meta;
    pthread_mutex_unlock(&r->mu);
    if (fresh)
        return GH_OK;
    struct gh_fetch *f = NULL;
    const char *why = NULL;
    gh_err err = handle(r, &f);
    if (err == GH_OK)
        err = gh_oidc_meta_fetch(f, p, r->timeout_ms, out, &why);
    gh_fetch_free(f);
    if (err != GH_OK)
        return err;
    pthread_mutex_lock(&r->mu);
    c = entry(r, p);
    c->meta = *out;
    c->meta_at = now;
    pthread_mutex_unlock(&r->mu);
    return GH_OK;
}

gh_err gh_sso_remote_endpoints(struct gh_sso_remote *r, const struct gh_sso_provider *p,
                               struct gh_sso_endpoints *out)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(p->type, "oidc") == 0) {
        struct gh_oidc_meta m;
        gh_err err = discovery(r, p, 0, &m);
        if (err != GH_OK)
            return err;
        memcpy(out->authorization, m.authorization_endpoint, sizeof(out->authorization));
        memcpy(out->token, m.token_endpoint, sizeof(out->token));
        memcpy(out->userinfo, m.userinfo_endpoint, sizeof(out->userinfo));
        memcpy(out->introspection, m.introspection_endpoint, sizeof(out->introspection));
        out->s256 = m.s256;
        out->secret_post = strcmp(p->token_auth, "client_secret_post") == 0;
        return GH_OK;
    }
    if (p->authorization_endpoint[0] == '\0' || p->token_endpoint[0] == '\0')
        return GH_ERR_INVALID;
    memcpy(out->authorization, p->authorization_endpoint, sizeof(out->authorization));
    memcpy(out->token, p->token_endpoint, sizeof(out->token));
    memcpy(out->userinfo, p->userinfo_endpoint, sizeof(out->userinfo));
    out->s256 = p->pkce;
    out->secret_post = strcmp(p->token_auth, "client_secret_post") == 0;
    return GH_OK;
}

void gh_sso_tokens_clear(struct gh_sso_tokens *t)
{
    if (t->id_token != NULL) {
        sodium_memzero(t->id_token, strlen(t->id_token));
        free(t->id_token);
    }
    if (t->access_token != NULL) {
        sodium_memzero(t->access_token, strlen(t->access_token));
        free(t->access_token);
    }
    t->id_token = t->access_token = NULL;
}

/* Appends "&name=value" (value percent-encoded; no "&" first) to the form in b. */
static int form_add(char *b, size_t cap, size_t *n, const char *name, const char *value)
{
    size_t vlen = strlen(value);
    char *enc = malloc(3 * vlen + 1);
    if (enc == NULL)
        return -1;
    int bad = gh_percent_encode(value, enc, 3 * vlen + 1) != GH_OK;
    int w = bad ? -1 : snprintf(b + *n, cap - *n, "%s%s=%s", *n > 0 ? "&" : "", name, enc);
    sodium_memzero(enc, 3 * vlen + 1);
    free(enc);
    if (w < 0 || (size_t)w >= cap - *n)
        return -1;
    *n += (size_t)w;
    return 0;
}

/* RFC 6749 §2.3.1: client_secret_basic is base64(urlencode(id) ":" urlencode(secret)). */
static gh_err basic_credentials(const char *id, const char *secret, char *out, size_t cap)
{
    char pair[3 * 256 + 1 + 3 * 512 + 1], eid[3 * 256 + 1], esec[3 * 512 + 1];
    gh_err err = GH_ERR_INVALID;
    if (strlen(secret) <= 512 && gh_percent_encode(id, eid, sizeof(eid)) == GH_OK &&
        gh_percent_encode(secret, esec, sizeof(esec)) == GH_OK) {
        int n = snprintf(pair, sizeof(pair), "%s:%s", eid, esec);
        if (n > 0 && sodium_base64_encoded_len((size_t)n, sodium_base64_VARIANT_ORIGINAL) <= cap) {
            sodium_bin2base64(out, cap, (const unsigned char *)pair, (size_t)n,
                              sodium_base64_VARIANT_ORIGINAL);
            err = GH_OK;
        }
    }
    sodium_memzero(pair, sizeof(pair));
    sodium_memzero(esec, sizeof(esec));
    return err;
}

static char *string_member(const json_t *o, const char *name)
{
    const json_t *v = json_object_get(o, name);
    return json_is_string(v) && json_string_length(v) > 0 ? strdup(json_string_value(v)) : NULL;
}

#define FORM_MAX 8192

/* POSTs the form body (n bytes of FORM_MAX, wiped here) to url with p's client
 * credentials (client_secret_post or _basic as ep says; only client_id without a secret).
 * GH_ERR_INVALID the form does not fit; gh_fetch_do's errors, logged under what. */
static gh_err post_form(struct gh_sso_remote *r, const struct gh_sso_provider *p,
                        const struct gh_sso_endpoints *ep, const char *url, const char *secret,
                        char *body, size_t n, const char *what, struct gh_fetch_resp *resp)
{
    char basic[2048], why[128];
    basic[0] = '\0';
    int bad;
    if (ep->secret_post || secret == NULL)
        bad = form_add(body, FORM_MAX, &n, "client_id", p->client_id) ||
              (secret != NULL && form_add(body, FORM_MAX, &n, "client_secret", secret));
    else
        bad = basic_credentials(p->client_id, secret, basic, sizeof(basic)) != GH_OK;
    gh_err err = GH_ERR_INVALID;
    struct gh_fetch *f = NULL;
    if (!bad && (err = handle(r, &f)) == GH_OK) {
        struct gh_fetch_req rq = {.url = url,
                                  .body = body,
                                  .body_len = n,
                                  .content_type = "application/x-www-form-urlencoded",
                                  .basic = basic[0] ? basic : NULL,
                                  .timeout_ms = r->timeout_ms,
                                  .max_bytes = GH_SSO_ANSWER_MAX};
        err = gh_fetch_do(f, &rq, resp, why, sizeof(why));
    }
    gh_fetch_free(f);
    sodium_memzero(body, FORM_MAX);
    sodium_memzero(basic, sizeof(basic));
    if (err != GH_OK && err != GH_ERR_INVALID)
        gh_log(GH_LOG_WARN, "sso: provider %s: %s: %s", p->name, what,
               err == GH_ERR_TOO_LARGE ? "answer too large" : why);
    return err;
}

gh_err gh_sso_remote_exchange(struct gh_sso_remote *r, const struct gh_sso_provider *p,
                              const struct gh_sso_endpoints *ep, const struct gh_sso_grant *g,
                              struct gh_sso_tokens *out)
{
    char body[FORM_MAX];
    size_t n = 0;
    memset(out, 0, sizeof(*out));
    int bad =
        form_add(body, sizeof(body), &n, "grant_type", "authorization_code") ||
        form_add(body, sizeof(body), &n, "code", g->code) ||
        form_add(body, sizeof(body), &n, "redirect_uri", g->redirect_uri) ||
        (g->verifier != NULL && form_add(body, sizeof(body), &n, "code_verifier", g->verifier));
    struct gh_fetch_resp resp = {0, NULL, 0};
    gh_err err = bad ? GH_ERR_INVALID
                     : post_form(r, p, ep, ep->token, g->secret, body, n, "token endpoint", &resp);
    sodium_memzero(body, sizeof(body));
    if (err != GH_OK)
        return err == GH_ERR_TOO_LARGE ? GH_ERR_INVALID : err;
    json_t *doc = resp.body != NULL ? json_loadb(resp.body, resp.len, 0, NULL) : NULL;
    if (resp.status >= 500 || (resp.status >= 400 && resp.status < 500)) {
        gh_log(GH_LOG_WARN, "sso: provider %s: token endpoint answered %ld", p->name, resp.status);
        err = resp.status >= 500 ? GH_ERR_IO : GH_ERR_AUTH;
    } else if (resp.status != 200 || !json_is_object(doc) ||
               (out->access_token = string_member(doc, "access_token")) == NULL) {
        gh_log(GH_LOG_WARN, "sso: provider %s: the token endpoint's answer is not usable", p->name);
        err = GH_ERR_INVALID;
    } else {
        out->id_token = string_member(doc, "id_token");
    }
    json_decref(doc); /* jansson's strings of it are not wiped: the tokens are short-lived */
    gh_fetch_resp_clear(&resp);
    if (err != GH_OK)
        gh_sso_tokens_clear(out);
    return err;
}

/* Fetches p's discovery document (its jwks_uri may have moved with a rotation) and keys
 * afresh into its entry. At most one attempt every GH_SSO_KEYS_REFRESH seconds, whether it
 * succeeds or not and however many threads ask: a flood of tokens naming unknown kids, or a
 * provider whose keys do not come, costs the provider two requests per period. Within the
 * period the keys held stay (GH_OK; GH_ERR_IO when there are none). */
static gh_err fetch_keys(struct gh_sso_remote *r, const struct gh_sso_provider *p)
{
    struct gh_oidc_meta m;
    int64_t now = gh_time_now();
    pthread_mutex_lock(&r->mu);
    struct cached *c = entry(r, p);
    int recent = c->keys_tried != 0 && now - c->keys_tried < GH_SSO_KEYS_REFRESH;
    int have = c->keys != NULL;
    if (!recent)
        c->keys_tried = now;
    pthread_mutex_unlock(&r->mu);
    if (recent)
        return have ? GH_OK : GH_ERR_IO;
    gh_log(GH_LOG_INFO, "sso: provider %s: fetching its discovery document and keys", p->name);
    gh_err err = discovery(r, p, 1, &m);
    struct gh_fetch *f = NULL;
    struct gh_fetch_resp resp = {0, NULL, 0};
    char why[128];
    if (err == GH_OK && (err = handle(r, &f)) == GH_OK) {
        struct gh_fetch_req rq = {
            .url = m.jwks_uri, .timeout_ms = r->timeout_ms, .max_bytes = GH_JWKS_MAX};
        err = gh_fetch_do(f, &rq, &resp, why, sizeof(why));
        if (err != GH_OK)
            gh_log(GH_LOG_WARN, "sso: provider %s: keys: %s", p->name, why);
    }
    gh_fetch_free(f);
    struct gh_keyring *keys = NULL;
    size_t skipped = 0;
    if (err == GH_OK && (resp.status != 200 || resp.body == NULL)) {
        gh_log(GH_LOG_WARN, "sso: provider %s: keys: answered %ld", p->name, resp.status);
        err = GH_ERR_IO;
    } else if (err == GH_OK &&
               (err = gh_jwks_parse(resp.body, resp.len, &keys, &skipped)) != GH_OK) {
        gh_log(GH_LOG_WARN, "sso: provider %s: keys: no usable key in the set", p->name);
        err = GH_ERR_IO;
    }
    gh_fetch_resp_clear(&resp);
    if (err != GH_OK)
        return err;
    pthread_mutex_lock(&r->mu);
    c = entry(r, p);
    gh_keyring_free(c->keys);
    c->keys = keys;
    pthread_mutex_unlock(&r->mu);
    return GH_OK;
}

/* Checks the token against p's cached keys (under mu, so that a refresh cannot free them
 * meanwhile); GH_ERR_NOT_FOUND none cached yet. */
static gh_err check(struct gh_sso_remote *r, const struct gh_sso_provider *p, const char *token,
                    const struct gh_idtoken_expect *e, struct gh_sso_identity *out,
                    enum gh_idtoken_refusal *why)
{
    pthread_mutex_lock(&r->mu);
    struct cached *c = entry(r, p);
    gh_err err = c->keys == NULL ? GH_ERR_NOT_FOUND
                                 : gh_idtoken_verify(c->keys, token, strlen(token), e, p, out, why);
    pthread_mutex_unlock(&r->mu);
    return err;
}

gh_err gh_sso_remote_idtoken(struct gh_sso_remote *r, const struct gh_sso_provider *p,
                             const char *token, const struct gh_idtoken_expect *e,
                             struct gh_sso_identity *out, enum gh_idtoken_refusal *why)
{
    *why = GH_IDT_SIGNATURE;
    gh_err err = check(r, p, token, e, out, why);
    /* no keys yet, or a kid they lack: the provider may have rotated; ask once */
    if (err == GH_ERR_NOT_FOUND || (err == GH_ERR_AUTH && *why == GH_IDT_SIGNATURE)) {
        gh_err fe = fetch_keys(r, p);
        if (fe != GH_OK)
            return err == GH_ERR_NOT_FOUND ? fe : err;
        err = check(r, p, token, e, out, why);
        if (err == GH_ERR_NOT_FOUND)
            err = GH_ERR_IO;
    }
    return err;
}

/* A provider's answer to a POST (err: how the exchange went) as a JSON object in *out:
 * GH_ERR_IO for a status but 200, GH_ERR_INVALID for an oversized or non-object body.
 * resp is cleared. */
static gh_err json_answer(const struct gh_sso_provider *p, const char *what, gh_err err,
                          struct gh_fetch_resp *resp, json_t **out)
{
    if (err == GH_ERR_TOO_LARGE)
        err = GH_ERR_INVALID;
    if (err == GH_OK && resp->status != 200) {
        gh_log(GH_LOG_WARN, "sso: provider %s: %s answered %ld", p->name, what, resp->status);
        err = GH_ERR_IO;
    } else if (err == GH_OK) {
        *out = resp->body != NULL ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
        if (!json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            err = GH_ERR_INVALID;
        }
    }
    gh_fetch_resp_clear(resp);
    return err;
}

gh_err gh_sso_remote_introspect(struct gh_sso_remote *r, const struct gh_sso_provider *p,
                                const struct gh_sso_endpoints *ep, const char *secret,
                                const char *access_token, json_t **out)
{
    char body[FORM_MAX];
    size_t n = 0;
    struct gh_fetch_resp resp = {0, NULL, 0};
    *out = NULL;
    gh_err err = GH_ERR_INVALID;
    if (form_add(body, sizeof(body), &n, "token", access_token) == 0 &&
        form_add(body, sizeof(body), &n, "token_type_hint", "access_token") == 0)
        err = post_form(r, p, ep, ep->introspection, secret, body, n, "introspection", &resp);
    sodium_memzero(body, sizeof(body));
    return json_answer(p, "introspection", err, &resp, out);
}

gh_err gh_sso_remote_tokeninfo(struct gh_sso_remote *r, const struct gh_sso_provider *p,
                               const char *access_token, json_t **out)
{
    char body[FORM_MAX], why[128];
    size_t n = 0;
    struct gh_fetch *f = NULL;
    struct gh_fetch_resp resp = {0, NULL, 0};
    *out = NULL;
    /* in the body, never the query: URLs end up in logs along the way */
    gh_err err = form_add(body, sizeof(body), &n, "access_token", access_token) == 0
                     ? handle(r, &f)
                     : GH_ERR_INVALID;
    if (err == GH_OK) {
        struct gh_fetch_req rq = {.url = p->tokeninfo_endpoint,
                                  .body = body,
                                  .body_len = n,
                                  .content_type = "application/x-www-form-urlencoded",
                                  .timeout_ms = r->timeout_ms,
                                  .max_bytes = GH_SSO_ANSWER_MAX};
        err = gh_fetch_do(f, &rq, &resp, why, sizeof(why));
        if (err == GH_ERR_IO)
            gh_log(GH_LOG_WARN, "sso: provider %s: tokeninfo: %s", p->name, why);
    }
    gh_fetch_free(f);
    sodium_memzero(body, sizeof(body));
    if (err == GH_OK && resp.status == 400) {
        gh_fetch_resp_clear(&resp);
        return GH_ERR_AUTH; /* Google's answer for a token it does not know or that expired */
    }
    return json_answer(p, "tokeninfo", err, &resp, out);
}

gh_err gh_sso_remote_userinfo(struct gh_sso_remote *r, const char *url, const char *access_token,
                              json_t **out)
{
    struct gh_fetch *f = NULL;
    struct gh_fetch_resp resp = {0, NULL, 0};
    char why[128];
    *out = NULL;
    gh_err err = handle(r, &f);
    if (err == GH_OK) {
        struct gh_fetch_req rq = {.url = url,
                                  .bearer = access_token,
                                  .timeout_ms = r->timeout_ms,
                                  .max_bytes = GH_SSO_ANSWER_MAX};
        err = gh_fetch_do(f, &rq, &resp, why, sizeof(why));
        if (err == GH_ERR_IO)
            gh_log(GH_LOG_WARN, "sso: userinfo: %s", why);
    }
    gh_fetch_free(f);
    if (err == GH_ERR_TOO_LARGE)
        err = GH_ERR_INVALID;
    if (err == GH_OK && (resp.status == 401 || resp.status == 403)) {
        err = GH_ERR_AUTH;
    } else if (err == GH_OK && resp.status != 200) {
        gh_log(GH_LOG_WARN, "sso: userinfo answered %ld", resp.status);
        err = GH_ERR_IO;
    } else if (err == GH_OK) {
        *out = resp.body != NULL ? json_loadb(resp.body, resp.len, 0, NULL) : NULL;
        if (!json_is_object(*out)) {
            gh_log(GH_LOG_WARN, "sso: userinfo: the answer is not a JSON object");
            json_decref(*out);
            *out = NULL;
            err = GH_ERR_INVALID;
        }
    }
    gh_fetch_resp_clear(&resp);
    return err;
}

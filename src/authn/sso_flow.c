#include "authn/sso_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "authn/sso_account.h"
#include "core/log.h"
#include "core/text.h"
#include "core/time.h"
#include "crypto/b64url.h"

#define RANDOM_TEXT 43 /* 32 bytes as base64url */

struct gh_sso_flow {
    const struct gh_store_handle *store;
    struct gh_ssop *providers;
    struct gh_sso_remote *remote;
    const struct gh_signin *signin;
    char redirect_uri[GH_SSO_URL_MAX + sizeof(GH_SSO_CALLBACK)];
    int64_t leeway;
    unsigned char key[GH_SSO_KEY_LEN];
};

gh_err gh_sso_flow_new(const struct gh_store_handle *store, struct gh_ssop *providers,
                       struct gh_sso_remote *remote, const struct gh_signin *signin,
                       const char *public_url, int64_t leeway,
                       const unsigned char key[GH_SSO_KEY_LEN], struct gh_sso_flow **out)
{
    struct gh_sso_flow *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return GH_ERR_NOMEM;
    size_t n = strlen(public_url);
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    if (n > GH_SSO_URL_MAX) {
        free(f);
        return GH_ERR_INVALID;
    }
    (void)snprintf(f->redirect_uri, sizeof(f->redirect_uri), "%.*s%s", (int)n, public_url,
                   GH_SSO_CALLBACK);
    f->store = store;
    f->providers = providers;
    f->remote = remote;
    f->signin = signin;
    f->leeway = leeway;
    memcpy(f->key, key, GH_SSO_KEY_LEN);
    *out = f;
    return GH_OK;
}

void gh_sso_flow_free(struct gh_sso_flow *f)
{
    if (f == NULL)
        return;
    sodium_memzero(f->key, sizeof(f->key));
    free(f);
}

/* 32 random bytes as base64url. */
static gh_err random_text(char out[RANDOM_TEXT + 1])
{
    unsigned char raw[32];
    size_t len = 0;
    randombytes_buf(raw, sizeof(raw));
    gh_err err = gh_b64url_encode(raw, sizeof(raw), out, RANDOM_TEXT + 1, &len);
    sodium_memzero(raw, sizeof(raw));
    return err;
}

/* Whether s is one of our random texts (43 base64url characters). */
static int random_text_ok(const char *s)
{
    if (s == NULL || strlen(s) != RANDOM_TEXT)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
           RANDOM_TEXT;
}

static void sha256(const char *s, unsigned char out[GH_HASH_LEN])
{
    crypto_hash_sha256(out, (const unsigned char *)s, strlen(s));
}

/* HMAC-SHA256 under the flow's key of label, a and b (b may be NULL), as base64url: the
 * nonce (label "nonce", the state) and the PKCE verifier ("pkce", the cookie, the state;
 * 43 characters, within RFC 7636's 43..128). */
static gh_err derive(const struct gh_sso_flow *f, const char *label, const char *a, const char *b,
                     char out[RANDOM_TEXT + 1])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    size_t len = 0;
    crypto_auth_hmacsha256_init(&st, f->key, sizeof(f->key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, strlen(label) + 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)a, strlen(a) + 1);
    if (b != NULL)
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)b, strlen(b) + 1);
    crypto_auth_hmacsha256_final(&st, mac);
    gh_err err = gh_b64url_encode(mac, sizeof(mac), out, RANDOM_TEXT + 1, &len);
    sodium_memzero(mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
    return err;
}

/* Appends "&name=value" (percent-encoded) to the URL in out; -1 when it does not fit. */
static int query_add(char *out, size_t cap, const char *name, const char *value)
{
    char enc[3 * GH_SSO_URL_MAX + 1];
    size_t n = strlen(out);
    if (gh_percent_encode(value, enc, sizeof(enc)) != GH_OK)
        return -1;
    int w = snprintf(out + n, cap - n, "%c%s=%s", strchr(out, '?') != NULL ? '&' : '?', name, enc);
    return w < 0 || (size_t)w >= cap - n ? -1 : 0;
}

/* An enabled provider of ours (SAML's flow is its own). */
static gh_err find(struct gh_sso_flow *f, const char *name, struct gh_sso_provider *p)
{
    gh_err err = gh_ssop_find(f->providers, name, p);
    if (err == GH_OK &&
        (!p->enabled || (strcmp(p->type, "oidc") != 0 && strcmp(p->type, "oauth2") != 0)))
        err = GH_ERR_NOT_FOUND;
    return err;
}

gh_err gh_sso_flow_begin(struct gh_sso_flow *f, const char *provider, const char *redirect_to,
                         const char *binding, struct gh_sso_start *out)
{
    struct gh_sso_provider p;
    struct gh_sso_endpoints ep;
    struct gh_sso_state s;
    char state[RANDOM_TEXT + 1], nonce[RANDOM_TEXT + 1], verifier[RANDOM_TEXT + 1];
    unsigned char challenge[crypto_hash_sha256_BYTES];
    char challenge_text[RANDOM_TEXT + 1];
    size_t len = 0;
    memset(out, 0, sizeof(*out));
    if (strlen(redirect_to) > GH_SSO_RETURN_MAX)
        return GH_ERR_INVALID;
    gh_err err = find(f, provider, &p);
    if (err == GH_OK)
        err = gh_sso_remote_endpoints(f->remote, &p, &ep);
    if (err != GH_OK)
        return err;
    if (random_text_ok(binding))
        memcpy(out->binding, binding, RANDOM_TEXT + 1);
    else if ((err = random_text(out->binding)) != GH_OK)
        return err;
    int oidc = strcmp(p.type, "oidc") == 0;
    if ((err = random_text(state)) != GH_OK ||
        (err = derive(f, "nonce", state, NULL, nonce)) != GH_OK ||
        (err = derive(f, "pkce", out->binding, state, verifier)) != GH_OK)
        goto out;
    crypto_hash_sha256(challenge, (const unsigned char *)verifier, RANDOM_TEXT);
    if ((err = gh_b64url_encode(challenge, sizeof(challenge), challenge_text,
                                sizeof(challenge_text), &len)) != GH_OK)
        goto out;

    (void)snprintf(out->location, sizeof(out->location), "%s", ep.authorization);
    const char *scopes = p.scopes[0] ? p.scopes : oidc ? "openid email profile" : "";
    int bad = query_add(out->location, sizeof(out->location), "response_type", "code") ||
              query_add(out->location, sizeof(out->location), "client_id", p.client_id) ||
              query_add(out->location, sizeof(out->location), "redirect_uri", f->redirect_uri) ||
              (scopes[0] && query_add(out->location, sizeof(out->location), "scope", scopes)) ||
              query_add(out->location, sizeof(out->location), "state", state) ||
              (oidc && query_add(out->location, sizeof(out->location), "nonce", nonce));
    if (!bad && (oidc || p.pkce)) /* S256 always: never "plain" */
        bad = query_add(out->location, sizeof(out->location), "code_challenge", challenge_text) ||
              query_add(out->location, sizeof(out->location), "code_challenge_method", "S256");
    if (bad) {
        err = GH_ERR_INVALID;
        goto out;
    }
    memset(&s, 0, sizeof(s));
    sha256(state, s.hash);
    sha256(out->binding, s.binding);
    (void)snprintf(s.provider, sizeof(s.provider), "%s", p.name);
    (void)snprintf(s.redirect_to, sizeof(s.redirect_to), "%s", redirect_to);
    s.created_at = gh_time_now();
    s.expires_at = s.created_at + GH_SSO_STATE_TTL;
    err = gh_store_sso_state_add(f->store, &s);
out:
    sodium_memzero(state, sizeof(state));
    sodium_memzero(verifier, sizeof(verifier));
    sodium_memzero(nonce, sizeof(nonce));
    sodium_memzero(&p, sizeof(p));
    if (err != GH_OK)
        memset(out, 0, sizeof(*out));
    return err;
}

/* The state of the callback, taken (once) and judged: GH_OK or GH_ERR_AUTH with *reason. */
static gh_err take_state(struct gh_sso_flow *f, const struct gh_sso_callback *in,
                         struct gh_sso_state *s, const char **reason)
{
    unsigned char hash[GH_HASH_LEN], binding[GH_HASH_LEN];
    if (!random_text_ok(in->state)) {
        *reason = "state_missing";
        return GH_ERR_AUTH;
    }
    sha256(in->state, hash);
    gh_err err = gh_store_sso_state_take(f->store, hash, s);
    if (err == GH_ERR_NOT_FOUND) {
        *reason = "state_unknown"; /* never made, or used already */
        return GH_ERR_AUTH;
    }
    if (err != GH_OK) {
        *reason = "storage";
        return err;
    }
    if (s->expires_at <= gh_time_now()) {
        *reason = "state_expired";
        return GH_ERR_AUTH;
    }
    if (!random_text_ok(in->binding)) {
        *reason = "state_other_browser";
        return GH_ERR_AUTH;
    }
    sha256(in->binding, binding);
    if (sodium_memcmp(binding, s->binding, GH_HASH_LEN) != 0) {
        *reason = "state_other_browser";
        return GH_ERR_AUTH;
    }
    return GH_OK;
}

/* The refusal words of the provider calls. */
static const char *remote_reason(gh_err err, const char *refused)
{
    switch (err) {
    case GH_ERR_IO:
        return "provider_unavailable";
    case GH_ERR_AUTH:
        return refused;
    case GH_ERR_INVALID:
        return "provider_answer_invalid";
    default:
        return "internal";
    }
}

/* Who the provider says signed in: the code exchanged, then the ID token (OIDC) or the
 * userinfo endpoint's answer (OAuth2). */
static gh_err identify(struct gh_sso_flow *f, const struct gh_sso_provider *p,
                       const struct gh_sso_callback *in, struct gh_sso_identity *id,
                       const char **reason)
{
    struct gh_sso_endpoints ep;
    struct gh_sso_tokens tok = {NULL, NULL};
    char secret[512], verifier[RANDOM_TEXT + 1], nonce[RANDOM_TEXT + 1];
    int oidc = strcmp(p->type, "oidc") == 0;
    gh_err err = gh_sso_remote_endpoints(f->remote, p, &ep);
    if (err != GH_OK) {
        *reason = remote_reason(err, "provider_unavailable");
        return err;
    }
    gh_err se = gh_ssop_secret(f->providers, p, secret, sizeof(secret));
    if (se != GH_OK && se != GH_ERR_NOT_FOUND) {
        *reason = "client_secret";
        return se;
    }
    if ((err = derive(f, "pkce", in->binding, in->state, verifier)) == GH_OK)
        err = derive(f, "nonce", in->state, NULL, nonce);
    if (err == GH_OK) {
        struct gh_sso_grant g = {in->code, f->redirect_uri, oidc || p->pkce ? verifier : NULL,
                                 se == GH_OK ? secret : NULL};
        err = gh_sso_remote_exchange(f->remote, p, &ep, &g, &tok);
        if (err != GH_OK)
            *reason = remote_reason(err, "code_refused");
    }
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(verifier, sizeof(verifier));
    if (err == GH_OK && oidc) {
        enum gh_idtoken_refusal why = GH_IDT_OK;
        struct gh_idtoken_expect e = {p->issuer,     p->client_id, nonce,
                                      gh_time_now(), f->leeway,    gh_idtoken_issuer_alt(p)};
        if (tok.id_token == NULL) {
            *reason = "id_token_missing";
            err = GH_ERR_AUTH;
        } else if ((err = gh_sso_remote_idtoken(f->remote, p, tok.id_token, &e, id, &why)) ==
                   GH_ERR_AUTH) {
            static char const *const names[] = {[GH_IDT_OK] = "id_token",
                                                [GH_IDT_SIGNATURE] = "id_token_signature",
                                                [GH_IDT_ISSUER] = "id_token_issuer",
                                                [GH_IDT_AUDIENCE] = "id_token_audience",
                                                [GH_IDT_EXPIRED] = "id_token_expired",
                                                [GH_IDT_NOT_YET] = "id_token_not_yet",
                                                [GH_IDT_NONCE] = "id_token_nonce",
                                                [GH_IDT_CLAIMS] = "id_token_claims"};
            *reason = names[why];
        } else if (err != GH_OK) {
            *reason = remote_reason(err, "id_token");
        }
    } else if (err == GH_OK) {
        json_t *claims = NULL;
        if (ep.userinfo[0] == '\0') {
            *reason = "no_userinfo_endpoint";
            err = GH_ERR_INVALID;
        } else if ((err = gh_sso_remote_userinfo(f->remote, ep.userinfo, tok.access_token,
                                                 &claims)) != GH_OK) {
            *reason = remote_reason(err, "userinfo_refused");
        } else if (gh_sso_identity_map(claims, p, id) != GH_OK) {
            *reason = "userinfo_claims";
            err = GH_ERR_AUTH;
        }
        json_decref(claims);
    }
    sodium_memzero(nonce, sizeof(nonce));
    gh_sso_tokens_clear(&tok);
    return err == GH_ERR_INVALID ? GH_ERR_AUTH : err;
}

gh_err gh_sso_flow_finish(struct gh_sso_flow *f, const struct gh_sso_callback *in,
                          const struct gh_reqmeta *meta, struct gh_signin_result *out,
                          char redirect_to[GH_SSO_RETURN_MAX + 1], const char **reason)
{
    struct gh_sso_state s;
    struct gh_sso_provider p;
    struct gh_sso_identity id;
    memset(out, 0, sizeof(*out));
    memset(&id, 0, sizeof(id));
    memset(&p, 0, sizeof(p));
    memset(&s, 0, sizeof(s));
    redirect_to[0] = '\0';
    *reason = NULL;
    gh_err err = take_state(f, in, &s, reason);
    if (err == GH_OK) {
        memcpy(redirect_to, s.redirect_to, GH_SSO_RETURN_MAX + 1);
        if (in->error != NULL) {
            *reason = "provider_refused"; /* the user declined, or the provider would not */
            err = GH_ERR_AUTH;
        } else if (in->code == NULL || in->code[0] == '\0' || strlen(in->code) > 2048) {
            *reason = "code_missing";
            err = GH_ERR_AUTH;
        } else if (find(f, s.provider, &p) != GH_OK) {
            *reason = "provider_unknown";
            err = GH_ERR_AUTH;
        } else {
            err = identify(f, &p, in, &id, reason);
        }
    }
    if (err == GH_OK) /* audits SSO_LOGIN, or SSO_LOGIN_FAILED itself */
        err = gh_signin_sso(f->signin, &p, &id, 1, meta, out, reason);
    else
        gh_sso_audit_failed(f->signin->auth, p.name[0] ? p.name : s.provider,
                            *reason != NULL ? *reason : "internal", NULL, meta);
    sodium_memzero(&id, sizeof(id));
    sodium_memzero(&p, sizeof(p));
    return err;
}

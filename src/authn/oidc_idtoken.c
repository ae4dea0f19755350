/* The OpenID Connect ID token check (oidc_idtoken.h). */
#include <string.h>
#include <sodium.h>

#include "authn/oidc_idtoken.h"

const char *gh_idtoken_refusal_name(enum gh_idtoken_refusal r)
{
    static const char *const names[] = {"ok",      "signature", "issuer", "audience",
                                        "expired", "not_yet",   "nonce",  "claims"};
    return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "claims";
}

#define TEMPLATE "{tenantid}"

const char *gh_idtoken_issuer_alt(const struct gh_sso_provider *p)
{
    if (strcmp(p->preset, "google") == 0 && strcmp(p->issuer, "https://accounts.google.com") == 0)
        return "accounts.google.com";
    return NULL;
}

/* iss is the expected issuer (or exactly its alternative form), its {tenantid}
 * (multi-tenant Microsoft apps) being the token's tid: a tenant id or domain, nothing that
 * could reach another path. */
static int issuer_ok(const json_t *claims, const char *want, const char *alt)
{
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const char *at = strstr(want, TEMPLATE);
    if (iss == NULL)
        return 0;
    if (alt != NULL && strcmp(iss, alt) == 0)
        return 1;
    if (at == NULL)
        return strcmp(iss, want) == 0;
    const char *tid = json_string_value(json_object_get(claims, "tid"));
    size_t head = (size_t)(at - want), tlen = tid != NULL ? strlen(tid) : 0;
    if (tlen == 0 || tlen > 64 ||
        strspn(tid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != tlen)
        return 0;
    const char *tail = at + strlen(TEMPLATE);
    return strlen(iss) == head + tlen + strlen(tail) && memcmp(iss, want, head) == 0 &&
           memcmp(iss + head, tid, tlen) == 0 && strcmp(iss + head + tlen, tail) == 0;
}

/* aud is the client id or an array of strings holding it; with several audiences, or
 * whenever azp is there, azp is the client id. */
static int audience_ok(const json_t *claims, const char *client_id)
{
    const json_t *aud = json_object_get(claims, "aud");
    const json_t *azp = json_object_get(claims, "azp");
    int found = 0;
    size_t n = 1;
    if (json_is_string(aud)) {
        found = strcmp(json_string_value(aud), client_id) == 0;
    } else if (json_is_array(aud)) {
        size_t i;
        const json_t *item;
        n = json_array_size(aud);
        json_array_foreach(aud, i, item)
        {
            if (!json_is_string(item))
                return 0;
            found |= strcmp(json_string_value(item), client_id) == 0;
        }
    }
    if (!found)
        return 0;
    if (azp == NULL)
        return n == 1;
    return json_is_string(azp) && strcmp(json_string_value(azp), client_id) == 0;
}

/* The nonce, compared in constant time over its length. */
static int nonce_ok(const json_t *claims, const char *want)
{
    const json_t *v = json_object_get(claims, "nonce");
    size_t n = strlen(want);
    return json_is_string(v) && n > 0 && json_string_length(v) == n &&
           sodium_memcmp(json_string_value(v), want, n) == 0;
}

enum gh_idtoken_refusal gh_idtoken_check(const json_t *claims, const struct gh_idtoken_expect *e)
{
    const json_t *exp = json_object_get(claims, "exp");
    const json_t *iat = json_object_get(claims, "iat");
    const json_t *nbf = json_object_get(claims, "nbf");
    if (!issuer_ok(claims, e->issuer, e->issuer_alt))
        return GH_IDT_ISSUER;
    if (!audience_ok(claims, e->client_id))
        return GH_IDT_AUDIENCE;
    if (!json_is_integer(exp) || !json_is_integer(iat) || (nbf != NULL && !json_is_integer(nbf)))
        return GH_IDT_CLAIMS;
    if (json_integer_value(exp) <= e->now - e->leeway)
        return GH_IDT_EXPIRED;
    if (json_integer_value(iat) > e->now + e->leeway ||
        (nbf != NULL && json_integer_value(nbf) > e->now + e->leeway))
        return GH_IDT_NOT_YET;
    if (!nonce_ok(claims, e->nonce))
        return GH_IDT_NONCE;
    return GH_IDT_OK;
}

gh_err gh_idtoken_verify(const struct gh_keyring *keys, const char *token, size_t len,
                         const struct gh_idtoken_expect *e, const struct gh_sso_provider *p,
                         struct gh_sso_identity *out, enum gh_idtoken_refusal *why)
{
    json_t *claims = NULL;
    gh_err err = gh_jws_verify(keys, token, len, &claims);
    if (err != GH_OK) {
        *why = GH_IDT_SIGNATURE;
        return GH_ERR_AUTH;
    }
    *why = gh_idtoken_check(claims, e);
    if (*why == GH_IDT_OK) {
        /* The subject of an ID token is its sub (OIDC Core §2), whatever the paths say. */
        struct gh_sso_provider by_sub = *p;
        memcpy(by_sub.claim_subject, "sub", 4);
        if (gh_sso_identity_map(claims, &by_sub, out) != GH_OK ||
            !json_is_string(json_object_get(claims, "sub")))
            *why = GH_IDT_CLAIMS;
        sodium_memzero(&by_sub, sizeof(by_sub));
    }
    json_decref(claims);
    return *why == GH_IDT_OK ? GH_OK : GH_ERR_AUTH;
}

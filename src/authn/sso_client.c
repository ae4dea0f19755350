/* Which app an access token was issued to (sso_client.h). */
#include <string.h>
#include <jansson.h>
#include <sodium.h>

#include "authn/sso_client.h"
#include "crypto/b64url.h"

int gh_sso_client_listed(const char *list, const char *id)
{
    size_t n = strlen(id);
    if (n == 0)
        return 0;
    for (const char *at = list; *at != '\0';) {
        size_t w = strcspn(at, " ");
        if (w == n && memcmp(at, id, n) == 0)
            return 1;
        at += w;
        at += *at == ' ';
    }
    return 0;
}

/* The payload of a JWT (three dot-separated parts) as JSON; NULL when it is not one. */
static json_t *jwt_payload(const char *token)
{
    const char *dot = strchr(token, '.');
    const char *end = dot != NULL ? strchr(dot + 1, '.') : NULL;
    unsigned char payload[4096];
    size_t n = 0;
    if (end == NULL || strchr(end + 1, '.') != NULL ||
        gh_b64url_decode(dot + 1, (size_t)(end - dot - 1), payload, sizeof(payload), &n) != GH_OK)
        return NULL;
    json_t *claims = json_loadb((const char *)payload, n, JSON_REJECT_DUPLICATES, NULL);
    sodium_memzero(payload, sizeof(payload));
    if (!json_is_object(claims)) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

/* The client a JWT access token names; NULL none. */
static const char *claimed_client(const json_t *claims)
{
    static const char *const names[] = {"client_id", "azp", "cid", "appid"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const json_t *v = json_object_get(claims, names[i]);
        if (v != NULL)
            return json_string_value(v); /* not a string: NULL, refused */
    }
    return NULL;
}

static gh_err by_introspection(struct gh_ssop *providers, struct gh_sso_remote *remote,
                               const struct gh_sso_provider *p, const struct gh_sso_endpoints *ep,
                               const char *token, const char **reason)
{
    char secret[GH_SSO_SECRET_MAX + 1];
    json_t *answer = NULL;
    gh_err se = gh_ssop_secret(providers, p, secret, sizeof(secret));
    if (se != GH_OK && se != GH_ERR_NOT_FOUND)
        return se;
    gh_err err =
        gh_sso_remote_introspect(remote, p, ep, se == GH_OK ? secret : NULL, token, &answer);
    sodium_memzero(secret, sizeof(secret));
    if (err != GH_OK) {
        *reason = err == GH_ERR_INVALID ? "provider_answer_invalid" : "provider_unavailable";
        return GH_ERR_IO;
    }
    const char *client = json_string_value(json_object_get(answer, "client_id"));
    if (!json_is_true(json_object_get(answer, "active"))) {
        *reason = "token_refused";
        err = GH_ERR_AUTH;
    } else if (client == NULL || !gh_sso_client_listed(p->allowed_client_ids, client)) {
        *reason = "token_other_client";
        err = GH_ERR_AUTH;
    }
    json_decref(answer);
    return err;
}

/* Google's tokeninfo: the app is its aud (the client the token was issued to; azp, the
 * party it was handed to, when aud is not listed). */
static gh_err by_tokeninfo(struct gh_sso_remote *remote, const struct gh_sso_provider *p,
                           const char *token, const char **reason)
{
    json_t *answer = NULL;
    gh_err err = gh_sso_remote_tokeninfo(remote, p, token, &answer);
    if (err == GH_ERR_AUTH) {
        *reason = "token_refused";
        return err;
    }
    if (err != GH_OK) {
        *reason = err == GH_ERR_INVALID ? "provider_answer_invalid" : "provider_unavailable";
        return GH_ERR_IO;
    }
    const char *aud = json_string_value(json_object_get(answer, "aud"));
    const char *azp = json_string_value(json_object_get(answer, "azp"));
    if ((aud == NULL || !gh_sso_client_listed(p->allowed_client_ids, aud)) &&
        (azp == NULL || !gh_sso_client_listed(p->allowed_client_ids, azp))) {
        *reason = "token_other_client";
        err = GH_ERR_AUTH;
    }
    json_decref(answer);
    return err;
}

gh_err gh_sso_token_client(struct gh_ssop *providers, struct gh_sso_remote *remote,
                           const struct gh_sso_provider *p, const struct gh_sso_endpoints *ep,
                           const char *access_token, const char **reason)
{
    if (p->tokeninfo_endpoint[0] != '\0')
        return by_tokeninfo(remote, p, access_token, reason);
    if (ep->introspection[0] != '\0')
        return by_introspection(providers, remote, p, ep, access_token, reason);
    json_t *claims = jwt_payload(access_token);
    const char *client = claims != NULL ? claimed_client(claims) : NULL;
    int ok = client != NULL && gh_sso_client_listed(p->allowed_client_ids, client);
    json_decref(claims);
    if (!ok) {
        *reason = "token_other_client";
        return GH_ERR_AUTH;
    }
    return GH_OK;
}

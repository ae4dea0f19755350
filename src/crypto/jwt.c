#include "crypto/jwt.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "core/buf.h"
#include "crypto/b64url.h"

#define RING_MAX 16
#define HEADER_MAX 1024

struct gh_keyring {
    struct gh_sigkey *keys[RING_MAX];
    size_t n;
    int active; /* index into keys, -1 for none */
};

gh_err gh_keyring_new(struct gh_keyring **out)
{
    struct gh_keyring *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return GH_ERR_NOMEM;
    r->active = -1;
    *out = r;
    return GH_OK;
}

void gh_keyring_free(struct gh_keyring *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        gh_sigkey_free(r->keys[i]);
    free(r);
}

gh_err gh_keyring_add(struct gh_keyring *r, struct gh_sigkey *key, int active)
{
    const char *kid = gh_sigkey_kid(key);
    if (gh_keyring_find(r, kid, strlen(kid)) != NULL) {
        gh_sigkey_free(key);
        return GH_ERR_CONFLICT;
    }
    if (r->n == RING_MAX) {
        gh_sigkey_free(key);
        return GH_ERR_TOO_LARGE;
    }
    r->keys[r->n] = key;
    if (active)
        r->active = (int)r->n;
    r->n++;
    return GH_OK;
}

const struct gh_sigkey *gh_keyring_active(const struct gh_keyring *r)
{
    return r->active >= 0 ? r->keys[r->active] : NULL;
}

const struct gh_sigkey *gh_keyring_find(const struct gh_keyring *r, const char *kid,
                                        size_t kid_len)
{
    for (size_t i = 0; i < r->n; i++) {
        const char *k = gh_sigkey_kid(r->keys[i]);
        if (strlen(k) == kid_len && memcmp(k, kid, kid_len) == 0)
            return r->keys[i];
    }
    return NULL;
}

gh_err gh_keyring_jwks(const struct gh_keyring *r, char **out)
{
    json_t *keys = json_array();
    if (keys == NULL)
        return GH_ERR_NOMEM;
    for (size_t i = 0; i < r->n; i++) {
        json_t *jwk = NULL;
        gh_err err = gh_sigkey_public_jwk(r->keys[i], &jwk);
        if (err != GH_OK) {
            json_decref(keys);
            return err;
        }
        json_array_append_new(keys, jwk);
    }
    json_t *doc = json_pack("{s:o}", "keys", keys);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text == NULL)
        return GH_ERR_NOMEM;
    *out = text;
    return GH_OK;
}

/* ---- signing ---- */

/* Appends the base64url form of n bytes to b. */
static gh_err append_b64(struct gh_buf *b, const void *data, size_t n)
{
    size_t need = gh_b64url_encoded_len(n) + 1;
    char *tmp = malloc(need);
    if (tmp == NULL)
        return GH_ERR_NOMEM;
    size_t len = 0;
    gh_err err = gh_b64url_encode(data, n, tmp, need, &len);
    if (err == GH_OK)
        err = gh_buf_append(b, tmp, len);
    free(tmp);
    return err;
}

static json_t *split(const char *s, char sep)
{
    json_t *a = json_array();
    while (a != NULL && *s != '\0') {
        const char *end = strchr(s, sep);
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (n > 0 && json_array_append_new(a, json_stringn(s, n)) != 0) {
            json_decref(a);
            return NULL;
        }
        s += n;
        if (*s == sep)
            s++;
    }
    return a;
}

gh_err gh_jwt_sign(const struct gh_keyring *r, const struct gh_claims *c, char **out)
{
    const struct gh_sigkey *key = gh_keyring_active(r);
    if (key == NULL)
        return GH_ERR_INVALID;

    gh_err err = GH_ERR_NOMEM;
    char *claims = NULL;
    struct gh_buf b;
    gh_buf_init(&b, GH_JWT_MAX);
    json_t *header = json_pack("{s:s, s:s, s:s}", "alg", gh_alg_name(gh_sigkey_alg(key)), "kid",
                               gh_sigkey_kid(key), "typ", "at+jwt");
    json_t *body = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:o*, s:o*, s:I}", "iss",
                             c->iss, "sub", c->sub, "aud", c->aud, "exp", (json_int_t)c->exp,
                             "iat", (json_int_t)c->iat, "nbf", (json_int_t)c->nbf, "jti", c->jti,
                             "org", c->org, "roles", split(c->roles, ','), "perms",
                             split(c->perms, ' '), "gh_ep", (json_int_t)c->epoch);
    char *htext = header ? json_dumps(header, JSON_COMPACT) : NULL;
    claims = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (htext == NULL || claims == NULL)
        goto out;
    if ((err = append_b64(&b, htext, strlen(htext))) != GH_OK ||
        (err = gh_buf_append(&b, ".", 1)) != GH_OK ||
        (err = append_b64(&b, claims, strlen(claims))) != GH_OK)
        goto out;

    uint8_t sig[GH_SIG_MAX];
    size_t sig_len = 0;
    if ((err = gh_sigkey_sign(key, (const uint8_t *)b.ptr, b.len, sig, sizeof(sig), &sig_len)) !=
            GH_OK ||
        (err = gh_buf_append(&b, ".", 1)) != GH_OK || (err = append_b64(&b, sig, sig_len)) != GH_OK)
        goto out;
    *out = gh_buf_take(&b);
out:
    free(htext);
    free(claims);
    json_decref(header);
    json_decref(body);
    gh_buf_clear(&b);
    return err;
}

/* ---- verification ---- */

/* Decodes a base64url segment and parses it as a JSON object (duplicates refused). */
static gh_err decode_json(const char *seg, size_t len, size_t max, json_t **out)
{
    if (len == 0 || gh_b64url_encoded_len(max) < len)
        return GH_ERR_AUTH;
    uint8_t *raw = malloc(len);
    size_t n = 0;
    if (raw == NULL)
        return GH_ERR_NOMEM;
    gh_err err = GH_ERR_AUTH;
    if (gh_b64url_decode(seg, len, raw, len, &n) == GH_OK) {
        json_t *j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object(j)) {
            *out = j;
            err = GH_OK;
        } else {
            json_decref(j);
        }
    }
    free(raw);
    return err;
}

static int typ_ok(const char *typ)
{
    if (strncasecmp(typ, "application/", 12) == 0)
        typ += 12;
    return strcasecmp(typ, "at+jwt") == 0;
}

/* Copies a required string claim without separators or overflow. */
static gh_err claim_string(const json_t *claims, const char *name, char *dst, size_t size)
{
    const json_t *v = json_object_get(claims, name);
    if (!json_is_string(v))
        return GH_ERR_AUTH;
    size_t n = json_string_length(v);
    if (n >= size || memchr(json_string_value(v), '\0', n) != NULL)
        return GH_ERR_AUTH;
    memcpy(dst, json_string_value(v), n + 1);
    return GH_OK;
}

static gh_err claim_int(const json_t *claims, const char *name, int required, int64_t *out)
{
    const json_t *v = json_object_get(claims, name);
    if (v == NULL && !required) {
        *out = 0;
        return GH_OK;
    }
    if (!json_is_integer(v))
        return GH_ERR_AUTH;
    *out = (int64_t)json_integer_value(v);
    return GH_OK;
}

/* Joins an optional array of strings with sep; members may not contain sep or ',' / ' '. */
static gh_err claim_list(const json_t *claims, const char *name, char sep, char *dst, size_t size)
{
    const json_t *v = json_object_get(claims, name);
    dst[0] = '\0';
    if (v == NULL)
        return GH_OK;
    if (!json_is_array(v))
        return GH_ERR_AUTH;
    size_t used = 0, i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item))
            return GH_ERR_AUTH;
        const char *s = json_string_value(item);
        size_t n = json_string_length(item);
        if (n == 0 || strcspn(s, ", ") != n || used + n + 2 > size)
            return GH_ERR_AUTH;
        if (used > 0)
            dst[used++] = sep;
        memcpy(dst + used, s, n);
        used += n;
        dst[used] = '\0';
    }
    return GH_OK;
}

static int audience_ok(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    if (!json_is_array(aud))
        return 0;
    size_t i;
    const json_t *item;
    json_array_foreach(aud, i, item)
    {
        if (json_is_string(item) && strcmp(json_string_value(item), want) == 0)
            return 1;
    }
    return 0;
}

static gh_err read_claims(const json_t *j, const struct gh_jwt_expect *expect, struct gh_claims *c)
{
    memset(c, 0, sizeof(*c));
    if (claim_string(j, "iss", c->iss, sizeof(c->iss)) != GH_OK ||
        strcmp(c->iss, expect->iss) != 0)
        return GH_ERR_AUTH;
    const json_t *aud = json_object_get(j, "aud");
    if (!audience_ok(aud, expect->aud))
        return GH_ERR_AUTH;
    snprintf(c->aud, sizeof(c->aud), "%s", expect->aud);
    if (claim_string(j, "sub", c->sub, sizeof(c->sub)) != GH_OK ||
        claim_string(j, "jti", c->jti, sizeof(c->jti)) != GH_OK ||
        claim_string(j, "org", c->org, sizeof(c->org)) != GH_OK ||
        claim_int(j, "exp", 1, &c->exp) != GH_OK || claim_int(j, "iat", 1, &c->iat) != GH_OK ||
        claim_int(j, "nbf", 1, &c->nbf) != GH_OK || claim_int(j, "gh_ep", 0, &c->epoch) != GH_OK ||
        claim_list(j, "roles", ',', c->roles, sizeof(c->roles)) != GH_OK ||
        claim_list(j, "perms", ' ', c->perms, sizeof(c->perms)) != GH_OK)
        return GH_ERR_AUTH;
    if (c->exp <= expect->now - expect->leeway)
        return GH_ERR_EXPIRED;
    if (c->nbf > expect->now + expect->leeway || c->iat > expect->now + expect->leeway)
        return GH_ERR_NOT_YET;
    return GH_OK;
}

gh_err gh_jwt_verify(const struct gh_keyring *r, const char *token, size_t len,
                     const struct gh_jwt_expect *expect, struct gh_claims *out)
{
    if (len > GH_JWT_MAX)
        return GH_ERR_TOO_LARGE;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return GH_ERR_AUTH;

    json_t *header = NULL, *claims = NULL;
    gh_err err = decode_json(token, (size_t)(dot1 - token), HEADER_MAX, &header);
    if (err != GH_OK)
        return err;

    /* The key comes from kid; the algorithm comes from the key and must match the header. */
    err = GH_ERR_AUTH;
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *kid = json_string_value(json_object_get(header, "kid"));
    const char *typ = json_string_value(json_object_get(header, "typ"));
    if (alg == NULL || kid == NULL || typ == NULL || !typ_ok(typ) ||
        json_object_get(header, "crit") != NULL)
        goto out;
    const struct gh_sigkey *key =
        gh_keyring_find(r, kid, json_string_length(json_object_get(header, "kid")));
    if (key == NULL || strcmp(alg, gh_alg_name(gh_sigkey_alg(key))) != 0)
        goto out;

    uint8_t sig[GH_SIG_MAX];
    size_t sig_len = 0;
    const char *sig_text = dot2 + 1;
    size_t sig_text_len = len - (size_t)(sig_text - token);
    if (sig_text_len == 0 || sig_text_len > gh_b64url_encoded_len(sizeof(sig)) ||
        gh_b64url_decode(sig_text, sig_text_len, sig, sizeof(sig), &sig_len) != GH_OK)
        goto out;
    if (gh_sigkey_verify(key, (const uint8_t *)token, (size_t)(dot2 - token), sig, sig_len) !=
        GH_OK)
        goto out;

    /* Only now, with the signature proven, are the claims read. */
    if ((err = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1), GH_JWT_MAX, &claims)) != GH_OK)
        goto out;
    struct gh_claims c;
    if ((err = read_claims(claims, expect, &c)) == GH_OK)
        *out = c;
out:
    json_decref(header);
    json_decref(claims);
    return err;
}

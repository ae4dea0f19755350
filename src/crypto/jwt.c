#include "crypto/jwt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/secure_json.h"
#include "crypto/b64url.h"

#define RING_MAX 16
#define HEADER_MAX 1024

/*
 * The lock is taken for reading by sign, verify and the JWKS readers, and for writing by
 * add and replace, so a reload never frees a key or the JWKS text under a reader. The
 * token cache sits in front of verify: a cache hit never touches the ring.
 */
struct gh_keyring {
    pthread_rwlock_t lock;
    struct gh_sigkey *keys[RING_MAX];
    size_t n;
    int active; /* index into keys, -1 for none */
    char *jwks; /* {"keys":[...]} rendered at each change; NULL while the ring is empty */
};

/* The lock is not part of the ring's value: const readers still take it. */
static void read_lock(const struct gh_keyring *r)
{
    (void)pthread_rwlock_rdlock((pthread_rwlock_t *)&r->lock);
}

static void unlock(const struct gh_keyring *r)
{
    (void)pthread_rwlock_unlock((pthread_rwlock_t *)&r->lock);
}

gh_err gh_keyring_new(struct gh_keyring **out)
{
    struct gh_keyring *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return GH_ERR_NOMEM;
    pthread_rwlockattr_t attr;
    int ok = pthread_rwlockattr_init(&attr) == 0;
    /* glibc prefers readers by default: steady verification traffic could starve a reload. */
    if (ok)
        (void)pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (!ok || pthread_rwlock_init(&r->lock, &attr) != 0) {
        if (ok)
            pthread_rwlockattr_destroy(&attr);
        free(r);
        return GH_ERR_NOMEM;
    }
    pthread_rwlockattr_destroy(&attr);
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
    free(r->jwks);
    pthread_rwlock_destroy(&r->lock);
    free(r);
}

static const struct gh_sigkey *find(const struct gh_keyring *r, const char *kid, size_t kid_len)
{
    for (size_t i = 0; i < r->n; i++) {
        const char *k = gh_sigkey_kid(r->keys[i]);
        if (strlen(k) == kid_len && memcmp(k, kid, kid_len) == 0)
            return r->keys[i];
    }
    return NULL;
}

/* {"keys":[...]} of keys[0..n), in *out. */
static gh_err render_jwks(struct gh_sigkey *const *keys, size_t n, char **out)
{
    json_t *arr = json_array();
    if (arr == NULL)
        return GH_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *jwk = NULL;
        gh_err err = gh_sigkey_public_jwk(keys[i], &jwk);
        if (err == GH_OK && json_array_append_new(arr, jwk) != 0)
            err = GH_ERR_NOMEM;
        if (err != GH_OK) {
            json_decref(arr);
            return err;
        }
    }
    json_t *doc = json_pack("{s:o}", "keys", arr);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    char *copy = text != NULL ? strdup(text) : NULL; /* freed with free(), as strdup's copies */
    gh_secure_json_free(text);
    if (copy == NULL)
        return GH_ERR_NOMEM;
    *out = copy;
    return GH_OK;
}

gh_err gh_keyring_add(struct gh_keyring *r, struct gh_sigkey *key, int active)
{
    gh_err err = GH_OK;
    char *jwks = NULL;
    const char *kid = gh_sigkey_kid(key);
    pthread_rwlock_wrlock(&r->lock);
    if (find(r, kid, strlen(kid)) != NULL)
        err = GH_ERR_CONFLICT;
    else if (r->n == RING_MAX)
        err = GH_ERR_TOO_LARGE;
    else {
        r->keys[r->n] = key;
        if ((err = render_jwks(r->keys, r->n + 1, &jwks)) == GH_OK) {
            free(r->jwks);
            r->jwks = jwks;
            if (active)
                r->active = (int)r->n;
            r->n++;
        }
    }
    pthread_rwlock_unlock(&r->lock);
    if (err != GH_OK)
        gh_sigkey_free(key);
    return err;
}

gh_err gh_keyring_replace(struct gh_keyring *r, struct gh_keyring *from)
{
    struct gh_sigkey *old[RING_MAX];
    char *jwks = NULL;
    size_t n_old = 0;
    if (from->active < 0)
        return GH_ERR_INVALID;
    gh_err err = render_jwks(from->keys, from->n, &jwks);
    if (err != GH_OK)
        return err;
    pthread_rwlock_wrlock(&r->lock);
    n_old = r->n;
    memcpy(old, r->keys, n_old * sizeof(old[0]));
    memcpy(r->keys, from->keys, from->n * sizeof(r->keys[0]));
    r->n = from->n;
    r->active = from->active;
    char *old_jwks = r->jwks;
    r->jwks = jwks;
    pthread_rwlock_unlock(&r->lock);
    /* No reader can hold the old keys now: they were reachable only under the lock. */
    for (size_t i = 0; i < n_old; i++)
        gh_sigkey_free(old[i]);
    free(old_jwks);
    from->n = 0;
    from->active = -1;
    gh_keyring_free(from);
    return GH_OK;
}

const struct gh_sigkey *gh_keyring_active(const struct gh_keyring *r)
{
    return r->active >= 0 ? r->keys[r->active] : NULL;
}

const struct gh_sigkey *gh_keyring_find(const struct gh_keyring *r, const char *kid, size_t kid_len)
{
    return find(r, kid, kid_len);
}

size_t gh_keyring_size(const struct gh_keyring *r)
{
    read_lock(r);
    size_t n = r->n;
    unlock(r);
    return n;
}

size_t gh_keyring_algs(const struct gh_keyring *r, enum gh_alg *out, size_t max)
{
    size_t n = 0;
    read_lock(r);
    /* The active key's algorithm first, then the others once each. */
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->n && n < max; i++) {
            if ((pass == 0) != ((int)i == r->active))
                continue;
            enum gh_alg a = gh_sigkey_alg(r->keys[i]);
            size_t j = 0;
            while (j < n && out[j] != a)
                j++;
            if (j == n)
                out[n++] = a;
        }
    }
    unlock(r);
    return n;
}

gh_err gh_keyring_read_jwks(const struct gh_keyring *r,
                            void (*use)(void *arg, const char *text, size_t len), void *arg)
{
    gh_err err = GH_ERR_NOT_FOUND;
    read_lock(r);
    if (r->jwks != NULL) {
        use(arg, r->jwks, strlen(r->jwks));
        err = GH_OK;
    }
    unlock(r);
    return err;
}

gh_err gh_keyring_jwks(const struct gh_keyring *r, char **out)
{
    gh_err err = GH_OK;
    char *copy = NULL;
    read_lock(r);
    if (r->jwks != NULL)
        copy = strdup(r->jwks);
    else
        err = render_jwks(r->keys, 0, &copy);
    unlock(r);
    if (err == GH_OK && copy == NULL)
        err = GH_ERR_NOMEM;
    if (err == GH_OK)
        *out = copy;
    return err;
}

/* ---- signing ---- */

/* Appends the base64url form of n bytes (n <= GH_JWT_MAX) to b. */
static gh_err append_b64(struct gh_buf *b, const void *data, size_t n)
{
    char tmp[GH_JWT_MAX / 3 * 4 + 8];
    size_t len = 0;
    gh_err err = gh_b64url_encode(data, n, tmp, sizeof(tmp), &len);
    if (err == GH_OK)
        err = gh_buf_append(b, tmp, len);
    return err;
}

/* A NUL-terminated field of the claims struct, or NULL when the NUL is missing. */
#define FIELD(c, f) (memchr((c)->f, '\0', sizeof((c)->f)) != NULL ? (c)->f : NULL)

/* The JSON array of the non-empty sep-separated items of s, in *out. */
static gh_err split(const char *s, char sep, json_t **out)
{
    if (s == NULL)
        return GH_ERR_INVALID;
    json_t *a = json_array();
    if (a == NULL)
        return GH_ERR_NOMEM;
    while (*s != '\0') {
        const char *end = strchr(s, sep);
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (n > 0 && json_array_append_new(a, json_stringn(s, n)) != 0) {
            json_decref(a);
            return GH_ERR_INVALID; /* not UTF-8, or out of memory */
        }
        s += n;
        if (*s == sep)
            s++;
    }
    *out = a;
    return GH_OK;
}

gh_err gh_jwt_sign(const struct gh_keyring *r, const struct gh_claims *c, char **out)
{
    read_lock(r);
    gh_err err = GH_ERR_INVALID;
    const struct gh_sigkey *key = gh_keyring_active(r);
    char *htext = NULL, *claims = NULL;
    json_t *header = NULL, *body = NULL, *roles = NULL, *perms = NULL;
    uint8_t sig[GH_SIG_MAX];
    size_t sig_len = 0;
    struct gh_buf b;
    gh_buf_init(&b, GH_JWT_MAX);

    const char *iss = FIELD(c, iss), *sub = FIELD(c, sub), *aud = FIELD(c, aud);
    const char *jti = FIELD(c, jti), *org = FIELD(c, org);
    if (key == NULL || iss == NULL || sub == NULL || aud == NULL || jti == NULL || org == NULL ||
        (err = split(FIELD(c, roles), ',', &roles)) != GH_OK ||
        (err = split(FIELD(c, perms), ' ', &perms)) != GH_OK)
        goto out;
    header = json_pack("{s:s, s:s, s:s}", "alg", gh_alg_name(gh_sigkey_alg(key)), "kid",
                       gh_sigkey_kid(key), "typ", "at+jwt");
    /* "O" takes new references: roles and perms are released below in every case. */
    body = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:O, s:O, s:I}", "iss", iss, "sub",
                     sub, "aud", aud, "exp", (json_int_t)c->exp, "iat", (json_int_t)c->iat, "nbf",
                     (json_int_t)c->nbf, "jti", jti, "org", org, "roles", roles, "perms", perms,
                     "gh_ep", (json_int_t)c->epoch);
    if (header == NULL || body == NULL)
        goto out; /* a string that is not UTF-8 */
    err = GH_ERR_NOMEM;
    /* Absent when 0: the claims of a user never removed from the org stay as they were. */
    if ((c->org_epoch > 0 &&
         json_object_set_new(body, "gh_oep", json_integer((json_int_t)c->org_epoch)) != 0) ||
        (c->auth_time > 0 &&
         json_object_set_new(body, "auth_time", json_integer((json_int_t)c->auth_time)) != 0))
        goto out;
    htext = json_dumps(header, JSON_COMPACT);
    claims = json_dumps(body, JSON_COMPACT);
    if (htext == NULL || claims == NULL)
        goto out;
    if ((err = append_b64(&b, htext, strlen(htext))) != GH_OK ||
        (err = gh_buf_append(&b, ".", 1)) != GH_OK ||
        (err = append_b64(&b, claims, strlen(claims))) != GH_OK ||
        (err = gh_sigkey_sign(key, (const uint8_t *)b.ptr, b.len, sig, sizeof(sig), &sig_len)) !=
            GH_OK ||
        (err = gh_buf_append(&b, ".", 1)) != GH_OK || (err = append_b64(&b, sig, sig_len)) != GH_OK)
        goto out;
    *out = gh_buf_take(&b);
out:
    unlock(r);
    gh_secure_json_free(htext);
    gh_secure_json_free(claims);
    json_decref(header);
    json_decref(body);
    json_decref(roles);
    json_decref(perms);
    gh_buf_clear(&b);
    return err;
}

/* ---- verification ---- */

/*
 * Decodes a base64url segment of at most max decoded bytes into buf (max bytes) and parses
 * it as a JSON object, duplicate names refused. The caller's stack holds the bytes:
 * verification is the hot path.
 */
static gh_err decode_json(const char *seg, size_t len, uint8_t *buf, size_t max, json_t **out)
{
    size_t n = 0;
    if (len == 0 || len > gh_b64url_encoded_len(max) ||
        gh_b64url_decode(seg, len, buf, max, &n) != GH_OK)
        return GH_ERR_AUTH;
    json_t *j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return GH_ERR_AUTH;
    }
    *out = j;
    return GH_OK;
}

static int typ_ok(const json_t *typ)
{
    const char *s = json_string_value(typ);
    if (s == NULL)
        return 0;
    if (strncasecmp(s, "application/", 12) == 0)
        s += 12;
    return strcasecmp(s, "at+jwt") == 0;
}

/* Copies a required string claim that fits dst (with its NUL). */
static gh_err claim_string(const json_t *claims, const char *name, char *dst, size_t size)
{
    const json_t *v = json_object_get(claims, name);
    if (!json_is_string(v))
        return GH_ERR_AUTH;
    size_t n = json_string_length(v);
    /* jansson refuses \u0000 unless JSON_ALLOW_NUL, so the value has no inner NUL. */
    if (n >= size)
        return GH_ERR_AUTH;
    memcpy(dst, json_string_value(v), n + 1);
    return GH_OK;
}

/* An integer claim (1e9 and 1.0 are reals in jansson, so they fail here). */
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

/*
 * Joins an optional array of non-empty strings with sep into dst (size bytes with the NUL).
 * A member containing sep could not be told apart after joining, so it is refused.
 */
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
        size_t n = json_string_length(item), extra = used > 0;
        if (n == 0 || memchr(s, sep, n) != NULL || n + extra >= size - used)
            return GH_ERR_AUTH;
        if (extra)
            dst[used++] = sep;
        memcpy(dst + used, s, n);
        used += n;
        dst[used] = '\0';
    }
    return GH_OK;
}

/* "aud" is our audience, or an array of strings that holds it. */
static int audience_ok(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    if (!json_is_array(aud))
        return 0;
    int found = 0;
    size_t i;
    const json_t *item;
    json_array_foreach(aud, i, item)
    {
        if (!json_is_string(item))
            return 0;
        if (strcmp(json_string_value(item), want) == 0)
            found = 1;
    }
    return found;
}

static gh_err read_claims(const json_t *j, const struct gh_jwt_expect *expect, struct gh_claims *c)
{
    if (claim_string(j, "iss", c->iss, sizeof(c->iss)) != GH_OK ||
        strcmp(c->iss, expect->iss) != 0 || !audience_ok(json_object_get(j, "aud"), expect->aud))
        return GH_ERR_AUTH;
    size_t aud_len = strlen(expect->aud);
    if (aud_len >= sizeof(c->aud))
        return GH_ERR_AUTH;
    memcpy(c->aud, expect->aud, aud_len + 1);
    if (claim_string(j, "sub", c->sub, sizeof(c->sub)) != GH_OK ||
        claim_string(j, "jti", c->jti, sizeof(c->jti)) != GH_OK ||
        claim_string(j, "org", c->org, sizeof(c->org)) != GH_OK ||
        claim_int(j, "exp", 1, &c->exp) != GH_OK || claim_int(j, "iat", 1, &c->iat) != GH_OK ||
        claim_int(j, "nbf", 1, &c->nbf) != GH_OK || claim_int(j, "gh_ep", 0, &c->epoch) != GH_OK ||
        claim_int(j, "gh_oep", 0, &c->org_epoch) != GH_OK ||
        claim_int(j, "auth_time", 0, &c->auth_time) != GH_OK ||
        claim_list(j, "roles", ',', c->roles, sizeof(c->roles)) != GH_OK ||
        claim_list(j, "perms", ' ', c->perms, sizeof(c->perms)) != GH_OK)
        return GH_ERR_AUTH;
    if (c->exp <= expect->now - expect->leeway)
        return GH_ERR_EXPIRED;
    if (c->nbf > expect->now + expect->leeway || c->iat > expect->now + expect->leeway)
        return GH_ERR_NOT_YET;
    return GH_OK;
}

/*
 * The compact JWS token (len bytes) proven by a key of r: the key chosen by the header's
 * kid, the header's alg equal to that key's algorithm, typ accepted by typ_ok, no crit.
 * *claims gets the payload, parsed only once the signature is proven.
 */
static gh_err verify_signed(const struct gh_keyring *r, const char *token, size_t len,
                            int (*typ_accepted)(const json_t *typ), json_t **claims)
{
    if (len > GH_JWT_MAX)
        return GH_ERR_TOO_LARGE;
    const char *end = token + len;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL)
        return GH_ERR_AUTH;

    json_t *header = NULL;
    uint8_t raw[GH_JWT_MAX / 4 * 3];
    gh_err err = decode_json(token, (size_t)(dot1 - token), raw, HEADER_MAX, &header);
    if (err != GH_OK)
        return err;

    /* The key comes from kid; the algorithm comes from the key and must match the header. */
    err = GH_ERR_AUTH;
    const json_t *alg = json_object_get(header, "alg");
    const json_t *kid = json_object_get(header, "kid");
    if (!json_is_string(alg) || !json_is_string(kid) ||
        !typ_accepted(json_object_get(header, "typ")) || json_object_get(header, "crit") != NULL)
        goto out;
    uint8_t sig[GH_SIG_MAX];
    size_t sig_len = 0;
    const char *sig_text = dot2 + 1;
    size_t sig_text_len = (size_t)(end - sig_text);
    if (sig_text_len == 0 || sig_text_len > gh_b64url_encoded_len(sizeof(sig)) ||
        gh_b64url_decode(sig_text, sig_text_len, sig, sizeof(sig), &sig_len) != GH_OK)
        goto out;
    /* The key is used only under the ring's read lock: a reload may replace it. */
    read_lock(r);
    const struct gh_sigkey *key = find(r, json_string_value(kid), json_string_length(kid));
    int good =
        key != NULL && strcmp(json_string_value(alg), gh_alg_name(gh_sigkey_alg(key))) == 0 &&
        gh_sigkey_verify(key, (const uint8_t *)token, (size_t)(dot2 - token), sig, sig_len) ==
            GH_OK;
    unlock(r);
    if (!good)
        goto out;

    /* Only now, with the signature proven, are the claims parsed. */
    err = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1), raw, sizeof(raw), claims);
out:
    json_decref(header);
    return err;
}

gh_err gh_jwt_verify(const struct gh_keyring *r, const char *token, size_t len,
                     const struct gh_jwt_expect *expect, struct gh_claims *out)
{
    json_t *claims = NULL;
    gh_err err = verify_signed(r, token, len, typ_ok, &claims);
    if (err != GH_OK)
        return err;
    struct gh_claims c;
    memset(&c, 0, sizeof(c));
    if ((err = read_claims(claims, expect, &c)) == GH_OK)
        *out = c;
    json_decref(claims);
    return err;
}

/* Another issuer's token: no typ, or "JWT" (RFC 7519 §5.1). */
static int typ_jwt_ok(const json_t *typ)
{
    if (typ == NULL)
        return 1;
    const char *s = json_string_value(typ);
    return s != NULL && strcasecmp(s, "JWT") == 0;
}

gh_err gh_jws_verify(const struct gh_keyring *r, const char *token, size_t len, json_t **claims)
{
    return verify_signed(r, token, len, typ_jwt_ok, claims);
}

#include "authn/service.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "authn/apikey.h"
#include "authn/fields.h"
#include "authn/service_int.h"
#include "authn/views.h"
#include "core/cache.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "crypto/b64url.h"

#define DEFAULT_ORG "default"
#define ADMIN_PERMISSIONS "*:*"
#define USER_STATE_DEFAULT 65536 /* users whose state is cached when the token cache is off */

/* What the token cache keeps of a verified token: who, in which org, until when, under which
 * epochs (the user's, the user's in the org), signed in when; the token itself follows these
 * claims in the entry. What it may do comes from the membership, never from its claims. */
struct cached_token {
    char sub[GH_UUID_LEN + 1];
    char org[GH_UUID_LEN + 1];
    int64_t exp;
    int64_t epoch;
    int64_t org_epoch;
    int64_t auth_time;
};
#define TOKEN_CACHED_MAX (GH_CACHE_VALUE_MAX - sizeof(struct cached_token))

/*
 * The token cache finds a token by its last GH_CACHE_KEY_MAX bytes (a JWS ends with its
 * signature, which no two signed tokens share), placed by the cache's keyed SipHash, and
 * answers only when the whole token equals the one stored, compared in constant time in
 * the entry itself (gh_cache_get_proven). Entries are made only from tokens whose
 * signature verified, so a forged token that shares a tail finds the entry but not its
 * answer, and cannot replace it. This reads the token once instead of hashing it (SHA-256
 * of an RS256-4096 token, 1.2 KB, cost 1.4 us, more than the rest of a cached check). The
 * price: entries hold the token (wiped when dropped), so a full cache takes about
 * token_cache_size x 1.4 KB.
 */
static const char *token_tail(const char *token, size_t len, size_t *tail)
{
    *tail = len < GH_CACHE_KEY_MAX ? len : GH_CACHE_KEY_MAX;
    return token + len - *tail;
}

/* The claims cached for exactly this token into *ct; 0 when none. */
static int token_cached(struct gh_auth *a, const char *token, size_t len, int64_t now,
                        struct cached_token *ct)
{
    size_t tail;
    const char *key = token_tail(token, len, &tail);
    return gh_cache_get_proven(a->tokens, key, tail, now, token, len, ct, sizeof(*ct)) == GH_OK;
}

/* Entries are made after a signature check (100 us and more), so the copy costs nothing. */
static void token_remember(struct gh_auth *a, const char *token, size_t len,
                           const struct cached_token *ct)
{
    size_t tail;
    const char *key = token_tail(token, len, &tail);
    if (a->o.token_cache_size == 0 || len > TOKEN_CACHED_MAX)
        return;
    unsigned char *v = malloc(sizeof(*ct) + len);
    if (v == NULL)
        return; /* only a later miss */
    memcpy(v, ct, sizeof(*ct));
    memcpy(v + sizeof(*ct), token, len);
    (void)gh_cache_put(a->tokens, key, tail, v, sizeof(*ct) + len, ct->exp);
    sodium_memzero(v, sizeof(*ct) + len);
    free(v);
}

gh_err gh_auth_new(const struct gh_auth_opts *opts, const struct gh_store_handle *store,
                   const struct gh_keyring *ring, struct gh_auth **out)
{
    gh_err err = GH_ERR_NOMEM;
    struct gh_auth *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return GH_ERR_NOMEM;
    a->o = *opts;
    a->store = store;
    a->ring = ring;
    /* With the token cache off every token is verified, but the users' revocation state
     * stays cached: it is what keeps the check off the database. */
    size_t tokens = opts->token_cache_size ? opts->token_cache_size : 1;
    size_t users = opts->token_cache_size ? opts->token_cache_size : USER_STATE_DEFAULT;
    if ((err = gh_cache_new(tokens, &a->tokens)) != GH_OK ||
        (err = gh_views_new(store, users, &a->views)) != GH_OK ||
        (err = gh_apikeys_new(opts->api_key_pepper, opts->token_cache_size, store, a->views,
                              &a->keys)) != GH_OK)
        goto out;

    /* A hash of random bytes with the configured parameters: unknown users cost the same. */
    unsigned char rnd[24];
    randombytes_buf(rnd, sizeof(rnd));
    err = gh_password_hash(&a->o.pw, (const char *)rnd, sizeof(rnd), a->dummy_hash);
    sodium_memzero(rnd, sizeof(rnd));
    if (err != GH_OK)
        goto out;

    struct gh_org org;
    err = gh_store_org_find_name(store, DEFAULT_ORG, &org);
    if (err == GH_OK)
        memcpy(a->default_org, org.id, sizeof(a->default_org));
    else if (err == GH_ERR_NOT_FOUND)
        err = GH_OK; /* bootstrap creates it */
out:
    if (err != GH_OK) {
        gh_auth_free(a);
        return err;
    }
    *out = a;
    return GH_OK;
}

void gh_auth_free(struct gh_auth *a)
{
    if (a == NULL)
        return;
    if (a->keys != NULL && gh_apikey_flush(a->keys) != GH_OK)
        gh_log(GH_LOG_WARN, "api keys: the last uses could not be saved");
    gh_apikeys_free(a->keys);
    gh_cache_free(a->tokens);
    gh_views_free(a->views);
    free(a);
}

void gh_token_pair_clear(struct gh_token_pair *pair)
{
    if (pair == NULL)
        return;
    if (pair->access_token != NULL) {
        sodium_memzero(pair->access_token, strlen(pair->access_token));
        free(pair->access_token);
    }
    sodium_memzero(pair, sizeof(*pair));
}

/* ---- validation ---- */

gh_err gh_auth_policy(struct gh_auth *a, const char *pw, size_t len, const char *username,
                      const char *email, const char *full_name, struct gh_refusal *refusal)
{
    const char *words[4] = {username, email, full_name && *full_name ? full_name : NULL, NULL};
    unsigned failed = 0;
    gh_err err = gh_policy_check(&a->o.policy, pw, len, words, &failed);
    if (err == GH_ERR_POLICY) {
        refusal->field = "password";
        refusal->policy_failed = failed;
    }
    return err;
}

/* ---- tokens ---- */

/* OpenSSL's SHA-256 uses the CPU's SHA extensions; libsodium's is portable C. */
static void refresh_hash(const char *token, unsigned char out[GH_HASH_LEN])
{
    SHA256((const unsigned char *)token, strlen(token), out);
}

static gh_err new_refresh_token(char text[GH_REFRESH_TEXT], unsigned char hash[GH_HASH_LEN])
{
    unsigned char raw[32];
    size_t len = 0;
    randombytes_buf(raw, sizeof(raw));
    gh_err err = gh_b64url_encode(raw, sizeof(raw), text, GH_REFRESH_TEXT, &len);
    sodium_memzero(raw, sizeof(raw));
    if (err == GH_OK)
        refresh_hash(text, hash);
    return err;
}

/* Role names joined with ',' and permissions with ' ' for the membership in org, and the
 * user's epoch there (a removal from org moves it: this token ends, a re-add revives it not). */
static gh_err membership_claims(struct gh_auth *a, const char *user_id, const char *org_id,
                                struct gh_claims *c)
{
    struct gh_membership m;
    gh_err err = gh_store_member_get(a->store, org_id, user_id, &m);
    if (err != GH_OK)
        return err;
    c->org_epoch = m.epoch;
    if (gh_copy_field(c->org, sizeof(c->org), org_id) != GH_OK ||
        gh_copy_field(c->roles, sizeof(c->roles), m.role_name) != GH_OK ||
        gh_copy_field(c->perms, sizeof(c->perms), m.permissions) != GH_OK)
        return GH_ERR_INTERNAL;
    return GH_OK;
}

/* Signs an access token for user in org, signed in at auth_time, into pair->access_token. */
static gh_err issue_access(struct gh_auth *a, const struct gh_user *u, const char *org_id,
                           int64_t auth_time, struct gh_token_pair *pair)
{
    struct gh_claims c;
    memset(&c, 0, sizeof(c));
    gh_err err = membership_claims(a, u->id, org_id, &c);
    if (err != GH_OK)
        return err;
    int64_t now = gh_time_now();
    if (gh_copy_field(c.iss, sizeof(c.iss), a->o.issuer) != GH_OK ||
        gh_copy_field(c.aud, sizeof(c.aud), a->o.audience) != GH_OK ||
        gh_copy_field(c.sub, sizeof(c.sub), u->id) != GH_OK)
        return GH_ERR_INTERNAL;
    gh_uuid_v7(c.jti);
    c.iat = now;
    c.nbf = now;
    c.exp = now + a->o.access_ttl;
    c.epoch = u->token_epoch;
    c.auth_time = auth_time;
    err = gh_jwt_sign(a->ring, &c, &pair->access_token);
    if (err == GH_OK)
        pair->expires_in = a->o.access_ttl;
    return err;
}

/* Issues a token pair starting a new refresh family. The LOGIN record is written once the
 * membership is proven and before the refresh token exists: no session without its record,
 * and no record of a login refused for its org. */
static gh_err issue_pair(struct gh_auth *a, const struct gh_user *u, const char *org_id,
                         const char *method, const struct gh_reqmeta *meta,
                         struct gh_token_pair *out)
{
    struct gh_token_pair pair;
    struct gh_refresh_token rt;
    memset(&pair, 0, sizeof(pair));
    memset(&rt, 0, sizeof(rt));

    rt.auth_time = gh_time_now();
    gh_err err = issue_access(a, u, org_id, rt.auth_time, &pair);
    if (err != GH_OK)
        goto out;
    struct gh_audit_subject who = {u->id, u->username, org_id};
    char md[64];
    (void)snprintf(md, sizeof(md), "{\"method\":\"%s\"}", method);
    if ((err = gh_audit_record(a->store, "LOGIN", meta, &who, 200, md)) != GH_OK)
        goto out;
    if ((err = new_refresh_token(pair.refresh_token, rt.hash)) != GH_OK)
        goto out;
    gh_uuid_v7(rt.id);
    memcpy(rt.family_id, rt.id, sizeof(rt.family_id));
    memcpy(rt.user_id, u->id, sizeof(rt.user_id));
    memcpy(rt.org_id, org_id, GH_UUID_LEN + 1);
    rt.created_at = gh_time_now();
    rt.expires_at = rt.created_at + a->o.refresh_ttl;
    memcpy(pair.family_id, rt.family_id, sizeof(pair.family_id));
    memcpy(pair.org_id, rt.org_id, sizeof(pair.org_id));
    err = gh_store_refresh_insert(a->store, &rt);
out:
    if (err != GH_OK) {
        gh_token_pair_clear(&pair);
        return err;
    }
    *out = pair;
    return GH_OK;
}

const char *gh_auth_default_org(const struct gh_auth *a)
{
    return a->default_org;
}

struct gh_apikeys *gh_auth_apikeys(const struct gh_auth *a)
{
    return a->keys;
}

struct gh_views *gh_auth_views(const struct gh_auth *a)
{
    return a->views;
}

void gh_auth_cache_stats(struct gh_auth *a, uint64_t tokens[2], uint64_t keys[2])
{
    gh_cache_stats(a->tokens, &tokens[0], &tokens[1]);
    gh_apikeys_cache_stats(a->keys, &keys[0], &keys[1]);
}

void gh_auth_set_audit_pool(struct gh_auth *a, struct gh_pool *pool)
{
    gh_apikeys_set_audit_pool(a->keys, pool);
}

gh_err gh_auth_set_primary_org(struct gh_auth *a, const struct gh_identity *who, const char *org_id)
{
    return gh_store_user_set_primary_org(a->store, who->user_id, org_id);
}

/* ---- bootstrap and users ---- */

static gh_err create_user(struct gh_auth *a, const struct gh_register_input *in, int superadmin,
                          const char *role, struct gh_user *out, struct gh_refusal *refusal)
{
    struct gh_user u;
    char hash[GH_PWHASH_MAX];
    memset(&u, 0, sizeof(u));
    memset(hash, 0, sizeof(hash));
    const char *full_name = in->full_name ? in->full_name : "";

    if (!gh_field_username_ok(in->username)) {
        refusal->field = "username";
        return GH_ERR_INVALID;
    }
    if (!gh_field_email_ok(in->email)) {
        refusal->field = "email";
        return GH_ERR_INVALID;
    }
    if (!gh_field_text_ok(full_name, 256)) {
        refusal->field = "full_name";
        return GH_ERR_INVALID;
    }
    gh_err err = gh_auth_policy(a, in->password, in->password_len, in->username, in->email,
                                full_name, refusal);
    if (err != GH_OK)
        return err;

    gh_uuid_v7(u.id);
    if (gh_copy_field(u.username, sizeof(u.username), in->username) != GH_OK ||
        gh_copy_field(u.email, sizeof(u.email), in->email) != GH_OK ||
        gh_copy_field(u.full_name, sizeof(u.full_name), full_name) != GH_OK) {
        refusal->field = "email";
        return GH_ERR_INVALID;
    }
    memcpy(u.primary_org_id, a->default_org, sizeof(u.primary_org_id));
    u.superadmin = superadmin;
    u.created_at = u.updated_at = gh_time_now();
    if ((err = gh_password_hash(&a->o.pw, in->password, in->password_len, hash)) != GH_OK)
        goto out;
    if ((err = gh_store_user_create(a->store, &u, hash)) != GH_OK)
        goto out;
    if ((err = gh_store_member_add(a->store, a->default_org, u.id, role, u.created_at)) != GH_OK)
        goto out;
    *out = u;
out:
    sodium_memzero(hash, sizeof(hash));
    sodium_memzero(&u, sizeof(u));
    return err;
}

gh_err gh_auth_bootstrap(struct gh_auth *a, const char *password, char generated[32])
{
    int64_t users = 0;
    gh_err err;
    generated[0] = '\0';
    if (a->default_org[0] == '\0') {
        struct gh_org org;
        memset(&org, 0, sizeof(org));
        gh_uuid_v7(org.id);
        memcpy(org.name, DEFAULT_ORG, sizeof(DEFAULT_ORG));
        org.created_at = gh_time_now();
        err = gh_store_org_create(a->store, &org, ADMIN_PERMISSIONS, a->o.member_permissions);
        if (err != GH_OK)
            return err;
        memcpy(a->default_org, org.id, sizeof(a->default_org));
    }
    if ((err = gh_store_user_count(a->store, &users)) != GH_OK || users > 0)
        return err;

    if (password == NULL || *password == '\0') {
        /* 24 characters of base64url: 144 bits, well past any guessability check. */
        unsigned char raw[18];
        size_t len = 0;
        randombytes_buf(raw, sizeof(raw));
        err = gh_b64url_encode(raw, sizeof(raw), generated, 32, &len);
        sodium_memzero(raw, sizeof(raw));
        if (err != GH_OK)
            return err;
        password = generated;
    }
    struct gh_register_input in = {"admin", "admin@localhost", "Administrator", password,
                                   strlen(password)};
    struct gh_user u;
    struct gh_refusal refusal = {NULL, 0};
    /* The operator chose this password: the policy applies to it as to anyone's. */
    err = create_user(a, &in, 1, "admin", &u, &refusal);
    if (err == GH_ERR_POLICY) {
        /* The rules by name, as the API's 422 password_policy lists them. */
        char rules[128] = "";
        size_t used = 0;
        for (unsigned bit = 0; bit < GH_RULE_COUNT; bit++) {
            if ((refusal.policy_failed & (1u << bit)) && used < sizeof(rules))
                used += (size_t)snprintf(rules + used, sizeof(rules) - used, "%s%s",
                                         used > 0 ? ", " : "", gh_policy_rule_name(1u << bit));
        }
        gh_log(GH_LOG_ERROR,
               "bootstrap: GATEHOUSE_ADMIN_PASSWORD breaks the password policy (failed rules: %s)",
               rules);
    }
    return err;
}

gh_err gh_auth_register(struct gh_auth *a, const struct gh_register_input *in, int superadmin,
                        const struct gh_reqmeta *meta, struct gh_user *out,
                        struct gh_refusal *refusal)
{
    struct gh_user u;
    gh_err err = create_user(a, in, superadmin, "member", &u, refusal);
    if (err != GH_OK)
        return err;
    struct gh_audit_subject who = {u.id, u.username, u.primary_org_id};
    if ((err = gh_audit_record(a->store, "REGISTER", meta, &who, 201, NULL)) != GH_OK) {
        /* No account without its record: the new one is disabled before it is ever used. */
        int64_t epoch = 0;
        (void)gh_store_user_set_disabled(a->store, u.id, 1, gh_time_now(), &epoch);
        return err;
    }
    *out = u;
    return GH_OK;
}

/* ---- login and tokens ---- */

/* GH_ERR_AUTH once the failure is recorded; the store's error when it cannot be (an
 * unrecorded guess must not be answered as an ordinary one). */
static gh_err audit_login_failed(struct gh_auth *a, const struct gh_reqmeta *meta,
                                 const char *login, const struct gh_user *u, const char *reason)
{
    char md[64];
    snprintf(md, sizeof(md), "{\"reason\":\"%s\"}", reason);
    struct gh_audit_subject who = {u ? u->id : NULL, u ? u->username : login, NULL};
    gh_err err = gh_audit_record(a->store, "LOGIN_FAILED", meta, &who, 401, md);
    return err == GH_OK ? GH_ERR_AUTH : err;
}

gh_err gh_auth_check_password(struct gh_auth *a, const char *login, const char *password,
                              size_t len, const struct gh_reqmeta *meta, struct gh_user *out)
{
    struct gh_user u;
    struct gh_credentials cr;
    char safe_login[65];
    memset(&cr, 0, sizeof(cr));
    snprintf(safe_login, sizeof(safe_login), "%s", login); /* bounded copy for the audit */

    gh_err err = gh_store_user_find_login(a->store, login, &u);
    if (err == GH_ERR_NOT_FOUND) {
        gh_err same_work = gh_password_verify(a->dummy_hash, password, len);
        (void)same_work;
        return audit_login_failed(a, meta, safe_login, NULL, "unknown_user");
    }
    if (err != GH_OK)
        return err;
    /* The one read of the hash, apart from the display read above. */
    err = gh_store_user_get_credentials(a->store, u.id, &cr);
    if (err == GH_ERR_NOT_FOUND) { /* deleted in between: as if unknown */
        gh_err same_work = gh_password_verify(a->dummy_hash, password, len);
        (void)same_work;
        return audit_login_failed(a, meta, safe_login, NULL, "unknown_user");
    }
    if (err != GH_OK)
        return err;

    /* a user made by SSO has no password: refused after the same work as a wrong one */
    err = gh_password_verify(cr.password_hash[0] ? cr.password_hash : a->dummy_hash, password, len);
    if (cr.password_hash[0] == '\0')
        err = GH_ERR_AUTH;
    if (err != GH_OK || u.disabled) {
        err =
            audit_login_failed(a, meta, safe_login, &u, err != GH_OK ? "bad_password" : "disabled");
        goto out;
    }
    if (gh_password_needs_rehash(&a->o.pw, cr.password_hash)) {
        char hash[GH_PWHASH_MAX];
        int64_t epoch = 0;
        if (gh_password_hash(&a->o.pw, password, len, hash) == GH_OK &&
            gh_store_user_set_password(a->store, u.id, hash, 0, gh_time_now(), &epoch) != GH_OK)
            gh_log(GH_LOG_WARN, "login: could not upgrade a password hash");
        sodium_memzero(hash, sizeof(hash));
    }
    *out = u;
out:
    sodium_memzero(&cr, sizeof(cr));
    return err;
}

gh_err gh_auth_issue(struct gh_auth *a, const struct gh_user *u, const char *org_id,
                     const char *method, const struct gh_reqmeta *meta, struct gh_token_pair *out)
{
    gh_err err = issue_pair(a, u, org_id != NULL ? org_id : u->primary_org_id, method, meta, out);
    if (err == GH_OK)
        gh_views_remember(a->views, u, NULL);
    return err;
}

gh_err gh_auth_login(struct gh_auth *a, const char *login, const char *password, size_t len,
                     const char *org_id, const struct gh_reqmeta *meta, struct gh_token_pair *out)
{
    struct gh_user u;
    gh_err err = gh_auth_check_password(a, login, password, len, meta, &u);
    return err == GH_OK ? gh_auth_issue(a, &u, org_id, "password", meta, out) : err;
}

/* Before a refresh that switches org: the owner of a live token must be a member there.
 * A dead or unknown token passes to the rotation, which refuses it (and detects reuse). */
static gh_err may_switch(struct gh_auth *a, const unsigned char hash[GH_HASH_LEN],
                         const char *org_id)
{
    struct gh_refresh_token t;
    struct gh_membership m;
    gh_err err = gh_store_refresh_get(a->store, hash, gh_time_now(), &t);
    if (err == GH_ERR_NOT_FOUND)
        return GH_OK;
    if (err != GH_OK)
        return err;
    return gh_store_member_get(a->store, org_id, t.user_id, &m);
}

gh_err gh_auth_refresh(struct gh_auth *a, const char *refresh_token, const char *org_id,
                       const struct gh_reqmeta *meta, struct gh_token_pair *out)
{
    struct gh_token_pair pair;
    struct gh_refresh_token next, spent;
    unsigned char old_hash[GH_HASH_LEN];
    struct gh_user u;
    memset(&pair, 0, sizeof(pair));
    memset(&next, 0, sizeof(next));
    memset(&u, 0, sizeof(u));

    if (strlen(refresh_token) != GH_REFRESH_TEXT - 1)
        return GH_ERR_AUTH;
    refresh_hash(refresh_token, old_hash);
    gh_err err = GH_OK;
    if (org_id != NULL) {
        if ((err = may_switch(a, old_hash, org_id)) != GH_OK)
            return err;
        if ((err = gh_copy_field(next.org_id, sizeof(next.org_id), org_id)) != GH_OK)
            return GH_ERR_NOT_FOUND;
    }
    if ((err = new_refresh_token(pair.refresh_token, next.hash)) != GH_OK)
        goto out;
    int64_t now = gh_time_now();
    gh_uuid_v7(next.id);
    next.created_at = now;
    next.expires_at = now + a->o.refresh_ttl;

    err = gh_store_refresh_rotate(a->store, old_hash, &next, now, &spent);
    if (err == GH_ERR_REUSED) {
        char md[96];
        snprintf(md, sizeof(md), "{\"family_id\":\"%s\"}", spent.family_id);
        struct gh_audit_subject who = {spent.user_id, NULL, spent.org_id};
        gh_views_forget(a->views, spent.user_id); /* its session ended with the family */
        err = gh_audit_record(a->store, "TOKEN_REUSE_DETECTED", meta, &who, 401, md);
        if (err == GH_OK)
            err = GH_ERR_AUTH;
        goto out;
    }
    if (err == GH_ERR_NOT_FOUND || err == GH_ERR_EXPIRED || err == GH_ERR_REVOKED) {
        err = GH_ERR_AUTH;
        goto out;
    }
    if (err != GH_OK)
        goto out;
    if ((err = gh_store_user_get(a->store, spent.user_id, &u)) != GH_OK)
        goto out;
    if (u.disabled) {
        err = GH_ERR_AUTH;
        goto out;
    }
    if ((err = issue_access(a, &u, next.org_id, next.auth_time, &pair)) != GH_OK)
        goto out;
    memcpy(pair.family_id, next.family_id, sizeof(pair.family_id));
    memcpy(pair.org_id, next.org_id, sizeof(pair.org_id));
    struct gh_audit_subject who = {u.id, u.username, next.org_id};
    if ((err = gh_audit_record(a->store, "TOKEN_REFRESH", meta, &who, 200, NULL)) != GH_OK) {
        /* Never handed out without its record: the new refresh token dies unused. */
        struct gh_refresh_token dead;
        (void)gh_store_refresh_revoke(a->store, next.hash, now, &dead);
    }
out:
    if (err != GH_OK) {
        gh_token_pair_clear(&pair);
        return err == GH_ERR_NOT_FOUND ? GH_ERR_AUTH : err;
    }
    *out = pair;
    return GH_OK;
}

gh_err gh_auth_logout(struct gh_auth *a, const char *refresh_token, const struct gh_reqmeta *meta)
{
    unsigned char hash[GH_HASH_LEN];
    struct gh_refresh_token t;
    if (strlen(refresh_token) != GH_REFRESH_TEXT - 1)
        return GH_OK;
    refresh_hash(refresh_token, hash);
    gh_err err = gh_store_refresh_revoke(a->store, hash, gh_time_now(), &t);
    if (err == GH_ERR_NOT_FOUND)
        return GH_OK;
    if (err == GH_OK) {
        struct gh_audit_subject who = {t.user_id, NULL, t.org_id};
        err = gh_audit_record(a->store, "LOGOUT", meta, &who, 204, NULL);
    }
    return err;
}

gh_err gh_auth_logout_all(struct gh_auth *a, const struct gh_identity *who,
                          const struct gh_reqmeta *meta)
{
    int64_t epoch = 0;
    struct gh_audit_subject s = {who->user_id, who->username, who->org_id};
    gh_err err = gh_audit_record(a->store, "LOGOUT", meta, &s, 204, "{\"all\":true}");
    if (err != GH_OK)
        return err;
    err = gh_store_user_revoke_all(a->store, who->user_id, gh_time_now(), &epoch);
    gh_views_forget(a->views, who->user_id);
    return err;
}

gh_err gh_auth_change_password(struct gh_auth *a, const struct gh_identity *who,
                               const char *current, size_t current_len, const char *next,
                               size_t next_len, const struct gh_reqmeta *meta,
                               struct gh_refusal *refusal)
{
    struct gh_user u;
    struct gh_credentials cr;
    char hash[GH_PWHASH_MAX];
    int64_t epoch = 0;
    memset(hash, 0, sizeof(hash));
    memset(&cr, 0, sizeof(cr));

    gh_err err = gh_store_user_get(a->store, who->user_id, &u);
    if (err == GH_OK)
        err = gh_store_user_get_credentials(a->store, u.id, &cr);
    if (err != GH_OK)
        return err == GH_ERR_NOT_FOUND ? GH_ERR_AUTH : err;
    if (gh_password_verify(cr.password_hash, current, current_len) != GH_OK) {
        struct gh_audit_subject s = {u.id, u.username, who->org_id};
        err = gh_audit_record(a->store, "PASSWORD_CHANGE_FAILED", meta, &s, 401, NULL);
        if (err == GH_OK)
            err = GH_ERR_AUTH;
        goto out;
    }
    if ((err = gh_auth_policy(a, next, next_len, u.username, u.email, u.full_name, refusal)) !=
        GH_OK)
        goto out;
    if ((err = gh_password_hash(&a->o.pw, next, next_len, hash)) != GH_OK)
        goto out;
    struct gh_audit_subject s = {u.id, u.username, who->org_id};
    if ((err = gh_audit_record(a->store, "PASSWORD_CHANGE", meta, &s, 204, NULL)) != GH_OK)
        goto out; /* the record first: no change the trail does not show */
    err = gh_store_user_set_password(a->store, u.id, hash, 1, gh_time_now(), &epoch);
    gh_views_forget(a->views, u.id);
out:
    sodium_memzero(hash, sizeof(hash));
    sodium_memzero(&cr, sizeof(cr));
    return err;
}

/* ---- the token check ---- */

gh_err gh_auth_verify_bearer(struct gh_auth *a, const char *token, size_t len,
                             const struct gh_reqmeta *meta, struct gh_identity *out)
{
    struct cached_token ct;
    int64_t now = gh_time_now();

    if (len == 0 || len > GH_JWT_MAX)
        return GH_ERR_AUTH;
    if (len > 3 && memcmp(token, "ak_", 3) == 0)
        return gh_apikey_check(a->keys, token, len, meta, out);
    if (!token_cached(a, token, len, now, &ct)) {
        struct gh_claims c;
        struct gh_jwt_expect expect = {a->o.issuer, a->o.audience, now, a->o.clock_leeway};
        gh_err err = gh_jwt_verify(a->ring, token, len, &expect, &c);
        if (err != GH_OK)
            return err == GH_ERR_EXPIRED ? GH_ERR_EXPIRED : GH_ERR_AUTH;
        memset(&ct, 0, sizeof(ct));
        if (gh_copy_field(ct.sub, sizeof(ct.sub), c.sub) != GH_OK ||
            gh_copy_field(ct.org, sizeof(ct.org), c.org) != GH_OK)
            return GH_ERR_AUTH;
        ct.exp = c.exp;
        ct.epoch = c.epoch;
        ct.org_epoch = c.org_epoch;
        ct.auth_time = c.auth_time;
        token_remember(a, token, len, &ct);
    }
    gh_err err =
        gh_auth_token_identity(a, ct.sub, ct.org, ct.epoch, ct.org_epoch, ct.exp, now, out);
    if (err == GH_OK)
        out->auth_time = ct.auth_time;
    return err;
}

gh_err gh_auth_token_identity(struct gh_auth *a, const char *sub, const char *org, int64_t epoch,
                              int64_t org_epoch, int64_t exp, int64_t now, struct gh_identity *out)
{
    if (exp <= now - a->o.clock_leeway)
        return GH_ERR_EXPIRED;
    struct gh_user_view st;
    gh_err err = gh_views_user(a->views, sub, now, &st);
    if (err != GH_OK)
        return err;
    if (st.disabled || st.epoch != epoch)
        return GH_ERR_REVOKED;
    /* What the token may do is the user's role in its org now, not when it was signed:
     * a demotion, a role edit or a removal applies to every live token at once. */
    struct gh_member_view mv;
    if ((err = gh_views_member(a->views, sub, org, &st, now, &mv)) != GH_OK)
        return err == GH_ERR_NOT_FOUND ? GH_ERR_REVOKED : err;
    if (mv.epoch != org_epoch)
        return GH_ERR_REVOKED; /* removed from org since: a re-add brings back no old token */
    if (gh_copy_field(out->user_id, sizeof(out->user_id), sub) != GH_OK ||
        gh_copy_field(out->org_id, sizeof(out->org_id), org) != GH_OK ||
        gh_copy_field(out->roles, sizeof(out->roles), mv.role) != GH_OK ||
        gh_copy_field(out->perms, sizeof(out->perms), mv.perms) != GH_OK)
        return GH_ERR_INTERNAL; /* sized alike: cannot happen */
    memcpy(out->username, st.username, sizeof(out->username));
    out->expires_at = exp;
    out->cred = GH_CRED_JWT;
    out->key_id[0] = '\0';
    out->scoped = 0;
    out->superadmin = st.superadmin;
    out->auth_time = 0; /* the caller's to set: a gateway token proves no recent sign-in */
    return GH_OK;
}

gh_err gh_auth_reissue(struct gh_auth *a, const struct gh_identity *who, int64_t auth_time,
                       struct gh_token_pair *out)
{
    struct gh_user u;
    gh_err err = gh_store_user_get(a->store, who->user_id, &u);
    if (err == GH_OK && u.disabled)
        err = GH_ERR_REVOKED;
    if (err == GH_OK && (err = issue_access(a, &u, who->org_id, auth_time, out)) == GH_OK)
        memcpy(out->org_id, who->org_id, sizeof(out->org_id));
    return err;
}

gh_err gh_auth_me(struct gh_auth *a, const struct gh_identity *who, struct gh_user *user,
                  struct gh_membership *orgs, size_t max, size_t *n)
{
    struct gh_user u;
    size_t count = 0;
    gh_err err = gh_store_user_get(a->store, who->user_id, &u);
    if (err != GH_OK)
        return err;
    if ((err = gh_store_member_list_user(a->store, u.id, orgs, max, &count)) != GH_OK)
        return err;
    *user = u;
    *n = count;
    return GH_OK;
}

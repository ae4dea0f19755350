#include "authn/mfa.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "authn/password.h"
#include "core/qr.h"
#include "core/text.h"
#include "core/time.h"
#include "crypto/b64url.h"
#include "crypto/field.h"

#define ISSUER "Gatehouse"
#define BACKUP_LEN 10 /* base32 characters of a backup code (50 bits) */

static const char base32[] = "abcdefghijklmnopqrstuvwxyz234567";

struct gh_mfas {
    const struct gh_store_handle *store;
    struct gh_datakeys *dk;     /* seals TOTP secrets (enc:v1, field "totp:<user id>") */
    unsigned char code_key[32]; /* HMAC of backup codes */
};

gh_err gh_mfas_new(const struct gh_store_handle *store, struct gh_datakeys *dk,
                   const unsigned char key[GH_MFA_KEY_LEN], struct gh_mfas **out)
{
    struct gh_mfas *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return GH_ERR_NOMEM;
    m->store = store;
    m->dk = dk;
    memcpy(m->code_key, key, sizeof(m->code_key));
    *out = m;
    return GH_OK;
}

/* The envelope's field name of user_id's TOTP secret (docs/CRYPTO.md). */
static void secret_field(const char *user_id, char out[GH_UUID_LEN + 6])
{
    (void)snprintf(out, GH_UUID_LEN + 6, "totp:%s", user_id);
}

void gh_mfas_free(struct gh_mfas *m)
{
    if (m == NULL)
        return;
    sodium_memzero(m, sizeof(*m));
    free(m);
}

static void audit(struct gh_mfas *m, const char *action, const struct gh_reqmeta *meta,
                  const char *user_id, const char *username, int status, const char *md)
{
    struct gh_audit_subject who = {user_id, username, NULL};
    (void)gh_audit_record(m->store, action, meta, &who, status, md);
}

gh_err gh_mfa_enabled(struct gh_mfas *m, const char *user_id, int *on)
{
    struct gh_mfa rec;
    gh_err err = gh_store_mfa_get(m->store, user_id, &rec);
    if (err == GH_OK || err == GH_ERR_NOT_FOUND)
        *on = err == GH_OK && rec.enabled;
    sodium_memzero(&rec, sizeof(rec));
    return err == GH_ERR_NOT_FOUND ? GH_OK : err;
}

/* ---- codes ---- */

/* The backup code typed as code in its stored form: 10 base32 characters, the dash and
 * case ignored; GH_ERR_INVALID otherwise. */
static gh_err backup_normal(const char *code, char out[BACKUP_LEN + 1])
{
    size_t n = 0;
    for (const char *p = code; *p != '\0'; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (c == '-' && n == 5 && p[1] != '\0')
            continue;
        if (n == BACKUP_LEN || strchr(base32, c) == NULL || c == '\0')
            return GH_ERR_INVALID;
        out[n++] = c;
    }
    if (n != BACKUP_LEN)
        return GH_ERR_INVALID;
    out[n] = '\0';
    return GH_OK;
}

static void backup_hash(const struct gh_mfas *m, const char *user_id, const char *normal,
                        unsigned char out[GH_HASH_LEN])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, m->code_key, sizeof(m->code_key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)user_id, strlen(user_id) + 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)normal, BACKUP_LEN);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

/* The TOTP step code matches for the factor rec, or GH_ERR_AUTH / GH_ERR_INVALID. */
static gh_err totp_step(const struct gh_mfas *m, const struct gh_mfa *rec, const char *code,
                        int64_t now, int64_t *step)
{
    unsigned char key[sizeof(rec->secret)];
    char field[GH_UUID_LEN + 6];
    size_t n = 0;
    secret_field(rec->user_id, field);
    gh_err err = m->dk == NULL ? GH_ERR_IO
                               : gh_field_open(m->dk, NULL, field, rec->secret, strlen(rec->secret),
                                               key, sizeof(key), &n);
    if (err == GH_OK)
        err = gh_totp_match(key, n, now, code, step);
    else if (err != GH_ERR_IO)
        err = GH_ERR_CRYPTO; /* a secret that does not open is not the user's fault */
    sodium_memzero(key, sizeof(key));
    return err;
}

/*
 * Checks code against user_id's enabled factor and spends what it used: the time step
 * (a replay is GH_ERR_REUSED) or the backup code. *method says which. Failures audited.
 */
static gh_err use_code(struct gh_mfas *m, const char *user_id, const char *username,
                       const char *code, const struct gh_reqmeta *meta, const char **method)
{
    struct gh_mfa rec;
    int64_t now = gh_time_now(), step = 0, left = 0;
    char normal[BACKUP_LEN + 1];
    gh_err err = gh_store_mfa_get(m->store, user_id, &rec);
    if (err == GH_OK && !rec.enabled)
        err = GH_ERR_NOT_FOUND;
    if (err != GH_OK)
        goto out;
    if (strlen(code) == GH_TOTP_DIGITS) {
        *method = "password+totp";
        if ((err = totp_step(m, &rec, code, now, &step)) == GH_OK)
            err = gh_store_mfa_use_step(m->store, user_id, step);
    } else if (backup_normal(code, normal) == GH_OK) {
        unsigned char hash[GH_HASH_LEN];
        *method = "backup_code";
        backup_hash(m, user_id, normal, hash);
        err = gh_store_mfa_use_backup(m->store, user_id, hash, now, &left);
        if (err == GH_ERR_NOT_FOUND)
            err = GH_ERR_AUTH;
        if (err == GH_OK) {
            char md[48];
            (void)snprintf(md, sizeof(md), "{\"left\":%lld}", (long long)left);
            audit(m, "BACKUP_CODE_USED", meta, user_id, username, 200, md);
        }
    } else {
        err = GH_ERR_AUTH;
    }
    if (err == GH_ERR_AUTH || err == GH_ERR_REUSED || err == GH_ERR_INVALID)
        audit(m, "MFA_FAILED", meta, user_id, username, 401,
              err == GH_ERR_REUSED ? "{\"reason\":\"replay\"}" : "{\"reason\":\"wrong_code\"}");
    if (err == GH_ERR_INVALID)
        err = GH_ERR_AUTH;
out:
    sodium_memzero(&rec, sizeof(rec));
    sodium_memzero(normal, sizeof(normal));
    return err;
}

/* ---- enrolment ---- */

gh_err gh_mfa_setup(struct gh_mfas *m, const struct gh_identity *who, struct gh_mfa_enrolment *out,
                    struct gh_buf *qr_svg)
{
    unsigned char key[GH_TOTP_KEY_LEN];
    struct gh_mfa rec;
    char field[GH_UUID_LEN + 6];
    size_t sealed = 0;
    memset(&rec, 0, sizeof(rec));
    randombytes_buf(key, sizeof(key));
    secret_field(who->user_id, field);
    gh_err err = m->dk == NULL ? GH_ERR_IO : gh_totp_secret_text(key, out->secret);
    if (err == GH_OK &&
        (err = gh_field_seal(m->dk, NULL, field, key, sizeof(key), rec.secret, sizeof(rec.secret),
                             &sealed)) == GH_OK &&
        (err = gh_copy_field(rec.user_id, sizeof(rec.user_id), who->user_id)) == GH_OK) {
        rec.created_at = gh_time_now();
        err = gh_store_mfa_put(m->store, &rec);
    }
    if (err == GH_OK) {
        /* usernames are A-Z a-z 0-9 . _ -: nothing in the label needs escaping */
        int len = snprintf(out->uri, sizeof(out->uri),
                           "otpauth://totp/" ISSUER ":%s?secret=%s&issuer=" ISSUER
                           "&algorithm=SHA1&digits=6&period=30",
                           who->username, out->secret);
        err = len > 0 && (size_t)len < sizeof(out->uri) ? GH_OK : GH_ERR_TOO_LARGE;
    }
    if (err == GH_OK)
        err = gh_qr_svg(out->uri, "QR code of the authenticator secret", qr_svg);
    sodium_memzero(key, sizeof(key));
    sodium_memzero(&rec, sizeof(rec));
    if (err != GH_OK)
        sodium_memzero(out, sizeof(*out));
    return err;
}

gh_err gh_mfa_confirm(struct gh_mfas *m, const struct gh_identity *who, const char *code,
                      const struct gh_reqmeta *meta,
                      char codes[GH_BACKUP_CODES][GH_BACKUP_CODE_TEXT])
{
    struct gh_mfa rec;
    unsigned char hashes[GH_BACKUP_CODES][GH_HASH_LEN];
    int64_t step = 0;
    gh_err err = gh_store_mfa_get(m->store, who->user_id, &rec);
    if (err == GH_OK && rec.enabled)
        err = GH_ERR_NOT_FOUND; /* nothing waits for confirmation */
    if (err != GH_OK)
        goto out;
    if ((err = totp_step(m, &rec, code, gh_time_now(), &step)) != GH_OK) {
        if (err == GH_ERR_AUTH)
            audit(m, "MFA_FAILED", meta, who->user_id, who->username, 401,
                  "{\"reason\":\"wrong_code\",\"enrolment\":true}");
        goto out;
    }
    for (size_t i = 0; i < GH_BACKUP_CODES; i++) {
        unsigned char rnd[BACKUP_LEN];
        char normal[BACKUP_LEN + 1];
        randombytes_buf(rnd, sizeof(rnd));
        for (size_t j = 0; j < BACKUP_LEN; j++)
            normal[j] = base32[rnd[j] & 31];
        normal[BACKUP_LEN] = '\0';
        backup_hash(m, who->user_id, normal, hashes[i]);
        memcpy(codes[i], normal, 5);
        codes[i][5] = '-';
        memcpy(codes[i] + 6, normal + 5, 5);
        codes[i][11] = '\0';
        sodium_memzero(rnd, sizeof(rnd));
        sodium_memzero(normal, sizeof(normal));
    }
    /* the confirming code's step is spent: it cannot sign in a second time */
    err = gh_store_mfa_enable(m->store, who->user_id, step,
                              (const unsigned char(*)[GH_HASH_LEN])hashes);
    if (err == GH_OK)
        audit(m, "MFA_ENABLED", meta, who->user_id, who->username, 200, "{\"method\":\"totp\"}");
    else
        sodium_memzero(codes, sizeof(char[GH_BACKUP_CODES][GH_BACKUP_CODE_TEXT]));
out:
    sodium_memzero(&rec, sizeof(rec));
    sodium_memzero(hashes, sizeof(hashes));
    return err;
}

gh_err gh_mfa_disable(struct gh_mfas *m, const struct gh_identity *who, const char *password,
                      size_t len, const char *code, const struct gh_reqmeta *meta)
{
    struct gh_credentials cr;
    const char *method = NULL;
    int on = 0;
    gh_err err = gh_mfa_enabled(m, who->user_id, &on);
    if (err == GH_OK && !on)
        return GH_ERR_NOT_FOUND; /* the user's own state, which /me shows anyway */
    if (err == GH_OK)
        err = gh_store_user_get_credentials(m->store, who->user_id, &cr);
    if (err == GH_OK && gh_password_verify(cr.password_hash, password, len) != GH_OK) {
        audit(m, "MFA_FAILED", meta, who->user_id, who->username, 401,
              "{\"reason\":\"bad_password\"}");
        err = GH_ERR_AUTH;
    }
    sodium_memzero(&cr, sizeof(cr));
    if (err == GH_OK)
        err = use_code(m, who->user_id, who->username, code, meta, &method);
    if (err == GH_ERR_REUSED)
        err = GH_ERR_AUTH;
    if (err == GH_OK)
        err = gh_store_mfa_delete(m->store, who->user_id);
    if (err == GH_OK)
        audit(m, "MFA_DISABLED", meta, who->user_id, who->username, 204, NULL);
    return err;
}

gh_err gh_mfa_prove(struct gh_mfas *m, const struct gh_identity *who, const char *code,
                    const struct gh_reqmeta *meta, const char **method)
{
    gh_err err = use_code(m, who->user_id, who->username, code, meta, method);
    return err == GH_ERR_NOT_FOUND ? GH_ERR_AUTH : err; /* the factor went meanwhile */
}

/* ---- the login's second step ---- */

gh_err gh_mfa_challenge(struct gh_mfas *m, const struct gh_user *u, const char *org_id,
                        char token[GH_MFA_TOKEN_TEXT])
{
    struct gh_mfa_challenge c;
    unsigned char raw[32];
    size_t len = 0;
    memset(&c, 0, sizeof(c));
    randombytes_buf(raw, sizeof(raw));
    gh_err err = gh_b64url_encode(raw, sizeof(raw), token, GH_MFA_TOKEN_TEXT, &len);
    sodium_memzero(raw, sizeof(raw));
    if (err != GH_OK)
        return err;
    SHA256((const unsigned char *)token, len, c.hash);
    memcpy(c.user_id, u->id, sizeof(c.user_id));
    if (org_id != NULL && gh_copy_field(c.org_id, sizeof(c.org_id), org_id) != GH_OK)
        err = GH_ERR_INVALID;
    c.created_at = gh_time_now();
    c.expires_at = c.created_at + GH_MFA_CHALLENGE_TTL;
    if (err == GH_OK)
        err = gh_store_mfa_challenge_add(m->store, &c);
    if (err != GH_OK)
        sodium_memzero(token, GH_MFA_TOKEN_TEXT);
    return err;
}

gh_err gh_mfa_answer(struct gh_mfas *m, const char *token, const char *code,
                     const struct gh_reqmeta *meta, struct gh_mfa_passed *out)
{
    struct gh_mfa_challenge c;
    struct gh_mfa_passed p;
    unsigned char hash[GH_HASH_LEN];
    int64_t now = gh_time_now();
    memset(&p, 0, sizeof(p));
    if (strlen(token) != GH_MFA_TOKEN_TEXT - 1)
        return GH_ERR_NOT_FOUND;
    SHA256((const unsigned char *)token, GH_MFA_TOKEN_TEXT - 1, hash);
    gh_err err = gh_store_mfa_challenge_get(m->store, hash, now, &c);
    if (err == GH_OK)
        err = gh_store_user_get(m->store, c.user_id, &p.user);
    if (err != GH_OK)
        return err;
    if (p.user.disabled)
        return GH_ERR_NOT_FOUND;
    if ((err = use_code(m, p.user.id, p.user.username, code, meta, &p.method)) != GH_OK)
        return err == GH_ERR_NOT_FOUND ? GH_ERR_AUTH : err; /* the factor went meanwhile */
    /* one answer per challenge, even when two arrive together with two good codes */
    if ((err = gh_store_mfa_challenge_spend(m->store, hash, now)) != GH_OK)
        return err;
    memcpy(p.org_id, c.org_id, sizeof(p.org_id));
    *out = p;
    return GH_OK;
}

/*
 * Field encryption for the application: POST /api/v1/crypto/encrypt, decrypt and rewrap
 * (crypto/field.h). The org is the body's org_id or the caller's; the permission
 * (crypto:encrypt, crypto:decrypt, both for rewrap) is checked in that org. Nothing is
 * stored: the application keeps the ciphertexts.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/handlers.h"
#include "authz/rbac.h"
#include "core/uuid.h"
#include "crypto/field.h"

/* What every call names: the org (NULL: none), the field, and the value. */
struct call {
    const char *org_id;
    const char *field;
    const char *value;
    size_t len;
};

static void reply_value(struct gh_req *req, const char *field, const char *message)
{
    gh_reply_error(req, 422, "invalid_value", message, json_pack("{s:s}", "field", field));
}

/* The org named by org_id (or the caller's), where the caller must hold every permission
 * of perms (NULL-terminated); answers 404/403 and returns non-zero otherwise. */
static int check_org(struct gh_req *req, const char *org_id, const char *const *perms)
{
    struct gh_app *app = req->app;
    for (; *perms != NULL; perms++) {
        gh_err err = gh_rbac_access(app->rbac, gh_api_identity(req), org_id, *perms, NULL);
        if (err == GH_ERR_NOT_FOUND) {
            gh_reply_error(req, 404, "not_found", "no such organization", NULL);
            return -1;
        }
        if (err == GH_ERR_FORBIDDEN) {
            gh_api_deny_in(req, *perms, org_id);
            return -1;
        }
        if (err != GH_OK) {
            gh_api_reply_failure(req, err);
            return -1;
        }
    }
    return 0;
}

/* Reads {value_key, field, org_id?} and checks the org; answers and returns non-zero on
 * anything wrong. */
static int read_call(struct gh_req *req, const char *value_key, const char *const *perms,
                     struct call *c)
{
    const char *org = NULL;
    size_t org_len = 0, field_len = 0;
    if (gh_api_string_field(req, value_key, 1, &c->value, &c->len) ||
        gh_api_string_field(req, "field", 1, &c->field, &field_len) ||
        gh_api_string_field(req, "org_id", 0, &org, &org_len))
        return -1;
    if (strlen(c->field) != field_len || !gh_field_name_ok(c->field)) {
        reply_value(req, "field", "field: 1 to 128 characters of A-Z a-z 0-9 _ . : -");
        return -1;
    }
    if (org != NULL && strlen(org) != org_len)
        org = ""; /* a NUL inside: names nothing */
    if (org == NULL)
        org = gh_api_identity(req)->org_id;
    if (!gh_uuid_valid(org, strlen(org))) {
        gh_reply_error(req, 404, "not_found", "no such organization", NULL);
        return -1;
    }
    c->org_id = org;
    return check_org(req, org, perms);
}

/* Answers a failure of gh_field_open or gh_field_seal. */
static void reply_crypto(struct gh_req *req, gh_err err, const char *value_key)
{
    switch (err) {
    case GH_ERR_INVALID:
        reply_value(req, value_key,
                    strcmp(value_key, "plaintext") == 0
                        ? "plaintext: expected 1 byte or more"
                        : "ciphertext: expected enc:v1:<key-id>:<base64url> as encrypt made it");
        return;
    case GH_ERR_TOO_LARGE:
        reply_value(req, value_key, "the value is longer than 64 KiB");
        return;
    case GH_ERR_AUTH:
    case GH_ERR_NOT_FOUND:
        /* Another org or field, a changed byte, a key this server never had: one answer. */
        gh_reply_error(req, 422, "decrypt_failed",
                       "the ciphertext does not open for this org and field", NULL);
        return;
    default:
        gh_api_reply_failure(req, err);
        return;
    }
}

void gh_h_crypto_encrypt(struct gh_req *req)
{
    static const char *const perms[] = {"crypto:encrypt", NULL};
    struct gh_app *app = req->app;
    struct call c;
    size_t len = 0;
    if (read_call(req, "plaintext", perms, &c))
        return;
    if (gh_envelope_is(c.value, c.len)) { /* already encrypted: unchanged */
        gh_reply_json(req, 200, json_pack("{s:s%}", "ciphertext", c.value, c.len));
        return;
    }
    if (c.len > GH_ENVELOPE_MAX_PLAIN) {
        reply_crypto(req, GH_ERR_TOO_LARGE, "plaintext");
        return;
    }
    size_t size = GH_FIELD_SEALED_SIZE(c.len);
    char *out = gh_req_alloc(req, size);
    if (out == NULL) {
        gh_api_reply_failure(req, GH_ERR_NOMEM);
        return;
    }
    gh_err err = gh_field_seal(app->datakeys, c.org_id, c.field, (const uint8_t *)c.value, c.len,
                               out, size, &len);
    if (err != GH_OK) {
        reply_crypto(req, err, "plaintext");
        return;
    }
    gh_reply_json(req, 200, json_pack("{s:s%}", "ciphertext", out, len));
}

void gh_h_crypto_decrypt(struct gh_req *req)
{
    static const char *const perms[] = {"crypto:decrypt", NULL};
    struct gh_app *app = req->app;
    struct call c;
    size_t len = 0;
    if (read_call(req, "ciphertext", perms, &c))
        return;
    uint8_t *out = gh_req_alloc(req, c.len + 1);
    if (out == NULL) {
        gh_api_reply_failure(req, GH_ERR_NOMEM);
        return;
    }
    gh_err err = gh_field_open(app->datakeys, c.org_id, c.field, c.value, c.len, out, c.len, &len);
    if (err != GH_OK) {
        reply_crypto(req, err, "ciphertext");
        return;
    }
    json_t *text = json_stringn((const char *)out, len);
    sodium_memzero(out, c.len + 1);
    if (text == NULL) { /* not UTF-8: sealed by something else than this API */
        reply_crypto(req, GH_ERR_AUTH, "ciphertext");
        return;
    }
    gh_reply_json(req, 200, json_pack("{s:o}", "plaintext", text));
}

void gh_h_crypto_rewrap(struct gh_req *req)
{
    static const char *const perms[] = {"crypto:decrypt", "crypto:encrypt", NULL};
    struct gh_app *app = req->app;
    struct call c;
    size_t len = 0;
    int changed = 0;
    if (read_call(req, "ciphertext", perms, &c))
        return;
    /* The current key's envelope is at most a few bytes longer (a longer key id). */
    size_t size = c.len + 16;
    char *out = gh_req_alloc(req, size);
    if (out == NULL) {
        gh_api_reply_failure(req, GH_ERR_NOMEM);
        return;
    }
    gh_err err = gh_field_rewrap(app->datakeys, c.org_id, c.field, c.value, c.len, out, size, &len,
                                 &changed);
    if (err != GH_OK) {
        reply_crypto(req, err, "ciphertext");
        return;
    }
    gh_reply_json(req, 200, json_pack("{s:s%, s:b}", "ciphertext", out, len, "changed", changed));
}

/* Field encryption in "enc:v1:" envelopes (crypto/field.h). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/uuid.h"
#include "crypto/field.h"

/* "gatehouse/v1/field" NUL key-id(4, big-endian) org NUL field */
#define AD_MAX (19 + 4 + GH_UUID_LEN + 1 + GH_FIELD_NAME_MAX)

int gh_field_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > GH_FIELD_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

/* The subkey and associated data of key kid for org_id and field; *ad_len set. */
static gh_err prepare(struct gh_datakeys *dk, uint32_t kid, const char *org_id, const char *field,
                      uint8_t key[GH_AEAD_KEY_LEN], uint8_t ad[AD_MAX], size_t *ad_len)
{
    if (!gh_field_name_ok(field) || (org_id != NULL && !gh_uuid_valid(org_id, strlen(org_id))))
        return GH_ERR_INVALID;
    size_t o = 0, org_len = org_id != NULL ? strlen(org_id) : 0, field_len = strlen(field);
    memcpy(ad, "gatehouse/v1/field", 19); /* with its NUL */
    o = 19;
    for (int i = 0; i < 4; i++)
        ad[o++] = (uint8_t)(kid >> (24 - 8 * i));
    memcpy(ad + o, org_id != NULL ? org_id : "", org_len + 1);
    o += org_len + 1;
    memcpy(ad + o, field, field_len);
    *ad_len = o + field_len;
    return gh_datakeys_derive(dk, kid, "field", org_id, key);
}

gh_err gh_field_seal(struct gh_datakeys *dk, const char *org_id, const char *field,
                     const uint8_t *pt, size_t n, char *out, size_t out_size, size_t *out_len)
{
    uint8_t key[GH_AEAD_KEY_LEN], ad[AD_MAX];
    size_t ad_len = 0, len = 0;
    if (n == 0)
        return GH_ERR_INVALID;
    if (n > GH_ENVELOPE_MAX_PLAIN)
        return GH_ERR_TOO_LARGE;
    uint8_t *sealed = malloc(n + GH_GCM_OVERHEAD);
    if (sealed == NULL)
        return GH_ERR_NOMEM;
    uint32_t kid = gh_datakeys_current(dk);
    gh_err err = prepare(dk, kid, org_id, field, key, ad, &ad_len);
    if (err == GH_OK)
        err = gh_aead_seal(GH_AEAD_AES256GCM, key, ad, ad_len, pt, n, sealed, n + GH_GCM_OVERHEAD,
                           &len);
    if (err == GH_OK)
        err = gh_envelope_format(kid, sealed, len, out, out_size, out_len);
    sodium_memzero(key, sizeof(key));
    free(sealed);
    return err;
}

gh_err gh_field_open(struct gh_datakeys *dk, const char *org_id, const char *field,
                     const char *text, size_t n, uint8_t *out, size_t out_size, size_t *out_len)
{
    uint8_t key[GH_AEAD_KEY_LEN], ad[AD_MAX];
    size_t ad_len = 0, len = 0;
    uint32_t kid = 0;
    /* The decoded bytes are never more than the text. */
    size_t cap = n < GH_ENVELOPE_MAX_SEALED ? n : GH_ENVELOPE_MAX_SEALED;
    uint8_t *sealed = malloc(cap + 1);
    if (sealed == NULL)
        return GH_ERR_NOMEM;
    gh_err err = gh_envelope_parse(text, n, &kid, sealed, cap, &len);
    if (err == GH_ERR_TOO_LARGE)
        err = GH_ERR_INVALID;
    if (err == GH_OK)
        err = prepare(dk, kid, org_id, field, key, ad, &ad_len);
    if (err == GH_OK)
        err = gh_aead_open(GH_AEAD_AES256GCM, key, ad, ad_len, sealed, len, out, out_size, out_len);
    sodium_memzero(key, sizeof(key));
    free(sealed);
    return err;
}

gh_err gh_field_rewrap(struct gh_datakeys *dk, const char *org_id, const char *field,
                       const char *text, size_t n, char *out, size_t out_size, size_t *out_len,
                       int *changed)
{
    size_t len = 0;
    uint32_t kid = 0;
    uint8_t *pt = malloc(n + 1);
    if (pt == NULL)
        return GH_ERR_NOMEM;
    gh_err err = gh_field_open(dk, org_id, field, text, n, pt, n, &len);
    if (err == GH_OK)
        err = gh_envelope_key_id(text, n, &kid);
    if (err == GH_OK && kid == gh_datakeys_current(dk)) {
        if (n + 1 > out_size) {
            err = GH_ERR_TOO_LARGE;
        } else {
            memcpy(out, text, n);
            out[n] = '\0';
            *out_len = n;
            *changed = 0;
        }
    } else if (err == GH_OK) {
        err = gh_field_seal(dk, org_id, field, pt, len, out, out_size, out_len);
        if (err == GH_OK)
            *changed = 1;
    }
    sodium_memzero(pt, n + 1);
    free(pt);
    return err;
}

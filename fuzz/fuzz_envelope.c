/*
 * libFuzzer target: gh_envelope_parse, the "enc:v1:<key-id>:<base64url>" text that
 * /api/v1/crypto/decrypt and rewrap take from clients. An accepted text must be canonical:
 * formatting what was parsed gives back the same bytes; gh_envelope_key_id agrees; a
 * refusal leaves the outputs alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t sealed[8192];
    static char text[GH_ENVELOPE_MAX_TEXT + 1];
    uint32_t kid = 0, again = 0;
    size_t len = 7, n = 0;
    gh_err err = gh_envelope_parse((const char *)data, size, &kid, sealed, sizeof(sealed), &len);
    if (err != GH_OK) {
        check(kid == 0 && len == 7);
        return 0;
    }
    check(kid >= 1 && kid <= 2147483647u && len >= GH_GCM_OVERHEAD);
    check(gh_envelope_key_id((const char *)data, size, &again) == GH_OK && again == kid);
    check(gh_envelope_format(kid, sealed, len, text, sizeof(text), &n) == GH_OK);
    check(n == size && memcmp(text, data, size) == 0);
    return 0;
}

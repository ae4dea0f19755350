/* libFuzzer target: strict base64url decoding; whatever decodes must re-encode to the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/b64url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t out[4096];
    char back[6000];
    size_t n = 0, m = 0;
    if (size > 5000)
        return 0;
    if (gh_b64url_decode((const char *)data, size, out, sizeof(out), &n) != GH_OK)
        return 0;
    if (gh_b64url_encode(out, n, back, sizeof(back), &m) != GH_OK || m != size ||
        memcmp(back, data, size) != 0)
        abort(); /* strict decoding means a canonical round trip */
    return 0;
}

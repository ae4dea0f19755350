/* The master key from the environment or its file (crypto/master.h). */
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "core/secret.h"
#include "core/text.h"
#include "crypto/master.h"

static gh_err from_hex(const char *hex, uint8_t out[GH_MASTER_KEY_LEN])
{
    uint8_t key[GH_MASTER_KEY_LEN];
    int bad = strlen(hex) != 2 * GH_MASTER_KEY_LEN;
    for (size_t i = 0; !bad && i < GH_MASTER_KEY_LEN; i++) {
        int hi = gh_hex_value(hex[2 * i]), lo = gh_hex_value(hex[2 * i + 1]);
        bad = hi < 0 || lo < 0;
        if (!bad)
            key[i] = (uint8_t)(hi << 4 | lo);
    }
    if (!bad)
        memcpy(out, key, sizeof(key));
    sodium_memzero(key, sizeof(key));
    return bad ? GH_ERR_INVALID : GH_OK;
}

gh_err gh_master_load(const char *hex, const char *path, int create, uint8_t out[GH_MASTER_KEY_LEN])
{
    if (hex != NULL)
        return from_hex(hex, out);
    if (!create && access(path, F_OK) != 0)
        return GH_ERR_NOT_FOUND;
    return gh_secret_file_load(path, out, GH_MASTER_KEY_LEN);
}

/*
 * libFuzzer target: gh_keyset_parse, the keyring.json manifest that decides which key
 * signs. On success the set must render, and the rendering must parse back to the same
 * set, rendered alike (the manifest survives a rewrite unchanged).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keyset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gh_keyset set, again;
    char err[256];
    if (gh_keyset_parse((const char *)data, size, &set, err, sizeof(err)) != GH_OK)
        return 0;
    char *text = NULL, *text2 = NULL;
    if (gh_keyset_render(&set, &text) != GH_OK)
        abort();
    if (gh_keyset_parse(text, strlen(text), &again, err, sizeof(err)) != GH_OK ||
        gh_keyset_render(&again, &text2) != GH_OK || strcmp(text, text2) != 0)
        abort();
    free(text);
    free(text2);
    return 0;
}

/*
 * libFuzzer target: gh_share_parse, the Shamir share lines `gatehouse key unseal` and POST
 * /api/v1/sys/unseal take from operators. An accepted line is within bounds and formats
 * back to itself (without the blanks around it); a refusal leaves the output alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/share.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_share s;
    char line[GH_SHARE_TEXT_MAX + 1];
    memset(&s, 0x5a, sizeof(s));
    gh_err err = gh_share_parse((const char *)data, size, &s);
    if (err != GH_OK) {
        check(err == GH_ERR_INVALID || err == GH_ERR_AUTH);
        check(s.x == 0x5a5a5a5au);
        return 0;
    }
    check(s.threshold >= 2 && s.threshold <= 255 && s.x >= 1 && s.x <= 255);
    gh_share_format(&s, line);
    struct gh_share again;
    check(gh_share_parse(line, strlen(line), &again) == GH_OK);
    check(memcmp(&again, &s, sizeof(s)) == 0);
    return 0;
}

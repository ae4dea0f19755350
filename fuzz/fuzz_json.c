/* libFuzzer target: request-body JSON parsing with the server's limits. */
#include <stdint.h>
#include <string.h>
#include <jansson.h>

#include "api/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = NULL;
    struct gh_json_excess excess = {{0}};
    gh_err parsed = gh_json_parse_object((const char *)data, size, 16, 4096, &obj, &excess);
    /* a long value is named by its top-level key, which is a string of the input */
    if (parsed == GH_ERR_TOO_LARGE && memchr(excess.field, '\0', sizeof(excess.field)) == NULL)
        __builtin_trap();
    if (parsed == GH_OK) {
        const char *s;
        size_t len;
        gh_err err = gh_json_string(obj, "username", &s, &len);
        (void)err;
        json_decref(obj);
    }
    return 0;
}

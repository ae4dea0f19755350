/* libFuzzer target: request-body JSON parsing with the server's limits. */
#include <stdint.h>
#include <jansson.h>

#include "api/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = NULL;
    if (gh_json_parse_object((const char *)data, size, 16, 4096, &obj) == GH_OK) {
        const char *s;
        size_t len;
        gh_err err = gh_json_string(obj, "username", &s, &len);
        (void)err;
        json_decref(obj);
    }
    return 0;
}

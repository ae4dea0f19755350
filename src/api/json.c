#include "api/json.h"

#include <string.h>

/* Depth-first walk, never deeper than max_depth + 1 frames. */
static gh_err check_limits(const json_t *j, unsigned depth, unsigned max_depth, size_t max_string)
{
    if (depth > max_depth)
        return GH_ERR_TOO_LARGE;
    if (json_is_string(j))
        return json_string_length(j) > max_string ? GH_ERR_TOO_LARGE : GH_OK;
    if (json_is_array(j)) {
        size_t i;
        const json_t *v;
        json_array_foreach(j, i, v)
        {
            gh_err err = check_limits(v, depth + 1, max_depth, max_string);
            if (err != GH_OK)
                return err;
        }
    } else if (json_is_object(j)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)j, k, v)
        {
            if (strlen(k) > max_string)
                return GH_ERR_TOO_LARGE;
            gh_err err = check_limits(v, depth + 1, max_depth, max_string);
            if (err != GH_OK)
                return err;
        }
    }
    return GH_OK;
}

gh_err gh_json_parse_object(const char *text, size_t len, unsigned max_depth, size_t max_string,
                            json_t **out)
{
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL)
        return json_error_code(&jerr) == json_error_stack_overflow ? GH_ERR_TOO_LARGE
                                                                    : GH_ERR_INVALID;
    if (!json_is_object(j)) {
        json_decref(j);
        return GH_ERR_INVALID;
    }
    gh_err err = check_limits(j, 1, max_depth, max_string);
    if (err != GH_OK) {
        json_decref(j);
        return err;
    }
    *out = j;
    return GH_OK;
}

gh_err gh_json_string(const json_t *obj, const char *key, const char **out, size_t *len)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return GH_ERR_NOT_FOUND;
    if (!json_is_string(v))
        return GH_ERR_INVALID;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (memchr(s, '\0', n) != NULL)
        return GH_ERR_INVALID;
    *out = s;
    *len = n;
    return GH_OK;
}

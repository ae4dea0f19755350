#include "api/json.h"

#include <string.h>
#include <time.h>

#include "core/time.h"

/* Depth-first walk, never deeper than max_depth + 1 frames; *long_value set when a string
 * value (not a key, not the nesting) broke the bound. */
static gh_err check_limits(const json_t *j, unsigned depth, unsigned max_depth, size_t max_string,
                           int *long_value)
{
    if (depth > max_depth)
        return GH_ERR_TOO_LARGE;
    if (json_is_string(j)) {
        *long_value = json_string_length(j) > max_string;
        return *long_value ? GH_ERR_TOO_LARGE : GH_OK;
    }
    if (json_is_array(j)) {
        size_t i;
        const json_t *v;
        json_array_foreach(j, i, v)
        {
            gh_err err = check_limits(v, depth + 1, max_depth, max_string, long_value);
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
            gh_err err = check_limits(v, depth + 1, max_depth, max_string, long_value);
            if (err != GH_OK)
                return err;
        }
    }
    return GH_OK;
}

/* The top-level member of obj under which the walk found a long string value: its key into
 * excess->field when it fits (a key is at most max_string bytes, the field far less). */
static void name_excess(const json_t *obj, unsigned max_depth, size_t max_string,
                        struct gh_json_excess *excess)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        int long_value = 0;
        if (check_limits(v, 2, max_depth, max_string, &long_value) == GH_OK || !long_value)
            continue;
        size_t n = strlen(k);
        if (n < sizeof(excess->field))
            memcpy(excess->field, k, n + 1);
        return;
    }
}

gh_err gh_json_parse_object(const char *text, size_t len, unsigned max_depth, size_t max_string,
                            json_t **out, struct gh_json_excess *excess)
{
    if (excess != NULL)
        excess->field[0] = '\0';
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL)
        return json_error_code(&jerr) == json_error_stack_overflow ? GH_ERR_TOO_LARGE
                                                                   : GH_ERR_INVALID;
    if (!json_is_object(j)) {
        json_decref(j);
        return GH_ERR_INVALID;
    }
    int long_value = 0;
    gh_err err = check_limits(j, 1, max_depth, max_string, &long_value);
    if (err != GH_OK) {
        if (long_value && excess != NULL)
            name_excess(j, max_depth, max_string, excess);
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

json_t *gh_json_time(int64_t t)
{
    char text[GH_TIME_TEXT];
    if (gh_time_format(t, text) != GH_OK)
        return json_null();
    return json_string(text);
}

/* Reads n digits at *p into *v and advances; -1 when they are not all digits. */
static int digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        *v = *v * 10 + (c - '0');
    }
    *p += n;
    return 0;
}

static int expect(const char **p, const char *set)
{
    if (**p == '\0' || strchr(set, **p) == NULL)
        return -1;
    (*p)++;
    return 0;
}

gh_err gh_json_parse_time(const char *text, int64_t *out)
{
    const char *p = text;
    int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;
    if (digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) || expect(&p, "-") ||
        digits(&p, 2, &d) || expect(&p, "Tt") || digits(&p, 2, &h) || expect(&p, ":") ||
        digits(&p, 2, &mi) || expect(&p, ":") || digits(&p, 2, &s))
        return GH_ERR_INVALID;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return GH_ERR_INVALID;
        while (*p >= '0' && *p <= '9')
            p++; /* seconds are our unit: fractions are dropped */
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(&p, 2, &oh) || expect(&p, ":") || digits(&p, 2, &om) || oh > 23 || om > 59)
            return GH_ERR_INVALID;
    } else {
        return GH_ERR_INVALID;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60)
        return GH_ERR_INVALID;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return GH_ERR_INVALID;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s > 59 ? 59 : s};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return GH_ERR_INVALID;
    *out = (int64_t)t - sign * (int64_t)(oh * 3600 + om * 60);
    return GH_OK;
}

json_t *gh_json_words(const char *s, char sep)
{
    json_t *a = json_array();
    while (a != NULL && *s != '\0') {
        const char *end = strchr(s, sep);
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (n > 0)
            json_array_append_new(a, json_stringn(s, n));
        s += n;
        if (*s == sep)
            s++;
    }
    return a;
}

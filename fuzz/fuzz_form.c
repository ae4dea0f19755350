/*
 * libFuzzer target: gh_form_parse, the application/x-www-form-urlencoded parser of FORM
 * routes. On success: at most GH_FORM_FIELDS_MAX fields, each with a non-empty name of at
 * most GH_FORM_NAME_MAX bytes and a value of at most the bound, both NUL-terminated inside
 * the scratch, well-formed UTF-8 without control characters, and no longer than the
 * input; gh_form_get finds every field (or reports it repeated). The input held no raw
 * byte outside printable ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/form.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VALUE 256

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_text(const char *s, size_t n, const char *scratch, size_t cap)
{
    check(s >= scratch && s + n < scratch + cap && s[n] == '\0' && strlen(s) == n);
    check(gh_utf8_valid((const unsigned char *)s, n));
    for (size_t i = 0; i < n; i++)
        check((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cap = GH_FORM_SCRATCH(size);
    char *scratch = malloc(cap);
    struct gh_form form;
    if (scratch == NULL)
        return 0;
    if (gh_form_parse((const char *)data, size, MAX_VALUE, scratch, &form) == GH_OK) {
        check(form.n <= GH_FORM_FIELDS_MAX);
        for (size_t i = 0; i < size; i++)
            check(data[i] > 0x20 && data[i] < 0x7f);
        size_t total = 0;
        for (size_t i = 0; i < form.n; i++) {
            const struct gh_form_field *f = &form.fields[i];
            size_t n = strlen(f->name);
            check(n > 0 && n <= GH_FORM_NAME_MAX && f->value_len <= MAX_VALUE);
            check_text(f->name, n, scratch, cap);
            check_text(f->value, f->value_len, scratch, cap);
            total += n + f->value_len;
            const char *v;
            size_t len;
            gh_err err = gh_form_get(&form, f->name, &v, &len);
            check(err == GH_OK || err == GH_ERR_CONFLICT);
        }
        check(total <= size);
    }
    free(scratch);
    return 0;
}

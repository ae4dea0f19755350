#include "api/form.h"

#include <string.h>

#include "core/text.h"
#include "core/utf8.h"

/* A byte that may appear unencoded: printable ASCII, space excluded (sent as '+'). */
static int raw_ok(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

/*
 * Decodes s[0..n) into out (n + 1 bytes, NUL-terminated); the decoded length in *len.
 * GH_ERR_INVALID for a malformed escape, a raw byte outside printable ASCII, a decoded
 * control character or NUL, or malformed UTF-8.
 */
static gh_err decode(const char *s, size_t n, char *out, size_t *len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3)
                return GH_ERR_INVALID;
            int hi = gh_hex_value(s[i + 1]), lo = gh_hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return GH_ERR_INVALID;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        } else if (!raw_ok(c)) {
            return GH_ERR_INVALID;
        }
        if (c < 0x20 || c == 0x7f)
            return GH_ERR_INVALID;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (!gh_utf8_valid((const unsigned char *)out, o))
        return GH_ERR_INVALID;
    *len = o;
    return GH_OK;
}

gh_err gh_form_parse(const char *body, size_t len, size_t max_value, char *scratch,
                     struct gh_form *out)
{
    size_t n = 0;
    char *w = scratch;
    const char *p = body, *end = body != NULL ? body + len : NULL;
    while (p != end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *field_end = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(field_end - p));
        if (eq == NULL || eq == p)
            return GH_ERR_INVALID;
        if (n == GH_FORM_FIELDS_MAX)
            return GH_ERR_TOO_LARGE;
        size_t name_len, value_len;
        gh_err err = decode(p, (size_t)(eq - p), w, &name_len);
        if (err != GH_OK)
            return err;
        if (name_len > GH_FORM_NAME_MAX)
            return GH_ERR_TOO_LARGE;
        out->fields[n].name = w;
        w += name_len + 1;
        err = decode(eq + 1, (size_t)(field_end - eq - 1), w, &value_len);
        if (err != GH_OK)
            return err;
        if (value_len > max_value)
            return GH_ERR_TOO_LARGE;
        out->fields[n].value = w;
        out->fields[n].value_len = value_len;
        w += value_len + 1;
        n++;
        if (amp == NULL)
            break;
        p = amp + 1;
        if (p == end)
            return GH_ERR_INVALID; /* a trailing '&': an empty field */
    }
    out->n = n;
    return GH_OK;
}

gh_err gh_form_get(const struct gh_form *form, const char *name, const char **value, size_t *len)
{
    const struct gh_form_field *found = NULL;
    for (size_t i = 0; i < form->n; i++) {
        if (strcmp(form->fields[i].name, name) != 0)
            continue;
        if (found != NULL)
            return GH_ERR_CONFLICT;
        found = &form->fields[i];
    }
    if (found == NULL)
        return GH_ERR_NOT_FOUND;
    *value = found->value;
    *len = found->value_len;
    return GH_OK;
}

#ifndef GH_API_FORM_H
#define GH_API_FORM_H

#include <stddef.h>
#include "core/err.h"

/*
 * application/x-www-form-urlencoded bodies (HTML form posts), parsed strictly into a
 * bounded list of decoded name/value pairs.
 */

#define GH_FORM_FIELDS_MAX 32 /* fields in one body */
#define GH_FORM_NAME_MAX 64   /* bytes of one decoded name */

struct gh_form_field {
    const char *name;  /* decoded, NUL-terminated, never empty */
    const char *value; /* decoded, NUL-terminated, may be empty */
    size_t value_len;
};

/** A parsed form: the fields in body order; the strings live in the caller's scratch. */
struct gh_form {
    struct gh_form_field fields[GH_FORM_FIELDS_MAX];
    size_t n;
};

/** Bytes of scratch gh_form_parse needs for a body of len bytes. */
#define GH_FORM_SCRATCH(len) ((len) + 1)

/**
 * Parses body[0..len) ("name=value&name=value", empty for no fields). Strict: every field
 * has a non-empty name and an '='; '+' is a space and '%' must start two hex digits;
 * unencoded bytes must be printable ASCII; decoded names and values must be well-formed
 * UTF-8 without NUL or control characters. GH_ERR_INVALID for a malformed body,
 * GH_ERR_TOO_LARGE for more than GH_FORM_FIELDS_MAX fields, a name longer than
 * GH_FORM_NAME_MAX or a value longer than max_value bytes. The decoded strings are written
 * to scratch (GH_FORM_SCRATCH(len) bytes, which must outlive *out); *out is set only on
 * success.
 */
gh_err gh_form_parse(const char *body, size_t len, size_t max_value, char *scratch,
                     struct gh_form *out) GH_WUR GH_NONNULL(4, 5);

/**
 * The value of the one field called name: GH_ERR_NOT_FOUND when absent, GH_ERR_CONFLICT
 * when repeated (no guessing which counts). *value points into the form.
 */
gh_err gh_form_get(const struct gh_form *form, const char *name, const char **value,
                   size_t *len) GH_WUR GH_NONNULL(1, 2, 3, 4);

#endif

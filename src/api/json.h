#ifndef GH_API_JSON_H
#define GH_API_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/err.h"

/** Which member of a body held a string value past the bound (gh_json_parse_object). */
struct gh_json_excess {
    char field[64]; /* its top-level key; "" for nesting, a long key, or a key this long */
};

/**
 * Parses a request body that must be one JSON object: duplicate keys refused.
 * GH_ERR_INVALID for malformed JSON or another top-level type; GH_ERR_TOO_LARGE when
 * nesting exceeds max_depth or any string (key or value) exceeds max_string bytes. Then
 * excess (may be NULL) names the top-level member holding a long string value, so that
 * a well-formed body with a long value is answered as a bad value of that field.
 */
gh_err gh_json_parse_object(const char *text, size_t len, unsigned max_depth, size_t max_string,
                            json_t **out, struct gh_json_excess *excess) GH_WUR GH_NONNULL(1, 5);

/**
 * Reads obj[key] as a string without NUL bytes. GH_ERR_NOT_FOUND when absent (or null
 * and optional), GH_ERR_INVALID when of another type. *out points into obj.
 */
gh_err gh_json_string(const json_t *obj, const char *key, const char **out, size_t *len) GH_WUR
    GH_NONNULL(1, 2, 3, 4);

/** t (unix seconds) as an RFC 3339 UTC string, e.g. "2026-11-23T10:00:00Z"; a new reference. */
json_t *gh_json_time(int64_t t);

/**
 * Parses an RFC 3339 date-time ("2026-11-23T10:00:00Z", fractions and "+01:00" offsets
 * allowed; "t"/"z" too) into unix seconds. GH_ERR_INVALID otherwise.
 */
gh_err gh_json_parse_time(const char *text, int64_t *out) GH_WUR GH_NONNULL(1, 2);

/** The words of s separated by sep, as a JSON array of strings (empty words skipped). */
json_t *gh_json_words(const char *s, char sep) GH_NONNULL(1);

#endif

/*
 * The manifest's text (keyset.h): keyring.json parsed strictly into a struct gh_keyset and
 * rendered from one; apart from keyset.c (the files, the lock and the transitions) because
 * it touches no file and is what fuzz_keyset drives.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secure_json.h"
#include "crypto/keyset.h"
#include "crypto/keyset_int.h"

static const char *const STATE_NAMES[] = {"active", "retiring", "retired"};
static const char *const KEY_MEMBERS[] = {"kid",        "alg",          "file",     "state",
                                          "created_at", "activated_at", "retire_at"};

void gh_keyset_fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(err, err_size, fmt, ap); /* a truncated message is still useful */
    va_end(ap);
}

const char *gh_key_state_name(enum gh_key_state state)
{
    return (unsigned)state < 3 ? STATE_NAMES[state] : "?";
}

static int is_b64url(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* A plain file name in the keys directory (no '/', not hidden), or an absolute path. */
int gh_keyset_file_ok(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (s[0] != '/' && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                             (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return s[0] == '/' ? strstr(s, "/../") == NULL : s[0] != '.';
}

/* Copies string member name of o into dst (size with the NUL); 0 if absent, too long or not a
 * string. */
static int get_string(const json_t *o, const char *name, char *dst, size_t size)
{
    const json_t *v = json_object_get(o, name);
    if (!json_is_string(v) || json_string_length(v) >= size)
        return 0;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 1;
}

static int get_time(const json_t *o, const char *name, int64_t *out)
{
    const json_t *v = json_object_get(o, name);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return 0;
    *out = (int64_t)json_integer_value(v);
    return 1;
}

static gh_err parse_key(const json_t *o, size_t i, struct gh_keyset_key *k, char *err,
                        size_t err_size)
{
    char text[16];
    const char *name;
    const json_t *v;
    if (!json_is_object(o)) {
        gh_keyset_fail(err, err_size, "keys[%zu]: expected an object", i);
        return GH_ERR_INVALID;
    }
    json_object_foreach((json_t *)o, name, v)
    {
        size_t m = 0;
        while (m < sizeof(KEY_MEMBERS) / sizeof(KEY_MEMBERS[0]) &&
               strcmp(name, KEY_MEMBERS[m]) != 0)
            m++;
        if (m == sizeof(KEY_MEMBERS) / sizeof(KEY_MEMBERS[0])) {
            gh_keyset_fail(err, err_size, "keys[%zu]: unknown member \"%.40s\"", i, name);
            return GH_ERR_INVALID;
        }
    }
    memset(k, 0, sizeof(*k));
    if (!get_string(o, "kid", k->kid, sizeof(k->kid)) || k->kid[0] == '\0' ||
        !is_b64url(k->kid, strlen(k->kid))) {
        gh_keyset_fail(err, err_size, "keys[%zu].kid: expected a base64url key id", i);
        return GH_ERR_INVALID;
    }
    if (!get_string(o, "alg", text, sizeof(text)) || gh_alg_parse(text, &k->alg) != GH_OK) {
        gh_keyset_fail(err, err_size, "keys[%zu].alg: expected RS256, ES256 or EdDSA", i);
        return GH_ERR_INVALID;
    }
    if (!get_string(o, "file", k->file, sizeof(k->file)) ||
        !gh_keyset_file_ok(k->file, strlen(k->file))) {
        gh_keyset_fail(
            err, err_size,
            "keys[%zu].file: expected a file name in the keys directory or an absolute path", i);
        return GH_ERR_INVALID;
    }
    size_t s = 0;
    if (get_string(o, "state", text, sizeof(text)))
        while (s < 3 && strcmp(text, STATE_NAMES[s]) != 0)
            s++;
    if (!get_string(o, "state", text, sizeof(text)) || s == 3) {
        gh_keyset_fail(err, err_size, "keys[%zu].state: expected active, retiring or retired", i);
        return GH_ERR_INVALID;
    }
    k->state = (enum gh_key_state)s;
    if (!get_time(o, "created_at", &k->created_at) ||
        !get_time(o, "activated_at", &k->activated_at) ||
        !get_time(o, "retire_at", &k->retire_at)) {
        gh_keyset_fail(
            err, err_size,
            "keys[%zu]: created_at, activated_at and retire_at must be unix seconds (0 = unset)",
            i);
        return GH_ERR_INVALID;
    }
    if (k->state != GH_KEY_ACTIVE && k->retire_at == 0) {
        gh_keyset_fail(err, err_size, "keys[%zu]: a %s key needs retire_at", i, text);
        return GH_ERR_INVALID;
    }
    return GH_OK;
}

gh_err gh_keyset_parse(const char *text, size_t len, struct gh_keyset *out, char *err,
                       size_t err_size)
{
    gh_err ret = GH_ERR_INVALID;
    json_error_t jerr;
    struct gh_keyset *set = NULL;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        gh_keyset_fail(err, err_size, "line %d: %s", jerr.line, jerr.text);
        goto out;
    }
    const char *name;
    json_t *v;
    if (!json_is_object(doc)) {
        gh_keyset_fail(err, err_size, "expected a JSON object");
        goto out;
    }
    json_object_foreach(doc, name, v)
    {
        if (strcmp(name, "version") != 0 && strcmp(name, "keys") != 0) {
            gh_keyset_fail(err, err_size, "unknown member \"%.40s\"", name);
            goto out;
        }
    }
    const json_t *version = json_object_get(doc, "version");
    if (!json_is_integer(version) || json_integer_value(version) != 1) {
        gh_keyset_fail(err, err_size, "version: expected 1");
        goto out;
    }
    const json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys) || json_array_size(keys) > GH_KEYSET_MAX) {
        gh_keyset_fail(err, err_size, "keys: expected an array of at most %d keys", GH_KEYSET_MAX);
        goto out;
    }
    if ((set = calloc(1, sizeof(*set))) == NULL) {
        ret = GH_ERR_NOMEM;
        goto out;
    }
    size_t active = 0, live = 0;
    for (size_t i = 0; i < json_array_size(keys); i++) {
        struct gh_keyset_key *k = &set->keys[i];
        if ((ret = parse_key(json_array_get(keys, i), i, k, err, err_size)) != GH_OK)
            goto out;
        ret = GH_ERR_INVALID;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(set->keys[j].kid, k->kid) == 0) {
                gh_keyset_fail(err, err_size, "keys[%zu]: kid %s appears twice", i, k->kid);
                goto out;
            }
        }
        active += k->state == GH_KEY_ACTIVE;
        live += k->state != GH_KEY_RETIRED;
        set->n = i + 1;
    }
    if (active != 1) {
        gh_keyset_fail(err, err_size, "expected exactly one active key, found %zu", active);
        goto out;
    }
    if (live > GH_KEYSET_LIVE_MAX) {
        gh_keyset_fail(err, err_size, "%zu keys are active or retiring; at most %d are allowed",
                       live, GH_KEYSET_LIVE_MAX);
        goto out;
    }
    memcpy(out, set, sizeof(*set));
    ret = GH_OK;
out:
    free(set);
    json_decref(doc);
    return ret;
}

gh_err gh_keyset_render(const struct gh_keyset *set, char **out)
{
    gh_err ret = GH_ERR_NOMEM;
    json_t *arr = json_array(), *doc = NULL;
    char *text = NULL, *with_nl = NULL;
    if (arr == NULL)
        goto out;
    for (size_t i = 0; i < set->n; i++) {
        const struct gh_keyset_key *k = &set->keys[i];
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "kid", k->kid, "alg",
                      gh_alg_name(k->alg), "file", k->file, "state", gh_key_state_name(k->state),
                      "created_at", (json_int_t)k->created_at, "activated_at",
                      (json_int_t)k->activated_at, "retire_at", (json_int_t)k->retire_at);
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            ret = GH_ERR_INVALID; /* a file name that is not UTF-8 */
            goto out;
        }
    }
    doc = json_pack("{s:i, s:O}", "version", 1, "keys", arr);
    if (doc == NULL || (text = json_dumps(doc, JSON_INDENT(2))) == NULL)
        goto out;
    size_t n = strlen(text);
    if ((with_nl = malloc(n + 2)) == NULL)
        goto out;
    memcpy(with_nl, text, n);
    with_nl[n] = '\n';
    with_nl[n + 1] = '\0';
    *out = with_nl;
    with_nl = NULL;
    ret = GH_OK;
out:
    gh_secure_json_free(text);
    free(with_nl);
    json_decref(doc);
    json_decref(arr);
    return ret;
}

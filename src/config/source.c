/*
 * Where configuration values come from: one YAML file (file:line in every message,
 * duplicate keys refused, lists of strings for the line keys) and the GATEHOUSE_*
 * environment variables, read through a key table into its target struct.
 */
#include "config/source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/words.h"

#define ENV_PREFIX "GATEHOUSE_"
#define PATH_TEXT_MAX 64 /* longest key path or environment name, with its NUL */

/* "GATEHOUSE_" + path in upper case, '.' -> '_'. */
static void env_name(const char *path, char *out, size_t size)
{
    size_t at = 0;
    gh_conf_append(out, size, &at, "%s", ENV_PREFIX);
    for (; *path != '\0'; path++) {
        char ch = *path == '.' ? '_' : *path;
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        gh_conf_append(out, size, &at, "%c", ch);
    }
}

/* ---- the YAML file ---- */

struct reader {
    yaml_parser_t parser;
    yaml_event_t ev;
    int have_ev;
    const struct gh_conf_table *t;
    const char *path;
    char *err;
    size_t err_size;
    size_t *key_line;     /* line where each key of t was set, 0 = not yet */
    size_t *section_line; /* indexed by the first key of the section */
};

static size_t ev_line(const struct reader *r)
{
    return r->ev.start_mark.line + 1;
}

static gh_err next_event(struct reader *r)
{
    if (r->have_ev) {
        yaml_event_delete(&r->ev);
        r->have_ev = 0;
    }
    if (!yaml_parser_parse(&r->parser, &r->ev)) {
        gh_conf_fail(r->err, r->err_size, "%s:%zu: invalid YAML: %s", r->path,
                     r->parser.problem_mark.line + 1,
                     r->parser.problem != NULL ? r->parser.problem : "syntax error");
        return GH_ERR_INVALID;
    }
    r->have_ev = 1;
    if (r->ev.type == YAML_ALIAS_EVENT) {
        gh_conf_fail(r->err, r->err_size, "%s:%zu: YAML aliases are not supported", r->path,
                     ev_line(r));
        return GH_ERR_INVALID;
    }
    return GH_OK;
}

static const char *ev_kind_name(yaml_event_type_t t)
{
    switch (t) {
    case YAML_MAPPING_START_EVENT:
        return "a mapping";
    case YAML_SEQUENCE_START_EVENT:
        return "a sequence";
    case YAML_SCALAR_EVENT:
        return "a scalar";
    default:
        return "something else";
    }
}

/* The current event's scalar; a plain null ("", "~", "null") reads as "". */
static const char *scalar_text(const struct reader *r, size_t *len)
{
    const char *s = (const char *)r->ev.data.scalar.value;
    size_t n = r->ev.data.scalar.length;
    if (r->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
         strcmp(s, "NULL") == 0))
        n = 0;
    *len = n;
    return n == 0 ? "" : s;
}

/* Lists the keys of section (or the sections and top-level keys if NULL) into out. */
static void list_keys(const struct gh_conf_table *t, const char *section, char *out, size_t size)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < t->n; i++) {
        const char *p = t->keys[i].path, *dot = strchr(p, '.');
        if (section == NULL) {
            size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
            int dup = 0;
            for (size_t j = 0; j < i; j++)
                dup |= strncmp(t->keys[j].path, p, n) == 0 &&
                       (t->keys[j].path[n] == '.' || t->keys[j].path[n] == '\0');
            if (!dup)
                gh_conf_append(out, size, &at, "%s%.*s", at > 0 ? ", " : "", (int)n, p);
        } else if (dot != NULL && strncmp(p, section, (size_t)(dot - p)) == 0 &&
                   section[dot - p] == '\0') {
            gh_conf_append(out, size, &at, "%s%s", at > 0 ? ", " : "", dot + 1);
        }
    }
}

/*
 * Reads a list of strings (positioned on its SEQUENCE_START) into one heap string, the
 * items joined with newlines, as the file would give them in a block scalar.
 */
static gh_err read_lines(struct reader *r, const struct gh_conf_key *k, char **out)
{
    struct gh_buf b;
    gh_err e;
    gh_buf_init(&b, k->size - 1);
    for (;;) {
        if ((e = next_event(r)) != GH_OK)
            goto out;
        if (r->ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        size_t len = 0;
        const char *v = r->ev.type == YAML_SCALAR_EVENT ? scalar_text(r, &len) : NULL;
        if (v == NULL || strlen(v) != len) {
            gh_conf_fail(r->err, r->err_size, "%s:%zu: %s: expected a list of strings, got %s",
                         r->path, ev_line(r), k->path,
                         v == NULL ? ev_kind_name(r->ev.type) : "a NUL byte");
            e = GH_ERR_INVALID;
            goto out;
        }
        if ((b.len > 0 && (e = gh_buf_append(&b, "\n", 1)) != GH_OK) ||
            (e = gh_buf_append(&b, v, len)) != GH_OK) {
            gh_conf_fail(r->err, r->err_size, "%s:%zu: %s: the list is longer than %zu bytes",
                         r->path, ev_line(r), k->path, k->size - 1);
            goto out;
        }
    }
    *out = gh_buf_take(&b);
    e = *out != NULL ? GH_OK : GH_ERR_NOMEM;
out:
    gh_buf_clear(&b);
    return e == GH_ERR_TOO_LARGE ? GH_ERR_INVALID : e;
}

/* Reads the value event of key k (already positioned on it) and applies it. */
static gh_err read_value(struct reader *r, void *c, const struct gh_conf_key *k)
{
    char why[160], got[GH_QUOTE_TEXT];
    size_t idx = (size_t)(k - r->t->keys);
    if ((k->kind == K_LINES || k->kind == K_SECRET_LINES) &&
        r->ev.type == YAML_SEQUENCE_START_EVENT) {
        char *joined = NULL;
        size_t line = ev_line(r);
        gh_err e = read_lines(r, k, &joined);
        if (e == GH_OK && (e = gh_conf_set(c, k, joined, why, sizeof(why))) != GH_OK)
            gh_conf_fail(r->err, r->err_size, "%s:%zu: %s: expected %s", r->path, line, k->path,
                         why);
        free(joined);
        return e;
    }
    if (r->ev.type != YAML_SCALAR_EVENT) {
        gh_conf_expect(k, 0, why, sizeof(why));
        gh_conf_fail(r->err, r->err_size, "%s:%zu: %s: expected %s, got %s", r->path, ev_line(r),
                     k->path, why, ev_kind_name(r->ev.type));
        return GH_ERR_INVALID;
    }
    if (r->key_line[idx] != 0) {
        gh_conf_fail(r->err, r->err_size, "%s:%zu: %s: duplicate key (first set on line %zu)",
                     r->path, ev_line(r), k->path, r->key_line[idx]);
        return GH_ERR_INVALID;
    }
    r->key_line[idx] = ev_line(r);
    size_t len = 0;
    const char *v = scalar_text(r, &len);
    gh_err e;
    if (strlen(v) != len) {
        gh_conf_expect(k, 0, why, sizeof(why));
        e = GH_ERR_INVALID;
    } else {
        e = gh_conf_set(c, k, v, why, sizeof(why));
    }
    if (e != GH_OK) {
        gh_conf_quote_value(k, got, sizeof(got), v, len);
        gh_conf_fail(r->err, r->err_size, "%s:%zu: %s: expected %s, got \"%s\"", r->path,
                     ev_line(r), k->path, why, got);
    }
    return e;
}

/* Reads the body of section name (positioned on its value event) up to its MAPPING_END. */
static gh_err read_section(struct reader *r, void *c, const char *name)
{
    char path[PATH_TEXT_MAX], shown[GH_QUOTE_TEXT], keys[400];
    gh_err e;
    if (r->ev.type == YAML_SCALAR_EVENT) {
        size_t len = 0;
        (void)scalar_text(r, &len);
        if (len == 0) /* "auth:" with every key commented out */
            return GH_OK;
    }
    if (r->ev.type != YAML_MAPPING_START_EVENT) {
        gh_conf_fail(r->err, r->err_size, "%s:%zu: %s: expected a mapping of %s.* keys, got %s",
                     r->path, ev_line(r), name, name, ev_kind_name(r->ev.type));
        return GH_ERR_INVALID;
    }
    for (;;) {
        if ((e = next_event(r)) != GH_OK)
            return e;
        if (r->ev.type == YAML_MAPPING_END_EVENT)
            return GH_OK;
        if (r->ev.type != YAML_SCALAR_EVENT) {
            gh_conf_fail(r->err, r->err_size, "%s:%zu: %s: expected a key name, got %s", r->path,
                         ev_line(r), name, ev_kind_name(r->ev.type));
            return GH_ERR_INVALID;
        }
        const char *kname = (const char *)r->ev.data.scalar.value;
        size_t klen = r->ev.data.scalar.length;
        int n = snprintf(path, sizeof(path), "%s.%s", name, kname);
        const struct gh_conf_key *k = NULL;
        if (n > 0 && (size_t)n < sizeof(path) && strlen(kname) == klen)
            k = gh_conf_find(r->t, path);
        if (k == NULL) {
            gh_word_quote(shown, sizeof(shown), kname, klen);
            list_keys(r->t, name, keys, sizeof(keys));
            gh_conf_fail(r->err, r->err_size, "%s:%zu: %s.%s: unknown key, expected one of %s",
                         r->path, ev_line(r), name, shown, keys);
            return GH_ERR_INVALID;
        }
        if ((e = next_event(r)) != GH_OK || (e = read_value(r, c, k)) != GH_OK)
            return e;
    }
}

/* Reads the top-level mapping (positioned on its MAPPING_START) up to its MAPPING_END. */
static gh_err read_top(struct reader *r, void *c)
{
    char name[PATH_TEXT_MAX], shown[GH_QUOTE_TEXT], keys[200];
    gh_err e;
    for (;;) {
        if ((e = next_event(r)) != GH_OK)
            return e;
        if (r->ev.type == YAML_MAPPING_END_EVENT)
            return GH_OK;
        if (r->ev.type != YAML_SCALAR_EVENT) {
            gh_conf_fail(r->err, r->err_size, "%s:%zu: expected a section name, got %s", r->path,
                         ev_line(r), ev_kind_name(r->ev.type));
            return GH_ERR_INVALID;
        }
        const char *kname = (const char *)r->ev.data.scalar.value;
        size_t klen = r->ev.data.scalar.length;
        const struct gh_conf_key *k = NULL;
        int section = 0;
        if (klen < sizeof(name) && strlen(kname) == klen && strchr(kname, '.') == NULL) {
            memcpy(name, kname, klen + 1);
            k = gh_conf_find(r->t, name);
            section = k == NULL && gh_conf_is_section(r->t, name, klen);
        }
        if (k == NULL && !section) {
            gh_word_quote(shown, sizeof(shown), kname, klen);
            list_keys(r->t, NULL, keys, sizeof(keys));
            gh_conf_fail(r->err, r->err_size, "%s:%zu: %s: unknown key, expected one of %s",
                         r->path, ev_line(r), shown, keys);
            return GH_ERR_INVALID;
        }
        if (section) {
            size_t first = 0;
            while (!(strncmp(r->t->keys[first].path, name, klen) == 0 &&
                     r->t->keys[first].path[klen] == '.'))
                first++;
            if (r->section_line[first] != 0) {
                gh_conf_fail(r->err, r->err_size,
                             "%s:%zu: %s: duplicate key (first set on line %zu)", r->path,
                             ev_line(r), name, r->section_line[first]);
                return GH_ERR_INVALID;
            }
            r->section_line[first] = ev_line(r);
        }
        if ((e = next_event(r)) != GH_OK)
            return e;
        e = section ? read_section(r, c, name) : read_value(r, c, k);
        if (e != GH_OK)
            return e;
    }
}

gh_err gh_source_file(const struct gh_conf_table *t, void *c, const char *path, char *err,
                      size_t err_size)
{
    gh_err ret = GH_ERR_INVALID;
    struct reader *r = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        gh_conf_fail(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return GH_ERR_IO;
    }
    r = calloc(1, sizeof(*r));
    if (r != NULL) {
        r->key_line = calloc(t->n, sizeof(size_t));
        r->section_line = calloc(t->n, sizeof(size_t));
    }
    if (r == NULL || r->key_line == NULL || r->section_line == NULL ||
        !yaml_parser_initialize(&r->parser)) {
        gh_conf_fail(err, err_size, "%s: out of memory", path);
        if (r != NULL) {
            free(r->key_line);
            free(r->section_line);
        }
        free(r);
        r = NULL;
        ret = GH_ERR_NOMEM;
        goto out;
    }
    yaml_parser_set_input_file(&r->parser, f);
    r->t = t;
    r->path = path;
    r->err = err;
    r->err_size = err_size;

    /* STREAM_START, then DOCUMENT_START or (an empty file) STREAM_END. */
    if ((ret = next_event(r)) != GH_OK || (ret = next_event(r)) != GH_OK)
        goto out;
    if (r->ev.type == YAML_DOCUMENT_START_EVENT) {
        if ((ret = next_event(r)) != GH_OK)
            goto out;
        size_t len = 1;
        if (r->ev.type == YAML_SCALAR_EVENT)
            (void)scalar_text(r, &len);
        if (r->ev.type == YAML_MAPPING_START_EVENT)
            ret = read_top(r, c);
        else if (r->ev.type == YAML_SCALAR_EVENT && len == 0)
            ret = GH_OK; /* "---" alone */
        else {
            gh_conf_fail(err, err_size,
                         "%s:%zu: expected a mapping of sections at the top level, got %s", path,
                         ev_line(r), ev_kind_name(r->ev.type));
            ret = GH_ERR_INVALID;
        }
        if (ret != GH_OK || (ret = next_event(r)) != GH_OK) /* DOCUMENT_END */
            goto out;
        if ((ret = next_event(r)) != GH_OK)
            goto out;
    }
    if (r->ev.type != YAML_STREAM_END_EVENT) {
        gh_conf_fail(err, err_size, "%s:%zu: expected a single YAML document", path, ev_line(r));
        ret = GH_ERR_INVALID;
        goto out;
    }
    ret = GH_OK;

out:
    if (r != NULL) {
        if (r->have_ev)
            yaml_event_delete(&r->ev);
        yaml_parser_delete(&r->parser);
        free(r->key_line);
        free(r->section_line);
        free(r);
    }
    fclose(f);
    return ret;
}

/* ---- the environment ---- */

/* The value of name in envp (the first one, as getenv does), or NULL. */
static const char *env_find(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (; *envp != NULL; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

gh_err gh_source_env(const struct gh_conf_table *t, void *c, char *const *envp, char *err,
                     size_t err_size)
{
    char name[PATH_TEXT_MAX], why[160], got[GH_QUOTE_TEXT];
    for (size_t i = 0; i < t->n; i++) {
        env_name(t->keys[i].path, name, sizeof(name));
        const char *v = env_find(envp, name);
        if (v == NULL)
            continue;
        gh_err e = gh_conf_set(c, &t->keys[i], v, why, sizeof(why));
        if (e != GH_OK) {
            gh_conf_quote_value(&t->keys[i], got, sizeof(got), v, strlen(v));
            gh_conf_fail(err, err_size, "%s: expected %s, got \"%s\"", name, why, got);
            return e;
        }
    }
    return GH_OK;
}

/*
 * The values of configuration keys: parsing each kind (sizes, durations, choices...),
 * bounds, and the "expected ..." of messages. Knows no key: config.c's table does.
 */
#include "config/conf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/words.h"

void gh_conf_fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* A truncated message is still the best we have. */
    (void)vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

void gh_conf_append(char *out, size_t size, size_t *at, const char *fmt, ...)
{
    if (*at >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *at, size - *at, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *at = (size_t)n >= size - *at ? size : *at + (size_t)n;
}

int gh_conf_parse_u64(const char *s, const char **end, uint64_t *out)
{
    /* strtoull would skip blanks and accept a sign ("-1" wraps to UINT64_MAX). */
    if (s[0] < '0' || s[0] > '9')
        return -1;
    char *e = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno != 0 || e == s)
        return -1;
    *end = e;
    *out = (uint64_t)v;
    return 0;
}

static int parse_duration(const char *s, uint64_t *out)
{
    const char *end = NULL;
    uint64_t v = 0, mul = 1;
    if (gh_conf_parse_u64(s, &end, &v) != 0)
        return -1;
    switch (end[0]) {
    case '\0':
        break;
    case 's':
        mul = 1;
        end++;
        break;
    case 'm':
        mul = MINUTES(1);
        end++;
        break;
    case 'h':
        mul = HOURS(1);
        end++;
        break;
    case 'd':
        mul = DAYS(1);
        end++;
        break;
    default:
        return -1;
    }
    if (end[0] != '\0' || v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

/* Binary units only: "KB" and "MB" are ambiguous (1000 or 1024?) and rejected. */
static int parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mul;
    } units[] = {{"", 1}, {"B", 1}, {"KiB", KIB}, {"MiB", MIB}, {"GiB", GIB}};
    const char *end = NULL;
    uint64_t v = 0;
    if (gh_conf_parse_u64(s, &end, &v) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) != 0)
            continue;
        if (v > UINT64_MAX / units[i].mul)
            return -1;
        *out = v * units[i].mul;
        return 0;
    }
    return -1;
}

static int parse_bool(const char *s, uint64_t *out)
{
    static const char *const yes[] = {"true", "on", "yes", "1"};
    static const char *const no[] = {"false", "off", "no", "0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* "90s" style for messages: the largest unit that divides v. */
static void fmt_duration(char *out, size_t size, uint64_t v)
{
    if (v > DAYS(1) && v % DAYS(1) == 0) /* "24h" reads better than "1d" */
        (void)snprintf(out, size, "%llud", (unsigned long long)(v / DAYS(1)));
    else if (v != 0 && v % HOURS(1) == 0)
        (void)snprintf(out, size, "%lluh", (unsigned long long)(v / HOURS(1)));
    else if (v != 0 && v % MINUTES(1) == 0)
        (void)snprintf(out, size, "%llum", (unsigned long long)(v / MINUTES(1)));
    else
        (void)snprintf(out, size, "%llus", (unsigned long long)v);
}

static void fmt_size(char *out, size_t size, uint64_t v)
{
    if (v != 0 && v % GIB == 0)
        (void)snprintf(out, size, "%lluGiB", (unsigned long long)(v / GIB));
    else if (v != 0 && v % MIB == 0)
        (void)snprintf(out, size, "%lluMiB", (unsigned long long)(v / MIB));
    else if (v != 0 && v % KIB == 0)
        (void)snprintf(out, size, "%lluKiB", (unsigned long long)(v / KIB));
    else
        (void)snprintf(out, size, "%llu", (unsigned long long)v);
}

void gh_conf_expect(const struct gh_conf_key *k, int range, char *out, size_t size)
{
    char lo[32], hi[32];
    switch (k->kind) {
    case K_STRING:
    case K_SECRET:
        (void)snprintf(out, size, "%s of at most %llu bytes without control characters",
                       k->min > 0 ? "a non-empty string" : "a string", (unsigned long long)k->max);
        return;
    case K_LINES:
    case K_SECRET_LINES:
        (void)snprintf(out, size, "a string or a list of strings, at most %llu bytes in all",
                       (unsigned long long)k->max);
        return;
    case K_URL:
        (void)snprintf(out, size, "an http:// or https:// URL of at most %llu bytes",
                       (unsigned long long)k->max);
        return;
    case K_UNSIGNED:
        if (k->step > 1)
            (void)snprintf(out, size, "an integer from %llu to %llu, a multiple of %llu",
                           (unsigned long long)k->min, (unsigned long long)k->max,
                           (unsigned long long)k->step);
        else
            (void)snprintf(out, size, "an integer from %llu to %llu", (unsigned long long)k->min,
                           (unsigned long long)k->max);
        return;
    case K_SIZE:
        if (!range) {
            (void)snprintf(out, size, "a size like 64KiB");
            return;
        }
        fmt_size(lo, sizeof(lo), k->min);
        fmt_size(hi, sizeof(hi), k->max);
        (void)snprintf(out, size, "a size from %s to %s", lo, hi);
        return;
    case K_DURATION:
        if (!range) {
            (void)snprintf(out, size, "a duration like 15m");
            return;
        }
        fmt_duration(lo, sizeof(lo), k->min);
        fmt_duration(hi, sizeof(hi), k->max);
        (void)snprintf(out, size, "a duration from %s to %s", lo, hi);
        return;
    case K_BOOL:
        (void)snprintf(out, size, "true or false (or on/off, yes/no, 1/0)");
        return;
    case K_CHOICE: {
        size_t at = 0;
        out[0] = '\0';
        for (size_t i = 0; k->choices[i] != NULL; i++)
            gh_conf_append(out, size, &at, "%s%s",
                           i == 0                      ? ""
                           : k->choices[i + 1] != NULL ? ", "
                                                       : " or ",
                           k->choices[i]);
        return;
    }
    case K_CUSTOM:
        (void)snprintf(out, size, "%s", k->expect);
        return;
    }
    (void)snprintf(out, size, "a valid value");
}

static int text_ok(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int lines_ok(const char *s)
{
    for (; *s != '\0'; s++)
        if (((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') || *s == 0x7f)
            return 0;
    return 1;
}

static int url_ok(const char *s)
{
    const char *host;
    if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else
        return 0;
    if (host[0] == '\0' || host[0] == '/')
        return 0;
    /* Also refuses what would need escaping in JSON, HTML or a Location header. */
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr("\"<>\\^`{|}#?", *s))
            return 0;
    return 1;
}

void gh_conf_quote_value(const struct gh_conf_key *k, char *out, size_t size, const char *v,
                         size_t n)
{
    if (k->kind == K_SECRET || k->kind == K_SECRET_LINES)
        (void)snprintf(out, size, "(hidden: it may hold a secret)");
    else
        gh_word_quote(out, size, v, n);
}

static void *member(void *target, const struct gh_conf_key *k)
{
    return (char *)target + k->offset;
}

gh_err gh_conf_set(void *target, const struct gh_conf_key *k, const char *v, char *why,
                   size_t why_size)
{
    uint64_t n = 0;
    int bad = 0, range = 0;
    size_t len = strlen(v);

    switch (k->kind) {
    case K_STRING:
    case K_SECRET:
        bad = len < k->min || len > k->max || !text_ok(v);
        break;
    case K_LINES:
    case K_SECRET_LINES:
        bad = len > k->max || !lines_ok(v);
        break;
    case K_URL:
        bad = len > k->max || (len > 0 && !url_ok(v));
        break;
    case K_UNSIGNED: {
        const char *end = NULL;
        bad = gh_conf_parse_u64(v, &end, &n) != 0 || end[0] != '\0';
        break;
    }
    case K_SIZE:
        bad = parse_size(v, &n) != 0;
        break;
    case K_DURATION:
        bad = parse_duration(v, &n) != 0;
        break;
    case K_BOOL:
        bad = parse_bool(v, &n) != 0;
        break;
    case K_CHOICE:
        bad = 1;
        for (size_t i = 0; k->choices[i] != NULL; i++) {
            if (strcmp(v, k->choices[i]) == 0) {
                n = i;
                bad = 0;
            }
        }
        break;
    case K_CUSTOM:
        bad = k->set(target, v) != GH_OK;
        break;
    }

    if (!bad && (k->kind == K_UNSIGNED || k->kind == K_SIZE || k->kind == K_DURATION ||
                 k->kind == K_CHOICE)) {
        range = n < k->min || n > k->max || n % k->step != 0 || n > UINT64_MAX / k->scale;
        bad = range;
        n *= k->scale;
    }
    if (bad) {
        gh_conf_expect(k, range, why, why_size);
        return GH_ERR_INVALID;
    }

    void *p = member(target, k);
    switch (k->store) {
    case ST_CHARS:
        memcpy(p, v, len + 1);
        break; /* len <= k->max = size - 1 */
    case ST_UINT:
        if (n > UINT_MAX)
            goto internal;
        *(unsigned *)p = (unsigned)n;
        break;
    case ST_SIZE:
        if (n > SIZE_MAX)
            goto internal;
        *(size_t *)p = (size_t)n;
        break;
    case ST_I64:
        if (n > INT64_MAX)
            goto internal;
        *(int64_t *)p = (int64_t)n;
        break;
    case ST_INT:
        if (n > INT_MAX)
            goto internal;
        *(int *)p = (int)n;
        break;
    case ST_NONE:
        break; /* written above */
    }
    return GH_OK;

internal:
    (void)snprintf(why, why_size, "a value that fits (table bounds are wrong)");
    return GH_ERR_INTERNAL;
}

const struct gh_conf_key *gh_conf_find(const struct gh_conf_table *t, const char *path)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->keys[i].path, path) == 0)
            return &t->keys[i];
    return NULL;
}

int gh_conf_is_section(const struct gh_conf_table *t, const char *name, size_t n)
{
    for (size_t i = 0; i < t->n; i++)
        if (strncmp(t->keys[i].path, name, n) == 0 && t->keys[i].path[n] == '.')
            return 1;
    return 0;
}

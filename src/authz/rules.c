#include "authz/rules.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/utf8.h"
#include "core/words.h"

#define RULES_MAX 256
#define LINE_MAX_LEN 1024

static int parse_methods(const char *w, size_t n, struct gh_rule *r)
{
    if (n == 1 && w[0] == '*') {
        memcpy(r->methods, "*", 2);
        return 0;
    }
    if (n + 3 > sizeof(r->methods))
        return -1;
    r->methods[0] = ',';
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        if (c == ',' && (i == 0 || w[i - 1] == ',' || i + 1 == n))
            return -1;
        if (c != ',' && (c < 'A' || c > 'Z'))
            return -1;
        r->methods[i + 1] = c;
    }
    r->methods[n + 1] = ',';
    r->methods[n + 2] = '\0';
    return 0;
}

/* A path glob of printable ASCII; '?', '[', ']' and '\' would change fnmatch's meaning. */
static int parse_pattern(const char *w, size_t n, struct gh_rule *r)
{
    if (n == 0 || w[0] != '/' || n >= sizeof(r->pattern))
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c <= 0x20 || c >= 0x7f || strchr("?[]\\#", c) != NULL)
            return -1;
    }
    r->any_suffix = n >= 3 && memcmp(w + n - 3, "/**", 3) == 0;
    size_t keep = r->any_suffix ? n - 3 : n;
    memcpy(r->pattern, w, keep);
    r->pattern[keep] = '\0';
    /* "**" anywhere else would read as two single-segment stars: say it is not supported. */
    return strstr(r->pattern, "**") != NULL ? -1 : 0;
}

static int parse_access(const char *w, size_t n, struct gh_rule *r)
{
    if (n == 6 && memcmp(w, "public", 6) == 0)
        r->access = GH_ACCESS_PUBLIC;
    else if (n == 13 && memcmp(w, "authenticated", 13) == 0)
        r->access = GH_ACCESS_AUTHENTICATED;
    else if (gh_perm_valid(w, n) && n < sizeof(r->permission)) {
        r->access = GH_ACCESS_PERMISSION;
        memcpy(r->permission, w, n);
        r->permission[n] = '\0';
    } else
        return -1;
    return 0;
}

int gh_rules_audience_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Parses one rule line; returns a message for what is wrong, or NULL. */
static const char *parse_rule(const char *s, const char *end, struct gh_rule *r)
{
    const char *w;
    size_t n;
    memset(r, 0, sizeof(*r));
    if (!gh_word_next(&s, end, &w, &n) || parse_methods(w, n, r) != 0)
        return "expected METHODS: * or a comma list such as GET,HEAD";
    if (!gh_word_next(&s, end, &w, &n) || parse_pattern(w, n, r) != 0)
        return "expected a PATTERN: an absolute path with * (one segment) or a final /**";
    if (!gh_word_next(&s, end, &w, &n) || parse_access(w, n, r) != 0)
        return "expected ACCESS: public, authenticated or a permission such as file:read";
    while (gh_word_next(&s, end, &w, &n)) {
        if (n == 5 && memcmp(w, "media", 5) == 0 && !r->media) {
            r->media = 1;
        } else if (n > 4 && memcmp(w, "aud=", 4) == 0 && r->audience[0] == '\0' &&
                   gh_rules_audience_ok(w + 4, n - 4)) {
            memcpy(r->audience, w + 4, n - 4);
            r->audience[n - 4] = '\0';
        } else {
            return "expected nothing, \"media\" or \"aud=NAME\" (1-64 of a-z 0-9 . _ -) after "
                   "ACCESS, each once";
        }
        if (r->access == GH_ACCESS_PUBLIC)
            return "a public path needs no media token and no gateway audience";
    }
    return NULL;
}

gh_err gh_rules_parse(const char *text, const char *default_policy, struct gh_rules *out, char *err,
                      size_t err_size)
{
    struct gh_rules rules = {NULL, 0, GH_ACCESS_AUTHENTICATED};
    gh_err ret = GH_ERR_INVALID;
    if (strcmp(default_policy, "deny") == 0)
        rules.fallback = GH_ACCESS_DENY;
    else if (strcmp(default_policy, "authenticated") != 0) {
        (void)snprintf(err, err_size, "default policy: expected authenticated or deny");
        goto out;
    }
    struct gh_lines it = {text, 0};
    const char *line, *end;
    while (gh_line_next(&it, &line, &end)) {
        if ((size_t)(end - line) > LINE_MAX_LEN || rules.n == RULES_MAX) {
            (void)snprintf(err, err_size, "rule %zu: too long or too many rules (at most %d)",
                           it.number, RULES_MAX);
            goto out;
        }
        struct gh_rule *grown = realloc(rules.items, (rules.n + 1) * sizeof(*grown));
        if (grown == NULL) {
            ret = GH_ERR_NOMEM;
            goto out;
        }
        rules.items = grown;
        const char *why = parse_rule(line, end, &rules.items[rules.n]);
        if (why != NULL) {
            (void)snprintf(err, err_size, "rule %zu (\"%.*s\"): %s", it.number,
                           (int)(end - line > 60 ? 60 : end - line), line, why);
            goto out;
        }
        rules.n++;
    }
    ret = GH_OK;
out:
    if (ret != GH_OK) {
        gh_rules_clear(&rules);
        return ret;
    }
    *out = rules;
    return GH_OK;
}

void gh_rules_clear(struct gh_rules *rules)
{
    if (rules == NULL)
        return;
    free(rules->items);
    rules->items = NULL;
    rules->n = 0;
}

/* method must be one of the rule's, compared whole ("GET" never matches "GETX"). */
static int method_matches(const struct gh_rule *r, const char *method)
{
    if (r->methods[0] == '*')
        return 1;
    size_t n = strlen(method);
    for (const char *p = r->methods + 1; *p != '\0';) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, method, n) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

/* path matches pattern followed by a "**" segment: some prefix of path ending at a '/' or its end
 * matches. */
static int prefix_matches(const char *pattern, char *path)
{
    size_t len = strlen(path);
    for (size_t cut = 0; cut <= len; cut++) {
        if (cut < len && path[cut] != '/')
            continue;
        char saved = path[cut];
        path[cut] = '\0';
        int ok = fnmatch(pattern, path, FNM_PATHNAME | FNM_NOESCAPE) == 0;
        path[cut] = saved;
        if (ok)
            return 1;
    }
    return 0;
}

const struct gh_rule *gh_rules_match(const struct gh_rules *rules, const char *method, char *path)
{
    for (size_t i = 0; i < rules->n; i++) {
        const struct gh_rule *r = &rules->items[i];
        if (!method_matches(r, method))
            continue;
        if (r->any_suffix ? prefix_matches(r->pattern, path)
                          : fnmatch(r->pattern, path, FNM_PATHNAME | FNM_NOESCAPE) == 0)
            return r;
    }
    return NULL;
}

/*
 * Decodes one raw segment onto out, without its ";params" (which are still checked: a
 * server behind the proxy may read them). Decoded ';', '?' and '#' are written back
 * encoded, so that normalizing the output again changes nothing. -1 when ambiguous, and
 * when the name (what comes before a ';', raw or decoded) is "", "." or "..": servers
 * resolve or merge those, so the path the app routes on would not be the one judged;
 * and when the decoded bytes are not well-formed UTF-8.
 */
static int decode_segment(const char *s, size_t n, char *out, size_t *outn)
{
    size_t o = 0, name = 0, dots = 0;
    int params = 0, named = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *raw = s + i;
        if (c == ';')
            params = 1;
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = gh_hex_value(s[i + 1]), lo = gh_hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            /* '%': double encoding, which an app that decodes twice reads as another
             * character ("%252e" is '.'). */
            if (c == '/' || c == '\\' || c == 0 || c == '%')
                return -1;
        }
        if (c < 0x20 || c == 0x7f || c == '\\')
            return -1;
        if (c == ';')
            named = 1;
        if (!named) {
            name++;
            dots += c == '.' ? 1 : 0;
        }
        if (params)
            continue;
        if (raw[0] == '%' && strchr(";?#", c) != NULL) {
            static const char digits[] = "0123456789ABCDEF";
            out[o++] = '%';
            out[o++] = digits[c >> 4];
            out[o++] = digits[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    if (name == dots && name <= 2)
        return -1;
    /* Overlong forms such as %C0%AE read as '.' to a lax decoder: only UTF-8 passes. */
    if (!gh_utf8_valid((const unsigned char *)out, o))
        return -1;
    *outn = o;
    return 0;
}

gh_err gh_path_normalize(const char *uri, size_t len, char *out, size_t size)
{
    size_t plen = 0;
    while (plen < len && uri[plen] != '?')
        plen++;
    /* A request never carries a fragment: a raw '#' is something the app may read as a
     * path character while we would cut there. */
    if (plen == 0 || uri[0] != '/' || memchr(uri, '#', len) != NULL)
        return GH_ERR_INVALID;
    if (size < plen + 2)
        return GH_ERR_TOO_LARGE;

    /* Segment for segment as sent: nothing is resolved, merged or dropped. */
    size_t used = 0;
    for (size_t i = 1; i <= plen;) {
        size_t j = i;
        while (j < plen && uri[j] != '/')
            j++;
        out[used++] = '/';
        if (i == plen)
            break; /* a trailing slash ("/", "/a/") */
        size_t n = 0;
        if (decode_segment(uri + i, j - i, out + used, &n) != 0)
            return GH_ERR_INVALID;
        used += n;
        i = j + 1;
    }
    out[used] = '\0';
    return GH_OK;
}

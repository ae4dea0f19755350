#include "core/words.h"

#include <stdio.h>
#include <string.h>

int gh_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

int gh_word_next(const char **p, const char *end, const char **w, size_t *n)
{
    const char *s = *p;
    while (s < end && gh_is_blank(*s))
        s++;
    if (s == end) {
        *w = end;
        *n = 0;
        return 0;
    }
    const char *e = s;
    while (e < end && !gh_is_blank(*e))
        e++;
    *w = s;
    *n = (size_t)(e - s);
    *p = e;
    return 1;
}

int gh_word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

int gh_line_next(struct gh_lines *it, const char **line, const char **end)
{
    while (*it->p != '\0') {
        size_t len = strcspn(it->p, "\n;");
        const char *s = it->p, *e = it->p + len;
        while (s < e && gh_is_blank(*s))
            s++;
        if (s < e && *s == '#') /* a comment runs to the end of its line, ';' or not */
            e = s + strcspn(s, "\n");
        it->p = *e != '\0' ? e + 1 : e;
        if (s == e || *s == '#')
            continue;
        it->number++;
        *line = s;
        *end = e;
        return 1;
    }
    return 0;
}

/* Appends piece at at in out (size bytes); returns the new end, size once out is full. */
static size_t put(char *out, size_t size, size_t at, const char *piece)
{
    if (at >= size)
        return at;
    int n = snprintf(out + at, size - at, "%s", piece);
    if (n < 0)
        return at;
    return (size_t)n >= size - at ? size : at + (size_t)n;
}

void gh_word_quote(char *out, size_t size, const char *s, size_t n)
{
    size_t at = 0;
    if (size == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < GH_QUOTE_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];
        char piece[8];
        if (ch == '"' || ch == '\\')
            (void)snprintf(piece, sizeof(piece), "\\%c", ch);
        else if (ch >= 0x20 && ch < 0x7f)
            (void)snprintf(piece, sizeof(piece), "%c", ch);
        else
            (void)snprintf(piece, sizeof(piece), "\\x%02x", ch);
        at = put(out, size, at, piece);
    }
    if (n > GH_QUOTE_MAX)
        (void)put(out, size, at, "...");
}

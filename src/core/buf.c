#include "core/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

void gh_buf_init(struct gh_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void gh_buf_clear(struct gh_buf *b)
{
    if (b == NULL)
        return;
    if (b->ptr != NULL) {
        sodium_memzero(b->ptr, b->cap);
        free(b->ptr);
    }
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

/* Makes room for n more bytes plus the terminating NUL. */
gh_err gh_buf_reserve(struct gh_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return GH_ERR_TOO_LARGE;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return GH_OK;
    size_t cap = b->cap ? b->cap : 512; /* one allocation for most log lines and bodies */
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = malloc(cap);
    if (p == NULL)
        return GH_ERR_NOMEM;
    if (b->ptr != NULL) {
        memcpy(p, b->ptr, b->len);
        sodium_memzero(b->ptr, b->cap);
        free(b->ptr);
    }
    b->ptr = p;
    b->cap = cap;
    return GH_OK;
}

gh_err gh_buf_append(struct gh_buf *b, const void *p, size_t n)
{
    gh_err err = gh_buf_reserve(b, n);
    if (err != GH_OK)
        return err;
    if (n > 0)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return GH_OK;
}

gh_err gh_buf_puts(struct gh_buf *b, const char *s)
{
    return gh_buf_append(b, s, strlen(s));
}

gh_err gh_buf_printf(struct gh_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return GH_ERR_INVALID;
    gh_err err = gh_buf_reserve(b, (size_t)n);
    if (err != GH_OK)
        return err;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return GH_OK;
}

/*
 * Index of the first byte of s[0..n) a JSON string must escape (a control character, DEL,
 * '"' or '\\'), or n. Eight bytes at a time: log lines are mostly plain text.
 */
static size_t plain_run(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, del, quote, bs;
        memcpy(&x, s + i, 8);
        del = x ^ (0x7f * ones);
        quote = x ^ ('"' * ones);
        bs = x ^ ('\\' * ones);
        if ((((x - 0x20 * ones) & ~x) | ((del - ones) & ~del) | ((quote - ones) & ~quote) |
             ((bs - ones) & ~bs)) &
            highs)
            break;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            break;
    }
    return i;
}

/* The escape of c (a byte plain_run stopped at) into esc[6]; returns its length. */
static size_t escape_one(unsigned char c, char esc[6])
{
    static const char hex[] = "0123456789abcdef";
    if (c == '"' || c == '\\') {
        esc[0] = '\\';
        esc[1] = (char)c;
        return 2;
    }
    memcpy(esc, "\\u00", 4);
    esc[4] = hex[c >> 4];
    esc[5] = hex[c & 15];
    return 6;
}

gh_err gh_buf_json_escape(struct gh_buf *b, const char *s, size_t n)
{
    for (size_t i = 0;;) {
        size_t run = plain_run(s + i, n - i);
        gh_err err = run > 0 ? gh_buf_append(b, s + i, run) : GH_OK;
        if (err != GH_OK || (i += run) == n)
            return err;
        char esc[6];
        if ((err = gh_buf_append(b, esc, escape_one((unsigned char)s[i++], esc))) != GH_OK)
            return err;
    }
}

char *gh_json_escape_to(char *dst, const char *s, size_t n)
{
    for (size_t i = 0;;) {
        size_t run = plain_run(s + i, n - i);
        memcpy(dst, s + i, run);
        dst += run;
        if ((i += run) == n)
            return dst;
        dst += escape_one((unsigned char)s[i++], dst);
    }
}

char *gh_buf_take(struct gh_buf *b)
{
    char *p = b->ptr;
    if (p == NULL)
        p = calloc(1, 1);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

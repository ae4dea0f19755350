#include "core/buf.h"

#include <stdarg.h>
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
static gh_err reserve(struct gh_buf *b, size_t n)
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
    gh_err err = reserve(b, n);
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
    gh_err err = reserve(b, (size_t)n);
    if (err != GH_OK)
        return err;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return GH_OK;
}

gh_err gh_buf_json_escape(struct gh_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* start of the bytes that need no escape, appended in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t len;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            len = 2;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        } else {
            continue;
        }
        gh_err err = i > run ? gh_buf_append(b, s + run, i - run) : GH_OK;
        if (err == GH_OK)
            err = gh_buf_append(b, esc, len);
        if (err != GH_OK)
            return err;
        run = i + 1;
    }
    return n > run ? gh_buf_append(b, s + run, n - run) : GH_OK;
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

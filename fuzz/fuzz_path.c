/*
 * libFuzzer target: gh_path_normalize, the normalization of an original request path that
 * ForwardAuth rules are matched against. On success the output is the path as sent,
 * segment for segment (the same number of '/', a plain path unchanged): it starts with
 * '/', has no "//" and no "." or ".." segment, holds no ';', control character, '\' or
 * '%' but from a re-encoded ";?#", is terminated within its buffer, is at most one byte
 * longer than the input, and normalizes to itself. The input held no raw dot segment.

 * A refused byte anywhere in the path part, ";params" included, refuses it all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authz/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

/* 1 when the URI holds a raw '#', or its path part (up to '?') something else the
 * contract refuses. */
static int refusable(const char *s, size_t n)
{
    if (memchr(s, '#', n) != NULL)
        return 1;
    for (size_t i = 0; i < n && s[i] != '?'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return 1;
        if (c == '%') {
            if (i + 2 >= n || strchr("0123456789abcdefABCDEF", s[i + 1]) == NULL || s[i + 1] == 0 ||
                strchr("0123456789abcdefABCDEF", s[i + 2]) == NULL || s[i + 2] == 0)
                return 1;
            char hex[3] = {s[i + 1], s[i + 2], 0};
            long v = strtol(hex, NULL, 16);
            if (v == '/' || v == '\\' || v == '%' || v < 0x20 || v == 0x7f)
                return 1;
        }
    }
    return 0;
}

static size_t count(const char *s, size_t n, char c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == c ? 1 : 0;
    return k;
}

/* 1 when s (n bytes, '/'-separated) has a segment "." or "..", raw. */
static int dot_segment(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        if ((j - i == 1 && s[i] == '.') || (j - i == 2 && s[i] == '.' && s[i + 1] == '.'))
            return 1;
        i = j + 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    size_t plen = 0;
    while (plen < size && in[plen] != '?')
        plen++;

    /* The tightest buffer the function accepts, on the heap so ASan sees every overrun. */
    size_t cap = plen + 2;
    char *out = malloc(cap);
    check(out != NULL);
    gh_err e = gh_path_normalize(in, size, out, cap);
    if (e != GH_OK) {
        check(e == GH_ERR_INVALID);
        free(out);
        return 0;
    }

    size_t n = strnlen(out, cap);
    check(n < cap);                 /* terminated within the buffer */
    check(n >= 1 && out[0] == '/'); /* absolute */
    check(n <= size + 1);
    check(strstr(out, "//") == NULL);
    check(!dot_segment(out, n) && !dot_segment(in, plen));
    /* Nothing resolved, merged or dropped: as many segments as sent. */
    check(count(out, n, '/') == count(in, plen, '/'));
    /* A path with nothing to decode or strip is judged exactly as sent. */
    if (memchr(in, '%', plen) == NULL && memchr(in, ';', plen) == NULL)
        check(n == plen && memcmp(out, in, n) == 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        check(c >= 0x20 && c != 0x7f && c != '\\' && c != ';');
        if (c == '%')
            check(i + 2 < n && (memcmp(out + i, "%3B", 3) == 0 || memcmp(out + i, "%3F", 3) == 0 ||
                                memcmp(out + i, "%23", 3) == 0));
    }
    /* A trailing slash in the input's path part is kept (a lone "/" stays "/"). */
    if (plen > 0 && in[plen - 1] == '/')
        check(out[n - 1] == '/');

    /* One byte less than asked is refused, never overrun. */
    char *tight = malloc(cap - 1);
    check(tight != NULL);
    check(gh_path_normalize(in, size, tight, cap - 1) == GH_ERR_TOO_LARGE);
    free(tight);

    /* Idempotence: the output is its own normal form. */
    char *again = malloc(n + 2);
    check(again != NULL);
    check(gh_path_normalize(out, n, again, n + 2) == GH_OK);
    check(strcmp(again, out) == 0);
    free(again);
    check(!refusable(in, size));
    free(out);
    return 0;
}

/* A Shamir share's text line (crypto/share.h). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "crypto/b64url.h"
#include "crypto/share.h"

#define PREFIX "ghs1."

/* The check of the line's first n bytes. */
static void check_of(const char *text, size_t n, char out[9])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const uint8_t *)text, n);
    sodium_bin2hex(out, 9, h, 4);
}

void gh_share_format(const struct gh_share *s, char out[GH_SHARE_TEXT_MAX + 1])
{
    char split[9], y[48], check[9];
    size_t ylen = 0;
    sodium_bin2hex(split, sizeof(split), s->split, sizeof(s->split));
    if (gh_b64url_encode(s->y, sizeof(s->y), y, sizeof(y), &ylen) != GH_OK)
        y[0] = '\0'; /* cannot happen: 43 characters fit */
    int n =
        snprintf(out, GH_SHARE_TEXT_MAX + 1, PREFIX "%s.%u.%u.%s.", split, s->threshold, s->x, y);
    check_of(out, (size_t)n, check);
    (void)snprintf(out + n, GH_SHARE_TEXT_MAX + 1 - (size_t)n, "%s", check);
    sodium_memzero(y, sizeof(y));
}

/* A decimal of 1..255 without a leading zero, at p up to the next '.'. */
static int small_number(const char *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    if (n == 0 || n > 3 || p[0] == '0')
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v < 1 || v > 255)
        return -1;
    *out = v;
    return 0;
}

/* n hex digits (even) at p into out. */
static int hex(const char *p, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n / 2; i++) {
        int hi = gh_hex_value(p[2 * i]), lo = gh_hex_value(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

gh_err gh_share_parse(const char *text, size_t n, struct gh_share *out)
{
    struct gh_share s;
    const char *part[5];
    size_t len[5], y = 0;
    char want[9];
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
                     text[n - 1] == '\t'))
        n--;
    while (n > 0 && (text[0] == ' ' || text[0] == '\t')) {
        text++;
        n--;
    }
    if (n > GH_SHARE_TEXT_MAX || n < sizeof(PREFIX) - 1 ||
        memcmp(text, PREFIX, sizeof(PREFIX) - 1) != 0)
        return GH_ERR_INVALID;
    /* Five dot-separated parts after the prefix (base64url has no '.'). */
    const char *p = text + sizeof(PREFIX) - 1, *end = text + n;
    for (int i = 0; i < 5; i++) {
        const char *dot = i < 4 ? memchr(p, '.', (size_t)(end - p)) : end;
        if (dot == NULL)
            return GH_ERR_INVALID;
        part[i] = p;
        len[i] = (size_t)(dot - p);
        p = dot < end ? dot + 1 : end;
    }
    if (memchr(part[4], '.', len[4]) != NULL || len[0] != 8 || len[4] != 8 ||
        hex(part[0], 8, s.split) != 0 || small_number(part[1], len[1], &s.threshold) != 0 ||
        small_number(part[2], len[2], &s.x) != 0 || s.threshold < 2 ||
        gh_b64url_decode(part[3], len[3], s.y, sizeof(s.y), &y) != GH_OK || y != sizeof(s.y)) {
        sodium_memzero(&s, sizeof(s));
        return GH_ERR_INVALID;
    }
    check_of(text, (size_t)(part[4] - text), want);
    /* The check is no secret; lower case only, as written. */
    if (memcmp(want, part[4], 8) != 0) {
        sodium_memzero(&s, sizeof(s));
        return GH_ERR_AUTH;
    }
    *out = s;
    sodium_memzero(&s, sizeof(s));
    return GH_OK;
}

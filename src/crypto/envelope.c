/* "enc:v1:<key-id>:<base64url>" (crypto/envelope.h). */
#include <stdio.h>
#include <string.h>

#include "crypto/b64url.h"
#include "crypto/envelope.h"

#define KID_MAX 2147483647u

int gh_envelope_is(const char *text, size_t n)
{
    return n >= GH_ENVELOPE_PREFIX_LEN &&
           memcmp(text, GH_ENVELOPE_PREFIX, GH_ENVELOPE_PREFIX_LEN) == 0;
}

static size_t digits(uint32_t v)
{
    size_t d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

size_t gh_envelope_len(uint32_t kid, size_t sealed_len)
{
    return GH_ENVELOPE_PREFIX_LEN + digits(kid) + 1 + gh_b64url_encoded_len(sealed_len);
}

gh_err gh_envelope_format(uint32_t kid, const uint8_t *sealed, size_t len, char *out,
                          size_t out_size, size_t *out_len)
{
    if (kid == 0 || kid > KID_MAX)
        return GH_ERR_INVALID;
    if (len > GH_ENVELOPE_MAX_SEALED || gh_envelope_len(kid, len) + 1 > out_size)
        return GH_ERR_TOO_LARGE;
    int head = snprintf(out, out_size, GH_ENVELOPE_PREFIX "%u:", kid);
    size_t body = 0;
    if (head < 0 || (size_t)head >= out_size)
        return GH_ERR_TOO_LARGE;
    gh_err err = gh_b64url_encode(sealed, len, out + head, out_size - (size_t)head, &body);
    if (err != GH_OK)
        return err;
    *out_len = (size_t)head + body;
    return GH_OK;
}

/* The key id at text (n bytes) up to the ':' after it; *used counts the digits and ':'. */
static gh_err parse_kid(const char *text, size_t n, uint32_t *kid, size_t *used)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n && i < 11 && text[i] >= '0' && text[i] <= '9'; i++)
        v = v * 10 + (uint64_t)(text[i] - '0');
    if (i == 0 || i == 11 || i >= n || text[i] != ':' || text[0] == '0' || v > KID_MAX)
        return GH_ERR_INVALID;
    *kid = (uint32_t)v;
    *used = i + 1;
    return GH_OK;
}

gh_err gh_envelope_key_id(const char *text, size_t n, uint32_t *kid)
{
    size_t used = 0;
    if (!gh_envelope_is(text, n))
        return GH_ERR_INVALID;
    return parse_kid(text + GH_ENVELOPE_PREFIX_LEN, n - GH_ENVELOPE_PREFIX_LEN, kid, &used);
}

gh_err gh_envelope_parse(const char *text, size_t n, uint32_t *kid, uint8_t *sealed, size_t size,
                         size_t *len)
{
    uint32_t k = 0;
    size_t used = 0, got = 0;
    if (n > GH_ENVELOPE_MAX_TEXT)
        return GH_ERR_TOO_LARGE;
    if (!gh_envelope_is(text, n))
        return GH_ERR_INVALID;
    text += GH_ENVELOPE_PREFIX_LEN;
    n -= GH_ENVELOPE_PREFIX_LEN;
    gh_err err = parse_kid(text, n, &k, &used);
    if (err != GH_OK)
        return err;
    err = gh_b64url_decode(text + used, n - used, sealed, size, &got);
    if (err != GH_OK)
        return err;
    if (got < GH_GCM_OVERHEAD)
        return GH_ERR_INVALID;
    *kid = k;
    *len = got;
    return GH_OK;
}

#include "edge/origin.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"

#define HOST_MAX 256

/* The parts of an absolute http(s) URL: scheme, host (lower case), port (0: default). */
struct url_parts {
    int https;
    char host[HOST_MAX];
    unsigned port;
    const char *rest; /* from the path on ("" when none) */
};

/* Splits url; 0 on success. Refuses userinfo, an empty host and a bad port. */
static int parse_url(const char *url, struct url_parts *u)
{
    memset(u, 0, sizeof(*u));
    if (strncasecmp(url, "https://", 8) == 0) {
        u->https = 1;
        url += 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        url += 7;
    } else {
        return -1;
    }
    size_t auth = strcspn(url, "/?#");
    u->rest = url + auth;
    if (memchr(url, '@', auth) != NULL || auth == 0)
        return -1;
    size_t host_len = auth;
    if (url[0] == '[') { /* an IPv6 literal */
        const char *close = memchr(url, ']', auth);
        if (close == NULL)
            return -1;
        host_len = (size_t)(close - url) + 1;
    } else {
        const char *colon = memchr(url, ':', auth);
        if (colon != NULL)
            host_len = (size_t)(colon - url);
    }
    if (host_len == 0 || host_len >= sizeof(u->host))
        return -1;
    for (size_t i = 0; i < host_len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == '[' || c == ']' || c == ':'))
            return -1;
        u->host[i] = (char)tolower(c);
    }
    if (host_len < auth) {
        if (url[host_len] != ':' || host_len + 1 == auth || auth - host_len - 1 > 5)
            return -1;
        unsigned port = 0;
        for (size_t i = host_len + 1; i < auth; i++) {
            if (!isdigit((unsigned char)url[i]))
                return -1;
            port = port * 10 + (unsigned)(url[i] - '0');
        }
        if (port == 0 || port > 65535)
            return -1;
        u->port = port == (u->https ? 443u : 80u) ? 0 : port;
    }
    return 0;
}

static void origin_text(const struct url_parts *u, char out[GH_ORIGIN_MAX])
{
    char port[16] = "";
    if (u->port != 0)
        (void)snprintf(port, sizeof(port), ":%u", u->port);
    (void)snprintf(out, GH_ORIGIN_MAX, "%s://%s%s", u->https ? "https" : "http", u->host, port);
}

gh_err gh_origin_of(const char *url, char out[GH_ORIGIN_MAX])
{
    struct url_parts u;
    if (parse_url(url, &u) != 0)
        return GH_ERR_INVALID;
    origin_text(&u, out);
    return GH_OK;
}

int gh_origin_same(const char *origin, const char *hdr_origin, const char *referer)
{
    char seen[GH_ORIGIN_MAX];
    struct url_parts u;
    const char *from = hdr_origin != NULL ? hdr_origin : referer;
    if (from == NULL || parse_url(from, &u) != 0)
        return 0; /* "null", nothing, or no URL */
    if (hdr_origin != NULL && *u.rest != '\0')
        return 0; /* an Origin is scheme, host and port only */
    origin_text(&u, seen);
    return strcmp(seen, origin) == 0;
}

/* host matches one entry of allowed: exactly, or "*.suffix" for a subdomain of suffix. */
static int host_allowed(const char *allowed, const char *host)
{
    size_t hlen = strlen(host);
    for (const char *p = allowed; *p != '\0';) {
        p += strspn(p, " ,\t\n");
        size_t n = strcspn(p, " ,\t\n");
        if (n == 0)
            break;
        if (n > 2 && p[0] == '*' && p[1] == '.') {
            size_t slen = n - 1; /* ".suffix" */
            if (hlen > slen && strncasecmp(host + hlen - slen, p + 1, slen) == 0)
                return 1;
        } else if (n == hlen && strncasecmp(host, p, n) == 0) {
            return 1;
        }
        p += n;
    }
    return 0;
}

/* No control character, space or backslash in rd, nor after decoding its escapes; no
 * escaped '/' either (a "%2f%2f" could become "//" for a later decoder). */
static int plain_text(const char *rd)
{
    for (const char *p = rd; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f || c == '\\')
            return 0;
        if (c == '%') {
            int hi = gh_hex_value(p[1]), lo = hi < 0 ? -1 : gh_hex_value(p[2]);
            if (hi < 0 || lo < 0)
                return 0;
            int d = hi * 16 + lo;
            if (d < 0x20 || d == 0x7f || d == '\\' || d == '/' || d == '%')
                return 0;
            p += 2;
        }
    }
    return 1;
}

int gh_redirect_ok(const char *origin, const char *allowed, const char *rd)
{
    if (*rd == '\0' || strlen(rd) > 2048 || !plain_text(rd))
        return 0;
    if (rd[0] == '/')
        return rd[1] != '/'; /* a path here; "//host" is another host */
    struct url_parts u;
    char seen[GH_ORIGIN_MAX];
    if (parse_url(rd, &u) != 0)
        return 0; /* javascript:, https:evil, userinfo, no host... */
    if (*u.rest != '\0' && *u.rest != '/' && *u.rest != '?' && *u.rest != '#')
        return 0;
    origin_text(&u, seen);
    return strcmp(seen, origin) == 0 || host_allowed(allowed, u.host);
}

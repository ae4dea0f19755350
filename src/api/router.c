#include "api/router.h"

#include <string.h>

int gh_router_path_matches(const char *pattern, const char *path)
{
    while (*pattern != '\0' && *path != '\0') {
        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++;
        path++;
        size_t rn = strcspn(pattern, "/"), pn = strcspn(path, "/");
        if (rn == 1 && pattern[0] == '*') {
            if (pn == 0)
                return 0;
        } else if (rn != pn || memcmp(pattern, path, rn) != 0) {
            return 0;
        }
        pattern += rn;
        path += pn;
    }
    return *pattern == '\0' && *path == '\0';
}

/* FNV-1a over the path's bytes; *len gets the length. */
static uint32_t hash(const char *s, size_t *len)
{
    uint32_t h = 2166136261u;
    const char *p = s;
    for (; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    *len = (size_t)(p - s);
    return h;
}

/* The bytes before the first "*" segment of pattern, or -1 when it has none. */
static long literal_prefix(const char *pattern)
{
    for (const char *p = pattern; (p = strstr(p, "/*")) != NULL; p++)
        if (p[2] == '\0' || p[2] == '/')
            return p + 1 - pattern;
    return -1;
}

static uint8_t segments(const char *path)
{
    unsigned n = 0;
    for (; *path != '\0'; path++)
        n += *path == '/';
    return n > UINT8_MAX ? UINT8_MAX : (uint8_t)n;
}

gh_err gh_router_init(struct gh_router *r, const char *const *patterns, size_t n)
{
    size_t nexact = 0;
    if (n > GH_ROUTER_MAX)
        return GH_ERR_TOO_LARGE;
    memset(r, 0, sizeof(*r));
    r->patterns = patterns;
    for (size_t i = 0; i < n; i++) {
        long lit = literal_prefix(patterns[i]);
        if (lit >= 0) {
            r->param[r->nparam++] = (struct gh_router_param){(uint8_t)i, segments(patterns[i]),
                                                             (uint8_t)(lit > 255 ? 255 : lit)};
            continue;
        }
        size_t len;
        uint32_t h = hash(patterns[i], &len);
        struct gh_router_exact *e = &r->exact[h & (GH_ROUTER_SLOTS - 1)];
        while (e->path != NULL && strcmp(e->path, patterns[i]) != 0)
            e = &r->exact[(size_t)(e - r->exact + 1) & (GH_ROUTER_SLOTS - 1)];
        if (e->path != NULL)
            continue; /* listed with the first pattern of this text */
        if (++nexact > GH_ROUTER_SLOTS / 2)
            return GH_ERR_TOO_LARGE;
        e->path = patterns[i];
        e->len = len;
        for (size_t j = 0; j < n; j++) {
            if (!gh_router_path_matches(patterns[j], patterns[i]))
                continue;
            if (e->n == GH_ROUTER_MATCHES)
                return GH_ERR_TOO_LARGE;
            e->match[e->n++] = (uint8_t)j;
        }
    }
    return GH_OK;
}

size_t gh_router_match(const struct gh_router *r, const char *path, uint8_t match[GH_ROUTER_MAX])
{
    size_t len, n = 0;
    uint32_t h = hash(path, &len);
    for (const struct gh_router_exact *e = &r->exact[h & (GH_ROUTER_SLOTS - 1)]; e->path != NULL;
         e = &r->exact[(size_t)(e - r->exact + 1) & (GH_ROUTER_SLOTS - 1)]) {
        if (e->len == len && memcmp(e->path, path, len) == 0) {
            memcpy(match, e->match, e->n);
            return e->n;
        }
    }
    /* Not a pattern's text: only "*" patterns can match. */
    uint8_t nseg = segments(path);
    for (size_t i = 0; i < r->nparam; i++) {
        const struct gh_router_param *p = &r->param[i];
        const char *pattern = r->patterns[p->index];
        if (p->nseg == nseg && strncmp(pattern, path, p->literal) == 0 &&
            gh_router_path_matches(pattern, path))
            match[n++] = p->index;
    }
    return n;
}

#ifndef GH_API_ROUTER_H
#define GH_API_ROUTER_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * Route lookup: which of a fixed list of path patterns match a request path, without
 * matching every pattern. A pattern is compared segment by segment, "*" standing for
 * exactly one non-empty segment (gh_router_path_matches). The index built once from the
 * patterns answers a path equal to a pattern without a "*" with one hash probe (its
 * matches, "*" patterns included, were listed when the index was built), and any other
 * path by trying only the "*" patterns with as many segments and the same text before
 * their first "*".
 */

#define GH_ROUTER_MAX 128   /* patterns */
#define GH_ROUTER_SLOTS 256 /* hash slots for the patterns without "*" (a power of two) */
#define GH_ROUTER_MATCHES 8 /* patterns the text of one pattern without "*" may match */

struct gh_router_exact {
    const char *path; /* NULL: an empty slot */
    size_t len;
    uint8_t n;
    uint8_t match[GH_ROUTER_MATCHES]; /* the patterns it matches, in list order */
};

struct gh_router_param {
    uint8_t index;   /* in the pattern list */
    uint8_t nseg;    /* its segments ('/' count) */
    uint8_t literal; /* bytes before its first "*" segment */
};

/** The index; caller-owned storage, filled by gh_router_init, read-only after. */
struct gh_router {
    const char *const *patterns;
    struct gh_router_exact exact[GH_ROUTER_SLOTS];
    struct gh_router_param param[GH_ROUTER_MAX];
    size_t nparam;
};

/** 1 when pattern (segments, "*" for any one non-empty segment) matches path. */
int gh_router_path_matches(const char *pattern, const char *path) GH_NONNULL(1, 2);

/**
 * Indexes the n patterns (which must outlive r; each starts with '/'). GH_ERR_TOO_LARGE
 * past GH_ROUTER_MAX patterns, GH_ROUTER_SLOTS / 2 patterns without "*", or a path
 * matching more than GH_ROUTER_MATCHES of them.
 */
gh_err gh_router_init(struct gh_router *r, const char *const *patterns, size_t n) GH_WUR
    GH_NONNULL(1, 2);

/**
 * Writes the indices of the patterns matching path to match, in list order, and returns
 * how many: the same as testing every pattern with gh_router_path_matches.
 */
size_t gh_router_match(const struct gh_router *r, const char *path, uint8_t match[GH_ROUTER_MAX])
    GH_NONNULL(1, 2, 3);

#endif

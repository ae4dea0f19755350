#ifndef GH_AUTHZ_RULES_H
#define GH_AUTHZ_RULES_H

#include <stddef.h>
#include "core/perm.h"
#include "core/err.h"

/*
 * Route rules for ForwardAuth: which original requests are public, which need a caller,
 * which need a permission, and which accept a media ?token=. One rule per line:
 *
 *     METHODS PATTERN ACCESS [media]
 *
 * METHODS is "*" or a comma list (GET,HEAD); PATTERN an absolute path where "*" matches
 * within one segment and a final "**" segment matches the rest, nothing included;
 * ACCESS is "public", "authenticated" or a permission (file:read). First match wins.
 * Built once from the configuration, then read-only.
 */

enum gh_access {
    GH_ACCESS_PUBLIC,        /* no credential needed */
    GH_ACCESS_AUTHENTICATED, /* any valid credential */
    GH_ACCESS_PERMISSION,    /* a credential whose permissions cover rule->permission */
    GH_ACCESS_DENY,          /* nobody (the default policy "deny") */
};

#define GH_RULE_PATTERN_MAX 256
#define GH_RULE_METHODS_MAX 128

struct gh_rule {
    char methods[GH_RULE_METHODS_MAX]; /* ",GET,HEAD," or "*" */
    char pattern[GH_RULE_PATTERN_MAX]; /* without its final "**" segment */
    int any_suffix;                    /* the pattern ended with a "**" segment */
    enum gh_access access;
    char permission[GH_PERM_MAX];
    int media;         /* ?token=<access JWT> accepted */
    char audience[65]; /* aud=<name>: gateway tokens for it accepted (authn/gateway.h); "" none */
};

/** 1 for a gateway audience name: 1-64 of [a-z0-9._-]. */
int gh_rules_audience_ok(const char *s, size_t n) GH_NONNULL(1);

struct gh_rules {
    struct gh_rule *items;
    size_t n;
    enum gh_access fallback; /* for paths no rule matches */
};

/**
 * Parses rules text (lines, or ';'-separated; blank lines and '#' comments skipped).
 * default_policy is "authenticated" or "deny". On GH_ERR_INVALID err names the rule
 * number and what is wrong. Free with gh_rules_clear.
 */
gh_err gh_rules_parse(const char *text, const char *default_policy, struct gh_rules *out, char *err,
                      size_t err_size) GH_WUR GH_NONNULL(1, 2, 3, 4);
void gh_rules_clear(struct gh_rules *rules);

/**
 * The first rule matching method and a normalized path, or NULL. path is written to
 * while matching and restored before returning (no allocation on the hot path).
 */
const struct gh_rule *gh_rules_match(const struct gh_rules *rules, const char *method, char *path)
    GH_NONNULL(1, 2, 3);

/**
 * Normalizes the path of an original request URI (len bytes; the query is cut off) into
 * out (size bytes, at least len + 2): each segment percent-decoded and without its
 * ";params", and nothing else changed, so that the rules judge the segments the app
 * behind the proxy routes on. GH_ERR_INVALID for what a server behind the proxy could
 * read another way: not starting with '/'; a raw '#' anywhere; an encoded '/', '\', '%'
 * (double encoding) or NUL; a raw '\' or control character; a bad escape; a segment
 * that is empty (but a trailing slash), "." or "..", raw, encoded or before ";params"
 * ("//", "%2e%2e", "..;x", ";x"). Byte checks cover ";params" too. GH_ERR_TOO_LARGE
 * when out is too small.
 */
gh_err gh_path_normalize(const char *uri, size_t len, char *out, size_t size) GH_WUR
    GH_NONNULL(1, 3);

#endif

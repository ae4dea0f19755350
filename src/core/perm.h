#ifndef GH_CORE_PERM_H
#define GH_CORE_PERM_H

#include <stddef.h>
#include "core/err.h"

/*
 * Permissions: "resource:action" where each part is 1-64 of [a-z0-9_.-] or the wildcard
 * "*" (file:read, file:*, *:read, *:*), optionally qualified ":own" (file:read:own): the
 * same, only on resources the caller owns. An unqualified permission covers its ":own"
 * form, never the reverse. A permission list is permissions joined with single spaces,
 * as tokens carry them. Pure functions, safe from any thread.
 */

/** Gatehouse's own resources with every action that applies: always declared. */
#define GH_PERM_BUILTIN                                                                            \
    "user:read user:write user:delete user:admin org:read org:write org:delete org:admin "         \
    "role:read role:write role:delete role:admin apikey:read apikey:write apikey:delete "          \
    "apikey:admin audit:read audit:write audit:delete audit:admin metrics:read metrics:write "     \
    "metrics:delete metrics:admin crypto:encrypt crypto:decrypt vault:read vault:write "           \
    "edge:admin"

#define GH_PERM_MAX 134 /* longest permission text: 64 + ':' + 64 + ":own", with its NUL */

/** 1 when perm (len bytes) is a well-formed permission, wildcards allowed. */
int gh_perm_valid(const char *perm, size_t len) GH_NONNULL(1);

/**
 * 1 when granted covers wanted: every concrete permission wanted stands for is also
 * granted (file:* covers file:read and file:*; file:read does not cover file:*).
 * Malformed input covers nothing.
 */
int gh_perm_covers(const char *granted, size_t glen, const char *wanted, size_t wlen)
    GH_NONNULL(1, 3);

/** 1 when some permission of the space-separated list covers wanted. */
int gh_perms_allow(const char *list, const char *wanted, size_t wlen) GH_NONNULL(1, 2);

/**
 * 1 when perm is well formed and stands for at least one permission of catalog (a list of
 * concrete permissions): file:read when catalog holds it, file:* when it holds some
 * file:<action>, *:* always for a non-empty catalog. The ":own" qualifier is ignored.
 * This is how role writes and authz/check refuse permissions nobody declared.
 */
int gh_perm_known(const char *catalog, const char *perm, size_t len) GH_NONNULL(1, 2);

/**
 * The intersection of two permission lists, as a list: what both a and b grant (the
 * meet of each pair, e.g. file:* and *:read give file:read). Used to cut an API key's
 * scopes down to what its owner holds now. GH_ERR_TOO_LARGE when it exceeds size.
 */
gh_err gh_perms_intersect(const char *a, const char *b, char *out, size_t size) GH_WUR
    GH_NONNULL(1, 2, 3);

#endif

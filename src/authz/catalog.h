#ifndef GH_AUTHZ_CATALOG_H
#define GH_AUTHZ_CATALOG_H

#include <stddef.h>
#include "core/err.h"
#include "store/store.h"

/*
 * The declared permissions, the catalog a role's permissions and a check's permission
 * must stand for: Gatehouse's own (GH_PERM_BUILTIN), the apps' from the configuration
 * (authz.permissions) and those declared through the API (stored: another node may add
 * one, so a miss reloads them, at most once a second). Thread-safe.
 */

struct gh_catalog;

/**
 * A catalog of GH_PERM_BUILTIN, app_permissions (borrowed: it must outlive the catalog)
 * and the permissions declared in store, read now. The store's error when it cannot be
 * read; GH_ERR_TOO_LARGE when they do not fit.
 */
gh_err gh_catalog_new(const char *app_permissions, const struct gh_store_handle *store,
                      struct gh_catalog **out) GH_WUR GH_NONNULL(1, 2, 3);
/** Accepts NULL. */
void gh_catalog_free(struct gh_catalog *c);

/** 1 when perm (a permission, wildcards and ":own" allowed) stands for a declared one. */
int gh_catalog_known(struct gh_catalog *c, const char *perm) GH_NONNULL(1, 2);

/**
 * Calls fn with each declared permission and where it comes from ("builtin", "config",
 * "api"), after a reload; stops when fn returns non-zero.
 */
gh_err gh_catalog_list(struct gh_catalog *c,
                       int (*fn)(void *arg, const char *name, const char *source), void *arg) GH_WUR
    GH_NONNULL(1, 2);

/**
 * Declares name through the store. GH_ERR_INVALID not one concrete resource:action;
 * GH_ERR_CONFLICT already declared (by Gatehouse, the config or the API);
 * GH_ERR_TOO_LARGE too many declared through the API.
 */
gh_err gh_catalog_add(struct gh_catalog *c, const char *name) GH_WUR GH_NONNULL(1, 2);

/**
 * Checks the configured lists: app_permissions (authz.permissions) must hold concrete
 * permissions (resource:action, no wildcard), member_permissions
 * (authz.member_permissions) permissions that Gatehouse or app_permissions declare
 * (wildcards and ":own" allowed). GH_ERR_INVALID with err naming the key and the first
 * bad item, e.g. "authz.permissions: expected permissions resource:action without
 * wildcards separated by spaces, got \"file:*\"".
 */
gh_err gh_catalog_check_config(const char *app_permissions, const char *member_permissions,
                               char *err, size_t err_size) GH_WUR GH_NONNULL(1, 2, 3);

#endif

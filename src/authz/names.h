#ifndef GH_AUTHZ_NAMES_H
#define GH_AUTHZ_NAMES_H

#include "core/err.h"

/* The names an admin gives to orgs and roles. */

/** 1 for 1-64 characters of letters, digits, ' ', '.', '_', '-', not starting or ending
 * with ' ', and not "default" in any case (the default org's, made by the server). Org
 * names need not be unique: a name taken elsewhere must not tell one tenant of another. */
int gh_authz_org_name_ok(const char *s) GH_NONNULL(1);

/** 1 for 1-64 of [a-z0-9_.-]: role names travel in X-Auth-Roles, comma-separated. */
int gh_authz_role_name_ok(const char *s) GH_NONNULL(1);

#endif

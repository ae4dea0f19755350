#ifndef GH_AUTHN_ADMINS_H
#define GH_AUTHN_ADMINS_H

#include "core/err.h"
#include "store/store.h"

/* The last-admin rule where a user goes away: an org keeps an admin. */

/**
 * Inside the transaction tx: *sole = 1 when user_id is the only admin of one of its orgs,
 * else 0. The store's error, or GH_ERR_NOMEM.
 */
gh_err gh_admins_sole(const struct gh_store_handle *tx, const char *user_id, int *sole) GH_WUR
    GH_NONNULL(1, 2, 3);

#endif

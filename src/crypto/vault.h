#ifndef GH_CRYPTO_VAULT_H
#define GH_CRYPTO_VAULT_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "crypto/datakeys.h"
#include "store/store.h"

/*
 * The vault: an org's secrets (third parties' API keys, OAuth tokens), values of 1 byte to
 * 64 KiB sealed with XChaCha20-Poly1305 under the org's vault subkey of the current data
 * key (purpose "vault"), the key id, org, name and version bound as associated data. Every
 * write is a new version; reads give the newest. Who may read or write is the caller's
 * business (api/vault.c checks vault:read / vault:write in the org, and audits).
 *
 * name: 1 to GH_VAULT_NAME_MAX characters of [A-Za-z0-9_.:-], not starting with '.'.
 * org_id: an org's id.
 */

/** 1 when name is a valid vault name. */
int gh_vault_name_ok(const char *name) GH_NONNULL(1);

/**
 * Stores value (n bytes) as the next version of (org_id, name); *version (may be NULL)
 * gets it. GH_ERR_INVALID an empty value or a bad name, GH_ERR_TOO_LARGE more than
 * GH_VAULT_VALUE_MAX bytes, GH_ERR_NOT_FOUND no such org.
 */
gh_err gh_vault_put(struct gh_datakeys *dk, const struct gh_store_handle *store, const char *org_id,
                    const char *name, const uint8_t *value, size_t n, int64_t now,
                    int64_t *version) GH_WUR GH_NONNULL(1, 2, 3, 4, 5);

/**
 * Opens the newest version of (org_id, name) into out (GH_VAULT_VALUE_MAX bytes); *n and
 * *item set on GH_OK. GH_ERR_NOT_FOUND no such name; GH_ERR_AUTH the stored value does
 * not open (tampered with, or copied from another org or name). The caller wipes out.
 */
gh_err gh_vault_get(struct gh_datakeys *dk, const struct gh_store_handle *store, const char *org_id,
                    const char *name, uint8_t *out, size_t *n, struct gh_vault_item *item) GH_WUR
    GH_NONNULL(1, 2, 3, 4, 5, 6, 7);

/** The org's names with their newest version (no value), by name. */
gh_err gh_vault_list(const struct gh_store_handle *store, const char *org_id, size_t limit,
                     size_t offset, gh_vault_item_visit_fn fn, void *arg) GH_WUR
    GH_NONNULL(1, 2, 5);

/** Deletes every version of (org_id, name). GH_ERR_NOT_FOUND none. */
gh_err gh_vault_delete(const struct gh_store_handle *store, const char *org_id,
                       const char *name) GH_WUR GH_NONNULL(1, 2, 3);

/** What one rewrap batch did. */
struct gh_vault_rewrap {
    int64_t before; /* versions under an older key when the batch began */
    size_t done;    /* moved to the current key by this batch */
    size_t skipped; /* changed meanwhile by someone else (rewrapped, deleted) */
};

/**
 * Moves at most batch stored versions sealed under an older data key to the current one:
 * read, opened and sealed again in memory, then written in one transaction, each as a
 * compare-and-swap on its old key id (a version changed meanwhile is skipped). A batch
 * killed half-way leaves every version as it was; the next goes on from there.
 * GH_ERR_AUTH a stored value does not open (nothing of the batch is written).
 */
gh_err gh_vault_rewrap(struct gh_datakeys *dk, const struct gh_store_handle *store, size_t batch,
                       struct gh_vault_rewrap *out) GH_WUR GH_NONNULL(1, 2, 4);

#endif

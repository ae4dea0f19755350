#ifndef GH_API_BLOCKS_H
#define GH_API_BLOCKS_H

#include "audit/audit.h"
#include "store/store.h"

/**
 * Records action (IP_BLOCKED, IP_UNBLOCKED) about block b in the audit trail: its id,
 * range, reason, expiry and author in the metadata. The API's handlers and the automatic
 * blocks of alert rules (cli/app.c) write the same record. meta and who may be NULL.
 */
void gh_api_block_audit(const struct gh_store_handle *store, const char *action,
                        const struct gh_reqmeta *meta, const struct gh_audit_subject *who,
                        int status, const struct gh_address_block *b) GH_NONNULL(1, 2, 6);

#endif

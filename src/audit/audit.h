#ifndef GH_AUDIT_AUDIT_H
#define GH_AUDIT_AUDIT_H

#include "core/err.h"
#include "core/pool.h"
#include "store/store.h"

/** Where a request came from, as services see it (they know nothing of HTTP). */
struct gh_reqmeta {
    const char *request_id;
    const char *ip;
    const char *user_agent;
    const char *method;
    const char *path;
};

/** Who an audit record is about; any field may be NULL. */
struct gh_audit_subject {
    const char *user_id;
    const char *username;
    const char *org_id;
};

/**
 * Appends one audit record (action is an upper snake case name from API.md) with the
 * request's origin, the status the action ends with and optional metadata (a JSON object
 * as text, built by the caller from values it controls). A failed write is logged with
 * the action and returned.
 */
gh_err gh_audit_record(const struct gh_store_handle *store, const char *action,
                       const struct gh_reqmeta *meta, const struct gh_audit_subject *subject,
                       int status, const char *metadata_json) GH_NONNULL(1, 2);

/**
 * The same, written later on pool so that the caller (a polling thread answering a failed
 * credential) never waits for storage. Every string is copied. When the pool's queue is
 * full the record is written at once instead: a flood slows itself, it is not forgotten.
 */
void gh_audit_record_async(struct gh_pool *pool, const struct gh_store_handle *store,
                           const char *action, const struct gh_reqmeta *meta,
                           const struct gh_audit_subject *subject, int status,
                           const char *metadata_json) GH_NONNULL(1, 2, 3);

#endif

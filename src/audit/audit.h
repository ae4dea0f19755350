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

/** Told of each audit event once it is stored; must not block (see gh_audit_set_observer). */
typedef void (*gh_audit_observer)(void *arg, const struct gh_audit_event *ev);

/**
 * Installs fn (NULL: none) to be called with arg and every event after it was written
 * successfully, once, on the thread that wrote it (a polling thread or a pool worker),
 * so fn must be quick and must not block. ev and its strings are only valid during the
 * call. Set it before the first record is written and clear it after the last (start-up
 * and shutdown are single-threaded): it is not synchronized with the writers.
 */
void gh_audit_set_observer(gh_audit_observer fn, void *arg);

#endif

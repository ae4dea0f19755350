#ifndef GH_AUDIT_AUDIT_H
#define GH_AUDIT_AUDIT_H

#include "core/err.h"
#include "core/pool.h"
#include "audit/chain.h"
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

/*
 * The audit trail: one per process. Every record, written at once or deferred, passes
 * through one function (write_records in audit.c) that appends it to the chain
 * (audit/chain.h) and writes a signed checkpoint when one is due; that is also where
 * observers of written records belong.
 */

/** How the trail is kept (config keys audit.*). */
struct gh_audit_opts {
    const char *seal_key;        /* the Ed25519 checkpoint key file (0600, made if missing) */
    size_t checkpoint_every;     /* records between checkpoints */
    int64_t checkpoint_interval; /* seconds: a newer record is checkpointed at most this late */
    int64_t retention;           /* seconds records are kept (behind a checkpoint); 0: forever */
    int64_t aggregate_window;    /* seconds over which repeated denials make one record */
};

/**
 * Starts the trail for store: loads (or creates) the checkpoint key. Deferred records go
 * to pool (NULL: a process that writes at once, like the CLI). GH_ERR_FILE_MODE for a key file
 * readable by group or others, GH_ERR_IO / GH_ERR_INVALID for an unusable one.
 */
gh_err gh_audit_open(const struct gh_audit_opts *opts, const struct gh_store_handle *store,
                     struct gh_pool *pool) GH_WUR GH_NONNULL(1, 2);

/** Writes what is still deferred, the pending summaries and a last checkpoint; forgets the key. */
void gh_audit_close(void);

/**
 * Background upkeep, about once a second (the server's watcher thread): ends aggregation
 * windows (writing their summaries), retries deferred records, writes a checkpoint when
 * the interval has passed and, every few minutes, purges what retention allows.
 */
void gh_audit_tick(int64_t now);

/** Deletes the records retention allows (behind a checkpoint); *n gets how many. */
gh_err gh_audit_purge(int64_t now, int64_t *n) GH_WUR GH_NONNULL(2);

/** The checkpoint key's public half and its id. GH_ERR_NOT_FOUND before gh_audit_open. */
gh_err gh_audit_public_key(unsigned char pk[32], char key_id[GH_AUDIT_KEY_ID_LEN + 1]) GH_WUR
    GH_NONNULL(1, 2);

/**
 * Verifies the whole chain of store against the checkpoint key pk (NULL: the trail's
 * own key): every record's links and hash, every checkpoint's signature and hash.
 */
gh_err gh_audit_verify(const struct gh_store_handle *store, const unsigned char *pk,
                       struct gh_audit_verdict *out) GH_WUR GH_NONNULL(1, 3);

/**
 * Appends one audit record (action is an upper snake case name from API.md) with the
 * request's origin, the status the action ends with and optional metadata (a JSON object
 * as text, built by the caller from values it controls). A failed write is logged with
 * the action and returned.
 */
gh_err gh_audit_record(const struct gh_store_handle *store, const char *action,
                       const struct gh_reqmeta *meta, const struct gh_audit_subject *subject,
                       int status, const char *metadata_json) GH_NONNULL(1, 2);

/** What a record's action touched: its resource_type and resource_id (the audit filters). */
struct gh_audit_resource {
    const char *type; /* "org", "user", "role", "invitation", "permission", "api_key" */
    const char *id;
};

/** gh_audit_record naming the resource acted on (res may be NULL: none). */
gh_err gh_audit_record_on(const struct gh_store_handle *store, const char *action,
                          const struct gh_reqmeta *meta, const struct gh_audit_subject *subject,
                          const struct gh_audit_resource *res, int status,
                          const char *metadata_json) GH_NONNULL(1, 2);

/**
 * Appends ev (its ts included, as given) at once and gives its id in *seq, sharing one
 * transaction with the records other threads append at the same moment (group commit): a
 * burst from many callers costs one transaction per batch, not one per record. Blocks the
 * calling thread (a pool worker) until its record is stored; GH_ERR_IO / GH_ERR_BUSY when
 * storage refuses it.
 */
gh_err gh_audit_append_grouped(const struct gh_store_handle *store, const struct gh_audit_event *ev,
                               int64_t *seq) GH_WUR GH_NONNULL(1, 2, 3);

/**
 * The same for a denial, written later so that the caller (a polling thread answering a
 * failed credential) never waits for storage: every string is copied into a queue that
 * pool drains, many records per transaction. Repeats of one (action, client address,
 * user) within the aggregation window are counted, not queued: the window's first is
 * written at once and one summary record with metadata {"suppressed":n} at its end, so a
 * flood cannot flood the table. Records the bounded queue cannot take, or storage keeps
 * refusing, are counted and written as one AUDIT_LOST record: never silently lost.
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

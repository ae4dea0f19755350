#ifndef GH_CORE_POOL_H
#define GH_CORE_POOL_H

#include <stddef.h>
#include "core/err.h"

/**
 * A fixed set of threads draining a bounded FIFO of jobs. Blocking or CPU-heavy work
 * (password hashing, SQL writes) runs here so that the HTTP polling threads never wait.
 * The queue bound turns overload into an immediate GH_ERR_BUSY instead of unbounded
 * latency (a login flood is a CPU-amplification attack).
 */
struct gh_pool;

typedef void (*gh_job_fn)(void *arg);

/** Starts threads workers sharing a queue of at most queue_max waiting jobs. name is for logs. */
gh_err gh_pool_new(const char *name, unsigned threads, unsigned queue_max,
                   struct gh_pool **out) GH_WUR GH_NONNULL(1, 4);

/** Queues fn(arg). GH_ERR_BUSY when the queue is full or the pool is stopping. */
gh_err gh_pool_submit(struct gh_pool *pool, gh_job_fn fn, void *arg) GH_WUR GH_NONNULL(1, 2);

/** Jobs waiting now (a gauge for /metrics; stale as soon as it is read). */
unsigned gh_pool_depth(struct gh_pool *pool) GH_NONNULL(1);

/** Runs every queued job to completion, joins the threads and frees the pool. Accepts NULL. */
void gh_pool_free(struct gh_pool *pool);

#endif

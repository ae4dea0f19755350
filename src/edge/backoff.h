#ifndef GH_EDGE_BACKOFF_H
#define GH_EDGE_BACKOFF_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * Exponential backoff after failed logins, per key (an account name, a client address):
 * after the n-th failure in a row the key waits base * 2^(n-1) seconds, at most max,
 * before it may try again. Keys are remembered in a bounded cache (SipHash-keyed, so a
 * flood of distinct keys evicts, it does not grow memory), for max seconds past their
 * last failure. Safe to use from several threads.
 */
struct gh_backoff;

gh_err gh_backoff_new(size_t capacity, int64_t base_s, int64_t max_s,
                      struct gh_backoff **out) GH_WUR GH_NONNULL(4);
void gh_backoff_free(struct gh_backoff *b);

/** Seconds key must still wait at now (0: it may try). */
int64_t gh_backoff_wait(struct gh_backoff *b, const char *key, int64_t now) GH_NONNULL(1, 2);

/** Records a failure of key at now. */
void gh_backoff_fail(struct gh_backoff *b, const char *key, int64_t now) GH_NONNULL(1, 2);

/** Forgets key (a success). */
void gh_backoff_clear(struct gh_backoff *b, const char *key) GH_NONNULL(1, 2);

#endif

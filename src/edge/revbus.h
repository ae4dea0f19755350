#ifndef GH_EDGE_REVBUS_H
#define GH_EDGE_REVBUS_H

#include "core/err.h"
#include "edge/redis.h"

/*
 * The revocation bus: Redis pub/sub between the nodes of one install (revocation.redis).
 * A node publishes the id of each user whose access it changed; every node's subscriber
 * thread hears it within a round trip and drops its cached views of that user. The
 * database's revocation feed, which every node polls every 100 ms, stays the record:
 * a message lost while Redis is away changes nothing but the delay. Redis going away and
 * coming back is logged once each way; the subscriber reconnects by itself.
 */
struct gh_revbus;

/** Called on the subscriber thread for each user id heard. */
typedef void (*gh_revbus_fn)(void *arg, const char *user_id);

/** Connects (a first failure is not fatal: the thread keeps trying) and starts the
 * subscriber on channel "gatehouse:revocations". */
gh_err gh_revbus_start(const struct gh_redis_opts *o, gh_revbus_fn heard, void *arg,
                       struct gh_revbus **out) GH_WUR GH_NONNULL(1, 2, 4);

/** Publishes user_id to every node (this one hears it too). Never waits past the
 * connection's timeout; while Redis is away, at most one try a second. */
void gh_revbus_publish(struct gh_revbus *bus, const char *user_id) GH_NONNULL(1, 2);

/** Stops the subscriber and frees the bus (NULL: nothing). */
void gh_revbus_stop(struct gh_revbus *bus);

#endif

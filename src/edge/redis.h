#ifndef GH_EDGE_REDIS_H
#define GH_EDGE_REDIS_H

#include <stdint.h>
#include <sys/time.h>
#include <hiredis/hiredis.h>

#include "core/err.h"

/*
 * One way to reach Redis for every user of it (the rate limiter, the revocation bus): a
 * connection with connect and command timeouts, authenticated when a password is set
 * (redis.password; Redis 6 ACL users: "user:password"). Keep Redis off the public network
 * (docs/DEPLOY.md): Debian's hiredis 0.14 has no TLS.
 */
struct gh_redis_opts {
    char host[256];
    uint16_t port;
    struct timeval timeout;
    char password[256]; /* "" none; a secret: never logged */
};

/** Fills o from its parts (GH_ERR_INVALID: host or password too long, timeout 0). */
gh_err gh_redis_opts(const char *host, uint16_t port, unsigned timeout_ms, const char *password,
                     struct gh_redis_opts *o) GH_WUR GH_NONNULL(1, 4, 5);

/** A connected, authenticated context (redisFree it), or NULL; *why (may be NULL) says why
 * in words that hold no secret. */
redisContext *gh_redis_connect(const struct gh_redis_opts *o, const char **why) GH_NONNULL(1);

#endif

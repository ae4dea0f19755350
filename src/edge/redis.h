#ifndef GH_EDGE_REDIS_H
#define GH_EDGE_REDIS_H

#include <stdint.h>
#include <sys/time.h>
#include <hiredis/hiredis.h>

#include "core/err.h"

/*
 * One way to reach Redis for every user of it (the rate limiter, the revocation bus): a
 * connection with connect and command timeouts, authenticated when a password is set
 * (redis.password; Redis 6 ACL users: "user:password"), over TLS when redis.tls is on
 * (Debian's hiredis 0.14 has none: edge/tlspipe.c relays a socket pair to an OpenSSL
 * connection and hiredis speaks on the pair).
 */
struct gh_redis_opts {
    char host[256];
    uint16_t port;
    struct timeval timeout;
    char password[256];    /* "" none; a secret: never logged */
    int tls;               /* redis.tls */
    char ca_file[4096];    /* redis.tls_ca_file: "" the system's store */
    char server_name[256]; /* redis.tls_server_name: "" the host */
};

/** Fills o from its parts, TLS off (GH_ERR_INVALID: host or password too long, timeout 0). */
gh_err gh_redis_opts(const char *host, uint16_t port, unsigned timeout_ms, const char *password,
                     struct gh_redis_opts *o) GH_WUR GH_NONNULL(1, 4, 5);

/** Turns TLS on for o (GH_ERR_INVALID: a name too long). */
gh_err gh_redis_tls(struct gh_redis_opts *o, const char *ca_file, const char *server_name) GH_WUR
    GH_NONNULL(1, 2, 3);

/** A connected, authenticated context (redisFree it), or NULL; *why (may be NULL) says why
 * in words that hold no secret. */
redisContext *gh_redis_connect(const struct gh_redis_opts *o, const char **why) GH_NONNULL(1);

#endif

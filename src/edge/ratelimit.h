#ifndef GH_EDGE_RATELIMIT_H
#define GH_EDGE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * Request rate limiting per client address: at most `limit` requests per `period`
 * seconds, as a sliding window (GCRA, the generic cell rate algorithm: one "theoretical
 * arrival time" per client; a request is let through while that time is less than a
 * period ahead of now, and moves it on by period / limit). There is no window boundary
 * at which a client may send twice its limit, as with fixed buckets, and the state is one
 * number per client, which a Redis script can update atomically.
 *
 * Backends keep that number: in-process (a fixed table, bounded memory) or Redis (shared
 * by several nodes), behind one const ops table. gh_ratelimit adds what is common: the
 * behaviour when a backend fails (open or closed) and outage tracking.
 */

#define GH_RL_LIMIT_MAX 1000000u /* requests per period */
#define GH_RL_PERIOD_MAX 86400u  /* seconds */
#define GH_RL_ROUTES_MAX 32      /* per-route overrides */
#define GH_RL_PATH_MAX 128

/** A limit; limit 0 means none. */
struct gh_rate {
    uint32_t limit;
    uint32_t period; /* seconds, >= 1 */
};

/** What a check decided, with what the X-RateLimit-* headers say. */
struct gh_rl_verdict {
    int allowed;
    uint32_t limit;
    uint32_t remaining;  /* requests the client may still send at once */
    int64_t reset;       /* unix seconds at which the full limit is available again */
    int64_t retry_after; /* seconds until one more request passes (refused only, >= 1) */
};

/**
 * The arithmetic, shared by every backend: given a client's stored arrival time tat
 * (microseconds; 0 or anything in the past means "no recent requests"), the time now
 * (unix microseconds) and the limit, fills *v and returns the arrival time to store: the
 * new one when the request is allowed, tat unchanged when it is refused.
 * rate.limit must be >= 1.
 */
int64_t gh_gcra(int64_t tat, int64_t now, struct gh_rate rate, struct gh_rl_verdict *v)
    GH_NONNULL(4);

/** A client's key: its address (16 bytes, IPv4 mapped) and which limit (a class number). */
struct gh_rl_key {
    uint8_t addr[16];
    uint32_t cls;
};

/**
 * A backend. check decides one request of key at now (unix microseconds) and records it
 * when allowed; GH_ERR_IO when the backend cannot answer (nothing is recorded then).
 * Safe from several threads at once.
 */
struct gh_rl_ops {
    const char *name;
    gh_err (*check)(void *backend, const struct gh_rl_key *key, struct gh_rate rate, int64_t now,
                    struct gh_rl_verdict *out);
    void (*free)(void *backend);
};

/*
 * In-process: a preallocated set-associative table of capacity entries (32 bytes each),
 * keys placed by a keyed SipHash (random key per process) so that no one can aim clients
 * at one set, 256 locks striped over the sets. A full set evicts the entry whose arrival time is
 * soonest: the client closest to "no recent requests", so a flood of new addresses pushes
 * out idle clients first and a client at its limit last. Never allocates after creation.
 */
extern const struct gh_rl_ops gh_rl_memory_ops;

/** capacity rounded up to a multiple of 8 (and a power-of-two number of sets). */
gh_err gh_rl_memory_new(size_t capacity, void **out) GH_WUR GH_NONNULL(2);

/** Bytes the table holds, fixed at creation. */
size_t gh_rl_memory_bytes(const void *backend) GH_NONNULL(1);

/*
 * Redis: one atomic Lua script (EVALSHA, EVAL when Redis answers NOSCRIPT) per check,
 * with the time of the Redis server so that nodes agree; keys "<prefix><class>:<hex
 * address>" expire when they no longer matter. conns connections, each used by one
 * thread at a time; connect and command timeouts of timeout_ms. After a failure nothing
 * is tried for a backoff (100 ms doubling to 5 s); the next check after it reconnects.
 * o says where and how (timeouts, AUTH, TLS: edge/redis.h).
 */
extern const struct gh_rl_ops gh_rl_redis_ops;

struct gh_redis_opts;
gh_err gh_rl_redis_new(const struct gh_redis_opts *o, unsigned conns, void **out) GH_WUR
    GH_NONNULL(1, 3);

/** One per-route override: requests of method (or "*") to path (exact, or a prefix ending in '*').
 */
struct gh_rl_route {
    char method[16];
    char path[GH_RL_PATH_MAX];
    struct gh_rate rate;
};

/**
 * Parses overrides, one "METHOD PATH LIMIT/PERIOD" per line (or ';'-separated), e.g.
 * "POST /api/v1/sql/validate 20/1m" or "GET /healthz 0/1m" (no limit). PERIOD is a
 * duration (30s, 1m, 1h, 1d or plain seconds). On GH_ERR_INVALID why names the line.
 */
gh_err gh_rl_routes_parse(const char *text, struct gh_rl_route out[GH_RL_ROUTES_MAX], size_t *n,
                          char *why, size_t why_size) GH_WUR GH_NONNULL(1, 2, 3, 4);

/** The index of the first override matching the request, or -1. */
int gh_rl_routes_find(const struct gh_rl_route *routes, size_t n, const char *method,
                      const char *path) GH_NONNULL(3, 4);

/** What gh_ratelimit does when its backend cannot answer. */
enum gh_rl_failure {
    GH_RL_FAIL_OPEN,   /* let the request through, without headers */
    GH_RL_FAIL_CLOSED, /* refuse it */
};

/** A change of the backend's state, reported to exactly one check. */
enum gh_rl_event {
    GH_RL_EVENT_NONE,
    GH_RL_EVENT_DOWN, /* the first failure of an outage */
    GH_RL_EVENT_UP,   /* the first success after one */
};

struct gh_rl_result {
    struct gh_rl_verdict verdict; /* valid when !backend_failed */
    int backend_failed;           /* the backend did not answer: failure mode applied */
    int allowed;                  /* the outcome, failure mode included */
    enum gh_rl_event event;
};

struct gh_ratelimit;

/** Takes the backend (ops, state): freed with the limiter, or here on failure. */
gh_err gh_ratelimit_new(const struct gh_rl_ops *ops, void *backend, enum gh_rl_failure failure,
                        struct gh_ratelimit **out) GH_WUR GH_NONNULL(1, 2, 4);
void gh_ratelimit_free(struct gh_ratelimit *rl);

/** Decides one request of key (rate.limit >= 1) at now (unix microseconds). */
void gh_ratelimit_check(struct gh_ratelimit *rl, const struct gh_rl_key *key, struct gh_rate rate,
                        int64_t now, struct gh_rl_result *out) GH_NONNULL(1, 2, 5);

/** 1 while the backend answers (0 from a failure until the next success). */
int gh_ratelimit_backend_up(const struct gh_ratelimit *rl) GH_NONNULL(1);

/** The backend's name ("memory", "redis") and failure mode, for logs and audit records. */
const char *gh_ratelimit_backend_name(const struct gh_ratelimit *rl) GH_NONNULL(1);
enum gh_rl_failure gh_ratelimit_failure(const struct gh_ratelimit *rl) GH_NONNULL(1);

#endif

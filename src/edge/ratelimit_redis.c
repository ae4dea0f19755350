/*
 * The Redis rate-limit backend (ratelimit.h): the GCRA of gh_gcra as one Lua script, so
 * that the read, the decision and the write are one atomic step however many nodes share
 * the Redis. The script answers the stored arrival time and the Redis clock; gh_gcra then
 * computes the same verdict in C for the headers.
 */
#include "edge/ratelimit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "core/log.h"
#include "edge/redis.h"

#define KEY_PREFIX "gatehouse:rl:"
#define BACKOFF_MIN_US 100000
#define BACKOFF_MAX_US 5000000

/* KEYS[1] the client's key; ARGV[1] T and ARGV[2] tau in microseconds (see gh_gcra),
 * ARGV[3] how many requests to take at once at most (a lease, see below). Takes as many
 * as conform now, up to that, in one step. Answers {taken (0: refused), stored arrival
 * time or 0, now}. Numbers stay below 2^53, so Lua's doubles hold them exactly;
 * string.format("%d") writes every digit. */
static const char SCRIPT[] = "local t = redis.call('TIME')\n"
                             "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
                             "local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
                             "local base = math.max(tat, now)\n"
                             "local interval, tau = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
                             "if base - now > tau then return {0, tat, now} end\n"
                             "local n = math.floor((tau - (base - now)) / interval) + 1\n"
                             "n = math.min(n, tonumber(ARGV[3]))\n"
                             "local nxt = base + n * interval\n"
                             "redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX',\n"
                             "           math.floor((nxt - now) / 1000) + 1)\n"
                             "return {n, tat, now}\n";

/*
 * Leases: a check that finds no lease takes up to lease_size(rate) requests from Redis at
 * once and keeps the rest here for LEASE_US; the checks that follow for that client take
 * from the lease without a round trip. The requests are taken from the shared count when
 * leased, so the nodes together never pass more than it grants; what a lease moves is
 * when they are spent: at most N x (size - 1) requests (N nodes) leased in one window may
 * be spent in the next, 5 % of the limit per node (none below 40 a period). A lease lost
 * (its slot taken by another client, its time up) only refuses early.
 */
#define LEASES 4096    /* slots, a power of two */
#define LEASE_LOCKS 64 /* striped over the slots */
#define LEASE_US 1000000
#define LEASE_MAX 64

struct lease {
    struct gh_rl_key key;
    int32_t left;       /* requests still to hand out */
    uint32_t remaining; /* what X-RateLimit-Remaining said when leased, counted down */
    int64_t reset;      /* X-RateLimit-Reset of the lease */
    int64_t expires;    /* unix microseconds */
};

static uint32_t lease_size(struct gh_rate rate)
{
    uint32_t n = rate.limit / 20;
    return n < 1 ? 1 : n > LEASE_MAX ? LEASE_MAX : n;
}

struct conn {
    pthread_mutex_t lock;
    redisContext *ctx; /* NULL until connected, and after a failure */
    unsigned epoch;    /* the failure count when ctx was made */
};

struct redis {
    struct gh_redis_opts opts;
    char sha[41];                 /* of SCRIPT, for EVALSHA */
    atomic_int_fast64_t retry_at; /* unix microseconds: nothing is tried before */
    atomic_int_fast64_t backoff;  /* microseconds, the next wait after a failure */
    atomic_uint next;             /* where the next thread starts looking for a free conn */
    atomic_uint epoch;            /* failures so far: a conn made before the last one is dropped */
    unsigned char sipkey[crypto_shorthash_KEYBYTES];
    pthread_mutex_t lease_locks[LEASE_LOCKS];
    struct lease leases[LEASES];
    unsigned nconns;
    struct conn conns[];
};

static gh_err script_sha(char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_Digest(SCRIPT, sizeof(SCRIPT) - 1, md, &n, EVP_sha1(), NULL) != 1 || n != 20)
        return GH_ERR_CRYPTO;
    for (unsigned i = 0; i < n; i++)
        (void)snprintf(out + 2 * i, 3, "%02x", md[i]);
    return GH_OK;
}

gh_err gh_rl_redis_new(const struct gh_redis_opts *o, unsigned conns, void **out)
{
    if (conns == 0)
        return GH_ERR_INVALID;
    struct redis *r = calloc(1, sizeof(*r) + conns * sizeof(struct conn));
    if (r == NULL)
        return GH_ERR_NOMEM;
    r->opts = *o;
    gh_err err = script_sha(r->sha);
    if (err != GH_OK) {
        free(r);
        return err;
    }
    atomic_init(&r->retry_at, 0);
    atomic_init(&r->backoff, BACKOFF_MIN_US);
    atomic_init(&r->next, 0);
    atomic_init(&r->epoch, 0);
    r->nconns = conns;
    for (unsigned i = 0; i < conns; i++)
        pthread_mutex_init(&r->conns[i].lock, NULL);
    crypto_shorthash_keygen(r->sipkey);
    for (unsigned i = 0; i < LEASE_LOCKS; i++)
        pthread_mutex_init(&r->lease_locks[i], NULL);
    *out = r;
    return GH_OK;
}

static void redis_free(void *backend)
{
    struct redis *r = backend;
    if (r == NULL)
        return;
    for (unsigned i = 0; i < r->nconns; i++) {
        if (r->conns[i].ctx != NULL)
            redisFree(r->conns[i].ctx);
        pthread_mutex_destroy(&r->conns[i].lock);
    }
    for (unsigned i = 0; i < LEASE_LOCKS; i++)
        pthread_mutex_destroy(&r->lease_locks[i]);
    free(r);
}

/* A free connection if there is one, else waits for the one this thread starts at. */
static struct conn *acquire(struct redis *r)
{
    unsigned start = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed) % r->nconns;
    for (unsigned i = 0; i < r->nconns; i++) {
        struct conn *c = &r->conns[(start + i) % r->nconns];
        if (pthread_mutex_trylock(&c->lock) == 0)
            return c;
    }
    struct conn *c = &r->conns[start];
    pthread_mutex_lock(&c->lock);
    return c;
}

static void drop(struct conn *c)
{
    if (c->ctx != NULL) {
        redisFree(c->ctx);
        c->ctx = NULL;
    }
}

/*
 * Drops c's connection, makes the others reconnect on their next use (they most likely
 * died too: otherwise each would fail once more, and end the recovery with another
 * outage), and waits a doubling backoff before anything is tried again.
 */
static void failed(struct redis *r, struct conn *c, int64_t now)
{
    drop(c);
    atomic_fetch_add_explicit(&r->epoch, 1, memory_order_relaxed);
    int64_t wait = atomic_load_explicit(&r->backoff, memory_order_relaxed);
    atomic_store_explicit(&r->retry_at, now + wait, memory_order_relaxed);
    atomic_store_explicit(&r->backoff, wait * 2 > BACKOFF_MAX_US ? BACKOFF_MAX_US : wait * 2,
                          memory_order_relaxed);
}

static int connect_conn(struct redis *r, struct conn *c, unsigned epoch)
{
    const char *why = NULL;
    redisContext *ctx = gh_redis_connect(&r->opts, &why);
    if (ctx == NULL) {
        if (why != NULL && strcmp(why, "cannot connect") != 0)
            gh_log(GH_LOG_ERROR, "rate limit: redis: %s", why);
        return -1;
    }
    c->ctx = ctx;
    c->epoch = epoch;
    return 0;
}

/* The script for key name; NULL when the connection failed (then unusable). */
static redisReply *run(const struct redis *r, struct conn *c, const char *name, long long t,
                       long long tau, unsigned want)
{
    redisReply *rep =
        redisCommand(c->ctx, "EVALSHA %s 1 %s %lld %lld %u", r->sha, name, t, tau, want);
    if (rep != NULL && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(rep);
        rep = redisCommand(c->ctx, "EVAL %s 1 %s %lld %lld %u", SCRIPT, name, t, tau, want);
    }
    return rep;
}

/* The slot of key and the lock that guards it. */
static struct lease *slot(struct redis *r, const struct gh_rl_key *key, pthread_mutex_t **lock)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v;
    crypto_shorthash(h, (const unsigned char *)key, sizeof(*key), r->sipkey);
    memcpy(&v, h, sizeof(v));
    *lock = &r->lease_locks[v % LEASE_LOCKS];
    return &r->leases[v % LEASES];
}

/* One request from key's lease, if it holds one (then *out says so). */
static int from_lease(struct redis *r, const struct gh_rl_key *key, struct gh_rate rate,
                      int64_t now, struct gh_rl_verdict *out)
{
    pthread_mutex_t *lock;
    struct lease *l = slot(r, key, &lock);
    int taken = 0;
    pthread_mutex_lock(lock);
    if (l->left > 0 && now < l->expires && memcmp(&l->key, key, sizeof(*key)) == 0) {
        l->left--;
        l->remaining = l->remaining > 0 ? l->remaining - 1 : 0;
        *out = (struct gh_rl_verdict){1, rate.limit, l->remaining, l->reset, 0};
        taken = 1;
    }
    pthread_mutex_unlock(lock);
    return taken;
}

/* Keeps the n - 1 requests of a lease the first of which v let through. */
static void keep_lease(struct redis *r, const struct gh_rl_key *key, long long n, int64_t now,
                       const struct gh_rl_verdict *v)
{
    pthread_mutex_t *lock;
    struct lease *l = slot(r, key, &lock);
    pthread_mutex_lock(lock);
    *l = (struct lease){*key, (int32_t)(n - 1), v->remaining, v->reset, now + LEASE_US};
    pthread_mutex_unlock(lock);
}

static int reply_ok(const redisReply *rep)
{
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3)
        return 0;
    for (size_t i = 0; i < 3; i++)
        if (rep->element[i]->type != REDIS_REPLY_INTEGER)
            return 0;
    return 1;
}

static gh_err redis_check(void *backend, const struct gh_rl_key *key, struct gh_rate rate,
                          int64_t now, struct gh_rl_verdict *out)
{
    struct redis *r = backend;
    unsigned want = lease_size(rate);
    if (want > 1 && from_lease(r, key, rate, now, out))
        return GH_OK;
    if (now < atomic_load_explicit(&r->retry_at, memory_order_relaxed))
        return GH_ERR_IO;

    char name[sizeof(KEY_PREFIX) + 12 + 33];
    int at = snprintf(name, sizeof(name), KEY_PREFIX "%u:", (unsigned)key->cls);
    for (size_t i = 0; i < sizeof(key->addr); i++)
        at += snprintf(name + at, sizeof(name) - (size_t)at, "%02x", key->addr[i]);
    /* The same T and tau as gh_gcra's. */
    long long t = (long long)rate.period * 1000000 / rate.limit;
    if (t < 1)
        t = 1;
    long long tau = (long long)(rate.limit - 1) * t;

    gh_err err = GH_ERR_IO;
    redisReply *rep = NULL;
    struct conn *c = acquire(r);
    unsigned epoch = atomic_load_explicit(&r->epoch, memory_order_relaxed);
    if (c->epoch != epoch)
        drop(c);
    int fresh = c->ctx == NULL;
    if (fresh && connect_conn(r, c, epoch) != 0)
        goto out;
    rep = run(r, c, name, t, tau, want);
    if (rep == NULL && !fresh) {
        /* An idle connection may have died quietly (a Redis restart while no request
         * came): one more try on a new one before calling it an outage. */
        drop(c);
        if (connect_conn(r, c, epoch) != 0)
            goto out;
        rep = run(r, c, name, t, tau, want);
    }
    if (!reply_ok(rep)) {
        if (rep != NULL && rep->type == REDIS_REPLY_ERROR)
            gh_log(GH_LOG_ERROR, "rate limit: redis refused the script: %.200s", rep->str);
        goto out;
    }
    (void)gh_gcra(rep->element[1]->integer, rep->element[2]->integer, rate, out);
    out->allowed = rep->element[0]->integer >= 1; /* the script's word is the one kept */
    if (rep->element[0]->integer > 1 && rep->element[0]->integer <= want)
        keep_lease(r, key, rep->element[0]->integer, now, out);
    atomic_store_explicit(&r->backoff, BACKOFF_MIN_US, memory_order_relaxed);
    err = GH_OK;
out:
    if (err != GH_OK)
        failed(r, c, now);
    pthread_mutex_unlock(&c->lock);
    if (rep != NULL)
        freeReplyObject(rep);
    return err;
}

const struct gh_rl_ops gh_rl_redis_ops = {
    .name = "redis",
    .check = redis_check,
    .free = redis_free,
};

/* The revocation bus over Redis pub/sub (revbus.h). */
#include "edge/revbus.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define CHANNEL "gatehouse:revocations"
/* How often a stop is noticed, and the wait between connection attempts. */
#define TICK_MS 200
#define RETRY_MS 1000
/* A user id is a UUID; anything longer heard on the channel is ignored. */
#define MAX_ID 64

struct gh_revbus {
    struct gh_redis_opts opts;
    gh_revbus_fn heard;
    void *arg;
    pthread_t thread;
    atomic_int stop;
    atomic_int sub_fd;    /* the subscriber's socket (-1: none), shut down to stop */
    pthread_mutex_t lock; /* the publisher's connection */
    redisContext *pub;    /* NULL until connected, and after a failure */
    int64_t pub_retry_at; /* monotonic ms: no connection attempt before */
    atomic_int down;      /* Redis is away (logged once) */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_down(struct gh_revbus *bus, int down)
{
    if (atomic_exchange(&bus->down, down) == down)
        return;
    if (down)
        gh_log(GH_LOG_WARN, "revocation bus: redis unreachable; revocations reach other nodes "
                            "through the database feed (100 ms)");
    else
        gh_log(GH_LOG_INFO, "revocation bus: redis connected");
}

/* Hands a "message" push (["message", channel, payload]) to heard. */
static void deliver(struct gh_revbus *bus, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0 ||
        r->element[2]->type != REDIS_REPLY_STRING || r->element[2]->len == 0 ||
        r->element[2]->len > MAX_ID || memchr(r->element[2]->str, '\0', r->element[2]->len))
        return;
    bus->heard(bus->arg, r->element[2]->str);
}

/* One subscription, until the connection fails or the bus stops. */
static void listen_on(struct gh_revbus *bus, redisContext *ctx)
{
    redisReply *r = redisCommand(ctx, "SUBSCRIBE %s", CHANNEL);
    int ok = r != NULL && r->type == REDIS_REPLY_ARRAY;
    if (r != NULL)
        freeReplyObject(r);
    if (!ok)
        return;
    set_down(bus, 0);
    atomic_store(&bus->sub_fd, ctx->fd);
    while (!atomic_load(&bus->stop)) {
        struct pollfd p = {ctx->fd, POLLIN, 0};
        int n = poll(&p, 1, TICK_MS);
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0)
            continue;
        void *reply = NULL;
        if (redisGetReply(ctx, &reply) != REDIS_OK)
            break;
        deliver(bus, reply);
        freeReplyObject(reply);
        /* more may be buffered already: take them before polling again */
        while (redisGetReplyFromReader(ctx, &reply) == REDIS_OK && reply != NULL) {
            deliver(bus, reply);
            freeReplyObject(reply);
        }
    }
    atomic_store(&bus->sub_fd, -1);
}

static void *subscriber(void *arg)
{
    struct gh_revbus *bus = arg;
    while (!atomic_load(&bus->stop)) {
        redisContext *ctx = gh_redis_connect(&bus->opts, NULL);
        if (ctx != NULL) {
            /* blocking reads: poll() bounds the waits */
            struct timeval none = {0, 0};
            (void)redisSetTimeout(ctx, none);
            listen_on(bus, ctx);
            redisFree(ctx);
        }
        if (atomic_load(&bus->stop))
            break;
        set_down(bus, 1);
        for (int waited = 0; waited < RETRY_MS && !atomic_load(&bus->stop); waited += TICK_MS)
            usleep(TICK_MS * 1000);
    }
    return NULL;
}

gh_err gh_revbus_start(const struct gh_redis_opts *o, gh_revbus_fn heard, void *arg,
                       struct gh_revbus **out)
{
    struct gh_revbus *bus = calloc(1, sizeof(*bus));
    if (bus == NULL)
        return GH_ERR_NOMEM;
    bus->opts = *o;
    bus->heard = heard;
    bus->arg = arg;
    atomic_init(&bus->stop, 0);
    atomic_init(&bus->sub_fd, -1);
    atomic_init(&bus->down, 0);
    pthread_mutex_init(&bus->lock, NULL);
    if (pthread_create(&bus->thread, NULL, subscriber, bus) != 0) {
        pthread_mutex_destroy(&bus->lock);
        free(bus);
        return GH_ERR_NOMEM;
    }
    *out = bus;
    return GH_OK;
}

void gh_revbus_publish(struct gh_revbus *bus, const char *user_id)
{
    pthread_mutex_lock(&bus->lock);
    int64_t now = now_ms();
    if (bus->pub == NULL && now >= bus->pub_retry_at) {
        bus->pub = gh_redis_connect(&bus->opts, NULL);
        bus->pub_retry_at = now + RETRY_MS;
    }
    redisReply *r =
        bus->pub != NULL ? redisCommand(bus->pub, "PUBLISH %s %s", CHANNEL, user_id) : NULL;
    if (r == NULL && bus->pub != NULL) { /* dropped: the next publish reconnects (once a second) */
        redisFree(bus->pub);
        bus->pub = NULL;
    }
    pthread_mutex_unlock(&bus->lock);
    if (r != NULL)
        freeReplyObject(r);
}

void gh_revbus_stop(struct gh_revbus *bus)
{
    if (bus == NULL)
        return;
    atomic_store(&bus->stop, 1);
    int fd = atomic_load(&bus->sub_fd);
    if (fd >= 0)
        (void)shutdown(fd, SHUT_RDWR); /* wakes a read in progress */
    pthread_join(bus->thread, NULL);
    if (bus->pub != NULL)
        redisFree(bus->pub);
    pthread_mutex_destroy(&bus->lock);
    free(bus);
}

/* Connecting to Redis (redis.h). */
#include "edge/redis.h"

#include <string.h>
#include <unistd.h>

#include "edge/tlspipe.h"

gh_err gh_redis_opts(const char *host, uint16_t port, unsigned timeout_ms, const char *password,
                     struct gh_redis_opts *o)
{
    memset(o, 0, sizeof(*o));
    if (strlen(host) >= sizeof(o->host) || strlen(password) >= sizeof(o->password) ||
        timeout_ms == 0)
        return GH_ERR_INVALID;
    memcpy(o->host, host, strlen(host) + 1);
    memcpy(o->password, password, strlen(password) + 1);
    o->port = port;
    o->timeout.tv_sec = timeout_ms / 1000;
    o->timeout.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
    return GH_OK;
}

gh_err gh_redis_tls(struct gh_redis_opts *o, const char *ca_file, const char *server_name)
{
    if (strlen(ca_file) >= sizeof(o->ca_file) || strlen(server_name) >= sizeof(o->server_name))
        return GH_ERR_INVALID;
    memcpy(o->ca_file, ca_file, strlen(ca_file) + 1);
    memcpy(o->server_name, server_name, strlen(server_name) + 1);
    o->tls = 1;
    return GH_OK;
}

/* A context on a TLS pipe to o's server (tlspipe.h), or NULL. */
static redisContext *connect_tls(const struct gh_redis_opts *o)
{
    int fd = -1;
    if (gh_tlspipe_open(o->host, o->port, &o->timeout, o->ca_file, o->server_name, &fd) != GH_OK)
        return NULL;
    redisContext *ctx = redisConnectFd(fd);
    if (ctx == NULL)
        close(fd);
    return ctx;
}

/* AUTH [user] password: "user:password" is an ACL user's. */
static int auth(redisContext *ctx, const char *password)
{
    const char *colon = strchr(password, ':');
    redisReply *rep = colon != NULL ? redisCommand(ctx, "AUTH %b %s", password,
                                                   (size_t)(colon - password), colon + 1)
                                    : redisCommand(ctx, "AUTH %s", password);
    int ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
    if (rep != NULL)
        freeReplyObject(rep);
    return ok;
}

redisContext *gh_redis_connect(const struct gh_redis_opts *o, const char **why)
{
    const char *reason = NULL;
    redisContext *ctx =
        o->tls ? connect_tls(o) : redisConnectWithTimeout(o->host, o->port, o->timeout);
    if (ctx == NULL || ctx->err != 0 || redisSetTimeout(ctx, o->timeout) != REDIS_OK)
        reason = "cannot connect";
    else if (o->password[0] != '\0' && !auth(ctx, o->password))
        reason = "authentication refused";
    if (reason != NULL && ctx != NULL) {
        redisFree(ctx);
        ctx = NULL;
    }
    if (why != NULL)
        *why = reason;
    return ctx;
}

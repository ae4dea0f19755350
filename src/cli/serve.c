#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "api/handlers.h"
#include "authn/apikey.h"
#include "cli/cli.h"
#include "cli/keys.h"
#include "cli/privs.h"
#include "core/log.h"
#include "edge/revbus.h"
#include "http/http.h"
#include "http/tls.h"

static const char usage[] =
    "usage: gatehouse serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR]\n"
    "\n"
    "Serves the HTTP API. A fresh data directory gets a database, a signing key (mode 0600)\n"
    "and a bootstrap user \"admin\" whose password comes from GATEHOUSE_ADMIN_PASSWORD or is\n"
    "generated and printed once. Stops gracefully on SIGTERM or SIGINT.\n";

#define WATCH_INTERVAL_US 100000
#define FLUSH_EVERY 50      /* watch intervals between writes of API-key last uses: 5 s */
#define SAML_META_EVERY 600 /* watch intervals between looks for stale SAML metadata: 1 min */
#define AUDIT_EVERY 10      /* watch intervals between audit upkeeps (gh_audit_tick): 1 s */

struct watcher {
    pthread_t thread;
    struct gh_auth *auth;
    struct gh_keys_watch *keys;
    struct gh_blocks *blocks;
    struct gh_ssop *sso;   /* its SAML metadata refreshed daily, on pool */
    struct gh_pool *pool;  /* the SSO pool: a fetch never holds up this thread */
    atomic_int refreshing; /* a refresh is queued or running */
    atomic_int stop;
};

static void refresh_saml_metadata(void *arg)
{
    struct watcher *w = arg;
    gh_ssop_saml_refresh_stale(w->sso);
    atomic_store(&w->refreshing, 0);
}

/*
 * Applies revocations and address blocks made by other processes (the CLI, other nodes)
 * within 100 ms (and makes the alert rules' automatic blocks),
 * follows the signing-key set (reloads, retirements, automatic rotation), writes the
 * coalesced last uses of API keys every few seconds and keeps the audit trail (summaries
 * of aggregated denials, deferred records, timed checkpoints, retention) every second.
 */
static void *watch_revocations(void *arg)
{
    struct watcher *w = arg;
    int failing = 0, blocks_failing = 0;
    for (unsigned tick = 1; !atomic_load(&w->stop); tick++) {
        gh_err err = gh_views_watch(gh_auth_views(w->auth));
        if (err != GH_OK && !failing)
            gh_log(GH_LOG_WARN, "revocation feed: %s", gh_err_name(err));
        failing = err != GH_OK;
        if ((err = gh_blocks_poll(w->blocks, (int64_t)time(NULL))) != GH_OK && !blocks_failing)
            gh_log(GH_LOG_WARN, "address blocks: %s", gh_err_name(err));
        blocks_failing = err != GH_OK;
        if (tick % FLUSH_EVERY == 0 && (err = gh_apikey_flush(gh_auth_apikeys(w->auth))) != GH_OK)
            gh_log(GH_LOG_WARN, "api keys: last uses not saved: %s", gh_err_name(err));
        gh_keys_watch_poll(w->keys);
        if (tick % AUDIT_EVERY == 0)
            gh_audit_tick((int64_t)time(NULL));
        if (tick % SAML_META_EVERY == 0 && w->sso != NULL && !atomic_exchange(&w->refreshing, 1) &&
            gh_pool_submit(w->pool, refresh_saml_metadata, w) != GH_OK)
            atomic_store(&w->refreshing, 0); /* the pool is full: the next minute */
        usleep(WATCH_INTERVAL_US);
    }
    return NULL;
}

/*
 * With server.user the socket is open and the polling threads run before privileges are
 * dropped: a request that arrives meanwhile waits here, so no handler runs as root. A
 * failed drop answers the waiting requests 500 (nothing dispatched) while the server stops.
 */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int state; /* 0 closed, 1 open, -1 failed */
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void gate_set(int state)
{
    pthread_mutex_lock(&gate.lock);
    gate.state = state;
    pthread_cond_broadcast(&gate.changed);
    pthread_mutex_unlock(&gate.lock);
}

static void dispatch_after_drop(struct gh_req *req)
{
    pthread_mutex_lock(&gate.lock);
    while (gate.state == 0)
        pthread_cond_wait(&gate.changed, &gate.lock);
    int open = gate.state == 1;
    pthread_mutex_unlock(&gate.lock);
    if (open)
        gh_api_dispatch(req);
}

static int parse_args(int argc, char **argv, struct gh_cli_common *common)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:l:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            common->config = optarg;
            break;
        case 'l':
            common->listen = optarg;
            break;
        case 'd':
            common->data_dir = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    return -1;
}

static void bus_heard(void *arg, const char *user_id)
{
    gh_views_drop(arg, user_id);
}

static void bus_publish(void *arg, const char *user_id)
{
    gh_revbus_publish(arg, user_id);
}

/* revocation.redis: the revocation bus between the nodes, beside the database feed. */
static int start_bus(struct gh_app *app, struct gh_revbus **bus)
{
    struct gh_redis_opts o;
    struct gh_views *views = gh_auth_views(app->auth);
    if (gh_cli_redis_opts(&app->cfg, app->cfg.rev_redis_host, app->cfg.rev_redis_port, &o) !=
            GH_OK ||
        gh_revbus_start(&o, bus_heard, views, bus) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot start the revocation bus\n");
        return 1;
    }
    gh_views_set_publish(views, bus_publish, *bus);
    return 0;
}

static int open_tls(const struct gh_config *cfg, struct gh_tls **out)
{
    struct gh_tls_opts o = {
        .cert = cfg->tls_cert,
        .key = cfg->tls_key,
        .min = (enum gh_tls_version)cfg->tls_min_version,
        .ciphers = cfg->tls_ciphers,
        .ciphersuites = cfg->tls_ciphersuites,
        .http2 = cfg->http2,
    };
    char why[512];
    if (gh_tls_new(&o, out, why, sizeof(why)) != GH_OK) {
        fprintf(stderr, "gatehouse: %s\n", why);
        return -1;
    }
    return 0;
}

/* SIGHUP: a new certificate and key for new connections; a bad pair keeps the old. */
static void reload_tls(struct gh_tls *tls)
{
    char why[512];
    if (tls == NULL)
        gh_log(GH_LOG_INFO, "SIGHUP: no TLS certificate to reload");
    else if (gh_tls_reload(tls, why, sizeof(why)) != GH_OK)
        gh_log(GH_LOG_ERROR, "SIGHUP: TLS reload refused, the certificate in use stays: %s", why);
    else
        gh_log(GH_LOG_INFO, "SIGHUP: TLS certificate and key reloaded");
}

int gh_cmd_serve(int argc, char **argv)
{
    struct gh_cli_common common = {NULL, NULL, NULL};
    int r = parse_args(argc, argv, &common);
    if (r >= 0)
        return r;

    /* Signals are taken by sigwait below; every thread created after this inherits the mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP); /* reloads the TLS certificate and key */
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    static struct gh_app app;
    if (gh_cli_config(&app, &common) != 0)
        return 1;
    int status = 1;
    struct gh_http *http = NULL;
    struct gh_tls *tls = NULL;
    struct gh_keys_watch *keys = NULL;
    struct gh_revbus *bus = NULL;
    if (gh_app_open(&app, GH_APP_SERVE) != 0)
        goto out;

    int64_t purged = 0;
    if (gh_audit_purge((int64_t)time(NULL), &purged) != GH_OK)
        gh_log(GH_LOG_WARN, "audit: retention purge at start failed");
    char generated[32];
    char *admin_password = getenv("GATEHOUSE_ADMIN_PASSWORD");
    gh_err err = gh_auth_bootstrap(app.auth, admin_password, generated);
    if (admin_password != NULL) /* in place (environ is shared): gone from /proc/PID/environ */
        sodium_memzero(admin_password, strlen(admin_password));
    if (err == GH_OK && generated[0] != '\0')
        fprintf(stderr,
                "gatehouse: bootstrap admin created: username \"admin\", password \"%s\"\n"
                "gatehouse: this password is shown once and not stored in clear; change it.\n",
                generated);
    sodium_memzero(generated, sizeof(generated));
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: bootstrap failed: %s\n", gh_err_name(err));
        goto out;
    }

    if (app.cfg.tls_cert[0] != '\0' && open_tls(&app.cfg, &tls) != 0)
        goto out;
    struct gh_http_opts hopts = {
        .host = app.cfg.listen_host,
        .port = app.cfg.listen_port,
        .threads = app.cfg.http_threads,
        .max_body = app.cfg.max_body,
        .max_header_bytes = app.cfg.max_header_bytes,
        .connection_timeout = app.cfg.connection_timeout,
        .header_timeout = app.cfg.header_timeout,
        .max_connections_per_ip = app.cfg.max_connections_per_ip,
        .hsts = app.cfg.hsts,
        .tls = tls,
        .h2c = app.cfg.h2c && app.cfg.http2,
        .h2_max_streams = app.cfg.h2_max_streams,
        .access_log = app.cfg.access_log,
        .observe = gh_api_observe,
    };
    int drop = app.cfg.user[0] != '\0';
    if ((err = gh_http_start(&hopts, drop ? dispatch_after_drop : gh_api_dispatch, &app, &http)) !=
        GH_OK) {
        fprintf(stderr, "gatehouse: cannot listen on %s:%u\n", app.cfg.listen_host,
                (unsigned)app.cfg.listen_port);
        goto out;
    }
    if (drop) {
        char why[512];
        err = gh_privs_drop(app.cfg.user, app.cfg.data_dir, app.cfg.allow_core_dumps, why,
                            sizeof(why));
        gate_set(err == GH_OK ? 1 : -1);
        if (err != GH_OK) {
            fprintf(stderr, "gatehouse: %s\n", why);
            goto out;
        }
    }
    if (app.cfg.rev_redis[0] != '\0' && start_bus(&app, &bus) != 0)
        goto out;
    struct watcher watcher = {
        .auth = app.auth, .blocks = app.blocks, .sso = app.sso, .pool = app.sso_pool};
    if (gh_keys_watch_new(&app, &keys) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot start the key watch\n");
        goto out;
    }
    watcher.keys = keys;
    if (pthread_create(&watcher.thread, NULL, watch_revocations, &watcher) != 0) {
        fprintf(stderr, "gatehouse: cannot start the revocation watcher\n");
        goto out;
    }
    fprintf(stderr, "gatehouse: listening on %s (issuer %s)\n", app.cfg.public_url, app.cfg.issuer);
    gh_log(GH_LOG_INFO, "listening on %s:%u with %u polling threads", app.cfg.listen_host,
           (unsigned)gh_http_port(http), app.cfg.http_threads);

    int sig = 0;
    while (sigwait(&stop, &sig) == 0 && sig == SIGHUP)
        reload_tls(tls);
    gh_log(GH_LOG_INFO, "signal %d: finishing in-flight requests", sig);
    gh_http_stop(http, app.cfg.shutdown_timeout);
    http = NULL;
    atomic_store(&watcher.stop, 1);
    pthread_join(watcher.thread, NULL);
    status = 0;
out:
    gh_http_stop(http, 0);
    gh_tls_free(tls);
    if (bus != NULL) {
        gh_views_set_publish(gh_auth_views(app.auth), NULL, NULL);
        gh_revbus_stop(bus);
    }
    gh_keys_watch_free(keys); /* before the app: a rotation in flight uses its config */
    gh_app_close(&app);
    if (status == 0)
        gh_log(GH_LOG_INFO, "stopped");
    return status;
}

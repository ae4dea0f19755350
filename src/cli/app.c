#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "api/blocks.h"
#include "api/handlers.h"
#include "api/sessions.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "edge/redis.h"
#include "cli/keys.h"
#include "cli/privs.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/time.h"

extern char **environ;

/* Accounts and addresses whose failures are remembered (a flood evicts, never grows). */
#define BACKOFF_KEYS 65536

/* The request limiter of cfg, or NULL when no limit is on. */
static int open_ratelimit(struct gh_app *app)
{
    const struct gh_config *cfg = &app->cfg;
    void *backend = NULL;
    const struct gh_rl_ops *ops = &gh_rl_memory_ops;
    gh_err err;
    if (cfg->rl_global == 0 && cfg->rl_auth == 0 && app->rl_nroutes == 0)
        return 0;
    if (strcmp(cfg->rl_backend, "redis") == 0) {
        ops = &gh_rl_redis_ops;
        /* One connection per polling thread, and one spare. */
        struct gh_redis_opts o;
        err = gh_cli_redis_opts(cfg, cfg->rl_redis_host, cfg->rl_redis_port, &o);
        if (err == GH_OK)
            err = gh_rl_redis_new(&o, cfg->http_threads + 1, &backend);
    } else {
        err = gh_rl_memory_new(cfg->rl_max_clients, &backend);
    }
    if (err == GH_OK)
        err = gh_ratelimit_new(ops, backend,
                               cfg->rl_fail_closed ? GH_RL_FAIL_CLOSED : GH_RL_FAIL_OPEN,
                               &app->ratelimit);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: cannot start the rate limiter: %s\n", gh_err_name(err));
        return 1;
    }
    return 0;
}

int gh_cli_help(int argc, char **argv, const char *usage)
{
    if (argc >= 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0)
        return -1;
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
}

int gh_cli_option(int c, const char *usage, struct gh_cli_common *common)
{
    switch (c) {
    case 'c':
        common->config = optarg;
        return -1;
    case 'd':
        common->data_dir = optarg;
        return -1;
    case 'h':
        fputs(usage, stdout);
        return 0;
    default:
        fputs(usage, stderr);
        return 2;
    }
}

int gh_cli_config(struct gh_app *app, const struct gh_cli_common *common)
{
    struct gh_config *cfg = &app->cfg;
    char err[512];
    gh_config_defaults(cfg);
    if (gh_config_load(cfg, common->config, environ, err, sizeof(err)) != GH_OK) {
        fprintf(stderr, "gatehouse: config: %s\n", err);
        return 1;
    }
    if (common->data_dir != NULL) {
        size_t n = strlen(common->data_dir);
        if (n == 0 || n >= sizeof(cfg->data_dir)) {
            fprintf(stderr, "gatehouse: --data-dir: expected a directory path\n");
            return 1;
        }
        memcpy(cfg->data_dir, common->data_dir, n + 1);
    }
    if (common->listen != NULL && gh_config_set_listen(cfg, common->listen) != GH_OK) {
        fprintf(stderr, "gatehouse: --listen: expected HOST:PORT, got \"%s\"\n", common->listen);
        return 1;
    }
    if (gh_config_finish(cfg, err, sizeof(err)) != GH_OK ||
        gh_cli_options(app, err, sizeof(err)) != GH_OK) {
        fprintf(stderr, "gatehouse: config: %s\n", err);
        return 1;
    }
    gh_log_set_level((enum gh_log_level)cfg->log_level);
    if (!cfg->allow_core_dumps && gh_privs_no_core_dumps() != GH_OK) {
        fprintf(stderr, "gatehouse: cannot turn core dumps off (server.allow_core_dumps)\n");
        return 1;
    }
    return 0;
}

int gh_cli_count(const char *text, size_t fallback, size_t *out)
{
    if (text == NULL) {
        *out = fallback;
        return 0;
    }
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || v > 1000000) {
        fprintf(stderr, "gatehouse: expected a count, got \"%s\"\n", text);
        return 1;
    }
    *out = (size_t)v;
    return 0;
}

/* An alert rule's "block DURATION": queued for the watch thread (gh_blocks_poll). */
static void alert_block(void *arg, const char *ip, uint32_t seconds, const char *rule)
{
    gh_blocks_request(arg, ip, seconds, rule);
}

/* An automatic block made: IP_BLOCKED in the trail, like the API's. */
static void block_added(void *arg, const struct gh_address_block *b)
{
    struct gh_app *app = arg;
    gh_api_block_audit(&app->store, "IP_BLOCKED", NULL, NULL, 201, b);
}

/* Address blocks, for the server and the CLI's block commands alike. */
static int open_blocks(struct gh_app *app)
{
    const struct gh_config *cfg = &app->cfg;
    const struct gh_blocks_opts opts = {.max = cfg->blocks_max,
                                        .auto_max = cfg->blocks_auto_max,
                                        .trusted = cfg->trusted,
                                        .admin = cfg->admin_allowed,
                                        .added = block_added,
                                        .added_arg = app};
    gh_err err = gh_blocks_new(&app->store, &opts, &app->blocks);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: cannot read the address blocks: %s\n", gh_err_name(err));
        return 1;
    }
    return 0;
}

/* Alerts: counted on every stored audit event, delivered by their own thread. */
static int open_alerts(struct gh_app *app)
{
    const struct gh_config *cfg = &app->cfg;
    if (app->alert_rules.nrules == 0)
        return 0;
    const struct gh_alerts_opts opts = {
        .max_groups = cfg->alerts_max_groups,
        .queue = cfg->alerts_queue,
        .timeout_ms = cfg->alerts_timeout_ms,
        .tries = cfg->alerts_tries,
        .retry_ms = cfg->alerts_retry_ms,
        .block = alert_block,
        .block_arg = app->blocks,
    };
    gh_err err = gh_alerts_new(&app->alert_rules, &opts, &app->alerts);
    if (err != GH_OK || (err = gh_alerts_start(app->alerts)) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot start the alerts: %s\n", gh_err_name(err));
        return 1;
    }
    gh_audit_set_observer(gh_alerts_observe, app->alerts);
    return 0;
}

/* Starts the audit trail (deferred records drain on pool, NULL for CLI commands). */
static int audit_open(struct gh_app *app, struct gh_pool *pool)
{
    const struct gh_config *cfg = &app->cfg;
    struct gh_audit_opts o = {cfg->audit_key, cfg->audit_every, cfg->audit_interval,
                              cfg->audit_retention, cfg->audit_window};
    if (gh_mkdir_parent(cfg->audit_key, 0700) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot create the directory of %s\n", cfg->audit_key);
        return 1;
    }
    gh_err err = gh_audit_open(&o, &app->store, pool);
    if (err == GH_ERR_FILE_MODE)
        fprintf(stderr,
                "gatehouse: refusing %s: a secret must not be readable by group or others "
                "(fix the permissions: chmod 600)\n",
                cfg->audit_key);
    else if (err != GH_OK)
        fprintf(stderr, "gatehouse: cannot use the audit checkpoint key %s: %s\n", cfg->audit_key,
                gh_err_name(err));
    return err != GH_OK;
}

/* Browser sessions and second factors, keyed by the server's session key: one subkey for
 * CSRF tokens, one for backup codes; TOTP secrets are sealed with the data keys. */
static int open_signin(struct gh_app *app)
{
    const struct gh_config *cfg = &app->cfg;
    unsigned char key[32], csrf[GH_SESSION_KEY_LEN], mfa[GH_MFA_KEY_LEN];
    struct gh_session_opts so = {cfg->session_idle, cfg->session_absolute, cfg->token_cache_size};
    gh_err err = GH_ERR_IO;
    if (gh_mkdir_parent(cfg->session_key, 0700) == GH_OK)
        err = gh_secret_file_load(cfg->session_key, key, sizeof(key));
    if (err == GH_OK && (crypto_kdf_derive_from_key(csrf, sizeof(csrf), 1, "ghcsrf__", key) != 0 ||
                         crypto_kdf_derive_from_key(mfa, sizeof(mfa), 2, "ghmfa___", key) != 0))
        err = GH_ERR_CRYPTO;
    if (err == GH_OK)
        err = gh_sessions_new(&so, &app->store, gh_auth_views(app->auth), csrf,
                              &app->signin.sessions);
    if (err == GH_OK)
        err = gh_mfas_new(&app->store, app->datakeys, mfa, &app->signin.mfas);
    app->signin.auth = app->auth;
    app->signin.store = &app->store;
    if (err == GH_OK) /* the credential chain takes gh_sid, CSRF routes check its token */
        app->session = (struct gh_session_hooks){gh_api_session_prove, gh_api_session_csrf, app};
    sodium_memzero(key, sizeof(key));
    sodium_memzero(csrf, sizeof(csrf));
    sodium_memzero(mfa, sizeof(mfa));
    if (err == GH_ERR_FILE_MODE)
        fprintf(stderr,
                "gatehouse: refusing %s: a secret must not be readable by group or others "
                "(fix the permissions: chmod 600)\n",
                cfg->session_key);
    else if (err != GH_OK)
        fprintf(stderr, "gatehouse: cannot use the session key %s: %s\n", cfg->session_key,
                gh_err_name(err));
    return err != GH_OK;
}

/* The SSO sign-in (after the providers): its key another subkey of the session key. */
static int open_sso(struct gh_app *app)
{
    const struct gh_config *cfg = &app->cfg;
    unsigned char key[32], sso[GH_SSO_KEY_LEN];
    gh_err err = gh_secret_file_load(cfg->session_key, key, sizeof(key));
    if (err == GH_OK && crypto_kdf_derive_from_key(sso, sizeof(sso), 3, "ghsso___", key) != 0)
        err = GH_ERR_CRYPTO;
    if (err == GH_OK)
        err = gh_sso_remote_new((long)cfg->sso_timeout_ms, &app->sso_remote);
    if (err == GH_OK)
        err = gh_sso_flow_new(&app->store, app->sso, app->sso_remote, &app->signin, cfg->public_url,
                              GH_SSO_LEEWAY, sso, &app->sso_flow);
    if (err == GH_OK)
        err = gh_ssotok_new(app->sso, app->sso_remote, &app->signin, GH_SSO_TOKEN_CACHE_ENTRIES,
                            &app->sso_tokens);
    sodium_memzero(key, sizeof(key));
    sodium_memzero(sso, sizeof(sso));
    if (err != GH_OK)
        fprintf(stderr, "gatehouse: cannot start the SSO sign-in: %s\n", gh_err_name(err));
    return err != GH_OK;
}

gh_err gh_cli_redis_opts(const struct gh_config *cfg, const char *host, uint16_t port,
                         struct gh_redis_opts *o)
{
    gh_err err = gh_redis_opts(host, port, cfg->rl_redis_timeout_ms, cfg->redis_password, o);
    if (err == GH_OK && cfg->redis_tls)
        err = gh_redis_tls(o, cfg->redis_tls_ca_file, cfg->redis_tls_server_name);
    return err;
}

int gh_app_open(struct gh_app *app, enum gh_app_mode mode)
{
    const struct gh_config *cfg = &app->cfg;
    gh_err err;

    if (gh_mkdir_p(cfg->data_dir, 0700) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot create the data directory %s\n", cfg->data_dir);
        return 1;
    }
    if (gh_store_backend(cfg->storage_backend) == NULL) {
        fprintf(stderr, "gatehouse: storage.backend: no backend \"%s\" (known: sqlite, postgres)\n",
                cfg->storage_backend);
        return 1;
    }
    /* sqlite: the file storage.database (<data_dir>/gatehouse.db); postgres: storage.dsn,
     * which may hold a password and so is never printed. */
    int server = strcmp(cfg->storage_backend, "sqlite") != 0;
    if (gh_app_storage_key(app) != 0)
        return 1;
    if ((err = gh_store_open(cfg->storage_backend, server ? cfg->storage_dsn : cfg->database,
                             cfg->busy_timeout_ms, &app->store)) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot open the database %s: %s\n",
                server ? "named by storage.dsn" : cfg->database, gh_err_name(err));
        return 1;
    }
    if (gh_keyring_new(&app->ring) != GH_OK)
        return 1;
    if (mode == GH_APP_SERVE && (gh_keys_open(app) != 0 || gh_app_open_serving_keys(app) != 0))
        return 1;
    if (mode == GH_APP_SERVE)
        gh_app_drop_master(app); /* the data keys are open: nothing else needs it */
    if (gh_mkdir_parent(cfg->api_key_pepper, 0700) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot create the directory of %s\n", cfg->api_key_pepper);
        return 1;
    }
    struct gh_auth_opts auth;
    struct gh_rbac_opts rbac;
    gh_cli_auth_opts(cfg, &auth);
    gh_cli_rbac_opts(cfg, &rbac);
    if ((err = gh_auth_new(&auth, &app->store, app->ring, &app->auth)) != GH_OK) {
        if (err == GH_ERR_FILE_MODE)
            fprintf(stderr,
                    "gatehouse: refusing %s: a secret must not be readable by group or others "
                    "(fix the permissions: chmod 600)\n",
                    cfg->api_key_pepper);
        else
            fprintf(stderr, "gatehouse: cannot start the authentication service: %s\n",
                    gh_err_name(err));
        return 1;
    }
    if ((err = gh_rbac_new(&rbac, &app->store, app->auth, &app->rbac)) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot start the authorization service: %s\n",
                gh_err_name(err));
        return 1;
    }
    if (open_blocks(app) != 0)
        return 1;
    if (mode == GH_APP_ADMIN)
        return audit_open(app, NULL);
    if (open_signin(app) != 0)
        return 1;
    if (gh_pool_new("hash", cfg->hash_threads, cfg->hash_queue, &app->hash_pool) != GH_OK ||
        gh_pool_new("io", cfg->io_threads, cfg->io_queue, &app->io_pool) != GH_OK ||
        gh_pool_new("sso", GH_SSO_THREADS, GH_SSO_QUEUE, &app->sso_pool) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot start the worker pools\n");
        return 1;
    }
    gh_auth_set_audit_pool(app->auth, app->io_pool);
    if (audit_open(app, app->io_pool) != 0)
        return 1;
    size_t nroutes = 0;
    const char *const *labels = gh_api_route_labels(&nroutes);
    if (gh_metrics_new(labels, nroutes, &app->metrics) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot start the metrics\n");
        return 1;
    }
    if (cfg->login_backoff &&
        gh_backoff_new(BACKOFF_KEYS, cfg->backoff_base, cfg->backoff_max, &app->backoff) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot start the login backoff\n");
        return 1;
    }
    if (open_ratelimit(app) != 0) {
        fprintf(stderr, "gatehouse: cannot start the rate limiter\n");
        return 1;
    }
    char why[300];
    const struct gh_ssop_opts sso = {cfg->sso_providers, (long)cfg->sso_timeout_ms,
                                     cfg->sso_check_on_save};
    if ((err = gh_ssop_new(&app->store, app->datakeys, &sso, gh_time_now(), why, sizeof(why),
                           &app->sso)) != GH_OK) {
        fprintf(stderr, "gatehouse: sso.providers: %s\n",
                err == GH_ERR_NOMEM ? "out of memory" : why);
        return 1;
    }
    if (open_sso(app) != 0)
        return 1;
    if (gh_saml_flow_new(&app->store, app->sso, &app->signin, cfg->public_url, &app->saml) !=
        GH_OK) {
        fprintf(stderr, "gatehouse: public_url: not usable in SAML metadata\n");
        return 1;
    }
    return open_alerts(app);
}

int gh_cli_open(struct gh_app *app, const struct gh_cli_common *common)
{
    if (gh_cli_config(app, common) != 0)
        return 1;
    if (gh_app_open(app, GH_APP_ADMIN) != 0) {
        gh_app_close(app);
        return 1;
    }
    return 0;
}

void gh_app_close(struct gh_app *app)
{
    /* The pools first: their jobs (audit records, last key uses) still need the store. */
    gh_pool_free(app->hash_pool);
    gh_pool_free(app->sso_pool);
    gh_pool_free(app->io_pool);
    gh_audit_close(); /* what the pools left, and a last checkpoint */
    /* No record is written any more: the alert queue drains, within the shutdown timeout. */
    gh_audit_set_observer(NULL, NULL);
    gh_alerts_free(app->alerts, app->cfg.shutdown_timeout);
    app->alerts = NULL;
    gh_rbac_free(app->rbac);
    app->rbac = NULL;
    gh_sessions_free(app->signin.sessions);
    gh_mfas_free(app->signin.mfas);
    memset(&app->signin, 0, sizeof(app->signin));
    memset(&app->session, 0, sizeof(app->session));
    gh_ssotok_free(app->sso_tokens);
    gh_sso_flow_free(app->sso_flow);
    gh_sso_remote_free(app->sso_remote);
    gh_saml_flow_free(app->saml);
    app->saml = NULL;
    gh_ssop_free(app->sso);
    app->sso = NULL;
    gh_blocks_free(app->blocks);
    app->blocks = NULL;
    app->sso_flow = NULL;
    app->sso_tokens = NULL;
    app->sso_remote = NULL;
    gh_auth_free(app->auth);
    gh_cli_options_clear(app);
    gh_backoff_free(app->backoff);
    app->backoff = NULL;
    gh_metrics_free(app->metrics);
    app->metrics = NULL;
    gh_ratelimit_free(app->ratelimit);
    app->ratelimit = NULL;
    gh_keyring_free(app->ring);
    gh_datakeys_free(app->datakeys);
    app->datakeys = NULL;
    gh_unseal_free(app->unseal);
    app->unseal = NULL;
    gh_app_drop_master(app);
    gh_store_close(&app->store);
    app->hash_pool = app->io_pool = app->sso_pool = NULL;
    app->auth = NULL;
    app->ring = NULL;
    app->store.st = NULL;
}

/*
 * Configuration: built-in defaults, one YAML file, GATEHOUSE_* environment variables,
 * then values derived from other keys. One table of key descriptors (KEYS below) drives
 * the defaults, the file and the environment, so a key is described exactly once; the
 * kinds of values are config/conf.c's, the file and the environment config/source.c's.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/conf.h"
#include "config/source.h"
#include "core/uuid.h"
#include "core/words.h"

/* GH_RL_LIMIT_MAX of edge/ratelimit.h (cli/options.c checks that they agree). */
#define RL_LIMIT_MAX 1000000

/*
 * AT(m, T) is offsetof(struct gh_config, m), and fails to compile unless member m has
 * type T (arrays decay, so char arrays are char *): the table cannot write a size_t
 * through an unsigned.
 */
#define MEMBER(m) (((struct gh_config *)0)->m)
#define AT(m, T)                                                                                   \
    (offsetof(struct gh_config, m) + 0 * sizeof(char[_Generic(MEMBER(m), T : 1, default : -1)]))

/* One descriptor per line reads as the table it is. */
/* clang-format off */
#define STR(p, d, m, lo) {p, d, K_STRING, ST_CHARS, AT(m, char *), sizeof MEMBER(m), lo, sizeof MEMBER(m) - 1, 1, 1, NULL, NULL, NULL}
#define SECRET(p, d, m, lo) {p, d, K_SECRET, ST_CHARS, AT(m, char *), sizeof MEMBER(m), lo, sizeof MEMBER(m) - 1, 1, 1, NULL, NULL, NULL}
#define LINES(p, d, m) {p, d, K_LINES, ST_CHARS, AT(m, char *), sizeof MEMBER(m), 0, sizeof MEMBER(m) - 1, 1, 1, NULL, NULL, NULL}
#define SECRET_LINES(p, d, m) {p, d, K_SECRET_LINES, ST_CHARS, AT(m, char *), sizeof MEMBER(m), 0, sizeof MEMBER(m) - 1, 1, 1, NULL, NULL, NULL}
#define URL(p, d, m) {p, d, K_URL, ST_CHARS, AT(m, char *), sizeof MEMBER(m), 0, sizeof MEMBER(m) - 1, 1, 1, NULL, NULL, NULL}
#define UINT(p, d, m, lo, hi, st) {p, d, K_UNSIGNED, ST_UINT, AT(m, unsigned), sizeof MEMBER(m), lo, hi, st, 1, NULL, NULL, NULL}
#define COUNT(p, d, m, lo, hi) {p, d, K_UNSIGNED, ST_SIZE, AT(m, size_t), sizeof MEMBER(m), lo, hi, 1, 1, NULL, NULL, NULL}
#define SIZE(p, d, m, lo, hi) {p, d, K_SIZE, ST_SIZE, AT(m, size_t), sizeof MEMBER(m), lo, hi, 1, 1, NULL, NULL, NULL}
#define DUR(p, d, m, lo, hi) {p, d, K_DURATION, ST_I64, AT(m, int64_t), sizeof MEMBER(m), lo, hi, 1, 1, NULL, NULL, NULL}
#define DURU(p, d, m, lo, hi, sc) {p, d, K_DURATION, ST_UINT, AT(m, unsigned), sizeof MEMBER(m), lo, hi, 1, sc, NULL, NULL, NULL}
#define BOOL(p, d, m) {p, d, K_BOOL, ST_INT, AT(m, int), sizeof MEMBER(m), 0, 1, 1, 1, NULL, NULL, NULL}
#define CHOICE(p, d, m, names) {p, d, K_CHOICE, ST_UINT, AT(m, unsigned), sizeof MEMBER(m), 0, sizeof(names) / sizeof(names[0]) - 2, 1, 1, names, NULL, NULL}

static gh_err set_listen(void *c, const char *value)
{
    return gh_config_set_listen(c, value);
}

/* The names of K_CHOICE keys, in the order of the enum of the module that owns the key. */
static const char *const ALGORITHMS[] = {"RS256", "ES256", "EdDSA", NULL}; /* enum gh_alg */
static const char *const PWHASHES[] = {"bcrypt", "argon2id", NULL};        /* enum gh_pwhash_alg */
static const char *const LOG_LEVELS[] = {"debug", "info", "warn", "error", NULL}; /* enum gh_log_level */
static const char *const TLS_VERSIONS[] = {"1.2", "1.3", NULL}; /* enum gh_tls_version */

/* Every key, in documentation order. Bounds are in seconds for durations, bytes for sizes. */
static const struct gh_conf_key KEYS[] = {
    {"server.listen", "127.0.0.1:8080", K_CUSTOM, ST_NONE, 0, 0, 0, 0, 1, 1, NULL, set_listen,
     "IPV4:PORT or [IPV6]:PORT with a port from 1 to 65535"},
    URL("public_url", "", public_url),
    UINT("server.threads", "0", http_threads, 0, 1024, 1),
    SIZE("server.max_body", "64KiB", max_body, KIB, 16 * MIB),
    SIZE("server.max_header_bytes", "16KiB", max_header_bytes, KIB, MIB),
    UINT("server.max_json_depth", "16", max_json_depth, 2, 64, 1),
    SIZE("server.max_field_length", "4096", max_field_length, 64, 16 * MIB),
    DURU("server.shutdown_timeout", "10s", shutdown_timeout, 0, MINUTES(10), 1),
    DURU("server.connection_timeout", "30s", connection_timeout, 1, HOURS(1), 1),
    DURU("server.header_timeout", "10s", header_timeout, 1, HOURS(1), 1),
    UINT("server.max_connections_per_ip", "256", max_connections_per_ip, 1, 1000000, 1),
    BOOL("server.hsts", "false", hsts),
    STR("server.tls_cert", "", tls_cert, 0),
    STR("server.tls_key", "", tls_key, 0),
    CHOICE("server.tls_min_version", "1.2", tls_min_version, TLS_VERSIONS),
    STR("server.tls_ciphers", "ECDHE+AESGCM:ECDHE+CHACHA20", tls_ciphers, 1),
    BOOL("server.http2", "true", http2),
    BOOL("server.h2c", "false", h2c),
    UINT("server.http2_max_streams", "100", h2_max_streams, 1, 1000, 1),
    STR("server.tls_ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256", tls_ciphersuites, 1),
    STR("server.trusted_proxies", "127.0.0.0/8, ::1/128", trusted_proxies, 0),
    BOOL("server.allow_core_dumps", "false", allow_core_dumps),
    STR("server.user", "", user, 0),

    STR("storage.backend", "sqlite", storage_backend, 1),
    SECRET("storage.dsn", "", storage_dsn, 0),
    STR("storage.data_dir", "./var", data_dir, 1),
    STR("storage.database", "", database, 0),
    DURU("storage.busy_timeout", "5s", busy_timeout_ms, 0, MINUTES(10), 1000),
    BOOL("storage.encrypt", "false", storage_encrypt),

    STR("auth.issuer", "", issuer, 0),
    STR("auth.audience", "gatehouse", audience, 1),
    CHOICE("auth.algorithm", "RS256", algorithm, ALGORITHMS),
    UINT("auth.rsa_bits", "4096", rsa_bits, 2048, 8192, 1024),
    STR("auth.signing_key", "", signing_key, 0),
    STR("auth.keys_dir", "", keys_dir, 0),
    DUR("auth.key_rotation", "0", key_rotation, 0, DAYS(365)),
    DUR("auth.access_ttl", "15m", access_ttl, 10, HOURS(24)),
    DUR("auth.refresh_ttl", "168h", refresh_ttl, 10, DAYS(365)),
    DUR("auth.clock_leeway", "30s", clock_leeway, 0, MINUTES(5)),
    COUNT("auth.token_cache_size", "65536", token_cache_size, 0, 16u * 1024 * 1024),
    BOOL("auth.registration", "true", registration),
    STR("auth.api_key_pepper", "", api_key_pepper, 0),
    DUR("auth.reauth_window", "10m", reauth_window, 1, HOURS(24)),
    LINES("auth.reauth_automations", "", reauth_automations),

    DUR("session.idle_timeout", "30m", session_idle, 10, DAYS(30)),
    DUR("session.absolute_timeout", "12h", session_absolute, 10, DAYS(365)),
    STR("session.cookie_domain", "", cookie_domain, 0),
    STR("session.key_file", "", session_key, 0),

    BOOL("portal.enabled", "true", portal_enabled),
    STR("portal.allowed_redirect_hosts", "", redirect_hosts, 0),

    STR("cors.allowed_origins", "", cors_origins, 0),
    STR("cors.allowed_methods", "GET, POST, PUT, PATCH, DELETE", cors_methods, 1),
    STR("cors.allowed_headers", "Authorization, Content-Type, X-API-Key, X-CSRF-Token", cors_headers, 1),
    DUR("cors.max_age", "10m", cors_max_age, 0, DAYS(1)),
    BOOL("cors.allow_credentials", "false", cors_credentials),

    CHOICE("password.hash", "bcrypt", hash, PWHASHES),
    UINT("password.bcrypt_cost", "12", bcrypt_cost, 4, 31, 1),
    UINT("password.argon2_ops", "3", argon2_ops, 1, 64, 1),
    SIZE("password.argon2_memory", "64MiB", argon2_memory, 8 * MIB, GIB),
    UINT("password.min_length", "8", min_length, 8, 1024, 1),
    UINT("password.max_length", "128", max_length, 128, 4096, 1),
    BOOL("password.require_upper", "false", require_upper),
    BOOL("password.require_lower", "false", require_lower),
    BOOL("password.require_digit", "false", require_digit),
    BOOL("password.require_symbol", "false", require_symbol),
    BOOL("password.reject_common", "true", reject_common),
    UINT("password.min_entropy_bits", "20", min_entropy_bits, 0, 128, 1),

    BOOL("login.backoff", "true", login_backoff),
    DUR("login.backoff_base", "1s", backoff_base, 1, HOURS(1)),
    DUR("login.backoff_max", "15m", backoff_max, 1, DAYS(1)),

    STR("audit.checkpoint_key", "", audit_key, 0),
    COUNT("audit.checkpoint_every", "1000", audit_every, 1, 1000000),
    DUR("audit.checkpoint_interval", "5m", audit_interval, 1, DAYS(1)),
    DUR("audit.retention", "0", audit_retention, 0, DAYS(36500)),
    DUR("audit.aggregate_window", "60s", audit_window, 0, HOURS(1)),

    STR("crypto.master_key_file", "", master_key_file, 0),
    BOOL("crypto.sealed", "false", crypto_sealed),

    STR("metrics.allow", "127.0.0.0/8, ::1/128", metrics_allow, 0),

    UINT("rate_limit.global", "100", rl_global, 0, RL_LIMIT_MAX, 1),
    UINT("rate_limit.auth", "5", rl_auth, 0, RL_LIMIT_MAX, 1),
    LINES("rate_limit.routes", "", rl_routes),
    STR("rate_limit.backend", "memory", rl_backend, 1),
    COUNT("rate_limit.max_clients", "65536", rl_max_clients, 8, 16u * 1024 * 1024),
    STR("rate_limit.redis", "127.0.0.1:6379", rl_redis, 1),
    UINT("rate_limit.redis_timeout_ms", "100", rl_redis_timeout_ms, 1, 10000, 1),
    STR("rate_limit.redis_failure", "open", rl_redis_failure, 1),
    SECRET("redis.password", "", redis_password, 0),
    BOOL("redis.tls", "false", redis_tls),
    STR("redis.tls_ca_file", "", redis_tls_ca_file, 0),
    STR("redis.tls_server_name", "", redis_tls_server_name, 0),
    STR("revocation.redis", "", rev_redis, 0),

    STR("admin.allow", "0.0.0.0/0, ::/0", admin_allow, 0),

    STR("authz.permissions", "file:read file:write file:delete", app_permissions, 0),
    STR("authz.member_permissions", "file:read file:write org:read", member_permissions, 0),

    DUR("orgs.invitation_ttl", "7d", invitation_ttl, 1, DAYS(365)),
    BOOL("orgs.superadmin_direct_add", "true", superadmin_direct_add),
    UINT("orgs.max_pending_invitations", "1000", max_pending_invitations, 1, 100000, 1),

    LINES("forward_auth.rules", "", forward_rules),
    STR("forward_auth.default_policy", "authenticated", forward_default, 1),

    LINES("alerts.rules", "", alerts_rules),
    SECRET_LINES("alerts.webhooks", "", alerts_webhooks),

    SECRET_LINES("sso.providers", "", sso_providers),
    DURU("sso.timeout", "10s", sso_timeout_ms, 1, MINUTES(1), 1000),
    BOOL("sso.check_on_save", "true", sso_check_on_save),
    COUNT("alerts.max_groups", "16384", alerts_max_groups, 64, 16u * 1024 * 1024),
    COUNT("alerts.queue", "256", alerts_queue, 1, 65536),
    DURU("alerts.timeout", "5s", alerts_timeout_ms, 1, MINUTES(1), 1000),
    UINT("alerts.tries", "4", alerts_tries, 1, 10, 1),
    DURU("alerts.retry_base", "1s", alerts_retry_ms, 1, MINUTES(5), 1000),
    COUNT("blocks.max", "10000", blocks_max, 1, 1000000),
    COUNT("blocks.auto_max", "1000", blocks_auto_max, 0, 1000000),

    UINT("workers.hash_threads", "0", hash_threads, 0, 1024, 1),
    UINT("workers.hash_queue", "64", hash_queue, 1, 65536, 1),
    UINT("workers.io_threads", "2", io_threads, 1, 1024, 1),
    UINT("workers.io_queue", "1024", io_queue, 1, 1048576, 1),

    BOOL("log.access", "true", access_log),
    {"log.level", "info", K_CHOICE, ST_INT, AT(log_level, int), sizeof MEMBER(log_level), 0, 3, 1, 1, LOG_LEVELS, NULL, NULL},
};

/* clang-format on */

#define NKEYS (sizeof(KEYS) / sizeof(KEYS[0]))

static const struct gh_conf_table TABLE = {KEYS, NKEYS};
void gh_config_defaults(struct gh_config *c)
{
    char why[128];
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NKEYS; i++) {
        /* A default that does not parse is a bug in the table, caught by any test run. */
        if (gh_conf_set(c, &KEYS[i], KEYS[i].def, why, sizeof(why)) != GH_OK)
            abort();
    }
}

gh_err gh_config_load(struct gh_config *c, const char *path, char *const *envp, char *err,
                      size_t err_size)
{
    gh_err ret = GH_ERR_NOMEM;
    /* Work on a copy so that c is untouched unless everything loads. */
    struct gh_config *tmp = malloc(sizeof(*tmp));
    if (tmp == NULL) {
        gh_conf_fail(err, err_size, "out of memory");
        goto out;
    }
    *tmp = *c;
    if (path != NULL && (ret = gh_source_file(&TABLE, tmp, path, err, err_size)) != GH_OK)
        goto out;
    if (envp != NULL && (ret = gh_source_env(&TABLE, tmp, envp, err, err_size)) != GH_OK)
        goto out;
    *c = *tmp;
    ret = GH_OK;
out:
    free(tmp);
    return ret;
}

/* ---- derived values ---- */

/* out = dir "/" name, without doubling a trailing slash; GH_ERR_TOO_LARGE if it does not fit. */
static gh_err join_path(char *out, size_t size, const char *dir, const char *name)
{
    size_t n = strlen(dir);
    const char *sep = n > 0 && dir[n - 1] == '/' ? "" : "/";
    int w = snprintf(out, size, "%s%s%s", dir, sep, name);
    return w < 0 || (size_t)w >= size ? GH_ERR_TOO_LARGE : GH_OK;
}

/* cors.allowed_origins: each "*" or an origin (http or https, a host, maybe a port, no path);
 * "*" never with cors.allow_credentials (browsers refuse the pair, and it would let any
 * site act with a visitor's cookies). */
static gh_err cors_origins_ok(const struct gh_config *t, char *err, size_t err_size)
{
    static const char SEP[] = " ,\t";
    const char *p = t->cors_origins;
    while (*p != '\0') {
        p += strspn(p, SEP);
        size_t n = strcspn(p, SEP), skip = 0;
        if (n == 0)
            break;
        if (strncmp(p, "https://", 8) == 0)
            skip = 8;
        else if (strncmp(p, "http://", 7) == 0)
            skip = 7;
        int star = n == 1 && *p == '*';
        size_t host = skip > 0 ? strspn(p + skip, "abcdefghijklmnopqrstuvwxyz0123456789.-:[]") : 0;
        if (!star && (skip == 0 || host == 0 || skip + host != n)) {
            char q[64];
            gh_word_quote(q, sizeof(q), p, n);
            gh_conf_fail(err, err_size,
                         "cors.allowed_origins: expected \"*\" or origins like "
                         "https://app.example.com (lower case, no path), got %s",
                         q);
            return GH_ERR_INVALID;
        }
        if (star && t->cors_credentials) {
            gh_conf_fail(err, err_size,
                         "cors.allowed_origins: \"*\" with cors.allow_credentials: list the "
                         "origins instead");
            return GH_ERR_INVALID;
        }
        p += n;
    }
    return GH_OK;
}

/* Parses a CIDR-list key into out; the message names the key and the bad item. */
static gh_err cidr_key(const char *text, const char *key, struct gh_cidr_list *out, char *err,
                       size_t err_size)
{
    size_t bad = 0;
    if (gh_cidr_list_parse(text, out, &bad) == GH_OK)
        return GH_OK;
    char got[GH_QUOTE_TEXT];
    gh_word_quote(got, sizeof(got), text + bad, strcspn(text + bad, " ,\t\n"));
    gh_conf_fail(
        err, err_size,
        "%s: expected at most %d addresses or CIDR ranges (10.0.0.0/8, ::1/128) separated by "
        "commas, got \"%s\"",
        key, GH_CIDR_LIST_MAX, got);
    return GH_ERR_INVALID;
}

static gh_err parse_hostport(const char *value, char *host, size_t size, uint16_t *port_out);

/* auth.reauth_automations: each line a name and the id of the API key it uses. */
static gh_err check_automations(const char *text, char *err, size_t err_size)
{
    struct gh_lines it = {text, 0};
    const char *line, *end, *name, *id, *rest;
    size_t n, idn, restn;
    while (gh_line_next(&it, &line, &end)) {
        if (!gh_word_next(&line, end, &name, &n) || !gh_word_next(&line, end, &id, &idn) ||
            !gh_uuid_valid(id, idn) || gh_word_next(&line, end, &rest, &restn)) {
            gh_conf_fail(err, err_size,
                         "auth.reauth_automations: line %zu: expected NAME API_KEY_ID", it.number);
            return GH_ERR_INVALID;
        }
    }
    return GH_OK;
}

gh_err gh_config_finish(struct gh_config *c, char *err, size_t err_size)
{
    gh_err ret = GH_ERR_INVALID;
    struct gh_config *t = malloc(sizeof(*t));
    if (t == NULL) {
        ret = GH_ERR_NOMEM;
        gh_conf_fail(err, err_size, "out of memory");
        goto out;
    }
    *t = *c;

    if (t->data_dir[0] == '\0') {
        gh_conf_fail(err, err_size, "storage.data_dir: expected a directory, got \"\"");
        goto out;
    }
    if (strcmp(t->storage_backend, "postgres") == 0 && t->storage_dsn[0] == '\0') {
        gh_conf_fail(err, err_size, "storage.dsn: required by storage.backend postgres");
        goto out;
    }
    /* The database key comes from the master key before the store opens. */
    if (t->storage_encrypt && strcmp(t->storage_backend, "sqlite") != 0) {
        gh_conf_fail(err, err_size,
                     "storage.encrypt: SQLite only (PostgreSQL: see docs/CRYPTO.md, \"At rest\")");
        goto out;
    }
    if (t->storage_encrypt && t->crypto_sealed) {
        gh_conf_fail(err, err_size,
                     "storage.encrypt: the database key comes from the master key at start, which "
                     "crypto.sealed keeps off this machine: use one or the other");
        goto out;
    }
    /* An empty path or URL means "not set": derive it. */
    if (t->database[0] == '\0' &&
        join_path(t->database, sizeof(t->database), t->data_dir, "gatehouse.db") != GH_OK) {
        gh_conf_fail(err, err_size,
                     "storage.database: <storage.data_dir>/gatehouse.db is too long");
        goto out;
    }
    if (t->signing_key[0] == '\0' && join_path(t->signing_key, sizeof(t->signing_key), t->data_dir,
                                               "keys/signing.pem") != GH_OK) {
        gh_conf_fail(err, err_size,
                     "auth.signing_key: <storage.data_dir>/keys/signing.pem is too long");
        goto out;
    }
    if (t->keys_dir[0] == '\0' &&
        join_path(t->keys_dir, sizeof(t->keys_dir), t->data_dir, "keys") != GH_OK) {
        gh_conf_fail(err, err_size, "auth.keys_dir: <storage.data_dir>/keys is too long");
        goto out;
    }
    if (t->api_key_pepper[0] == '\0' && join_path(t->api_key_pepper, sizeof(t->api_key_pepper),
                                                  t->data_dir, "keys/api_key.pepper") != GH_OK) {
        gh_conf_fail(err, err_size,
                     "auth.api_key_pepper: <storage.data_dir>/keys/api_key.pepper is too long");
        goto out;
    }
    if (t->session_key[0] == '\0' && join_path(t->session_key, sizeof(t->session_key), t->data_dir,
                                               "keys/session.key") != GH_OK) {
        gh_conf_fail(err, err_size,
                     "session.key_file: <storage.data_dir>/keys/session.key is too long");
        goto out;
    }
    if (strspn(t->cookie_domain,
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
        strlen(t->cookie_domain)) {
        gh_conf_fail(err, err_size,
                     "session.cookie_domain: expected a host name (letters, digits, '.', '-')");
        goto out;
    }
    if (cors_origins_ok(t, err, err_size) != GH_OK)
        goto out;
    if (t->session_idle > t->session_absolute) {
        gh_conf_fail(err, err_size,
                     "session.idle_timeout: expected at most session.absolute_timeout");
        goto out;
    }
    if (t->audit_key[0] == '\0' && join_path(t->audit_key, sizeof(t->audit_key), t->data_dir,
                                             "keys/audit_checkpoint.key") != GH_OK) {
        gh_conf_fail(
            err, err_size,
            "audit.checkpoint_key: <storage.data_dir>/keys/audit_checkpoint.key is too long");
        goto out;
    }
    if (t->master_key_file[0] == '\0' && join_path(t->master_key_file, sizeof(t->master_key_file),
                                                   t->data_dir, "keys/master.key") != GH_OK) {
        gh_conf_fail(err, err_size,
                     "crypto.master_key_file: <storage.data_dir>/keys/master.key is too long");
        goto out;
    }
    gh_err e;
    if ((e = cidr_key(t->trusted_proxies, "server.trusted_proxies", &t->trusted, err, err_size)) !=
            GH_OK ||
        (e = cidr_key(t->metrics_allow, "metrics.allow", &t->metrics_allowed, err, err_size)) !=
            GH_OK ||
        (e = cidr_key(t->admin_allow, "admin.allow", &t->admin_allowed, err, err_size)) != GH_OK)
        goto out;
    if (strcmp(t->rl_backend, "memory") != 0 && strcmp(t->rl_backend, "redis") != 0) {
        gh_conf_fail(err, err_size, "rate_limit.backend: expected memory or redis");
        goto out;
    }
    if (strcmp(t->rl_redis_failure, "open") != 0 && strcmp(t->rl_redis_failure, "closed") != 0) {
        gh_conf_fail(err, err_size, "rate_limit.redis_failure: expected open or closed");
        goto out;
    }
    t->rl_fail_closed = strcmp(t->rl_redis_failure, "closed") == 0;
    if (parse_hostport(t->rl_redis, t->rl_redis_host, sizeof(t->rl_redis_host),
                       &t->rl_redis_port) != GH_OK) {
        gh_conf_fail(err, err_size, "rate_limit.redis: expected IPV4:PORT or [IPV6]:PORT");
        goto out;
    }
    if (t->rev_redis[0] != '\0' &&
        parse_hostport(t->rev_redis, t->rev_redis_host, sizeof(t->rev_redis_host),
                       &t->rev_redis_port) != GH_OK) {
        gh_conf_fail(err, err_size, "revocation.redis: expected IPV4:PORT or [IPV6]:PORT");
        goto out;
    }
    if ((t->tls_cert[0] == '\0') != (t->tls_key[0] == '\0')) {
        gh_conf_fail(err, err_size, "server.tls_cert and server.tls_key: set both or neither");
        goto out;
    }
    if (t->public_url[0] == '\0') {
        int v6 = strchr(t->listen_host, ':') != NULL;
        int n = snprintf(t->public_url, sizeof(t->public_url), "%s://%s%s%s:%u",
                         t->tls_cert[0] != '\0' ? "https" : "http", v6 ? "[" : "", t->listen_host,
                         v6 ? "]" : "", (unsigned)t->listen_port);
        if (n < 0 || (size_t)n >= sizeof(t->public_url)) {
            gh_conf_fail(err, err_size, "public_url: the URL made from server.listen is too long");
            goto out;
        }
    }
    /* "https://id.example.com/" and "https://id.example.com" are one issuer, written one way. */
    for (size_t n = strlen(t->public_url); n > 0 && t->public_url[n - 1] == '/'; n--)
        t->public_url[n - 1] = '\0';
    if (t->issuer[0] == '\0') {
        size_t n = strlen(t->public_url);
        if (n >= sizeof(t->issuer)) {
            gh_conf_fail(
                err, err_size,
                "auth.issuer: public_url is longer than %zu bytes, so auth.issuer must be set",
                sizeof(t->issuer) - 1);
            goto out;
        }
        memcpy(t->issuer, t->public_url, n + 1);
    }

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    if (cores > 1024)
        cores = 1024;
    if (t->http_threads == 0)
        t->http_threads = (unsigned)cores;
    if (t->hash_threads == 0)
        t->hash_threads = cores / 2 > 0 ? (unsigned)(cores / 2) : 1;

    if (t->max_length < t->min_length) {
        gh_conf_fail(err, err_size,
                     "password.max_length: expected at least password.min_length (%u), got %u",
                     t->min_length, t->max_length);
        goto out;
    }
    if (t->refresh_ttl < t->access_ttl) {
        gh_conf_fail(err, err_size,
                     "auth.refresh_ttl: expected at least auth.access_ttl (%llds), got %llds",
                     (long long)t->access_ttl, (long long)t->refresh_ttl);
        goto out;
    }
    /* Each rotation leaves a key retiring for access_ttl + clock_leeway: rotating faster
     * would pile up published keys. */
    if (t->key_rotation != 0 &&
        (t->key_rotation < 10 || t->key_rotation < t->access_ttl + t->clock_leeway)) {
        gh_conf_fail(
            err, err_size,
            "auth.key_rotation: expected 0 (off) or at least 10s and at least auth.access_ttl + "
            "auth.clock_leeway (%llds), got %llds",
            (long long)(t->access_ttl + t->clock_leeway), (long long)t->key_rotation);
        goto out;
    }
    if (check_automations(t->reauth_automations, err, err_size) != GH_OK)
        goto out;
    *c = *t;
    ret = GH_OK;
out:
    free(t);
    return ret;
}

/*
 * Splits "ADDR:PORT" / "[V6]:PORT" into host (size bytes) and *port. Only addresses are
 * accepted (the server binds with inet_pton, Redis is reached without a DNS lookup on a
 * polling thread), and "localhost".
 */
static gh_err parse_hostport(const char *value, char *host, size_t size, uint16_t *port_out)
{
    unsigned char addr[sizeof(struct in6_addr)];
    const char *start, *port;
    size_t hlen;
    int family;

    if (value[0] == '[') {
        const char *close = strchr(value, ']');
        if (close == NULL || close[1] != ':')
            return GH_ERR_INVALID;
        start = value + 1;
        hlen = (size_t)(close - start);
        port = close + 2;
        family = AF_INET6;
    } else {
        const char *colon = strrchr(value, ':');
        if (colon == NULL)
            return GH_ERR_INVALID;
        start = value;
        hlen = (size_t)(colon - value);
        port = colon + 1;
        family = AF_INET;
    }
    if (hlen == 0 || hlen >= size || size < sizeof("127.0.0.1"))
        return GH_ERR_INVALID;
    memcpy(host, start, hlen);
    host[hlen] = '\0';
    if (family == AF_INET && strcmp(host, "localhost") == 0)
        memcpy(host, "127.0.0.1", sizeof("127.0.0.1"));
    if (inet_pton(family, host, addr) != 1)
        return GH_ERR_INVALID;

    const char *end = NULL;
    uint64_t p = 0;
    if (strlen(port) > 5 || gh_conf_parse_u64(port, &end, &p) != 0 || end[0] != '\0' || p < 1 ||
        p > 65535)
        return GH_ERR_INVALID;
    *port_out = (uint16_t)p;
    return GH_OK;
}

gh_err gh_config_set_listen(struct gh_config *c, const char *value)
{
    char host[sizeof(c->listen_host)];
    uint16_t port = 0;
    if (parse_hostport(value, host, sizeof(host), &port) != GH_OK)
        return GH_ERR_INVALID;
    memcpy(c->listen_host, host, strlen(host) + 1);
    c->listen_port = port;
    return GH_OK;
}

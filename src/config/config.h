#ifndef GH_CONFIG_CONFIG_H
#define GH_CONFIG_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include "core/cidr.h"
#include "core/err.h"

/*
 * config/ is a leaf: it includes only core/. It reads the values of every key; what a
 * value means is the business of the module that owns the key, which cli/ hands its own
 * options struct (docs/ARCHITECTURE.md "Configuration"). The syntaxes of rule lists
 * (forward_auth.rules, alerts.*, rate_limit.routes, authz.*permissions) are checked by
 * their modules, once, when cli/ builds the application (gh_cli_options).
 */

/**
 * The whole configuration, typed. Every field has a YAML key (shown beside it) and an
 * environment name: GATEHOUSE_ + the key path in upper case with '_' between levels
 * (auth.access_ttl -> GATEHOUSE_AUTH_ACCESS_TTL). Durations accept "90s", "15m", "168h",
 * "7d" or plain seconds; sizes accept "64KiB", "1MiB" or plain bytes; booleans
 * true/false/on/off/yes/no/1/0.
 */
struct gh_config {
    /* server.* */
    char listen_host[256]; /* server.listen "HOST:PORT" (default 127.0.0.1:8080; [::1]:8080 for
                              IPv6) */
    uint16_t listen_port;
    char public_url[512];    /* public_url (GATEHOUSE_PUBLIC_URL), default http://<listen> */
    unsigned http_threads;   /* server.threads: polling threads, 0 = one per core */
    size_t max_body;         /* server.max_body (64KiB) */
    size_t max_header_bytes; /* server.max_header_bytes: all request headers together (16KiB) */
    unsigned max_json_depth; /* server.max_json_depth (16) */
    size_t max_field_length; /* server.max_field_length: any JSON string value (4096) */
    unsigned
        shutdown_timeout; /* server.shutdown_timeout seconds to finish in-flight requests (10s) */
    unsigned
        connection_timeout;  /* server.connection_timeout idle/slow-client timeout seconds (30s) */
    unsigned header_timeout; /* server.header_timeout: a whole request head, seconds (10s) */
    unsigned max_connections_per_ip; /* server.max_connections_per_ip per TCP peer (256) */
    int hsts; /* server.hsts: send Strict-Transport-Security (false; always over TLS) */
    char tls_cert[PATH_MAX];     /* server.tls_cert: PEM certificate chain ("": plain HTTP) */
    char tls_key[PATH_MAX];      /* server.tls_key: PEM private key, mode 0600 */
    unsigned tls_min_version;    /* server.tls_min_version 1.2|1.3 (1.2): enum gh_tls_version */
    char tls_ciphers[512];       /* server.tls_ciphers: TLS 1.2 ciphers (ECDHE with AEAD) */
    char tls_ciphersuites[256];  /* server.tls_ciphersuites: TLS 1.3 suites */
    int http2;                   /* server.http2: offer h2 through ALPN over TLS (true) */
    int h2c;                     /* server.h2c: cleartext HTTP/2 on a plain listener (false) */
    unsigned h2_max_streams;     /* server.http2_max_streams: concurrent streams (100) */
    char trusted_proxies[1024];  /* server.trusted_proxies: CIDRs whose X-Forwarded-* headers count
                                    (127.0.0.0/8, ::1/128) */
    struct gh_cidr_list trusted; /* the same, parsed by gh_config_finish */
    int allow_core_dumps;        /* server.allow_core_dumps: leave core dumps on (false) */
    char user[64];               /* server.user: serve as this user after set-up ("": stay) */

    /* storage.* */
    char storage_backend[32]; /* storage.backend: the store backend by name (sqlite, postgres) */
    char
        storage_dsn[1024]; /* storage.dsn: the PostgreSQL DSN (may hold a password: never echoed) */
    char data_dir[PATH_MAX];  /* storage.data_dir (./var); --data-dir overrides */
    char database[PATH_MAX];  /* storage.database, default <data_dir>/gatehouse.db */
    unsigned busy_timeout_ms; /* storage.busy_timeout (5s, stored in ms) */
    int storage_encrypt;      /* storage.encrypt: SQLite pages sealed (crypto/dbcrypt.h) (false) */

    /* auth.* */
    char issuer[256];           /* auth.issuer, default public_url */
    char audience[256];         /* auth.audience ("gatehouse") */
    unsigned algorithm;         /* auth.algorithm RS256|ES256|EdDSA (RS256): 0|1|2, enum gh_alg */
    unsigned rsa_bits;          /* auth.rsa_bits (4096) */
    char signing_key[PATH_MAX]; /* auth.signing_key, default <data_dir>/keys/signing.pem */
    char keys_dir[PATH_MAX]; /* auth.keys_dir: key set and keyring.json, default <data_dir>/keys */
    int64_t key_rotation;    /* auth.key_rotation seconds (0 = off; else >= 10s and >= access_ttl +
                                clock_leeway) */
    int64_t access_ttl;      /* auth.access_ttl seconds (15m) */
    int64_t refresh_ttl;     /* auth.refresh_ttl seconds (168h) */
    int64_t clock_leeway;    /* auth.clock_leeway seconds (30s) */
    size_t token_cache_size; /* auth.token_cache_size entries (65536, 0 = off) */
    int registration;        /* auth.registration: open self-registration (true) */
    char api_key_pepper[PATH_MAX]; /* auth.api_key_pepper: file of the API-key HMAC key, default
                                      <data_dir>/keys/api_key.pepper */
    int64_t reauth_window;         /* auth.reauth_window seconds (10m): how recent a sign-in
                                      dangerous actions need */
    char reauth_automations[2048]; /* auth.reauth_automations: "NAME KEY_ID" lines, API keys
                                      that pass the window (named automations) */

    /* session.* (browser sessions) */
    int64_t session_idle;       /* session.idle_timeout seconds (30m) */
    int64_t session_absolute;   /* session.absolute_timeout seconds (12h) */
    char cookie_domain[256];    /* session.cookie_domain: Domain of the cookies ("": host only) */
    char session_key[PATH_MAX]; /* session.key_file: the server's session key (CSRF tokens, backup
                                   codes), default <data_dir>/keys/session.key */

    /* portal.* (the sign-in pages) */
    int portal_enabled;        /* portal.enabled: pages and /verify's 302 to /login (true) */
    char redirect_hosts[2048]; /* portal.allowed_redirect_hosts: hosts rd may name besides the
                                  public URL's, "app.example.com" or "*.example.com" (none) */

    /* cors.* (browsers calling /api/ from other origins: api/cors.h) */
    char cors_origins[2048]; /* cors.allowed_origins: "https://app.example.com ...", or "*" (none:
                                CORS off) */
    char cors_methods[256];  /* cors.allowed_methods: a preflight may ask for these */
    char cors_headers[512];  /* cors.allowed_headers: and for these request headers */
    int64_t cors_max_age;    /* cors.max_age: how long a browser keeps a preflight (10m) */
    int cors_credentials;    /* cors.allow_credentials: cookies too (false); never with "*" */

    /* password.* */
    unsigned hash;             /* password.hash bcrypt|argon2id (bcrypt): 0|1, gh_pwhash_alg */
    unsigned bcrypt_cost;      /* password.bcrypt_cost 4..31 (12) */
    unsigned argon2_ops;       /* password.argon2_ops (3) */
    size_t argon2_memory;      /* password.argon2_memory bytes (64MiB) */
    unsigned min_length;       /* password.min_length characters (8; >= 8) */
    unsigned max_length;       /* password.max_length characters (128; >= 128) */
    int require_upper;         /* password.require_upper (false) */
    int require_lower;         /* password.require_lower (false) */
    int require_digit;         /* password.require_digit (false) */
    int require_symbol;        /* password.require_symbol (false) */
    int reject_common;         /* password.reject_common: zxcvbn guessability check (true) */
    unsigned min_entropy_bits; /* password.min_entropy_bits: zxcvbn estimate floor (20) */

    /* login.* */
    int login_backoff;    /* login.backoff: exponential backoff after failed logins (true) */
    int64_t backoff_base; /* login.backoff_base: first wait, seconds (1s) */
    int64_t backoff_max;  /* login.backoff_max: longest wait, seconds (15m) */

    /* audit.* */
    char audit_key[PATH_MAX]; /* audit.checkpoint_key: Ed25519 seed of the checkpoint signatures,
                                 default <data_dir>/keys/audit_checkpoint.key */
    size_t audit_every; /* audit.checkpoint_every: records between signed checkpoints (1000) */
    int64_t
        audit_interval; /* audit.checkpoint_interval: longest wait for a checkpoint, seconds (5m) */
    int64_t audit_retention; /* audit.retention: how long records are kept, seconds (0 = forever) */
    int64_t audit_window;    /* audit.aggregate_window: repeated denials make one record per window,
                                seconds (60s; 0 = off) */

    /* crypto.* */
    char master_key_file[PATH_MAX]; /* crypto.master_key_file: the master key, 32 raw bytes, mode
                                       0600, created on first use; GATEHOUSE_MASTER_KEY (64 hex
                                       digits) is used instead when set. Default
                                       <data_dir>/keys/master.key */
    int crypto_sealed; /* crypto.sealed: start sealed, the master key from Shamir shares
                          (false) */

    /* metrics.* */
    char metrics_allow[1024]; /* metrics.allow: addresses that may read /metrics without a
                                 credential (127.0.0.0/8, ::1/128) */
    struct gh_cidr_list metrics_allowed; /* the same, parsed by gh_config_finish */

    /* rate_limit.* */
    unsigned rl_global; /* rate_limit.global: requests per minute per client, every route (100; 0 =
                           off) */
    unsigned rl_auth; /* rate_limit.auth: per minute per client on login, register, MFA, refresh (5;
                         0 = off) */
    char rl_routes[4096];  /* rate_limit.routes: overrides "METHOD PATH LIMIT/PERIOD", one per line
                              (none) */
    char rl_backend[16];   /* rate_limit.backend: memory | redis (memory) */
    size_t rl_max_clients; /* rate_limit.max_clients: entries of the in-process table (65536) */
    char rl_redis[300];    /* rate_limit.redis: HOST:PORT of the Redis server (127.0.0.1:6379) */
    char rl_redis_host[256]; /* the same, split by gh_config_finish */
    uint16_t rl_redis_port;
    unsigned
        rl_redis_timeout_ms; /* rate_limit.redis_timeout_ms: connect and command timeout (100) */
    char
        rl_redis_failure[16]; /* rate_limit.redis_failure: open | closed, when Redis fails (open) */
    int rl_fail_closed;       /* the same, parsed */

    /* redis.*, revocation.* */
    char redis_password[256];        /* redis.password: AUTH of every Redis connection ("": none; a
                                        secret, never echoed) */
    int redis_tls;                   /* redis.tls: every Redis connection over TLS (false) */
    char redis_tls_ca_file[4096];    /* redis.tls_ca_file: CAs to verify Redis ("": the system's) */
    char redis_tls_server_name[256]; /* redis.tls_server_name: the name to verify ("": the host) */
    char rev_redis[300];      /* revocation.redis: HOST:PORT for revocation pub/sub ("": off) */
    char rev_redis_host[256]; /* the same, split by gh_config_finish */
    uint16_t rev_redis_port;

    /* admin.* */
    char admin_allow[1024]; /* admin.allow: addresses that may call the admin API (0.0.0.0/0, ::/0:
                               any) */
    struct gh_cidr_list admin_allowed; /* the same, parsed by gh_config_finish */
    /* authz.* */
    char app_permissions[4096];    /* authz.permissions: the apps' permissions, space-separated
                                      (file:read file:write file:delete) */
    char member_permissions[2048]; /* authz.member_permissions: the member role of new orgs
                                      (file:read file:write org:read) */

    /* orgs.* */
    int64_t invitation_ttl; /* orgs.invitation_ttl: how long an invitation to an org may be
                               accepted, seconds (7d) */
    unsigned max_pending_invitations; /* orgs.max_pending_invitations: live invitations one org may
                                         hold at once (1000) */
    int superadmin_direct_add; /* orgs.superadmin_direct_add: a superadmin's member add takes effect
                                  at once, without an invitation (true) */

    /* forward_auth.* */
    char forward_rules[16384]; /* forward_auth.rules: route rules, one per line or ';'-separated
                                  (none) */
    char
        forward_default[16]; /* forward_auth.default_policy: authenticated | deny (authenticated) */

    /* alerts.* */
    char alerts_rules[16384];    /* alerts.rules: alert rules over audit events, one per line or
                                    ';'-separated (none) */
    char alerts_webhooks[16384]; /* alerts.webhooks: "NAME slack|discord|json URL" lines; the URLs
                                    are secrets (none) */
    size_t alerts_max_groups;    /* alerts.max_groups: (rule, group) counters kept (16384) */
    size_t alerts_queue; /* alerts.queue: alerts waiting for delivery, more are dropped (256) */
    unsigned alerts_timeout_ms; /* alerts.timeout: one webhook call (5s, stored in ms) */
    unsigned alerts_tries;      /* alerts.tries: calls per alert before giving up, 1..10 (4) */
    unsigned alerts_retry_ms; /* alerts.retry_base: wait after the first failed call, doubled after
                                 each (1s, stored in ms) */
    size_t blocks_max;        /* blocks.max: live address blocks at most (10000) */
    size_t blocks_auto_max;   /* blocks.auto_max: live blocks made by alert rules at most (1000) */

    /* sso.* */
    char sso_providers[16384]; /* sso.providers: identity providers, one JSON object per line
                                  (API.md "SSO"; client secrets are secrets) (none) */
    unsigned sso_timeout_ms;   /* sso.timeout: one call to an identity provider (10s, in ms) */
    int sso_check_on_save;     /* sso.check_on_save: fetch an OIDC provider's discovery document
                                  when the API saves it (true) */

    /* workers.* */
    unsigned hash_threads; /* workers.hash_threads, 0 = half the cores, at least 1 */
    unsigned hash_queue;   /* workers.hash_queue (64) */
    unsigned io_threads;   /* workers.io_threads (2) */
    unsigned io_queue;     /* workers.io_queue (1024) */

    /* log.* */
    int access_log; /* log.access: one JSON line per request (true) */
    int log_level;  /* log.level debug|info|warn|error (info = 1) */
};

/** Fills c with the defaults documented above (data_dir-relative paths are resolved by
 * gh_config_finish). */
void gh_config_defaults(struct gh_config *c) GH_NONNULL(1);

/**
 * Reads YAML file path (NULL: none) over the defaults, then the GATEHOUSE_* variables of
 * envp (NULL-terminated "NAME=value" strings, usually environ) over that. An unknown key,
 * a value of the wrong type or out of range gives GH_ERR_INVALID with a message in err
 * naming the source (file:line or the variable), the key and what was expected, e.g.
 * "gatehouse.yaml:4: auth.access_ttl: expected a duration like 15m, got \"soon\"".
 */
gh_err gh_config_load(struct gh_config *c, const char *path, char *const *envp, char *err,
                      size_t err_size) GH_WUR GH_NONNULL(1, 4);

/**
 * Call after command-line overrides: derives defaults that depend on other keys
 * (database, signing_key and keys_dir from data_dir, public_url from listen, issuer from
 * public_url), resolves thread counts against the number of cores, and checks
 * cross-key rules. Errors as for gh_config_load.
 */
gh_err gh_config_finish(struct gh_config *c, char *err, size_t err_size) GH_WUR GH_NONNULL(1, 2);

/** Parses "HOST:PORT" / "[v6]:PORT" into c->listen_host / listen_port. */
gh_err gh_config_set_listen(struct gh_config *c, const char *value) GH_WUR GH_NONNULL(1, 2);

#endif

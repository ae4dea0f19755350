/*
 * Configuration: built-in defaults, one YAML file, GATEHOUSE_* environment variables,
 * then values derived from other keys. One table of key descriptors (KEYS below) drives
 * the defaults, the file and the environment, so a key is described exactly once.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "audit/alert_rules.h"
#include "authz/perm.h"
#include "authz/rules.h"
#include "core/buf.h"

#define KIB ((uint64_t)1024)
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define MINUTES(n) ((uint64_t)(n) * 60)
#define HOURS(n) ((uint64_t)(n) * 3600)
#define DAYS(n) ((uint64_t)(n) * 86400)

#define ENV_PREFIX "GATEHOUSE_"
#define PATH_TEXT_MAX 64 /* longest key path or environment name, with its NUL */
#define GOT_MAX 48       /* bytes of an offending value quoted back in a message */

/* What text a key accepts. */
enum kind {
    K_STRING,   /* text without control characters, min..max bytes */
    K_LINES,    /* text of lines (tabs and newlines allowed); in YAML also a list of strings */
    K_SECRET_LINES, /* the same holding secrets (webhook URLs): never quoted back in an error */
    K_URL,      /* "" (derive it) or an http:// / https:// URL */
    K_UNSIGNED, /* plain decimal integer, min..max, a multiple of step */
    K_SIZE,     /* bytes: "512", "64KiB", "16MiB", "1GiB" */
    K_DURATION, /* seconds: "90", "90s", "15m", "168h", "7d" */
    K_BOOL,     /* true/false on/off yes/no 1/0, any case */
    K_ALG,      /* RS256 | ES256 | EdDSA */
    K_PWHASH,   /* bcrypt | argon2id */
    K_LOGLEVEL, /* debug | info | warn | error -> 0..3 */
    K_LISTEN,   /* HOST:PORT, [v6]:PORT -> listen_host, listen_port */
};

/* The C type of the struct gh_config member a key writes to. */
enum store {
    ST_NONE,   /* K_LISTEN writes two members itself */
    ST_CHARS,  /* char[size] */
    ST_UINT,   /* unsigned */
    ST_SIZE,   /* size_t */
    ST_I64,    /* int64_t */
    ST_INT,    /* int */
    ST_ALG,    /* enum gh_alg */
    ST_PWHASH, /* enum gh_pwhash_alg */
};

struct key {
    const char *path; /* "auth.access_ttl"; no dot for top-level keys */
    const char *def;  /* the default, in the syntax of the file */
    enum kind kind;
    enum store store;
    size_t offset; /* of the member in struct gh_config */
    size_t size;   /* of the member */
    uint64_t min, max, step;
    unsigned scale; /* the member holds value * scale (busy_timeout: ms) */
};

/*
 * AT(m, T) is offsetof(struct gh_config, m), and fails to compile unless member m has
 * type T (arrays decay, so char arrays are char *): the table cannot write a size_t
 * through an unsigned.
 */
#define MEMBER(m) (((struct gh_config *)0)->m)
#define AT(m, T)                                                                                   \
    (offsetof(struct gh_config, m) + 0 * sizeof(char[_Generic(MEMBER(m), T: 1, default: -1)]))

#define STR(p, d, m, lo) {p, d, K_STRING, ST_CHARS, AT(m, char *), sizeof MEMBER(m), lo, sizeof MEMBER(m) - 1, 1, 1}
#define LINES(p, d, m) {p, d, K_LINES, ST_CHARS, AT(m, char *), sizeof MEMBER(m), 0, sizeof MEMBER(m) - 1, 1, 1}
#define SECRET_LINES(p, d, m) {p, d, K_SECRET_LINES, ST_CHARS, AT(m, char *), sizeof MEMBER(m), 0, sizeof MEMBER(m) - 1, 1, 1}
#define URL(p, d, m) {p, d, K_URL, ST_CHARS, AT(m, char *), sizeof MEMBER(m), 0, sizeof MEMBER(m) - 1, 1, 1}
#define UINT(p, d, m, lo, hi, st) {p, d, K_UNSIGNED, ST_UINT, AT(m, unsigned), sizeof MEMBER(m), lo, hi, st, 1}
#define COUNT(p, d, m, lo, hi) {p, d, K_UNSIGNED, ST_SIZE, AT(m, size_t), sizeof MEMBER(m), lo, hi, 1, 1}
#define SIZE(p, d, m, lo, hi) {p, d, K_SIZE, ST_SIZE, AT(m, size_t), sizeof MEMBER(m), lo, hi, 1, 1}
#define DUR(p, d, m, lo, hi) {p, d, K_DURATION, ST_I64, AT(m, int64_t), sizeof MEMBER(m), lo, hi, 1, 1}
#define DURU(p, d, m, lo, hi, sc) {p, d, K_DURATION, ST_UINT, AT(m, unsigned), sizeof MEMBER(m), lo, hi, 1, sc}
#define BOOL(p, d, m) {p, d, K_BOOL, ST_INT, AT(m, int), sizeof MEMBER(m), 0, 1, 1, 1}

/* Every key, in documentation order. Bounds are in seconds for durations, bytes for sizes. */
static const struct key KEYS[] = {
    {"server.listen", "127.0.0.1:8080", K_LISTEN, ST_NONE, 0, 0, 0, 0, 1, 1},
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
    STR("server.trusted_proxies", "127.0.0.0/8, ::1/128", trusted_proxies, 0),
    BOOL("server.allow_core_dumps", "false", allow_core_dumps),
    STR("server.user", "", user, 0),

    STR("storage.backend", "sqlite", storage_backend, 1),
    STR("storage.dsn", "", storage_dsn, 0),
    STR("storage.data_dir", "./var", data_dir, 1),
    STR("storage.database", "", database, 0),
    DURU("storage.busy_timeout", "5s", busy_timeout_ms, 0, MINUTES(10), 1000),

    STR("auth.issuer", "", issuer, 0),
    STR("auth.audience", "gatehouse", audience, 1),
    {"auth.algorithm", "RS256", K_ALG, ST_ALG, AT(algorithm, enum gh_alg), sizeof MEMBER(algorithm), 0, 0, 1, 1},
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

    {"password.hash", "bcrypt", K_PWHASH, ST_PWHASH, AT(hash, enum gh_pwhash_alg), sizeof MEMBER(hash), 0, 0, 1, 1},
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

    STR("metrics.allow", "127.0.0.0/8, ::1/128", metrics_allow, 0),

    UINT("rate_limit.global", "100", rl_global, 0, GH_RL_LIMIT_MAX, 1),
    UINT("rate_limit.auth", "5", rl_auth, 0, GH_RL_LIMIT_MAX, 1),
    LINES("rate_limit.routes", "", rl_routes),
    STR("rate_limit.backend", "memory", rl_backend, 1),
    COUNT("rate_limit.max_clients", "65536", rl_max_clients, 8, 16u * 1024 * 1024),
    STR("rate_limit.redis", "127.0.0.1:6379", rl_redis, 1),
    UINT("rate_limit.redis_timeout_ms", "100", rl_redis_timeout_ms, 1, 10000, 1),
    STR("rate_limit.redis_failure", "open", rl_redis_failure, 1),

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
    COUNT("alerts.max_groups", "16384", alerts_max_groups, 64, 16u * 1024 * 1024),
    COUNT("alerts.queue", "256", alerts_queue, 1, 65536),
    DURU("alerts.timeout", "5s", alerts_timeout_ms, 1, MINUTES(1), 1000),
    UINT("alerts.tries", "4", alerts_tries, 1, 10, 1),
    DURU("alerts.retry_base", "1s", alerts_retry_ms, 1, MINUTES(5), 1000),

    UINT("workers.hash_threads", "0", hash_threads, 0, 1024, 1),
    UINT("workers.hash_queue", "64", hash_queue, 1, 65536, 1),
    UINT("workers.io_threads", "2", io_threads, 1, 1024, 1),
    UINT("workers.io_queue", "1024", io_queue, 1, 1048576, 1),

    BOOL("log.access", "true", access_log),
    {"log.level", "info", K_LOGLEVEL, ST_INT, AT(log_level, int), sizeof MEMBER(log_level), 0, 3, 1, 1},
};

#define NKEYS (sizeof(KEYS) / sizeof(KEYS[0]))

static void fail(char *err, size_t err_size, const char *fmt, ...) GH_PRINTF(3, 4);

static void fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* A truncated message is still the best we have. */
    (void)vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

/* Appends formatted text at *at in out (size bytes), stopping silently when full. */
static void append(char *out, size_t size, size_t *at, const char *fmt, ...) GH_PRINTF(4, 5);

static void append(char *out, size_t size, size_t *at, const char *fmt, ...)
{
    if (*at >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *at, size - *at, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *at = (size_t)n >= size - *at ? size : *at + (size_t)n;
}

/*
 * Writes s (n bytes) as text safe to print between double quotes: printable ASCII is
 * kept, anything else becomes \xHH, and only the first GOT_MAX bytes are shown.
 */
static void quote(char *out, size_t size, const char *s, size_t n)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < GOT_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            append(out, size, &at, "\\%c", ch);
        else if (ch >= 0x20 && ch < 0x7f)
            append(out, size, &at, "%c", ch);
        else
            append(out, size, &at, "\\x%02x", ch);
    }
    if (n > GOT_MAX)
        append(out, size, &at, "...");
}

/* Parses a plain decimal number that starts at s; *end is left after its digits. */
static int parse_u64(const char *s, const char **end, uint64_t *out)
{
    /* strtoull would skip blanks and accept a sign ("-1" wraps to UINT64_MAX). */
    if (s[0] < '0' || s[0] > '9')
        return -1;
    char *e = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno != 0 || e == s)
        return -1;
    *end = e;
    *out = (uint64_t)v;
    return 0;
}

static int parse_duration(const char *s, uint64_t *out)
{
    const char *end = NULL;
    uint64_t v = 0, mul = 1;
    if (parse_u64(s, &end, &v) != 0)
        return -1;
    switch (end[0]) {
    case '\0': break;
    case 's': mul = 1; end++; break;
    case 'm': mul = MINUTES(1); end++; break;
    case 'h': mul = HOURS(1); end++; break;
    case 'd': mul = DAYS(1); end++; break;
    default: return -1;
    }
    if (end[0] != '\0' || v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

/* Binary units only: "KB" and "MB" are ambiguous (1000 or 1024?) and rejected. */
static int parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mul;
    } units[] = {{"", 1}, {"B", 1}, {"KiB", KIB}, {"MiB", MIB}, {"GiB", GIB}};
    const char *end = NULL;
    uint64_t v = 0;
    if (parse_u64(s, &end, &v) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) != 0)
            continue;
        if (v > UINT64_MAX / units[i].mul)
            return -1;
        *out = v * units[i].mul;
        return 0;
    }
    return -1;
}

static int parse_bool(const char *s, uint64_t *out)
{
    static const char *const yes[] = {"true", "on", "yes", "1"};
    static const char *const no[] = {"false", "off", "no", "0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* "90s" style for messages: the largest unit that divides v. */
static void fmt_duration(char *out, size_t size, uint64_t v)
{
    if (v > DAYS(1) && v % DAYS(1) == 0) /* "24h" reads better than "1d" */
        (void)snprintf(out, size, "%llud", (unsigned long long)(v / DAYS(1)));
    else if (v != 0 && v % HOURS(1) == 0)
        (void)snprintf(out, size, "%lluh", (unsigned long long)(v / HOURS(1)));
    else if (v != 0 && v % MINUTES(1) == 0)
        (void)snprintf(out, size, "%llum", (unsigned long long)(v / MINUTES(1)));
    else
        (void)snprintf(out, size, "%llus", (unsigned long long)v);
}

static void fmt_size(char *out, size_t size, uint64_t v)
{
    if (v != 0 && v % GIB == 0)
        (void)snprintf(out, size, "%lluGiB", (unsigned long long)(v / GIB));
    else if (v != 0 && v % MIB == 0)
        (void)snprintf(out, size, "%lluMiB", (unsigned long long)(v / MIB));
    else if (v != 0 && v % KIB == 0)
        (void)snprintf(out, size, "%lluKiB", (unsigned long long)(v / KIB));
    else
        (void)snprintf(out, size, "%llu", (unsigned long long)v);
}

/* What k accepts, for "expected ..."; range = 0 gives the syntax, 1 the bounds. */
static void expectation(const struct key *k, int range, char *out, size_t size)
{
    char lo[32], hi[32];
    switch (k->kind) {
    case K_STRING:
        (void)snprintf(out, size, "%s of at most %llu bytes without control characters",
                       k->min > 0 ? "a non-empty string" : "a string", (unsigned long long)k->max);
        return;
    case K_LINES:
    case K_SECRET_LINES:
        (void)snprintf(out, size, "a string or a list of strings, at most %llu bytes in all",
                       (unsigned long long)k->max);
        return;
    case K_URL:
        (void)snprintf(out, size, "an http:// or https:// URL of at most %llu bytes",
                       (unsigned long long)k->max);
        return;
    case K_UNSIGNED:
        if (k->step > 1)
            (void)snprintf(out, size, "an integer from %llu to %llu, a multiple of %llu",
                           (unsigned long long)k->min, (unsigned long long)k->max,
                           (unsigned long long)k->step);
        else
            (void)snprintf(out, size, "an integer from %llu to %llu", (unsigned long long)k->min,
                           (unsigned long long)k->max);
        return;
    case K_SIZE:
        if (!range) {
            (void)snprintf(out, size, "a size like 64KiB");
            return;
        }
        fmt_size(lo, sizeof(lo), k->min);
        fmt_size(hi, sizeof(hi), k->max);
        (void)snprintf(out, size, "a size from %s to %s", lo, hi);
        return;
    case K_DURATION:
        if (!range) {
            (void)snprintf(out, size, "a duration like 15m");
            return;
        }
        fmt_duration(lo, sizeof(lo), k->min);
        fmt_duration(hi, sizeof(hi), k->max);
        (void)snprintf(out, size, "a duration from %s to %s", lo, hi);
        return;
    case K_BOOL: (void)snprintf(out, size, "true or false (or on/off, yes/no, 1/0)"); return;
    case K_ALG: (void)snprintf(out, size, "RS256, ES256 or EdDSA"); return;
    case K_PWHASH: (void)snprintf(out, size, "bcrypt or argon2id"); return;
    case K_LOGLEVEL: (void)snprintf(out, size, "debug, info, warn or error"); return;
    case K_LISTEN:
        (void)snprintf(out, size, "IPV4:PORT or [IPV6]:PORT with a port from 1 to 65535");
        return;
    }
    (void)snprintf(out, size, "a valid value");
}

static int text_ok(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int lines_ok(const char *s)
{
    for (; *s != '\0'; s++)
        if (((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') || *s == 0x7f)
            return 0;
    return 1;
}

static int url_ok(const char *s)
{
    const char *host;
    if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else
        return 0;
    if (host[0] == '\0' || host[0] == '/')
        return 0;
    /* Also refuses what would need escaping in JSON, HTML or a Location header. */
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr("\"<>\\^`{|}#?", *s))
            return 0;
    return 1;
}

/* The value of k for an error message: quoted, or hidden when it may hold a secret. */
static void quote_value(const struct key *k, char *out, size_t size, const char *v, size_t n)
{
    if (k->kind == K_SECRET_LINES)
        (void)snprintf(out, size, "(hidden: it may hold a secret)");
    else
        quote(out, size, v, n);
}

static void *member(struct gh_config *c, const struct key *k)
{
    return (char *)c + k->offset;
}

/*
 * Parses v (a NUL-terminated string) for key k and writes it into c. On failure, returns
 * GH_ERR_INVALID and writes what was expected into why; c is unchanged.
 */
static gh_err set_value(struct gh_config *c, const struct key *k, const char *v, char *why,
                        size_t why_size)
{
    uint64_t n = 0;
    int bad = 0, range = 0;
    size_t len = strlen(v);

    switch (k->kind) {
    case K_STRING:
        bad = len < k->min || len > k->max || !text_ok(v);
        break;
    case K_LINES:
    case K_SECRET_LINES:
        bad = len > k->max || !lines_ok(v);
        break;
    case K_URL:
        bad = len > k->max || (len > 0 && !url_ok(v));
        break;
    case K_UNSIGNED: {
        const char *end = NULL;
        bad = parse_u64(v, &end, &n) != 0 || end[0] != '\0';
        break;
    }
    case K_SIZE: bad = parse_size(v, &n) != 0; break;
    case K_DURATION: bad = parse_duration(v, &n) != 0; break;
    case K_BOOL: bad = parse_bool(v, &n) != 0; break;
    case K_ALG: {
        enum gh_alg alg;
        bad = gh_alg_parse(v, &alg) != GH_OK;
        if (!bad)
            *(enum gh_alg *)member(c, k) = alg;
        break;
    }
    case K_PWHASH:
        if (strcmp(v, "bcrypt") == 0)
            *(enum gh_pwhash_alg *)member(c, k) = GH_PWHASH_BCRYPT;
        else if (strcmp(v, "argon2id") == 0)
            *(enum gh_pwhash_alg *)member(c, k) = GH_PWHASH_ARGON2ID;
        else
            bad = 1;
        break;
    case K_LOGLEVEL: {
        static const char *const names[] = {"debug", "info", "warn", "error"};
        bad = 1;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (strcmp(v, names[i]) == 0) {
                n = i;
                bad = 0;
            }
        }
        break;
    }
    case K_LISTEN: bad = gh_config_set_listen(c, v) != GH_OK; break;
    }

    if (!bad && (k->kind == K_UNSIGNED || k->kind == K_SIZE || k->kind == K_DURATION ||
                 k->kind == K_LOGLEVEL)) {
        range = n < k->min || n > k->max || n % k->step != 0 || n > UINT64_MAX / k->scale;
        bad = range;
        n *= k->scale;
    }
    if (bad) {
        expectation(k, range, why, why_size);
        return GH_ERR_INVALID;
    }

    void *p = member(c, k);
    switch (k->store) {
    case ST_CHARS: memcpy(p, v, len + 1); break; /* len <= k->max = size - 1 */
    case ST_UINT:
        if (n > UINT_MAX)
            goto internal;
        *(unsigned *)p = (unsigned)n;
        break;
    case ST_SIZE:
        if (n > SIZE_MAX)
            goto internal;
        *(size_t *)p = (size_t)n;
        break;
    case ST_I64:
        if (n > INT64_MAX)
            goto internal;
        *(int64_t *)p = (int64_t)n;
        break;
    case ST_INT:
        if (n > INT_MAX)
            goto internal;
        *(int *)p = (int)n;
        break;
    case ST_NONE:
    case ST_ALG:
    case ST_PWHASH: break; /* written above */
    }
    return GH_OK;

internal:
    (void)snprintf(why, why_size, "a value that fits (table bounds are wrong)");
    return GH_ERR_INTERNAL;
}

static const struct key *find_key(const char *path)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].path, path) == 0)
            return &KEYS[i];
    return NULL;
}

/* Non-zero when name (n bytes) is the section of some key ("auth" for auth.*). */
static int is_section(const char *name, size_t n)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strncmp(KEYS[i].path, name, n) == 0 && KEYS[i].path[n] == '.')
            return 1;
    return 0;
}

/* "GATEHOUSE_" + path in upper case, '.' -> '_'. */
static void env_name(const char *path, char *out, size_t size)
{
    size_t at = 0;
    append(out, size, &at, "%s", ENV_PREFIX);
    for (; *path != '\0'; path++) {
        char ch = *path == '.' ? '_' : *path;
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        append(out, size, &at, "%c", ch);
    }
}

void gh_config_defaults(struct gh_config *c)
{
    char why[128];
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NKEYS; i++) {
        /* A default that does not parse is a bug in the table, caught by any test run. */
        if (set_value(c, &KEYS[i], KEYS[i].def, why, sizeof(why)) != GH_OK)
            abort();
    }
}

/* ---- the YAML file ---- */

struct reader {
    yaml_parser_t parser;
    yaml_event_t ev;
    int have_ev;
    const char *path;
    char *err;
    size_t err_size;
    size_t key_line[NKEYS];     /* line where each key was set, 0 = not yet */
    size_t section_line[NKEYS]; /* indexed by the first key of the section */
};

static size_t ev_line(const struct reader *r)
{
    return r->ev.start_mark.line + 1;
}

static gh_err next_event(struct reader *r)
{
    if (r->have_ev) {
        yaml_event_delete(&r->ev);
        r->have_ev = 0;
    }
    if (!yaml_parser_parse(&r->parser, &r->ev)) {
        fail(r->err, r->err_size, "%s:%zu: invalid YAML: %s", r->path,
             r->parser.problem_mark.line + 1,
             r->parser.problem != NULL ? r->parser.problem : "syntax error");
        return GH_ERR_INVALID;
    }
    r->have_ev = 1;
    if (r->ev.type == YAML_ALIAS_EVENT) {
        fail(r->err, r->err_size, "%s:%zu: YAML aliases are not supported", r->path, ev_line(r));
        return GH_ERR_INVALID;
    }
    return GH_OK;
}

static const char *ev_kind_name(yaml_event_type_t t)
{
    switch (t) {
    case YAML_MAPPING_START_EVENT: return "a mapping";
    case YAML_SEQUENCE_START_EVENT: return "a sequence";
    case YAML_SCALAR_EVENT: return "a scalar";
    default: return "something else";
    }
}

/* The current event's scalar; a plain null ("", "~", "null") reads as "". */
static const char *scalar_text(const struct reader *r, size_t *len)
{
    const char *s = (const char *)r->ev.data.scalar.value;
    size_t n = r->ev.data.scalar.length;
    if (r->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
         strcmp(s, "NULL") == 0))
        n = 0;
    *len = n;
    return n == 0 ? "" : s;
}

/* Lists the keys of section (or the sections and top-level keys if NULL) into out. */
static void list_keys(const char *section, char *out, size_t size)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NKEYS; i++) {
        const char *p = KEYS[i].path, *dot = strchr(p, '.');
        if (section == NULL) {
            size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
            int dup = 0;
            for (size_t j = 0; j < i; j++)
                dup |= strncmp(KEYS[j].path, p, n) == 0 &&
                       (KEYS[j].path[n] == '.' || KEYS[j].path[n] == '\0');
            if (!dup)
                append(out, size, &at, "%s%.*s", at > 0 ? ", " : "", (int)n, p);
        } else if (dot != NULL && strncmp(p, section, (size_t)(dot - p)) == 0 &&
                   section[dot - p] == '\0') {
            append(out, size, &at, "%s%s", at > 0 ? ", " : "", dot + 1);
        }
    }
}

/*
 * Reads a list of strings (positioned on its SEQUENCE_START) into one heap string, the
 * items joined with newlines, as the file would give them in a block scalar.
 */
static gh_err read_lines(struct reader *r, const struct key *k, char **out)
{
    struct gh_buf b;
    gh_err e;
    gh_buf_init(&b, k->size - 1);
    for (;;) {
        if ((e = next_event(r)) != GH_OK)
            goto out;
        if (r->ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        size_t len = 0;
        const char *v = r->ev.type == YAML_SCALAR_EVENT ? scalar_text(r, &len) : NULL;
        if (v == NULL || strlen(v) != len) {
            fail(r->err, r->err_size, "%s:%zu: %s: expected a list of strings, got %s", r->path,
                 ev_line(r), k->path, v == NULL ? ev_kind_name(r->ev.type) : "a NUL byte");
            e = GH_ERR_INVALID;
            goto out;
        }
        if ((b.len > 0 && (e = gh_buf_append(&b, "\n", 1)) != GH_OK) ||
            (e = gh_buf_append(&b, v, len)) != GH_OK) {
            fail(r->err, r->err_size, "%s:%zu: %s: the list is longer than %zu bytes", r->path,
                 ev_line(r), k->path, k->size - 1);
            goto out;
        }
    }
    *out = gh_buf_take(&b);
    e = *out != NULL ? GH_OK : GH_ERR_NOMEM;
out:
    gh_buf_clear(&b);
    return e == GH_ERR_TOO_LARGE ? GH_ERR_INVALID : e;
}

/* Reads the value event of key k (already positioned on it) and applies it. */
static gh_err read_value(struct reader *r, struct gh_config *c, const struct key *k)
{
    char why[160], got[GOT_MAX * 4 + 8];
    size_t idx = (size_t)(k - KEYS);
    if ((k->kind == K_LINES || k->kind == K_SECRET_LINES) &&
        r->ev.type == YAML_SEQUENCE_START_EVENT) {
        char *joined = NULL;
        size_t line = ev_line(r);
        gh_err e = read_lines(r, k, &joined);
        if (e == GH_OK && (e = set_value(c, k, joined, why, sizeof(why))) != GH_OK)
            fail(r->err, r->err_size, "%s:%zu: %s: expected %s", r->path, line, k->path, why);
        free(joined);
        return e;
    }
    if (r->ev.type != YAML_SCALAR_EVENT) {
        expectation(k, 0, why, sizeof(why));
        fail(r->err, r->err_size, "%s:%zu: %s: expected %s, got %s", r->path, ev_line(r),
             k->path, why, ev_kind_name(r->ev.type));
        return GH_ERR_INVALID;
    }
    if (r->key_line[idx] != 0) {
        fail(r->err, r->err_size, "%s:%zu: %s: duplicate key (first set on line %zu)", r->path,
             ev_line(r), k->path, r->key_line[idx]);
        return GH_ERR_INVALID;
    }
    r->key_line[idx] = ev_line(r);
    size_t len = 0;
    const char *v = scalar_text(r, &len);
    gh_err e;
    if (strlen(v) != len) {
        expectation(k, 0, why, sizeof(why));
        e = GH_ERR_INVALID;
    } else {
        e = set_value(c, k, v, why, sizeof(why));
    }
    if (e != GH_OK) {
        quote_value(k, got, sizeof(got), v, len);
        fail(r->err, r->err_size, "%s:%zu: %s: expected %s, got \"%s\"", r->path, ev_line(r),
             k->path, why, got);
    }
    return e;
}

/* Reads the body of section name (positioned on its value event) up to its MAPPING_END. */
static gh_err read_section(struct reader *r, struct gh_config *c, const char *name)
{
    char path[PATH_TEXT_MAX], shown[GOT_MAX * 4 + 8], keys[400];
    gh_err e;
    if (r->ev.type == YAML_SCALAR_EVENT) {
        size_t len = 0;
        (void)scalar_text(r, &len);
        if (len == 0) /* "auth:" with every key commented out */
            return GH_OK;
    }
    if (r->ev.type != YAML_MAPPING_START_EVENT) {
        fail(r->err, r->err_size, "%s:%zu: %s: expected a mapping of %s.* keys, got %s", r->path,
             ev_line(r), name, name, ev_kind_name(r->ev.type));
        return GH_ERR_INVALID;
    }
    for (;;) {
        if ((e = next_event(r)) != GH_OK)
            return e;
        if (r->ev.type == YAML_MAPPING_END_EVENT)
            return GH_OK;
        if (r->ev.type != YAML_SCALAR_EVENT) {
            fail(r->err, r->err_size, "%s:%zu: %s: expected a key name, got %s", r->path,
                 ev_line(r), name, ev_kind_name(r->ev.type));
            return GH_ERR_INVALID;
        }
        const char *kname = (const char *)r->ev.data.scalar.value;
        size_t klen = r->ev.data.scalar.length;
        int n = snprintf(path, sizeof(path), "%s.%s", name, kname);
        const struct key *k = NULL;
        if (n > 0 && (size_t)n < sizeof(path) && strlen(kname) == klen)
            k = find_key(path);
        if (k == NULL) {
            quote(shown, sizeof(shown), kname, klen);
            list_keys(name, keys, sizeof(keys));
            fail(r->err, r->err_size, "%s:%zu: %s.%s: unknown key, expected one of %s", r->path,
                 ev_line(r), name, shown, keys);
            return GH_ERR_INVALID;
        }
        if ((e = next_event(r)) != GH_OK || (e = read_value(r, c, k)) != GH_OK)
            return e;
    }
}

/* Reads the top-level mapping (positioned on its MAPPING_START) up to its MAPPING_END. */
static gh_err read_top(struct reader *r, struct gh_config *c)
{
    char name[PATH_TEXT_MAX], shown[GOT_MAX * 4 + 8], keys[200];
    gh_err e;
    for (;;) {
        if ((e = next_event(r)) != GH_OK)
            return e;
        if (r->ev.type == YAML_MAPPING_END_EVENT)
            return GH_OK;
        if (r->ev.type != YAML_SCALAR_EVENT) {
            fail(r->err, r->err_size, "%s:%zu: expected a section name, got %s", r->path,
                 ev_line(r), ev_kind_name(r->ev.type));
            return GH_ERR_INVALID;
        }
        const char *kname = (const char *)r->ev.data.scalar.value;
        size_t klen = r->ev.data.scalar.length;
        const struct key *k = NULL;
        int section = 0;
        if (klen < sizeof(name) && strlen(kname) == klen && strchr(kname, '.') == NULL) {
            memcpy(name, kname, klen + 1);
            k = find_key(name);
            section = k == NULL && is_section(name, klen);
        }
        if (k == NULL && !section) {
            quote(shown, sizeof(shown), kname, klen);
            list_keys(NULL, keys, sizeof(keys));
            fail(r->err, r->err_size, "%s:%zu: %s: unknown key, expected one of %s", r->path,
                 ev_line(r), shown, keys);
            return GH_ERR_INVALID;
        }
        if (section) {
            size_t first = 0;
            while (!(strncmp(KEYS[first].path, name, klen) == 0 && KEYS[first].path[klen] == '.'))
                first++;
            if (r->section_line[first] != 0) {
                fail(r->err, r->err_size, "%s:%zu: %s: duplicate key (first set on line %zu)",
                     r->path, ev_line(r), name, r->section_line[first]);
                return GH_ERR_INVALID;
            }
            r->section_line[first] = ev_line(r);
        }
        if ((e = next_event(r)) != GH_OK)
            return e;
        e = section ? read_section(r, c, name) : read_value(r, c, k);
        if (e != GH_OK)
            return e;
    }
}

static gh_err load_file(struct gh_config *c, const char *path, char *err, size_t err_size)
{
    gh_err ret = GH_ERR_INVALID;
    struct reader *r = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return GH_ERR_IO;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL || !yaml_parser_initialize(&r->parser)) {
        fail(err, err_size, "%s: out of memory", path);
        free(r);
        r = NULL;
        ret = GH_ERR_NOMEM;
        goto out;
    }
    yaml_parser_set_input_file(&r->parser, f);
    r->path = path;
    r->err = err;
    r->err_size = err_size;

    /* STREAM_START, then DOCUMENT_START or (an empty file) STREAM_END. */
    if ((ret = next_event(r)) != GH_OK || (ret = next_event(r)) != GH_OK)
        goto out;
    if (r->ev.type == YAML_DOCUMENT_START_EVENT) {
        if ((ret = next_event(r)) != GH_OK)
            goto out;
        size_t len = 1;
        if (r->ev.type == YAML_SCALAR_EVENT)
            (void)scalar_text(r, &len);
        if (r->ev.type == YAML_MAPPING_START_EVENT)
            ret = read_top(r, c);
        else if (r->ev.type == YAML_SCALAR_EVENT && len == 0)
            ret = GH_OK; /* "---" alone */
        else {
            fail(err, err_size, "%s:%zu: expected a mapping of sections at the top level, got %s",
                 path, ev_line(r), ev_kind_name(r->ev.type));
            ret = GH_ERR_INVALID;
        }
        if (ret != GH_OK || (ret = next_event(r)) != GH_OK) /* DOCUMENT_END */
            goto out;
        if ((ret = next_event(r)) != GH_OK)
            goto out;
    }
    if (r->ev.type != YAML_STREAM_END_EVENT) {
        fail(err, err_size, "%s:%zu: expected a single YAML document", path, ev_line(r));
        ret = GH_ERR_INVALID;
        goto out;
    }
    ret = GH_OK;

out:
    if (r != NULL) {
        if (r->have_ev)
            yaml_event_delete(&r->ev);
        yaml_parser_delete(&r->parser);
        free(r);
    }
    fclose(f);
    return ret;
}

/* ---- the environment ---- */

/* The value of name in envp (the first one, as getenv does), or NULL. */
static const char *env_find(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (; *envp != NULL; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

/* Only names in KEYS are read: other GATEHOUSE_* variables belong to other modules. */
static gh_err load_env(struct gh_config *c, char *const *envp, char *err, size_t err_size)
{
    char name[PATH_TEXT_MAX], why[160], got[GOT_MAX * 4 + 8];
    for (size_t i = 0; i < NKEYS; i++) {
        env_name(KEYS[i].path, name, sizeof(name));
        const char *v = env_find(envp, name);
        if (v == NULL)
            continue;
        gh_err e = set_value(c, &KEYS[i], v, why, sizeof(why));
        if (e != GH_OK) {
            quote_value(&KEYS[i], got, sizeof(got), v, strlen(v));
            fail(err, err_size, "%s: expected %s, got \"%s\"", name, why, got);
            return e;
        }
    }
    return GH_OK;
}

gh_err gh_config_load(struct gh_config *c, const char *path, char *const *envp, char *err,
                      size_t err_size)
{
    gh_err ret = GH_ERR_NOMEM;
    /* Work on a copy so that c is untouched unless everything loads. */
    struct gh_config *tmp = malloc(sizeof(*tmp));
    if (tmp == NULL) {
        fail(err, err_size, "out of memory");
        goto out;
    }
    *tmp = *c;
    if (path != NULL && (ret = load_file(tmp, path, err, err_size)) != GH_OK)
        goto out;
    if (envp != NULL && (ret = load_env(tmp, envp, err, err_size)) != GH_OK)
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

/* Parses a CIDR-list key into out; the message names the key and the bad item. */
static gh_err cidr_key(const char *text, const char *key, struct gh_cidr_list *out, char *err,
                       size_t err_size)
{
    size_t bad = 0;
    if (gh_cidr_list_parse(text, out, &bad) == GH_OK)
        return GH_OK;
    char got[GOT_MAX * 4 + 8];
    quote(got, sizeof(got), text + bad, strcspn(text + bad, " ,\t\n"));
    fail(err, err_size,
         "%s: expected at most %d addresses or CIDR ranges (10.0.0.0/8, ::1/128) separated by "
         "commas, got \"%s\"",
         key, GH_CIDR_LIST_MAX, got);
    return GH_ERR_INVALID;
}

static gh_err parse_hostport(const char *value, char *host, size_t size, uint16_t *port_out);

/* How many ':' the n bytes at p hold. */
static int colons(const char *p, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == ':';
    return k;
}

/* A space-separated permission list. catalog NULL: each item must be one concrete
 * permission (a declaration); else wildcards and ":own" are allowed, and each item must
 * stand for a permission of catalog (a role's list). */
static gh_err perm_list_key(const char *text, const char *key, const char *catalog, char *err,
                            size_t err_size)
{
    int wild = catalog != NULL;
    for (const char *p = text; *p != '\0';) {
        size_t n = strcspn(p, " ");
        int ok = wild ? gh_perm_known(catalog, p, n)
                      : gh_perm_valid(p, n) && memchr(p, '*', n) == NULL && colons(p, n) == 1;
        if (n > 0 && !ok) {
            char got[GOT_MAX * 4 + 8];
            quote(got, sizeof(got), p, n);
            fail(err, err_size,
                 "%s: expected permissions resource:action%s separated by spaces, got \"%s\"",
                 key, wild ? " declared in authz.permissions or by Gatehouse" : " without wildcards",
                 got);
            return GH_ERR_INVALID;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return GH_OK;
}

gh_err gh_config_finish(struct gh_config *c, char *err, size_t err_size)
{
    gh_err ret = GH_ERR_INVALID;
    struct gh_config *t = malloc(sizeof(*t));
    if (t == NULL) {
        ret = GH_ERR_NOMEM;
        fail(err, err_size, "out of memory");
        goto out;
    }
    *t = *c;

    if (t->data_dir[0] == '\0') {
        fail(err, err_size, "storage.data_dir: expected a directory, got \"\"");
        goto out;
    }
    /* An empty path or URL means "not set": derive it. */
    if (t->database[0] == '\0' &&
        join_path(t->database, sizeof(t->database), t->data_dir, "gatehouse.db") != GH_OK) {
        fail(err, err_size, "storage.database: <storage.data_dir>/gatehouse.db is too long");
        goto out;
    }
    if (t->signing_key[0] == '\0' &&
        join_path(t->signing_key, sizeof(t->signing_key), t->data_dir, "keys/signing.pem") !=
            GH_OK) {
        fail(err, err_size, "auth.signing_key: <storage.data_dir>/keys/signing.pem is too long");
        goto out;
    }
    if (t->keys_dir[0] == '\0' &&
        join_path(t->keys_dir, sizeof(t->keys_dir), t->data_dir, "keys") != GH_OK) {
        fail(err, err_size, "auth.keys_dir: <storage.data_dir>/keys is too long");
        goto out;
    }
    if (t->api_key_pepper[0] == '\0' &&
        join_path(t->api_key_pepper, sizeof(t->api_key_pepper), t->data_dir,
                  "keys/api_key.pepper") != GH_OK) {
        fail(err, err_size, "auth.api_key_pepper: <storage.data_dir>/keys/api_key.pepper is too long");
        goto out;
    }
    if (t->audit_key[0] == '\0' &&
        join_path(t->audit_key, sizeof(t->audit_key), t->data_dir,
                  "keys/audit_checkpoint.key") != GH_OK) {
        fail(err, err_size, "audit.checkpoint_key: <storage.data_dir>/keys/audit_checkpoint.key is too long");
        goto out;
    }
    gh_err e;
    if ((e = cidr_key(t->trusted_proxies, "server.trusted_proxies", &t->trusted, err,
                      err_size)) != GH_OK ||
        (e = cidr_key(t->metrics_allow, "metrics.allow", &t->metrics_allowed, err, err_size)) !=
            GH_OK ||
        (e = cidr_key(t->admin_allow, "admin.allow", &t->admin_allowed, err, err_size)) != GH_OK)
        goto out;
    char rwhy[200];
    if (gh_rl_routes_parse(t->rl_routes, t->rl_route, &t->rl_nroutes, rwhy, sizeof(rwhy)) !=
        GH_OK) {
        fail(err, err_size, "rate_limit.routes: %s", rwhy);
        goto out;
    }
    if (strcmp(t->rl_backend, "memory") != 0 && strcmp(t->rl_backend, "redis") != 0) {
        fail(err, err_size, "rate_limit.backend: expected memory or redis");
        goto out;
    }
    if (strcmp(t->rl_redis_failure, "open") != 0 && strcmp(t->rl_redis_failure, "closed") != 0) {
        fail(err, err_size, "rate_limit.redis_failure: expected open or closed");
        goto out;
    }
    t->rl_fail_closed = strcmp(t->rl_redis_failure, "closed") == 0;
    if (parse_hostport(t->rl_redis, t->rl_redis_host, sizeof(t->rl_redis_host),
                       &t->rl_redis_port) != GH_OK) {
        fail(err, err_size, "rate_limit.redis: expected IPV4:PORT or [IPV6]:PORT");
        goto out;
    }
    char catalog[sizeof(GH_PERM_BUILTIN) + sizeof(t->app_permissions) + 1];
    (void)snprintf(catalog, sizeof(catalog), "%s %s", GH_PERM_BUILTIN, t->app_permissions);
    if ((e = perm_list_key(t->app_permissions, "authz.permissions", NULL, err, err_size)) !=
            GH_OK ||
        (e = perm_list_key(t->member_permissions, "authz.member_permissions", catalog, err,
                           err_size)) != GH_OK)
        goto out;
    struct gh_rules rules;
    char why[200];
    if ((e = gh_rules_parse(t->forward_rules, t->forward_default, &rules, why, sizeof(why))) !=
        GH_OK) {
        fail(err, err_size, "forward_auth: %s", e == GH_ERR_NOMEM ? "out of memory" : why);
        goto out;
    }
    gh_rules_clear(&rules);
    struct gh_alert_rules alerts;
    if ((e = gh_alert_rules_parse(t->alerts_rules, t->alerts_webhooks, &alerts, why,
                                  sizeof(why))) != GH_OK) {
        fail(err, err_size, "%s: %s", strncmp(why, "webhook", 7) == 0 ? "alerts.webhooks" : "alerts.rules",
             e == GH_ERR_NOMEM ? "out of memory" : why);
        goto out;
    }
    gh_alert_rules_clear(&alerts);
    if (t->public_url[0] == '\0') {
        int v6 = strchr(t->listen_host, ':') != NULL;
        int n = snprintf(t->public_url, sizeof(t->public_url), "http://%s%s%s:%u", v6 ? "[" : "",
                         t->listen_host, v6 ? "]" : "", (unsigned)t->listen_port);
        if (n < 0 || (size_t)n >= sizeof(t->public_url)) {
            fail(err, err_size, "public_url: the URL made from server.listen is too long");
            goto out;
        }
    }
    /* "https://id.example.com/" and "https://id.example.com" are one issuer, written one way. */
    for (size_t n = strlen(t->public_url); n > 0 && t->public_url[n - 1] == '/'; n--)
        t->public_url[n - 1] = '\0';
    if (t->issuer[0] == '\0') {
        size_t n = strlen(t->public_url);
        if (n >= sizeof(t->issuer)) {
            fail(err, err_size,
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
        fail(err, err_size,
             "password.max_length: expected at least password.min_length (%u), got %u",
             t->min_length, t->max_length);
        goto out;
    }
    if (t->refresh_ttl < t->access_ttl) {
        fail(err, err_size,
             "auth.refresh_ttl: expected at least auth.access_ttl (%llds), got %llds",
             (long long)t->access_ttl, (long long)t->refresh_ttl);
        goto out;
    }
    /* Each rotation leaves a key retiring for access_ttl + clock_leeway: rotating faster
     * would pile up published keys. */
    if (t->key_rotation != 0 &&
        (t->key_rotation < 10 || t->key_rotation < t->access_ttl + t->clock_leeway)) {
        fail(err, err_size,
             "auth.key_rotation: expected 0 (off) or at least 10s and at least auth.access_ttl + "
             "auth.clock_leeway (%llds), got %llds",
             (long long)(t->access_ttl + t->clock_leeway), (long long)t->key_rotation);
        goto out;
    }
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
    if (strlen(port) > 5 || parse_u64(port, &end, &p) != 0 || end[0] != '\0' || p < 1 ||
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

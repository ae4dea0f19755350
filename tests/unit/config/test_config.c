/*
 * Unit tests for config/: defaults, the YAML file, GATEHOUSE_* environment, every value
 * type with its exact error text, bounds, listen addresses and derived values.
 *
 * Build with -DGH_TEST_SIGKEY_STUB to link without src/crypto/sigkey.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "authn/password.h"
#include "cli/cli.h"
#include "config/config.h"

#ifdef GH_TEST_SIGKEY_STUB
gh_err gh_alg_parse(const char *name, enum gh_alg *out)
{
    if (strcmp(name, "RS256") == 0)
        *out = GH_ALG_RS256;
    else if (strcmp(name, "ES256") == 0)
        *out = GH_ALG_ES256;
    else if (strcmp(name, "EdDSA") == 0)
        *out = GH_ALG_EDDSA;
    else
        return GH_ERR_INVALID;
    return GH_OK;
}
#endif

static char *const NO_ENV[] = {NULL};

/* Writes text to a new temporary file; its path goes into path (unlink it after). */
static void write_file(char path[64], const char *text)
{
    snprintf(path, 64, "/tmp/gh-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

/* Loads yaml (NULL: no file) and env over the defaults; err receives the message. */
static gh_err load(struct gh_config *c, const char *yaml, char *const *env, char *err, size_t size)
{
    char path[64];
    gh_config_defaults(c);
    err[0] = '\0';
    if (yaml == NULL)
        return gh_config_load(c, NULL, env, err, size);
    write_file(path, yaml);
    gh_err e = gh_config_load(c, path, env, err, size);
    /* Messages start with the path; tests compare what follows it. */
    size_t n = strlen(path);
    if (strncmp(err, path, n) == 0)
        memmove(err, err + n, strlen(err + n) + 1);
    unlink(path);
    return e;
}

/* Loads one variable NAME=value and expects GH_ERR_INVALID with exactly message. */
static void env_rejects(const char *assignment, const char *message)
{
    struct gh_config c;
    char err[512];
    char *env[] = {(char *)assignment, NULL};
    assert_int_equal(load(&c, NULL, env, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err, message);
}

static void env_accepts(const char *assignment, struct gh_config *c)
{
    char err[512];
    char *env[] = {(char *)assignment, NULL};
    gh_err e = load(c, NULL, env, err, sizeof(err));
    if (e != GH_OK)
        fail_msg("%s: %s", assignment, err);
}

/* Loads a YAML text and expects GH_ERR_INVALID with message (after the file name). */
static void yaml_rejects(const char *yaml, const char *message)
{
    struct gh_config c;
    char err[512];
    assert_int_equal(load(&c, yaml, NO_ENV, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err, message);
}

static void defaults(void **state)
{
    (void)state;
    struct gh_config c;
    gh_config_defaults(&c);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8080);
    assert_string_equal(c.public_url, "");
    assert_int_equal(c.http_threads, 0);
    assert_int_equal(c.max_body, 64 * 1024);
    assert_int_equal(c.max_header_bytes, 16 * 1024);
    assert_int_equal(c.max_json_depth, 16);
    assert_int_equal(c.max_field_length, 4096);
    assert_int_equal(c.shutdown_timeout, 10);
    assert_int_equal(c.connection_timeout, 30);
    assert_int_equal(c.hsts, 0);
    assert_int_equal(c.allow_core_dumps, 0);
    assert_string_equal(c.user, "");
    assert_string_equal(c.storage_backend, "sqlite");
    assert_string_equal(c.storage_dsn, "");
    assert_string_equal(c.data_dir, "./var");
    assert_string_equal(c.database, "");
    assert_int_equal(c.busy_timeout_ms, 5000);
    assert_string_equal(c.issuer, "");
    assert_string_equal(c.audience, "gatehouse");
    assert_int_equal(c.algorithm, GH_ALG_RS256);
    assert_int_equal(c.rsa_bits, 4096);
    assert_string_equal(c.signing_key, "");
    assert_string_equal(c.keys_dir, "");
    assert_int_equal(c.key_rotation, 0);
    assert_int_equal(c.access_ttl, 900);
    assert_int_equal(c.refresh_ttl, 168 * 3600);
    assert_int_equal(c.clock_leeway, 30);
    assert_int_equal(c.token_cache_size, 65536);
    assert_int_equal(c.registration, 1);
    assert_int_equal(c.hash, GH_PWHASH_BCRYPT);
    assert_int_equal(c.bcrypt_cost, 12);
    assert_int_equal(c.argon2_ops, 3);
    assert_int_equal(c.argon2_memory, 64 * 1024 * 1024);
    assert_int_equal(c.min_length, 8);
    assert_int_equal(c.max_length, 128);
    assert_int_equal(c.require_upper, 0);
    assert_int_equal(c.require_lower, 0);
    assert_int_equal(c.require_digit, 0);
    assert_int_equal(c.require_symbol, 0);
    assert_int_equal(c.reject_common, 1);
    assert_int_equal(c.min_entropy_bits, 20);
    assert_int_equal(c.invitation_ttl, 7 * 86400);
    assert_int_equal(c.superadmin_direct_add, 1);
    assert_int_equal(c.max_pending_invitations, 1000);
    assert_int_equal(c.hash_threads, 0);
    assert_int_equal(c.hash_queue, 64);
    assert_int_equal(c.io_threads, 2);
    assert_int_equal(c.io_queue, 1024);
    assert_int_equal(c.access_log, 1);
    assert_int_equal(c.log_level, 1);

    /* Loading nothing changes nothing. */
    struct gh_config d;
    char err[256];
    assert_int_equal(load(&d, NULL, NO_ENV, err, sizeof(err)), GH_OK);
    assert_memory_equal(&c, &d, sizeof(c));
    assert_int_equal(load(&d, NULL, NULL, err, sizeof(err)), GH_OK);
    assert_memory_equal(&c, &d, sizeof(c));
}

static const char FULL[] = "# every key, none at its default\n"
                           "public_url: https://id.example.com\n"
                           "server:\n"
                           "  listen: \"[::1]:9443\"\n"
                           "  threads: 3\n"
                           "  max_body: 1MiB\n"
                           "  max_header_bytes: 32KiB\n"
                           "  max_json_depth: 8\n"
                           "  max_field_length: 2048\n"
                           "  shutdown_timeout: 1m\n"
                           "  connection_timeout: 45\n"
                           "  hsts: yes\n"
                           "  allow_core_dumps: true\n"
                           "  user: gatehouse\n"
                           "storage:\n"
                           "  backend: sqlite\n"
                           "  dsn: 'host=db dbname=gh'\n"
                           "  data_dir: /srv/gh\n"
                           "  database: /db/gh.db\n"
                           "  busy_timeout: 2s\n"
                           "auth:\n"
                           "  issuer: https://issuer.example.com\n"
                           "  audience: api\n"
                           "  algorithm: EdDSA\n"
                           "  rsa_bits: 3072\n"
                           "  signing_key: /keys/k.pem\n"
                           "  access_ttl: 5m\n"
                           "  refresh_ttl: 30d\n"
                           "  clock_leeway: 10s\n"
                           "  token_cache_size: 0\n"
                           "  registration: off\n"
                           "password:\n"
                           "  hash: argon2id\n"
                           "  bcrypt_cost: 13\n"
                           "  argon2_ops: 4\n"
                           "  argon2_memory: 128MiB\n"
                           "  min_length: 12\n"
                           "  max_length: 256\n"
                           "  require_upper: true\n"
                           "  require_lower: 'on'\n"
                           "  require_digit: 1\n"
                           "  require_symbol: TRUE\n"
                           "  reject_common: false\n"
                           "  min_entropy_bits: 40\n"
                           "workers:\n"
                           "  hash_threads: 5\n"
                           "  hash_queue: 128\n"
                           "  io_threads: 4\n"
                           "  io_queue: 2048\n"
                           "log:\n"
                           "  access: no\n"
                           "  level: warn\n";

static void full_file(void **state)
{
    (void)state;
    struct gh_config c;
    char err[512];
    assert_int_equal(load(&c, FULL, NO_ENV, err, sizeof(err)), GH_OK);
    assert_string_equal(c.public_url, "https://id.example.com");
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 9443);
    assert_int_equal(c.http_threads, 3);
    assert_int_equal(c.max_body, 1024 * 1024);
    assert_int_equal(c.max_header_bytes, 32 * 1024);
    assert_int_equal(c.max_json_depth, 8);
    assert_int_equal(c.max_field_length, 2048);
    assert_int_equal(c.shutdown_timeout, 60);
    assert_int_equal(c.connection_timeout, 45);
    assert_int_equal(c.hsts, 1);
    assert_int_equal(c.allow_core_dumps, 1);
    assert_string_equal(c.user, "gatehouse");
    assert_string_equal(c.storage_backend, "sqlite");
    assert_string_equal(c.storage_dsn, "host=db dbname=gh");
    assert_string_equal(c.data_dir, "/srv/gh");
    assert_string_equal(c.database, "/db/gh.db");
    assert_int_equal(c.busy_timeout_ms, 2000);
    assert_string_equal(c.issuer, "https://issuer.example.com");
    assert_string_equal(c.audience, "api");
    assert_int_equal(c.algorithm, GH_ALG_EDDSA);
    assert_int_equal(c.rsa_bits, 3072);
    assert_string_equal(c.signing_key, "/keys/k.pem");
    assert_int_equal(c.access_ttl, 300);
    assert_int_equal(c.refresh_ttl, 30 * 86400);
    assert_int_equal(c.clock_leeway, 10);
    assert_int_equal(c.token_cache_size, 0);
    assert_int_equal(c.registration, 0);
    assert_int_equal(c.hash, GH_PWHASH_ARGON2ID);
    assert_int_equal(c.bcrypt_cost, 13);
    assert_int_equal(c.argon2_ops, 4);
    assert_int_equal(c.argon2_memory, 128 * 1024 * 1024);
    assert_int_equal(c.min_length, 12);
    assert_int_equal(c.max_length, 256);
    assert_int_equal(c.require_upper, 1);
    assert_int_equal(c.require_lower, 1);
    assert_int_equal(c.require_digit, 1);
    assert_int_equal(c.require_symbol, 1);
    assert_int_equal(c.reject_common, 0);
    assert_int_equal(c.min_entropy_bits, 40);
    assert_int_equal(c.hash_threads, 5);
    assert_int_equal(c.hash_queue, 128);
    assert_int_equal(c.io_threads, 4);
    assert_int_equal(c.io_queue, 2048);
    assert_int_equal(c.access_log, 0);
    assert_int_equal(c.log_level, 2);

    /* finish() keeps every explicit value. */
    assert_int_equal(gh_config_finish(&c, err, sizeof(err)), GH_OK);
    assert_string_equal(c.database, "/db/gh.db");
    assert_string_equal(c.signing_key, "/keys/k.pem");
    assert_string_equal(c.public_url, "https://id.example.com");
    assert_string_equal(c.issuer, "https://issuer.example.com");
    assert_int_equal(c.http_threads, 3);
    assert_int_equal(c.hash_threads, 5);
}

static void example_file_is_the_defaults(void **state)
{
    (void)state;
    /* examples/gatehouse.yaml sets every key to its default. */
    FILE *f = fopen("examples/gatehouse.yaml", "r");
    if (f == NULL)
        skip(); /* run from elsewhere than the repository root */
    fclose(f);
    struct gh_config c, d;
    char err[512];
    gh_config_defaults(&c);
    gh_config_defaults(&d);
    assert_int_equal(gh_config_load(&c, "examples/gatehouse.yaml", NO_ENV, err, sizeof(err)),
                     GH_OK);
    assert_memory_equal(&c, &d, sizeof(c));
}

static void env_overrides_file(void **state)
{
    (void)state;
    struct gh_config c;
    char err[512];
    char *env[] = {"PATH=/usr/bin",
                   "GATEHOUSE_AUTH_ACCESS_TTL=20m",
                   "GATEHOUSE_SERVER_LISTEN=0.0.0.0:9000",
                   "GATEHOUSE_PUBLIC_URL=https://env.example.com",
                   "GATEHOUSE_LOG_LEVEL=debug",
                   "GATEHOUSE_PASSWORD_HASH=bcrypt",
                   "GATEHOUSE_AUTH_ACCESS_TTL=1m", /* the first one wins, as with getenv */
                   NULL};
    assert_int_equal(load(&c, FULL, env, err, sizeof(err)), GH_OK);
    assert_int_equal(c.access_ttl, 1200);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 9000);
    assert_string_equal(c.public_url, "https://env.example.com");
    assert_int_equal(c.log_level, 0);
    assert_int_equal(c.hash, GH_PWHASH_BCRYPT);
    /* Keys absent from the environment keep the file's values. */
    assert_int_equal(c.refresh_ttl, 30 * 86400);
    assert_string_equal(c.audience, "api");
}

static void unknown_env_ignored(void **state)
{
    (void)state;
    struct gh_config c, d;
    char err[512];
    char *env[] = {"GATEHOUSE_FOO=1",
                   "GATEHOUSE_ADMIN_PASSWORD=hunter2hunter2",
                   "GATEHOUSE_PASSWORD=x",
                   "GATEHOUSE_BIN=/usr/bin/gatehouse",
                   "GATEHOUSE_AUTH_ACCESS_TTLX=soon",
                   "GATEHOUSE_AUTH_ACCESS_TT=soon",
                   "gatehouse_auth_access_ttl=soon",
                   "GATEHOUSE_AUTH_ACCESS_TTL",
                   NULL};
    gh_config_defaults(&d);
    assert_int_equal(load(&c, NULL, env, err, sizeof(err)), GH_OK);
    assert_memory_equal(&c, &d, sizeof(c));

    /* The switches API.md names are keys like any other. */
    char *limits[] = {"GATEHOUSE_RATE_LIMIT_GLOBAL=0", "GATEHOUSE_RATE_LIMIT_AUTH=7", NULL};
    assert_int_equal(d.rl_global, 100);
    assert_int_equal(d.rl_auth, 5);
    assert_int_equal(load(&c, NULL, limits, err, sizeof(err)), GH_OK);
    assert_int_equal(c.rl_global, 0);
    assert_int_equal(c.rl_auth, 7);
    char *backoff[] = {"GATEHOUSE_LOGIN_BACKOFF=off", NULL};
    assert_int_equal(d.login_backoff, 1);
    assert_int_equal(load(&c, NULL, backoff, err, sizeof(err)), GH_OK);
    assert_int_equal(c.login_backoff, 0);
}

static void durations(void **state)
{
    (void)state;
    struct gh_config c;
    env_accepts("GATEHOUSE_AUTH_ACCESS_TTL=90s", &c);
    assert_int_equal(c.access_ttl, 90);
    env_accepts("GATEHOUSE_AUTH_ACCESS_TTL=600", &c);
    assert_int_equal(c.access_ttl, 600);
    env_accepts("GATEHOUSE_AUTH_ACCESS_TTL=24h", &c);
    assert_int_equal(c.access_ttl, 86400);
    env_accepts("GATEHOUSE_AUTH_REFRESH_TTL=7d", &c);
    assert_int_equal(c.refresh_ttl, 7 * 86400);
    env_accepts("GATEHOUSE_AUTH_REFRESH_TTL=365d", &c);
    assert_int_equal(c.refresh_ttl, 365 * 86400);
    env_accepts("GATEHOUSE_AUTH_CLOCK_LEEWAY=0", &c);
    assert_int_equal(c.clock_leeway, 0);
    env_accepts("GATEHOUSE_STORAGE_BUSY_TIMEOUT=1m", &c);
    assert_int_equal(c.busy_timeout_ms, 60000);

    const char *syntax = ": expected a duration like 15m, got \"";
    static const char *const bad[] = {"soon",
                                      "-5s",
                                      "+5s",
                                      " 5s",
                                      "5s ",
                                      "5 s",
                                      "15mm",
                                      "1h30m",
                                      "0x10",
                                      "1.5h",
                                      "",
                                      "5S",
                                      "18446744073709551616",
                                      "9999999999999999999d"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char assign[128], msg[256];
        snprintf(assign, sizeof(assign), "GATEHOUSE_AUTH_ACCESS_TTL=%s", bad[i]);
        snprintf(msg, sizeof(msg), "GATEHOUSE_AUTH_ACCESS_TTL%s%s\"", syntax, bad[i]);
        env_rejects(assign, msg);
    }
    env_rejects("GATEHOUSE_AUTH_ACCESS_TTL=9s",
                "GATEHOUSE_AUTH_ACCESS_TTL: expected a duration from 10s to 24h, got \"9s\"");
    env_rejects("GATEHOUSE_AUTH_ACCESS_TTL=25h",
                "GATEHOUSE_AUTH_ACCESS_TTL: expected a duration from 10s to 24h, got \"25h\"");
    env_rejects("GATEHOUSE_AUTH_REFRESH_TTL=366d",
                "GATEHOUSE_AUTH_REFRESH_TTL: expected a duration from 10s to 365d, got \"366d\"");
    env_rejects(
        "GATEHOUSE_SERVER_CONNECTION_TIMEOUT=0",
        "GATEHOUSE_SERVER_CONNECTION_TIMEOUT: expected a duration from 1s to 1h, got \"0\"");
    env_rejects("GATEHOUSE_ORGS_INVITATION_TTL=0",
                "GATEHOUSE_ORGS_INVITATION_TTL: expected a duration from 1s to 365d, got \"0\"");
    env_rejects("GATEHOUSE_ORGS_INVITATION_TTL=366d",
                "GATEHOUSE_ORGS_INVITATION_TTL: expected a duration from 1s to 365d, got \"366d\"");
    env_accepts("GATEHOUSE_ORGS_INVITATION_TTL=36h", &c);
    assert_int_equal(c.invitation_ttl, 36 * 3600);
    env_rejects(
        "GATEHOUSE_ORGS_MAX_PENDING_INVITATIONS=0",
        "GATEHOUSE_ORGS_MAX_PENDING_INVITATIONS: expected an integer from 1 to 100000, got \"0\"");
    env_accepts("GATEHOUSE_ORGS_SUPERADMIN_DIRECT_ADD=off", &c);
    assert_int_equal(c.superadmin_direct_add, 0);
    /* The example from the contract, from a file. */
    yaml_rejects("# c\nauth:\n  issuer: x\n  access_ttl: soon\n",
                 ":4: auth.access_ttl: expected a duration like 15m, got \"soon\"");
}

static void sizes(void **state)
{
    (void)state;
    struct gh_config c;
    env_accepts("GATEHOUSE_SERVER_MAX_BODY=1024", &c);
    assert_int_equal(c.max_body, 1024);
    env_accepts("GATEHOUSE_SERVER_MAX_BODY=2048B", &c);
    assert_int_equal(c.max_body, 2048);
    env_accepts("GATEHOUSE_SERVER_MAX_BODY=64KiB", &c);
    assert_int_equal(c.max_body, 65536);
    env_accepts("GATEHOUSE_SERVER_MAX_BODY=16MiB", &c);
    assert_int_equal(c.max_body, 16 * 1024 * 1024);
    env_accepts("GATEHOUSE_PASSWORD_ARGON2_MEMORY=1GiB", &c);
    assert_int_equal(c.argon2_memory, 1024 * 1024 * 1024);

    static const char *const bad[] = {
        "big",    "64KB", "1MB",    "64kib", "64 KiB",
        "1.5MiB", "-1",   "64KiBs", "",      "99999999999999999999GiB"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char assign[128], msg[256];
        snprintf(assign, sizeof(assign), "GATEHOUSE_SERVER_MAX_BODY=%s", bad[i]);
        snprintf(msg, sizeof(msg),
                 "GATEHOUSE_SERVER_MAX_BODY: expected a size like 64KiB, got \"%s\"", bad[i]);
        env_rejects(assign, msg);
    }
    env_rejects("GATEHOUSE_SERVER_MAX_BODY=1023",
                "GATEHOUSE_SERVER_MAX_BODY: expected a size from 1KiB to 16MiB, got \"1023\"");
    env_rejects("GATEHOUSE_SERVER_MAX_BODY=17MiB",
                "GATEHOUSE_SERVER_MAX_BODY: expected a size from 1KiB to 16MiB, got \"17MiB\"");
    env_rejects(
        "GATEHOUSE_PASSWORD_ARGON2_MEMORY=4MiB",
        "GATEHOUSE_PASSWORD_ARGON2_MEMORY: expected a size from 8MiB to 1GiB, got \"4MiB\"");
    yaml_rejects("server:\n  max_body: 1KB\n",
                 ":2: server.max_body: expected a size like 64KiB, got \"1KB\"");
}

static void booleans(void **state)
{
    (void)state;
    struct gh_config c;
    static const char *const yes[] = {"true", "on", "yes", "1", "True", "YES"};
    static const char *const no[] = {"false", "off", "no", "0", "False", "OFF"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        char assign[64];
        snprintf(assign, sizeof(assign), "GATEHOUSE_SERVER_HSTS=%s", yes[i]);
        env_accepts(assign, &c);
        assert_int_equal(c.hsts, 1);
        snprintf(assign, sizeof(assign), "GATEHOUSE_LOG_ACCESS=%s", no[i]);
        env_accepts(assign, &c);
        assert_int_equal(c.access_log, 0);
    }
    env_rejects("GATEHOUSE_SERVER_HSTS=maybe", "GATEHOUSE_SERVER_HSTS: expected true or false "
                                               "(or on/off, yes/no, 1/0), got \"maybe\"");
    env_rejects("GATEHOUSE_SERVER_HSTS=2", "GATEHOUSE_SERVER_HSTS: expected true or false "
                                           "(or on/off, yes/no, 1/0), got \"2\"");
    yaml_rejects("auth:\n  registration: sure\n",
                 ":2: auth.registration: expected true or false (or on/off, yes/no, 1/0), got "
                 "\"sure\"");
}

static void unsigneds(void **state)
{
    (void)state;
    struct gh_config c;
    env_accepts("GATEHOUSE_WORKERS_IO_QUEUE=1", &c);
    assert_int_equal(c.io_queue, 1);
    env_accepts("GATEHOUSE_AUTH_TOKEN_CACHE_SIZE=1000", &c);
    assert_int_equal(c.token_cache_size, 1000);
    env_rejects("GATEHOUSE_WORKERS_IO_QUEUE=0",
                "GATEHOUSE_WORKERS_IO_QUEUE: expected an integer from 1 to 1048576, got \"0\"");
    env_rejects("GATEHOUSE_WORKERS_IO_QUEUE=-1",
                "GATEHOUSE_WORKERS_IO_QUEUE: expected an integer from 1 to 1048576, got \"-1\"");
    env_rejects("GATEHOUSE_WORKERS_IO_QUEUE=12abc",
                "GATEHOUSE_WORKERS_IO_QUEUE: expected an integer from 1 to 1048576, got "
                "\"12abc\"");
    env_rejects("GATEHOUSE_WORKERS_IO_QUEUE=99999999999999999999999",
                "GATEHOUSE_WORKERS_IO_QUEUE: expected an integer from 1 to 1048576, got "
                "\"99999999999999999999999\"");
    env_rejects("GATEHOUSE_SERVER_THREADS=4294967297",
                "GATEHOUSE_SERVER_THREADS: expected an integer from 0 to 1024, got "
                "\"4294967297\"");
}

static void strings(void **state)
{
    (void)state;
    struct gh_config c;
    char big[400], assign[450], msg[512];
    env_accepts("GATEHOUSE_AUTH_AUDIENCE=my-api", &c);
    assert_string_equal(c.audience, "my-api");
    memset(big, 'a', 255);
    big[255] = '\0';
    snprintf(assign, sizeof(assign), "GATEHOUSE_AUTH_AUDIENCE=%s", big);
    env_accepts(assign, &c);
    assert_string_equal(c.audience, big);
    big[255] = 'a';
    big[256] = '\0';
    snprintf(assign, sizeof(assign), "GATEHOUSE_AUTH_AUDIENCE=%s", big);
    /* Long values are shown cut to 48 bytes. */
    snprintf(msg, sizeof(msg),
             "GATEHOUSE_AUTH_AUDIENCE: expected a non-empty string of at most 255 bytes without "
             "control characters, got \"%.48s...\"",
             big);
    env_rejects(assign, msg);
    env_rejects("GATEHOUSE_AUTH_AUDIENCE=", "GATEHOUSE_AUTH_AUDIENCE: expected a non-empty string "
                                            "of at most 255 bytes without control characters, "
                                            "got \"\"");
    env_rejects("GATEHOUSE_AUTH_AUDIENCE=a\tb", "GATEHOUSE_AUTH_AUDIENCE: expected a non-empty "
                                                "string of at most 255 bytes without control "
                                                "characters, got \"a\\x09b\"");
    /* A NUL inside a YAML string cannot be stored in C text. */
    yaml_rejects("auth:\n  audience: \"a\\0b\"\n",
                 ":2: auth.audience: expected a non-empty string of at most 255 bytes without "
                 "control characters, got \"a\\x00b\"");
    /* An empty path means "derive it". */
    env_accepts("GATEHOUSE_STORAGE_DATABASE=", &c);
    assert_string_equal(c.database, "");
    yaml_rejects("storage:\n  data_dir: \"\"\n",
                 ":2: storage.data_dir: expected a non-empty string of at most 4095 bytes "
                 "without control characters, got \"\"");
}

static void urls(void **state)
{
    (void)state;
    struct gh_config c;
    env_accepts("GATEHOUSE_PUBLIC_URL=http://localhost:8080/auth", &c);
    assert_string_equal(c.public_url, "http://localhost:8080/auth");
    static const char *const bad[] = {"ftp://x",    "example.com", "http://",     "https:///x",
                                      "http://a b", "http://x/?q", "http://x/#f", "http://x\"y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char assign[128], msg[256];
        snprintf(assign, sizeof(assign), "GATEHOUSE_PUBLIC_URL=%s", bad[i]);
        snprintf(msg, sizeof(msg),
                 "GATEHOUSE_PUBLIC_URL: expected an http:// or https:// URL of at most 511 "
                 "bytes, got \"%s\"",
                 strcmp(bad[i], "http://x\"y") == 0 ? "http://x\\\"y" : bad[i]);
        env_rejects(assign, msg);
    }
    yaml_rejects("public_url: [a]\n",
                 ":1: public_url: expected an http:// or https:// URL of at most 511 bytes, got "
                 "a sequence");
}

static void enums(void **state)
{
    (void)state;
    struct gh_config c;
    env_accepts("GATEHOUSE_AUTH_ALGORITHM=ES256", &c);
    assert_int_equal(c.algorithm, GH_ALG_ES256);
    env_accepts("GATEHOUSE_AUTH_ALGORITHM=EdDSA", &c);
    assert_int_equal(c.algorithm, GH_ALG_EDDSA);
    env_accepts("GATEHOUSE_AUTH_ALGORITHM=RS256", &c);
    assert_int_equal(c.algorithm, GH_ALG_RS256);
    env_rejects("GATEHOUSE_AUTH_ALGORITHM=HS256",
                "GATEHOUSE_AUTH_ALGORITHM: expected RS256, ES256 or EdDSA, got \"HS256\"");
    env_rejects("GATEHOUSE_AUTH_ALGORITHM=none",
                "GATEHOUSE_AUTH_ALGORITHM: expected RS256, ES256 or EdDSA, got \"none\"");
    env_accepts("GATEHOUSE_PASSWORD_HASH=argon2id", &c);
    assert_int_equal(c.hash, GH_PWHASH_ARGON2ID);
    env_rejects("GATEHOUSE_PASSWORD_HASH=md5",
                "GATEHOUSE_PASSWORD_HASH: expected bcrypt or argon2id, got \"md5\"");
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < 4; i++) {
        char assign[64];
        snprintf(assign, sizeof(assign), "GATEHOUSE_LOG_LEVEL=%s", levels[i]);
        env_accepts(assign, &c);
        assert_int_equal(c.log_level, (int)i);
    }
    env_rejects("GATEHOUSE_LOG_LEVEL=trace",
                "GATEHOUSE_LOG_LEVEL: expected debug, info, warn or error, got \"trace\"");
    env_rejects("GATEHOUSE_LOG_LEVEL=2",
                "GATEHOUSE_LOG_LEVEL: expected debug, info, warn or error, got \"2\"");
}

static void security_bounds(void **state)
{
    (void)state;
    struct gh_config c;
    yaml_rejects("password:\n  min_length: 7\n",
                 ":2: password.min_length: expected an integer from 8 to 1024, got \"7\"");
    yaml_rejects("password:\n  max_length: 64\n",
                 ":2: password.max_length: expected an integer from 128 to 4096, got \"64\"");
    yaml_rejects("password:\n  bcrypt_cost: 3\n",
                 ":2: password.bcrypt_cost: expected an integer from 4 to 31, got \"3\"");
    yaml_rejects("password:\n  bcrypt_cost: 32\n",
                 ":2: password.bcrypt_cost: expected an integer from 4 to 31, got \"32\"");
    env_accepts("GATEHOUSE_PASSWORD_BCRYPT_COST=4", &c);
    assert_int_equal(c.bcrypt_cost, 4);
    env_rejects("GATEHOUSE_AUTH_RSA_BITS=3000", "GATEHOUSE_AUTH_RSA_BITS: expected an integer "
                                                "from 2048 to 8192, a multiple of 1024, got "
                                                "\"3000\"");
    env_rejects("GATEHOUSE_AUTH_RSA_BITS=1024", "GATEHOUSE_AUTH_RSA_BITS: expected an integer "
                                                "from 2048 to 8192, a multiple of 1024, got "
                                                "\"1024\"");
    env_rejects("GATEHOUSE_AUTH_RSA_BITS=9216", "GATEHOUSE_AUTH_RSA_BITS: expected an integer "
                                                "from 2048 to 8192, a multiple of 1024, got "
                                                "\"9216\"");
    env_accepts("GATEHOUSE_AUTH_RSA_BITS=2048", &c);
    assert_int_equal(c.rsa_bits, 2048);
    env_rejects("GATEHOUSE_SERVER_MAX_JSON_DEPTH=1",
                "GATEHOUSE_SERVER_MAX_JSON_DEPTH: expected an integer from 2 to 64, got \"1\"");
    env_rejects("GATEHOUSE_SERVER_MAX_JSON_DEPTH=65",
                "GATEHOUSE_SERVER_MAX_JSON_DEPTH: expected an integer from 2 to 64, got \"65\"");
}

static void file_structure(void **state)
{
    (void)state;
    struct gh_config c, d;
    char err[512];
    gh_config_defaults(&d);
    /* Empty file, comments only, "---" alone, empty section: all the defaults. */
    assert_int_equal(load(&c, "", NO_ENV, err, sizeof(err)), GH_OK);
    assert_memory_equal(&c, &d, sizeof(c));
    assert_int_equal(load(&c, "# nothing\n\n", NO_ENV, err, sizeof(err)), GH_OK);
    assert_memory_equal(&c, &d, sizeof(c));
    assert_int_equal(load(&c, "---\n", NO_ENV, err, sizeof(err)), GH_OK);
    assert_memory_equal(&c, &d, sizeof(c));
    assert_int_equal(load(&c, "auth:\n  # access_ttl: 5m\nlog: {}\n", NO_ENV, err, sizeof(err)),
                     GH_OK);
    assert_memory_equal(&c, &d, sizeof(c));
    /* Flow style is YAML too. */
    assert_int_equal(
        load(&c, "auth: {access_ttl: 1h, audience: \"x\"}\n", NO_ENV, err, sizeof(err)), GH_OK);
    assert_int_equal(c.access_ttl, 3600);

    yaml_rejects(
        "auth:\n  acess_ttl: 5m\n",
        ":2: auth.acess_ttl: unknown key, expected one of issuer, audience, algorithm, "
        "rsa_bits, signing_key, keys_dir, key_rotation, access_ttl, refresh_ttl, clock_leeway, "
        "token_cache_size, registration, api_key_pepper, reauth_window, reauth_automations");
    yaml_rejects("\nbogus: 1\n", ":2: bogus: unknown key, expected one of server, public_url, "
                                 "storage, auth, session, portal, cors, password, login, audit, "
                                 "crypto, "
                                 "metrics, rate_limit, redis, revocation, "
                                 "admin, "
                                 "authz, orgs, forward_auth, alerts, sso, blocks, workers, log");
    yaml_rejects("auth.access_ttl: 5m\n",
                 ":1: auth.access_ttl: unknown key, expected one of "
                 "server, public_url, storage, auth, session, portal, cors, password, "
                 "login, audit, crypto, metrics, rate_limit, redis, revocation, admin, authz, "
                 "orgs, forward_auth, "
                 "alerts, sso, blocks, workers, log");
    yaml_rejects("auth:\n  access_ttl: 5m\n  access_ttl: 6m\n",
                 ":3: auth.access_ttl: duplicate key (first set on line 2)");
    yaml_rejects("auth:\n  access_ttl: 5m\nlog:\n  level: info\nauth:\n  audience: x\n",
                 ":5: auth: duplicate key (first set on line 1)");
    yaml_rejects("public_url: http://a\npublic_url: http://b\n",
                 ":2: public_url: duplicate key (first set on line 1)");
    /* Nested too deep, or a sequence where a scalar belongs. */
    yaml_rejects("auth:\n  access_ttl:\n    value: 5m\n",
                 ":3: auth.access_ttl: expected a duration like 15m, got a mapping");
    yaml_rejects("auth:\n  access_ttl: [5m]\n",
                 ":2: auth.access_ttl: expected a duration like 15m, got a sequence");
    yaml_rejects("auth:\n  - access_ttl\n",
                 ":2: auth: expected a mapping of auth.* keys, got a sequence");
    yaml_rejects("auth: 5m\n", ":1: auth: expected a mapping of auth.* keys, got a scalar");
    yaml_rejects("- auth\n", ":1: expected a mapping of sections at the top level, got a sequence");
    yaml_rejects("just text\n",
                 ":1: expected a mapping of sections at the top level, got a scalar");
    yaml_rejects("auth: {}\n---\nlog: {}\n", ":2: expected a single YAML document");
    yaml_rejects("auth:\n  access_ttl: &t 5m\n  refresh_ttl: *t\n",
                 ":3: YAML aliases are not supported");
    yaml_rejects("auth:\n  [a]: 1\n", ":2: auth: expected a key name, got a sequence");
    yaml_rejects("auth:\n  access_ttl: \"5m\n", ":3: invalid YAML: found unexpected end of stream");
    yaml_rejects("auth:\n  access_ttl:\n", ":2: auth.access_ttl: expected a duration like 15m, "
                                           "got \"\"");

    /* A missing file is an I/O error naming the file. */
    gh_config_defaults(&c);
    assert_int_equal(gh_config_load(&c, "/nonexistent/gatehouse.yaml", NO_ENV, err, sizeof(err)),
                     GH_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/gatehouse.yaml: cannot open"));
}

static void failed_load_changes_nothing(void **state)
{
    (void)state;
    struct gh_config c, d;
    char err[512], path[64];
    gh_config_defaults(&c);
    gh_config_defaults(&d);
    write_file(path, "auth:\n  access_ttl: 5m\n  refresh_ttl: never\n");
    assert_int_equal(gh_config_load(&c, path, NO_ENV, err, sizeof(err)), GH_ERR_INVALID);
    unlink(path);
    assert_memory_equal(&c, &d, sizeof(c));
    char *env[] = {"GATEHOUSE_AUTH_ACCESS_TTL=5m", "GATEHOUSE_LOG_LEVEL=loud", NULL};
    assert_int_equal(gh_config_load(&c, NULL, env, err, sizeof(err)), GH_ERR_INVALID);
    assert_memory_equal(&c, &d, sizeof(c));
    /* A tiny buffer gets a truncated, terminated message. */
    char small[8];
    assert_int_equal(gh_config_load(&c, NULL, env, small, sizeof(small)), GH_ERR_INVALID);
    assert_string_equal(small, "GATEHOU");
}

/*
 * gh_config_finish, then what cli/ makes of the keys whose syntax their modules check
 * (gh_cli_options: rate_limit.routes, authz.*permissions, forward_auth.*, alerts.*) into
 * the application app; the first error, as the serve command reports it.
 */
static struct gh_app app;

static gh_err finish_all(struct gh_config *c, char *err, size_t size)
{
    gh_err e = gh_config_finish(c, err, size);
    if (e != GH_OK)
        return e;
    gh_cli_options_clear(&app);
    app.cfg = *c;
    return gh_cli_options(&app, err, size);
}

/* Loads one variable, finishes, and expects err to start with message (or GH_OK for NULL). */
static void finish_with(const char *assignment, const char *message, struct gh_config *c)
{
    char err[512] = "";
    env_accepts(assignment, c);
    gh_err e = finish_all(c, err, sizeof(err));
    if (message == NULL) {
        if (e != GH_OK)
            fail_msg("%s: %s", assignment, err);
        return;
    }
    assert_int_equal(e, GH_ERR_INVALID);
    if (strncmp(err, message, strlen(message)) != 0)
        fail_msg("%s: \"%s\" does not start with \"%s\"", assignment, err, message);
}

static void rate_limit_and_allowlist_keys(void **state)
{
    (void)state;
    struct gh_config c;
    finish_with("GATEHOUSE_RATE_LIMIT_GLOBAL=100", NULL, &c);
    assert_int_equal(app.rl_nroutes, 0);
    assert_string_equal(c.rl_redis_host, "127.0.0.1");
    assert_int_equal(c.rl_redis_port, 6379);
    assert_int_equal(c.rl_fail_closed, 0);
    assert_int_equal(c.admin_allowed.n, 2); /* any address, v4 and v6 */
    finish_with("GATEHOUSE_RATE_LIMIT_ROUTES=POST /a 2/1m;* /b/* 0/1d", NULL, &c);
    assert_int_equal(app.rl_nroutes, 2);
    assert_int_equal(app.rl_route[1].rate.period, 86400);
    finish_with("GATEHOUSE_RATE_LIMIT_REDIS=[::1]:7000", NULL, &c);
    assert_string_equal(c.rl_redis_host, "::1");
    assert_int_equal(c.rl_redis_port, 7000);
    finish_with("GATEHOUSE_RATE_LIMIT_REDIS_FAILURE=closed", NULL, &c);
    assert_int_equal(c.rl_fail_closed, 1);
    finish_with("GATEHOUSE_RATE_LIMIT_ROUTES=POST /a 2/1m\nGET /b",
                "rate_limit.routes: line 2:", &c);
    finish_with("GATEHOUSE_RATE_LIMIT_BACKEND=memcached", "rate_limit.backend: expected", &c);
    finish_with("GATEHOUSE_RATE_LIMIT_REDIS=redis.local:6379", "rate_limit.redis: expected", &c);
    finish_with("GATEHOUSE_RATE_LIMIT_REDIS_FAILURE=sometimes", "rate_limit.redis_failure:", &c);
    finish_with("GATEHOUSE_ADMIN_ALLOW=10.0.0.1/8", "admin.allow: expected", &c);
    env_rejects("GATEHOUSE_RATE_LIMIT_AUTH=1000001",
                "GATEHOUSE_RATE_LIMIT_AUTH: expected an integer from 0 to 1000000, got "
                "\"1000001\"");
}

static void listen_addresses(void **state)
{
    (void)state;
    struct gh_config c;
    gh_config_defaults(&c);
    assert_int_equal(gh_config_set_listen(&c, "0.0.0.0:80"), GH_OK);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 80);
    assert_int_equal(gh_config_set_listen(&c, "[::1]:8080"), GH_OK);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 8080);
    assert_int_equal(gh_config_set_listen(&c, "[2001:db8::7]:65535"), GH_OK);
    assert_string_equal(c.listen_host, "2001:db8::7");
    assert_int_equal(c.listen_port, 65535);
    assert_int_equal(gh_config_set_listen(&c, "localhost:9000"), GH_OK);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 9000);

    static const char *const bad[] = {
        "127.0.0.1",     "127.0.0.1:",    "127.0.0.1:0",      "127.0.0.1:70000", "127.0.0.1:65536",
        ":8080",         "[::1]",         "[::1]8080",        "::1:8080",        "[]:8080",
        "[1.2.3.4]:80",  "1.2.3:80",      "256.0.0.1:80",     "example.com:80",  "127.0.0.1:-1",
        "127.0.0.1:+80", "127.0.0.1:80x", "127.0.0.1:000080", "[::1:8080",       "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (gh_config_set_listen(&c, bad[i]) != GH_ERR_INVALID)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    /* A rejected value leaves the old one. */
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 9000);

    env_rejects("GATEHOUSE_SERVER_LISTEN=127.0.0.1:0",
                "GATEHOUSE_SERVER_LISTEN: expected IPV4:PORT or [IPV6]:PORT with a port from 1 "
                "to 65535, got \"127.0.0.1:0\"");
    yaml_rejects("server:\n  listen: 127.0.0.1\n",
                 ":2: server.listen: expected IPV4:PORT or [IPV6]:PORT with a port from 1 to "
                 "65535, got \"127.0.0.1\"");
}

static void finish_derives(void **state)
{
    (void)state;
    struct gh_config c;
    char err[512];
    gh_config_defaults(&c);
    assert_int_equal(gh_config_finish(&c, err, sizeof(err)), GH_OK);
    assert_string_equal(c.database, "./var/gatehouse.db");
    assert_string_equal(c.signing_key, "./var/keys/signing.pem");
    assert_string_equal(c.keys_dir, "./var/keys");
    assert_string_equal(c.public_url, "http://127.0.0.1:8080");
    assert_string_equal(c.issuer, "http://127.0.0.1:8080");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    assert_int_equal(c.http_threads, cores);
    assert_int_equal(c.hash_threads, cores / 2 > 0 ? cores / 2 : 1);
    /* A second finish changes nothing. */
    struct gh_config d = c;
    assert_int_equal(gh_config_finish(&c, err, sizeof(err)), GH_OK);
    assert_memory_equal(&c, &d, sizeof(c));

    /* data_dir as the command line sets it, IPv6 listen, trailing slash. */
    gh_config_defaults(&c);
    memcpy(c.data_dir, "/data/", sizeof("/data/"));
    assert_int_equal(gh_config_set_listen(&c, "[::1]:9999"), GH_OK);
    assert_int_equal(gh_config_finish(&c, err, sizeof(err)), GH_OK);
    assert_string_equal(c.database, "/data/gatehouse.db");
    assert_string_equal(c.signing_key, "/data/keys/signing.pem");
    assert_string_equal(c.keys_dir, "/data/keys");
    assert_string_equal(c.public_url, "http://[::1]:9999");
    assert_string_equal(c.issuer, "http://[::1]:9999");

    /* public_url set: issuer follows it (without its trailing slash); issuer set: kept. */
    char *env1[] = {"GATEHOUSE_PUBLIC_URL=https://id.example.com/", "GATEHOUSE_SERVER_THREADS=7",
                    "GATEHOUSE_WORKERS_HASH_THREADS=9", NULL};
    assert_int_equal(load(&c, NULL, env1, err, sizeof(err)), GH_OK);
    assert_int_equal(gh_config_finish(&c, err, sizeof(err)), GH_OK);
    assert_string_equal(c.public_url, "https://id.example.com");
    assert_string_equal(c.issuer, "https://id.example.com");
    assert_int_equal(c.http_threads, 7);
    assert_int_equal(c.hash_threads, 9);
    char *env2[] = {"GATEHOUSE_AUTH_ISSUER=urn:gatehouse", "GATEHOUSE_STORAGE_DATABASE=/x.db",
                    "GATEHOUSE_AUTH_SIGNING_KEY=/k.pem", NULL};
    assert_int_equal(load(&c, NULL, env2, err, sizeof(err)), GH_OK);
    assert_int_equal(gh_config_finish(&c, err, sizeof(err)), GH_OK);
    assert_string_equal(c.public_url, "http://127.0.0.1:8080");
    assert_string_equal(c.issuer, "urn:gatehouse");
    assert_string_equal(c.database, "/x.db");
    assert_string_equal(c.signing_key, "/k.pem");
    char *env3[] = {"GATEHOUSE_AUTH_KEYS_DIR=/srv/keys", "GATEHOUSE_AUTH_KEY_ROTATION=30d", NULL};
    assert_int_equal(load(&c, NULL, env3, err, sizeof(err)), GH_OK);
    assert_int_equal(gh_config_finish(&c, err, sizeof(err)), GH_OK);
    assert_string_equal(c.keys_dir, "/srv/keys");
    assert_int_equal(c.key_rotation, 30 * 86400);
}

static void finish_cross_checks(void **state)
{
    (void)state;
    struct gh_config c, d;
    char err[512];
    char *env1[] = {"GATEHOUSE_PASSWORD_MIN_LENGTH=200", NULL};
    assert_int_equal(load(&c, NULL, env1, err, sizeof(err)), GH_OK);
    d = c;
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(
        err, "password.max_length: expected at least password.min_length (200), got 128");
    assert_memory_equal(&c, &d, sizeof(c)); /* unchanged on failure */
    char *env2[] = {"GATEHOUSE_AUTH_ACCESS_TTL=2h", "GATEHOUSE_AUTH_REFRESH_TTL=1h", NULL};
    assert_int_equal(load(&c, NULL, env2, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err, "auth.refresh_ttl: expected at least auth.access_ttl (7200s), got "
                             "3600s");
    /* Named automations: a name and an API key id per line, nothing more. */
    char *auto1[] = {
        "GATEHOUSE_AUTH_REAUTH_AUTOMATIONS=deploy 0190f1a2-0000-7000-8000-00000000000a\n"
        "cleanup 0190f1a2-0000-7000-8000-00000000000b extra",
        NULL};
    assert_int_equal(load(&c, NULL, auto1, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err, "auth.reauth_automations: line 2: expected NAME API_KEY_ID");
    char *auto2[] = {"GATEHOUSE_AUTH_REAUTH_AUTOMATIONS=deploy", NULL};
    assert_int_equal(load(&c, NULL, auto2, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    char *auto3[] = {
        "GATEHOUSE_AUTH_REAUTH_AUTOMATIONS=deploy 0190f1a2-0000-7000-8000-00000000000a",
        "GATEHOUSE_AUTH_REAUTH_WINDOW=5m", NULL};
    assert_int_equal(load(&c, NULL, auto3, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_OK);
    assert_int_equal(c.reauth_window, 300);
    /* Alert rules and webhooks are parsed at start; a webhook URL is never shown. */
    char *alert1[] = {"GATEHOUSE_ALERTS_WEBHOOKS=ops slack https://hooks.example.com/T/B/SECRET",
                      "GATEHOUSE_ALERTS_RULES=a LOGIN_FAILED by ip >= 10 in 5m -> ops\n"
                      "b LOGIN_FAILED by ip >= 10 5m -> ops",
                      NULL};
    assert_int_equal(load(&c, NULL, alert1, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(
        err, "alerts.rules: rule 2 (\"b LOGIN_FAILED by ip >= 10 5m -> ops\"): "
             "expected \"-> WEBHOOK\" after N (or after \"in WINDOW\" or \"severity S\")");
    char *alert2[] = {"GATEHOUSE_ALERTS_WEBHOOKS=ops slak https://hooks.example.com/T/B/SECRET",
                      NULL};
    assert_int_equal(load(&c, NULL, alert2, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err,
                        "alerts.webhooks: webhook 1 (\"ops\"): expected FORMAT slack, discord, "
                        "json or pagerduty after NAME");
    char *alert3[] = {
        "GATEHOUSE_ALERTS_WEBHOOKS=ops slack https://hooks.example.com/T/B/SECRET\x01", NULL};
    assert_int_equal(load(&c, NULL, alert3, err, sizeof(err)), GH_ERR_INVALID);
    assert_null(strstr(err, "SECRET"));
    assert_non_null(strstr(err, "GATEHOUSE_ALERTS_WEBHOOKS: expected"));
    yaml_rejects("alerts:\n  webhooks: \"ops slack https://h.example.com/SECRET\\x01\"\n",
                 ":2: alerts.webhooks: expected a string or a list of strings, at most 16383 "
                 "bytes in all, got \"(hidden: it may hold a secret)\"");
    /* Key rotation: off, or no faster than a retiring key lives, and never below 10s. */
    char *env4[] = {"GATEHOUSE_AUTH_KEY_ROTATION=5m", NULL};
    assert_int_equal(load(&c, NULL, env4, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err, "auth.key_rotation: expected 0 (off) or at least 10s and at least "
                             "auth.access_ttl + auth.clock_leeway (930s), got 300s");
    char *env5[] = {"GATEHOUSE_AUTH_KEY_ROTATION=9s", "GATEHOUSE_AUTH_ACCESS_TTL=10s",
                    "GATEHOUSE_AUTH_CLOCK_LEEWAY=0s", NULL};
    assert_int_equal(load(&c, NULL, env5, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    /* Declared permissions are concrete; a role's may use wildcards and ":own". */
    char *env7[] = {"GATEHOUSE_AUTHZ_PERMISSIONS=file:read doc:*", NULL};
    assert_int_equal(load(&c, NULL, env7, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err, "authz.permissions: expected permissions resource:action without "
                             "wildcards separated by spaces, got \"doc:*\"");
    char *env8[] = {"GATEHOUSE_AUTHZ_PERMISSIONS=file:read:own", NULL};
    assert_int_equal(load(&c, NULL, env8, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    char *env9[] = {"GATEHOUSE_AUTHZ_MEMBER_PERMISSIONS=file:* file:delete:own  org:read", NULL};
    assert_int_equal(load(&c, NULL, env9, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_OK);
    char *env10[] = {"GATEHOUSE_AUTHZ_MEMBER_PERMISSIONS=File:read", NULL};
    assert_int_equal(load(&c, NULL, env10, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    /* The member role may only hold what is declared. */
    char *env11[] = {"GATEHOUSE_AUTHZ_MEMBER_PERMISSIONS=file:read billing:read", NULL};
    assert_int_equal(load(&c, NULL, env11, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err, "authz.member_permissions: expected permissions resource:action "
                             "declared in authz.permissions or by Gatehouse separated by spaces, "
                             "got \"billing:read\"");
    char *env12[] = {"GATEHOUSE_AUTHZ_PERMISSIONS=billing:read",
                     "GATEHOUSE_AUTHZ_MEMBER_PERMISSIONS=billing:* org:read", NULL};
    assert_int_equal(load(&c, NULL, env12, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_OK);
    char *env6[] = {"GATEHOUSE_AUTH_KEY_ROTATION=10s", "GATEHOUSE_AUTH_ACCESS_TTL=10s",
                    "GATEHOUSE_AUTH_CLOCK_LEEWAY=0s", NULL};
    assert_int_equal(load(&c, NULL, env6, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_OK);
    assert_int_equal(c.key_rotation, 10);
    /* An issuer derived from a public_url too long for it. */
    char url[600], assign[640];
    memcpy(url, "https://", 8);
    memset(url + 8, 'a', 300);
    url[308] = '\0';
    snprintf(assign, sizeof(assign), "GATEHOUSE_PUBLIC_URL=%s", url);
    char *env3[] = {assign, NULL};
    assert_int_equal(load(&c, NULL, env3, err, sizeof(err)), GH_OK);
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err, "auth.issuer: public_url is longer than 255 bytes, so auth.issuer "
                             "must be set");
    /* A data_dir so long that the derived database path does not fit. */
    gh_config_defaults(&c);
    memset(c.data_dir, 'd', sizeof(c.data_dir) - 1);
    c.data_dir[sizeof(c.data_dir) - 1] = '\0';
    assert_int_equal(finish_all(&c, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err, "storage.database: <storage.data_dir>/gatehouse.db is too long");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(full_file),
        cmocka_unit_test(example_file_is_the_defaults),
        cmocka_unit_test(env_overrides_file),
        cmocka_unit_test(unknown_env_ignored),
        cmocka_unit_test(durations),
        cmocka_unit_test(sizes),
        cmocka_unit_test(booleans),
        cmocka_unit_test(unsigneds),
        cmocka_unit_test(strings),
        cmocka_unit_test(urls),
        cmocka_unit_test(enums),
        cmocka_unit_test(security_bounds),
        cmocka_unit_test(file_structure),
        cmocka_unit_test(failed_load_changes_nothing),
        cmocka_unit_test(listen_addresses),
        cmocka_unit_test(rate_limit_and_allowlist_keys),
        cmocka_unit_test(finish_derives),
        cmocka_unit_test(finish_cross_checks),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    gh_cli_options_clear(&app);
    return failed;
}

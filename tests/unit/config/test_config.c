/*
 * Unit tests for config/: defaults, the YAML file, GATEHOUSE_* environment, every value
 * type with its exact error text and bounds (what gh_config_finish derives and checks
 * across keys: test_config_finish.c).
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

#include "config_fixture.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

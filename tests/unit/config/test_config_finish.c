/*
 * Unit tests for config/'s gh_config_finish: listen addresses, the values it derives and
 * its checks across keys, then what cli/ makes of the keys whose syntax their modules check
 * (test_config.c covers loading).
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

#include "cli/cli.h"
#include "config/config.h"
#include "config_fixture.h"

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
        cmocka_unit_test(listen_addresses),
        cmocka_unit_test(rate_limit_and_allowlist_keys),
        cmocka_unit_test(finish_derives),
        cmocka_unit_test(finish_cross_checks),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    gh_cli_options_clear(&app);
    return failed;
}

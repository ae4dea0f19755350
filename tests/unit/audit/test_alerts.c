/* Unit tests for audit/alerts: the rule syntax, window counting, the queue and payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "audit/alerts.h"
#include "audit/webhook.h"

static const char hooks[] =
    "ops slack https://hooks.example.com/services/T0/B0/SECRET\n"
    "disc discord https://discord.example.com/api/webhooks/1/tok\n"
    "raw json http://127.0.0.1:9/hook\n"
    "pd pagerduty https://events.example.com/v2/enqueue R0UTINGKEY_SECRET\n";

static void parse_ok(const char *rules, struct gh_alert_rules *out)
{
    char err[256] = "";
    gh_err e = gh_alert_rules_parse(rules, hooks, out, err, sizeof(err));
    if (e != GH_OK)
        fail_msg("%s: %s", rules, err);
}

static void parse_bad(const char *rules, const char *webhooks, const char *want)
{
    struct gh_alert_rules r;
    char err[256] = "";
    assert_int_equal(gh_alert_rules_parse(rules, webhooks, &r, err, sizeof(err)), GH_ERR_INVALID);
    if (strstr(err, want) == NULL)
        fail_msg("%s: got \"%s\", want \"%s\"", rules, err, want);
}

static void rule_syntax(void **state)
{
    (void)state;
    struct gh_alert_rules r;
    parse_ok("# brute force\n"
             "brute_ip LOGIN_FAILED by ip >= 10 in 5m -> ops\n"
             "\n"
             "brute_user LOGIN_FAILED by user >= 5 in 5m -> ops,disc ; "
             "denied_spike PERMISSION_DENIED >= 50 in 1m -> raw\n"
             "admin ROLE_CHANGE,MEMBERSHIP_CHANGE,ORG_*,USER_* >= 1 -> raw\n"
             "  redis\tRATE_LIMIT_BACKEND_DOWN >= 1 in 10m -> ops  \n"
             "all * by org >= 1000000 in 7d -> disc\n",
             &r);
    assert_int_equal(r.nrules, 6);
    assert_int_equal(r.nwebhooks, 4);
    const struct gh_alert_rule *x = &r.rules[0];
    assert_string_equal(x->name, "brute_ip");
    assert_int_equal(x->nactions, 1);
    assert_int_equal(x->group, GH_ALERT_BY_IP);
    assert_int_equal(x->threshold, 10);
    assert_int_equal(x->window, 300);
    assert_int_equal(x->ntargets, 1);
    assert_int_equal(x->targets[0], 0);
    x = &r.rules[1];
    assert_int_equal(x->group, GH_ALERT_BY_USER);
    assert_int_equal(x->ntargets, 2);
    assert_int_equal(x->targets[1], 1);
    x = &r.rules[2];
    assert_string_equal(x->name, "denied_spike");
    assert_int_equal(x->group, GH_ALERT_BY_NONE);
    assert_int_equal(x->window, 60);
    x = &r.rules[3];
    assert_int_equal(x->nactions, 4);
    assert_int_equal(x->window, 0);
    assert_true(gh_alert_rule_matches(x, "ORG_CREATE"));
    assert_true(gh_alert_rule_matches(x, "USER_DISABLE"));
    assert_true(gh_alert_rule_matches(x, "ROLE_CHANGE"));
    assert_false(gh_alert_rule_matches(x, "ROLE_CHANGED"));
    assert_false(gh_alert_rule_matches(x, "ORG"));
    assert_false(gh_alert_rule_matches(x, "LOGIN"));
    assert_true(gh_alert_rule_matches(&r.rules[4], "RATE_LIMIT_BACKEND_DOWN"));
    assert_int_equal(r.rules[4].window, 600);
    assert_true(gh_alert_rule_matches(&r.rules[5], "ANYTHING"));
    assert_int_equal(r.rules[5].window, 7 * 86400);
    assert_string_equal(r.webhooks[0].url, "https://hooks.example.com/services/T0/B0/SECRET");
    assert_int_equal(r.webhooks[1].format, GH_WEBHOOK_DISCORD);
    assert_int_equal(r.webhooks[2].format, GH_WEBHOOK_JSON);
    gh_alert_rules_clear(&r);
    assert_null(r.rules);
    gh_alert_rules_clear(NULL);

    parse_ok("", &r);
    assert_int_equal(r.nrules, 0);
    gh_alert_rules_clear(&r);
}

static void rule_errors(void **state)
{
    (void)state;
    parse_bad("ok LOGIN >= 1 -> ops\nBad LOGIN >= 1 -> ops", hooks, "rule 2 (\"Bad LOGIN");
    parse_bad("a LOGIN >= 1 -> ops\na LOGIN >= 1 -> ops", hooks,
              "rule 2 (\"a LOGIN >= 1 -> ops\"): another rule");
    parse_bad("x login_failed >= 1 -> ops", hooks,
              "rule 1 (\"x login_failed >= 1 -> ops\"): expected ACTIONS");
    parse_bad("x LOGIN,,LOGOUT >= 1 -> ops", hooks, "expected ACTIONS");
    parse_bad("x LOGIN, >= 1 -> ops", hooks, "expected ACTIONS");
    parse_bad("x *,LOGIN >= 1 -> ops", hooks, "expected ACTIONS");
    parse_bad("x LO*IN >= 1 -> ops", hooks, "expected ACTIONS");
    parse_bad("x LOGIN by host >= 1 -> ops", hooks, "expected ip, user or org");
    parse_bad("x LOGIN by ip > 1 -> ops", hooks, "expected \">= N\"");
    parse_bad("x LOGIN >= 0 -> ops", hooks, "expected N");
    parse_bad("x LOGIN >= 010 in 1m -> ops", hooks, "expected N");
    parse_bad("x LOGIN >= 1000001 in 1m -> ops", hooks, "expected N");
    parse_bad("x LOGIN >= -1 -> ops", hooks, "expected N");
    parse_bad("x LOGIN >= 5 -> ops", hooks, "needs a window");
    parse_bad("x LOGIN >= 5 in 5 -> ops", hooks, "expected a WINDOW");
    parse_bad("x LOGIN >= 5 in 0m -> ops", hooks, "expected a WINDOW");
    parse_bad("x LOGIN >= 5 in 8d -> ops", hooks, "expected a WINDOW");
    parse_bad("x LOGIN >= 5 in 5y -> ops", hooks, "expected a WINDOW");
    parse_bad("x LOGIN >= 5 in 5m ops", hooks, "expected \"-> WEBHOOK\"");
    parse_bad("x LOGIN >= 5 in 5m ->", hooks, "expected WEBHOOK");
    parse_bad("x LOGIN >= 5 in 5m -> pager", hooks, "not one of alerts.webhooks");
    parse_bad("x LOGIN >= 5 in 5m -> ops,ops", hooks, "named twice");
    parse_bad("x LOGIN >= 5 in 5m -> ops, disc", hooks, "expected WEBHOOK");
    parse_bad("x LOGIN >= 5 in 5m -> ops extra", hooks, "too many words");
    parse_bad("x LOGIN >= 5 in 5m by ip -> ops", hooks, "expected \"-> WEBHOOK\"");
    parse_bad("x LOGIN >= 1 -> ops", "", "not one of alerts.webhooks");
    parse_bad("averyveryveryveryveryverylongname1 LOGIN >= 1 -> ops", hooks, "expected a NAME");
    char many[4096] = "";
    size_t at = 0;
    for (int i = 0; i < 65; i++)
        at += (size_t)snprintf(many + at, sizeof(many) - at, "r%d LOGIN >= 1 -> ops\n", i);
    parse_bad(many, hooks, "rule 65 (\"r64 LOGIN >= 1 -> ops\"): too many rules");
}

static void webhook_errors(void **state)
{
    (void)state;
#define SECRET_URL "https://hooks.example.com/services/T0/B0/SECRET"
    struct gh_alert_rules r;
    char err[256];
    static const char *const bad[] = {
        "ops teams " SECRET_URL,
        "ops slack ftp://x/SECRET",
        "ops slack " SECRET_URL " more",
        "ops slack",
        "ops slack http:///x/SECRET",
        SECRET_URL " slack ops",
        "ops slack " SECRET_URL "\nops json " SECRET_URL,
        "ops slack " SECRET_URL "\x01",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *text = bad[i];
        memset(err, 0, sizeof(err));
        assert_int_equal(gh_alert_rules_parse("", text, &r, err, sizeof(err)), GH_ERR_INVALID);
        assert_non_null(strstr(err, "webhook "));
        /* The URL, a secret, never shows in the message. */
        assert_null(strstr(err, "SECRET"));
        assert_null(strstr(err, "hooks.example.com"));
    }
    assert_int_equal(gh_alert_rules_parse("", "ops teams https://x/SECRET", &r, err, sizeof(err)),
                     GH_ERR_INVALID);
    assert_string_equal(err, "webhook 1 (\"ops\"): expected FORMAT slack, discord, json or "
                             "pagerduty after NAME");
    /* A PagerDuty hook needs a routing key of the key alphabet; it is never quoted. */
    static const char *const bad_pd[] = {
        "pd pagerduty " SECRET_URL,
        "pd pagerduty " SECRET_URL " SECRET/KEY",
        "pd pagerduty " SECRET_URL " SECRETKEY more",
        "pd pagerduty " SECRET_URL " SECRET" /* 65 characters */
        "01234567890123456789012345678901234567890123456789012345678",
    };
    for (size_t i = 0; i < sizeof(bad_pd) / sizeof(bad_pd[0]); i++) {
        memset(err, 0, sizeof(err));
        assert_int_equal(gh_alert_rules_parse("", bad_pd[i], &r, err, sizeof(err)), GH_ERR_INVALID);
        assert_non_null(strstr(err, "webhook 1 (\"pd\")"));
        assert_null(strstr(err, "SECRET"));
    }
}

static void severity_syntax(void **state)
{
    (void)state;
    struct gh_alert_rules r;
    parse_ok("a LOGIN >= 1 -> pd\n"
             "b LOGIN by ip >= 5 in 5m severity critical -> pd,ops\n"
             "c LOGIN >= 1 severity info -> pd\n",
             &r);
    assert_int_equal(r.rules[0].severity, GH_SEVERITY_WARNING);
    assert_int_equal(r.rules[1].severity, GH_SEVERITY_CRITICAL);
    assert_int_equal(r.rules[2].severity, GH_SEVERITY_INFO);
    assert_int_equal(r.webhooks[3].format, GH_WEBHOOK_PAGERDUTY);
    assert_string_equal(r.webhooks[3].routing_key, "R0UTINGKEY_SECRET");
    gh_alert_rules_clear(&r);
    parse_bad("x LOGIN >= 1 severity high -> pd", hooks, "expected critical, error, warning");
    parse_bad("x LOGIN >= 1 severity -> pd", hooks, "expected critical, error, warning");
    parse_bad("x LOGIN >= 1 -> pd severity info", hooks, "too many words");
}

static struct gh_alerts *make(const char *rules, size_t queue)
{
    struct gh_alert_rules r;
    parse_ok(rules, &r);
    const struct gh_alerts_opts opts = {
        .max_groups = 256, .queue = queue, .timeout_ms = 1000, .tries = 1, .retry_ms = 1000};
    struct gh_alerts *al = NULL;
    assert_int_equal(gh_alerts_new(&r, &opts, &al), GH_OK);
    assert_null(r.rules);
    return al;
}

static void event(struct gh_alerts *al, const char *action, const char *user, const char *ip,
                  int64_t ts)
{
    struct gh_audit_event ev = {.ts = ts,
                                .action = action,
                                .username = user,
                                .ip_address = ip,
                                .org_id = "org-1",
                                .status = 401};
    gh_alerts_observe(al, &ev);
}

static size_t drain(struct gh_alerts *al, struct gh_alert *last)
{
    size_t n = 0;
    struct gh_alert a;
    while (gh_alerts_take(al, &a) == GH_OK) {
        n++;
        if (last != NULL)
            *last = a;
    }
    return n;
}

static void fires_once_per_window(void **state)
{
    (void)state;
    struct gh_alerts *al = make("brute LOGIN_FAILED by ip >= 10 in 5m -> ops", 16);
    int64_t t0 = 1700000000;
    for (int i = 0; i < 9; i++)
        event(al, "LOGIN_FAILED", "u", "10.0.0.1", t0 + i);
    event(al, "LOGIN", "u", "10.0.0.1", t0 + 9);        /* another action: not counted */
    event(al, "LOGIN_FAILED", "u", "10.0.0.2", t0 + 9); /* another group */
    assert_int_equal(drain(al, NULL), 0);
    struct gh_alert a;
    event(al, "LOGIN_FAILED", "last", "10.0.0.1", t0 + 10);
    assert_int_equal(drain(al, &a), 1);
    assert_string_equal(a.rule->name, "brute");
    assert_string_equal(a.webhook->name, "ops");
    assert_string_equal(a.group, "10.0.0.1");
    assert_int_equal(a.count, 10);
    assert_int_equal(a.first.ts, t0);
    assert_int_equal(a.last.ts, t0 + 10);
    assert_string_equal(a.last.user, "last");
    assert_string_equal(a.last.org, "org-1");
    /* Quiet for the window: 50 more events alert nothing. */
    for (int i = 0; i < 50; i++)
        event(al, "LOGIN_FAILED", "u", "10.0.0.1", t0 + 11 + i);
    assert_int_equal(drain(al, NULL), 0);
    /* After the window, it counts again from zero. */
    for (int i = 0; i < 9; i++)
        event(al, "LOGIN_FAILED", "u", "10.0.0.1", t0 + 311 + i);
    assert_int_equal(drain(al, NULL), 0);
    event(al, "LOGIN_FAILED", "u", "10.0.0.1", t0 + 320);
    assert_int_equal(drain(al, &a), 1);
    assert_int_equal(a.first.ts, t0 + 311);
    gh_alerts_free(al, 0);
}

static void window_slides(void **state)
{
    (void)state;
    struct gh_alerts *al = make("spike PERMISSION_DENIED >= 5 in 100s -> raw", 16);
    int64_t t0 = 1700000000;
    /* Four events, then one after they left the window: no alert. */
    for (int i = 0; i < 4; i++)
        event(al, "PERMISSION_DENIED", NULL, NULL, t0 + i);
    event(al, "PERMISSION_DENIED", NULL, NULL, t0 + 200);
    assert_int_equal(drain(al, NULL), 0);
    /* Spread over 90 s (within the window): an alert. */
    for (int i = 1; i < 4; i++)
        event(al, "PERMISSION_DENIED", NULL, NULL, t0 + 200 + i * 30);
    assert_int_equal(drain(al, NULL), 0);
    event(al, "PERMISSION_DENIED", NULL, NULL, t0 + 290);
    struct gh_alert a;
    assert_int_equal(drain(al, &a), 1);
    assert_int_equal(a.count, 5);
    assert_string_equal(a.group, "");
    gh_alerts_free(al, 0);
}

static void groups_and_every_event(void **state)
{
    (void)state;
    struct gh_alerts *al = make("u LOGIN_FAILED by user >= 2 in 1m -> disc\n"
                                "o LOGIN_FAILED by org >= 3 in 1m -> disc\n"
                                "keys API_KEY_* >= 1 -> raw,ops",
                                64);
    int64_t t = 1700000000;
    event(al, "LOGIN_FAILED", NULL, "10.0.0.1", t); /* no user: rule u skips it */
    event(al, "LOGIN_FAILED", "alice", "10.0.0.1", t);
    event(al, "LOGIN_FAILED", "bob", "10.0.0.1", t);
    struct gh_alert a;
    assert_int_equal(drain(al, &a), 1); /* org-1 reached 3 */
    assert_string_equal(a.rule->name, "o");
    assert_string_equal(a.group, "org-1");
    event(al, "LOGIN_FAILED", "alice", "10.0.0.2", t + 1);
    assert_int_equal(drain(al, &a), 1);
    assert_string_equal(a.rule->name, "u");
    assert_string_equal(a.group, "alice");
    assert_string_equal(a.first.ip, "10.0.0.1");
    assert_string_equal(a.last.ip, "10.0.0.2");
    /* Without a window every event alerts, once per webhook. */
    event(al, "API_KEY_CREATE", "admin", "127.0.0.1", t);
    event(al, "API_KEY_REVOKE", "admin", "127.0.0.1", t);
    assert_int_equal(drain(al, NULL), 4);
    gh_alerts_free(al, 0);
}

struct blocked {
    int n;
    char ip[48];
    uint32_t seconds;
    char rule[40];
};

static void record_block(void *arg, const char *ip, uint32_t seconds, const char *rule)
{
    struct blocked *b = arg;
    b->n++;
    snprintf(b->ip, sizeof(b->ip), "%s", ip);
    snprintf(b->rule, sizeof(b->rule), "%s", rule);
    b->seconds = seconds;
}

/* "-> block DURATION" asks for a block of the address that fired, once per firing. */
static void block_action(void **state)
{
    (void)state;
    struct gh_alert_rules r;
    parse_ok("b LOGIN_FAILED by ip >= 2 in 1m -> block 1h\n"
             "c LOGIN_FAILED by ip >= 3 in 1m -> ops,disc block 90s\n",
             &r);
    assert_int_equal(r.rules[0].block, 3600);
    assert_int_equal(r.rules[0].ntargets, 0);
    assert_int_equal(r.rules[1].block, 90);
    assert_int_equal(r.rules[1].ntargets, 2);
    struct blocked got = {0};
    const struct gh_alerts_opts opts = {.max_groups = 256,
                                        .queue = 8,
                                        .timeout_ms = 1000,
                                        .tries = 1,
                                        .retry_ms = 1000,
                                        .block = record_block,
                                        .block_arg = &got};
    struct gh_alerts *al = NULL;
    assert_int_equal(gh_alerts_new(&r, &opts, &al), GH_OK);
    int64_t t = 1700000000;
    event(al, "LOGIN_FAILED", "x", "192.0.2.1", t);
    assert_int_equal(got.n, 0);
    event(al, "LOGIN_FAILED", "x", "192.0.2.1", t);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.ip, "192.0.2.1");
    assert_string_equal(got.rule, "b");
    assert_int_equal(got.seconds, 3600);
    event(al, "LOGIN_FAILED", "x", "192.0.2.1", t);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.rule, "c");
    assert_int_equal(drain(al, NULL), 2); /* c's two webhooks; b has none */
    gh_alerts_free(al, 0);

    parse_bad("x LOGIN >= 1 -> block 1h", hooks, "needs a rule \"by ip\"");
    parse_bad("x LOGIN by user >= 1 -> ops block 1h", hooks, "needs a rule \"by ip\"");
    parse_bad("x LOGIN by ip >= 1 -> block 8d", hooks, "expected a DURATION");
    parse_bad("x LOGIN by ip >= 1 -> block soon", hooks, "expected a DURATION");
    parse_bad("x LOGIN by ip >= 1 -> ops block", hooks, "too many words");
    parse_bad("x LOGIN by ip >= 1 -> ops blocks 1h", hooks, "too many words");
    parse_bad("x LOGIN by ip >= 1 -> block 1h ops", hooks, "too many words");
}

static void queue_drops_when_full(void **state)
{
    (void)state;
    struct gh_alerts *al = make("any * >= 1 -> raw", 3);
    for (int i = 0; i < 10; i++)
        event(al, "LOGIN", "u", "::1", 1700000000 + i);
    struct gh_buf b;
    gh_buf_init(&b, 65536);
    assert_int_equal(gh_alerts_render(al, &b), GH_OK);
    assert_non_null(strstr(b.ptr, "gatehouse_alerts_fired_total{rule=\"any\"} 10\n"));
    assert_non_null(strstr(b.ptr, "gatehouse_alerts_dropped_total 7\n"));
    assert_non_null(strstr(b.ptr, "gatehouse_alerts_sent_total{webhook=\"ops\"} 0\n"));
    assert_non_null(strstr(b.ptr, "# TYPE gatehouse_alerts_failed_total counter\n"));
    assert_null(strstr(b.ptr, "SECRET"));
    gh_buf_clear(&b);
    assert_int_equal(drain(al, NULL), 3);
    gh_alerts_free(al, 0);
    gh_alerts_free(NULL, 0);
}

static void bounded_table(void **state)
{
    (void)state;
    /* 100000 distinct addresses: the table evicts, the one being attacked still alerts. */
    struct gh_alerts *al = make("brute LOGIN_FAILED by ip >= 3 in 1h -> ops", 4);
    char ip[32];
    int64_t t = 1700000000;
    for (int i = 0; i < 100000; i++) {
        (void)snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        event(al, "LOGIN_FAILED", NULL, ip, t);
    }
    assert_int_equal(drain(al, NULL), 0);
    for (int i = 0; i < 3; i++)
        event(al, "LOGIN_FAILED", NULL, "192.0.2.1", t + 1);
    assert_int_equal(drain(al, NULL), 1);
    gh_alerts_free(al, 0);
}

static struct gh_alert sample(struct gh_alert_rules *r, size_t hook)
{
    struct gh_alert a;
    memset(&a, 0, sizeof(a));
    a.rule = &r->rules[0];
    a.webhook = &r->webhooks[hook];
    snprintf(a.group, sizeof(a.group), "<!channel> & @everyone");
    a.count = 10;
    a.first.ts = 1700000000;
    a.last.ts = 1700000100;
    snprintf(a.first.action, sizeof(a.first.action), "LOGIN_FAILED");
    snprintf(a.last.action, sizeof(a.last.action), "LOGIN_FAILED");
    snprintf(a.last.user, sizeof(a.last.user), "<!channel> & @everyone");
    snprintf(a.last.ip, sizeof(a.last.ip), "10.0.0.1");
    a.last.status = 401;
    return a;
}

static json_t *payload(const struct gh_alert *a)
{
    char *s = NULL;
    assert_int_equal(gh_webhook_payload(a, &s), GH_OK);
    json_error_t e;
    json_t *o = json_loads(s, 0, &e);
    assert_non_null(o);
    assert_null(strstr(s, "example.com")); /* no webhook URL (a secret) in any payload */
    free(s);
    return o;
}

static void payloads(void **state)
{
    (void)state;
    struct gh_alert_rules r;
    parse_ok("brute LOGIN_FAILED by user >= 10 in 5m -> ops,disc,raw", &r);

    struct gh_alert a = sample(&r, 0);
    json_t *o = payload(&a);
    const char *text = json_string_value(json_object_get(o, "text"));
    assert_non_null(text);
    assert_int_equal(json_object_size(o), 1);
    assert_null(strchr(text, '<'));
    assert_null(strstr(text, " & "));
    assert_non_null(strstr(text, "&lt;!channel&gt; &amp; @everyone"));
    assert_non_null(strstr(text, "brute: 10 events for user"));
    assert_non_null(strstr(text, "within 5m"));
    json_decref(o);

    a = sample(&r, 1);
    o = payload(&a);
    assert_non_null(strstr(json_string_value(json_object_get(o, "content")), "<!channel>"));
    json_t *parse = json_object_get(json_object_get(o, "allowed_mentions"), "parse");
    assert_true(json_is_array(parse));
    assert_int_equal(json_array_size(parse), 0);
    json_decref(o);

    a = sample(&r, 2);
    o = payload(&a);
    assert_string_equal(json_string_value(json_object_get(o, "rule")), "brute");
    assert_string_equal(json_string_value(json_object_get(o, "webhook")), "raw");
    assert_string_equal(json_string_value(json_object_get(o, "action")), "LOGIN_FAILED");
    assert_int_equal(json_integer_value(json_object_get(o, "count")), 10);
    assert_int_equal(json_integer_value(json_object_get(o, "threshold")), 10);
    assert_int_equal(json_integer_value(json_object_get(o, "window_seconds")), 300);
    json_t *g = json_object_get(o, "group");
    assert_string_equal(json_string_value(json_object_get(g, "by")), "user");
    json_t *first = json_object_get(o, "first"), *last = json_object_get(o, "last");
    assert_string_equal(json_string_value(json_object_get(first, "time")), "2023-11-14T22:13:20Z");
    assert_true(json_is_null(json_object_get(first, "user")));
    assert_string_equal(json_string_value(json_object_get(last, "ip")), "10.0.0.1");
    assert_int_equal(json_integer_value(json_object_get(last, "status")), 401);
    json_decref(o);
    gh_alert_rules_clear(&r);
}

static void pagerduty_payload(void **state)
{
    (void)state;
    struct gh_alert_rules r;
    parse_ok("brute LOGIN_FAILED by user >= 10 in 5m severity error -> pd\n"
             "all LOGIN_FAILED >= 1 -> pd",
             &r);
    struct gh_alert a = sample(&r, 3);
    json_t *o = payload(&a);
    assert_int_equal(json_object_size(o), 4);
    assert_string_equal(json_string_value(json_object_get(o, "routing_key")), "R0UTINGKEY_SECRET");
    assert_string_equal(json_string_value(json_object_get(o, "event_action")), "trigger");
    assert_string_equal(json_string_value(json_object_get(o, "dedup_key")),
                        "gatehouse/brute/user/<!channel> & @everyone");
    json_t *p = json_object_get(o, "payload");
    assert_non_null(strstr(json_string_value(json_object_get(p, "summary")), "brute: 10 events"));
    assert_true(strlen(json_string_value(json_object_get(p, "source"))) > 0);
    assert_string_equal(json_string_value(json_object_get(p, "severity")), "error");
    assert_string_equal(json_string_value(json_object_get(p, "timestamp")), "2023-11-14T22:15:00Z");
    assert_string_equal(json_string_value(json_object_get(p, "class")), "LOGIN_FAILED");
    json_t *details = json_object_get(p, "custom_details");
    assert_string_equal(json_string_value(json_object_get(details, "rule")), "brute");
    assert_null(json_object_get(details, "routing_key"));
    json_decref(o);
    /* Without "by", one incident per rule; the default severity. */
    a = sample(&r, 3);
    a.rule = &r.rules[1];
    a.group[0] = '\0';
    o = payload(&a);
    assert_string_equal(json_string_value(json_object_get(o, "dedup_key")), "gatehouse/all");
    p = json_object_get(o, "payload");
    assert_string_equal(json_string_value(json_object_get(p, "severity")), "warning");
    json_decref(o);
    gh_alert_rules_clear(&r);
}

static void odd_text_is_made_safe(void **state)
{
    (void)state;
    /* Invalid UTF-8 and control characters in a user name still give valid JSON. */
    struct gh_alerts *al = make("u LOGIN_FAILED by user >= 1 -> raw", 4);
    char name[200];
    memset(name, 'x', sizeof(name));
    memcpy(name, "\xff\xc3\x28\n\x1b\xe2\x82\xac", 8);
    name[sizeof(name) - 1] = '\0';
    event(al, "LOGIN_FAILED", name, "10.0.0.1", 1700000000);
    struct gh_alert a;
    assert_int_equal(drain(al, &a), 1);
    assert_true(strlen(a.group) < GH_ALERT_GROUP_MAX);
    assert_memory_equal(a.group, "?\?(?\?\xe2\x82\xac", 8);
    json_t *o = payload(&a);
    json_decref(o);
    /* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
    event(al, "LOGIN_FAILED",
          "\xe0\x80\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xf0\x9f\x98\x80|\xc3\xa9", "10.0.0.1",
          1700000000);
    assert_int_equal(drain(al, &a), 1);
    assert_string_equal(a.group, "???|???|????|\xf0\x9f\x98\x80|\xc3\xa9");
    /* A character that does not fit is left out whole. */
    char cut[GH_ALERT_GROUP_MAX + 4];
    memset(cut, 'a', sizeof(cut));
    memcpy(cut + GH_ALERT_GROUP_MAX - 3, "\xe2\x82\xac", 3);
    cut[sizeof(cut) - 1] = '\0';
    event(al, "LOGIN_FAILED", cut, "10.0.0.1", 1700000000);
    assert_int_equal(drain(al, &a), 1);
    assert_int_equal(strlen(a.group), GH_ALERT_GROUP_MAX - 3);
    gh_alerts_free(al, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rule_syntax),
        cmocka_unit_test(rule_errors),
        cmocka_unit_test(webhook_errors),
        cmocka_unit_test(fires_once_per_window),
        cmocka_unit_test(window_slides),
        cmocka_unit_test(groups_and_every_event),
        cmocka_unit_test(queue_drops_when_full),
        cmocka_unit_test(bounded_table),
        cmocka_unit_test(payloads),
        cmocka_unit_test(pagerduty_payload),
        cmocka_unit_test(block_action),
        cmocka_unit_test(severity_syntax),
        cmocka_unit_test(odd_text_is_made_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

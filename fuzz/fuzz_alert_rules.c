/*
 * libFuzzer target: gh_alert_rules_parse, the alert rules and webhooks from the
 * configuration. The input is split at its first NUL byte into the rules text and the
 * webhooks text (no NUL: a fixed webhook list). On success every rule and webhook is
 * checked against the parser's promises, and a few actions are matched; on failure the
 * message names a rule or a webhook and never shows a URL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/alert_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static int name_ok(const char *s)
{
    size_t n = strnlen(s, GH_ALERT_NAME_MAX);
    if (n == 0 || n >= GH_ALERT_NAME_MAX)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static const char *const actions[] = {"LOGIN", "LOGIN_FAILED",           "ORG_CREATE", "", "*",
                                      "A*",    "RATE_LIMIT_BACKEND_DOWN"};

static void check_rules(const struct gh_alert_rules *r)
{
    check(r->nrules <= GH_ALERT_RULES_MAX && r->nwebhooks <= GH_ALERT_WEBHOOKS_MAX);
    for (size_t i = 0; i < r->nwebhooks; i++) {
        const struct gh_webhook *h = &r->webhooks[i];
        check(name_ok(h->name));
        check(h->format == GH_WEBHOOK_SLACK || h->format == GH_WEBHOOK_DISCORD ||
              h->format == GH_WEBHOOK_JSON);
        check(strncmp(h->url, "http://", 7) == 0 || strncmp(h->url, "https://", 8) == 0);
        for (const char *p = h->url; *p != '\0'; p++)
            check((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
        for (size_t j = 0; j < i; j++)
            check(strcmp(r->webhooks[j].name, h->name) != 0);
    }
    for (size_t i = 0; i < r->nrules; i++) {
        const struct gh_alert_rule *x = &r->rules[i];
        check(name_ok(x->name));
        for (size_t j = 0; j < i; j++)
            check(strcmp(r->rules[j].name, x->name) != 0);
        check(x->nactions >= 1 && x->nactions <= GH_ALERT_ACTIONS_MAX);
        for (size_t j = 0; j < x->nactions; j++) {
            const char *a = x->actions[j];
            size_t n = strnlen(a, GH_ALERT_ACTION_MAX);
            check(n >= 1 && n < GH_ALERT_ACTION_MAX);
            check(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") >= n - 1);
            check(strchr(a, '*') == NULL || strchr(a, '*') == a + n - 1);
        }
        check(x->threshold >= 1 && x->threshold <= GH_ALERT_THRESHOLD_MAX);
        check(x->window <= GH_ALERT_WINDOW_MAX);
        check(x->window > 0 || x->threshold == 1);
        check(x->group == GH_ALERT_BY_NONE || x->group == GH_ALERT_BY_IP ||
              x->group == GH_ALERT_BY_USER || x->group == GH_ALERT_BY_ORG);
        check(x->ntargets >= 1 && x->ntargets <= GH_ALERT_TARGETS_MAX);
        for (size_t j = 0; j < x->ntargets; j++)
            check(x->targets[j] < r->nwebhooks);
        for (size_t j = 0; j < sizeof(actions) / sizeof(actions[0]); j++)
            (void)gh_alert_rule_matches(x, actions[j]);
        if (strcmp(x->actions[0], "*") == 0)
            check(gh_alert_rule_matches(x, "ANY"));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char fixed[] = "ops slack https://hooks.example.com/services/T0/B0/XSECRETX\n"
                                "raw json http://127.0.0.1:9/x\n";
    char *text = malloc(size + 1);
    check(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    size_t split = strlen(text);
    const char *hooks = split < size ? text + split + 1 : fixed;
    struct gh_alert_rules r;
    char err[256];
    memset(err, 'X', sizeof(err));
    gh_err e = gh_alert_rules_parse(text, hooks, &r, err, sizeof(err));
    if (e == GH_OK) {
        check_rules(&r);
        gh_alert_rules_clear(&r);
        check(r.rules == NULL && r.webhooks == NULL && r.nrules == 0);
    } else {
        check(e == GH_ERR_INVALID || e == GH_ERR_NOMEM);
        if (e == GH_ERR_INVALID) {
            check(memchr(err, '\0', sizeof(err)) != NULL);
            check(strncmp(err, "rule ", 5) == 0 || strncmp(err, "webhook ", 8) == 0);
            if (strncmp(err, "webhook ", 8) == 0)
                check(strstr(err, "://") == NULL && strstr(err, "XSECRETX") == NULL);
        }
    }
    free(text);
    return 0;
}

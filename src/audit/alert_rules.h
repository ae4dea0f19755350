#ifndef GH_AUDIT_ALERT_RULES_H
#define GH_AUDIT_ALERT_RULES_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * Alert rules over audit events (alerts.rules, one per line or ';'-separated, blank
 * lines and '#' comments skipped):
 *
 *     NAME ACTIONS [by ip|user|org] >= N [in WINDOW] [severity SEVERITY] -> TARGETS
 *
 * TARGETS is WEBHOOK[,WEBHOOK...], "block DURATION" (a rule "by ip" only: the address is
 * blocked for DURATION, 1s to 7d, edge/blocks.h), or both, in that order.
 *
 * NAME is 1-32 of [a-z0-9_-], unique; ACTIONS a comma list of audit actions
 * ([A-Z0-9_]+, a final '*' matches any rest: ORG_*; "*" alone matches every action);
 * "by" counts per client address, per user (the user name, else the user id) or per
 * organization, and skips events without one; N is 1 to 1000000; WINDOW is a count
 * with a unit s, m, h or d, from 1s to 7d, and may be left out only when N is 1 (then
 * every matching event alerts; SEVERITY is critical, error, warning (the default) or info,
 * what PagerDuty shows. Webhooks (alerts.webhooks), one per line:
 *
 *     NAME slack|discord|json URL
 *     NAME pagerduty URL ROUTING_KEY
 *
 * with an http:// or https:// URL that is a secret (a Slack hook is its own credential):
 * it is never logged nor quoted in an error, only the webhook's name is. ROUTING_KEY (a
 * PagerDuty integration key, 1-64 of A-Z a-z 0-9 _ -) is a secret too; the URL of the
 * Events API v2 is https://events.pagerduty.com/v2/enqueue.
 */

#define GH_ALERT_NAME_MAX 33    /* rule and webhook names, with the NUL */
#define GH_ALERT_ACTIONS_MAX 16 /* actions in one rule */
#define GH_ALERT_ACTION_MAX 48  /* one action or pattern, with the NUL */
#define GH_ALERT_TARGETS_MAX 4  /* webhooks of one rule */
#define GH_ALERT_RULES_MAX 64
#define GH_ALERT_WEBHOOKS_MAX 16
#define GH_WEBHOOK_URL_MAX 1024
#define GH_ROUTING_KEY_MAX 65 /* a PagerDuty routing key, with the NUL */
#define GH_ALERT_GROUP_MAX 72 /* a group value (longer ones are cut), with the NUL */
#define GH_ALERT_WINDOW_MAX (7 * 86400)
#define GH_ALERT_THRESHOLD_MAX 1000000

enum gh_alert_group {
    GH_ALERT_BY_NONE, /* one count for the whole rule */
    GH_ALERT_BY_IP,   /* per client address */
    GH_ALERT_BY_USER, /* per user name, else user id */
    GH_ALERT_BY_ORG,  /* per organization id */
};

enum gh_webhook_format {
    GH_WEBHOOK_SLACK,     /* {"text": ...} */
    GH_WEBHOOK_DISCORD,   /* {"content": ..., "allowed_mentions": {"parse": []}} */
    GH_WEBHOOK_JSON,      /* the whole alert as one object */
    GH_WEBHOOK_PAGERDUTY, /* a PagerDuty Events API v2 "trigger" event */
};

/* The severities of PagerDuty's Events API v2, in its order. */
enum gh_alert_severity {
    GH_SEVERITY_CRITICAL,
    GH_SEVERITY_ERROR,
    GH_SEVERITY_WARNING, /* a rule's default */
    GH_SEVERITY_INFO,
};

/** The name of s as the Events API spells it ("critical", ...). */
const char *gh_alert_severity_name(enum gh_alert_severity s);

struct gh_alert_rule {
    char name[GH_ALERT_NAME_MAX];
    char actions[GH_ALERT_ACTIONS_MAX][GH_ALERT_ACTION_MAX]; /* a final '*' is a prefix match */
    size_t nactions;
    enum gh_alert_group group;
    uint32_t threshold;
    uint32_t window; /* seconds; 0 only with threshold 1: every event alerts */
    enum gh_alert_severity severity;
    uint32_t block; /* seconds an address that fires the rule is blocked; 0: none */
    size_t targets[GH_ALERT_TARGETS_MAX]; /* indexes into the webhooks */
    size_t ntargets;
};

struct gh_webhook {
    char name[GH_ALERT_NAME_MAX];
    enum gh_webhook_format format;
    char url[GH_WEBHOOK_URL_MAX];         /* a secret: never logged */
    char routing_key[GH_ROUTING_KEY_MAX]; /* pagerduty only: a secret, never logged */
};

struct gh_alert_rules {
    struct gh_alert_rule *rules;
    size_t nrules;
    struct gh_webhook *webhooks;
    size_t nwebhooks;
};

/**
 * Parses the rules and webhooks texts. On GH_ERR_INVALID err says which line is wrong
 * and why: "rule 2 (\"...\"): ..." with the rule's text, "webhook 1 (\"ops\"): ..." with
 * the webhook's name only (never its URL). Free with gh_alert_rules_clear.
 */
gh_err gh_alert_rules_parse(const char *rules, const char *webhooks, struct gh_alert_rules *out,
                            char *err, size_t err_size) GH_WUR GH_NONNULL(1, 2, 3, 4);
void gh_alert_rules_clear(struct gh_alert_rules *r);

/** 1 when action (an audit action name) is one of rule's actions. */
int gh_alert_rule_matches(const struct gh_alert_rule *rule, const char *action) GH_NONNULL(1, 2);

/** The fields of an audit event an alert shows (cut to fit; "" when absent). */
struct gh_alert_event {
    int64_t ts;
    int status;
    char action[GH_ALERT_ACTION_MAX];
    char user[GH_ALERT_GROUP_MAX];
    char user_id[40];
    char ip[46];
    char org[40];
};

/** One fired rule on its way to one webhook. */
struct gh_alert {
    const struct gh_alert_rule *rule;
    const struct gh_webhook *webhook;
    char group[GH_ALERT_GROUP_MAX]; /* "" for rules without "by" */
    uint32_t count;                 /* events counted when it fired */
    struct gh_alert_event first;    /* the first event of the count */
    struct gh_alert_event last;     /* the one that reached the threshold */
};

#endif

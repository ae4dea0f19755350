#include "audit/alert_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "core/words.h"

#define LINE_MAX_LEN 1024

/* The next rule line, trailing blanks dropped too (the length limits and the quoted line
 * in a message count neither). */
static int next_line(struct gh_lines *it, const char **line, const char **end)
{
    if (!gh_line_next(it, line, end))
        return 0;
    while (*end > *line && gh_is_blank((*end)[-1]))
        (*end)--;
    return 1;
}

/* A name: 1 to 32 of a-z, 0-9, '_' and '-' (safe as a Prometheus label and in a log). */
static int parse_name(const char *w, size_t n, char *out)
{
    if (n == 0 || n >= GH_ALERT_NAME_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9') || w[i] == '_' ||
              w[i] == '-'))
            return -1;
    memcpy(out, w, n);
    out[n] = '\0';
    return 0;
}

/* ACTIONS: comma-separated [A-Z0-9_]+, each with an optional final '*'; or "*" alone. */
static int parse_actions(const char *w, size_t n, struct gh_alert_rule *r)
{
    const char *end = w + n;
    if (n == 0)
        return -1;
    for (const char *p = w; p <= end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma != NULL ? comma : end;
        size_t len = (size_t)(e - p);
        if (len == 0 || len >= GH_ALERT_ACTION_MAX || r->nactions == GH_ALERT_ACTIONS_MAX)
            return -1;
        for (size_t i = 0; i < len; i++) {
            char c = p[i];
            int star = c == '*' && i + 1 == len;
            if (!star && !((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                return -1;
        }
        if (len == 1 && p[0] == '*' && n != 1)
            return -1; /* "*" matches everything: alone or not at all */
        memcpy(r->actions[r->nactions], p, len);
        r->actions[r->nactions][len] = '\0';
        r->nactions++;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

static int parse_group(const char *w, size_t n, enum gh_alert_group *out)
{
    if (gh_word_is(w, n, "ip"))
        *out = GH_ALERT_BY_IP;
    else if (gh_word_is(w, n, "user"))
        *out = GH_ALERT_BY_USER;
    else if (gh_word_is(w, n, "org"))
        *out = GH_ALERT_BY_ORG;
    else
        return -1;
    return 0;
}

/* Decimal digits without a leading zero, from lo to hi. */
static int parse_number(const char *w, size_t n, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 7 || (w[0] == '0' && n > 1))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < '0' || w[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(w[i] - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* WINDOW: a count and one unit, s, m, h or d: "90s", "5m". */
static int parse_window(const char *w, size_t n, uint32_t *out)
{
    static const struct {
        char unit;
        uint64_t seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    uint64_t v = 0;
    if (n < 2 || parse_number(w, n - 1, 1, GH_ALERT_WINDOW_MAX, &v) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (w[n - 1] == units[i].unit && v <= GH_ALERT_WINDOW_MAX / units[i].seconds) {
            *out = (uint32_t)(v * units[i].seconds);
            return 0;
        }
    }
    return -1;
}

static const char *const severity_names[] = {"critical", "error", "warning", "info"};

const char *gh_alert_severity_name(enum gh_alert_severity s)
{
    return (size_t)s < sizeof(severity_names) / sizeof(severity_names[0]) ? severity_names[s]
                                                                          : "warning";
}

static int parse_severity(const char *w, size_t n, enum gh_alert_severity *out)
{
    for (size_t i = 0; i < sizeof(severity_names) / sizeof(severity_names[0]); i++) {
        if (gh_word_is(w, n, severity_names[i])) {
            *out = (enum gh_alert_severity)i;
            return 0;
        }
    }
    return -1;
}

static const struct gh_webhook *find_webhook(const struct gh_alert_rules *rs, const char *name,
                                             size_t *index)
{
    for (size_t i = 0; i < rs->nwebhooks; i++) {
        if (strcmp(rs->webhooks[i].name, name) == 0) {
            if (index != NULL)
                *index = i;
            return &rs->webhooks[i];
        }
    }
    return NULL;
}

static const char *parse_targets(const char *w, size_t n, const struct gh_alert_rules *rs,
                                 struct gh_alert_rule *r)
{
    static const char bad[] = "expected WEBHOOK names after \"->\", comma-separated (at most 4)";
    const char *end = w + n;
    for (const char *p = w;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma != NULL ? comma : end;
        char name[GH_ALERT_NAME_MAX];
        size_t index = 0;
        if (r->ntargets == GH_ALERT_TARGETS_MAX || parse_name(p, (size_t)(e - p), name) != 0)
            return bad;
        if (find_webhook(rs, name, &index) == NULL)
            return "a WEBHOOK after \"->\" is not one of alerts.webhooks";
        for (size_t i = 0; i < r->ntargets; i++)
            if (r->targets[i] == index)
                return "a WEBHOOK is named twice";
        r->targets[r->ntargets++] = index;
        if (comma == NULL)
            return NULL;
        p = comma + 1;
    }
}

/* Parses one rule line; returns what is wrong, or NULL. */
static const char *parse_rule(const char *s, const char *end, const struct gh_alert_rules *rs,
                              struct gh_alert_rule *r)
{
    const char *w;
    size_t n;
    uint64_t v = 0;
    memset(r, 0, sizeof(*r));
    r->severity = GH_SEVERITY_WARNING;
    if (!gh_word_next(&s, end, &w, &n) || parse_name(w, n, r->name) != 0)
        return "expected a NAME of 1 to 32 characters a-z, 0-9, _ or -";
    for (size_t i = 0; i < rs->nrules; i++)
        if (strcmp(rs->rules[i].name, r->name) == 0)
            return "another rule has this NAME";
    if (!gh_word_next(&s, end, &w, &n) || parse_actions(w, n, r) != 0)
        return "expected ACTIONS: a comma list such as LOGIN_FAILED,ORG_* (at most 16) or *";
    if (gh_word_next(&s, end, &w, &n) && gh_word_is(w, n, "by")) {
        if (!gh_word_next(&s, end, &w, &n) || parse_group(w, n, &r->group) != 0)
            return "expected ip, user or org after \"by\"";
        (void)gh_word_next(&s, end, &w, &n);
    }
    if (!gh_word_is(w, n, ">="))
        return "expected \">= N\" after ACTIONS (or after \"by GROUP\")";
    if (!gh_word_next(&s, end, &w, &n) || parse_number(w, n, 1, GH_ALERT_THRESHOLD_MAX, &v) != 0)
        return "expected N from 1 to 1000000 after \">=\"";
    r->threshold = (uint32_t)v;
    if (gh_word_next(&s, end, &w, &n) && gh_word_is(w, n, "in")) {
        if (!gh_word_next(&s, end, &w, &n) || parse_window(w, n, &r->window) != 0)
            return "expected a WINDOW from 1s to 7d after \"in\", such as 90s, 5m, 1h or 1d";
        (void)gh_word_next(&s, end, &w, &n);
    }
    if (gh_word_is(w, n, "severity")) {
        if (!gh_word_next(&s, end, &w, &n) || parse_severity(w, n, &r->severity) != 0)
            return "expected critical, error, warning or info after \"severity\"";
        (void)gh_word_next(&s, end, &w, &n);
    }
    if (!gh_word_is(w, n, "->"))
        return "expected \"-> WEBHOOK\" after N (or after \"in WINDOW\" or \"severity S\")";
    if (r->window == 0 && r->threshold > 1)
        return "N above 1 needs a window: \"in 5m\"";
    if (!gh_word_next(&s, end, &w, &n))
        return "expected WEBHOOK names after \"->\", comma-separated (at most 4)";
    const char *w2;
    size_t n2;
    int more = gh_word_next(&s, end, &w2, &n2);
    if (!(more && gh_word_is(w, n, "block"))) {
        const char *why = parse_targets(w, n, rs, r);
        if (why != NULL)
            return why;
        if (!more)
            return NULL;
        w = w2;
        n = n2;
        more = gh_word_next(&s, end, &w2, &n2);
    }
    /* "block DURATION": the rule's address is blocked (edge/blocks.h) */
    if (!gh_word_is(w, n, "block") || !more)
        return "too many words";
    if (parse_window(w2, n2, &r->block) != 0)
        return "expected a DURATION from 1s to 7d after \"block\", such as 15m or 1h";
    if (r->group != GH_ALERT_BY_IP)
        return "\"block\" needs a rule \"by ip\"";
    if (gh_word_next(&s, end, &w, &n))
        return "too many words";
    return NULL;
}

/* http:// or https://, a host, and nothing that is not printable ASCII. */
static int url_ok(const char *w, size_t n)
{
    size_t scheme = n > 8 && memcmp(w, "https://", 8) == 0  ? 8
                    : n > 7 && memcmp(w, "http://", 7) == 0 ? 7
                                                            : 0;
    if (scheme == 0 || n >= GH_WEBHOOK_URL_MAX || w[scheme] == '/')
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)w[i] <= 0x20 || (unsigned char)w[i] >= 0x7f)
            return 0;
    return 1;
}

/* A PagerDuty routing key: 1 to 64 of A-Z, a-z, 0-9, '_' and '-'. */
static int routing_key_ok(const char *w, size_t n)
{
    if (n == 0 || n >= GH_ROUTING_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z') ||
              (w[i] >= '0' && w[i] <= '9') || w[i] == '_' || w[i] == '-'))
            return 0;
    return 1;
}

/* Parses one webhook line into h; returns what is wrong, or NULL. The URL and the routing
 * key are never quoted. */
static const char *parse_webhook(const char *s, const char *end, const struct gh_alert_rules *rs,
                                 struct gh_webhook *h)
{
    const char *w;
    size_t n;
    memset(h, 0, sizeof(*h));
    if (!gh_word_next(&s, end, &w, &n) || parse_name(w, n, h->name) != 0)
        return "expected a NAME of 1 to 32 characters a-z, 0-9, _ or -, then FORMAT and URL";
    if (find_webhook(rs, h->name, NULL) != NULL)
        return "another webhook has this NAME";
    if (!gh_word_next(&s, end, &w, &n))
        return "expected FORMAT slack, discord, json or pagerduty after NAME";
    if (gh_word_is(w, n, "slack"))
        h->format = GH_WEBHOOK_SLACK;
    else if (gh_word_is(w, n, "discord"))
        h->format = GH_WEBHOOK_DISCORD;
    else if (gh_word_is(w, n, "json"))
        h->format = GH_WEBHOOK_JSON;
    else if (gh_word_is(w, n, "pagerduty"))
        h->format = GH_WEBHOOK_PAGERDUTY;
    else
        return "expected FORMAT slack, discord, json or pagerduty after NAME";
    if (!gh_word_next(&s, end, &w, &n) || !url_ok(w, n))
        return "expected an http or https URL of printable ASCII after FORMAT";
    memcpy(h->url, w, n);
    h->url[n] = '\0';
    if (h->format == GH_WEBHOOK_PAGERDUTY) {
        if (!gh_word_next(&s, end, &w, &n) || !routing_key_ok(w, n))
            return "expected a ROUTING_KEY of 1 to 64 characters A-Z, a-z, 0-9, _ or - after "
                   "the URL";
        memcpy(h->routing_key, w, n);
        h->routing_key[n] = '\0';
    }
    if (gh_word_next(&s, end, &w, &n))
        return "too many words after the URL";
    return NULL;
}

/* The name shown for a bad webhook line: its first word, if it is a valid name. */
static void shown_name(const char *s, const char *end, char *out)
{
    const char *w;
    size_t n;
    out[0] = '\0';
    if (gh_word_next(&s, end, &w, &n) && parse_name(w, n, out) != 0)
        out[0] = '\0';
}

static gh_err parse_webhooks(const char *text, struct gh_alert_rules *rs, char *err,
                             size_t err_size)
{
    struct gh_lines it = {text, 0};
    const char *line, *end;
    while (next_line(&it, &line, &end)) {
        char name[GH_ALERT_NAME_MAX];
        const char *why = NULL;
        if (rs->nwebhooks == GH_ALERT_WEBHOOKS_MAX)
            why = "too many webhooks (at most 16)";
        else if ((size_t)(end - line) > LINE_MAX_LEN + 160) /* name, format, URL, key */
            why = "line too long";
        else
            why = parse_webhook(line, end, rs, &rs->webhooks[rs->nwebhooks]);
        if (why != NULL) {
            shown_name(line, end, name);
            if (name[0] != '\0')
                (void)snprintf(err, err_size, "webhook %zu (\"%s\"): %s", it.number, name, why);
            else
                (void)snprintf(err, err_size, "webhook %zu: %s", it.number, why);
            sodium_memzero(&rs->webhooks[rs->nwebhooks], sizeof(rs->webhooks[0]));
            return GH_ERR_INVALID;
        }
        rs->nwebhooks++;
    }
    return GH_OK;
}

static gh_err parse_rules(const char *text, struct gh_alert_rules *rs, char *err, size_t err_size)
{
    struct gh_lines it = {text, 0};
    const char *line, *end;
    while (next_line(&it, &line, &end)) {
        const char *why = NULL;
        if (rs->nrules == GH_ALERT_RULES_MAX)
            why = "too many rules (at most 64)";
        else if ((size_t)(end - line) > LINE_MAX_LEN)
            why = "line too long";
        else
            why = parse_rule(line, end, rs, &rs->rules[rs->nrules]);
        if (why != NULL) {
            (void)snprintf(err, err_size, "rule %zu (\"%.*s\"): %s", it.number,
                           (int)(end - line > 60 ? 60 : end - line), line, why);
            return GH_ERR_INVALID;
        }
        rs->nrules++;
    }
    return GH_OK;
}

gh_err gh_alert_rules_parse(const char *rules, const char *webhooks, struct gh_alert_rules *out,
                            char *err, size_t err_size)
{
    gh_err ret = GH_ERR_NOMEM;
    struct gh_alert_rules rs = {
        .rules = calloc(GH_ALERT_RULES_MAX, sizeof(struct gh_alert_rule)),
        .webhooks = calloc(GH_ALERT_WEBHOOKS_MAX, sizeof(struct gh_webhook)),
    };
    if (rs.rules == NULL || rs.webhooks == NULL) {
        (void)snprintf(err, err_size, "out of memory");
        goto out;
    }
    if ((ret = parse_webhooks(webhooks, &rs, err, err_size)) != GH_OK ||
        (ret = parse_rules(rules, &rs, err, err_size)) != GH_OK)
        goto out;
    ret = GH_OK;
out:
    if (ret != GH_OK) {
        gh_alert_rules_clear(&rs);
        return ret;
    }
    *out = rs;
    return GH_OK;
}

void gh_alert_rules_clear(struct gh_alert_rules *r)
{
    if (r == NULL)
        return;
    if (r->webhooks != NULL)
        sodium_memzero(r->webhooks, GH_ALERT_WEBHOOKS_MAX * sizeof(struct gh_webhook));
    free(r->webhooks);
    free(r->rules);
    memset(r, 0, sizeof(*r));
}

int gh_alert_rule_matches(const struct gh_alert_rule *rule, const char *action)
{
    for (size_t i = 0; i < rule->nactions; i++) {
        const char *p = rule->actions[i];
        size_t n = strlen(p);
        if (n > 0 && p[n - 1] == '*' ? strncmp(p, action, n - 1) == 0 : strcmp(p, action) == 0)
            return 1;
    }
    return 0;
}

#include "audit/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/secure_json.h"
#include "core/time.h"
#include "edge/fetch.h"

gh_err gh_webhook_open(void)
{
    return gh_fetch_open();
}

void gh_webhook_close(void)
{
    gh_fetch_close();
}

void *gh_webhook_handle_new(void)
{
    struct gh_fetch *f = NULL;
    return gh_fetch_new(&f) == GH_OK ? f : NULL;
}

void gh_webhook_handle_free(void *handle)
{
    gh_fetch_free(handle);
}

static const char *group_name(enum gh_alert_group g)
{
    switch (g) {
    case GH_ALERT_BY_IP:
        return "ip";
    case GH_ALERT_BY_USER:
        return "user";
    case GH_ALERT_BY_ORG:
        return "org";
    case GH_ALERT_BY_NONE:
        break;
    }
    return NULL;
}

/* "5m", "90s": the largest unit that divides seconds. */
static void window_text(uint32_t seconds, char *out, size_t size)
{
    static const struct {
        uint32_t seconds;
        char unit;
    } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (seconds % units[i].seconds == 0) {
            (void)snprintf(out, size, "%u%c", seconds / units[i].seconds, units[i].unit);
            return;
        }
    }
}

void gh_alert_text(const struct gh_alert *a, char *out, size_t size)
{
    const struct gh_alert_rule *r = a->rule;
    const struct gh_alert_event *e = &a->last;
    char window[16] = "", group[GH_ALERT_GROUP_MAX + 16] = "";
    const char *by = group_name(r->group);
    if (by != NULL)
        (void)snprintf(group, sizeof(group), " for %s %s", by, a->group);
    if (r->window > 0) {
        window_text(r->window, window, sizeof(window));
        (void)snprintf(out, size,
                       "Gatehouse alert %s: %u events%s within %s (threshold %u); last %s, "
                       "user %s, ip %s, org %s",
                       r->name, a->count, group, window, r->threshold, e->action,
                       e->user[0] ? e->user : "-", e->ip[0] ? e->ip : "-",
                       e->org[0] ? e->org : "-");
    } else {
        (void)snprintf(out, size, "Gatehouse alert %s: %s%s, user %s, ip %s, org %s", r->name,
                       e->action, group, e->user[0] ? e->user : "-", e->ip[0] ? e->ip : "-",
                       e->org[0] ? e->org : "-");
    }
}

/* Slack reads &, < and > as markup (links, @channel); its documented escapes. */
static gh_err slack_escape(const char *s, struct gh_buf *out)
{
    gh_err err = GH_OK;
    for (; err == GH_OK && *s != '\0'; s++) {
        if (*s == '&')
            err = gh_buf_puts(out, "&amp;");
        else if (*s == '<')
            err = gh_buf_puts(out, "&lt;");
        else if (*s == '>')
            err = gh_buf_puts(out, "&gt;");
        else
            err = gh_buf_append(out, s, 1);
    }
    return err == GH_OK ? gh_buf_append(out, "", 1) : err;
}

static json_t *text_or_null(const char *s)
{
    return s[0] != '\0' ? json_string(s) : json_null();
}

/* t as an RFC 3339 string, or null when it cannot be written. */
static json_t *time_json(int64_t t)
{
    char text[GH_TIME_TEXT];
    return gh_time_format(t, text) == GH_OK ? json_string(text) : json_null();
}

static json_t *event_json(const struct gh_alert_event *e)
{
    return json_pack("{s:o, s:I, s:s, s:o, s:o, s:o, s:o, s:i}", "time", time_json(e->ts), "ts",
                     (json_int_t)e->ts, "action", e->action, "user", text_or_null(e->user),
                     "user_id", text_or_null(e->user_id), "ip", text_or_null(e->ip), "org",
                     text_or_null(e->org), "status", e->status);
}

static json_t *alert_json(const struct gh_alert *a, const char *text)
{
    const struct gh_alert_rule *r = a->rule;
    const char *by = group_name(r->group);
    json_t *actions = json_array();
    for (size_t i = 0; actions != NULL && i < r->nactions; i++)
        if (json_array_append_new(actions, json_string(r->actions[i])) != 0) {
            json_decref(actions);
            actions = NULL;
        }
    json_t *group = by != NULL ? json_pack("{s:s, s:s}", "by", by, "value", a->group) : json_null();
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:I, s:I, s:o, s:o, s:s}", "source",
                     "gatehouse", "rule", r->name, "webhook", a->webhook->name, "actions", actions,
                     "action", a->last.action, "group", group, "count", (json_int_t)a->count,
                     "threshold", (json_int_t)r->threshold, "window_seconds", (json_int_t)r->window,
                     "first", event_json(&a->first), "last", event_json(&a->last), "text", text);
}

/*
 * One alert as a PagerDuty Events API v2 "trigger": the dedup key names the rule and the
 * group, so that repeats of one incident (the same rule, the same address) stay one
 * PagerDuty incident, and the summary is the one-line text (PagerDuty keeps 1024
 * characters). custom_details carries the whole alert but the routing key.
 */
static json_t *pagerduty_json(const struct gh_alert *a, const char *text)
{
    const struct gh_alert_rule *r = a->rule;
    const char *by = group_name(r->group);
    char dedup[sizeof(r->name) + GH_ALERT_GROUP_MAX + 32], host[256] = "gatehouse";
    if (by != NULL)
        (void)snprintf(dedup, sizeof(dedup), "gatehouse/%s/%s/%s", r->name, by, a->group);
    else
        (void)snprintf(dedup, sizeof(dedup), "gatehouse/%s", r->name);
    if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
        (void)snprintf(host, sizeof(host), "gatehouse");
    host[sizeof(host) - 1] = '\0';
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:o}}", "routing_key",
                     a->webhook->routing_key, "event_action", "trigger", "dedup_key", dedup,
                     "payload", "summary", text, "source", host, "severity",
                     gh_alert_severity_name(r->severity), "timestamp", time_json(a->last.ts),
                     "component", "gatehouse", "group", by != NULL ? by : "all", "class",
                     a->last.action, "custom_details", alert_json(a, text));
}

gh_err gh_webhook_payload(const struct gh_alert *a, char **out)
{
    char text[1024];
    json_t *o = NULL;
    struct gh_buf esc;
    gh_buf_init(&esc, 8 * sizeof(text));
    gh_alert_text(a, text, sizeof(text));
    switch (a->webhook->format) {
    case GH_WEBHOOK_SLACK:
        if (slack_escape(text, &esc) == GH_OK)
            o = json_pack("{s:s}", "text", esc.ptr);
        break;
    case GH_WEBHOOK_DISCORD:
        o = json_pack("{s:s, s:{s:[]}}", "content", text, "allowed_mentions", "parse");
        break;
    case GH_WEBHOOK_JSON:
        o = alert_json(a, text);
        break;
    case GH_WEBHOOK_PAGERDUTY:
        o = pagerduty_json(a, text);
        break;
    }
    gh_buf_clear(&esc);
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    char *copy = s != NULL ? strdup(s) : NULL; /* the caller frees with free() */
    gh_secure_json_free(s);
    if (copy == NULL)
        return GH_ERR_NOMEM;
    *out = copy;
    return GH_OK;
}

/* A receiver's answer is not read: a little of it is taken, the rest refused. */
#define ANSWER_MAX 4096

gh_err gh_webhook_post(void *handle, const struct gh_webhook *hook, const char *body,
                       long timeout_ms, gh_webhook_cancel cancel, void *cancel_arg, char *why,
                       size_t why_size)
{
    struct gh_fetch_req rq = {.url = hook->url,
                              .body = body,
                              .body_len = strlen(body),
                              .content_type = "application/json",
                              .timeout_ms = timeout_ms,
                              .max_bytes = ANSWER_MAX,
                              .cancel = cancel,
                              .cancel_arg = cancel_arg};
    struct gh_fetch_resp answer = {0, NULL, 0};
    gh_err err = gh_fetch_do(handle, &rq, &answer, why, why_size);
    /* An answer too long to keep still arrived: the status is what counts, and it was
     * not read; a receiver that talks that much is refused as a failure. */
    if (err != GH_OK)
        return err == GH_ERR_TOO_LARGE ? GH_ERR_IO : err;
    long status = answer.status;
    gh_fetch_resp_clear(&answer);
    if (status < 200 || status > 299) {
        (void)snprintf(why, why_size, "HTTP %ld", status);
        return GH_ERR_IO;
    }
    return GH_OK;
}

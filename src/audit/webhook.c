#include "audit/webhook.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/secure_json.h"
#include "core/time.h"

/*
 * libcurl is opened when the alerts start, not linked: it brings some 30 libraries
 * (GnuTLS, Kerberos, LDAP, SSH, RTMP...) and about 4 MB of resident memory into every
 * process, for a feature that is off unless alerts.rules is set. Its calls go through
 * this table, filled by gh_webhook_open before the delivery thread starts and read-only
 * after; only its types and constants come from the header.
 */
static struct {
    void *handle;
    CURLcode (*global_init)(long flags);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *c);
    void (*easy_reset)(CURL *c);
    CURLcode (*easy_setopt)(CURL *c, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode rc);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
} lib;

#define LOAD(field, name) ((lib.field = (__typeof__(lib.field))dlsym(lib.handle, name)) != NULL)

gh_err gh_webhook_open(void)
{
    if (lib.handle != NULL)
        return GH_ERR_INTERNAL;
    lib.handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (lib.handle == NULL) {
        gh_log(GH_LOG_ERROR, "alerts: cannot load libcurl.so.4: %s", dlerror());
        return GH_ERR_IO;
    }
    if (!LOAD(global_init, "curl_global_init") || !LOAD(global_cleanup, "curl_global_cleanup") ||
        !LOAD(easy_init, "curl_easy_init") || !LOAD(easy_cleanup, "curl_easy_cleanup") ||
        !LOAD(easy_reset, "curl_easy_reset") || !LOAD(easy_setopt, "curl_easy_setopt") ||
        !LOAD(easy_perform, "curl_easy_perform") || !LOAD(easy_getinfo, "curl_easy_getinfo") ||
        !LOAD(easy_strerror, "curl_easy_strerror") || !LOAD(slist_append, "curl_slist_append") ||
        !LOAD(slist_free_all, "curl_slist_free_all") ||
        lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        gh_log(GH_LOG_ERROR, "alerts: libcurl.so.4 lacks a function or did not start");
        dlclose(lib.handle);
        memset(&lib, 0, sizeof(lib));
        return GH_ERR_IO;
    }
    return GH_OK;
}

void gh_webhook_close(void)
{
    if (lib.handle == NULL)
        return;
    lib.global_cleanup();
    dlclose(lib.handle);
    memset(&lib, 0, sizeof(lib));
}

void *gh_webhook_handle_new(void)
{
    return lib.easy_init();
}

void gh_webhook_handle_free(void *curl)
{
    if (curl != NULL)
        lib.easy_cleanup(curl);
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

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

struct cancel {
    gh_webhook_cancel fn;
    void *arg;
};

static int progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                    curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const struct cancel *c = arg;
    return c->fn(c->arg);
}

gh_err gh_webhook_post(void *curl, const struct gh_webhook *hook, const char *body, long timeout_ms,
                       gh_webhook_cancel cancel, void *cancel_arg, char *why, size_t why_size)
{
    struct cancel stop = {cancel, cancel_arg};
    CURL *c = curl;
    struct curl_slist *headers = lib.slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *more = headers ? lib.slist_append(headers, "Expect:") : NULL;
    if (more == NULL) {
        lib.slist_free_all(headers);
        (void)snprintf(why, why_size, "out of memory");
        return GH_ERR_NOMEM;
    }
    headers = more;
    lib.easy_reset(c);
    CURLcode rc = CURLE_OK;
    /* Each option is checked: an unknown one (an older libcurl) must not pass silently. */
    if ((rc = lib.easy_setopt(c, CURLOPT_URL, hook->url)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_HTTPHEADER, headers)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_USERAGENT, "gatehouse")) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_POSTFIELDS, body)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body))) !=
            CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_WRITEFUNCTION, discard)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_XFERINFODATA, &stop)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_NOPROGRESS, 0L)) != CURLE_OK ||
        (rc = lib.easy_perform(c)) != CURLE_OK) {
        lib.slist_free_all(headers);
        /* libcurl's error text is fixed: the URL (a secret) never reaches the log. */
        (void)snprintf(why, why_size, "%s", lib.easy_strerror(rc));
        return GH_ERR_IO;
    }
    long status = 0;
    (void)lib.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    lib.slist_free_all(headers);
    if (status < 200 || status > 299) {
        (void)snprintf(why, why_size, "HTTP %ld", status);
        return GH_ERR_IO;
    }
    return GH_OK;
}

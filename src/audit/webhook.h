#ifndef GH_AUDIT_WEBHOOK_H
#define GH_AUDIT_WEBHOOK_H

#include <stddef.h>
#include "audit/alert_rules.h"
#include "core/err.h"

/*
 * The outgoing edge of the alerts: an alert rendered as its webhook's payload and
 * posted with libcurl. Only the delivery thread calls these.
 */

/**
 * The one-line text of a (what Slack and Discord show) into out (size bytes, cut to
 * fit). User-controlled values are shown as they are; escaping is the payload's job.
 */
void gh_alert_text(const struct gh_alert *a, char *out, size_t size) GH_NONNULL(1, 2);

/**
 * a as the JSON body its webhook's format expects: slack {"text"} with &, < and >
 * escaped (no mention or link can be smuggled in a user name), discord {"content",
 * "allowed_mentions": {"parse": []}} (no @everyone), json the whole alert, pagerduty an
 * Events API v2 trigger {"routing_key", "event_action", "dedup_key" (rule and group),
 * "payload": {"summary", "source" (the host name), "severity" (the rule's), "timestamp",
 * "component", "group", "class", "custom_details" (the json form)}}. *out is a new string
 * for free().
 */
gh_err gh_webhook_payload(const struct gh_alert *a, char **out) GH_WUR GH_NONNULL(1, 2);

/** Asked about once a second during a call: non-zero aborts it (a shutdown). */
typedef int (*gh_webhook_cancel)(void *arg);

/**
 * Loads libcurl (the process's one HTTP client, edge/fetch.h); once, before the delivery
 * thread starts. GH_ERR_IO, logged, when it cannot be loaded.
 */
gh_err gh_webhook_open(void) GH_WUR;

/** Undoes gh_webhook_open once the delivery thread has ended; accepts no open. */
void gh_webhook_close(void);

/** A new HTTP handle (edge/fetch.h) for gh_webhook_post (NULL on failure); after gh_webhook_open.
 */
void *gh_webhook_handle_new(void) GH_WUR;

/** Frees a handle of gh_webhook_handle_new; accepts NULL. */
void gh_webhook_handle_free(void *curl);

/**
 * Posts body (JSON) to hook->url through curl (a handle of gh_webhook_handle_new the caller owns
 * and reuses) within timeout_ms: http and https only, no redirect followed, the answer's body
 * discarded; cancel(cancel_arg) may cut it short. GH_OK on a 2xx answer; otherwise GH_ERR_IO with a
 * short reason in why ("HTTP 500", "Timeout was reached"), which never contains the URL.
 */
gh_err gh_webhook_post(void *curl, const struct gh_webhook *hook, const char *body, long timeout_ms,
                       gh_webhook_cancel cancel, void *cancel_arg, char *why,
                       size_t why_size) GH_WUR GH_NONNULL(1, 2, 3, 5, 7);

#endif

#ifndef GH_AUDIT_ALERTS_H
#define GH_AUDIT_ALERTS_H

#include <stddef.h>
#include <stdint.h>
#include "audit/alert_rules.h"
#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

/*
 * Alerts: audit events counted against the rules (audit/alert_rules.h), and what fires
 * queued for its webhooks (audit/webhook.h): each webhook has its own queue and delivery
 * thread, so a dead or slow one delays only its own alerts.
 *
 * A rule fires when its count for one group reaches N within the window; that group is
 * then quiet for one window (its events are not counted) and counts again from zero.
 * Counts are kept in WINDOW/10 steps, so an event counts for the window give or take a
 * tenth of it, in a fixed table (alerts.max_groups entries) that a flood of distinct
 * groups evicts from (least recently seen first), never grows.
 */

/** How the alerts are delivered (the alerts.* keys). */
struct gh_alerts_opts {
    size_t max_groups;   /* entries of the count table */
    size_t queue;        /* alerts waiting for one webhook; more are dropped and counted */
    unsigned timeout_ms; /* one webhook call, connection included */
    unsigned tries;      /* calls per alert before giving up, at least 1 */
    unsigned retry_ms;   /* wait after the first failed call, doubled after each */
    /* Asked to block ip for seconds when a rule with "block" fires (NULL: never); called
     * like an observer, so it must not wait (edge/blocks.h queues the request). */
    void (*block)(void *arg, const char *ip, uint32_t seconds, const char *rule);
    void *block_arg;
};

struct gh_alerts;

/**
 * Builds the count table and queue for rules, whose contents are taken (rules is left
 * empty). The delivery thread does not run before gh_alerts_start.
 */
gh_err gh_alerts_new(struct gh_alert_rules *rules, const struct gh_alerts_opts *opts,
                     struct gh_alerts **out) GH_WUR GH_NONNULL(1, 2, 3);

/** Starts the delivery threads, one per webhook (libcurl). */
gh_err gh_alerts_start(struct gh_alerts *al) GH_WUR GH_NONNULL(1);

/**
 * Counts ev against every rule and queues what fires; an audit observer (arg is the
 * struct gh_alerts). Safe from any thread: short per-set locks, no allocation, no I/O
 * beyond one log line when the queue starts dropping.
 */
void gh_alerts_observe(void *al, const struct gh_audit_event *ev) GH_NONNULL(1, 2);

/**
 * Stops taking alerts and lets the delivery threads finish their queues for at most
 * drain_seconds (retries included); what is left is dropped, counted and logged.
 * Then frees everything. NULL is accepted.
 */
void gh_alerts_free(struct gh_alerts *al, unsigned drain_seconds);

/** Appends the alert counters (fired per rule, sent/failed per webhook, dropped). */
gh_err gh_alerts_render(struct gh_alerts *al, struct gh_buf *out) GH_WUR GH_NONNULL(1, 2);

/**
 * Takes the oldest queued alert of the first webhook with one into out (for tests; the
 * delivery threads use the same queues). GH_ERR_NOT_FOUND when every queue is empty.
 */
gh_err gh_alerts_take(struct gh_alerts *al, struct gh_alert *out) GH_WUR GH_NONNULL(1, 2);

#endif

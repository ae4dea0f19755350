#include "audit/alerts.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "audit/webhook.h"
#include "core/log.h"
#include "core/utf8.h"

#define WAYS 8   /* counters per set of the table */
#define STEPS 10 /* a window is counted in this many steps */

/* ---- counting ---- */

struct counter {
    uint64_t hash; /* 0: a free way */
    uint32_t rule;
    char group[GH_ALERT_GROUP_MAX];
    int64_t seen;         /* the newest event, for eviction */
    int64_t quiet_until;  /* fired: events before this are not counted */
    int64_t epoch[STEPS]; /* step number (ts / step) each count belongs to */
    uint32_t count[STEPS];
    struct gh_alert_event first; /* the first event since the count was zero */
};

struct cset {
    pthread_mutex_t lock;
    struct counter ways[WAYS];
};

/* One webhook's queue and delivery thread: a dead or slow destination delays only the
 * alerts for it, never those for the others. */
struct lane {
    struct gh_alerts *al;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC, under al->lock */
    struct gh_alert *queue;
    size_t head, len;
    int dropping; /* the last alert offered was dropped (and that was logged) */
    int running;
    pthread_t thread;
};

struct gh_alerts {
    struct gh_alert_rules cfg;
    struct gh_alerts_opts opts;
    struct cset *sets;
    size_t nsets; /* a power of two */
    unsigned char sipkey[crypto_shorthash_KEYBYTES];

    pthread_mutex_t lock;     /* the lanes and the stopping state */
    struct lane *lanes;       /* one per webhook */
    int started, stopping;    /* started: the webhook client is open if there are webhooks */
    struct timespec deadline; /* when stopping: the end of the drain */

    atomic_uint_fast64_t dropped;
    atomic_uint_fast64_t *fired;  /* per rule */
    atomic_uint_fast64_t *sent;   /* per webhook */
    atomic_uint_fast64_t *failed; /* per webhook */
};

/* The length of the valid UTF-8 character at u (not a control character), or 0. A NUL
 * ends a sequence early, so reading a terminated string this way stays inside it. */
static size_t utf8_len(const unsigned char *u)
{
    uint32_t cp;
    size_t len = gh_utf8_next(u, 4, &cp);
    return len > 0 && cp >= 0x20 && cp != 0x7f ? len : 0;
}

/*
 * Copies at most size - 1 bytes of s (NULL: "") as valid UTF-8 without control
 * characters: any other byte becomes '?', and a character that does not fit is left out.
 */
static void copy_text(char *out, size_t size, const char *s)
{
    size_t o = 0;
    while (s != NULL && *s != '\0') {
        size_t len = utf8_len((const unsigned char *)s);
        if (o + (len > 0 ? len : 1) >= size)
            break;
        if (len > 0) {
            memcpy(out + o, s, len);
            o += len;
            s += len;
        } else {
            out[o++] = '?';
            s++;
        }
    }
    out[o] = '\0';
}

static void event_copy(struct gh_alert_event *out, const struct gh_audit_event *ev)
{
    out->ts = ev->ts;
    out->status = ev->status;
    copy_text(out->action, sizeof(out->action), ev->action);
    copy_text(out->user, sizeof(out->user), ev->username);
    copy_text(out->user_id, sizeof(out->user_id), ev->user_id);
    copy_text(out->ip, sizeof(out->ip), ev->ip_address);
    copy_text(out->org, sizeof(out->org), ev->org_id);
}

/* What ev is counted under for group g, or NULL when it has no such value. */
static const char *group_of(enum gh_alert_group g, const struct gh_audit_event *ev)
{
    const char *v = "";
    switch (g) {
    case GH_ALERT_BY_NONE:
        return "";
    case GH_ALERT_BY_IP:
        v = ev->ip_address;
        break;
    case GH_ALERT_BY_USER:
        v = ev->username != NULL && ev->username[0] != '\0' ? ev->username : ev->user_id;
        break;
    case GH_ALERT_BY_ORG:
        v = ev->org_id;
        break;
    }
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static uint64_t group_hash(const struct gh_alerts *al, uint32_t rule, const char *group)
{
    unsigned char in[sizeof(rule) + GH_ALERT_GROUP_MAX], h[crypto_shorthash_BYTES];
    size_t n = strlen(group);
    uint64_t v;
    memcpy(in, &rule, sizeof(rule));
    memcpy(in + sizeof(rule), group, n);
    crypto_shorthash(h, in, sizeof(rule) + n, al->sipkey);
    memcpy(&v, h, sizeof(v));
    return v != 0 ? v : 1;
}

/* The counter of (rule, group) in s, taken over when new: a free way, else the stalest. */
static struct counter *counter_for(struct cset *s, uint64_t hash, uint32_t rule, const char *group)
{
    struct counter *victim = &s->ways[0];
    for (int i = 0; i < WAYS; i++) {
        struct counter *c = &s->ways[i];
        if (c->hash == hash && c->rule == rule && strcmp(c->group, group) == 0)
            return c;
        if (victim->hash != 0 && (c->hash == 0 || c->seen < victim->seen))
            victim = c;
    }
    memset(victim, 0, sizeof(*victim));
    victim->hash = hash;
    victim->rule = rule;
    memcpy(victim->group, group, strlen(group) + 1);
    return victim;
}

/*
 * Counts ev for rule number ri and group (already cut to size); 1 when it fires, with
 * a filled in (but for its webhook).
 */
static int count_event(struct gh_alerts *al, uint32_t ri, const char *group,
                       const struct gh_audit_event *ev, struct gh_alert *a)
{
    const struct gh_alert_rule *r = &al->cfg.rules[ri];
    a->rule = r;
    a->webhook = NULL;
    memcpy(a->group, group, strlen(group) + 1);
    event_copy(&a->last, ev);
    if (r->window == 0) {
        a->count = 1;
        a->first = a->last;
        return 1;
    }
    int64_t ts = ev->ts > 0 ? ev->ts : 0;
    int64_t step = ((int64_t)r->window + STEPS - 1) / STEPS;
    int64_t epoch = ts / step;
    int64_t span = ((int64_t)r->window + step - 1) / step; /* steps in a window, <= STEPS */
    size_t k = (size_t)(epoch % STEPS);
    int fired = 0;

    uint64_t hash = group_hash(al, ri, group);
    struct cset *s = &al->sets[hash & (al->nsets - 1)];
    pthread_mutex_lock(&s->lock);
    struct counter *c = counter_for(s, hash, ri, group);
    if (ts > c->seen)
        c->seen = ts;
    /* Quiet after firing; and an event older than its step's newer count is left out. */
    if (ts < c->quiet_until || (c->count[k] > 0 && c->epoch[k] > epoch))
        goto out;
    uint32_t total = 0;
    for (size_t i = 0; i < STEPS; i++)
        if (c->epoch[i] > epoch - span && c->epoch[i] <= epoch)
            total += c->count[i];
    if (total == 0)
        c->first = a->last;
    if (c->epoch[k] != epoch) {
        c->epoch[k] = epoch;
        c->count[k] = 0;
    }
    c->count[k]++;
    if (++total >= r->threshold) {
        fired = 1;
        a->count = total;
        a->first = c->first;
        c->quiet_until = ts + r->window;
        memset(c->count, 0, sizeof(c->count));
    }
out:
    pthread_mutex_unlock(&s->lock);
    return fired;
}

/* ---- the queue ---- */

static void offer(struct gh_alerts *al, const struct gh_alert *a)
{
    int log_drop = 0;
    struct lane *l = &al->lanes[a->webhook - al->cfg.webhooks];
    pthread_mutex_lock(&al->lock);
    if (al->stopping || l->len == al->opts.queue) {
        atomic_fetch_add(&al->dropped, 1);
        log_drop = !l->dropping;
        l->dropping = 1;
    } else {
        l->queue[(l->head + l->len) % al->opts.queue] = *a;
        l->len++;
        l->dropping = 0;
        pthread_cond_signal(&l->wake);
    }
    pthread_mutex_unlock(&al->lock);
    if (log_drop)
        gh_log(GH_LOG_WARN,
               "alerts: webhook %s: delivery queue full (%zu) or stopping: dropping alerts "
               "until it drains (gatehouse_alerts_dropped_total)",
               a->webhook->name, al->opts.queue);
}

void gh_alerts_observe(void *arg, const struct gh_audit_event *ev)
{
    struct gh_alerts *al = arg;
    if (ev->action == NULL)
        return;
    for (uint32_t i = 0; i < al->cfg.nrules; i++) {
        const struct gh_alert_rule *r = &al->cfg.rules[i];
        if (!gh_alert_rule_matches(r, ev->action))
            continue;
        const char *g = group_of(r->group, ev);
        if (g == NULL)
            continue;
        struct gh_alert a;
        char group[GH_ALERT_GROUP_MAX];
        copy_text(group, sizeof(group), g);
        if (!count_event(al, i, group, ev, &a))
            continue;
        atomic_fetch_add(&al->fired[i], 1);
        if (r->block > 0 && al->opts.block != NULL)
            al->opts.block(al->opts.block_arg, group, r->block, r->name);
        for (size_t t = 0; t < r->ntargets; t++) {
            a.webhook = &al->cfg.webhooks[r->targets[t]];
            offer(al, &a);
        }
    }
}

/* Pops the lane's oldest alert; the caller holds al->lock. */
static int pop_locked(struct lane *l, struct gh_alert *out)
{
    if (l->len == 0)
        return 0;
    *out = l->queue[l->head];
    l->head = (l->head + 1) % l->al->opts.queue;
    l->len--;
    return 1;
}

gh_err gh_alerts_take(struct gh_alerts *al, struct gh_alert *out)
{
    int got = 0;
    pthread_mutex_lock(&al->lock);
    for (size_t i = 0; !got && i < al->cfg.nwebhooks; i++)
        got = pop_locked(&al->lanes[i], out);
    pthread_mutex_unlock(&al->lock);
    return got ? GH_OK : GH_ERR_NOT_FOUND;
}

/* ---- delivery ---- */

static struct timespec mono_after(unsigned ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static int before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Milliseconds left of the drain (caller holds the lock), or UINT32_MAX when not stopping. */
static long drain_left_ms(const struct gh_alerts *al)
{
    if (!al->stopping)
        return (long)UINT32_MAX;
    struct timespec now = mono_after(0);
    if (!before(&now, &al->deadline))
        return 0;
    return (long)(al->deadline.tv_sec - now.tv_sec) * 1000 +
           (al->deadline.tv_nsec - now.tv_nsec) / 1000000L;
}

/* Non-zero once the drain at shutdown is over: a call in flight is cut short. */
static int drain_over(void *arg)
{
    struct gh_alerts *al = arg;
    pthread_mutex_lock(&al->lock);
    int over = drain_left_ms(al) <= 0;
    pthread_mutex_unlock(&al->lock);
    return over;
}

/* Waits ms before a retry; 0 when the drain would end first (give up). */
static int pause_retry(struct lane *l, unsigned ms)
{
    struct gh_alerts *al = l->al;
    struct timespec until = mono_after(ms);
    int ok = 1;
    pthread_mutex_lock(&al->lock);
    for (;;) {
        if (al->stopping && before(&al->deadline, &until)) {
            ok = 0;
            break;
        }
        if (pthread_cond_timedwait(&l->wake, &al->lock, &until) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&al->lock);
    return ok;
}

/* A payload may carry a secret (a PagerDuty routing key): wiped before it is freed. */
static void body_free(char *body)
{
    if (body != NULL)
        sodium_memzero(body, strlen(body));
    free(body);
}

static void deliver(struct lane *l, void *curl, const struct gh_alert *a)
{
    struct gh_alerts *al = l->al;
    size_t hook = (size_t)(a->webhook - al->cfg.webhooks);
    char *body = NULL, why[96] = "out of memory";
    unsigned tries = 0, wait = al->opts.retry_ms;
    if (gh_webhook_payload(a, &body) == GH_OK) {
        for (;;) {
            pthread_mutex_lock(&al->lock);
            long left = drain_left_ms(al);
            pthread_mutex_unlock(&al->lock);
            /* A drain cut short ends the call; the timeout clips it too. */
            long timeout = left < (long)al->opts.timeout_ms ? left : (long)al->opts.timeout_ms;
            if (timeout <= 0) {
                (void)snprintf(why, sizeof(why), "shutting down");
                break;
            }
            tries++;
            if (gh_webhook_post(curl, a->webhook, body, timeout, drain_over, al, why,
                                sizeof(why)) == GH_OK) {
                atomic_fetch_add(&al->sent[hook], 1);
                body_free(body);
                return;
            }
            if (tries >= al->opts.tries || !pause_retry(l, wait))
                break;
            wait = wait > UINT32_MAX / 2 ? wait : wait * 2;
        }
    }
    body_free(body);
    atomic_fetch_add(&al->failed[hook], 1);
    gh_log(GH_LOG_WARN, "alerts: rule %s: webhook %s: not delivered after %u tries (%s)",
           a->rule->name, a->webhook->name, tries, why);
}

static void *delivery_thread(void *arg)
{
    struct lane *l = arg;
    struct gh_alerts *al = l->al;
    void *curl = gh_webhook_handle_new();
    if (curl == NULL)
        gh_log(GH_LOG_ERROR, "alerts: libcurl did not start: alerts are dropped");
    struct gh_alert a;
    for (;;) {
        pthread_mutex_lock(&al->lock);
        while (l->len == 0 && !al->stopping)
            pthread_cond_wait(&l->wake, &al->lock);
        int got = curl != NULL && drain_left_ms(al) > 0 && pop_locked(l, &a);
        pthread_mutex_unlock(&al->lock);
        if (!got)
            break;
        deliver(l, curl, &a);
    }
    gh_webhook_handle_free(curl);
    return NULL;
}

/* Frees what gh_alerts_new allocated (the lanes' conditions are not made yet). */
static void free_parts(struct gh_alerts *al)
{
    for (size_t i = 0; al->lanes != NULL && i < al->cfg.nwebhooks; i++)
        free(al->lanes[i].queue);
    free(al->lanes);
    free(al->sets);
    free(al->fired);
    free(al->sent);
    free(al->failed);
}

/* ---- life cycle ---- */

gh_err gh_alerts_new(struct gh_alert_rules *rules, const struct gh_alerts_opts *opts,
                     struct gh_alerts **out)
{
    if (opts->queue == 0 || opts->tries == 0 || opts->max_groups == 0)
        return GH_ERR_INVALID;
    struct gh_alerts *al = calloc(1, sizeof(*al));
    if (al == NULL)
        return GH_ERR_NOMEM;
    size_t nsets = 1;
    while (nsets * WAYS < opts->max_groups)
        nsets *= 2;
    al->cfg.nwebhooks = rules->nwebhooks; /* for free_parts before the rules are taken */
    al->sets = calloc(nsets, sizeof(*al->sets));
    al->lanes = calloc(rules->nwebhooks + 1, sizeof(*al->lanes));
    al->fired = calloc(rules->nrules + 1, sizeof(*al->fired));
    al->sent = calloc(rules->nwebhooks + 1, sizeof(*al->sent));
    al->failed = calloc(rules->nwebhooks + 1, sizeof(*al->failed));
    int ok = al->sets != NULL && al->lanes != NULL && al->fired != NULL && al->sent != NULL &&
             al->failed != NULL;
    for (size_t i = 0; ok && i < rules->nwebhooks; i++)
        ok = (al->lanes[i].queue = calloc(opts->queue, sizeof(struct gh_alert))) != NULL;
    if (!ok) {
        free_parts(al);
        free(al);
        return GH_ERR_NOMEM;
    }
    al->nsets = nsets;
    for (size_t i = 0; i < nsets; i++)
        pthread_mutex_init(&al->sets[i].lock, NULL);
    crypto_shorthash_keygen(al->sipkey);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (size_t i = 0; i < rules->nwebhooks; i++) {
        al->lanes[i].al = al;
        pthread_cond_init(&al->lanes[i].wake, &ca);
    }
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&al->lock, NULL);
    al->opts = *opts;
    al->cfg = *rules;
    memset(rules, 0, sizeof(*rules));
    *out = al;
    return GH_OK;
}

/* Stops the lanes' threads: they finish their queues until the drain's deadline. */
static void stop_lanes(struct gh_alerts *al, unsigned drain_seconds)
{
    pthread_mutex_lock(&al->lock);
    al->stopping = 1;
    al->deadline = mono_after(drain_seconds * 1000u);
    for (size_t i = 0; i < al->cfg.nwebhooks; i++)
        pthread_cond_broadcast(&al->lanes[i].wake);
    pthread_mutex_unlock(&al->lock);
    for (size_t i = 0; i < al->cfg.nwebhooks; i++) {
        if (al->lanes[i].running)
            pthread_join(al->lanes[i].thread, NULL);
        al->lanes[i].running = 0;
    }
}

gh_err gh_alerts_start(struct gh_alerts *al)
{
    if (al->started)
        return GH_ERR_INTERNAL;
    /* libcurl (and what it links) is loaded only when there is a webhook to call: it
     * costs megabytes of an idle server's memory. */
    gh_err err = al->cfg.nwebhooks > 0 ? gh_webhook_open() : GH_OK;
    if (err != GH_OK)
        return err;
    al->started = 1;
    for (size_t i = 0; i < al->cfg.nwebhooks; i++) {
        if (pthread_create(&al->lanes[i].thread, NULL, delivery_thread, &al->lanes[i]) != 0) {
            stop_lanes(al, 0);
            return GH_ERR_NOMEM;
        }
        al->lanes[i].running = 1;
    }
    return GH_OK;
}

void gh_alerts_free(struct gh_alerts *al, unsigned drain_seconds)
{
    if (al == NULL)
        return;
    stop_lanes(al, drain_seconds);
    if (al->started && al->cfg.nwebhooks > 0)
        gh_webhook_close();
    size_t left = 0;
    for (size_t i = 0; i < al->cfg.nwebhooks; i++) {
        left += al->lanes[i].len;
        pthread_cond_destroy(&al->lanes[i].wake);
    }
    if (left > 0) {
        atomic_fetch_add(&al->dropped, left);
        gh_log(GH_LOG_WARN, "alerts: %zu alerts not delivered before the end of the drain", left);
    }
    for (size_t i = 0; i < al->nsets; i++)
        pthread_mutex_destroy(&al->sets[i].lock);
    pthread_mutex_destroy(&al->lock);
    sodium_memzero(al->sipkey, sizeof(al->sipkey));
    free_parts(al);
    gh_alert_rules_clear(&al->cfg);
    free(al);
}

/* ---- metrics ---- */

static gh_err render_family(struct gh_buf *out, const char *name, const char *help,
                            const char *label, const struct gh_alerts *al, size_t n,
                            const atomic_uint_fast64_t *values, int per_rule)
{
    gh_err err = gh_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (size_t i = 0; err == GH_OK && i < n; i++)
        err = gh_buf_printf(out, "%s{%s=\"%s\"} %llu\n", name, label,
                            per_rule ? al->cfg.rules[i].name : al->cfg.webhooks[i].name,
                            (unsigned long long)atomic_load(&values[i]));
    return err;
}

gh_err gh_alerts_render(struct gh_alerts *al, struct gh_buf *out)
{
    gh_err err = render_family(out, "gatehouse_alerts_fired_total",
                               "Times an alert rule reached its threshold, by rule.", "rule", al,
                               al->cfg.nrules, al->fired, 1);
    if (err == GH_OK)
        err = render_family(out, "gatehouse_alerts_sent_total",
                            "Alerts a webhook accepted with a 2xx answer, by webhook.", "webhook",
                            al, al->cfg.nwebhooks, al->sent, 0);
    if (err == GH_OK)
        err = render_family(out, "gatehouse_alerts_failed_total",
                            "Alerts given up after every try, by webhook.", "webhook", al,
                            al->cfg.nwebhooks, al->failed, 0);
    if (err == GH_OK)
        err = gh_buf_printf(out,
                            "# HELP gatehouse_alerts_dropped_total Alerts dropped because the "
                            "delivery queue was full or the drain at shutdown ended.\n"
                            "# TYPE gatehouse_alerts_dropped_total counter\n"
                            "gatehouse_alerts_dropped_total %llu\n",
                            (unsigned long long)atomic_load(&al->dropped));
    return err;
}

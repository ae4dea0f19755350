#include "audit/audit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "core/log.h"
#include "core/secret.h"

#define BATCH 128        /* deferred records per transaction */
#define QUEUE_MAX 65536  /* deferred records waiting; more are counted as lost */
#define AGG_SLOTS 4096   /* (action, address, user) windows tracked at once */
#define AGG_PROBE 8      /* slots looked at per key */
#define AGG_BUDGET 1000  /* windows opened per window length, beyond: one summary per action */
#define AGG_ACTIONS 8    /* actions summarised past the budget */
#define AGG_METADATA 256 /* bytes of a denial's metadata kept for its summary */
#define AGG_PATH 256     /* bytes of a denial's path, and of its user agent, kept */
#define PURGE_EVERY 600  /* seconds between retention purges */

/* ---- the trail's state: set by gh_audit_open before any thread, cleared by close ---- */

static struct {
    int open;
    struct gh_audit_opts opts;
    const struct gh_store_handle *store;
    struct gh_pool *pool;
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    char key_id[GH_AUDIT_KEY_ID_LEN + 1];
    int64_t last_purge;
    atomic_int appended;         /* this process wrote records: it checkpoints them when it stops */
    _Atomic int64_t quiet_until; /* after a broken tail, no checkpoint is tried before this */
} trail;

/* ---- the one place every record passes ---- */

/* Told of every stored record (alerts); set before serving, cleared after the last write. */
static gh_audit_observer observer;
static void *observer_arg;

void gh_audit_set_observer(gh_audit_observer fn, void *arg)
{
    observer = fn;
    observer_arg = arg;
}

static int keep_newest(void *arg, const struct gh_audit_checkpoint *cp)
{
    struct gh_audit_checkpoint *newest = arg;
    *newest = *cp;
    return 0;
}

static int check_row(void *arg, const struct gh_audit_row *row)
{
    return gh_audit_check_row(arg, row);
}

/*
 * GH_OK when the records from the newest checkpoint up to h->seq verify: a checkpoint
 * signs only what the chain proves, never a forged tail. The work is bounded by the
 * records between two checkpoints.
 */
static gh_err verify_tail(const struct gh_store_handle *store, const struct gh_audit_head *h)
{
    struct gh_audit_checkpoint newest;
    struct gh_audit_check check;
    struct gh_audit_verdict v;
    memset(&newest, 0, sizeof(newest));
    gh_err err = gh_store_checkpoint_list(store, keep_newest, &newest);
    if (err != GH_OK)
        return err;
    size_t ncps = newest.seq > h->start ? 1 : 0;
    gh_audit_check_init(&check, h->start, trail.pk, &newest, ncps);
    err = gh_store_audit_scan(store, ncps ? newest.seq - 1 : 0, check_row, &check);
    if (err != GH_OK)
        return err;
    gh_audit_check_finish(&check, h->seq, &v);
    if (!v.valid || check.last < h->seq) {
        /* Said once per interval, and not re-read at every append meanwhile. */
        atomic_store(&trail.quiet_until, (int64_t)time(NULL) + trail.opts.checkpoint_interval);
        gh_log(GH_LOG_ERROR, "audit: the chain is broken at record %lld (%s): not checkpointed",
               (long long)v.first_bad, v.reason ? v.reason : "missing");
        return GH_ERR_INVALID;
    }
    return GH_OK;
}

static void checkpoint(const struct gh_store_handle *store, const struct gh_audit_head *h,
                       int64_t now)
{
    struct gh_audit_checkpoint cp;
    if (verify_tail(store, h) != GH_OK)
        return;
    memset(&cp, 0, sizeof(cp));
    cp.seq = h->seq;
    cp.ts = now;
    memcpy(cp.hash, h->hash, GH_HASH_LEN);
    gh_audit_checkpoint_sign(&cp, trail.sk);
    gh_err err = gh_store_checkpoint_add(store, &cp);
    if (err != GH_OK)
        gh_log(GH_LOG_WARN, "audit: checkpoint at %lld not written: %s", (long long)cp.seq,
               gh_err_name(err));
}

/* Checkpoints h when enough records or (with by_time) enough time passed since the last. */
static void checkpoint_if_due(const struct gh_store_handle *store, const struct gh_audit_head *h,
                              int64_t now, int by_time)
{
    if (!trail.open || store != trail.store || h->seq <= h->checkpoint_seq || h->seq <= h->start ||
        now < atomic_load(&trail.quiet_until))
        return;
    if ((uint64_t)(h->seq - h->checkpoint_seq) >= trail.opts.checkpoint_every ||
        (by_time && now - h->checkpoint_ts >= trail.opts.checkpoint_interval))
        checkpoint(store, h, now);
}

/*
 * Appends evs to the chain in one transaction, then checkpoints when due. Every record
 * of the product, written at once or deferred, passes here and only here: on GH_OK they
 * are stored, chained and visible to verification, evs[i] with sequence number
 * head.seq - n + 1 + i, and the observer is told of each.
 */
static gh_err write_records_at(const struct gh_store_handle *store,
                               const struct gh_audit_event *evs, size_t n, int64_t *last)
{
    struct gh_audit_head head;
    gh_err err = gh_store_audit_append(store, evs, n, gh_audit_hash, &head);
    if (err != GH_OK)
        return err;
    atomic_store(&trail.appended, 1);
    *last = head.seq;
    if (observer != NULL)
        for (size_t i = 0; i < n; i++)
            observer(observer_arg, &evs[i]);
    checkpoint_if_due(store, &head, (int64_t)time(NULL), 0);
    return GH_OK;
}

static gh_err write_records(const struct gh_store_handle *store, const struct gh_audit_event *evs,
                            size_t n)
{
    int64_t last;
    return write_records_at(store, evs, n, &last);
}

/* ---- grouped records: callers that wait, one transaction per batch (group commit) ---- */

struct grouped {
    struct grouped *next;
    const struct gh_store_handle *store;
    const struct gh_audit_event *ev;
    int64_t seq;
    gh_err err;
    int done;
};

static struct {
    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t written;
    struct grouped *head, *tail;
    int writing; /* a caller is writing a batch: the others wait and may be in the next */
} grp = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0};

/* Takes up to BATCH waiting records of the head's store off the list; under grp.lock. */
static size_t take_group(struct grouped **batch, struct gh_audit_event *evs)
{
    size_t n = 0;
    const struct gh_store_handle *store = grp.head->store;
    struct grouped **at = &grp.head;
    grp.tail = NULL;
    while (*at != NULL) {
        struct grouped *g = *at;
        if (n < BATCH && g->store == store) {
            batch[n] = g;
            evs[n++] = *g->ev;
            *at = g->next;
        } else {
            grp.tail = g;
            at = &g->next;
        }
    }
    return n;
}

gh_err gh_audit_append_grouped(const struct gh_store_handle *store, const struct gh_audit_event *ev,
                               int64_t *seq)
{
    struct grouped me = {NULL, store, ev, 0, GH_OK, 0};
    struct grouped *batch[BATCH];
    struct gh_audit_event evs[BATCH];
    pthread_mutex_lock(&grp.lock);
    if (grp.tail != NULL)
        grp.tail->next = &me;
    else
        grp.head = &me;
    grp.tail = &me;
    while (!me.done) {
        if (grp.writing) {
            pthread_cond_wait(&grp.written, &grp.lock);
            continue;
        }
        /* The first caller to find no writer writes every waiting record, its own too. */
        grp.writing = 1;
        size_t n = take_group(batch, evs);
        pthread_mutex_unlock(&grp.lock);
        int64_t last = 0;
        gh_err err = write_records_at(batch[0]->store, evs, n, &last);
        pthread_mutex_lock(&grp.lock);
        for (size_t i = 0; i < n; i++) {
            batch[i]->err = err;
            batch[i]->seq = last - (int64_t)(n - 1 - i);
            batch[i]->done = 1;
        }
        grp.writing = 0;
        pthread_cond_broadcast(&grp.written);
    }
    pthread_mutex_unlock(&grp.lock);
    if (me.err != GH_OK) {
        gh_log(GH_LOG_ERROR, "audit: could not record %s: %s", ev->action, gh_err_name(me.err));
        return me.err == GH_ERR_BUSY ? me.err : GH_ERR_IO;
    }
    *seq = me.seq;
    return GH_OK;
}

static void fill_event(struct gh_audit_event *ev, const char *action, const struct gh_reqmeta *meta,
                       const struct gh_audit_subject *subject, int status,
                       const char *metadata_json)
{
    *ev = (struct gh_audit_event){
        .ts = (int64_t)time(NULL),
        .action = action,
        .status = status,
        .metadata_json = metadata_json,
    };
    if (meta != NULL) {
        ev->ip_address = meta->ip;
        ev->user_agent = meta->user_agent;
        ev->method = meta->method;
        ev->path = meta->path;
    }
    if (subject != NULL) {
        ev->user_id = subject->user_id;
        ev->username = subject->username;
        ev->org_id = subject->org_id;
    }
}

gh_err gh_audit_record(const struct gh_store_handle *store, const char *action,
                       const struct gh_reqmeta *meta, const struct gh_audit_subject *subject,
                       int status, const char *metadata_json)
{
    return gh_audit_record_on(store, action, meta, subject, NULL, status, metadata_json);
}

gh_err gh_audit_record_on(const struct gh_store_handle *store, const char *action,
                          const struct gh_reqmeta *meta, const struct gh_audit_subject *subject,
                          const struct gh_audit_resource *res, int status,
                          const char *metadata_json)
{
    struct gh_audit_event ev;
    fill_event(&ev, action, meta, subject, status, metadata_json);
    if (res != NULL) {
        ev.resource_type = res->type;
        ev.resource_id = res->id;
    }
    gh_err err = write_records(store, &ev, 1);
    if (err == GH_OK)
        return GH_OK;
    gh_log(GH_LOG_ERROR, "audit: could not record %s: %s", action, gh_err_name(err));
    /* Whatever the store said, the caller's action failed for want of storage (503). */
    return err == GH_ERR_BUSY ? err : GH_ERR_IO;
}

/* ---- deferred records: a FIFO drained in batches ---- */

/* A deferred record: the fields point into text, one allocation. */
struct deferred {
    struct deferred *next;
    const struct gh_store_handle *store;
    struct gh_audit_event ev;
    char text[];
};

static struct {
    pthread_mutex_t lock; /* guards the fields below */
    struct deferred *head, *tail;
    size_t pending;
    uint64_t lost; /* records not queued (full, no memory), to be reported */
    int scheduled; /* a drain job is queued or running */
    int failing;   /* the last batch failed (logged once) */
    const struct gh_store_handle *lost_store;
    pthread_mutex_t writing; /* one drain at a time, so records keep their order */
} q = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0, 0, 0, NULL, PTHREAD_MUTEX_INITIALIZER};

/* Writes one batch from the queue's head: GH_OK with *more, or the store's failure (the
 * batch stays queued for the next try). Caller holds q.writing. */
static gh_err drain_batch(int *more)
{
    struct gh_audit_event evs[BATCH];
    char lost_md[48];
    size_t n = 0;
    pthread_mutex_lock(&q.lock);
    const struct gh_store_handle *store = q.head ? q.head->store : q.lost_store;
    for (struct deferred *d = q.head; d != NULL && n < BATCH && d->store == store; d = d->next)
        evs[n++] = d->ev;
    uint64_t lost = q.lost;
    pthread_mutex_unlock(&q.lock);
    if (store == NULL || (n == 0 && lost == 0)) {
        *more = 0;
        return GH_OK;
    }
    if (lost > 0 && n < BATCH) {
        (void)snprintf(lost_md, sizeof(lost_md), "{\"lost\":%llu}", (unsigned long long)lost);
        fill_event(&evs[n++], "AUDIT_LOST", NULL, NULL, 0, lost_md);
    } else {
        lost = 0;
    }
    gh_err err = write_records(store, evs, n);
    if (err != GH_OK)
        return err;
    pthread_mutex_lock(&q.lock);
    q.lost -= lost;
    for (size_t i = 0; i < n - (lost > 0); i++) {
        struct deferred *d = q.head;
        q.head = d->next;
        q.pending--;
        free(d);
    }
    if (q.head == NULL)
        q.tail = NULL;
    *more = q.head != NULL || q.lost > 0;
    pthread_mutex_unlock(&q.lock);
    return GH_OK;
}

/* Writes everything queued; on a store failure leaves the rest for the next tick. */
static void drain(void)
{
    int more = 1;
    pthread_mutex_lock(&q.writing);
    while (more) {
        gh_err err = drain_batch(&more);
        pthread_mutex_lock(&q.lock);
        int was_failing = q.failing;
        q.failing = err != GH_OK;
        pthread_mutex_unlock(&q.lock);
        if (err != GH_OK) {
            if (!was_failing)
                gh_log(GH_LOG_ERROR, "audit: deferred records not written (kept, retried): %s",
                       gh_err_name(err));
            break;
        }
    }
    pthread_mutex_unlock(&q.writing);
}

static void drain_job(void *arg)
{
    (void)arg;
    for (;;) {
        drain();
        /* Records queued while this job was running did not schedule another: take them
         * too. Clearing the flag under the lock lets the next record schedule a new job.
         * What a failure left waits for the next tick rather than spinning. */
        pthread_mutex_lock(&q.lock);
        int again = q.head != NULL && !q.failing;
        if (!again)
            q.scheduled = 0;
        pthread_mutex_unlock(&q.lock);
        if (!again)
            return;
    }
}

/* Copies s to *at and returns the copy (NULL stays NULL). */
static const char *put(char **at, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*at, s, n);
    const char *copy = *at;
    *at += n;
    return copy;
}

static size_t len0(const char *s)
{
    return s == NULL ? 0 : strlen(s) + 1;
}

/* Queues a copy of ev and has pool drain it (pool NULL: the caller drains); counts it as
 * lost when the queue cannot take it. */
static void enqueue(struct gh_pool *pool, const struct gh_store_handle *store,
                    const struct gh_audit_event *ev)
{
    size_t n = len0(ev->action) + len0(ev->ip_address) + len0(ev->user_agent) + len0(ev->method) +
               len0(ev->path) + len0(ev->user_id) + len0(ev->username) + len0(ev->org_id) +
               len0(ev->resource_type) + len0(ev->resource_id) + len0(ev->metadata_json);
    struct deferred *d = malloc(sizeof(*d) + n);
    if (d != NULL) {
        char *at = d->text;
        d->next = NULL;
        d->store = store;
        d->ev = (struct gh_audit_event){
            .ts = ev->ts,
            .action = put(&at, ev->action),
            .ip_address = put(&at, ev->ip_address),
            .user_agent = put(&at, ev->user_agent),
            .method = put(&at, ev->method),
            .path = put(&at, ev->path),
            .user_id = put(&at, ev->user_id),
            .username = put(&at, ev->username),
            .org_id = put(&at, ev->org_id),
            .resource_type = put(&at, ev->resource_type),
            .resource_id = put(&at, ev->resource_id),
            .status = ev->status,
            .metadata_json = put(&at, ev->metadata_json),
        };
    }
    pthread_mutex_lock(&q.lock);
    int schedule = 0;
    if (d == NULL || q.pending >= QUEUE_MAX) {
        q.lost++;
        q.lost_store = store;
        free(d);
    } else {
        if (q.tail != NULL)
            q.tail->next = d;
        else
            q.head = d;
        q.tail = d;
        q.pending++;
        schedule = !q.scheduled;
        q.scheduled = 1;
    }
    pthread_mutex_unlock(&q.lock);
    if (schedule && (pool == NULL || gh_pool_submit(pool, drain_job, NULL) != GH_OK)) {
        pthread_mutex_lock(&q.lock);
        q.scheduled = 0; /* the pool is full: the next record or tick schedules again */
        pthread_mutex_unlock(&q.lock);
    }
}

/* ---- aggregation of repeated denials ---- */

struct slot {
    int used;
    unsigned char key[crypto_shorthash_BYTES];
    int64_t window_end;
    uint64_t suppressed;
    const struct gh_store_handle *store;
    int status;
    char action[48], ip[64], user_id[GH_UUID_LEN + 1], username[65], org_id[GH_UUID_LEN + 1];
    char method[16], path[AGG_PATH], user_agent[AGG_PATH];
    char metadata[AGG_METADATA]; /* the first record's, when it fits; else "" */
};

struct overflow {
    char action[48];
    int status;
    uint64_t suppressed;
    const struct gh_store_handle *store;
};

static struct {
    pthread_mutex_t lock; /* guards the fields below */
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    int keyed;
    struct slot slots[AGG_SLOTS];
    size_t live; /* slots in use: an idle table is not swept (nor paged in) */
    int64_t budget_end;
    unsigned opened; /* windows opened since the budget window began */
    struct overflow over[AGG_ACTIONS];
} agg = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void copy_text(char *dst, size_t size, const char *s)
{
    (void)snprintf(dst, size, "%s", s != NULL ? s : "");
}

/* A summary of the n repeats a window of s suppressed (many: of many sources, s holds only
 * the action), queued like any deferred record. */
static void summarise(struct gh_pool *pool, const struct slot *s, uint64_t n, int many)
{
    char md[AGG_METADATA + 96];
    (void)snprintf(md, sizeof(md), "{\"suppressed\":%llu,\"window\":%lld%s%s%s}",
                   (unsigned long long)n, (long long)trail.opts.aggregate_window,
                   many ? ",\"sources\":\"many\"" : "", *s->metadata ? ",\"of\":" : "",
                   s->metadata);
    struct gh_audit_event ev = {
        .ts = (int64_t)time(NULL),
        .action = s->action,
        .ip_address = s->ip,
        .user_id = s->user_id,
        .username = s->username,
        .org_id = s->org_id,
        .method = s->method,
        .path = s->path,
        .user_agent = s->user_agent,
        .status = s->status,
        .metadata_json = md,
    };
    enqueue(pool, s->store, &ev);
}

/* Counts a repeat of ev: 1 when it is folded into a window (not to be written now). */
static int aggregate(struct gh_pool *pool, const struct gh_store_handle *store,
                     const struct gh_audit_event *ev)
{
    unsigned char key[crypto_shorthash_BYTES];
    struct slot evicted;
    int suppressed = 0, have_evicted = 0;
    int64_t now = ev->ts, window = trail.opts.aggregate_window;
    if (window <= 0)
        return 0;
    pthread_mutex_lock(&agg.lock);
    if (!agg.keyed) {
        randombytes_buf(agg.hash_key, sizeof(agg.hash_key));
        agg.keyed = 1;
    }
    /* The key: action, address, user agent and user, the route asked for and what the
     * denial says (the permission, the reason), each with its NUL so that fields cannot
     * shift. A flood that varies them opens windows only up to the budget below. */
    char material[48 + 64 + AGG_PATH + GH_UUID_LEN + 1 + 16 + AGG_PATH + AGG_METADATA];
    size_t at = 0;
    const char *parts[7] = {ev->action, ev->ip_address, ev->user_agent,   ev->user_id,
                            ev->method, ev->path,       ev->metadata_json};
    size_t caps[7] = {48, 64, AGG_PATH, GH_UUID_LEN + 1, 16, AGG_PATH, AGG_METADATA};
    for (int i = 0; i < 7; i++) {
        size_t n = parts[i] ? strnlen(parts[i], caps[i] - 1) : 0;
        memcpy(material + at, parts[i] ? parts[i] : "", n);
        material[at + n] = '\0';
        at += n + 1;
    }
    crypto_shorthash(key, (const unsigned char *)material, at, agg.hash_key);
    uint64_t h;
    memcpy(&h, key, sizeof(h));
    struct slot *hit = NULL, *victim = NULL;
    for (size_t i = 0; i < AGG_PROBE; i++) {
        struct slot *s = &agg.slots[(h + i) % AGG_SLOTS];
        if (s->used && memcmp(s->key, key, sizeof(key)) == 0) {
            hit = s;
            break;
        }
        if (victim == NULL || !s->used || (victim->used && s->window_end < victim->window_end))
            victim = s;
    }
    if (hit != NULL && now < hit->window_end) {
        hit->suppressed++;
        suppressed = 1;
    } else {
        if (now >= agg.budget_end) {
            agg.budget_end = now + window;
            agg.opened = 0;
        }
        if (agg.opened >= AGG_BUDGET) {
            /* Too many distinct sources: one count per action until the budget renews. */
            struct overflow *o = NULL;
            for (size_t i = 0; i < AGG_ACTIONS && o == NULL; i++)
                if (agg.over[i].suppressed == 0 || strcmp(agg.over[i].action, ev->action) == 0)
                    o = &agg.over[i];
            if (o == NULL)
                o = &agg.over[AGG_ACTIONS - 1]; /* counted under the last action tracked */
            if (o->suppressed == 0) {
                copy_text(o->action, sizeof(o->action), ev->action);
                o->status = ev->status;
                o->store = store;
            }
            o->suppressed++;
            suppressed = 1;
        } else {
            struct slot *s = hit != NULL ? hit : victim;
            if (s->used && s->suppressed > 0) {
                evicted = *s;
                have_evicted = 1;
            }
            if (!s->used)
                agg.live++;
            memset(s, 0, sizeof(*s));
            s->used = 1;
            memcpy(s->key, key, sizeof(key));
            s->window_end = now + window;
            s->store = store;
            s->status = ev->status;
            copy_text(s->action, sizeof(s->action), ev->action);
            copy_text(s->ip, sizeof(s->ip), ev->ip_address);
            copy_text(s->user_id, sizeof(s->user_id), ev->user_id);
            copy_text(s->username, sizeof(s->username), ev->username);
            copy_text(s->org_id, sizeof(s->org_id), ev->org_id);
            copy_text(s->method, sizeof(s->method), ev->method);
            copy_text(s->path, sizeof(s->path), ev->path);
            copy_text(s->user_agent, sizeof(s->user_agent), ev->user_agent);
            if (ev->metadata_json != NULL && strlen(ev->metadata_json) < sizeof(s->metadata))
                copy_text(s->metadata, sizeof(s->metadata), ev->metadata_json);
            agg.opened++;
        }
    }
    pthread_mutex_unlock(&agg.lock);
    if (have_evicted)
        summarise(pool, &evicted, evicted.suppressed, 0);
    return suppressed;
}

/* Writes the summaries of windows ended by now (all of them when flush), to be drained. */
static void sweep(struct gh_pool *pool, int64_t now, int flush)
{
    pthread_mutex_lock(&agg.lock);
    for (size_t i = 0; i < AGG_SLOTS && agg.live > 0; i++) {
        struct slot *s = &agg.slots[i];
        if (!s->used || (!flush && now < s->window_end))
            continue;
        if (s->suppressed > 0)
            summarise(pool, s, s->suppressed, 0);
        memset(s, 0, sizeof(*s));
        agg.live--;
    }
    if (flush || now >= agg.budget_end)
        for (size_t i = 0; i < AGG_ACTIONS; i++) {
            struct overflow *o = &agg.over[i];
            if (o->suppressed > 0) {
                struct slot many = {.store = o->store, .status = o->status};
                copy_text(many.action, sizeof(many.action), o->action);
                summarise(pool, &many, o->suppressed, 1);
            }
            memset(o, 0, sizeof(*o));
        }
    pthread_mutex_unlock(&agg.lock);
}

void gh_audit_record_async(struct gh_pool *pool, const struct gh_store_handle *store,
                           const char *action, const struct gh_reqmeta *meta,
                           const struct gh_audit_subject *subject, int status,
                           const char *metadata_json)
{
    struct gh_audit_event ev;
    fill_event(&ev, action, meta, subject, status, metadata_json);
    if (!aggregate(pool, store, &ev))
        enqueue(pool, store, &ev);
}

/* ---- life cycle, upkeep ---- */

gh_err gh_audit_open(const struct gh_audit_opts *opts, const struct gh_store_handle *store,
                     struct gh_pool *pool)
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    gh_err err = gh_secret_file_load(opts->seal_key, seed, sizeof(seed));
    if (err != GH_OK) {
        gh_log(GH_LOG_ERROR, "audit: cannot use the checkpoint key %s: %s%s", opts->seal_key,
               gh_err_name(err),
               err == GH_ERR_FILE_MODE ? " (readable by group or others: chmod 600)" : "");
        return err;
    }
    crypto_sign_seed_keypair(trail.pk, trail.sk, seed);
    sodium_memzero(seed, sizeof(seed));
    gh_audit_key_id(trail.pk, trail.key_id);
    trail.opts = *opts;
    trail.opts.seal_key = NULL; /* borrowed: not kept */
    if (trail.opts.checkpoint_every == 0)
        trail.opts.checkpoint_every = 1;
    trail.store = store;
    trail.pool = pool;
    trail.last_purge = 0;
    atomic_store(&trail.appended, 0);
    atomic_store(&trail.quiet_until, 0);
    trail.open = 1;
    return GH_OK;
}

void gh_audit_close(void)
{
    if (!trail.open)
        return;
    struct gh_audit_head h;
    sweep(NULL, 0, 1);
    drain();
    /* A process that only read (audit verify, export) leaves the trail as it found it. */
    if (atomic_load(&trail.appended) && gh_store_audit_head(trail.store, &h) == GH_OK &&
        h.seq > h.checkpoint_seq && h.seq > h.start)
        checkpoint(trail.store, &h, (int64_t)time(NULL));
    sodium_memzero(trail.sk, sizeof(trail.sk));
    trail.open = 0;
    trail.store = NULL;
    trail.pool = NULL;
}

gh_err gh_audit_purge(int64_t now, int64_t *n)
{
    int64_t purged = 0;
    if (!trail.open)
        return GH_ERR_NOT_FOUND;
    trail.last_purge = now;
    if (trail.opts.retention > 0) {
        gh_err err = gh_store_audit_purge(trail.store, now - trail.opts.retention, &purged);
        if (err != GH_OK)
            return err;
        if (purged > 0)
            gh_log(GH_LOG_INFO, "audit: retention purged %lld records", (long long)purged);
    }
    *n = purged;
    return GH_OK;
}

void gh_audit_tick(int64_t now)
{
    struct gh_audit_head h;
    int64_t purged = 0;
    if (!trail.open)
        return;
    sweep(NULL, now, 0);
    drain();
    if (gh_store_audit_head(trail.store, &h) == GH_OK)
        checkpoint_if_due(trail.store, &h, now, 1);
    if (trail.opts.retention > 0 && now - trail.last_purge >= PURGE_EVERY) {
        gh_err err = gh_audit_purge(now, &purged);
        if (err != GH_OK)
            gh_log(GH_LOG_WARN, "audit: retention purge failed: %s", gh_err_name(err));
    }
}

gh_err gh_audit_public_key(unsigned char pk[32], char key_id[GH_AUDIT_KEY_ID_LEN + 1])
{
    if (!trail.open)
        return GH_ERR_NOT_FOUND;
    memcpy(pk, trail.pk, sizeof(trail.pk));
    memcpy(key_id, trail.key_id, sizeof(trail.key_id));
    return GH_OK;
}

/* ---- verification ---- */

struct checkpoints {
    struct gh_audit_checkpoint *v;
    size_t n, cap;
    int nomem;
};

static int add_checkpoint(void *arg, const struct gh_audit_checkpoint *cp)
{
    struct checkpoints *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct gh_audit_checkpoint *v = realloc(c->v, cap * sizeof(*v));
        if (v == NULL) {
            c->nomem = 1;
            return 1;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = *cp;
    return 0;
}

gh_err gh_audit_verify(const struct gh_store_handle *store, const unsigned char *pk,
                       struct gh_audit_verdict *out)
{
    struct checkpoints cps = {NULL, 0, 0, 0};
    struct gh_audit_head head;
    struct gh_audit_check check;
    if (pk == NULL && !trail.open)
        return GH_ERR_NOT_FOUND;
    /* The head first: whatever is appended while the rest is read only adds to it. */
    gh_err err = gh_store_audit_head(store, &head);
    if (err == GH_OK)
        err = gh_store_checkpoint_list(store, add_checkpoint, &cps);
    if (err == GH_OK && cps.nomem)
        err = GH_ERR_NOMEM;
    if (err != GH_OK)
        goto out;
    gh_audit_check_init(&check, head.start, pk != NULL ? pk : trail.pk, cps.v, cps.n);
    if ((err = gh_store_audit_scan(store, 0, check_row, &check)) != GH_OK)
        goto out;
    gh_audit_check_finish(&check, head.seq, out);
out:
    free(cps.v);
    return err;
}

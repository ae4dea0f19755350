/* Address blocks: the set every request is checked against (blocks.h). */
#include "edge/blocks.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "core/log.h"
#include "core/time.h"
#include "core/utf8.h"
#include "core/uuid.h"

/* A replaced snapshot lives this long after it stopped being current (seconds). */
#define RETIRE_GRACE 10
/* Automatic blocks waiting for the next poll. */
#define PENDING_MAX 64

/* One block of a snapshot: what a hit reports, and when it expires. */
struct entry {
    char id[GH_UUID_LEN + 1];
    char cidr[GH_BLOCK_CIDR_MAX];
    int64_t expires_at;
    int automatic;
};

/* A range as a lookup probes it: the address masked to bits, as two words in memory order. */
struct slot {
    uint64_t hi, lo;
    uint32_t entry;
    uint8_t bits;
    uint8_t used;
};

/* A prefix length in use and its mask. */
struct len {
    uint64_t mhi, mlo;
    uint8_t bits;
};

/* The prefix lengths in use for one family, longest first: an IPv4 client (IPv4 mapped)
 * probes only the IPv4 ranges' lengths, an IPv6 client only the others'. */
struct lens {
    struct len l[129];
    size_t n;
};

struct snap {
    struct slot *slots;
    size_t mask; /* slots - 1, a power of two at least twice the entries */
    struct lens v4, v6;
    struct entry *entries;
    size_t n, nauto;
    int64_t next_expiry; /* the soonest expires_at, INT64_MAX when none expires */
    int64_t epoch;
    struct snap *retired_next;
    int64_t retired_at; /* monotonic seconds */
};

struct pending {
    uint8_t addr[16];
    uint32_t seconds;
    char rule[40];
};

struct gh_blocks {
    const struct gh_store_handle *store;
    struct gh_blocks_opts opts;
    uint64_t hkey[4]; /* the hash's secret key: where a range lands is not predictable */
    struct snap *_Atomic current; /* NULL: no block */
    pthread_mutex_t lock;         /* writers: the store's changes, the snapshot, retired */
    struct snap *retired;
    int64_t epoch;     /* the store's epoch of the current snapshot */
    int64_t reload_at; /* the current snapshot's next_expiry */
    pthread_mutex_t pending_lock;
    struct pending pending[PENDING_MAX];
    size_t npending;
    int dropping;
};

static int64_t mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec;
}

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/*
 * A keyed multiply-xorshift hash of a masked address. It need not be a PRF: the sets hold
 * what operators blocked, at most half full, so a client's choice of address only picks
 * where a probe starts, and the random key hides even that. SipHash cost four times as
 * much per probe (bench/RESULTS.md).
 */
static size_t key_hash(const struct gh_blocks *b, uint64_t hi, uint64_t lo, unsigned bits)
{
    uint64_t h = ((hi ^ b->hkey[0]) * b->hkey[1]) ^ ((lo ^ b->hkey[2]) * b->hkey[3]) ^ bits;
    h ^= h >> 32;
    h *= 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    return (size_t)h;
}

static int is_v4(const uint8_t addr[16])
{
    return memcmp(addr, mapped_prefix, sizeof(mapped_prefix)) == 0;
}

int gh_blocks_match(struct gh_blocks *b, const uint8_t addr[16], struct gh_block_hit *hit)
{
    const struct snap *s = atomic_load_explicit(&b->current, memory_order_acquire);
    if (s == NULL)
        return 0;
    const struct lens *ls = is_v4(addr) ? &s->v4 : &s->v6;
    uint64_t hi, lo;
    memcpy(&hi, addr, 8);
    memcpy(&lo, addr + 8, 8);
    for (size_t i = 0; i < ls->n; i++) {
        const struct len *l = &ls->l[i];
        uint64_t mhi = hi & l->mhi, mlo = lo & l->mlo;
        for (size_t at = key_hash(b, mhi, mlo, l->bits) & s->mask;; at = (at + 1) & s->mask) {
            const struct slot *sl = &s->slots[at];
            if (!sl->used)
                break;
            if (sl->hi == mhi && sl->lo == mlo && sl->bits == l->bits) {
                if (hit != NULL) {
                    const struct entry *e = &s->entries[sl->entry];
                    memcpy(hit->id, e->id, sizeof(hit->id));
                    memcpy(hit->cidr, e->cidr, sizeof(hit->cidr));
                }
                return 1;
            }
        }
    }
    return 0;
}

/* ---- the text of a range ---- */

/* 1 when the first bits bits of a and b are equal. */
static int prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, full) != 0)
        return 0;
    return rest == 0 || ((a[full] ^ b[full]) & (0xffu << (8 - rest))) == 0;
}

const char *gh_blocks_canonical(const char *cidr, char out[GH_BLOCK_CIDR_MAX])
{
    struct gh_cidr c;
    size_t len = strnlen(cidr, GH_BLOCK_CIDR_MAX);
    if (len == GH_BLOCK_CIDR_MAX || gh_cidr_parse(cidr, len, &c) != GH_OK)
        return "expected an address or a CIDR range (IPv4 or IPv6) with its host bits zero";
    /* Every address, or a prefix that holds all of IPv4 (::ffff:0:0/96 or shorter). */
    if (c.bits == 0 || (c.bits <= 96 && prefix_eq(c.addr, mapped_prefix, c.bits)))
        return "a block of every address (0.0.0.0/0, ::/0) is refused";
    char text[INET6_ADDRSTRLEN];
    int v4 = c.bits >= 96 && memcmp(c.addr, mapped_prefix, sizeof(mapped_prefix)) == 0;
    if (inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? c.addr + 12 : c.addr, text, sizeof(text)) == NULL)
        return "expected an address or a CIDR range";
    (void)snprintf(out, GH_BLOCK_CIDR_MAX, "%s/%u", text, v4 ? c.bits - 96 : c.bits);
    return NULL;
}

/* ---- snapshots ---- */

static void snap_free(struct snap *s)
{
    if (s == NULL)
        return;
    free(s->slots);
    free(s->entries);
    free(s);
}

struct collect {
    struct entry *entries;
    size_t n, cap;
    gh_err err;
};

static int collect_block(void *arg, const struct gh_address_block *blk)
{
    struct collect *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap == 0 ? 16 : c->cap * 2;
        struct entry *grown = realloc(c->entries, cap * sizeof(*grown));
        if (grown == NULL) {
            c->err = GH_ERR_NOMEM;
            return 1;
        }
        c->entries = grown;
        c->cap = cap;
    }
    struct entry *e = &c->entries[c->n++];
    memcpy(e->id, blk->id, sizeof(e->id));
    memcpy(e->cidr, blk->cidr, sizeof(e->cidr));
    e->expires_at = blk->expires_at;
    e->automatic = blk->automatic;
    return 0;
}

/* Adds bits (and its mask) to ls unless it is there, keeping ls longest first. */
static void lens_add(struct lens *ls, unsigned bits)
{
    size_t k = 0;
    while (k < ls->n && ls->l[k].bits > bits)
        k++;
    if (k < ls->n && ls->l[k].bits == bits)
        return;
    memmove(&ls->l[k + 1], &ls->l[k], (ls->n - k) * sizeof(ls->l[0]));
    uint8_t m[16] = {0};
    memset(m, 0xff, bits / 8);
    if (bits % 8 != 0)
        m[bits / 8] = (uint8_t)(0xffu << (8 - bits % 8));
    memcpy(&ls->l[k].mhi, m, 8);
    memcpy(&ls->l[k].mlo, m + 8, 8);
    ls->l[k].bits = (uint8_t)bits;
    ls->n++;
}

/* Puts entry i (range c) into s's hash set and its prefix length into its family's lens. */
static void snap_insert(const struct gh_blocks *b, struct snap *s, const struct gh_cidr *c,
                        size_t i)
{
    uint64_t hi, lo;
    memcpy(&hi, c->addr, 8); /* host bits are zero (gh_cidr_parse): already masked */
    memcpy(&lo, c->addr + 8, 8);
    size_t at = key_hash(b, hi, lo, c->bits) & s->mask;
    while (s->slots[at].used &&
           !(s->slots[at].hi == hi && s->slots[at].lo == lo && s->slots[at].bits == c->bits))
        at = (at + 1) & s->mask;
    if (s->slots[at].used)
        return; /* the same range twice ("10.0.0.1" and "10.0.0.1/32"): one slot */
    s->slots[at] = (struct slot){hi, lo, (uint32_t)i, (uint8_t)c->bits, 1};
    int v4 = c->bits >= 96 && is_v4(c->addr);
    /* An IPv6 range that holds IPv4 addresses holds them all: refused by gh_blocks_add, but
     * a row written by other means still blocks what it says. */
    int both = !v4 && c->bits <= 96 && prefix_eq(c->addr, mapped_prefix, c->bits);
    lens_add(v4 ? &s->v4 : &s->v6, c->bits);
    if (both)
        lens_add(&s->v4, c->bits);
}

/* A snapshot of the entries (taken over), or NULL with *err. */
static struct snap *snap_build(const struct gh_blocks *b, struct collect *c, gh_err *err)
{
    struct snap *s = calloc(1, sizeof(*s));
    size_t slots = 16;
    while (slots < c->n * 2)
        slots *= 2;
    if (s == NULL || (s->slots = calloc(slots, sizeof(*s->slots))) == NULL) {
        free(s);
        *err = GH_ERR_NOMEM;
        return NULL;
    }
    s->mask = slots - 1;
    s->entries = c->entries;
    s->n = c->n;
    s->next_expiry = INT64_MAX;
    c->entries = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const struct entry *e = &s->entries[i];
        struct gh_cidr range;
        /* Stored canonical by gh_blocks_add; a row that does not read blocks nothing. */
        if (gh_cidr_parse(e->cidr, strlen(e->cidr), &range) != GH_OK) {
            gh_log(GH_LOG_WARN, "blocks: ignoring unreadable block %s", e->id);
            continue;
        }
        snap_insert(b, s, &range, i);
        s->nauto += e->automatic != 0;
        if (e->expires_at != 0 && e->expires_at < s->next_expiry)
            s->next_expiry = e->expires_at;
    }
    return s;
}

/* Replaces the current snapshot with s (NULL: no block); the caller holds b->lock. */
static void publish(struct gh_blocks *b, struct snap *s)
{
    struct snap *old = atomic_exchange_explicit(&b->current, s, memory_order_acq_rel);
    if (old != NULL) {
        old->retired_at = mono_now();
        old->retired_next = b->retired;
        b->retired = old;
    }
    b->reload_at = s != NULL ? s->next_expiry : INT64_MAX;
}

/* Frees the snapshots retired more than RETIRE_GRACE ago; the caller holds b->lock. */
static void reap(struct gh_blocks *b, int force)
{
    int64_t now = mono_now();
    for (struct snap **p = &b->retired; *p != NULL;) {
        struct snap *s = *p;
        if (force || now - s->retired_at > RETIRE_GRACE) {
            *p = s->retired_next;
            snap_free(s);
        } else {
            p = &s->retired_next;
        }
    }
}

/* Reads the store's epoch and live blocks and publishes them; the caller holds b->lock. */
static gh_err reload(struct gh_blocks *b, int64_t now)
{
    struct collect c = {NULL, 0, 0, GH_OK};
    int64_t epoch = 0;
    /* The epoch first: a change after it is seen by the next poll. */
    gh_err err = gh_store_block_epoch(b->store, &epoch);
    if (err == GH_OK)
        err = gh_store_block_list(b->store, now, b->opts.max, 0, collect_block, &c);
    if (err == GH_OK)
        err = c.err;
    struct snap *s = NULL;
    if (err == GH_OK && c.n > 0)
        s = snap_build(b, &c, &err);
    free(c.entries);
    if (err != GH_OK)
        return err;
    publish(b, s);
    b->epoch = epoch;
    return GH_OK;
}

gh_err gh_blocks_new(const struct gh_store_handle *store, const struct gh_blocks_opts *opts,
                     struct gh_blocks **out)
{
    struct gh_blocks *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return GH_ERR_NOMEM;
    b->store = store;
    b->opts = *opts;
    randombytes_buf(b->hkey, sizeof(b->hkey));
    b->hkey[1] |= 1; /* odd multipliers: no bit of the input lost */
    b->hkey[3] |= 1;
    atomic_init(&b->current, NULL);
    pthread_mutex_init(&b->lock, NULL);
    pthread_mutex_init(&b->pending_lock, NULL);
    b->reload_at = INT64_MAX;
    pthread_mutex_lock(&b->lock);
    gh_err err = reload(b, gh_time_now());
    pthread_mutex_unlock(&b->lock);
    if (err != GH_OK) {
        gh_blocks_free(b);
        return err;
    }
    *out = b;
    return GH_OK;
}

void gh_blocks_free(struct gh_blocks *b)
{
    if (b == NULL)
        return;
    snap_free(atomic_load(&b->current));
    reap(b, 1);
    pthread_mutex_destroy(&b->lock);
    pthread_mutex_destroy(&b->pending_lock);
    sodium_memzero(b->hkey, sizeof(b->hkey));
    free(b);
}

/* ---- changes ---- */

/* 1 to GH_BLOCK_REASON_MAX bytes of UTF-8 without control characters. */
static int reason_ok(const char *s)
{
    size_t n = strnlen(s, GH_BLOCK_REASON_MAX + 1);
    if (n == 0 || n > GH_BLOCK_REASON_MAX || !gh_utf8_valid((const unsigned char *)s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* 1 when an automatic block of range c would cover a protected address. */
static int protected_range(const struct gh_blocks *b, const struct gh_cidr *c)
{
    const struct gh_cidr_list *lists[] = {&b->opts.trusted, &b->opts.admin};
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; i < lists[l]->n; i++) {
            const struct gh_cidr *p = &lists[l]->items[i];
            int everyone =
                p->bits == 0 || (p->bits == 96 && memcmp(p->addr, mapped_prefix, 12) == 0);
            if (l == 1 && everyone)
                continue;
            /* The two ranges overlap when the shorter prefix holds the longer. */
            unsigned bits = p->bits < c->bits ? p->bits : c->bits;
            if (prefix_eq(p->addr, c->addr, bits))
                return 1;
        }
    }
    return 0;
}

/* The checks of an add, and the record it stores; NULL when it may go on. */
static const char *check_new(const struct gh_blocks *b, const struct gh_block_new *req, int64_t now,
                             struct gh_address_block *rec, gh_err *err)
{
    const char *why = gh_blocks_canonical(req->cidr, rec->cidr);
    *err = GH_ERR_INVALID;
    if (why != NULL)
        return why;
    if (!reason_ok(req->reason))
        return "reason: expected 1 to 256 bytes of text without control characters";
    if (req->expires_at != 0 && req->expires_at <= now)
        return "expires_at: expected a time in the future";
    struct gh_cidr range;
    if (gh_cidr_parse(rec->cidr, strlen(rec->cidr), &range) != GH_OK)
        return "expected an address or a CIDR range";
    if (req->automatic && protected_range(b, &range)) {
        *err = GH_ERR_ADDRESS;
        return "a trusted proxy or an address of the admin allowlist is never blocked "
               "automatically";
    }
    const struct snap *s = atomic_load(&b->current);
    size_t n = s != NULL ? s->n : 0, nauto = s != NULL ? s->nauto : 0;
    if (n >= b->opts.max || (req->automatic && nauto >= b->opts.auto_max)) {
        *err = GH_ERR_TOO_LARGE;
        return req->automatic ? "blocks.auto_max automatic blocks exist"
                              : "blocks.max blocks exist";
    }
    gh_uuid_v7(rec->id);
    memcpy(rec->reason, req->reason, strlen(req->reason) + 1);
    (void)snprintf(rec->created_by, sizeof(rec->created_by), "%s", req->created_by);
    rec->expires_at = req->expires_at;
    rec->created_at = now;
    rec->automatic = req->automatic != 0;
    *err = GH_OK;
    return NULL;
}

gh_err gh_blocks_add(struct gh_blocks *b, const struct gh_block_new *req, int64_t now,
                     struct gh_address_block *out, const char **why)
{
    struct gh_address_block rec;
    gh_err err;
    memset(&rec, 0, sizeof(rec));
    pthread_mutex_lock(&b->lock);
    *why = check_new(b, req, now, &rec, &err);
    if (err == GH_OK)
        err = gh_store_block_add(b->store, &rec, now);
    if (err == GH_OK) {
        /* Here at once; a failed reload leaves it to the next poll. */
        gh_err rerr = reload(b, now);
        if (rerr != GH_OK)
            gh_log(GH_LOG_WARN, "blocks: reload after an add: %s", gh_err_name(rerr));
        *out = rec;
    }
    pthread_mutex_unlock(&b->lock);
    return err;
}

gh_err gh_blocks_remove(struct gh_blocks *b, const char *id, struct gh_address_block *out)
{
    pthread_mutex_lock(&b->lock);
    gh_err err = gh_store_block_remove(b->store, id, out);
    if (err == GH_OK) {
        gh_err rerr = reload(b, gh_time_now());
        if (rerr != GH_OK)
            gh_log(GH_LOG_WARN, "blocks: reload after a removal: %s", gh_err_name(rerr));
    }
    pthread_mutex_unlock(&b->lock);
    return err;
}

gh_err gh_blocks_list(struct gh_blocks *b, int64_t now, size_t limit, size_t offset,
                      gh_block_visit_fn fn, void *arg)
{
    return gh_store_block_list(b->store, now, limit, offset, fn, arg);
}

/* ---- automatic blocks ---- */

void gh_blocks_request(struct gh_blocks *b, const char *ip, uint32_t seconds, const char *rule)
{
    struct pending p;
    if (gh_ip_parse(ip, strlen(ip), p.addr) != GH_OK)
        return; /* an unknown client: nothing to block */
    p.seconds = seconds;
    (void)snprintf(p.rule, sizeof(p.rule), "%s", rule);
    int log_drop = 0;
    pthread_mutex_lock(&b->pending_lock);
    if (b->npending < PENDING_MAX) {
        b->pending[b->npending++] = p;
        b->dropping = 0;
    } else {
        log_drop = !b->dropping;
        b->dropping = 1;
    }
    pthread_mutex_unlock(&b->pending_lock);
    if (log_drop)
        gh_log(GH_LOG_WARN, "blocks: too many automatic blocks waiting; dropping requests");
}

/* Makes one requested block; a refusal is logged (an alert's block is best effort). */
static void make_automatic(struct gh_blocks *b, const struct pending *p, int64_t now)
{
    char ip[INET6_ADDRSTRLEN], by[GH_BLOCK_BY_MAX], reason[96];
    int v4 = memcmp(p->addr, mapped_prefix, sizeof(mapped_prefix)) == 0;
    if (inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? p->addr + 12 : p->addr, ip, sizeof(ip)) == NULL)
        return;
    (void)snprintf(by, sizeof(by), "alert:%s", p->rule);
    (void)snprintf(reason, sizeof(reason), "alert rule %s", p->rule);
    struct gh_block_new req = {ip, reason, now + p->seconds, by, 1};
    struct gh_address_block made;
    const char *why = NULL;
    gh_err err = gh_blocks_add(b, &req, now, &made, &why);
    if (err == GH_OK && b->opts.added != NULL)
        b->opts.added(b->opts.added_arg, &made);
    else if (err != GH_OK && err != GH_ERR_CONFLICT) /* blocked already: nothing to do */
        gh_log(GH_LOG_WARN, "blocks: alert rule %s: %s not blocked: %s", p->rule, ip,
               why != NULL ? why : gh_err_name(err));
}

gh_err gh_blocks_poll(struct gh_blocks *b, int64_t now)
{
    struct pending todo[PENDING_MAX];
    pthread_mutex_lock(&b->pending_lock);
    size_t n = b->npending;
    memcpy(todo, b->pending, n * sizeof(todo[0]));
    b->npending = 0;
    pthread_mutex_unlock(&b->pending_lock);
    for (size_t i = 0; i < n; i++)
        make_automatic(b, &todo[i], now);

    int64_t epoch = 0;
    gh_err err = gh_store_block_epoch(b->store, &epoch);
    pthread_mutex_lock(&b->lock);
    if (err == GH_OK && (epoch != b->epoch || now >= b->reload_at))
        err = reload(b, now);
    reap(b, 0);
    pthread_mutex_unlock(&b->lock);
    return err;
}

#include "authn/apikey.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "core/perm.h"
#include "core/cache.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/secure_json.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "core/cidr.h"
#include "core/shard.h"

#define KEY_PREFIX "ak_"
#define KEY_DIGITS 43 /* 62^43 > 2^256 */
#define KEY_LEN (3 + KEY_DIGITS)
#define PEPPER_LEN 32
/* A proven key is trusted this long before its record is read again (a backstop: local
 * and fed revocations apply at once through the owner's view generation). */
#define KEY_CACHE_TTL 60
#define USES_SLOTS 1024 /* distinct keys a thread uses between two flushes; more wait for one */

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* What the cache keeps of a proven key. */
struct cached_key {
    char id[GH_UUID_LEN + 1];
    char user_id[GH_UUID_LEN + 1];
    char org_id[GH_UUID_LEN + 1];
    char roles[GH_ROLES_MAX];
    char perms[GH_PERMS_MAX];
    int scoped;
    int64_t expires_at;
    uint64_t gen; /* of the owner's view when cached */
    struct gh_cidr_list ips;
};

/* Last uses, coalesced: a hash table by key id. */
struct uses {
    struct gh_api_key_use slot[USES_SLOTS];
    size_t n;
};

/*
 * A thread's part of the last uses (core/shard.h), a cache line of its own: the polling
 * threads record every request's use without writing a line another one writes. The lock
 * is the part's own, taken by the flush only to swap the table out.
 */
struct uses_part {
    _Alignas(64) pthread_mutex_t lock;
    struct uses *current, *spare; /* allocated by the part's first use and its first flush */
};

struct gh_apikeys {
    const struct gh_store_handle *store;
    struct gh_views *views;     /* the owners' views: revocations reach cached keys through them */
    struct gh_pool *audit_pool; /* for records of failed uses; NULL: write at once */
    unsigned char pepper[PEPPER_LEN];
    /* The cache finds a key by its SipHash-128 under this random key (see cache_id). */
    unsigned char id_key[crypto_shorthash_siphashx24_KEYBYTES];
    struct gh_cache *cache;  /* cache_id(key) -> struct cached_key */
    struct uses_part *parts; /* GH_SHARDS, 64-byte aligned */
    struct uses *merged;     /* the parts' uses, one per key, being written by the flush */
    pthread_mutex_t flushing;
};

gh_err gh_apikeys_new(const char *pepper_file, size_t token_cache_size,
                      const struct gh_store_handle *store, struct gh_views *views,
                      struct gh_apikeys **out)
{
    struct gh_apikeys *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return GH_ERR_NOMEM;
    k->store = store;
    k->views = views;
    gh_err err = gh_secret_file_load(pepper_file, k->pepper, sizeof(k->pepper));
    if (err != GH_OK) {
        gh_log(GH_LOG_ERROR, "api keys: cannot use the pepper file %s: %s%s", pepper_file,
               gh_err_name(err),
               err == GH_ERR_FILE_MODE ? " (readable by group or others: chmod 600)" : "");
        goto out;
    }
    k->parts = aligned_alloc(64, GH_SHARDS * sizeof(struct uses_part));
    k->merged = calloc(1, sizeof(struct uses));
    if (k->parts == NULL || k->merged == NULL) {
        err = GH_ERR_NOMEM;
        goto out;
    }
    for (unsigned i = 0; i < GH_SHARDS; i++) {
        pthread_mutex_init(&k->parts[i].lock, NULL);
        k->parts[i].current = k->parts[i].spare = NULL;
    }
    randombytes_buf(k->id_key, sizeof(k->id_key));
    size_t size = token_cache_size ? token_cache_size / 16 + 64 : 1;
    if ((err = gh_cache_new(size, &k->cache)) != GH_OK)
        goto out;
    pthread_mutex_init(&k->flushing, NULL);
out:
    if (err != GH_OK) {
        sodium_memzero(k->pepper, sizeof(k->pepper));
        free(k->parts);
        free(k->merged);
        free(k);
        return err;
    }
    *out = k;
    return GH_OK;
}

void gh_apikeys_set_audit_pool(struct gh_apikeys *k, struct gh_pool *pool)
{
    k->audit_pool = pool;
}

void gh_apikeys_cache_stats(struct gh_apikeys *k, uint64_t *hits, uint64_t *misses)
{
    gh_cache_stats(k->cache, hits, misses);
}

void gh_apikeys_free(struct gh_apikeys *k)
{
    if (k == NULL)
        return;
    sodium_memzero(k->pepper, sizeof(k->pepper));
    sodium_memzero(k->id_key, sizeof(k->id_key));
    gh_cache_free(k->cache);
    for (unsigned i = 0; i < GH_SHARDS; i++) {
        pthread_mutex_destroy(&k->parts[i].lock);
        free(k->parts[i].current);
        free(k->parts[i].spare);
    }
    pthread_mutex_destroy(&k->flushing);
    free(k->parts);
    free(k->merged);
    free(k);
}

/* ---- key text ---- */

/* 32 random bytes as 43 base62 digits, most significant first. */
static void key_generate(char out[GH_APIKEY_TEXT])
{
    unsigned char n[32];
    randombytes_buf(n, sizeof(n));
    memcpy(out, KEY_PREFIX, 3);
    for (int i = KEY_DIGITS - 1; i >= 0; i--) {
        unsigned rem = 0;
        for (size_t j = 0; j < sizeof(n); j++) {
            unsigned v = rem * 256 + n[j];
            n[j] = (unsigned char)(v / 62);
            rem = v % 62;
        }
        out[3 + i] = base62[rem];
    }
    out[KEY_LEN] = '\0';
    sodium_memzero(n, sizeof(n));
}

static int key_well_formed(const char *key, size_t len)
{
    /* the public "gh_" prefix and the length only: the secret is compared by its hash */
    if (len != KEY_LEN || memcmp(key, KEY_PREFIX, 3) != 0)
        return 0;
    for (size_t i = 3; i < len; i++) {
        char c = key[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return 0;
    }
    return 1;
}

static gh_err key_hash(const struct gh_apikeys *k, const char *key, size_t len,
                       unsigned char out[GH_HASH_LEN])
{
    unsigned int n = 0;
    if (HMAC(EVP_sha256(), k->pepper, PEPPER_LEN, (const unsigned char *)key, len, out, &n) ==
            NULL ||
        n != GH_HASH_LEN)
        return GH_ERR_CRYPTO;
    return GH_OK;
}

/* ---- last uses ---- */

static size_t slot_of(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a: ids are ours, not chosen by a client */
    for (; *id != '\0'; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h % USES_SLOTS;
}

/* Records id's use at `at` from ip in u, unless u holds a later one. 0: u is full. */
static int uses_put(struct uses *u, const char *id, int64_t at, const char *ip)
{
    for (size_t i = slot_of(id), probes = 0; probes < USES_SLOTS;
         i = (i + 1) % USES_SLOTS, probes++) {
        struct gh_api_key_use *s = &u->slot[i];
        if (s->id[0] == '\0') {
            if (u->n >= USES_SLOTS * 3 / 4)
                return 0;
            memcpy(s->id, id, sizeof(s->id));
            u->n++;
        } else if (strcmp(s->id, id) != 0) {
            continue;
        } else if (s->at > at) {
            return 1; /* another thread's later use, met by the flush's merge */
        }
        s->at = at;
        if (gh_copy_field(s->ip, sizeof(s->ip), ip) != GH_OK)
            s->ip[0] = '\0'; /* longer than any address */
        return 1;
    }
    return 0;
}

static void use_record(struct gh_apikeys *k, const char *id, const char *ip, int64_t now)
{
    struct uses_part *part = &k->parts[gh_shard_self()];
    pthread_mutex_lock(&part->lock);
    if (part->current == NULL)
        part->current = calloc(1, sizeof(struct uses)); /* NULL: this use is not kept */
    if (part->current != NULL)
        (void)uses_put(part->current, id, now, ip); /* full until the next flush */
    pthread_mutex_unlock(&part->lock);
}

/* Writes the merged uses (compacted in place) and empties the table for more. */
static gh_err merged_write(struct gh_apikeys *k)
{
    struct uses *m = k->merged;
    size_t n = 0;
    for (size_t i = 0; i < USES_SLOTS && n < m->n; i++)
        if (m->slot[i].id[0] != '\0')
            m->slot[n++] = m->slot[i];
    gh_err err = n > 0 ? gh_store_apikey_touch(k->store, m->slot, n) : GH_OK;
    memset(m, 0, sizeof(*m));
    return err;
}

/* Takes a part's table (a swap under its lock) and merges it into k->merged: one use
 * per key, the latest of every thread's. */
static gh_err part_merge(struct gh_apikeys *k, struct uses_part *part)
{
    gh_err err = GH_OK;
    pthread_mutex_lock(&part->lock);
    struct uses *full = part->current;
    if (full != NULL && full->n > 0 &&
        (part->spare != NULL || (part->spare = calloc(1, sizeof(struct uses))) != NULL)) {
        part->current = part->spare;
        part->spare = full;
    } else {
        full = NULL; /* nothing to merge, or no memory to swap with: it waits */
    }
    pthread_mutex_unlock(&part->lock);
    for (size_t i = 0; full != NULL && i < USES_SLOTS; i++) {
        struct gh_api_key_use *s = &full->slot[i];
        if (s->id[0] == '\0')
            continue;
        if (!uses_put(k->merged, s->id, s->at, s->ip)) {
            gh_err e = merged_write(k); /* more keys than a table: write these first */
            err = err != GH_OK ? err : e;
            (void)uses_put(k->merged, s->id, s->at, s->ip);
        }
        memset(s, 0, sizeof(*s));
    }
    if (full != NULL)
        full->n = 0; /* the spare, empty, owned by the flush until the next swap */
    return err;
}

gh_err gh_apikey_flush(struct gh_apikeys *k)
{
    pthread_mutex_lock(&k->flushing);
    gh_err err = GH_OK;
    for (unsigned i = 0; i < GH_SHARDS; i++) {
        gh_err e = part_merge(k, &k->parts[i]);
        err = err != GH_OK ? err : e;
    }
    gh_err e = merged_write(k);
    pthread_mutex_unlock(&k->flushing);
    return err != GH_OK ? err : e;
}

/* ---- the check ---- */

static void audit_failure(struct gh_apikeys *k, const struct gh_api_key *key,
                          const struct gh_reqmeta *meta, const char *reason)
{
    char metadata[160];
    (void)snprintf(metadata, sizeof(metadata),
                   "{\"key_id\":\"%s\",\"prefix\":\"%s\",\"reason\":\"%s\"}", key->id, key->prefix,
                   reason);
    struct gh_audit_subject subject = {key->user_id, NULL, key->org_id};
    struct gh_pool *pool = k->audit_pool;
    if (pool != NULL)
        gh_audit_record_async(pool, k->store, "API_KEY_USE_FAILED", meta, &subject, 401, metadata);
    else
        (void)gh_audit_record(k->store, "API_KEY_USE_FAILED", meta, &subject, 401, metadata);
}

/* The record of the key whose HMAC is hash; GH_ERR_AUTH when there is none. */
static gh_err find_key(const struct gh_store_handle *store, const unsigned char hash[GH_HASH_LEN],
                       struct gh_api_key *rec)
{
    gh_err err = gh_store_apikey_find_hash(store, hash, rec);
    if (err != GH_OK)
        return err == GH_ERR_NOT_FOUND ? GH_ERR_AUTH : err;
    return CRYPTO_memcmp(rec->hash, hash, GH_HASH_LEN) == 0 ? GH_OK : GH_ERR_AUTH;
}

/*
 * Reads the key's record and proves it (the cache missed or went stale); *until is how
 * long the result may be cached. The owner's view is taken before the record that counts
 * is read, as the token check does: a revocation writes the record, then drops the view,
 * so that record either shows the revocation or is cached under a view already dropped.
 * *view is taken here when have_view is 0 (a first read only names the owner), else it
 * is the owner's, taken by the caller.
 */
static gh_err load_key(struct gh_apikeys *k, const char *key, size_t len, int64_t now,
                       const struct gh_reqmeta *meta, int have_view, struct cached_key *out,
                       int64_t *until, struct gh_user_view *view)
{
    const struct gh_store_handle *store = k->store;
    unsigned char hash[GH_HASH_LEN];
    struct gh_api_key rec;
    struct gh_membership m;
    gh_err err = key_hash(k, key, len, hash);
    if (err != GH_OK)
        return err;
    if (!have_view && ((err = find_key(store, hash, &rec)) != GH_OK ||
                       (err = gh_views_user(k->views, rec.user_id, now, view)) != GH_OK))
        return err;
    if ((err = find_key(store, hash, &rec)) != GH_OK)
        return err;
    if (rec.revoked_at != 0) {
        audit_failure(k, &rec, meta, "revoked");
        return GH_ERR_REVOKED;
    }
    if (rec.expires_at != 0 && rec.expires_at <= now) {
        audit_failure(k, &rec, meta, "expired");
        return GH_ERR_EXPIRED;
    }
    err = gh_store_member_get(store, rec.org_id, rec.user_id, &m);
    if (err == GH_ERR_NOT_FOUND) {
        audit_failure(k, &rec, meta, "not_a_member");
        return GH_ERR_REVOKED;
    }
    if (err != GH_OK)
        return err;

    memset(out, 0, sizeof(*out));
    memcpy(out->id, rec.id, sizeof(out->id));
    memcpy(out->user_id, rec.user_id, sizeof(out->user_id));
    memcpy(out->org_id, rec.org_id, sizeof(out->org_id));
    (void)snprintf(out->roles, sizeof(out->roles), "%s", m.role_name);
    out->scoped = rec.has_scopes;
    /* Scopes shrink with the owner: demoting the owner demotes the key. */
    if (rec.has_scopes)
        err = gh_perms_intersect(rec.scopes, m.permissions, out->perms, sizeof(out->perms));
    else
        err =
            snprintf(out->perms, sizeof(out->perms), "%s", m.permissions) < (int)sizeof(out->perms)
                ? GH_OK
                : GH_ERR_TOO_LARGE;
    size_t bad = 0;
    if (err != GH_OK || gh_cidr_list_parse(rec.allowed_ips, &out->ips, &bad) != GH_OK)
        return GH_ERR_INTERNAL;
    out->expires_at = rec.expires_at;
    out->gen = view->gen;
    *until = now + KEY_CACHE_TTL;
    if (rec.expires_at != 0 && rec.expires_at < *until)
        *until = rec.expires_at;
    return GH_OK;
}

/* The failure of a cached key, audited like the others: only its ids are at hand. */
static gh_err refuse_cached(struct gh_apikeys *k, const struct cached_key *ck,
                            const struct gh_reqmeta *meta, const char *reason, gh_err err)
{
    struct gh_api_key rec;
    memset(&rec, 0, sizeof(rec));
    memcpy(rec.id, ck->id, sizeof(rec.id));
    memcpy(rec.user_id, ck->user_id, sizeof(rec.user_id));
    memcpy(rec.org_id, ck->org_id, sizeof(rec.org_id));
    audit_failure(k, &rec, meta, reason);
    return err;
}

/*
 * What the cache knows a key by: its SipHash-128 under a random key of this process. Not
 * the key itself (entries live on in memory), and not SHA-256: the store's record is
 * found by HMAC under the pepper on a miss, so this only has to tell keys apart where no
 * one can compute it, which a keyed 128-bit PRF does in a fifth of SHA-256's time here.
 */
static void cache_id(const struct gh_apikeys *k, const char *key, size_t len,
                     unsigned char id[crypto_shorthash_siphashx24_BYTES])
{
    crypto_shorthash_siphashx24(id, (const unsigned char *)key, len, k->id_key);
}

gh_err gh_apikey_check(struct gh_apikeys *k, const char *key, size_t len,
                       const struct gh_reqmeta *meta, struct gh_identity *out)
{
    struct cached_key ck;
    struct gh_user_view view;
    unsigned char id[crypto_shorthash_siphashx24_BYTES];
    size_t got = 0;
    int64_t now = gh_time_now();
    gh_err err;

    if (!key_well_formed(key, len))
        return GH_ERR_AUTH;
    cache_id(k, key, len, id);
    int cached = gh_cache_get(k->cache, id, sizeof(id), now, &ck, sizeof(ck), &got) == GH_OK &&
                 got == sizeof(ck);
    int have_view = cached;
    if (cached) {
        if ((err = gh_views_user(k->views, ck.user_id, now, &view)) != GH_OK)
            return err;
        cached = view.gen == ck.gen; /* the owner was revoked or reloaded since */
    }
    if (!cached) {
        int64_t until = 0;
        if ((err = load_key(k, key, len, now, meta, have_view, &ck, &until, &view)) != GH_OK)
            return err;
        (void)gh_cache_put(k->cache, id, sizeof(id), &ck, sizeof(ck), until);
    }
    if (ck.expires_at != 0 && ck.expires_at <= now)
        return refuse_cached(k, &ck, meta, "expired", GH_ERR_EXPIRED);
    if (view.disabled)
        return refuse_cached(k, &ck, meta, "owner_disabled", GH_ERR_REVOKED);
    const char *ip = meta != NULL && meta->ip != NULL ? meta->ip : "";
    if (ck.ips.n > 0 && !gh_cidr_list_match_text(&ck.ips, ip))
        return refuse_cached(k, &ck, meta, "ip_not_allowed", GH_ERR_ADDRESS);

    /* Strings, not their whole arrays: roles and perms take 2.5 KB, their text a few bytes. */
    memcpy(out->user_id, ck.user_id, sizeof(out->user_id));
    memcpy(out->username, view.username, sizeof(out->username));
    memcpy(out->org_id, ck.org_id, sizeof(out->org_id));
    if (gh_copy_field(out->roles, sizeof(out->roles), ck.roles) != GH_OK ||
        gh_copy_field(out->perms, sizeof(out->perms), ck.perms) != GH_OK)
        return GH_ERR_INTERNAL; /* the same sizes: cannot happen */
    memcpy(out->key_id, ck.id, sizeof(out->key_id));
    out->scoped = ck.scoped;
    out->superadmin = 0;
    out->auth_time = 0; /* a key proves no sign-in: it cannot pass a re-authentication check */
    out->expires_at = ck.expires_at;
    out->cred = GH_CRED_API_KEY;
    use_record(k, ck.id, ip, now);
    return GH_OK;
}

/* ---- management ---- */

/* Code points a name must not hold: they reorder or hide text in whatever shows it. */
static int invisible(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x200b && c <= 0x200f) ||
           (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) || c == 0xfeff ||
           (c >= 0xfff9 && c <= 0xfffb) || c == 0xfffe || c == 0xffff;
}

/* 1-64 characters of well-formed UTF-8 (shortest forms, no surrogates), none invisible. */
static int name_ok(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t chars = 0;
    while (*s != '\0') {
        uint32_t c;
        size_t n;
        if (s[0] < 0x80) {
            c = s[0];
            n = 1;
        } else if ((s[0] & 0xe0) == 0xc0) {
            c = s[0] & 0x1fu;
            n = 2;
        } else if ((s[0] & 0xf0) == 0xe0) {
            c = s[0] & 0x0fu;
            n = 3;
        } else if ((s[0] & 0xf8) == 0xf0) {
            c = s[0] & 0x07u;
            n = 4;
        } else {
            return 0;
        }
        for (size_t i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (s[i] & 0x3fu);
        }
        static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (c < least[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || invisible(c))
            return 0;
        s += n;
        if (++chars > 64)
            return 0;
    }
    return chars > 0;
}

/* Joins items with sep into out; GH_ERR_TOO_LARGE when it does not fit. */
static gh_err join(const char *const *items, size_t n, char sep, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(items[i]);
        if (used + (i > 0) + len + 1 > size)
            return GH_ERR_TOO_LARGE;
        if (i > 0)
            out[used++] = sep;
        memcpy(out + used, items[i], len + 1);
        used += len;
    }
    return GH_OK;
}

/* What the key may carry at most: the owner's permissions in the org, and for a key made
 * by another key, that key's own (which are already cut to the owner's). */
static gh_err ceiling(struct gh_apikeys *k, const struct gh_identity *who, const char *org_id,
                      struct gh_membership *m)
{
    const struct gh_store_handle *store = k->store;
    if (who->cred == GH_CRED_API_KEY && strcmp(org_id, who->org_id) != 0)
        return GH_ERR_NOT_FOUND; /* a key acts in its own org only */
    gh_err err = gh_store_member_get(store, org_id, who->user_id, m);
    if (err != GH_OK)
        return err;
    if (who->cred == GH_CRED_API_KEY)
        (void)snprintf(m->permissions, sizeof(m->permissions), "%s", who->perms);
    return GH_OK;
}

static gh_err check_scopes(const struct gh_apikey_input *in, const char *ceiling_perms,
                           struct gh_refusal *refusal)
{
    refusal->field = "scopes";
    if (in->nscopes > GH_APIKEY_SCOPES_MAX)
        return GH_ERR_INVALID;
    for (size_t i = 0; i < in->nscopes; i++)
        if (!gh_perm_valid(in->scopes[i], strlen(in->scopes[i])))
            return GH_ERR_INVALID;
    for (size_t i = 0; i < in->nscopes; i++)
        if (!gh_perms_allow(ceiling_perms, in->scopes[i], strlen(in->scopes[i])))
            return GH_ERR_FORBIDDEN;
    refusal->field = NULL;
    return GH_OK;
}

gh_err gh_apikey_create(struct gh_apikeys *k, const struct gh_identity *who,
                        const struct gh_apikey_input *in, const struct gh_reqmeta *meta,
                        struct gh_api_key *out, char key[GH_APIKEY_TEXT],
                        struct gh_refusal *refusal)
{
    const struct gh_store_handle *store = k->store;
    struct gh_api_key rec;
    struct gh_membership m;
    int64_t now = gh_time_now();
    gh_err err = GH_OK;

    refusal->field = "name";
    if (in->name == NULL || !name_ok(in->name))
        return GH_ERR_INVALID;
    refusal->field = "expires_at";
    if (in->expires_at != 0 && in->expires_at <= now)
        return GH_ERR_INVALID;
    refusal->field = "allowed_ips";
    if (in->nips > GH_APIKEY_IPS_MAX)
        return GH_ERR_INVALID;
    for (size_t i = 0; i < in->nips; i++) {
        struct gh_cidr c;
        if (gh_cidr_parse(in->allowed_ips[i], strlen(in->allowed_ips[i]), &c) != GH_OK)
            return GH_ERR_INVALID;
    }
    refusal->field = NULL;

    const char *org_id = in->org_id != NULL ? in->org_id : who->org_id;
    if ((err = ceiling(k, who, org_id, &m)) != GH_OK)
        return err;
    if (in->has_scopes && (err = check_scopes(in, m.permissions, refusal)) != GH_OK)
        return err;

    memset(&rec, 0, sizeof(rec));
    if (in->has_scopes) {
        rec.has_scopes = 1;
        err = join(in->scopes, in->nscopes, ' ', rec.scopes, sizeof(rec.scopes));
    } else if (who->scoped) {
        /* A key made by a scoped key gets at most that key's scopes. */
        rec.has_scopes = 1;
        err = snprintf(rec.scopes, sizeof(rec.scopes), "%s", who->perms) < (int)sizeof(rec.scopes)
                  ? GH_OK
                  : GH_ERR_TOO_LARGE;
    }
    if (err == GH_OK)
        err = join(in->allowed_ips, in->nips, ',', rec.allowed_ips, sizeof(rec.allowed_ips));
    if (err != GH_OK) {
        refusal->field = err == GH_ERR_TOO_LARGE ? "scopes" : NULL;
        return GH_ERR_INVALID;
    }
    rec.expires_at = in->expires_at;
    /* ... and never outlives the key that made it. */
    if (who->cred == GH_CRED_API_KEY && who->expires_at != 0 &&
        (rec.expires_at == 0 || rec.expires_at > who->expires_at))
        rec.expires_at = who->expires_at;

    gh_uuid_v7(rec.id);
    memcpy(rec.user_id, who->user_id, sizeof(rec.user_id));
    (void)snprintf(rec.org_id, sizeof(rec.org_id), "%s", org_id);
    (void)snprintf(rec.name, sizeof(rec.name), "%s", in->name);
    rec.created_at = now;
    key_generate(key);
    memcpy(rec.prefix, key, GH_APIKEY_PREFIX_LEN);
    rec.prefix[GH_APIKEY_PREFIX_LEN] = '\0';
    if ((err = key_hash(k, key, KEY_LEN, rec.hash)) != GH_OK ||
        (err = gh_store_apikey_create(store, &rec)) != GH_OK) {
        sodium_memzero(key, GH_APIKEY_TEXT);
        if (err == GH_ERR_CONFLICT)
            refusal->field = "name";
        return err;
    }

    json_t *md =
        json_pack("{s:s, s:s, s:s}", "key_id", rec.id, "name", rec.name, "prefix", rec.prefix);
    char *text = md ? json_dumps(md, JSON_COMPACT) : NULL;
    struct gh_audit_subject subject = {who->user_id, who->username, rec.org_id};
    struct gh_audit_resource res = {"api_key", rec.id};
    err = gh_audit_record_on(store, "API_KEY_CREATE", meta, &subject, &res, 201, text);
    gh_secure_json_free(text);
    json_decref(md);
    if (err != GH_OK) {
        /* No key without its record: revoked before anyone has seen it. */
        int64_t n = 0;
        (void)gh_store_apikey_revoke(store, rec.user_id, rec.id, gh_time_now(), &n);
        return err;
    }
    *out = rec;
    return GH_OK;
}

gh_err gh_apikey_list(struct gh_apikeys *k, const char *user_id, size_t limit, size_t offset,
                      gh_api_key_visit_fn fn, void *arg)
{
    const struct gh_store_handle *store = k->store;
    return gh_store_apikey_list_user(store, user_id, limit, offset, fn, arg);
}

gh_err gh_apikey_revoke(struct gh_apikeys *k, const char *user_id, const char *username,
                        const char *id, const struct gh_reqmeta *meta)
{
    const struct gh_store_handle *store = k->store;
    int64_t n = 0;
    gh_err err = gh_store_apikey_revoke(store, user_id, id, gh_time_now(), &n);
    if (err != GH_OK)
        return err;
    /* The owner's view is reloaded at the next check, and with it every cached key. */
    gh_views_forget(k->views, user_id);
    char metadata[128];
    (void)snprintf(metadata, sizeof(metadata), "{\"key_id\":\"%s\",\"revoked\":%lld}",
                   id != NULL ? id : "*", (long long)n);
    /* Revoking them all names the owner as the resource. */
    struct gh_audit_subject subject = {user_id, username, NULL};
    struct gh_audit_resource res = {id != NULL ? "api_key" : "user", id != NULL ? id : user_id};
    /* A revocation is never undone for want of its record; the caller hears of the loss. */
    return gh_audit_record_on(store, "API_KEY_REVOKE", meta, &subject, &res, 204, metadata);
}

gh_err gh_apikey_operator(struct gh_apikeys *k, const char *username, const char *org_id,
                          struct gh_identity *out)
{
    const struct gh_store_handle *store = k->store;
    struct gh_user u;
    struct gh_membership m;
    gh_err err = gh_store_user_find_login(store, username, &u);
    if (err != GH_OK)
        return err;
    const char *org = org_id != NULL ? org_id : u.primary_org_id;
    if ((err = gh_store_member_get(store, org, u.id, &m)) != GH_OK)
        return err;
    memset(out, 0, sizeof(*out));
    memcpy(out->user_id, u.id, sizeof(out->user_id));
    memcpy(out->username, u.username, sizeof(out->username));
    (void)snprintf(out->org_id, sizeof(out->org_id), "%s", org);
    (void)snprintf(out->roles, sizeof(out->roles), "%s", m.role_name);
    (void)snprintf(out->perms, sizeof(out->perms), "%s", m.permissions);
    out->cred = GH_CRED_OPERATOR;
    return GH_OK;
}

/* The data keys, wrapped by the master key, unwrapped in locked memory (crypto/datakeys.h). */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto/datakeys.h"
#include "crypto/kdf.h"

/* Stored keys are read again at most this often for a new current key, and for a key id
 * above the newest held: one that `gatehouse key rotate` in another process has just added
 * and a rewrap may already use (a forged id costs one read of a table of a few rows, at
 * most that often). */
#define RELOAD_CURRENT_MS 5000
#define RELOAD_NEWER_MS 100

struct slot {
    uint32_t id;
    uint8_t key[GH_AEAD_KEY_LEN];
};

/* Derived subkeys, kept so that a call costs a lookup and not an HKDF: direct-mapped by a
 * keyed hash of (key id, info); a data key never changes, so neither does its subkey. */
#define SUBKEY_SLOTS 256
#define INFO_MAX 128
struct subkey {
    uint32_t kid; /* 0: empty */
    uint8_t info_len;
    char info[INFO_MAX];
    uint8_t key[GH_AEAD_KEY_LEN];
};

struct gh_datakeys {
    struct gh_store_handle store;
    pthread_rwlock_t lock;
    int64_t loaded_at;      /* monotonic milliseconds of the last read of the stored keys */
    size_t n;               /* slots by id ascending; the last is current */
    struct slot *slots;     /* GH_DATAKEYS_MAX, sodium_malloc'd */
    struct subkey *subkeys; /* SUBKEY_SLOTS, sodium_malloc'd, under cache_lock */
    pthread_mutex_t cache_lock;
    uint8_t cache_hash_key[crypto_shorthash_KEYBYTES];
    uint8_t kek[GH_AEAD_KEY_LEN]; /* HKDF(master, "gatehouse/v1/wrap"); in the sodium_malloc'd
                                     struct */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The associated data of data key id's wrapping. */
static void wrap_ad(uint32_t id, uint8_t ad[24])
{
    memcpy(ad, "gatehouse/v1/datakey", 20);
    for (int i = 0; i < 4; i++)
        ad[20 + i] = (uint8_t)(id >> (24 - 8 * i));
}

struct load {
    struct gh_datakeys *dk;
    size_t n;
    gh_err err;
};

/* Unwraps one stored key into the next slot (keys come by id ascending). */
static int load_one(void *arg, const struct gh_data_key *k)
{
    struct load *l = arg;
    uint8_t ad[24];
    size_t len = 0;
    if (l->n == GH_DATAKEYS_MAX || k->id < 1 || k->id > INT32_MAX) {
        l->err = l->n == GH_DATAKEYS_MAX ? GH_ERR_TOO_LARGE : GH_ERR_IO;
        return 1;
    }
    struct slot *s = &l->dk->slots[l->n];
    s->id = (uint32_t)k->id;
    wrap_ad(s->id, ad);
    l->err = gh_aead_open(GH_AEAD_AES256GCM, l->dk->kek, ad, sizeof(ad), k->wrapped,
                          GH_WRAPPED_KEY_LEN, s->key, sizeof(s->key), &len);
    if (l->err == GH_OK && len != GH_AEAD_KEY_LEN)
        l->err = GH_ERR_IO;
    if (l->err != GH_OK)
        return 1;
    l->n++;
    return 0;
}

/* Reads the stored keys into dk's slots; the caller holds the write lock. On failure the
 * slots held before stay. */
static gh_err reload(struct gh_datakeys *dk)
{
    struct load l = {dk, 0, GH_OK};
    size_t before = dk->n;
    gh_err err = gh_store_datakey_list(&dk->store, load_one, &l);
    if (err == GH_OK)
        err = l.err;
    if (err != GH_OK || l.n < before) {
        /* Keys are never deleted: fewer than before is a damaged or foreign store. */
        if (err == GH_OK)
            err = GH_ERR_IO;
        dk->n = before;
        return err;
    }
    dk->n = l.n;
    dk->loaded_at = mono_ms();
    return GH_OK;
}

/* Adds key id (fresh random bytes) wrapped to the store; the caller holds the write lock. */
static gh_err add_key(struct gh_datakeys *dk, uint32_t id, int64_t now)
{
    struct gh_data_key k = {.id = id, .created_at = now};
    uint8_t *fresh = sodium_malloc(GH_AEAD_KEY_LEN), ad[24];
    size_t len = 0;
    if (fresh == NULL)
        return GH_ERR_NOMEM;
    randombytes_buf(fresh, GH_AEAD_KEY_LEN);
    wrap_ad(id, ad);
    gh_err err = gh_aead_seal(GH_AEAD_AES256GCM, dk->kek, ad, sizeof(ad), fresh, GH_AEAD_KEY_LEN,
                              k.wrapped, sizeof(k.wrapped), &len);
    sodium_free(fresh);
    if (err == GH_OK)
        err = gh_store_datakey_add(&dk->store, &k);
    return err;
}

gh_err gh_datakeys_open(const struct gh_store_handle *store,
                        const uint8_t master[GH_MASTER_KEY_LEN], int64_t now,
                        struct gh_datakeys **out)
{
    static const char info[] = "gatehouse/v1/wrap";
    struct gh_datakeys *dk = sodium_malloc(sizeof(*dk));
    if (dk == NULL)
        return GH_ERR_NOMEM;
    memset(dk, 0, sizeof(*dk));
    dk->store = *store;
    dk->slots = sodium_allocarray(GH_DATAKEYS_MAX, sizeof(struct slot));
    dk->subkeys = sodium_allocarray(SUBKEY_SLOTS, sizeof(struct subkey));
    gh_err err = dk->slots == NULL || dk->subkeys == NULL ? GH_ERR_NOMEM : GH_OK;
    if (err == GH_OK && pthread_rwlock_init(&dk->lock, NULL) != 0)
        err = GH_ERR_NOMEM;
    if (err == GH_OK && pthread_mutex_init(&dk->cache_lock, NULL) != 0) {
        pthread_rwlock_destroy(&dk->lock);
        err = GH_ERR_NOMEM;
    }
    if (err != GH_OK) {
        sodium_free(dk->slots);
        sodium_free(dk->subkeys);
        sodium_free(dk);
        return err;
    }
    memset(dk->subkeys, 0, SUBKEY_SLOTS * sizeof(struct subkey));
    randombytes_buf(dk->cache_hash_key, sizeof(dk->cache_hash_key));
    err = gh_kdf_hkdf(master, GH_MASTER_KEY_LEN, NULL, 0, (const uint8_t *)info, sizeof(info) - 1,
                      dk->kek, sizeof(dk->kek));
    if (err == GH_OK)
        err = reload(dk);
    /* Two processes creating the first key at once: one insert wins, the other reads it. */
    if (err == GH_OK && dk->n == 0 && (err = add_key(dk, 1, now)) == GH_ERR_CONFLICT)
        err = GH_OK;
    if (err == GH_OK && dk->n == 0)
        err = reload(dk);
    if (err == GH_OK && dk->n == 0)
        err = GH_ERR_INTERNAL;
    if (err != GH_OK) {
        gh_datakeys_free(dk);
        return err;
    }
    *out = dk;
    return GH_OK;
}

void gh_datakeys_free(struct gh_datakeys *dk)
{
    if (dk == NULL)
        return;
    pthread_rwlock_destroy(&dk->lock);
    pthread_mutex_destroy(&dk->cache_lock);
    sodium_free(dk->slots); /* sodium_free wipes */
    sodium_free(dk->subkeys);
    sodium_free(dk);
}

gh_err gh_datakeys_rotate(struct gh_datakeys *dk, int64_t now, uint32_t *id)
{
    gh_err err;
    uint32_t next = 0;
    pthread_rwlock_wrlock(&dk->lock);
    /* Another process may have rotated: read first, retry once when its key wins. */
    for (int tries = 0; tries < 2; tries++) {
        if ((err = reload(dk)) != GH_OK)
            goto out;
        if (dk->n == GH_DATAKEYS_MAX || dk->slots[dk->n - 1].id == INT32_MAX) {
            err = GH_ERR_TOO_LARGE;
            goto out;
        }
        next = dk->slots[dk->n - 1].id + 1;
        if ((err = add_key(dk, next, now)) != GH_ERR_CONFLICT)
            break;
    }
    if (err == GH_OK)
        err = reload(dk);
out:
    pthread_rwlock_unlock(&dk->lock);
    if (err == GH_OK && id != NULL)
        *id = next;
    return err;
}

/* Reads the stored keys again when the last read is older than age_ms. */
static void refresh(struct gh_datakeys *dk, int64_t age_ms)
{
    pthread_rwlock_rdlock(&dk->lock);
    int stale = mono_ms() - dk->loaded_at >= age_ms;
    pthread_rwlock_unlock(&dk->lock);
    if (!stale)
        return;
    pthread_rwlock_wrlock(&dk->lock);
    if (mono_ms() - dk->loaded_at >= age_ms && reload(dk) != GH_OK)
        dk->loaded_at = mono_ms(); /* keep the keys held; try again later */
    pthread_rwlock_unlock(&dk->lock);
}

uint32_t gh_datakeys_current(struct gh_datakeys *dk)
{
    refresh(dk, RELOAD_CURRENT_MS);
    pthread_rwlock_rdlock(&dk->lock);
    uint32_t id = dk->slots[dk->n - 1].id;
    pthread_rwlock_unlock(&dk->lock);
    return id;
}

size_t gh_datakeys_count(struct gh_datakeys *dk)
{
    pthread_rwlock_rdlock(&dk->lock);
    size_t n = dk->n;
    pthread_rwlock_unlock(&dk->lock);
    return n;
}

/* The slot of key id, or NULL; the caller holds a lock. */
static const struct slot *find(const struct gh_datakeys *dk, uint32_t id)
{
    size_t lo = 0, hi = dk->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dk->slots[mid].id == id)
            return &dk->slots[mid];
        if (dk->slots[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Derives the subkey of the key at s for info; the caller holds a lock. */
static gh_err derive_locked(const struct gh_datakeys *dk, uint32_t kid, const char *info,
                            size_t len, uint8_t out[GH_AEAD_KEY_LEN], int *found)
{
    const struct slot *s = find(dk, kid);
    *found = s != NULL;
    if (s == NULL)
        return GH_ERR_NOT_FOUND;
    return gh_kdf_hkdf(s->key, sizeof(s->key), NULL, 0, (const uint8_t *)info, len, out,
                       GH_AEAD_KEY_LEN);
}

/* The cache slot of (kid, info); the caller holds cache_lock. */
static struct subkey *cache_slot(struct gh_datakeys *dk, uint32_t kid, const char *info, size_t len)
{
    uint8_t in[4 + INFO_MAX], h[crypto_shorthash_BYTES];
    memcpy(in, &kid, 4);
    memcpy(in + 4, info, len);
    crypto_shorthash(h, in, 4 + len, dk->cache_hash_key);
    return &dk->subkeys[h[0] % SUBKEY_SLOTS];
}

/* Copies the cached subkey of (kid, info) into out; 1 when there was one. */
static int cache_get(struct gh_datakeys *dk, uint32_t kid, const char *info, size_t len,
                     uint8_t out[GH_AEAD_KEY_LEN])
{
    pthread_mutex_lock(&dk->cache_lock);
    const struct subkey *s = cache_slot(dk, kid, info, len);
    int hit = s->kid == kid && s->info_len == len && memcmp(s->info, info, len) == 0;
    if (hit)
        memcpy(out, s->key, GH_AEAD_KEY_LEN);
    pthread_mutex_unlock(&dk->cache_lock);
    return hit;
}

static void cache_put(struct gh_datakeys *dk, uint32_t kid, const char *info, size_t len,
                      const uint8_t key[GH_AEAD_KEY_LEN])
{
    pthread_mutex_lock(&dk->cache_lock);
    struct subkey *s = cache_slot(dk, kid, info, len);
    s->kid = kid;
    s->info_len = (uint8_t)len;
    memcpy(s->info, info, len);
    memcpy(s->key, key, GH_AEAD_KEY_LEN);
    pthread_mutex_unlock(&dk->cache_lock);
}

/* The derivation under the read lock, reading the stored keys again for an unknown kid. */
static gh_err derive_held(struct gh_datakeys *dk, uint32_t kid, const char *info, size_t len,
                          uint8_t out[GH_AEAD_KEY_LEN])
{
    int found = 0;
    pthread_rwlock_rdlock(&dk->lock);
    gh_err err = derive_locked(dk, kid, info, len, out, &found);
    int newer = !found && (dk->n == 0 || kid > dk->slots[dk->n - 1].id);
    pthread_rwlock_unlock(&dk->lock);
    if (!newer)
        return err; /* keys are never deleted: an unknown older id never appears */
    refresh(dk, RELOAD_NEWER_MS);
    pthread_rwlock_rdlock(&dk->lock);
    err = derive_locked(dk, kid, info, len, out, &found);
    pthread_rwlock_unlock(&dk->lock);
    return err;
}

gh_err gh_datakeys_derive(struct gh_datakeys *dk, uint32_t kid, const char *purpose,
                          const char *org_id, uint8_t out[GH_AEAD_KEY_LEN])
{
    char info[INFO_MAX];
    int len =
        snprintf(info, sizeof(info), "gatehouse/v1/%s/%s", purpose, org_id != NULL ? org_id : "-");
    if (len < 0 || (size_t)len >= sizeof(info))
        return GH_ERR_INVALID;
    if (cache_get(dk, kid, info, (size_t)len, out))
        return GH_OK;
    gh_err err = derive_held(dk, kid, info, (size_t)len, out);
    if (err == GH_OK)
        cache_put(dk, kid, info, (size_t)len, out);
    return err;
}

/* The vault's values, sealed per org (crypto/vault.h). */
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/vault.h"

/* "gatehouse/v1/vault" NUL key-id(4) org NUL name NUL version(8), big-endian numbers */
#define AD_MAX (19 + 4 + GH_UUID_LEN + 1 + GH_VAULT_NAME_MAX + 1 + 8)
/* A write racing another for the same name retries this often. */
#define PUT_TRIES 4

_Static_assert(GH_VAULT_SEALED_MAX == GH_VAULT_VALUE_MAX + GH_XCHACHA_OVERHEAD, "vault sizes");

int gh_vault_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > GH_VAULT_NAME_MAX || name[0] == '.')
        return 0; /* nor ".", "..": no name that reads as a path step */
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") == n;
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

/* The subkey and associated data of entry e's item under key kid. */
static gh_err prepare(struct gh_datakeys *dk, uint32_t kid, const struct gh_vault_item *it,
                      uint8_t key[GH_AEAD_KEY_LEN], uint8_t ad[AD_MAX], size_t *ad_len)
{
    size_t org = strlen(it->org_id), name = strlen(it->name), o = 19;
    if (org > GH_UUID_LEN || name > GH_VAULT_NAME_MAX)
        return GH_ERR_INVALID;
    memcpy(ad, "gatehouse/v1/vault", 19);
    put_be(ad + o, kid, 4);
    o += 4;
    memcpy(ad + o, it->org_id, org + 1);
    o += org + 1;
    memcpy(ad + o, it->name, name + 1);
    o += name + 1;
    put_be(ad + o, (uint64_t)it->version, 8);
    *ad_len = o + 8;
    return gh_datakeys_derive(dk, kid, "vault", it->org_id, key);
}

/* Seals value into e (its item filled) under the current key; e->sealed holds cap bytes
 * (entries of a rewrap batch are allocated to their size). */
static gh_err seal(struct gh_datakeys *dk, struct gh_vault_entry *e, const uint8_t *value, size_t n,
                   size_t cap)
{
    uint8_t key[GH_AEAD_KEY_LEN], ad[AD_MAX];
    size_t ad_len = 0;
    uint32_t kid = gh_datakeys_current(dk);
    gh_err err = prepare(dk, kid, &e->item, key, ad, &ad_len);
    if (err == GH_OK)
        err = gh_aead_seal(GH_AEAD_XCHACHA, key, ad, ad_len, value, n, e->sealed, cap, &e->len);
    if (err == GH_OK)
        e->key_id = kid;
    sodium_memzero(key, sizeof(key));
    return err;
}

/* Opens e into out (GH_VAULT_VALUE_MAX bytes). */
static gh_err open_entry(struct gh_datakeys *dk, const struct gh_vault_entry *e, uint8_t *out,
                         size_t *n)
{
    uint8_t key[GH_AEAD_KEY_LEN], ad[AD_MAX];
    size_t ad_len = 0;
    if (e->key_id < 1 || e->key_id > INT32_MAX)
        return GH_ERR_AUTH;
    gh_err err = prepare(dk, (uint32_t)e->key_id, &e->item, key, ad, &ad_len);
    if (err == GH_ERR_NOT_FOUND)
        err = GH_ERR_AUTH; /* a key this server never had */
    if (err == GH_OK)
        err = gh_aead_open(GH_AEAD_XCHACHA, key, ad, ad_len, e->sealed, e->len, out,
                           GH_VAULT_VALUE_MAX, n);
    sodium_memzero(key, sizeof(key));
    return err == GH_ERR_INVALID ? GH_ERR_AUTH : err;
}

gh_err gh_vault_put(struct gh_datakeys *dk, const struct gh_store_handle *store, const char *org_id,
                    const char *name, const uint8_t *value, size_t n, int64_t now, int64_t *version)
{
    if (n == 0 || !gh_vault_name_ok(name) || strlen(org_id) > GH_UUID_LEN)
        return GH_ERR_INVALID;
    if (n > GH_VAULT_VALUE_MAX)
        return GH_ERR_TOO_LARGE;
    struct gh_vault_entry *e = malloc(sizeof(*e));
    if (e == NULL)
        return GH_ERR_NOMEM;
    gh_err err = GH_ERR_CONFLICT;
    for (int tries = 0; tries < PUT_TRIES && err == GH_ERR_CONFLICT; tries++) {
        err = gh_store_vault_latest(store, org_id, name, e);
        int64_t next = err == GH_OK ? e->item.version + 1 : 1;
        if (err != GH_OK && err != GH_ERR_NOT_FOUND)
            break;
        memset(e, 0, sizeof(*e));
        memcpy(e->item.org_id, org_id, strlen(org_id) + 1);
        memcpy(e->item.name, name, strlen(name) + 1);
        e->item.version = next;
        e->item.updated_at = now;
        if ((err = seal(dk, e, value, n, sizeof(e->sealed))) == GH_OK)
            err = gh_store_vault_insert(store, e);
    }
    if (err == GH_OK && version != NULL)
        *version = e->item.version;
    free(e);
    return err;
}

gh_err gh_vault_get(struct gh_datakeys *dk, const struct gh_store_handle *store, const char *org_id,
                    const char *name, uint8_t *out, size_t *n, struct gh_vault_item *item)
{
    if (!gh_vault_name_ok(name))
        return GH_ERR_NOT_FOUND;
    struct gh_vault_entry *e = malloc(sizeof(*e));
    if (e == NULL)
        return GH_ERR_NOMEM;
    gh_err err = gh_store_vault_latest(store, org_id, name, e);
    if (err == GH_OK)
        err = open_entry(dk, e, out, n);
    if (err == GH_OK)
        *item = e->item;
    free(e);
    return err;
}

gh_err gh_vault_list(const struct gh_store_handle *store, const char *org_id, size_t limit,
                     size_t offset, gh_vault_item_visit_fn fn, void *arg)
{
    return gh_store_vault_list(store, org_id, limit, offset, fn, arg);
}

gh_err gh_vault_delete(const struct gh_store_handle *store, const char *org_id, const char *name)
{
    if (!gh_vault_name_ok(name))
        return GH_ERR_NOT_FOUND;
    return gh_store_vault_delete(store, org_id, name);
}

/* A batch read by the scan: copies of the entries, each allocated to its value's size,
 * and the key id each was under. */
struct batch {
    struct gh_vault_entry **e;
    int64_t *old;
    size_t n, cap;
    gh_err err;
};

static int collect(void *arg, const struct gh_vault_entry *e)
{
    struct batch *b = arg;
    size_t size = offsetof(struct gh_vault_entry, sealed) + e->len;
    struct gh_vault_entry *copy = b->n < b->cap ? malloc(size) : NULL;
    if (copy == NULL) {
        b->err = GH_ERR_NOMEM;
        return 1;
    }
    memcpy(copy, e, size);
    b->old[b->n] = e->key_id;
    b->e[b->n++] = copy;
    return 0;
}

/* Opens e and seals it again under the current key, in memory (the same length). */
static gh_err reseal(struct gh_datakeys *dk, struct gh_vault_entry *e, uint8_t *plain)
{
    size_t n = 0;
    gh_err err = open_entry(dk, e, plain, &n);
    if (err == GH_OK)
        err = seal(dk, e, plain, n, e->len);
    sodium_memzero(plain, n);
    return err;
}

/* Swaps the batch's resealed entries in, in one transaction (one commit per batch), each
 * only if it is still under its old key. */
static gh_err write_batch(const struct gh_store_handle *store, const struct batch *b,
                          struct gh_vault_rewrap *r)
{
    struct gh_store_handle tx;
    gh_err err = gh_store_tx_begin(store, &tx);
    if (err != GH_OK)
        return err;
    for (size_t i = 0; err == GH_OK && i < b->n; i++) {
        err = gh_store_vault_rekey(&tx, b->e[i], b->old[i]);
        if (err == GH_ERR_CONFLICT) {
            r->skipped++;
            err = GH_OK;
        } else if (err == GH_OK) {
            r->done++;
        }
    }
    err = gh_store_tx_end(&tx, err);
    if (err != GH_OK)
        r->done = r->skipped = 0;
    return err;
}

gh_err gh_vault_rewrap(struct gh_datakeys *dk, const struct gh_store_handle *store, size_t batch,
                       struct gh_vault_rewrap *out)
{
    struct gh_vault_rewrap r = {0, 0, 0};
    size_t cap = batch ? batch : 1;
    struct batch b = {calloc(cap, sizeof(*b.e)), calloc(cap, sizeof(*b.old)), 0, batch, GH_OK};
    uint8_t *plain = sodium_malloc(GH_VAULT_VALUE_MAX);
    gh_err err = b.e == NULL || b.old == NULL || plain == NULL ? GH_ERR_NOMEM : GH_OK;
    if (err == GH_OK)
        err = gh_store_vault_scan(store, gh_datakeys_current(dk), batch, collect, &b, &r.before);
    if (err == GH_OK)
        err = b.err;
    for (size_t i = 0; err == GH_OK && i < b.n; i++)
        err = reseal(dk, b.e[i], plain);
    if (err == GH_OK && b.n > 0)
        err = write_batch(store, &b, &r);
    for (size_t i = 0; i < b.n; i++)
        free(b.e[i]);
    free(b.e);
    free(b.old);
    sodium_free(plain);
    if (err == GH_OK)
        *out = r;
    return err;
}

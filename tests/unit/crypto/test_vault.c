/* Unit tests for crypto/vault: versions, the 64 KiB bound, one org's value unreadable under
 * another org's key (a row copied across orgs does not open), tampering, rewrap batches. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "core/uuid.h"
#include "crypto/vault.h"
#include "store_fixture.h"

struct ctx {
    struct store_fixture store;
    struct gh_datakeys *dk;
    struct gh_org a, b;
    uint8_t *out;
};

static void make_org(struct ctx *c, struct gh_org *o, const char *name)
{
    memset(o, 0, sizeof(*o));
    gh_uuid_v7(o->id);
    snprintf(o->name, sizeof(o->name), "%s", name);
    o->created_at = 1;
    assert_int_equal(gh_store_org_create(&c->store.h, o, "*:*", "org:read"), GH_OK);
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    uint8_t master[32];
    randombytes_buf(master, sizeof(master));
    if (c == NULL || store_fixture_open(&c->store) != 0 ||
        gh_datakeys_open(&c->store.h, master, 1, &c->dk) != GH_OK)
        return -1;
    make_org(c, &c->a, "alpha");
    make_org(c, &c->b, "beta");
    c->out = malloc(GH_VAULT_VALUE_MAX);
    *state = c;
    return c->out == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    gh_datakeys_free(c->dk);
    store_fixture_close(&c->store);
    free(c->out);
    free(c);
    return 0;
}

static gh_err get(struct ctx *c, const char *org, const char *name, struct gh_vault_item *it,
                  size_t *n)
{
    return gh_vault_get(c->dk, &c->store.h, org, name, c->out, n, it);
}

static void put_get_versions_and_bounds(void **state)
{
    struct ctx *c = *state;
    struct gh_vault_item it;
    size_t n = 0;
    int64_t v = 0;
    assert_int_equal(
        gh_vault_put(c->dk, &c->store.h, c->a.id, "stripe", (const uint8_t *)"sk_1", 4, 10, &v),
        GH_OK);
    assert_int_equal(v, 1);
    assert_int_equal(
        gh_vault_put(c->dk, &c->store.h, c->a.id, "stripe", (const uint8_t *)"sk_22", 5, 11, &v),
        GH_OK);
    assert_int_equal(v, 2);
    assert_int_equal(get(c, c->a.id, "stripe", &it, &n), GH_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(c->out, "sk_22", 5);
    assert_int_equal(it.version, 2);
    assert_int_equal(it.updated_at, 11);
    assert_int_equal(get(c, c->b.id, "stripe", &it, &n), GH_ERR_NOT_FOUND);
    assert_int_equal(get(c, c->a.id, "nope", &it, &n), GH_ERR_NOT_FOUND);
    /* Empty, 64 KiB, 64 KiB + 1, bad names, an unknown org. */
    uint8_t *big = calloc(1, GH_VAULT_VALUE_MAX + 1);
    assert_non_null(big);
    assert_int_equal(gh_vault_put(c->dk, &c->store.h, c->a.id, "e", big, 0, 1, NULL),
                     GH_ERR_INVALID);
    assert_int_equal(
        gh_vault_put(c->dk, &c->store.h, c->a.id, "big", big, GH_VAULT_VALUE_MAX, 1, NULL), GH_OK);
    assert_int_equal(get(c, c->a.id, "big", &it, &n), GH_OK);
    assert_int_equal(n, GH_VAULT_VALUE_MAX);
    assert_int_equal(
        gh_vault_put(c->dk, &c->store.h, c->a.id, "big", big, GH_VAULT_VALUE_MAX + 1, 1, NULL),
        GH_ERR_TOO_LARGE);
    free(big);
    assert_int_equal(
        gh_vault_put(c->dk, &c->store.h, c->a.id, "a b", (const uint8_t *)"x", 1, 1, NULL),
        GH_ERR_INVALID);
    char none[GH_UUID_LEN + 1];
    gh_uuid_v7(none);
    assert_int_equal(gh_vault_put(c->dk, &c->store.h, none, "x", (const uint8_t *)"x", 1, 1, NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(gh_vault_delete(&c->store.h, c->a.id, "stripe"), GH_OK);
    assert_int_equal(get(c, c->a.id, "stripe", &it, &n), GH_ERR_NOT_FOUND);
}

/* org A's stored row copied into org B (same name and version) does not open there: the
 * subkey and the associated data are org A's. A changed byte does not open either. */
static void another_orgs_key_cannot_open(void **state)
{
    struct ctx *c = *state;
    struct gh_vault_item it;
    struct gh_vault_entry *e = malloc(sizeof(*e));
    size_t n = 0;
    assert_non_null(e);
    assert_int_equal(
        gh_vault_put(c->dk, &c->store.h, c->a.id, "token", (const uint8_t *)"oauth", 5, 1, NULL),
        GH_OK);
    assert_int_equal(gh_store_vault_latest(&c->store.h, c->a.id, "token", e), GH_OK);
    memcpy(e->item.org_id, c->b.id, sizeof(e->item.org_id));
    assert_int_equal(gh_store_vault_insert(&c->store.h, e), GH_OK);
    assert_int_equal(get(c, c->b.id, "token", &it, &n), GH_ERR_AUTH);
    /* A tampered value in org A. */
    assert_int_equal(gh_store_vault_latest(&c->store.h, c->a.id, "token", e), GH_OK);
    int64_t old = e->key_id;
    e->sealed[30] ^= 1;
    assert_int_equal(gh_store_vault_rekey(&c->store.h, e, old), GH_OK);
    assert_int_equal(get(c, c->a.id, "token", &it, &n), GH_ERR_AUTH);
    free(e);
}

static void rewrap_in_batches(void **state)
{
    struct ctx *c = *state;
    struct gh_vault_rewrap r;
    struct gh_vault_item it;
    size_t n = 0;
    char name[16];
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        assert_int_equal(gh_vault_put(c->dk, &c->store.h, i % 2 ? c->a.id : c->b.id, name,
                                      (const uint8_t *)name, strlen(name), 1, NULL),
                         GH_OK);
    }
    assert_int_equal(gh_vault_rewrap(c->dk, &c->store.h, 3, &r), GH_OK);
    assert_int_equal(r.before, 0); /* everything is under the current key */
    assert_int_equal(r.done, 0);
    assert_int_equal(gh_datakeys_rotate(c->dk, 2, NULL), GH_OK);
    assert_int_equal(gh_vault_rewrap(c->dk, &c->store.h, 3, &r), GH_OK);
    assert_int_equal(r.before, 7);
    assert_int_equal(r.done, 3);
    assert_int_equal(gh_vault_rewrap(c->dk, &c->store.h, 3, &r), GH_OK);
    assert_int_equal(r.before, 4);
    assert_int_equal(gh_vault_rewrap(c->dk, &c->store.h, 3, &r), GH_OK);
    assert_int_equal(r.before, 1);
    assert_int_equal(r.done, 1);
    assert_int_equal(gh_vault_rewrap(c->dk, &c->store.h, 3, &r), GH_OK);
    assert_int_equal(r.before, 0);
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        assert_int_equal(get(c, i % 2 ? c->a.id : c->b.id, name, &it, &n), GH_OK);
        assert_memory_equal(c->out, name, n);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(put_get_versions_and_bounds),
        T(another_orgs_key_cannot_open),
        T(rewrap_in_batches),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The store conformance suite (conformance.h), part: data keys (and the vault). Included by
 * conformance.h only. */
#ifndef GH_TEST_STORE_CONFORMANCE_CRYPTO_H
#define GH_TEST_STORE_CONFORMANCE_CRYPTO_H

struct keys_seen {
    int n;
    int64_t ids[8];
    struct gh_data_key last;
};

static int collect_key(void *arg, const struct gh_data_key *k)
{
    struct keys_seen *s = arg;
    if (s->n < 8)
        s->ids[s->n] = k->id;
    s->n++;
    s->last = *k;
    return 0;
}

static void make_key(int64_t id, struct gh_data_key *k)
{
    memset(k, 0, sizeof(*k));
    k->id = id;
    for (size_t i = 0; i < GH_WRAPPED_KEY_LEN; i++)
        k->wrapped[i] = (unsigned char)(id * 7 + (int64_t)i);
    k->created_at = 100 + id;
}

/* Data keys come back by id, bytes intact; an id taken twice is a conflict (the loser of
 * two rotations); another handle (another process) sees them. */
static void datakeys_add_list_and_conflict(void **state)
{
    struct fixture *f = *state;
    struct gh_data_key k;
    struct keys_seen s = {0};
    assert_int_equal(gh_store_datakey_list(&f->h, collect_key, &s), GH_OK);
    assert_int_equal(s.n, 0);
    make_key(2, &k);
    assert_int_equal(gh_store_datakey_add(&f->h, &k), GH_OK);
    make_key(1, &k);
    assert_int_equal(gh_store_datakey_add(&f->h, &k), GH_OK);
    k.wrapped[0] ^= 1;
    assert_int_equal(gh_store_datakey_add(&f->h, &k), GH_ERR_CONFLICT);

    struct gh_store_handle other;
    assert_int_equal(factory->reopen(f->ctx, &other), GH_OK);
    assert_int_equal(gh_store_datakey_list(&other, collect_key, &s), GH_OK);
    gh_store_close(&other);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ids[0], 1);
    assert_int_equal(s.ids[1], 2);
    make_key(2, &k);
    assert_memory_equal(s.last.wrapped, k.wrapped, GH_WRAPPED_KEY_LEN);
    assert_int_equal(s.last.created_at, 102);
}

static struct gh_vault_entry *vault_entry(const char *org_id, const char *name, int64_t version,
                                          int64_t key_id, unsigned char fill)
{
    struct gh_vault_entry *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    snprintf(e->item.org_id, sizeof(e->item.org_id), "%s", org_id);
    snprintf(e->item.name, sizeof(e->item.name), "%s", name);
    e->item.version = version;
    e->item.updated_at = 1000 + version;
    e->key_id = key_id;
    e->len = 41;
    memset(e->sealed, fill, e->len);
    return e;
}

struct vault_seen {
    int n;
    char names[8][GH_VAULT_NAME_MAX + 1];
    int64_t versions[8];
};

static int collect_item(void *arg, const struct gh_vault_item *it)
{
    struct vault_seen *s = arg;
    if (s->n < 8) {
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", it->name);
        s->versions[s->n] = it->version;
    }
    s->n++;
    return 0;
}

static int collect_entry(void *arg, const struct gh_vault_entry *e)
{
    struct vault_seen *s = arg;
    if (s->n < 8) {
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", e->item.name);
        s->versions[s->n] = e->item.version;
    }
    s->n++;
    return 0;
}

/* Versions per (org, name), the newest read and listed, a version taken twice a conflict,
 * an unknown org refused, another org's names never seen, delete of every version. */
static void vault_versions_list_delete(void **state)
{
    struct fixture *f = *state;
    struct gh_org other;
    struct gh_vault_entry *e = vault_entry(f->org.id, "stripe", 1, 1, 0xa1), *got;
    char none[GH_UUID_LEN + 1];
    gh_uuid_v7(none);
    memset(&other, 0, sizeof(other));
    gh_uuid_v7(other.id);
    snprintf(other.name, sizeof(other.name), "other");
    assert_int_equal(gh_store_org_create(&f->h, &other, "*:*", "org:read"), GH_OK);
    got = calloc(1, sizeof(*got));
    assert_non_null(got);

    assert_int_equal(gh_store_vault_latest(&f->h, f->org.id, "stripe", got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_vault_insert(&f->h, e), GH_OK);
    assert_int_equal(gh_store_vault_insert(&f->h, e), GH_ERR_CONFLICT);
    e->item.version = 2;
    e->item.updated_at = 1002;
    e->sealed[0] = 0xb2;
    assert_int_equal(gh_store_vault_insert(&f->h, e), GH_OK);
    assert_int_equal(gh_store_vault_latest(&f->h, f->org.id, "stripe", got), GH_OK);
    assert_int_equal(got->item.version, 2);
    assert_int_equal(got->len, 41);
    assert_int_equal(got->sealed[0], 0xb2);
    assert_int_equal(got->key_id, 1);
    assert_int_equal(got->item.updated_at, 1002);
    snprintf(e->item.name, sizeof(e->item.name), "aws");
    e->item.version = 1;
    assert_int_equal(gh_store_vault_insert(&f->h, e), GH_OK);
    snprintf(e->item.org_id, sizeof(e->item.org_id), "%s", other.id);
    assert_int_equal(gh_store_vault_insert(&f->h, e), GH_OK);
    snprintf(e->item.org_id, sizeof(e->item.org_id), "%s", none);
    assert_int_equal(gh_store_vault_insert(&f->h, e), GH_ERR_NOT_FOUND);

    struct vault_seen s = {0};
    assert_int_equal(gh_store_vault_list(&f->h, f->org.id, 10, 0, collect_item, &s), GH_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[0], "aws");
    assert_string_equal(s.names[1], "stripe");
    assert_int_equal(s.versions[1], 2);
    memset(&s, 0, sizeof(s));
    assert_int_equal(gh_store_vault_list(&f->h, f->org.id, 1, 1, collect_item, &s), GH_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.names[0], "stripe");

    assert_int_equal(gh_store_vault_delete(&f->h, f->org.id, "stripe"), GH_OK);
    assert_int_equal(gh_store_vault_delete(&f->h, f->org.id, "stripe"), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_vault_latest(&f->h, f->org.id, "stripe", got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_vault_latest(&f->h, other.id, "aws", got), GH_OK);
    /* An org's deletion deletes its vault. */
    assert_int_equal(gh_store_org_delete(&f->h, other.id, 5, NULL, NULL), GH_OK);
    assert_int_equal(gh_store_vault_latest(&f->h, other.id, "aws", got), GH_ERR_NOT_FOUND);
    free(e);
    free(got);
}

/* The rewrap's scan sees versions under older keys only, counts them, and a rekey is a
 * compare-and-swap on the old key id. */
static void vault_scan_and_rekey(void **state)
{
    struct fixture *f = *state;
    struct vault_seen s = {0};
    int64_t total = -1;
    for (int64_t v = 1; v <= 3; v++) {
        struct gh_vault_entry *e = vault_entry(f->org.id, "k", v, v, (unsigned char)v);
        assert_int_equal(gh_store_vault_insert(&f->h, e), GH_OK);
        free(e);
    }
    assert_int_equal(gh_store_vault_scan(&f->h, 3, 10, collect_entry, &s, &total), GH_OK);
    assert_int_equal(total, 2);
    assert_int_equal(s.n, 2);
    memset(&s, 0, sizeof(s));
    assert_int_equal(gh_store_vault_scan(&f->h, 3, 1, collect_entry, &s, NULL), GH_OK);
    assert_int_equal(s.n, 1);

    struct gh_vault_entry *e = vault_entry(f->org.id, "k", 1, 3, 0xee);
    e->len = 50;
    assert_int_equal(gh_store_vault_rekey(&f->h, e, 2), GH_ERR_CONFLICT); /* it is under 1 */
    assert_int_equal(gh_store_vault_rekey(&f->h, e, 1), GH_OK);
    assert_int_equal(gh_store_vault_rekey(&f->h, e, 1), GH_ERR_CONFLICT); /* already moved */
    memset(&s, 0, sizeof(s));
    assert_int_equal(gh_store_vault_scan(&f->h, 3, 10, collect_entry, &s, &total), GH_OK);
    assert_int_equal(total, 1);
    assert_int_equal(s.versions[0], 2);
    free(e);
}

#endif

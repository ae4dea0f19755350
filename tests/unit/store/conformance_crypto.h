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

#endif

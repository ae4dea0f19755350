/* The store conformance suite (conformance.h), part: address blocks. Included by
 * conformance.h only. */
#ifndef GH_TEST_STORE_CONFORMANCE_BLOCKS_H
#define GH_TEST_STORE_CONFORMANCE_BLOCKS_H

struct blocks_seen {
    int n;
    struct gh_address_block b[4];
};

static int collect_block(void *arg, const struct gh_address_block *b)
{
    struct blocks_seen *s = arg;
    if (s->n < 4)
        s->b[s->n] = *b;
    s->n++;
    return 0;
}

static void make_block(const char *id, const char *cidr, int64_t created, int64_t expires,
                       struct gh_address_block *b)
{
    memset(b, 0, sizeof(*b));
    snprintf(b->id, sizeof(b->id), "%s", id);
    snprintf(b->cidr, sizeof(b->cidr), "%s", cidr);
    snprintf(b->reason, sizeof(b->reason), "scanner at %s", cidr);
    snprintf(b->created_by, sizeof(b->created_by), "admin");
    b->created_at = created;
    b->expires_at = expires;
}

static struct blocks_seen blocks_at(const struct gh_store_handle *h, int64_t now)
{
    struct blocks_seen s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(gh_store_block_list(h, now, 100, 0, collect_block, &s), GH_OK);
    return s;
}

/* Blocks come back whole, oldest first, the expired ones never; a live cidr twice is a
 * conflict; every add and remove moves the epoch, which another handle (a node) sees. */
static void blocks_add_list_expire(void **state)
{
    struct fixture *f = *state;
    struct gh_address_block a, b, c, got;
    int64_t e0 = -1, e1 = -1, e2 = -1;
    assert_int_equal(gh_store_block_epoch(&f->h, &e0), GH_OK);
    make_block("00000000-0000-4000-8000-00000000b001", "203.0.113.0/24", 100, 0, &a);
    make_block("00000000-0000-4000-8000-00000000b002", "2001:db8::/32", 101, 500, &b);
    b.automatic = 1;
    snprintf(b.created_by, sizeof(b.created_by), "alert:brute");
    assert_int_equal(gh_store_block_add(&f->h, &a, 100), GH_OK);
    assert_int_equal(gh_store_block_add(&f->h, &b, 101), GH_OK);
    make_block("00000000-0000-4000-8000-00000000b003", "203.0.113.0/24", 102, 0, &c);
    assert_int_equal(gh_store_block_add(&f->h, &c, 102), GH_ERR_CONFLICT);

    struct gh_store_handle other;
    assert_int_equal(factory->reopen(f->ctx, &other), GH_OK);
    assert_int_equal(gh_store_block_epoch(&other, &e1), GH_OK);
    assert_int_equal(e1, e0 + 2);
    struct blocks_seen s = blocks_at(&other, 200);
    gh_store_close(&other);
    assert_int_equal(s.n, 2);
    assert_memory_equal(&s.b[0], &a, sizeof(a));
    assert_memory_equal(&s.b[1], &b, sizeof(b));
    assert_int_equal(blocks_at(&f->h, 499).n, 2);
    /* At its expiry a block is no longer live: never listed. */
    s = blocks_at(&f->h, 500);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.b[0].cidr, "203.0.113.0/24");
    /* An expired block is no conflict: it is purged and its cidr blocked anew. */
    make_block("00000000-0000-4000-8000-00000000b004", "2001:db8::/32", 600, 0, &c);
    assert_int_equal(gh_store_block_add(&f->h, &c, 600), GH_OK);
    assert_int_equal(gh_store_block_remove(&f->h, b.id, NULL), GH_ERR_NOT_FOUND);
    /* paged */
    struct blocks_seen page;
    memset(&page, 0, sizeof(page));
    assert_int_equal(gh_store_block_list(&f->h, 600, 1, 1, collect_block, &page), GH_OK);
    assert_int_equal(page.n, 1);
    assert_string_equal(page.b[0].id, c.id);

    /* Removal hands back the block and moves the epoch. */
    assert_int_equal(gh_store_block_remove(&f->h, a.id, &got), GH_OK);
    assert_memory_equal(&got, &a, sizeof(a));
    assert_int_equal(gh_store_block_remove(&f->h, a.id, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_block_epoch(&f->h, &e2), GH_OK);
    assert_int_equal(e2, e1 + 2);
    s = blocks_at(&f->h, 600);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.b[0].cidr, "2001:db8::/32");
}

#endif

/* The store conformance suite (conformance.h), part: what a membership's end leaves behind,
 * the user's epoch in the org and the fallback org before an org's deletion. Included by
 * conformance.h only. */
#ifndef GH_TEST_STORE_CONFORMANCE_MEMBERS_H
#define GH_TEST_STORE_CONFORMANCE_MEMBERS_H

/* The user's epoch in org_id as its membership reads it. */
static int64_t member_epoch(const struct fixture *f, const char *org_id, const char *user_id)
{
    struct gh_membership m;
    assert_int_equal(gh_store_member_get(&f->h, org_id, user_id, &m), GH_OK);
    return m.epoch;
}

/* A removal moves the user's epoch in that org only, kept past the membership: a re-add
 * starts from it (an access token minted before comes back with none), and the user's
 * epoch (every org's tokens) stays. */
static void members_epoch_per_org_outlives_removal(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v, before, after;
    struct gh_org a, b;
    add_user(f, "oleg", "oleg@x.io", &u);
    add_user(f, "pia", "pia@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);
    org_with_admin(f, "Beta", &u, &b);
    assert_int_equal(gh_store_member_add(&f->h, a.id, v.id, "member", 5), GH_OK);
    assert_int_equal(gh_store_member_add(&f->h, b.id, v.id, "member", 5), GH_OK);
    assert_int_equal(member_epoch(f, a.id, v.id), 0);
    assert_int_equal(gh_store_user_get(&f->h, v.id, &before), GH_OK);
    int64_t feed = feed_count(f, v.id);

    assert_int_equal(gh_store_member_remove(&f->h, a.id, v.id, 6), GH_OK);
    assert_int_equal(feed_count(f, v.id), feed + 1); /* the nodes drop their views */
    assert_int_equal(gh_store_user_get(&f->h, v.id, &after), GH_OK);
    assert_int_equal(after.token_epoch, before.token_epoch);
    assert_int_equal(member_epoch(f, b.id, v.id), 0);
    assert_int_equal(gh_store_member_add(&f->h, a.id, v.id, "member", 7), GH_OK);
    assert_int_equal(member_epoch(f, a.id, v.id), 1);
    assert_int_equal(gh_store_member_remove(&f->h, a.id, v.id, 8), GH_OK);
    assert_int_equal(gh_store_member_add(&f->h, a.id, v.id, "admin", 9), GH_OK);
    assert_int_equal(member_epoch(f, a.id, v.id), 2);
    assert_int_equal(member_epoch(f, a.id, u.id), 0); /* another member's is its own */

    /* the lists carry it too (the org switch reads them) */
    struct gh_membership m[4];
    size_t n = 0;
    assert_int_equal(gh_store_member_list_user(&f->h, v.id, m, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m[0].org_id, a.id); /* by name */
    assert_int_equal(m[0].epoch, 2);
    assert_int_equal(m[1].epoch, 0);
    /* a failed removal moves nothing */
    assert_int_equal(gh_store_member_remove(&f->h, b.id, "no-such-user", 10), GH_ERR_NOT_FOUND);
    assert_int_equal(member_epoch(f, a.id, v.id), 2);
}

/* Before an org goes, its members with no other org join the fallback org as "member";
 * members of another org, and the fallback's own members, are left as they are. */
static void members_fallback_before_org_delete(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v, w;
    struct gh_org a, b;
    struct gh_membership m;
    int64_t n = -1;
    add_user(f, "quin", "quin@x.io", &u);
    add_user(f, "rosa", "rosa@x.io", &v);
    add_user(f, "saul", "saul@x.io", &w);
    org_with_admin(f, "Alpha", &u, &a); /* u: only Alpha */
    org_with_admin(f, "Beta", &v, &b);
    assert_int_equal(gh_store_member_add(&f->h, a.id, v.id, "admin", 5), GH_OK); /* v: two */
    assert_int_equal(gh_store_member_add(&f->h, a.id, w.id, "member", 5), GH_OK);
    assert_int_equal(gh_store_member_add(&f->h, f->org.id, w.id, "member", 5), GH_OK);

    assert_int_equal(gh_store_user_set_primary_org(&f->h, u.id, a.id), GH_OK);

    assert_int_equal(gh_store_member_fallback(&f->h, a.id, f->org.id, 6, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(gh_store_member_get(&f->h, f->org.id, u.id, &m), GH_OK);
    assert_string_equal(m.role_name, "member");
    assert_int_equal(gh_store_member_get(&f->h, f->org.id, v.id, &m), GH_ERR_NOT_FOUND);
    assert_int_equal(member_count_user(f, w.id), 2); /* already there: unchanged */
    /* then the deletion's own steps: u's primary org is the one it now has */
    assert_int_equal(gh_store_user_primary_reassign(&f->h, a.id, NULL), GH_OK);
    assert_int_equal(gh_store_org_delete(&f->h, a.id, 7, NULL, NULL), GH_OK);
    struct gh_user got;
    assert_int_equal(gh_store_user_get(&f->h, u.id, &got), GH_OK);
    assert_string_equal(got.primary_org_id, f->org.id);
    assert_int_equal(member_count_user(f, u.id), 1);
    /* v has Beta only now; an unknown fallback org adds nobody */
    assert_int_equal(gh_store_member_fallback(&f->h, b.id, "no-such-org", 8, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(gh_store_member_fallback(&f->h, b.id, f->org.id, 8, &n), GH_OK);
    assert_int_equal(n, 1);
}

#endif

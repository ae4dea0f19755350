/* The store conformance suite (conformance.h), part: users, orgs and memberships, refresh tokens,
 * epochs and the revocation feed. Included by conformance.h only. */
#ifndef GH_TEST_STORE_CONFORMANCE_USERS_H
#define GH_TEST_STORE_CONFORMANCE_USERS_H

/* ---- users ---- */

static void users_found_without_regard_to_case(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, got;
    add_user(f, "Alice", "Alice@Example.COM", &a);

    assert_int_equal(gh_store_user_get(&f->h, a.id, &got), GH_OK);
    assert_string_equal(got.username, "Alice");
    assert_string_equal(got.email, "Alice@Example.COM");
    assert_string_equal(got.full_name, "Full Alice");
    /* the display read carries no hash; the credential read does */
    struct gh_credentials cr;
    assert_int_equal(gh_store_user_get_credentials(&f->h, a.id, &cr), GH_OK);
    assert_string_equal(cr.user_id, a.id);
    assert_string_equal(cr.password_hash, FAKE_HASH);
    assert_int_equal(gh_store_user_get_credentials(&f->h, "no-such-id", &cr), GH_ERR_NOT_FOUND);
    assert_string_equal(got.primary_org_id, f->org.id);
    assert_int_equal(got.token_epoch, 0);
    assert_int_equal(got.created_at, 10);

    assert_int_equal(gh_store_user_find_login(&f->h, "ALICE", &got), GH_OK);
    assert_string_equal(got.id, a.id);
    assert_int_equal(gh_store_user_find_login(&f->h, "alice", &got), GH_OK);
    assert_string_equal(got.id, a.id);
    assert_int_equal(gh_store_user_find_login(&f->h, "alice@example.com", &got), GH_OK);
    assert_string_equal(got.id, a.id);
    assert_int_equal(gh_store_user_find_login(&f->h, "ALICE@EXAMPLE.COM", &got), GH_OK);
    assert_string_equal(got.id, a.id);

    assert_int_equal(gh_store_user_find_login(&f->h, "alic", &got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_user_get(&f->h, "no-such-id", &got), GH_ERR_NOT_FOUND);
    /* input is data, never SQL */
    assert_int_equal(gh_store_user_find_login(&f->h, "' OR '1'='1", &got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_user_find_login(&f->h, "%", &got), GH_ERR_NOT_FOUND);
}

static void users_username_differing_in_case_conflicts(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, b;
    add_user(f, "alice", "alice@x.io", &a);
    make_user(f, "ALICE", "other@x.io", &b);
    assert_int_equal(gh_store_user_create(&f->h, &b, FAKE_HASH), GH_ERR_CONFLICT);
    make_user(f, "aLiCe", "third@x.io", &b);
    assert_int_equal(gh_store_user_create(&f->h, &b, FAKE_HASH), GH_ERR_CONFLICT);
    /* the same id again is a conflict too */
    make_user(f, "bob", "bob@x.io", &b);
    memcpy(b.id, a.id, sizeof(b.id));
    assert_int_equal(gh_store_user_create(&f->h, &b, FAKE_HASH), GH_ERR_CONFLICT);
    int64_t n = 0;
    assert_int_equal(gh_store_user_count(&f->h, &n), GH_OK);
    assert_int_equal(n, 1);
}

static void users_duplicate_email_conflicts(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, b;
    add_user(f, "alice", "alice@example.com", &a);
    make_user(f, "bob", "alice@example.com", &b);
    assert_int_equal(gh_store_user_create(&f->h, &b, FAKE_HASH), GH_ERR_CONFLICT);
    make_user(f, "bob", "ALICE@Example.Com", &b);
    assert_int_equal(gh_store_user_create(&f->h, &b, FAKE_HASH), GH_ERR_CONFLICT);

    /* Non-ASCII: lower() folds the ASCII letters only (documented in sqlite_schema.c). */
    add_user(f, "jorg", "J\xc3\xb6rg@Example.org", &a);
    make_user(f, "jorg2", "j\xc3\xb6rg@EXAMPLE.ORG", &b);
    assert_int_equal(gh_store_user_create(&f->h, &b, FAKE_HASH), GH_ERR_CONFLICT);
    struct gh_user got;
    assert_int_equal(gh_store_user_find_login(&f->h, "j\xc3\xb6RG@example.ORG", &got), GH_OK);
    assert_string_equal(got.id, a.id);
}

struct visit {
    int n;
    int stop_after;
    char names[8][65];
};

static int visit_user(void *arg, const struct gh_user *u)
{
    struct visit *v = arg;
    if (v->n < 8)
        snprintf(v->names[v->n], sizeof(v->names[0]), "%s", u->username);
    v->n++;
    return v->stop_after > 0 && v->n >= v->stop_after;
}

static void users_list_with_limit_and_offset(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 5; i++) {
        char name[16], email[32];
        struct gh_user u;
        snprintf(name, sizeof(name), "user%d", i);
        snprintf(email, sizeof(email), "u%d@x.io", i);
        make_user(f, name, email, &u);
        u.created_at = 100 + i;
        assert_int_equal(gh_store_user_create(&f->h, &u, FAKE_HASH), GH_OK);
    }
    int64_t n = 0;
    assert_int_equal(gh_store_user_count(&f->h, &n), GH_OK);
    assert_int_equal(n, 5);

    struct visit v = {0};
    assert_int_equal(gh_store_user_list(&f->h, 2, 0, visit_user, &v), GH_OK);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.names[0], "user0");
    assert_string_equal(v.names[1], "user1");

    memset(&v, 0, sizeof(v));
    assert_int_equal(gh_store_user_list(&f->h, 2, 2, visit_user, &v), GH_OK);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.names[0], "user2");
    assert_string_equal(v.names[1], "user3");

    memset(&v, 0, sizeof(v));
    assert_int_equal(gh_store_user_list(&f->h, 10, 4, visit_user, &v), GH_OK);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.names[0], "user4");

    memset(&v, 0, sizeof(v));
    assert_int_equal(gh_store_user_list(&f->h, 10, 5, visit_user, &v), GH_OK);
    assert_int_equal(v.n, 0);

    memset(&v, 0, sizeof(v));
    v.stop_after = 3; /* the visitor may stop early */
    assert_int_equal(gh_store_user_list(&f->h, SIZE_MAX, 0, visit_user, &v), GH_OK);
    assert_int_equal(v.n, 3);
}

static void users_bad_values_refused(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, got;

    make_user(f, "frank", "frank@x.io", &u);
    memset(u.username, 'a', sizeof(u.username)); /* no terminating NUL */
    assert_int_equal(gh_store_user_create(&f->h, &u, FAKE_HASH), GH_ERR_INVALID);

    make_user(f, "frank", "frank@x.io", &u);
    gh_uuid_v7(u.primary_org_id); /* an org that does not exist */
    assert_int_equal(gh_store_user_create(&f->h, &u, FAKE_HASH), GH_ERR_NOT_FOUND);

    make_user(f, "frank", "frank@x.io", &u);
    u.primary_org_id[0] = '\0'; /* no primary org is allowed */
    assert_int_equal(gh_store_user_create(&f->h, &u, FAKE_HASH), GH_OK);
    assert_int_equal(gh_store_user_get(&f->h, u.id, &got), GH_OK);
    assert_string_equal(got.primary_org_id, "");

    char hash[400];
    memset(hash, 'h', sizeof(hash) - 1);
    hash[sizeof(hash) - 1] = '\0';
    int64_t epoch = -1;
    assert_int_equal(gh_store_user_set_password(&f->h, u.id, hash, 1, 20, &epoch),
                     GH_ERR_TOO_LARGE);
    make_user(f, "gail", "gail@x.io", &u);
    assert_int_equal(gh_store_user_create(&f->h, &u, hash), GH_ERR_INVALID);
    assert_int_equal(epoch, -1);
}

/* ---- orgs and memberships ---- */

static void orgs_and_memberships(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    add_user(f, "carol", "carol@x.io", &u);

    /* two system roles made with the org */
    struct role_pick sys;
    memset(&sys, 0, sizeof(sys));
    sys.name = "admin";
    assert_int_equal(gh_store_role_list(&f->h, f->org.id, 100, 0, pick_role, &sys), GH_OK);
    assert_int_equal(sys.n, 2);
    assert_true(sys.role.system);
    assert_int_equal(strlen(sys.role.id), 36);
    sys.name = "member";
    assert_int_equal(gh_store_role_list(&f->h, f->org.id, 100, 0, pick_role, &sys), GH_OK);
    assert_true(sys.role.system);
    assert_string_equal(sys.role.name, "member");

    struct gh_org acme, got;
    gh_uuid_v7(acme.id);
    snprintf(acme.name, sizeof(acme.name), "Acme");
    acme.created_at = 2;
    assert_int_equal(gh_store_org_create(&f->h, &acme, "*:*", "file:read"), GH_OK);
    assert_int_equal(gh_store_org_find_name(&f->h, "ACME", &got), GH_OK);
    assert_string_equal(got.id, acme.id);
    assert_string_equal(got.name, "Acme");
    assert_int_equal(got.created_at, 2);
    assert_int_equal(gh_store_org_find_name(&f->h, "nope", &got), GH_ERR_NOT_FOUND);

    struct gh_org dup = acme; /* names repeat; ids never */
    snprintf(dup.name, sizeof(dup.name), "Other");
    assert_int_equal(gh_store_org_create(&f->h, &dup, "*:*", ""), GH_ERR_CONFLICT);
    /* nothing of the failed org remains: acme keeps its two system roles */
    assert_int_equal(role_count(f, acme.id), 2);
    gh_uuid_v7(dup.id);
    snprintf(dup.name, sizeof(dup.name), "DEFAULT");
    assert_int_equal(gh_store_org_create(&f->h, &dup, "*:*", ""), GH_OK);
    assert_int_equal(gh_store_org_find_name(&f->h, "default", &got), GH_ERR_CONFLICT);
    assert_int_equal(gh_store_org_delete(&f->h, dup.id, 3, NULL, NULL), GH_OK);

    assert_int_equal(gh_store_member_add(&f->h, f->org.id, u.id, "member", 5), GH_OK);
    assert_int_equal(gh_store_member_add(&f->h, acme.id, u.id, "admin", 6), GH_OK);
    assert_int_equal(gh_store_member_add(&f->h, f->org.id, u.id, "admin", 7), GH_ERR_CONFLICT);
    assert_int_equal(gh_store_member_add(&f->h, f->org.id, u.id, "owner", 7), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_member_add(&f->h, f->org.id, "no-such-user", "member", 7),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_member_add(&f->h, "no-such-org", u.id, "member", 7),
                     GH_ERR_NOT_FOUND);

    struct gh_membership m;
    assert_int_equal(gh_store_member_get(&f->h, f->org.id, u.id, &m), GH_OK);
    assert_string_equal(m.org_id, f->org.id);
    assert_string_equal(m.org_name, "default");
    assert_string_equal(m.role_name, "member");
    assert_string_equal(m.permissions, "file:read org:read");
    assert_int_equal(gh_store_member_get(&f->h, acme.id, u.id, &m), GH_OK);
    assert_string_equal(m.role_name, "admin");
    assert_string_equal(m.permissions, "*:*");

    struct gh_user other;
    add_user(f, "dan", "dan@x.io", &other);
    assert_int_equal(gh_store_member_get(&f->h, f->org.id, other.id, &m), GH_ERR_NOT_FOUND);

    struct gh_membership list[4];
    size_t n = 99;
    assert_int_equal(gh_store_member_list_user(&f->h, u.id, list, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].org_name, "Acme"); /* ordered by org name */
    assert_string_equal(list[1].org_name, "default");
    assert_int_equal(gh_store_member_list_user(&f->h, u.id, list, 1, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(gh_store_member_list_user(&f->h, other.id, list, 4, &n), GH_OK);
    assert_int_equal(n, 0);
}

/* ---- refresh tokens ---- */

static void refresh_rotate_happy_path(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_refresh_token first, next, spent, after;
    add_user(f, "dave", "dave@x.io", &u);
    fresh_token(&first, u.id, f->org.id, 1000);
    assert_int_equal(gh_store_refresh_insert(&f->h, &first), GH_OK);
    assert_int_equal(gh_store_refresh_insert(&f->h, &first), GH_ERR_CONFLICT);

    next_token(&next, 2000);
    assert_int_equal(gh_store_refresh_rotate(&f->h, first.hash, &next, 200, &spent), GH_OK);
    assert_string_equal(spent.id, first.id);
    assert_memory_equal(spent.hash, first.hash, GH_HASH_LEN);
    assert_string_equal(spent.user_id, u.id);
    assert_string_equal(spent.family_id, first.family_id);
    assert_string_equal(spent.org_id, f->org.id);
    assert_int_equal(spent.expires_at, 1000);
    /* the backend filled what the caller could not know */
    assert_string_equal(next.family_id, first.family_id);
    assert_string_equal(next.user_id, u.id);
    assert_string_equal(next.org_id, f->org.id);

    assert_false(token_live(f, first.hash, 150)); /* spent */
    assert_true(token_live(f, next.hash, 1999));
    assert_false(token_live(f, next.hash, 2000));

    /* the new one rotates in turn, same family */
    next_token(&after, 3000);
    assert_int_equal(gh_store_refresh_rotate(&f->h, next.hash, &after, 300, &spent), GH_OK);
    assert_string_equal(spent.id, next.id);
    assert_string_equal(after.family_id, first.family_id);
}

static void refresh_reuse_revokes_family(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_refresh_token first, next, third, spent, other;
    add_user(f, "erin", "erin@x.io", &u);
    fresh_token(&first, u.id, f->org.id, 1000);
    assert_int_equal(gh_store_refresh_insert(&f->h, &first), GH_OK);
    fresh_token(&other, u.id, f->org.id, 1000); /* another login: another family */
    assert_int_equal(gh_store_refresh_insert(&f->h, &other), GH_OK);

    next_token(&next, 1000);
    assert_int_equal(gh_store_refresh_rotate(&f->h, first.hash, &next, 200, &spent), GH_OK);

    next_token(&third, 1000);
    memset(&spent, 0, sizeof(spent));
    assert_int_equal(gh_store_refresh_rotate(&f->h, first.hash, &third, 201, &spent),
                     GH_ERR_REUSED);
    assert_string_equal(spent.id, first.id);
    assert_string_equal(spent.family_id, first.family_id);
    assert_string_equal(spent.user_id, u.id);
    assert_string_equal(third.user_id, ""); /* next is written on GH_OK only */
    assert_int_equal(gh_store_refresh_rotate(&f->h, third.hash, &next, 201, &spent),
                     GH_ERR_NOT_FOUND); /* never stored */

    /* the whole family is revoked, the legitimate holder's token included... */
    assert_false(token_live(f, first.hash, 100));
    assert_false(token_live(f, next.hash, 100));
    assert_true(token_live(f, other.hash, 100));
    assert_int_equal(gh_store_refresh_rotate(&f->h, next.hash, &third, 202, &spent),
                     GH_ERR_REVOKED);
    /* ...and nothing else */
    assert_int_equal(gh_store_refresh_rotate(&f->h, other.hash, &third, 203, &spent), GH_OK);
}

static void refresh_expired_and_unknown(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_refresh_token t, next, spent;
    add_user(f, "gina", "gina@x.io", &u);
    fresh_token(&t, u.id, f->org.id, 300);
    assert_int_equal(gh_store_refresh_insert(&f->h, &t), GH_OK);

    next_token(&next, 1000);
    assert_int_equal(gh_store_refresh_rotate(&f->h, t.hash, &next, 300, &spent), GH_ERR_EXPIRED);
    assert_int_equal(gh_store_refresh_rotate(&f->h, t.hash, &next, 301, &spent), GH_ERR_EXPIRED);
    assert_true(token_live(f, t.hash, 299)); /* not spent by the refusals */

    unsigned char unknown[GH_HASH_LEN];
    randombytes_buf(unknown, sizeof(unknown));
    assert_int_equal(gh_store_refresh_rotate(&f->h, unknown, &next, 200, &spent), GH_ERR_NOT_FOUND);

    /* purge deletes what expired before the cutoff */
    int64_t purged = -1;
    assert_int_equal(gh_store_refresh_purge(&f->h, 300, &purged), GH_OK);
    assert_int_equal(purged, 0);
    assert_int_equal(gh_store_refresh_purge(&f->h, 301, &purged), GH_OK);
    assert_int_equal(purged, 1);
    assert_int_equal(gh_store_refresh_rotate(&f->h, t.hash, &next, 302, &spent), GH_ERR_NOT_FOUND);
}

static void refresh_revoke_one(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_refresh_token t, got, next, spent;
    add_user(f, "hank", "hank@x.io", &u);
    fresh_token(&t, u.id, f->org.id, 1000);
    assert_int_equal(gh_store_refresh_insert(&f->h, &t), GH_OK);
    assert_int_equal(gh_store_refresh_revoke(&f->h, t.hash, 50, &got), GH_OK);
    assert_string_equal(got.id, t.id);
    assert_string_equal(got.user_id, u.id);
    next_token(&next, 1000);
    assert_int_equal(gh_store_refresh_rotate(&f->h, t.hash, &next, 60, &spent), GH_ERR_REVOKED);
    unsigned char unknown[GH_HASH_LEN] = {1};
    assert_int_equal(gh_store_refresh_revoke(&f->h, unknown, 50, &got), GH_ERR_NOT_FOUND);

    fresh_token(&t, "no-such-user", f->org.id, 1000);
    assert_int_equal(gh_store_refresh_insert(&f->h, &t), GH_ERR_NOT_FOUND);
}

enum { RACERS = 8, ROUNDS = 10 };

struct racer {
    const struct gh_store_handle *h;
    const unsigned char *hash;
    struct gh_refresh_token next;
    pthread_barrier_t *start;
    gh_err result;
};

static void *rotate_once(void *arg)
{
    struct racer *r = arg;
    struct gh_refresh_token spent;
    pthread_barrier_wait(r->start);
    r->result = gh_store_refresh_rotate(r->h, r->hash, &r->next, 400, &spent);
    return NULL;
}

static void refresh_concurrent_rotation_has_one_winner(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    add_user(f, "ivan", "ivan@x.io", &u);

    for (int round = 0; round < ROUNDS; round++) {
        struct gh_refresh_token t;
        fresh_token(&t, u.id, f->org.id, 5000);
        assert_int_equal(gh_store_refresh_insert(&f->h, &t), GH_OK);

        pthread_t th[RACERS];
        struct racer r[RACERS];
        pthread_barrier_t start;
        assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
        for (int i = 0; i < RACERS; i++) {
            r[i] = (struct racer){
                .h = &f->h, .hash = t.hash, .start = &start, .result = GH_ERR_INTERNAL};
            next_token(&r[i].next, 5000);
            assert_int_equal(pthread_create(&th[i], NULL, rotate_once, &r[i]), 0);
        }
        int ok = 0, reused = 0, revoked = 0;
        for (int i = 0; i < RACERS; i++) {
            pthread_join(th[i], NULL);
            ok += r[i].result == GH_OK;
            reused += r[i].result == GH_ERR_REUSED;
            revoked += r[i].result == GH_ERR_REVOKED;
        }
        pthread_barrier_destroy(&start);
        assert_int_equal(ok, 1);
        /* The losers saw a spent token: the first revoked the family, the others found it
         * revoked. Nothing else (no BUSY, no IO). */
        assert_int_equal(reused, 1);
        assert_int_equal(ok + reused + revoked, RACERS);
        /* exactly one new token was stored (revoked with its family since) */
        int stored = 0;
        for (int i = 0; i < RACERS; i++) {
            struct gh_refresh_token nx, sp;
            next_token(&nx, 5000);
            gh_err e = gh_store_refresh_rotate(&f->h, r[i].next.hash, &nx, 401, &sp);
            assert_true(e == GH_ERR_REVOKED || e == GH_ERR_NOT_FOUND);
            stored += e == GH_ERR_REVOKED;
        }
        assert_int_equal(stored, 1);
    }
}

/* ---- epochs ---- */

static void set_password_bumps_epoch_and_revokes(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, got;
    struct gh_refresh_token t1, t2, next, spent;
    int64_t epoch = -1;
    add_user(f, "judy", "judy@x.io", &u);
    fresh_token(&t1, u.id, f->org.id, 5000);
    fresh_token(&t2, u.id, f->org.id, 5000);
    assert_int_equal(gh_store_refresh_insert(&f->h, &t1), GH_OK);
    assert_int_equal(gh_store_refresh_insert(&f->h, &t2), GH_OK);

    assert_int_equal(gh_store_user_set_password(&f->h, u.id, "$argon2id$new", 1, 51, &epoch),
                     GH_OK);
    assert_int_equal(epoch, 1);
    assert_int_equal(gh_store_user_get(&f->h, u.id, &got), GH_OK);
    struct gh_credentials cr;
    assert_int_equal(gh_store_user_get_credentials(&f->h, u.id, &cr), GH_OK);
    assert_string_equal(cr.password_hash, "$argon2id$new");
    assert_int_equal(got.token_epoch, 1);
    assert_int_equal(got.updated_at, 51);
    assert_false(token_live(f, t1.hash, 52));
    assert_false(token_live(f, t2.hash, 52));
    next_token(&next, 5000);
    assert_int_equal(gh_store_refresh_rotate(&f->h, t1.hash, &next, 52, &spent), GH_ERR_REVOKED);

    /* a rehash at login keeps the epoch and the sessions */
    fresh_token(&t1, u.id, f->org.id, 5000);
    assert_int_equal(gh_store_refresh_insert(&f->h, &t1), GH_OK);
    assert_int_equal(gh_store_user_set_password(&f->h, u.id, "$argon2id$re", 0, 53, &epoch), GH_OK);
    assert_int_equal(epoch, 1);
    next_token(&next, 5000);
    assert_int_equal(gh_store_refresh_rotate(&f->h, t1.hash, &next, 54, &spent), GH_OK);

    assert_int_equal(gh_store_user_set_disabled(&f->h, u.id, 1, 55, &epoch), GH_OK);
    assert_int_equal(epoch, 2);
    assert_int_equal(gh_store_user_get(&f->h, u.id, &got), GH_OK);
    assert_int_equal(got.disabled, 1);
    assert_false(token_live(f, next.hash, 56)); /* the one rotated at 54 */
    assert_int_equal(gh_store_user_revoke_all(&f->h, u.id, 56, &epoch), GH_OK);
    assert_int_equal(epoch, 3);

    epoch = -1;
    assert_int_equal(gh_store_user_revoke_all(&f->h, "no-such-user", 57, &epoch), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_user_set_password(&f->h, "no-such-user", "$x", 1, 57, &epoch),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(epoch, -1);
    /* every epoch increment reached the revocation feed */
    assert_int_equal(feed_count(f, u.id), 3);
}

static void collect(void *arg, const char *user_id)
{
    char *seen = arg;
    size_t used = strlen(seen);
    snprintf(seen + used, 256 - used, "%s;", user_id);
}

static void revocation_feed_sees_other_writers(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    int64_t start = -1, last = -1, epoch = 0;
    char seen[256] = "";
    add_user(f, "kim", "kim@x.io", &u);
    assert_int_equal(gh_store_revocation_feed(&f->h, -1, 0, NULL, NULL, &start), GH_OK);
    assert_int_equal(start, 0);

    struct gh_store_handle other; /* another process, such as the CLI */
    assert_int_equal(factory->reopen(f->ctx, &other), GH_OK);
    assert_int_equal(gh_store_user_revoke_all(&other, u.id, 60, &epoch), GH_OK);
    gh_store_close(&other);

    assert_int_equal(gh_store_revocation_feed(&f->h, start, 0, collect, seen, &last), GH_OK);
    assert_true(last > start);
    assert_non_null(strstr(seen, u.id));
    seen[0] = '\0';
    assert_int_equal(gh_store_revocation_feed(&f->h, last, 0, collect, seen, &last), GH_OK);
    assert_string_equal(seen, "");
    assert_int_equal(gh_store_revocation_feed(&f->h, 0, 1000, collect, seen, &last), GH_OK);
    seen[0] = '\0';
    assert_int_equal(gh_store_revocation_feed(&f->h, 0, 0, collect, seen, &last), GH_OK);
    assert_string_equal(seen, ""); /* purged: older than 1000 */
}

#endif

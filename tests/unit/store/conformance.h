/*
 * The store conformance suite: every op of a backend, through the gh_store_* wrappers only
 * (no SQL, no backend call). A runner defines the backend's fresh-database factory and
 * runs GH_STORE_CONFORMANCE_TESTS (tests/unit/store/test_sqlite.c for SQLite); a later
 * backend (PostgreSQL) passes the same suite unchanged. Business rules (the last admin,
 * what an org's deletion revokes) are the services': the suite checks the primitives they
 * are made of and that a transaction makes a check and a write one step.
 */
#ifndef GH_TEST_STORE_CONFORMANCE_H
#define GH_TEST_STORE_CONFORMANCE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "audit/chain.h"
#include "core/uuid.h"
#include "store/store.h"

/** What a backend gives the suite. */
struct gh_store_factory {
    const struct gh_store_ops *ops;
    /* Creates a new empty database and opens it into *h; *ctx is the backend's own
     * (a directory...). GH_OK or the failure. */
    gh_err (*create)(void **ctx, struct gh_store_handle *h);
    /* Opens another handle on ctx's database, as another process would (the CLI). */
    gh_err (*reopen)(void *ctx, struct gh_store_handle *h);
    /* Closes h and deletes ctx's database. */
    void (*destroy)(void *ctx, struct gh_store_handle *h);
};

/* The runner defines it before running the suite. */
static const struct gh_store_factory *factory;

struct fixture {
    void *ctx;
    struct gh_store_handle h;
    struct gh_org org;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    if (factory->create(&f->ctx, &f->h) != GH_OK || f->h.ops != factory->ops)
        return -1;
    gh_uuid_v7(f->org.id);
    snprintf(f->org.name, sizeof(f->org.name), "default");
    f->org.created_at = 1;
    if (gh_store_org_create(&f->h, &f->org, "*:*", "file:read org:read") != GH_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    factory->destroy(f->ctx, &f->h);
    free(f);
    return 0;
}

#define FAKE_HASH "$argon2id$v=19$fake"

static void make_user(const struct fixture *f, const char *name, const char *email,
                      struct gh_user *u)
{
    memset(u, 0, sizeof(*u));
    gh_uuid_v7(u->id);
    snprintf(u->username, sizeof(u->username), "%s", name);
    snprintf(u->email, sizeof(u->email), "%s", email);
    snprintf(u->full_name, sizeof(u->full_name), "Full %s", name);
    memcpy(u->primary_org_id, f->org.id, sizeof(u->primary_org_id));
    u->created_at = u->updated_at = 10;
}

static void add_user(const struct fixture *f, const char *name, const char *email,
                     struct gh_user *u)
{
    make_user(f, name, email, u);
    assert_int_equal(gh_store_user_create(&f->h, u, FAKE_HASH), GH_OK);
}

static void fresh_token(struct gh_refresh_token *t, const char *user_id, const char *org_id,
                        int64_t expires)
{
    memset(t, 0, sizeof(*t));
    gh_uuid_v7(t->id);
    randombytes_buf(t->hash, sizeof(t->hash));
    snprintf(t->user_id, sizeof(t->user_id), "%s", user_id);
    memcpy(t->family_id, t->id, sizeof(t->family_id));
    snprintf(t->org_id, sizeof(t->org_id), "%s", org_id);
    t->created_at = 100;
    t->expires_at = expires;
}

/* A token as the service builds it for a rotation: id, hash and times only. */
static void next_token(struct gh_refresh_token *t, int64_t expires)
{
    fresh_token(t, "", "", expires);
    memset(t->family_id, 0, sizeof(t->family_id));
}

/* ---- what the suite reads through ops where a test once read rows ---- */

struct feed_count {
    const char *user_id;
    int64_t n;
};

static void count_feed(void *arg, const char *user_id)
{
    struct feed_count *c = arg;
    c->n += strcmp(c->user_id, user_id) == 0;
}

/* How many revocation feed entries name user_id. */
static int64_t feed_count(const struct fixture *f, const char *user_id)
{
    struct feed_count c = {user_id, 0};
    int64_t after = 0, last = 0;
    for (;;) {
        assert_int_equal(gh_store_revocation_feed(&f->h, after, 0, count_feed, &c, &last), GH_OK);
        if (last == after)
            return c.n;
        after = last;
    }
}

/* Whether the token with hash is live (not spent, revoked or expired) at now. */
static int token_live(const struct fixture *f, const unsigned char *hash, int64_t now)
{
    struct gh_refresh_token t;
    gh_err err = gh_store_refresh_get(&f->h, hash, now, &t);
    assert_true(err == GH_OK || err == GH_ERR_NOT_FOUND);
    return err == GH_OK;
}

static int count_role(void *arg, const struct gh_role *r)
{
    (void)r;
    (*(int *)arg)++;
    return 0;
}

static int member_count_user(const struct fixture *f, const char *user_id)
{
    struct gh_membership m[4];
    size_t n = 0;
    assert_int_equal(gh_store_member_list_user(&f->h, user_id, m, 4, &n), GH_OK);
    return (int)n;
}

static int role_count(const struct fixture *f, const char *org_id)
{
    int n = 0;
    assert_int_equal(gh_store_role_list(&f->h, org_id, 1000, 0, count_role, &n), GH_OK);
    return n;
}

struct role_pick {
    const char *name;
    struct gh_role role;
    int n;
};

static int pick_role(void *arg, const struct gh_role *r)
{
    struct role_pick *p = arg;
    p->n++;
    if (strcmp(r->name, p->name) == 0)
        p->role = *r;
    return 0;
}

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

    struct gh_org dup = acme;
    gh_uuid_v7(dup.id);
    snprintf(dup.name, sizeof(dup.name), "DEFAULT");
    assert_int_equal(gh_store_org_create(&f->h, &dup, "*:*", ""), GH_ERR_CONFLICT);
    /* nothing of the failed org remains */
    assert_int_equal(role_count(f, dup.id), 0);

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

/* ---- audit ---- */

/* ---- RBAC ---- */

static int count_org(void *arg, const struct gh_org *o)
{
    (void)o;
    (*(int *)arg)++;
    return 0;
}

static int count_member(void *arg, const struct gh_member *m)
{
    (void)m;
    (*(int *)arg)++;
    return 0;
}

/* A new org with u as its admin. */
static void org_with_admin(const struct fixture *f, const char *name, const struct gh_user *u,
                           struct gh_org *org)
{
    memset(org, 0, sizeof(*org));
    gh_uuid_v7(org->id);
    snprintf(org->name, sizeof(org->name), "%s", name);
    org->created_at = 3;
    assert_int_equal(gh_store_org_create(&f->h, org, "*:*", "file:read"), GH_OK);
    assert_int_equal(gh_store_member_add(&f->h, org->id, u->id, "admin", 4), GH_OK);
}

static void rbac_orgs_are_scoped(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a, b, got;
    add_user(f, "erin", "erin@x.io", &u);
    add_user(f, "fred", "fred@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);
    org_with_admin(f, "Beta", &v, &b);
    assert_int_equal(gh_store_org_get(&f->h, a.id, &got), GH_OK);
    assert_string_equal(got.name, "Alpha");
    int n = 0;
    assert_int_equal(gh_store_org_list(&f->h, u.id, 100, 0, count_org, &n), GH_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(gh_store_org_list(&f->h, NULL, 100, 0, count_org, &n), GH_OK);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(gh_store_org_list(&f->h, NULL, 1, 1, count_org, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(gh_store_org_rename(&f->h, a.id, "BETA"), GH_ERR_CONFLICT);
    assert_int_equal(gh_store_org_rename(&f->h, a.id, "Gamma"), GH_OK);
    assert_int_equal(gh_store_org_rename(&f->h, "no-such-org", "Delta"), GH_ERR_NOT_FOUND);

    /* A role of org b is not found through org a. */
    struct role_pick p;
    memset(&p, 0, sizeof(p));
    p.name = "admin";
    assert_int_equal(gh_store_role_list(&f->h, b.id, 100, 0, pick_role, &p), GH_OK);
    assert_int_equal(p.n, 2);
    struct gh_role r;
    assert_int_equal(gh_store_role_get(&f->h, b.id, p.role.id, &r), GH_OK);
    assert_true(r.system);
    assert_int_equal(gh_store_role_get(&f->h, a.id, p.role.id, &r), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_role_update(&f->h, a.id, p.role.id, "x", NULL, 5, NULL, NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_role_delete(&f->h, a.id, p.role.id), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_member_remove(&f->h, a.id, v.id, 5), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_member_set_role(&f->h, a.id, v.id, "member", 5), GH_ERR_NOT_FOUND);
}

static void rbac_custom_roles(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a;
    add_user(f, "gina", "gina@x.io", &u);
    add_user(f, "hank", "hank@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);
    struct gh_role r;
    memset(&r, 0, sizeof(r));
    gh_uuid_v7(r.id);
    memcpy(r.org_id, a.id, sizeof(r.org_id));
    snprintf(r.name, sizeof(r.name), "editor");
    snprintf(r.permissions, sizeof(r.permissions), "file:*");
    r.system = 1; /* ignored: custom roles are never system roles */
    assert_int_equal(gh_store_role_create(&f->h, &r), GH_OK);
    struct gh_role dup = r;
    gh_uuid_v7(dup.id);
    assert_int_equal(gh_store_role_create(&f->h, &dup), GH_ERR_CONFLICT);
    struct gh_role got;
    assert_int_equal(gh_store_role_get(&f->h, a.id, r.id, &got), GH_OK);
    assert_false(got.system);

    assert_int_equal(gh_store_member_add(&f->h, a.id, v.id, "editor", 6), GH_OK);
    int64_t feed = feed_count(f, v.id);
    char seen[256] = "";
    assert_int_equal(gh_store_role_update(&f->h, a.id, r.id, NULL, "file:read", 7, collect, seen),
                     GH_OK);
    assert_non_null(strstr(seen, v.id));
    assert_null(strstr(seen, u.id));
    assert_int_equal(feed_count(f, v.id), feed + 1);
    struct gh_membership m;
    assert_int_equal(gh_store_member_get(&f->h, a.id, v.id, &m), GH_OK);
    assert_string_equal(m.permissions, "file:read");
    assert_string_equal(m.role_name, "editor");

    /* held: not deletable; once nobody holds it, gone */
    assert_int_equal(gh_store_role_delete(&f->h, a.id, r.id), GH_ERR_CONFLICT);
    assert_int_equal(gh_store_member_set_role(&f->h, a.id, v.id, "member", 8), GH_OK);
    assert_int_equal(gh_store_member_set_role(&f->h, a.id, v.id, "nope", 8), GH_ERR_INVALID);
    assert_int_equal(gh_store_role_delete(&f->h, a.id, r.id), GH_OK);
    assert_int_equal(gh_store_role_get(&f->h, a.id, r.id, &got), GH_ERR_NOT_FOUND);
    /* system roles are not deleted by the store either */
    struct role_pick p;
    memset(&p, 0, sizeof(p));
    p.name = "member";
    assert_int_equal(gh_store_role_list(&f->h, a.id, 100, 0, pick_role, &p), GH_OK);
    assert_int_equal(gh_store_role_delete(&f->h, a.id, p.role.id), GH_ERR_CONFLICT);
}

/* The primitives of the last-admin rule (authz/rbac.c): the store counts, the service
 * decides; the store refuses nothing on its own. */
static void rbac_admin_count_and_plain_changes(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a;
    int64_t admins = -1;
    add_user(f, "ivan", "ivan@x.io", &u);
    add_user(f, "jane", "jane@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);
    assert_int_equal(gh_store_member_count_admins(&f->h, a.id, &admins), GH_OK);
    assert_int_equal(admins, 1);
    assert_int_equal(gh_store_member_add(&f->h, a.id, v.id, "admin", 5), GH_OK);
    assert_int_equal(gh_store_member_count_admins(&f->h, a.id, &admins), GH_OK);
    assert_int_equal(admins, 2);
    assert_int_equal(gh_store_member_set_role(&f->h, a.id, u.id, "member", 5), GH_OK);
    assert_int_equal(gh_store_member_remove(&f->h, a.id, v.id, 5), GH_OK);
    assert_int_equal(gh_store_member_count_admins(&f->h, a.id, &admins), GH_OK);
    assert_int_equal(admins, 0); /* the store holds no rule: the service keeps one admin */
    assert_int_equal(gh_store_member_remove(&f->h, a.id, v.id, 5), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_member_count_admins(&f->h, "no-such-org", &admins), GH_OK);
    assert_int_equal(admins, 0);
    int n = 0;
    assert_int_equal(gh_store_member_list_org(&f->h, a.id, 100, 0, count_member, &n), GH_OK);
    assert_int_equal(n, 1);
}

/* A transaction commits everything or nothing, and its ops see its own writes. */
static void tx_commits_or_rolls_back(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a;
    struct gh_membership m;
    struct gh_store_handle tx;
    int64_t admins = -1;
    add_user(f, "kurt", "kurt@x.io", &u);
    add_user(f, "lena", "lena@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);

    assert_int_equal(gh_store_tx_begin(&f->h, &tx), GH_OK);
    assert_int_equal(gh_store_member_add(&tx, a.id, v.id, "admin", 5), GH_OK);
    assert_int_equal(gh_store_member_count_admins(&tx, a.id, &admins), GH_OK);
    assert_int_equal(admins, 2);
    assert_int_equal(gh_store_member_set_role(&tx, a.id, u.id, "member", 5), GH_OK);
    assert_int_equal(gh_store_tx_end(&tx, GH_ERR_CONFLICT), GH_ERR_CONFLICT); /* rolled back */
    assert_null(tx.st);
    assert_int_equal(gh_store_member_get(&f->h, a.id, v.id, &m), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_member_get(&f->h, a.id, u.id, &m), GH_OK);
    assert_string_equal(m.role_name, "admin");

    assert_int_equal(gh_store_tx_begin(&f->h, &tx), GH_OK);
    assert_int_equal(gh_store_member_add(&tx, a.id, v.id, "admin", 6), GH_OK);
    /* an op that is a transaction of its own joins the caller's */
    assert_int_equal(gh_store_member_set_role(&tx, a.id, u.id, "member", 6), GH_OK);
    assert_int_equal(gh_store_tx_end(&tx, GH_OK), GH_OK);
    assert_int_equal(gh_store_member_get(&f->h, a.id, u.id, &m), GH_OK);
    assert_string_equal(m.role_name, "member");
    assert_int_equal(gh_store_member_count_admins(&f->h, a.id, &admins), GH_OK);
    assert_int_equal(admins, 1);
}

/* Two demotions of an org's last two admins at once, each checking the count and writing
 * in one transaction (as authz/rbac.c does): one wins, the org keeps an admin. */
struct demoter {
    const struct gh_store_handle *h;
    const char *org_id, *user_id;
    pthread_barrier_t *start;
    gh_err result;
};

static void *demote_once(void *arg)
{
    struct demoter *d = arg;
    struct gh_store_handle tx;
    int64_t admins = 0;
    pthread_barrier_wait(d->start);
    gh_err err = gh_store_tx_begin(d->h, &tx);
    if (err != GH_OK) {
        d->result = err;
        return NULL;
    }
    if ((err = gh_store_member_count_admins(&tx, d->org_id, &admins)) == GH_OK && admins <= 1)
        err = GH_ERR_CONFLICT;
    if (err == GH_OK)
        err = gh_store_member_set_role(&tx, d->org_id, d->user_id, "member", 7);
    d->result = gh_store_tx_end(&tx, err);
    return NULL;
}

static void tx_check_and_write_are_one_step(void **state)
{
    struct fixture *f = *state;
    for (int round = 0; round < ROUNDS; round++) {
        struct gh_user u, v;
        struct gh_org a;
        char name[16], email[32];
        snprintf(name, sizeof(name), "mo%d", round);
        snprintf(email, sizeof(email), "mo%d@x.io", round);
        add_user(f, name, email, &u);
        snprintf(name, sizeof(name), "ni%d", round);
        snprintf(email, sizeof(email), "ni%d@x.io", round);
        add_user(f, name, email, &v);
        snprintf(name, sizeof(name), "Org%d", round);
        org_with_admin(f, name, &u, &a);
        assert_int_equal(gh_store_member_add(&f->h, a.id, v.id, "admin", 5), GH_OK);

        pthread_t th[2];
        struct demoter d[2];
        pthread_barrier_t start;
        assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
        d[0] = (struct demoter){&f->h, a.id, u.id, &start, GH_ERR_INTERNAL};
        d[1] = (struct demoter){&f->h, a.id, v.id, &start, GH_ERR_INTERNAL};
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, demote_once, &d[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start);
        assert_int_equal((d[0].result == GH_OK) + (d[1].result == GH_OK), 1);
        assert_int_equal((d[0].result == GH_ERR_CONFLICT) + (d[1].result == GH_ERR_CONFLICT), 1);
        int64_t admins = 0;
        assert_int_equal(gh_store_member_count_admins(&f->h, a.id, &admins), GH_OK);
        assert_int_equal(admins, 1);
    }
}

static void rbac_removal_and_org_delete_revoke(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a;
    add_user(f, "kate", "kate@x.io", &u);
    add_user(f, "liam", "liam@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);
    assert_int_equal(gh_store_member_add(&f->h, f->org.id, v.id, "member", 5), GH_OK);
    assert_int_equal(gh_store_member_add(&f->h, a.id, v.id, "member", 6), GH_OK);
    assert_int_equal(gh_store_user_set_primary_org(&f->h, v.id, a.id), GH_OK);
    assert_int_equal(gh_store_user_set_primary_org(&f->h, u.id, f->org.id), GH_ERR_NOT_FOUND);
    struct gh_refresh_token t;
    fresh_token(&t, v.id, a.id, 1000000);
    assert_int_equal(gh_store_refresh_insert(&f->h, &t), GH_OK);
    struct gh_refresh_token peek;
    assert_int_equal(gh_store_refresh_get(&f->h, t.hash, 100, &peek), GH_OK);
    assert_string_equal(peek.org_id, a.id);
    assert_int_equal(gh_store_refresh_get(&f->h, t.hash, 1000000, &peek), GH_ERR_NOT_FOUND);

    /* removal and what authz/rbac.c revokes with it: the refresh token for that org, an
     * API key acting there, the primary org */
    struct gh_api_key k;
    memset(&k, 0, sizeof(k));
    gh_uuid_v7(k.id);
    randombytes_buf(k.hash, sizeof(k.hash));
    snprintf(k.prefix, sizeof(k.prefix), "ak_abcdefgh");
    memcpy(k.user_id, v.id, sizeof(k.user_id));
    memcpy(k.org_id, a.id, sizeof(k.org_id));
    snprintf(k.name, sizeof(k.name), "ci");
    k.created_at = 5;
    assert_int_equal(gh_store_apikey_create(&f->h, &k), GH_OK);
    int64_t feed = feed_count(f, v.id);
    assert_int_equal(gh_store_member_remove(&f->h, a.id, v.id, 7), GH_OK);
    assert_int_equal(feed_count(f, v.id), feed + 1);
    assert_int_equal(gh_store_refresh_get(&f->h, t.hash, 100, &peek), GH_OK); /* not its job */
    assert_int_equal(gh_store_refresh_revoke_org(&f->h, a.id, v.id, 7), GH_OK);
    assert_int_equal(gh_store_refresh_get(&f->h, t.hash, 100, &peek), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_apikey_revoke_org(&f->h, a.id, v.id, 7), GH_OK);
    struct gh_api_key kg;
    assert_int_equal(gh_store_apikey_find_hash(&f->h, k.hash, &kg), GH_OK);
    assert_int_equal(kg.revoked_at, 7);
    assert_int_equal(gh_store_user_primary_reassign(&f->h, a.id, v.id), GH_OK);
    struct gh_user got;
    assert_int_equal(gh_store_user_get(&f->h, v.id, &got), GH_OK);
    assert_string_equal(got.primary_org_id, f->org.id);

    /* org delete: every member told and in the feed, roles, memberships and keys gone */
    assert_int_equal(gh_store_member_add(&f->h, a.id, v.id, "member", 8), GH_OK);
    fresh_token(&t, u.id, a.id, 1000000);
    assert_int_equal(gh_store_refresh_insert(&f->h, &t), GH_OK);
    assert_int_equal(gh_store_refresh_revoke_org(&f->h, a.id, NULL, 9), GH_OK);
    assert_false(token_live(f, t.hash, 100)); /* every member's token for the org */
    feed = feed_count(f, u.id);
    char seen[256] = "";
    assert_int_equal(gh_store_org_delete(&f->h, a.id, 9, collect, seen), GH_OK);
    assert_non_null(strstr(seen, u.id));
    assert_non_null(strstr(seen, v.id));
    assert_int_equal(feed_count(f, u.id), feed + 1);
    assert_int_equal(role_count(f, a.id), 0);
    int n = 0;
    assert_int_equal(gh_store_member_list_org(&f->h, a.id, 100, 0, count_member, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(member_count_user(f, v.id), 1); /* the default org's */
    assert_int_equal(gh_store_apikey_find_hash(&f->h, k.hash, &kg), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_org_delete(&f->h, a.id, 9, NULL, NULL), GH_ERR_NOT_FOUND);
}

static void rbac_user_update_delete_and_permissions(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, other;
    add_user(f, "mona", "mona@x.io", &u);
    add_user(f, "nick", "nick@x.io", &other);
    snprintf(u.email, sizeof(u.email), "NICK@x.io");
    assert_int_equal(gh_store_user_update(&f->h, &u, 0, 5), GH_ERR_CONFLICT);
    snprintf(u.email, sizeof(u.email), "mona2@x.io");
    u.superadmin = 1;
    assert_int_equal(gh_store_user_update(&f->h, &u, 1, 5), GH_OK);
    struct gh_user got;
    assert_int_equal(gh_store_user_get(&f->h, u.id, &got), GH_OK);
    assert_string_equal(got.email, "mona2@x.io");
    assert_true(got.superadmin);
    assert_int_equal(got.token_epoch, 1); /* revoke bumped the epoch */
    assert_int_equal(gh_store_user_delete(&f->h, u.id, 6), GH_OK);
    assert_int_equal(gh_store_user_get(&f->h, u.id, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_user_delete(&f->h, u.id, 6), GH_ERR_NOT_FOUND);

    assert_int_equal(gh_store_perm_add(&f->h, "doc:read", 1), GH_OK);
    assert_int_equal(gh_store_perm_add(&f->h, "doc:read", 1), GH_ERR_CONFLICT);
}

struct audit_seen {
    int n;
    int64_t seq[2];
    unsigned char prev[2][GH_HASH_LEN], hash[2][GH_HASH_LEN];
};

/* Checks the two records audit_append_writes_a_row stores as it reads them. */
static int see_audit(void *arg, const struct gh_audit_row *r)
{
    struct audit_seen *v = arg;
    assert_true(v->n < 2);
    assert_true(r->hashed);
    v->seq[v->n] = r->seq;
    memcpy(v->prev[v->n], r->prev_hash, GH_HASH_LEN);
    memcpy(v->hash[v->n], r->hash, GH_HASH_LEN);
    if (v->n == 0) {
        assert_int_equal(r->ev.ts, 77);
        assert_string_equal(r->ev.action, "LOGIN");
        assert_string_equal(r->ev.user_id, "u1");
        assert_null(r->ev.username); /* "" is stored as NULL */
        assert_string_equal(r->ev.resource_type, "user");
        assert_string_equal(r->ev.resource_id, "u1");
        assert_string_equal(r->ev.ip_address, "127.0.0.1");
        assert_string_equal(r->ev.user_agent, "curl/8");
        assert_string_equal(r->ev.method, "POST");
        assert_string_equal(r->ev.path, "/api/v1/auth/login");
        assert_int_equal(r->ev.status, 200);
        assert_string_equal(r->ev.metadata_json, "{\"a\":1}");
    } else {
        assert_string_equal(r->ev.action, "USER_DISABLED");
        /* everything absent is NULL, status 0 included */
        assert_null(r->ev.user_id);
        assert_null(r->ev.username);
        assert_null(r->ev.org_id);
        assert_null(r->ev.resource_type);
        assert_null(r->ev.resource_id);
        assert_null(r->ev.ip_address);
        assert_null(r->ev.user_agent);
        assert_null(r->ev.method);
        assert_null(r->ev.path);
        assert_int_equal(r->ev.status, 0);
        assert_null(r->ev.metadata_json);
    }
    v->n++;
    return 0;
}

static void audit_append_writes_a_row(void **state)
{
    struct fixture *f = *state;
    struct gh_audit_event ev = {.ts = 77,
                                .action = "LOGIN",
                                .user_id = "u1",
                                .username = "",
                                .org_id = f->org.id,
                                .resource_type = "user",
                                .resource_id = "u1",
                                .ip_address = "127.0.0.1",
                                .user_agent = "curl/8",
                                .method = "POST",
                                .path = "/api/v1/auth/login",
                                .status = 200,
                                .metadata_json = "{\"a\":1}"};
    struct gh_audit_head head;
    assert_int_equal(gh_store_audit_append(&f->h, &ev, 1, gh_audit_hash, &head), GH_OK);
    assert_int_equal(head.seq, 1);
    struct gh_audit_event bare = {.ts = 78, .action = "USER_DISABLED"};
    assert_int_equal(gh_store_audit_append(&f->h, &bare, 1, gh_audit_hash, &head), GH_OK);
    assert_int_equal(head.seq, 2);
    struct gh_audit_event none[2] = {{.ts = 79, .action = "X"}, {.ts = 79}};
    assert_int_equal(gh_store_audit_append(&f->h, none, 2, gh_audit_hash, &head), GH_ERR_INVALID);

    struct audit_seen seen;
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(gh_store_audit_scan(&f->h, 0, see_audit, &seen), GH_OK);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.seq[0], 1);
    assert_int_equal(seen.seq[1], 2);
    /* the chain: each record's hash is the audit module's hash of it after the previous */
    unsigned char zero[GH_HASH_LEN] = {0}, h1[GH_HASH_LEN], h2[GH_HASH_LEN];
    gh_audit_hash(1, &ev, zero, h1);
    gh_audit_hash(2, &bare, h1, h2);
    assert_memory_equal(seen.hash[0], h1, GH_HASH_LEN);
    assert_memory_equal(seen.prev[1], h1, GH_HASH_LEN);
    assert_memory_equal(seen.hash[1], h2, GH_HASH_LEN);
    assert_memory_equal(head.hash, h2, GH_HASH_LEN);
    struct gh_audit_head now;
    assert_int_equal(gh_store_audit_head(&f->h, &now), GH_OK);
    assert_int_equal(now.seq, 2);
    assert_memory_equal(now.hash, h2, GH_HASH_LEN);
}

/* ---- invitations ---- */

struct inv_seen {
    int n;
    struct gh_invitation last;
};

static int see_invitation(void *arg, const struct gh_invitation *inv)
{
    struct inv_seen *v = arg;
    v->n++;
    v->last = *inv;
    return 0;
}

/* Invites user_id (may be NULL) to org with role, live from 100 to 200; id gets its id. */
static gh_err invite(const struct fixture *f, const char *org_id, const char *user_id,
                     const char *role, const char *by, char id[GH_UUID_LEN + 1])
{
    struct gh_invitation inv;
    memset(&inv, 0, sizeof(inv));
    gh_uuid_v7(inv.id);
    snprintf(inv.org_id, sizeof(inv.org_id), "%s", org_id);
    snprintf(inv.role_name, sizeof(inv.role_name), "%s", role);
    inv.created_at = 100;
    inv.expires_at = 200;
    memcpy(id, inv.id, sizeof(inv.id));
    return gh_store_invitation_create(&f->h, &inv, user_id, by);
}

static int list_user(const struct fixture *f, const char *user_id, int64_t now, struct inv_seen *v)
{
    memset(v, 0, sizeof(*v));
    assert_int_equal(gh_store_invitation_list_user(&f->h, user_id, now, 100, 0, see_invitation, v),
                     GH_OK);
    return v->n;
}

static int list_org(const struct fixture *f, const char *org_id, int64_t now, struct inv_seen *v)
{
    memset(v, 0, sizeof(*v));
    assert_int_equal(gh_store_invitation_list_org(&f->h, org_id, now, 100, 0, see_invitation, v),
                     GH_OK);
    return v->n;
}

static void invitations_accept_makes_a_member_once(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a;
    struct inv_seen seen;
    char id[GH_UUID_LEN + 1];
    add_user(f, "kate", "kate@x.io", &u);
    add_user(f, "liam", "liam@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);
    assert_int_equal(invite(f, a.id, v.id, "member", u.id, id), GH_OK);

    /* The invitee's view names org and inviter; the org's names neither invitee nor inviter. */
    assert_int_equal(list_user(f, v.id, 150, &seen), 1);
    assert_string_equal(seen.last.id, id);
    assert_string_equal(seen.last.org_name, "Alpha");
    assert_string_equal(seen.last.role_name, "member");
    assert_string_equal(seen.last.invited_by, "kate");
    assert_int_equal(seen.last.expires_at, 200);
    assert_int_equal(list_org(f, a.id, 150, &seen), 1);
    assert_string_equal(seen.last.role_name, "member");
    assert_string_equal(seen.last.org_name, "");
    assert_string_equal(seen.last.invited_by, "");
    assert_int_equal(list_user(f, u.id, 150, &seen), 0);
    struct gh_membership m;
    assert_int_equal(gh_store_member_get(&f->h, a.id, v.id, &m), GH_ERR_NOT_FOUND);

    /* Another user, another org, an unknown id: not found, and nothing changes. */
    assert_int_equal(gh_store_invitation_accept(&f->h, u.id, id, 150, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_invitation_revoke(&f->h, f->org.id, id, 150), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_invitation_accept(&f->h, v.id, "no-such-id", 150, NULL),
                     GH_ERR_NOT_FOUND);

    int64_t feed = feed_count(f, v.id);
    struct gh_invitation got;
    assert_int_equal(gh_store_invitation_accept(&f->h, v.id, id, 150, &got), GH_OK);
    assert_string_equal(got.org_id, a.id);
    assert_string_equal(got.role_name, "member");
    assert_int_equal(gh_store_member_get(&f->h, a.id, v.id, &m), GH_OK);
    assert_string_equal(m.role_name, "member");
    assert_int_equal(feed_count(f, v.id), feed + 1);
    /* Consumed: a second answer of any kind finds nothing. */
    assert_int_equal(gh_store_invitation_accept(&f->h, v.id, id, 150, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_invitation_decline(&f->h, v.id, id, 150), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_invitation_revoke(&f->h, a.id, id, 150), GH_ERR_NOT_FOUND);
    assert_int_equal(list_user(f, v.id, 150, &seen), 0);
    assert_int_equal(list_org(f, a.id, 150, &seen), 0);
    assert_int_equal(member_count_user(f, v.id), 1);
}

static void invitations_addressed_to_nobody(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a;
    struct inv_seen seen;
    char id[GH_UUID_LEN + 1], id2[GH_UUID_LEN + 1], none[GH_UUID_LEN + 1];
    add_user(f, "mona", "mona@x.io", &u);
    add_user(f, "nick", "nick@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);
    /* Unknown user, no user, a member, one invited twice: each is stored and listed alike. */
    gh_uuid_v7(none);
    assert_int_equal(invite(f, a.id, none, "member", u.id, id), GH_OK);
    assert_int_equal(invite(f, a.id, NULL, "member", NULL, id), GH_OK);
    assert_int_equal(invite(f, a.id, u.id, "member", u.id, id), GH_OK);
    assert_int_equal(invite(f, a.id, v.id, "member", u.id, id), GH_OK);
    assert_int_equal(invite(f, a.id, v.id, "admin", u.id, id2), GH_OK);
    assert_int_equal(list_org(f, a.id, 150, &seen), 5);
    /* four of them are addressed to nobody: nobody can accept them */
    assert_int_equal(gh_store_invitation_accept(&f->h, u.id, id, 150, NULL), GH_ERR_NOT_FOUND);
    /* the one live invitation of v is the first; the second can never be accepted */
    assert_int_equal(list_user(f, v.id, 150, &seen), 1);
    assert_string_equal(seen.last.id, id);
    assert_int_equal(gh_store_invitation_accept(&f->h, v.id, id2, 150, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(list_user(f, u.id, 150, &seen), 0);
    /* no such role in the org, no such org */
    assert_int_equal(invite(f, a.id, v.id, "nope", u.id, id2), GH_ERR_NOT_FOUND);
    assert_int_equal(invite(f, "no-such-org", v.id, "member", u.id, id2), GH_ERR_NOT_FOUND);
    /* a dead invitation no longer blocks a new one */
    assert_int_equal(list_user(f, v.id, 250, &seen), 0);
    struct gh_invitation inv;
    memset(&inv, 0, sizeof(inv));
    gh_uuid_v7(inv.id);
    memcpy(inv.org_id, a.id, sizeof(inv.org_id));
    snprintf(inv.role_name, sizeof(inv.role_name), "admin");
    inv.created_at = 250;
    inv.expires_at = 300;
    assert_int_equal(gh_store_invitation_create(&f->h, &inv, v.id, u.id), GH_OK);
    assert_int_equal(list_user(f, v.id, 260, &seen), 1);
    assert_string_equal(seen.last.role_name, "admin");
    /* a taken id */
    assert_int_equal(gh_store_invitation_create(&f->h, &inv, v.id, u.id), GH_ERR_CONFLICT);
    /* a deleted invitee or inviter leaves the row, addressed to nobody */
    assert_int_equal(gh_store_user_delete(&f->h, v.id, 270), GH_OK);
    assert_int_equal(list_org(f, a.id, 270, &seen), 1);
    assert_string_equal(seen.last.id, inv.id);
    assert_int_equal(gh_store_invitation_accept(&f->h, v.id, inv.id, 280, NULL), GH_ERR_NOT_FOUND);
}

static void invitations_decline_expire_revoke(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a;
    struct inv_seen seen;
    char id[GH_UUID_LEN + 1];
    add_user(f, "olga", "olga@x.io", &u);
    add_user(f, "pete", "pete@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);

    assert_int_equal(invite(f, a.id, v.id, "member", u.id, id), GH_OK);
    assert_int_equal(gh_store_invitation_decline(&f->h, u.id, id, 150), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_invitation_decline(&f->h, v.id, id, 150), GH_OK);
    assert_int_equal(gh_store_invitation_accept(&f->h, v.id, id, 150, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(list_org(f, a.id, 150, &seen), 0);

    /* dead at 200: expired for its invitee, still revocable by the org */
    assert_int_equal(invite(f, a.id, v.id, "member", u.id, id), GH_OK);
    assert_int_equal(gh_store_invitation_accept(&f->h, v.id, id, 200, NULL), GH_ERR_EXPIRED);
    assert_int_equal(gh_store_invitation_decline(&f->h, v.id, id, 250), GH_ERR_EXPIRED);
    assert_int_equal(gh_store_invitation_accept(&f->h, u.id, id, 250, NULL), GH_ERR_NOT_FOUND);
    struct gh_membership m;
    assert_int_equal(gh_store_member_get(&f->h, a.id, v.id, &m), GH_ERR_NOT_FOUND);
    assert_int_equal(list_org(f, a.id, 200, &seen), 0);
    assert_int_equal(gh_store_invitation_revoke(&f->h, a.id, id, 250), GH_OK);
    assert_int_equal(gh_store_invitation_revoke(&f->h, a.id, id, 250), GH_ERR_NOT_FOUND);

    /* revoked before an answer */
    assert_int_equal(invite(f, a.id, v.id, "member", u.id, id), GH_OK);
    assert_int_equal(gh_store_invitation_revoke(&f->h, f->org.id, id, 150), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_invitation_revoke(&f->h, a.id, id, 150), GH_OK);
    assert_int_equal(gh_store_invitation_accept(&f->h, v.id, id, 150, NULL), GH_ERR_NOT_FOUND);

    /* a member by other means meanwhile: accepting conflicts and changes nothing */
    assert_int_equal(invite(f, a.id, v.id, "admin", u.id, id), GH_OK);
    assert_int_equal(gh_store_member_add(&f->h, a.id, v.id, "member", 150), GH_OK);
    assert_int_equal(gh_store_invitation_accept(&f->h, v.id, id, 160, NULL), GH_ERR_CONFLICT);
    assert_int_equal(gh_store_member_get(&f->h, a.id, v.id, &m), GH_OK);
    assert_string_equal(m.role_name, "member");
    assert_int_equal(list_user(f, v.id, 160, &seen), 1);

    /* the org's deletion takes its invitations */
    assert_int_equal(gh_store_member_remove(&f->h, a.id, v.id, 170), GH_OK);
    assert_int_equal(gh_store_org_delete(&f->h, a.id, 170, NULL, NULL), GH_OK);
    assert_int_equal(gh_store_invitation_accept(&f->h, v.id, id, 170, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(list_user(f, v.id, 170, &seen), 0);
    int64_t purged = -1;
    assert_int_equal(gh_store_invitation_purge(&f->h, INT64_MAX, &purged), GH_OK);
    assert_int_equal(purged, 0); /* nothing of the org was left to purge */
}

/* Answered, revoked and expired invitations go once past the cutoff; live ones stay. */
static void invitations_purged_when_dead(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a;
    struct inv_seen seen;
    char live[GH_UUID_LEN + 1], declined[GH_UUID_LEN + 1], revoked[GH_UUID_LEN + 1];
    char expired[GH_UUID_LEN + 1];
    int64_t n = -1;
    add_user(f, "quin", "quin@x.io", &u);
    add_user(f, "rosa", "rosa@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);
    assert_int_equal(invite(f, a.id, v.id, "member", u.id, declined), GH_OK);
    assert_int_equal(gh_store_invitation_decline(&f->h, v.id, declined, 120), GH_OK);
    assert_int_equal(invite(f, a.id, v.id, "member", u.id, revoked), GH_OK);
    assert_int_equal(gh_store_invitation_revoke(&f->h, a.id, revoked, 130), GH_OK);
    assert_int_equal(invite(f, a.id, NULL, "member", u.id, expired), GH_OK); /* dead at 200 */
    struct gh_invitation inv;
    memset(&inv, 0, sizeof(inv));
    gh_uuid_v7(inv.id);
    memcpy(inv.org_id, a.id, sizeof(inv.org_id));
    snprintf(inv.role_name, sizeof(inv.role_name), "member");
    inv.created_at = 100;
    inv.expires_at = 900;
    assert_int_equal(gh_store_invitation_create(&f->h, &inv, v.id, u.id), GH_OK);
    memcpy(live, inv.id, sizeof(live));

    assert_int_equal(gh_store_invitation_purge(&f->h, 125, &n), GH_OK);
    assert_int_equal(n, 1); /* the declined one */
    assert_int_equal(gh_store_invitation_purge(&f->h, 201, &n), GH_OK);
    assert_int_equal(n, 2); /* the revoked and the expired one */
    assert_int_equal(list_user(f, v.id, 300, &seen), 1);
    assert_string_equal(seen.last.id, live);
    assert_int_equal(gh_store_invitation_accept(&f->h, v.id, live, 300, NULL), GH_OK);
    assert_int_equal(gh_store_invitation_purge(&f->h, 301, &n), GH_OK);
    assert_int_equal(n, 1); /* accepted is answered */
    assert_int_equal(gh_store_invitation_purge(&f->h, INT64_MAX, &n), GH_OK);
    assert_int_equal(n, 0); /* nothing left */
}

struct accepter {
    const struct gh_store_handle *h;
    const char *user_id, *id;
    pthread_barrier_t *start;
    gh_err result;
};

static void *accept_once(void *arg)
{
    struct accepter *r = arg;
    pthread_barrier_wait(r->start);
    r->result = gh_store_invitation_accept(r->h, r->user_id, r->id, 150, NULL);
    return NULL;
}

static void invitations_concurrent_accept_has_one_winner(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a;
    add_user(f, "quin", "quin@x.io", &u);
    add_user(f, "rosa", "rosa@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);
    char id[GH_UUID_LEN + 1];
    assert_int_equal(invite(f, a.id, v.id, "member", u.id, id), GH_OK);
    int64_t feed = feed_count(f, v.id);
    pthread_t th[RACERS];
    struct accepter r[RACERS];
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
    for (int i = 0; i < RACERS; i++) {
        r[i] = (struct accepter){&f->h, v.id, id, &start, GH_ERR_INTERNAL};
        assert_int_equal(pthread_create(&th[i], NULL, accept_once, &r[i]), 0);
    }
    int ok = 0, gone = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
        ok += r[i].result == GH_OK;
        gone += r[i].result == GH_ERR_NOT_FOUND;
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(ok, 1);
    assert_int_equal(gone, RACERS - 1);
    assert_int_equal(feed_count(f, v.id), feed + 1);
}

/* The suite, as entries of a CMUnitTest array (T(fn) is the runner's setup/teardown). */
#define GH_STORE_CONFORMANCE_TESTS(T)                                                              \
    T(users_found_without_regard_to_case), T(users_username_differing_in_case_conflicts),          \
        T(users_duplicate_email_conflicts), T(users_list_with_limit_and_offset),                   \
        T(users_bad_values_refused), T(orgs_and_memberships), T(refresh_rotate_happy_path),        \
        T(refresh_reuse_revokes_family), T(refresh_expired_and_unknown), T(refresh_revoke_one),    \
        T(refresh_concurrent_rotation_has_one_winner), T(set_password_bumps_epoch_and_revokes),    \
        T(revocation_feed_sees_other_writers), T(audit_append_writes_a_row),                       \
        T(rbac_orgs_are_scoped), T(rbac_custom_roles), T(rbac_admin_count_and_plain_changes),      \
        T(tx_commits_or_rolls_back), T(tx_check_and_write_are_one_step),                           \
        T(rbac_removal_and_org_delete_revoke), T(rbac_user_update_delete_and_permissions),         \
        T(invitations_accept_makes_a_member_once), T(invitations_addressed_to_nobody),             \
        T(invitations_decline_expire_revoke), T(invitations_purged_when_dead),                     \
        T(invitations_concurrent_accept_has_one_winner)

#endif

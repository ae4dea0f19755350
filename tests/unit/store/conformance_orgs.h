/* The store conformance suite (conformance.h), part: roles and memberships, transactions, the audit
 * chain, invitations. Included by conformance.h only. */
#ifndef GH_TEST_STORE_CONFORMANCE_ORGS_H
#define GH_TEST_STORE_CONFORMANCE_ORGS_H

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
    /* names repeat (a conflict would tell one tenant of another's org); a lookup by a
     * repeated name is ambiguous */
    assert_int_equal(gh_store_org_find_name(&f->h, "beta", &got), GH_OK);
    assert_string_equal(got.id, b.id);
    assert_int_equal(gh_store_org_rename(&f->h, a.id, "BETA"), GH_OK);
    assert_int_equal(gh_store_org_find_name(&f->h, "beta", &got), GH_ERR_CONFLICT);
    assert_int_equal(gh_store_org_find_name(&f->h, "nobody", &got), GH_ERR_NOT_FOUND);
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
    /* (the epoch it moves: members_epoch_per_org_outlives_removal) */
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

#endif

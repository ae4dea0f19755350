/* Unit tests for the SQLite store backend, through the store interface only. */
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
#include <sqlite3.h>

#include "core/uuid.h"
#include "tmpdir.h"
#include "store/store.h"

static const struct gh_store_ops *ops = &gh_store_sqlite_ops;

struct fixture {
    char dir[64];
    char path[128];
    struct gh_store *st;
    struct gh_org org;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-test-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    if (ops->open(f->path, 2000, &f->st) != GH_OK)
        return -1;
    gh_uuid_v7(f->org.id);
    snprintf(f->org.name, sizeof(f->org.name), "default");
    f->org.created_at = 1;
    if (ops->org_create(f->st, &f->org, "*:*", "file:read org:read") != GH_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ops->close(f->st);
    int r = remove_tree(f->dir);
    free(f);
    return r;
}

static void make_user(struct fixture *f, const char *name, const char *email, struct gh_user *u)
{
    memset(u, 0, sizeof(*u));
    gh_uuid_v7(u->id);
    snprintf(u->username, sizeof(u->username), "%s", name);
    snprintf(u->email, sizeof(u->email), "%s", email);
    snprintf(u->password_hash, sizeof(u->password_hash), "$argon2id$fake");
    memcpy(u->primary_org_id, f->org.id, sizeof(u->primary_org_id));
    u->created_at = u->updated_at = 10;
}

static void users_unique_without_case(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, b, got;
    make_user(f, "Alice", "Alice@Example.com", &a);
    assert_int_equal(ops->user_create(f->st, &a), GH_OK);
    make_user(f, "alice", "other@example.com", &b);
    assert_int_equal(ops->user_create(f->st, &b), GH_ERR_CONFLICT);
    make_user(f, "bob", "ALICE@example.COM", &b);
    assert_int_equal(ops->user_create(f->st, &b), GH_ERR_CONFLICT);

    assert_int_equal(ops->user_find_login(f->st, "ALICE", &got), GH_OK);
    assert_string_equal(got.id, a.id);
    assert_int_equal(ops->user_find_login(f->st, "alice@example.com", &got), GH_OK);
    assert_string_equal(got.username, "Alice");
    assert_int_equal(ops->user_get(f->st, a.id, &got), GH_OK);
    assert_string_equal(got.password_hash, "$argon2id$fake");
    assert_int_equal(ops->user_find_login(f->st, "nobody", &got), GH_ERR_NOT_FOUND);
    /* input is data, never SQL */
    assert_int_equal(ops->user_find_login(f->st, "' OR '1'='1", &got), GH_ERR_NOT_FOUND);
}

static int count_visit(void *arg, const struct gh_user *u)
{
    (void)u;
    (*(int *)arg)++;
    return 0;
}

static void users_list_and_count(void **state)
{
    struct fixture *f = *state;
    char name[16], email[32];
    for (int i = 0; i < 5; i++) {
        struct gh_user u;
        snprintf(name, sizeof(name), "user%d", i);
        snprintf(email, sizeof(email), "u%d@x.io", i);
        make_user(f, name, email, &u);
        assert_int_equal(ops->user_create(f->st, &u), GH_OK);
    }
    int64_t n = 0;
    assert_int_equal(ops->user_count(f->st, &n), GH_OK);
    assert_int_equal(n, 5);
    int seen = 0;
    assert_int_equal(ops->user_list(f->st, 3, 0, count_visit, &seen), GH_OK);
    assert_int_equal(seen, 3);
    seen = 0;
    assert_int_equal(ops->user_list(f->st, 10, 3, count_visit, &seen), GH_OK);
    assert_int_equal(seen, 2);
}

static void memberships(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_membership m, list[4];
    size_t n = 0;
    make_user(f, "carol", "carol@x.io", &u);
    assert_int_equal(ops->user_create(f->st, &u), GH_OK);
    assert_int_equal(ops->member_add(f->st, f->org.id, u.id, "member", 5), GH_OK);
    assert_int_equal(ops->member_add(f->st, f->org.id, u.id, "member", 5), GH_ERR_CONFLICT);
    assert_int_equal(ops->member_get(f->st, f->org.id, u.id, &m), GH_OK);
    assert_string_equal(m.role_name, "member");
    assert_string_equal(m.permissions, "file:read org:read");
    assert_string_equal(m.org_name, "default");
    assert_int_equal(ops->member_list_user(f->st, u.id, list, 4, &n), GH_OK);
    assert_int_equal(n, 1);
    struct gh_org other;
    gh_uuid_v7(other.id);
    snprintf(other.name, sizeof(other.name), "DEFAULT");
    other.created_at = 2;
    assert_int_equal(ops->org_create(f->st, &other, "*:*", ""), GH_ERR_CONFLICT);
    assert_int_equal(ops->member_add(f->st, f->org.id, u.id, "nosuchrole", 5), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->org_find_name(f->st, "Default", &other), GH_OK);
    assert_string_equal(other.id, f->org.id);
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

static void refresh_rotation_and_reuse(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_refresh_token first, next, spent, third;
    make_user(f, "dave", "dave@x.io", &u);
    assert_int_equal(ops->user_create(f->st, &u), GH_OK);
    fresh_token(&first, u.id, f->org.id, 1000);
    assert_int_equal(ops->refresh_insert(f->st, &first), GH_OK);

    fresh_token(&next, "", "", 1000);
    assert_int_equal(ops->refresh_rotate(f->st, first.hash, &next, 200, &spent), GH_OK);
    assert_string_equal(spent.id, first.id);
    assert_string_equal(next.family_id, first.family_id);
    assert_string_equal(next.user_id, u.id);

    /* the spent token again: reuse, and the whole family dies with it */
    fresh_token(&third, "", "", 1000);
    assert_int_equal(ops->refresh_rotate(f->st, first.hash, &third, 201, &spent), GH_ERR_REUSED);
    assert_string_equal(spent.family_id, first.family_id);
    assert_int_equal(ops->refresh_rotate(f->st, next.hash, &third, 202, &spent), GH_ERR_REVOKED);

    unsigned char unknown[GH_HASH_LEN] = {0};
    assert_int_equal(ops->refresh_rotate(f->st, unknown, &third, 202, &spent), GH_ERR_NOT_FOUND);
    fresh_token(&first, u.id, f->org.id, 300);
    assert_int_equal(ops->refresh_insert(f->st, &first), GH_OK);
    assert_int_equal(ops->refresh_rotate(f->st, first.hash, &third, 300, &spent), GH_ERR_EXPIRED);

    int64_t purged = -1;
    assert_int_equal(ops->refresh_purge(f->st, 301, &purged), GH_OK);
    assert_int_equal(purged, 1); /* only the one that expired at 300 */
    assert_int_equal(ops->refresh_rotate(f->st, first.hash, &third, 302, &spent),
                     GH_ERR_NOT_FOUND);
}

struct race {
    struct fixture *f;
    const unsigned char *hash;
    pthread_barrier_t *start;
    int won;
};

static void *rotate_once(void *arg)
{
    struct race *r = arg;
    struct gh_refresh_token next, spent;
    fresh_token(&next, "", "", 5000);
    pthread_barrier_wait(r->start);
    r->won = r->f->st != NULL && ops->refresh_rotate(r->f->st, r->hash, &next, 400, &spent) == GH_OK;
    return NULL;
}

static void refresh_concurrent_rotation_has_one_winner(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_refresh_token t;
    make_user(f, "erin", "erin@x.io", &u);
    assert_int_equal(ops->user_create(f->st, &u), GH_OK);
    fresh_token(&t, u.id, f->org.id, 5000);
    assert_int_equal(ops->refresh_insert(f->st, &t), GH_OK);

    enum { N = 8 };
    pthread_t th[N];
    struct race r[N];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; i++) {
        r[i] = (struct race){f, t.hash, &start, 0};
        pthread_create(&th[i], NULL, rotate_once, &r[i]);
    }
    int winners = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        winners += r[i].won;
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(winners, 1);
}

static void revocations_bump_epoch(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, got;
    struct gh_refresh_token t, next, spent;
    int64_t epoch = -1;
    make_user(f, "frank", "frank@x.io", &u);
    assert_int_equal(ops->user_create(f->st, &u), GH_OK);
    fresh_token(&t, u.id, f->org.id, 5000);
    assert_int_equal(ops->refresh_insert(f->st, &t), GH_OK);

    assert_int_equal(ops->user_set_password(f->st, u.id, "$argon2id$new", 0, 50, &epoch), GH_OK);
    assert_int_equal(epoch, 0); /* a rehash does not log anybody out */
    assert_int_equal(ops->user_set_password(f->st, u.id, "$argon2id$new2", 1, 51, &epoch), GH_OK);
    assert_int_equal(epoch, 1);
    fresh_token(&next, "", "", 5000);
    assert_int_equal(ops->refresh_rotate(f->st, t.hash, &next, 52, &spent), GH_ERR_REVOKED);

    assert_int_equal(ops->user_revoke_all(f->st, u.id, 53, &epoch), GH_OK);
    assert_int_equal(epoch, 2);
    assert_int_equal(ops->user_set_disabled(f->st, u.id, 1, 54, &epoch), GH_OK);
    assert_int_equal(epoch, 3);
    assert_int_equal(ops->user_get(f->st, u.id, &got), GH_OK);
    assert_int_equal(got.disabled, 1);
    assert_string_equal(got.password_hash, "$argon2id$new2");
    assert_int_equal(ops->user_revoke_all(f->st, "no-such-user", 55, &epoch), GH_ERR_NOT_FOUND);

    assert_int_equal(ops->refresh_revoke(f->st, t.hash, 56, &spent), GH_OK);
    unsigned char unknown[GH_HASH_LEN] = {1};
    assert_int_equal(ops->refresh_revoke(f->st, unknown, 56, &spent), GH_ERR_NOT_FOUND);
}

static void collect(void *arg, const char *user_id)
{
    char *seen = arg;
    size_t used = strlen(seen);
    snprintf(seen + used, 256 - used, "%s;", user_id);
}

static void revocation_feed_reports_other_writers(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    int64_t start = -1, last = -1, epoch = 0;
    char seen[256] = "";
    make_user(f, "gina", "gina@x.io", &u);
    assert_int_equal(ops->user_create(f->st, &u), GH_OK);
    assert_int_equal(ops->revocation_feed(f->st, -1, 0, NULL, NULL, &start), GH_OK);

    /* a second handle on the same file stands for another process (the CLI) */
    struct gh_store *other = NULL;
    assert_int_equal(ops->open(f->path, 2000, &other), GH_OK);
    assert_int_equal(ops->user_revoke_all(other, u.id, 60, &epoch), GH_OK);
    ops->close(other);

    assert_int_equal(ops->revocation_feed(f->st, start, 0, collect, seen, &last), GH_OK);
    assert_true(last > start);
    assert_non_null(strstr(seen, u.id));
    seen[0] = '\0';
    assert_int_equal(ops->revocation_feed(f->st, last, 0, collect, seen, &last), GH_OK);
    assert_string_equal(seen, "");
    assert_int_equal(ops->revocation_feed(f->st, 0, 1000, collect, seen, &last), GH_OK);
    seen[0] = '\0';
    assert_int_equal(ops->revocation_feed(f->st, 0, 0, collect, seen, &last), GH_OK);
    assert_string_equal(seen, ""); /* purged: older than 1000 */
}

static void audit_rows(void **state)
{
    struct fixture *f = *state;
    struct gh_audit_event ev = {.ts = 77, .action = "LOGIN", .user_id = "u1", .username = "",
                                .ip_address = "127.0.0.1", .status = 200,
                                .metadata_json = "{\"a\":1}"};
    assert_int_equal(ops->audit_append(f->st, &ev), GH_OK);
    assert_int_equal(ops->ping(f->st), GH_OK);

    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT ts, action, user_id, username IS NULL, status, "
                                        "metadata FROM audit_events",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), 77);
    assert_string_equal((const char *)sqlite3_column_text(s, 1), "LOGIN");
    assert_string_equal((const char *)sqlite3_column_text(s, 2), "u1");
    assert_int_equal(sqlite3_column_int(s, 3), 1); /* empty strings are stored as NULL */
    assert_int_equal(sqlite3_column_int(s, 4), 200);
    assert_string_equal((const char *)sqlite3_column_text(s, 5), "{\"a\":1}");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void migrations_are_idempotent(void **state)
{
    struct fixture *f = *state;
    struct gh_store *again = NULL;
    assert_int_equal(ops->open(f->path, 2000, &again), GH_OK);
    struct gh_org o;
    assert_int_equal(ops->org_find_name(again, "default", &o), GH_OK);
    ops->close(again);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(users_unique_without_case, setup, teardown),
        cmocka_unit_test_setup_teardown(users_list_and_count, setup, teardown),
        cmocka_unit_test_setup_teardown(memberships, setup, teardown),
        cmocka_unit_test_setup_teardown(refresh_rotation_and_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(refresh_concurrent_rotation_has_one_winner, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(revocations_bump_epoch, setup, teardown),
        cmocka_unit_test_setup_teardown(revocation_feed_reports_other_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(migrations_are_idempotent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the SQLite store backend (src/store/sqlite.c): through the ops table,
 * with raw SQLite queries where the contract names columns (audit_events, refresh_tokens).
 * Each test gets its own temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "core/uuid.h"
#include "store/store.h"
#include "tmpdir.h"

static const struct gh_store_ops *ops = &gh_store_sqlite_ops;

struct fixture {
    char dir[64];
    char path[96];
    struct gh_store *st;
    struct gh_org org;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-test-sqlite-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/gh.db", f->dir);
    if (ops->open(f->path, 5000, &f->st) != GH_OK)
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

/* ---- raw access to the file, for what the contract puts in named columns ---- */

static sqlite3 *raw_open(const struct fixture *f)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* The integer the one-row query q answers, with ?1 bound to arg when arg is not NULL. */
static int64_t raw_int(const struct fixture *f, const char *q, const char *arg)
{
    sqlite3 *db = raw_open(f);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK);
    if (arg != NULL)
        sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void raw_exec(const struct fixture *f, const char *q)
{
    sqlite3 *db = raw_open(f);
    assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void make_user(const struct fixture *f, const char *name, const char *email,
                      struct gh_user *u)
{
    memset(u, 0, sizeof(*u));
    gh_uuid_v7(u->id);
    snprintf(u->username, sizeof(u->username), "%s", name);
    snprintf(u->email, sizeof(u->email), "%s", email);
    snprintf(u->full_name, sizeof(u->full_name), "Full %s", name);
    snprintf(u->password_hash, sizeof(u->password_hash), "$argon2id$v=19$fake");
    memcpy(u->primary_org_id, f->org.id, sizeof(u->primary_org_id));
    u->created_at = u->updated_at = 10;
}

static void add_user(const struct fixture *f, const char *name, const char *email,
                     struct gh_user *u)
{
    make_user(f, name, email, u);
    assert_int_equal(ops->user_create(f->st, u), GH_OK);
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

/* ---- open and migrations ---- */

static void migrations_idempotent(void **state)
{
    struct fixture *f = *state;
    int64_t versions = raw_int(f, "SELECT count(*) FROM schema_migrations", NULL);
    assert_true(versions >= 1);
    assert_int_equal(raw_int(f, "SELECT min(version) FROM schema_migrations", NULL), 1);

    for (int i = 0; i < 2; i++) {
        struct gh_store *again = NULL;
        assert_int_equal(ops->open(f->path, 5000, &again), GH_OK);
        struct gh_org o;
        assert_int_equal(ops->org_find_name(again, "default", &o), GH_OK);
        assert_string_equal(o.id, f->org.id);
        assert_int_equal(ops->ping(again), GH_OK);
        ops->close(again);
    }
    assert_int_equal(raw_int(f, "SELECT count(*) FROM schema_migrations", NULL), versions);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM orgs", NULL), 1);
    assert_true(raw_int(f, "SELECT min(applied_at) FROM schema_migrations", NULL) > 1600000000);
}

static void open_sets_wal_and_private_file(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = raw_open(f);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);

    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* A path SQLite cannot use is an error, not a crash. */
    struct gh_store *bad = NULL;
    assert_int_equal(ops->open(f->dir, 100, &bad), GH_ERR_IO);
    assert_null(bad);
}

/* ---- users ---- */

static void users_found_without_regard_to_case(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, got;
    add_user(f, "Alice", "Alice@Example.COM", &a);

    assert_int_equal(ops->user_get(f->st, a.id, &got), GH_OK);
    assert_string_equal(got.username, "Alice");
    assert_string_equal(got.email, "Alice@Example.COM");
    assert_string_equal(got.full_name, "Full Alice");
    assert_string_equal(got.password_hash, "$argon2id$v=19$fake");
    assert_string_equal(got.primary_org_id, f->org.id);
    assert_int_equal(got.token_epoch, 0);
    assert_int_equal(got.created_at, 10);

    assert_int_equal(ops->user_find_login(f->st, "ALICE", &got), GH_OK);
    assert_string_equal(got.id, a.id);
    assert_int_equal(ops->user_find_login(f->st, "alice", &got), GH_OK);
    assert_string_equal(got.id, a.id);
    assert_int_equal(ops->user_find_login(f->st, "alice@example.com", &got), GH_OK);
    assert_string_equal(got.id, a.id);
    assert_int_equal(ops->user_find_login(f->st, "ALICE@EXAMPLE.COM", &got), GH_OK);
    assert_string_equal(got.id, a.id);

    assert_int_equal(ops->user_find_login(f->st, "alic", &got), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->user_get(f->st, "no-such-id", &got), GH_ERR_NOT_FOUND);
    /* input is data, never SQL */
    assert_int_equal(ops->user_find_login(f->st, "' OR '1'='1", &got), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->user_find_login(f->st, "%", &got), GH_ERR_NOT_FOUND);

    /* the lookups use the unique expression indexes */
    int64_t used = raw_int(f,
                           "SELECT count(*) FROM (SELECT 1 FROM pragma_index_list('users') "
                           "WHERE name IN ('users_username', 'users_email') AND \"unique\" = 1)",
                           NULL);
    assert_int_equal(used, 2);
}

static void users_username_differing_in_case_conflicts(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, b;
    add_user(f, "alice", "alice@x.io", &a);
    make_user(f, "ALICE", "other@x.io", &b);
    assert_int_equal(ops->user_create(f->st, &b), GH_ERR_CONFLICT);
    make_user(f, "aLiCe", "third@x.io", &b);
    assert_int_equal(ops->user_create(f->st, &b), GH_ERR_CONFLICT);
    /* the same id again is a conflict too */
    make_user(f, "bob", "bob@x.io", &b);
    memcpy(b.id, a.id, sizeof(b.id));
    assert_int_equal(ops->user_create(f->st, &b), GH_ERR_CONFLICT);
    int64_t n = 0;
    assert_int_equal(ops->user_count(f->st, &n), GH_OK);
    assert_int_equal(n, 1);
}

static void users_duplicate_email_conflicts(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, b;
    add_user(f, "alice", "alice@example.com", &a);
    make_user(f, "bob", "alice@example.com", &b);
    assert_int_equal(ops->user_create(f->st, &b), GH_ERR_CONFLICT);
    make_user(f, "bob", "ALICE@Example.Com", &b);
    assert_int_equal(ops->user_create(f->st, &b), GH_ERR_CONFLICT);

    /* Non-ASCII: lower() folds the ASCII letters only (documented in sqlite_schema.c). */
    add_user(f, "jorg", "J\xc3\xb6rg@Example.org", &a);
    make_user(f, "jorg2", "j\xc3\xb6rg@EXAMPLE.ORG", &b);
    assert_int_equal(ops->user_create(f->st, &b), GH_ERR_CONFLICT);
    struct gh_user got;
    assert_int_equal(ops->user_find_login(f->st, "j\xc3\xb6RG@example.ORG", &got), GH_OK);
    assert_string_equal(got.id, a.id);
}

struct visit {
    int n;
    int stop_after;
    char names[8][65];
    int hash_seen;
};

static int visit_user(void *arg, const struct gh_user *u)
{
    struct visit *v = arg;
    if (v->n < 8)
        snprintf(v->names[v->n], sizeof(v->names[0]), "%s", u->username);
    if (u->password_hash[0] != '\0')
        v->hash_seen = 1;
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
        assert_int_equal(ops->user_create(f->st, &u), GH_OK);
    }
    int64_t n = 0;
    assert_int_equal(ops->user_count(f->st, &n), GH_OK);
    assert_int_equal(n, 5);

    struct visit v = {0};
    assert_int_equal(ops->user_list(f->st, 2, 0, visit_user, &v), GH_OK);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.names[0], "user0");
    assert_string_equal(v.names[1], "user1");
    assert_false(v.hash_seen); /* listings carry no password hashes */

    memset(&v, 0, sizeof(v));
    assert_int_equal(ops->user_list(f->st, 2, 2, visit_user, &v), GH_OK);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.names[0], "user2");
    assert_string_equal(v.names[1], "user3");

    memset(&v, 0, sizeof(v));
    assert_int_equal(ops->user_list(f->st, 10, 4, visit_user, &v), GH_OK);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.names[0], "user4");

    memset(&v, 0, sizeof(v));
    assert_int_equal(ops->user_list(f->st, 10, 5, visit_user, &v), GH_OK);
    assert_int_equal(v.n, 0);

    memset(&v, 0, sizeof(v));
    v.stop_after = 3; /* the visitor may stop early */
    assert_int_equal(ops->user_list(f->st, SIZE_MAX, 0, visit_user, &v), GH_OK);
    assert_int_equal(v.n, 3);
}

static void users_bad_values_refused(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, got;

    make_user(f, "frank", "frank@x.io", &u);
    memset(u.username, 'a', sizeof(u.username)); /* no terminating NUL */
    assert_int_equal(ops->user_create(f->st, &u), GH_ERR_INVALID);

    make_user(f, "frank", "frank@x.io", &u);
    gh_uuid_v7(u.primary_org_id); /* an org that does not exist */
    assert_int_equal(ops->user_create(f->st, &u), GH_ERR_NOT_FOUND);

    make_user(f, "frank", "frank@x.io", &u);
    u.primary_org_id[0] = '\0'; /* no primary org is allowed */
    assert_int_equal(ops->user_create(f->st, &u), GH_OK);
    assert_int_equal(ops->user_get(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.primary_org_id, "");

    /* A stored value longer than its field is an error, never a truncated copy. */
    raw_exec(f, "INSERT INTO users (id, username, email, password_hash, created_at, updated_at) "
                "VALUES ('long-one', printf('%.100c', 'x'), 'long@x.io', 'h', 1, 1)");
    memset(&got, 0x5a, sizeof(got));
    assert_int_equal(ops->user_get(f->st, "long-one", &got), GH_ERR_IO);
    assert_int_equal((unsigned char)got.id[0], 0x5a); /* out untouched on failure */

    char hash[400];
    memset(hash, 'h', sizeof(hash) - 1);
    hash[sizeof(hash) - 1] = '\0';
    int64_t epoch = -1;
    assert_int_equal(ops->user_set_password(f->st, u.id, hash, 1, 20, &epoch), GH_ERR_TOO_LARGE);
    assert_int_equal(epoch, -1);
}

/* ---- orgs and memberships ---- */

static void orgs_and_memberships(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    add_user(f, "carol", "carol@x.io", &u);

    /* two system roles made with the org */
    assert_int_equal(raw_int(f,
                             "SELECT count(*) FROM roles WHERE org_id = ?1 AND system = 1 "
                             "AND name IN ('admin', 'member') AND length(id) = 36",
                             f->org.id),
                     2);

    struct gh_org acme, got;
    gh_uuid_v7(acme.id);
    snprintf(acme.name, sizeof(acme.name), "Acme");
    acme.created_at = 2;
    assert_int_equal(ops->org_create(f->st, &acme, "*:*", "file:read"), GH_OK);
    assert_int_equal(ops->org_find_name(f->st, "ACME", &got), GH_OK);
    assert_string_equal(got.id, acme.id);
    assert_string_equal(got.name, "Acme");
    assert_int_equal(got.created_at, 2);
    assert_int_equal(ops->org_find_name(f->st, "nope", &got), GH_ERR_NOT_FOUND);

    struct gh_org dup = acme;
    gh_uuid_v7(dup.id);
    snprintf(dup.name, sizeof(dup.name), "DEFAULT");
    assert_int_equal(ops->org_create(f->st, &dup, "*:*", ""), GH_ERR_CONFLICT);
    /* nothing of the failed org remains */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM roles WHERE org_id = ?1", dup.id), 0);

    assert_int_equal(ops->member_add(f->st, f->org.id, u.id, "member", 5), GH_OK);
    assert_int_equal(ops->member_add(f->st, acme.id, u.id, "admin", 6), GH_OK);
    assert_int_equal(ops->member_add(f->st, f->org.id, u.id, "admin", 7), GH_ERR_CONFLICT);
    assert_int_equal(ops->member_add(f->st, f->org.id, u.id, "owner", 7), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->member_add(f->st, f->org.id, "no-such-user", "member", 7),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(ops->member_add(f->st, "no-such-org", u.id, "member", 7), GH_ERR_NOT_FOUND);

    struct gh_membership m;
    assert_int_equal(ops->member_get(f->st, f->org.id, u.id, &m), GH_OK);
    assert_string_equal(m.org_id, f->org.id);
    assert_string_equal(m.org_name, "default");
    assert_string_equal(m.role_name, "member");
    assert_string_equal(m.permissions, "file:read org:read");
    assert_int_equal(ops->member_get(f->st, acme.id, u.id, &m), GH_OK);
    assert_string_equal(m.role_name, "admin");
    assert_string_equal(m.permissions, "*:*");

    struct gh_user other;
    add_user(f, "dan", "dan@x.io", &other);
    assert_int_equal(ops->member_get(f->st, f->org.id, other.id, &m), GH_ERR_NOT_FOUND);

    struct gh_membership list[4];
    size_t n = 99;
    assert_int_equal(ops->member_list_user(f->st, u.id, list, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].org_name, "Acme"); /* ordered by org name */
    assert_string_equal(list[1].org_name, "default");
    assert_int_equal(ops->member_list_user(f->st, u.id, list, 1, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ops->member_list_user(f->st, other.id, list, 4, &n), GH_OK);
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
    assert_int_equal(ops->refresh_insert(f->st, &first), GH_OK);
    assert_int_equal(ops->refresh_insert(f->st, &first), GH_ERR_CONFLICT);

    next_token(&next, 2000);
    assert_int_equal(ops->refresh_rotate(f->st, first.hash, &next, 200, &spent), GH_OK);
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

    assert_int_equal(raw_int(f, "SELECT spent_at FROM refresh_tokens WHERE id = ?1", first.id),
                     200);
    assert_int_equal(raw_int(f,
                             "SELECT count(*) FROM refresh_tokens WHERE id = ?1 AND "
                             "spent_at IS NULL AND revoked_at IS NULL AND expires_at = 2000",
                             next.id),
                     1);
    assert_int_equal(raw_int(f, "SELECT count(DISTINCT family_id) FROM refresh_tokens", NULL), 1);

    /* the new one rotates in turn, same family */
    next_token(&after, 3000);
    assert_int_equal(ops->refresh_rotate(f->st, next.hash, &after, 300, &spent), GH_OK);
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
    assert_int_equal(ops->refresh_insert(f->st, &first), GH_OK);
    fresh_token(&other, u.id, f->org.id, 1000); /* another login: another family */
    assert_int_equal(ops->refresh_insert(f->st, &other), GH_OK);

    next_token(&next, 1000);
    assert_int_equal(ops->refresh_rotate(f->st, first.hash, &next, 200, &spent), GH_OK);

    next_token(&third, 1000);
    memset(&spent, 0, sizeof(spent));
    assert_int_equal(ops->refresh_rotate(f->st, first.hash, &third, 201, &spent), GH_ERR_REUSED);
    assert_string_equal(spent.id, first.id);
    assert_string_equal(spent.family_id, first.family_id);
    assert_string_equal(spent.user_id, u.id);
    assert_string_equal(third.user_id, ""); /* next is written on GH_OK only */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM refresh_tokens WHERE id = ?1", third.id), 0);

    /* the whole family is revoked, the legitimate holder's token included... */
    assert_int_equal(raw_int(f,
                             "SELECT count(*) FROM refresh_tokens WHERE family_id = ?1 AND "
                             "revoked_at = 201",
                             first.family_id),
                     2);
    assert_int_equal(ops->refresh_rotate(f->st, next.hash, &third, 202, &spent), GH_ERR_REVOKED);
    /* ...and nothing else */
    assert_int_equal(ops->refresh_rotate(f->st, other.hash, &third, 203, &spent), GH_OK);
}

static void refresh_expired_and_unknown(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_refresh_token t, next, spent;
    add_user(f, "gina", "gina@x.io", &u);
    fresh_token(&t, u.id, f->org.id, 300);
    assert_int_equal(ops->refresh_insert(f->st, &t), GH_OK);

    next_token(&next, 1000);
    assert_int_equal(ops->refresh_rotate(f->st, t.hash, &next, 300, &spent), GH_ERR_EXPIRED);
    assert_int_equal(ops->refresh_rotate(f->st, t.hash, &next, 301, &spent), GH_ERR_EXPIRED);
    assert_int_equal(raw_int(f, "SELECT spent_at IS NULL FROM refresh_tokens WHERE id = ?1", t.id),
                     1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM refresh_tokens", NULL), 1);

    unsigned char unknown[GH_HASH_LEN];
    randombytes_buf(unknown, sizeof(unknown));
    assert_int_equal(ops->refresh_rotate(f->st, unknown, &next, 200, &spent), GH_ERR_NOT_FOUND);

    /* purge deletes what expired before the cutoff */
    int64_t purged = -1;
    assert_int_equal(ops->refresh_purge(f->st, 300, &purged), GH_OK);
    assert_int_equal(purged, 0);
    assert_int_equal(ops->refresh_purge(f->st, 301, &purged), GH_OK);
    assert_int_equal(purged, 1);
    assert_int_equal(ops->refresh_rotate(f->st, t.hash, &next, 302, &spent), GH_ERR_NOT_FOUND);
}

static void refresh_revoke_one(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_refresh_token t, got, next, spent;
    add_user(f, "hank", "hank@x.io", &u);
    fresh_token(&t, u.id, f->org.id, 1000);
    assert_int_equal(ops->refresh_insert(f->st, &t), GH_OK);
    assert_int_equal(ops->refresh_revoke(f->st, t.hash, 50, &got), GH_OK);
    assert_string_equal(got.id, t.id);
    assert_string_equal(got.user_id, u.id);
    next_token(&next, 1000);
    assert_int_equal(ops->refresh_rotate(f->st, t.hash, &next, 60, &spent), GH_ERR_REVOKED);
    unsigned char unknown[GH_HASH_LEN] = {1};
    assert_int_equal(ops->refresh_revoke(f->st, unknown, 50, &got), GH_ERR_NOT_FOUND);

    fresh_token(&t, "no-such-user", f->org.id, 1000);
    assert_int_equal(ops->refresh_insert(f->st, &t), GH_ERR_NOT_FOUND);
}

enum { RACERS = 8, ROUNDS = 10 };

struct racer {
    struct gh_store *st;
    const unsigned char *hash;
    pthread_barrier_t *start;
    gh_err result;
};

static void *rotate_once(void *arg)
{
    struct racer *r = arg;
    struct gh_refresh_token next, spent;
    next_token(&next, 5000);
    pthread_barrier_wait(r->start);
    r->result = ops->refresh_rotate(r->st, r->hash, &next, 400, &spent);
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
        assert_int_equal(ops->refresh_insert(f->st, &t), GH_OK);

        pthread_t th[RACERS];
        struct racer r[RACERS];
        pthread_barrier_t start;
        assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
        for (int i = 0; i < RACERS; i++) {
            r[i] = (struct racer){f->st, t.hash, &start, GH_ERR_INTERNAL};
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
        assert_int_equal(
            raw_int(f, "SELECT count(*) FROM refresh_tokens WHERE family_id = ?1", t.family_id), 2);
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
    assert_int_equal(ops->refresh_insert(f->st, &t1), GH_OK);
    assert_int_equal(ops->refresh_insert(f->st, &t2), GH_OK);

    assert_int_equal(ops->user_set_password(f->st, u.id, "$argon2id$new", 1, 51, &epoch), GH_OK);
    assert_int_equal(epoch, 1);
    assert_int_equal(ops->user_get(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.password_hash, "$argon2id$new");
    assert_int_equal(got.token_epoch, 1);
    assert_int_equal(got.updated_at, 51);
    assert_int_equal(raw_int(f,
                             "SELECT count(*) FROM refresh_tokens WHERE user_id = ?1 AND "
                             "revoked_at = 51",
                             u.id),
                     2);
    next_token(&next, 5000);
    assert_int_equal(ops->refresh_rotate(f->st, t1.hash, &next, 52, &spent), GH_ERR_REVOKED);

    /* a rehash at login keeps the epoch and the sessions */
    fresh_token(&t1, u.id, f->org.id, 5000);
    assert_int_equal(ops->refresh_insert(f->st, &t1), GH_OK);
    assert_int_equal(ops->user_set_password(f->st, u.id, "$argon2id$re", 0, 53, &epoch), GH_OK);
    assert_int_equal(epoch, 1);
    next_token(&next, 5000);
    assert_int_equal(ops->refresh_rotate(f->st, t1.hash, &next, 54, &spent), GH_OK);

    assert_int_equal(ops->user_set_disabled(f->st, u.id, 1, 55, &epoch), GH_OK);
    assert_int_equal(epoch, 2);
    assert_int_equal(ops->user_get(f->st, u.id, &got), GH_OK);
    assert_int_equal(got.disabled, 1);
    assert_int_equal(raw_int(f,
                             "SELECT count(*) FROM refresh_tokens WHERE user_id = ?1 AND "
                             "revoked_at IS NULL",
                             u.id),
                     0);
    assert_int_equal(ops->user_revoke_all(f->st, u.id, 56, &epoch), GH_OK);
    assert_int_equal(epoch, 3);

    epoch = -1;
    assert_int_equal(ops->user_revoke_all(f->st, "no-such-user", 57, &epoch), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->user_set_password(f->st, "no-such-user", "$x", 1, 57, &epoch),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(epoch, -1);
    /* every epoch increment reached the revocation feed */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM revocations WHERE user_id = ?1", u.id), 3);
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
    assert_int_equal(ops->revocation_feed(f->st, -1, 0, NULL, NULL, &start), GH_OK);
    assert_int_equal(start, 0);

    struct gh_store *other = NULL; /* another process, such as the CLI */
    assert_int_equal(ops->open(f->path, 5000, &other), GH_OK);
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

/* A new org with u as its admin. */
static void org_with_admin(const struct fixture *f, const char *name, const struct gh_user *u,
                           struct gh_org *org)
{
    memset(org, 0, sizeof(*org));
    gh_uuid_v7(org->id);
    snprintf(org->name, sizeof(org->name), "%s", name);
    org->created_at = 3;
    assert_int_equal(ops->org_create(f->st, org, "*:*", "file:read"), GH_OK);
    assert_int_equal(ops->member_add(f->st, org->id, u->id, "admin", 4), GH_OK);
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
    assert_int_equal(ops->org_get(f->st, a.id, &got), GH_OK);
    assert_string_equal(got.name, "Alpha");
    int n = 0;
    assert_int_equal(ops->org_list(f->st, u.id, 100, 0, count_org, &n), GH_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(ops->org_list(f->st, NULL, 100, 0, count_org, &n), GH_OK);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(ops->org_list(f->st, NULL, 1, 1, count_org, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ops->org_rename(f->st, a.id, "BETA"), GH_ERR_CONFLICT);
    assert_int_equal(ops->org_rename(f->st, a.id, "Gamma"), GH_OK);
    assert_int_equal(ops->org_rename(f->st, "no-such-org", "Delta"), GH_ERR_NOT_FOUND);

    /* A role of org b is not found through org a. */
    struct role_pick p;
    memset(&p, 0, sizeof(p));
    p.name = "admin";
    assert_int_equal(ops->role_list(f->st, b.id, 100, 0, pick_role, &p), GH_OK);
    assert_int_equal(p.n, 2);
    struct gh_role r;
    assert_int_equal(ops->role_get(f->st, b.id, p.role.id, &r), GH_OK);
    assert_true(r.system);
    assert_int_equal(ops->role_get(f->st, a.id, p.role.id, &r), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->role_update(f->st, a.id, p.role.id, "x", NULL, 5, NULL, NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(ops->role_delete(f->st, a.id, p.role.id), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->member_remove(f->st, a.id, v.id, 5), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->member_set_role(f->st, a.id, v.id, "member", 5), GH_ERR_NOT_FOUND);
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
    assert_int_equal(ops->role_create(f->st, &r), GH_OK);
    struct gh_role dup = r;
    gh_uuid_v7(dup.id);
    assert_int_equal(ops->role_create(f->st, &dup), GH_ERR_CONFLICT);
    struct gh_role got;
    assert_int_equal(ops->role_get(f->st, a.id, r.id, &got), GH_OK);
    assert_false(got.system);

    assert_int_equal(ops->member_add(f->st, a.id, v.id, "editor", 6), GH_OK);
    int64_t feed = raw_int(f, "SELECT count(*) FROM revocations WHERE user_id = ?1", v.id);
    char seen[256] = "";
    assert_int_equal(ops->role_update(f->st, a.id, r.id, NULL, "file:read", 7, collect, seen),
                     GH_OK);
    assert_non_null(strstr(seen, v.id));
    assert_null(strstr(seen, u.id));
    assert_int_equal(raw_int(f, "SELECT count(*) FROM revocations WHERE user_id = ?1", v.id),
                     feed + 1);
    struct gh_membership m;
    assert_int_equal(ops->member_get(f->st, a.id, v.id, &m), GH_OK);
    assert_string_equal(m.permissions, "file:read");
    assert_string_equal(m.role_name, "editor");

    /* held: not deletable; once nobody holds it, gone */
    assert_int_equal(ops->role_delete(f->st, a.id, r.id), GH_ERR_CONFLICT);
    assert_int_equal(ops->member_set_role(f->st, a.id, v.id, "member", 8), GH_OK);
    assert_int_equal(ops->member_set_role(f->st, a.id, v.id, "nope", 8), GH_ERR_INVALID);
    assert_int_equal(ops->role_delete(f->st, a.id, r.id), GH_OK);
    assert_int_equal(ops->role_get(f->st, a.id, r.id, &got), GH_ERR_NOT_FOUND);
    /* system roles are not deleted by the store either */
    struct role_pick p;
    memset(&p, 0, sizeof(p));
    p.name = "member";
    assert_int_equal(ops->role_list(f->st, a.id, 100, 0, pick_role, &p), GH_OK);
    assert_int_equal(ops->role_delete(f->st, a.id, p.role.id), GH_ERR_CONFLICT);
}

static void rbac_last_admin(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a;
    add_user(f, "ivan", "ivan@x.io", &u);
    add_user(f, "jane", "jane@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);
    assert_int_equal(ops->member_set_role(f->st, a.id, u.id, "member", 5), GH_ERR_CONFLICT);
    assert_int_equal(ops->member_remove(f->st, a.id, u.id, 5), GH_ERR_CONFLICT);
    assert_int_equal(ops->user_delete(f->st, u.id, 5), GH_ERR_CONFLICT);
    assert_int_equal(ops->member_set_role(f->st, a.id, u.id, "admin", 5), GH_OK);
    assert_int_equal(ops->member_add(f->st, a.id, v.id, "admin", 5), GH_OK);
    assert_int_equal(ops->member_set_role(f->st, a.id, u.id, "member", 5), GH_OK);
    assert_int_equal(ops->member_remove(f->st, a.id, v.id, 5), GH_ERR_CONFLICT);
    assert_int_equal(ops->member_remove(f->st, a.id, u.id, 5), GH_OK);
    int n = 0;
    assert_int_equal(ops->member_list_org(f->st, a.id, 100, 0, count_member, &n), GH_OK);
    assert_int_equal(n, 1);
}

static void rbac_removal_and_org_delete_revoke(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, v;
    struct gh_org a;
    add_user(f, "kate", "kate@x.io", &u);
    add_user(f, "liam", "liam@x.io", &v);
    org_with_admin(f, "Alpha", &u, &a);
    assert_int_equal(ops->member_add(f->st, f->org.id, v.id, "member", 5), GH_OK);
    assert_int_equal(ops->member_add(f->st, a.id, v.id, "member", 6), GH_OK);
    assert_int_equal(ops->user_set_primary_org(f->st, v.id, a.id), GH_OK);
    assert_int_equal(ops->user_set_primary_org(f->st, u.id, f->org.id), GH_ERR_NOT_FOUND);
    struct gh_refresh_token t;
    fresh_token(&t, v.id, a.id, 1000000);
    assert_int_equal(ops->refresh_insert(f->st, &t), GH_OK);
    struct gh_refresh_token peek;
    assert_int_equal(ops->refresh_get(f->st, t.hash, 100, &peek), GH_OK);
    assert_string_equal(peek.org_id, a.id);
    assert_int_equal(ops->refresh_get(f->st, t.hash, 1000000, &peek), GH_ERR_NOT_FOUND);

    /* removal: the refresh token for that org is revoked, the primary org moves */
    assert_int_equal(ops->member_remove(f->st, a.id, v.id, 7), GH_OK);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM refresh_tokens WHERE user_id = ?1 AND "
                                "revoked_at IS NOT NULL", v.id), 1);
    assert_int_equal(ops->refresh_get(f->st, t.hash, 100, &peek), GH_ERR_NOT_FOUND);
    struct gh_user got;
    assert_int_equal(ops->user_get(f->st, v.id, &got), GH_OK);
    assert_string_equal(got.primary_org_id, f->org.id);

    /* org delete: every member told, roles and memberships gone */
    assert_int_equal(ops->member_add(f->st, a.id, v.id, "member", 8), GH_OK);
    char seen[256] = "";
    assert_int_equal(ops->org_delete(f->st, a.id, 9, collect, seen), GH_OK);
    assert_non_null(strstr(seen, u.id));
    assert_non_null(strstr(seen, v.id));
    assert_int_equal(raw_int(f, "SELECT count(*) FROM roles WHERE org_id = ?1", a.id), 0);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM memberships WHERE org_id = ?1", a.id), 0);
    assert_int_equal(ops->org_delete(f->st, a.id, 9, NULL, NULL), GH_ERR_NOT_FOUND);
}

static void rbac_user_update_delete_and_permissions(void **state)
{
    struct fixture *f = *state;
    struct gh_user u, other;
    add_user(f, "mona", "mona@x.io", &u);
    add_user(f, "nick", "nick@x.io", &other);
    snprintf(u.email, sizeof(u.email), "NICK@x.io");
    assert_int_equal(ops->user_update(f->st, &u, 0, 5), GH_ERR_CONFLICT);
    snprintf(u.email, sizeof(u.email), "mona2@x.io");
    u.superadmin = 1;
    assert_int_equal(ops->user_update(f->st, &u, 1, 5), GH_OK);
    struct gh_user got;
    assert_int_equal(ops->user_get(f->st, u.id, &got), GH_OK);
    assert_string_equal(got.email, "mona2@x.io");
    assert_true(got.superadmin);
    assert_int_equal(got.token_epoch, 1); /* revoke bumped the epoch */
    assert_int_equal(ops->user_delete(f->st, u.id, 6), GH_OK);
    assert_int_equal(ops->user_get(f->st, u.id, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->user_delete(f->st, u.id, 6), GH_ERR_NOT_FOUND);

    assert_int_equal(ops->perm_add(f->st, "doc:read", 1), GH_OK);
    assert_int_equal(ops->perm_add(f->st, "doc:read", 1), GH_ERR_CONFLICT);
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
    assert_int_equal(ops->audit_append(f->st, &ev, 1, &head), GH_OK);
    assert_int_equal(head.seq, 1);
    struct gh_audit_event bare = {.ts = 78, .action = "USER_DISABLED"};
    assert_int_equal(ops->audit_append(f->st, &bare, 1, &head), GH_OK);
    assert_int_equal(head.seq, 2);
    struct gh_audit_event none[2] = {{.ts = 79, .action = "X"}, {.ts = 79}};
    assert_int_equal(ops->audit_append(f->st, none, 2, &head), GH_ERR_INVALID);

    sqlite3 *db = raw_open(f);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id, ts, action, user_id, username IS NULL, org_id, "
                                        "resource_type, resource_id, ip_address, user_agent, "
                                        "method, path, status, metadata FROM audit_events "
                                        "ORDER BY id",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t first_id = sqlite3_column_int64(s, 0);
    assert_int_equal(sqlite3_column_int64(s, 1), 77);
    assert_string_equal((const char *)sqlite3_column_text(s, 2), "LOGIN");
    assert_string_equal((const char *)sqlite3_column_text(s, 3), "u1");
    assert_int_equal(sqlite3_column_int(s, 4), 1); /* "" is stored as NULL */
    assert_string_equal((const char *)sqlite3_column_text(s, 5), f->org.id);
    assert_string_equal((const char *)sqlite3_column_text(s, 6), "user");
    assert_string_equal((const char *)sqlite3_column_text(s, 7), "u1");
    assert_string_equal((const char *)sqlite3_column_text(s, 8), "127.0.0.1");
    assert_string_equal((const char *)sqlite3_column_text(s, 9), "curl/8");
    assert_string_equal((const char *)sqlite3_column_text(s, 10), "POST");
    assert_string_equal((const char *)sqlite3_column_text(s, 11), "/api/v1/auth/login");
    assert_int_equal(sqlite3_column_int(s, 12), 200);
    assert_string_equal((const char *)sqlite3_column_text(s, 13), "{\"a\":1}");

    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_true(sqlite3_column_int64(s, 0) > first_id);
    assert_string_equal((const char *)sqlite3_column_text(s, 2), "USER_DISABLED");
    for (int i = 3; i <= 13; i++) /* everything absent is NULL, status 0 included */
        if (i != 4)
            assert_int_equal(sqlite3_column_type(s, i), SQLITE_NULL);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
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
    return ops->invitation_create(f->st, &inv, user_id, by);
}

static int list_user(const struct fixture *f, const char *user_id, int64_t now, struct inv_seen *v)
{
    memset(v, 0, sizeof(*v));
    assert_int_equal(ops->invitation_list_user(f->st, user_id, now, 100, 0, see_invitation, v),
                     GH_OK);
    return v->n;
}

static int list_org(const struct fixture *f, const char *org_id, int64_t now, struct inv_seen *v)
{
    memset(v, 0, sizeof(*v));
    assert_int_equal(ops->invitation_list_org(f->st, org_id, now, 100, 0, see_invitation, v),
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
    assert_int_equal(ops->member_get(f->st, a.id, v.id, &m), GH_ERR_NOT_FOUND);

    /* Another user, another org, an unknown id: not found, and nothing changes. */
    assert_int_equal(ops->invitation_accept(f->st, u.id, id, 150, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->invitation_revoke(f->st, f->org.id, id, 150), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->invitation_accept(f->st, v.id, "no-such-id", 150, NULL),
                     GH_ERR_NOT_FOUND);

    int64_t feed = raw_int(f, "SELECT count(*) FROM revocations WHERE user_id = ?1", v.id);
    struct gh_invitation got;
    assert_int_equal(ops->invitation_accept(f->st, v.id, id, 150, &got), GH_OK);
    assert_string_equal(got.org_id, a.id);
    assert_string_equal(got.role_name, "member");
    assert_int_equal(ops->member_get(f->st, a.id, v.id, &m), GH_OK);
    assert_string_equal(m.role_name, "member");
    assert_int_equal(raw_int(f, "SELECT count(*) FROM revocations WHERE user_id = ?1", v.id),
                     feed + 1);
    /* Consumed: a second answer of any kind finds nothing. */
    assert_int_equal(ops->invitation_accept(f->st, v.id, id, 150, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->invitation_decline(f->st, v.id, id, 150), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->invitation_revoke(f->st, a.id, id, 150), GH_ERR_NOT_FOUND);
    assert_int_equal(list_user(f, v.id, 150, &seen), 0);
    assert_int_equal(list_org(f, a.id, 150, &seen), 0);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM memberships WHERE user_id = ?1", v.id), 1);
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
    assert_int_equal(raw_int(f, "SELECT count(*) FROM org_invitations WHERE user_id IS NULL", NULL),
                     4);
    /* the one live invitation of v is the first; the second can never be accepted */
    assert_int_equal(list_user(f, v.id, 150, &seen), 1);
    assert_string_equal(seen.last.id, id);
    assert_int_equal(ops->invitation_accept(f->st, v.id, id2, 150, NULL), GH_ERR_NOT_FOUND);
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
    assert_int_equal(ops->invitation_create(f->st, &inv, v.id, u.id), GH_OK);
    assert_int_equal(list_user(f, v.id, 260, &seen), 1);
    assert_string_equal(seen.last.role_name, "admin");
    /* a taken id */
    assert_int_equal(ops->invitation_create(f->st, &inv, v.id, u.id), GH_ERR_CONFLICT);
    /* a deleted invitee or inviter leaves the row, addressed to nobody */
    assert_int_equal(ops->user_delete(f->st, v.id, 270), GH_OK);
    assert_int_equal(list_org(f, a.id, 270, &seen), 1);
    assert_string_equal(seen.last.id, inv.id);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM org_invitations WHERE user_id IS NULL", NULL),
                     6);
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
    assert_int_equal(ops->invitation_decline(f->st, u.id, id, 150), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->invitation_decline(f->st, v.id, id, 150), GH_OK);
    assert_int_equal(ops->invitation_accept(f->st, v.id, id, 150, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(list_org(f, a.id, 150, &seen), 0);

    /* dead at 200: expired for its invitee, still revocable by the org */
    assert_int_equal(invite(f, a.id, v.id, "member", u.id, id), GH_OK);
    assert_int_equal(ops->invitation_accept(f->st, v.id, id, 200, NULL), GH_ERR_EXPIRED);
    assert_int_equal(ops->invitation_decline(f->st, v.id, id, 250), GH_ERR_EXPIRED);
    assert_int_equal(ops->invitation_accept(f->st, u.id, id, 250, NULL), GH_ERR_NOT_FOUND);
    struct gh_membership m;
    assert_int_equal(ops->member_get(f->st, a.id, v.id, &m), GH_ERR_NOT_FOUND);
    assert_int_equal(list_org(f, a.id, 200, &seen), 0);
    assert_int_equal(ops->invitation_revoke(f->st, a.id, id, 250), GH_OK);
    assert_int_equal(ops->invitation_revoke(f->st, a.id, id, 250), GH_ERR_NOT_FOUND);

    /* revoked before an answer */
    assert_int_equal(invite(f, a.id, v.id, "member", u.id, id), GH_OK);
    assert_int_equal(ops->invitation_revoke(f->st, f->org.id, id, 150), GH_ERR_NOT_FOUND);
    assert_int_equal(ops->invitation_revoke(f->st, a.id, id, 150), GH_OK);
    assert_int_equal(ops->invitation_accept(f->st, v.id, id, 150, NULL), GH_ERR_NOT_FOUND);

    /* a member by other means meanwhile: accepting conflicts and changes nothing */
    assert_int_equal(invite(f, a.id, v.id, "admin", u.id, id), GH_OK);
    assert_int_equal(ops->member_add(f->st, a.id, v.id, "member", 150), GH_OK);
    assert_int_equal(ops->invitation_accept(f->st, v.id, id, 160, NULL), GH_ERR_CONFLICT);
    assert_int_equal(ops->member_get(f->st, a.id, v.id, &m), GH_OK);
    assert_string_equal(m.role_name, "member");
    assert_int_equal(list_user(f, v.id, 160, &seen), 1);

    /* the org's deletion takes its invitations */
    assert_int_equal(ops->member_remove(f->st, a.id, v.id, 170), GH_OK);
    assert_int_equal(ops->org_delete(f->st, a.id, 170, NULL, NULL), GH_OK);
    assert_int_equal(ops->invitation_accept(f->st, v.id, id, 170, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(list_user(f, v.id, 170, &seen), 0);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM org_invitations", NULL), 0);
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
    assert_int_equal(ops->invitation_decline(f->st, v.id, declined, 120), GH_OK);
    assert_int_equal(invite(f, a.id, v.id, "member", u.id, revoked), GH_OK);
    assert_int_equal(ops->invitation_revoke(f->st, a.id, revoked, 130), GH_OK);
    assert_int_equal(invite(f, a.id, NULL, "member", u.id, expired), GH_OK); /* dead at 200 */
    assert_int_equal(invite(f, a.id, v.id, "member", u.id, live), GH_OK);
    assert_int_equal(raw_int(f, "UPDATE org_invitations SET expires_at = 900 WHERE id = ?1 "
                                "RETURNING expires_at", live), 900);

    assert_int_equal(ops->invitation_purge(f->st, 125, &n), GH_OK);
    assert_int_equal(n, 1); /* the declined one */
    assert_int_equal(ops->invitation_purge(f->st, 201, &n), GH_OK);
    assert_int_equal(n, 2); /* the revoked and the expired one */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM org_invitations", NULL), 1);
    assert_int_equal(list_user(f, v.id, 300, &seen), 1);
    assert_string_equal(seen.last.id, live);
    assert_int_equal(ops->invitation_accept(f->st, v.id, live, 300, NULL), GH_OK);
    assert_int_equal(ops->invitation_purge(f->st, 301, &n), GH_OK);
    assert_int_equal(n, 1); /* accepted is answered */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM org_invitations", NULL), 0);
}

struct accepter {
    struct gh_store *st;
    const char *user_id, *id;
    pthread_barrier_t *start;
    gh_err result;
};

static void *accept_once(void *arg)
{
    struct accepter *r = arg;
    pthread_barrier_wait(r->start);
    r->result = ops->invitation_accept(r->st, r->user_id, r->id, 150, NULL);
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
    int64_t feed = raw_int(f, "SELECT count(*) FROM revocations WHERE user_id = ?1", v.id);
    pthread_t th[RACERS];
    struct accepter r[RACERS];
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
    for (int i = 0; i < RACERS; i++) {
        r[i] = (struct accepter){f->st, v.id, id, &start, GH_ERR_INTERNAL};
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
    assert_int_equal(raw_int(f, "SELECT count(*) FROM revocations WHERE user_id = ?1", v.id),
                     feed + 1);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(migrations_idempotent),
        T(open_sets_wal_and_private_file),
        T(users_found_without_regard_to_case),
        T(users_username_differing_in_case_conflicts),
        T(users_duplicate_email_conflicts),
        T(users_list_with_limit_and_offset),
        T(users_bad_values_refused),
        T(orgs_and_memberships),
        T(refresh_rotate_happy_path),
        T(refresh_reuse_revokes_family),
        T(refresh_expired_and_unknown),
        T(refresh_revoke_one),
        T(refresh_concurrent_rotation_has_one_winner),
        T(set_password_bumps_epoch_and_revokes),
        T(revocation_feed_sees_other_writers),
        T(audit_append_writes_a_row),
        T(rbac_orgs_are_scoped),
        T(rbac_custom_roles),
        T(rbac_last_admin),
        T(rbac_removal_and_org_delete_revoke),
        T(rbac_user_update_delete_and_permissions),
        T(invitations_accept_makes_a_member_once),
        T(invitations_addressed_to_nobody),
        T(invitations_decline_expire_revoke),
        T(invitations_purged_when_dead),
        T(invitations_concurrent_accept_has_one_winner),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

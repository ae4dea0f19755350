/*
 * The SQLite backend: the store conformance suite (conformance.h) through its ops table and a
 * fresh database file per test, then what only SQLite has (the file's mode, WAL, migrations,
 * the indexes, what a damaged row reads as), read with raw SQLite where the suite may not.
 */
#include <sqlite3.h>
#include <sys/stat.h>

#include "store/conformance.h"
#include "tmpdir.h"

struct sqlite_ctx {
    char dir[64];
    char path[96];
};

static gh_err sqlite_create(void **ctx, struct gh_store_handle *h)
{
    struct sqlite_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return GH_ERR_NOMEM;
    snprintf(c->dir, sizeof(c->dir), "/tmp/gh-test-sqlite-XXXXXX");
    if (mkdtemp(c->dir) == NULL) {
        free(c);
        return GH_ERR_IO;
    }
    snprintf(c->path, sizeof(c->path), "%s/gh.db", c->dir);
    gh_err err = gh_store_open("sqlite", c->path, 5000, h);
    if (err != GH_OK) {
        (void)remove_tree(c->dir);
        free(c);
        return err;
    }
    *ctx = c;
    return GH_OK;
}

static gh_err sqlite_reopen(void *ctx, struct gh_store_handle *h)
{
    return gh_store_open("sqlite", ((struct sqlite_ctx *)ctx)->path, 5000, h);
}

static void sqlite_destroy(void *ctx, struct gh_store_handle *h)
{
    struct sqlite_ctx *c = ctx;
    gh_store_close(h);
    assert_int_equal(remove_tree(c->dir), 0);
    free(c);
}

static const struct gh_store_factory sqlite_factory = {
    &gh_store_sqlite_ops,
    sqlite_create,
    sqlite_reopen,
    sqlite_destroy,
};

/* ---- raw access to the file, for what only SQLite has ---- */

static const char *path_of(const struct fixture *f)
{
    return ((const struct sqlite_ctx *)f->ctx)->path;
}

static sqlite3 *raw_open(const struct fixture *f)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path_of(f), &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
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

static void migrations_idempotent(void **state)
{
    struct fixture *f = *state;
    int64_t versions = raw_int(f, "SELECT count(*) FROM schema_migrations", NULL);
    assert_true(versions >= 1);
    assert_int_equal(raw_int(f, "SELECT min(version) FROM schema_migrations", NULL), 1);

    for (int i = 0; i < 2; i++) {
        struct gh_store_handle again;
        assert_int_equal(gh_store_open("sqlite", path_of(f), 5000, &again), GH_OK);
        struct gh_org o;
        assert_int_equal(gh_store_org_find_name(&again, "default", &o), GH_OK);
        assert_string_equal(o.id, f->org.id);
        assert_int_equal(gh_store_ping(&again), GH_OK);
        gh_store_close(&again);
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
    assert_int_equal(stat(path_of(f), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* A path SQLite cannot use is an error, not a crash. */
    struct gh_store_handle bad = {NULL, NULL};
    assert_int_equal(gh_store_open("sqlite", ((struct sqlite_ctx *)f->ctx)->dir, 100, &bad),
                     GH_ERR_IO);
    assert_null(bad.st);
    /* and a backend by another name is none */
    assert_int_equal(gh_store_open("oracle", path_of(f), 100, &bad), GH_ERR_INVALID);
    assert_null(gh_store_backend("oracle"));
    assert_ptr_equal(gh_store_backend("sqlite"), &gh_store_sqlite_ops);
    assert_ptr_equal(gh_store_backend("postgres"), &gh_store_postgres_ops);
}

static void sqlite_lookups_use_indexes_and_refuse_long_rows(void **state)
{
    struct fixture *f = *state;
    /* the lookups use the unique expression indexes */
    int64_t used = raw_int(f,
                           "SELECT count(*) FROM (SELECT 1 FROM pragma_index_list('users') "
                           "WHERE name IN ('users_username', 'users_email') AND \"unique\" = 1)",
                           NULL);
    assert_int_equal(used, 2);

    /* A stored value longer than its field is an error, never a truncated copy. */
    struct gh_user got;
    raw_exec(f, "INSERT INTO users (id, username, email, password_hash, created_at, updated_at) "
                "VALUES ('long-one', printf('%.100c', 'x'), 'long@x.io', 'h', 1, 1)");
    memset(&got, 0x5a, sizeof(got));
    assert_int_equal(gh_store_user_get(&f->h, "long-one", &got), GH_ERR_IO);
    assert_int_equal((unsigned char)got.id[0], 0x5a); /* out untouched on failure */
}

/* The refusals the suite sees as "nobody can accept": the rows are kept, addressed to nobody. */
static void sqlite_invitations_stored_addressed_to_nobody(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_org a;
    char id[GH_UUID_LEN + 1], none[GH_UUID_LEN + 1];
    add_user(f, "mona", "mona@x.io", &u);
    org_with_admin(f, "Alpha", &u, &a);
    gh_uuid_v7(none);
    assert_int_equal(invite(f, a.id, none, "member", u.id, id), GH_OK);
    assert_int_equal(invite(f, a.id, NULL, "member", NULL, id), GH_OK);
    assert_int_equal(invite(f, a.id, u.id, "member", u.id, id), GH_OK);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM org_invitations WHERE user_id IS NULL", NULL),
                     3);
}

/* The backup ops: a snapshot taken while the store is open, restored over later writes;
 * a file that is no database is refused and changes nothing. */
static void sqlite_snapshot_and_restore(void **state)
{
    struct fixture *f = *state;
    struct gh_user a, b, got;
    char snap[128], junk[128];
    add_user(f, "before", "before@x.io", &a);
    snprintf(snap, sizeof(snap), "%s/snap.db", ((const struct sqlite_ctx *)f->ctx)->dir);
    snprintf(junk, sizeof(junk), "%s/junk.db", ((const struct sqlite_ctx *)f->ctx)->dir);
    assert_int_equal(gh_store_snapshot(&f->h, snap), GH_OK);
    struct stat sb;
    assert_int_equal(stat(snap, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    add_user(f, "after", "after@x.io", &b);
    FILE *j = fopen(junk, "w");
    assert_non_null(j);
    fputs("not a database at all, not even close", j);
    fclose(j);
    assert_int_equal(gh_store_restore("sqlite", path_of(f), junk, 1000), GH_ERR_INVALID);
    assert_int_equal(gh_store_user_get(&f->h, b.id, &got), GH_OK);
    assert_int_equal(gh_store_restore("sqlite", path_of(f), snap, 1000), GH_OK);
    assert_int_equal(gh_store_user_get(&f->h, a.id, &got), GH_OK);
    assert_int_equal(gh_store_user_get(&f->h, b.id, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_restore("nosuch", path_of(f), snap, 1000), GH_ERR_INVALID);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    factory = &sqlite_factory;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        GH_STORE_CONFORMANCE_TESTS(T),
        T(migrations_idempotent),
        T(open_sets_wal_and_private_file),
        T(sqlite_lookups_use_indexes_and_refuse_long_rows),
        T(sqlite_invitations_stored_addressed_to_nobody),
        T(sqlite_snapshot_and_restore),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

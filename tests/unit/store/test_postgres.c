/*
 * The PostgreSQL backend: the store conformance suite (conformance.h) unchanged, through
 * its ops table on a real server (pg_server.h) with a fresh schema per test, then what
 * only several nodes sharing one database have: migrations run once by nodes starting
 * together, one winner of a rotation raced from two stores, one audit chain appended from
 * two stores.
 */
#include "store/conformance.h"
#include "store/pg_server.h"

static const char *dsn;

/* Every test starts from an empty database: the schema dropped and made again. */
static gh_err pg_create(void **ctx, struct gh_store_handle *h)
{
    *ctx = NULL;
    if (pg_server_exec(dsn, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;") != 0)
        return GH_ERR_IO;
    return gh_store_open("postgres", dsn, 5000, h);
}

static gh_err pg_reopen(void *ctx, struct gh_store_handle *h)
{
    (void)ctx;
    return gh_store_open("postgres", dsn, 5000, h);
}

static void pg_destroy(void *ctx, struct gh_store_handle *h)
{
    (void)ctx;
    gh_store_close(h);
}

static const struct gh_store_factory pg_factory = {
    &gh_store_postgres_ops,
    pg_create,
    pg_reopen,
    pg_destroy,
};

/* ---- several nodes on one database ---- */

/* One integer the query q answers. */
static int64_t pg_int(const char *q)
{
    PGconn *pg = PQconnectdb(dsn);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *r = PQexec(pg, q);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(pg);
    return v;
}

struct opener {
    pthread_barrier_t *start;
    struct gh_store_handle h;
    gh_err result;
};

static void *open_once(void *arg)
{
    struct opener *o = arg;
    pthread_barrier_wait(o->start);
    o->result = gh_store_open("postgres", dsn, 5000, &o->h);
    return NULL;
}

/* Four nodes starting together on an empty database: each opens, the schema is made once. */
static void pg_nodes_starting_together_migrate_once(void **state)
{
    enum { NODES = 4 };
    (void)state;
    assert_int_equal(pg_server_exec(dsn, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"), 0);
    pthread_t th[NODES];
    struct opener o[NODES];
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, NODES), 0);
    for (int i = 0; i < NODES; i++) {
        o[i] = (struct opener){.start = &start, .result = GH_ERR_INTERNAL};
        assert_int_equal(pthread_create(&th[i], NULL, open_once, &o[i]), 0);
    }
    for (int i = 0; i < NODES; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < NODES; i++) {
        assert_int_equal(o[i].result, GH_OK);
        gh_store_close(&o[i].h);
    }
    assert_int_equal(pg_int("SELECT count(*) FROM schema_migrations"),
                     pg_int("SELECT max(version) FROM schema_migrations"));
}

struct node_rotation {
    struct gh_store_handle *h;
    const unsigned char *hash;
    pthread_barrier_t *start;
    struct gh_refresh_token next;
    gh_err result;
};

static void *rotate_on_node(void *arg)
{
    struct node_rotation *r = arg;
    struct gh_refresh_token spent;
    pthread_barrier_wait(r->start);
    r->result = gh_store_refresh_rotate(r->h, r->hash, &r->next, 300, &spent);
    return NULL;
}

/* One token rotated at once through two stores (two nodes): exactly one wins. */
static void pg_rotation_across_nodes_has_one_winner(void **state)
{
    struct fixture *f = *state;
    struct gh_store_handle other;
    struct gh_user u;
    assert_int_equal(factory->reopen(f->ctx, &other), GH_OK);
    add_user(f, "nodes", "nodes@x.io", &u);
    for (int round = 0; round < 5; round++) {
        struct gh_refresh_token t;
        fresh_token(&t, u.id, f->org.id, 5000);
        assert_int_equal(gh_store_refresh_insert(&f->h, &t), GH_OK);
        pthread_t th[RACERS];
        struct node_rotation r[RACERS];
        pthread_barrier_t start;
        assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
        for (int i = 0; i < RACERS; i++) {
            r[i] = (struct node_rotation){.h = i % 2 ? &other : &f->h,
                                          .hash = t.hash,
                                          .start = &start,
                                          .result = GH_ERR_INTERNAL};
            next_token(&r[i].next, 5000);
            assert_int_equal(pthread_create(&th[i], NULL, rotate_on_node, &r[i]), 0);
        }
        int ok = 0, refused = 0;
        for (int i = 0; i < RACERS; i++) {
            pthread_join(th[i], NULL);
            ok += r[i].result == GH_OK;
            refused += r[i].result == GH_ERR_REUSED || r[i].result == GH_ERR_REVOKED;
        }
        pthread_barrier_destroy(&start);
        assert_int_equal(ok, 1);
        assert_int_equal(ok + refused, RACERS);
    }
    gh_store_close(&other);
}

static void chain_hash(int64_t seq, const struct gh_audit_event *ev,
                       const unsigned char prev[GH_HASH_LEN], unsigned char out[GH_HASH_LEN])
{
    gh_audit_hash(seq, ev, prev, out);
}

struct appender {
    struct gh_store_handle *h;
    pthread_barrier_t *start;
    gh_err result;
};

static void *append_many(void *arg)
{
    struct appender *a = arg;
    struct gh_audit_event ev = {.ts = 5, .action = "LOGIN", .user_id = "u", .status = 200};
    struct gh_audit_head head;
    pthread_barrier_wait(a->start);
    a->result = GH_OK;
    for (int i = 0; i < 25 && a->result == GH_OK; i++)
        a->result = gh_store_audit_append(a->h, &ev, 1, chain_hash, &head);
    return NULL;
}

struct chain_walk {
    int64_t n, last_seq;
    unsigned char prev[GH_HASH_LEN];
    int broken;
};

static int walk_chain(void *arg, const struct gh_audit_row *r)
{
    struct chain_walk *w = arg;
    unsigned char h[GH_HASH_LEN];
    gh_audit_hash(r->seq, &r->ev, w->prev, h);
    w->broken |= !r->hashed || r->seq != w->last_seq + 1 ||
                 memcmp(r->prev_hash, w->prev, GH_HASH_LEN) != 0 ||
                 memcmp(r->hash, h, GH_HASH_LEN) != 0;
    w->last_seq = r->seq;
    memcpy(w->prev, r->hash, GH_HASH_LEN);
    w->n++;
    return 0;
}

/* Four appenders on two stores (two nodes): one chain, every record after the one before. */
static void pg_audit_chain_appended_from_two_nodes(void **state)
{
    enum { APPENDERS = 4 };
    struct fixture *f = *state;
    struct gh_store_handle other;
    assert_int_equal(factory->reopen(f->ctx, &other), GH_OK);
    pthread_t th[APPENDERS];
    struct appender a[APPENDERS];
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, APPENDERS), 0);
    for (int i = 0; i < APPENDERS; i++) {
        a[i] = (struct appender){.h = i % 2 ? &other : &f->h, .start = &start};
        assert_int_equal(pthread_create(&th[i], NULL, append_many, &a[i]), 0);
    }
    for (int i = 0; i < APPENDERS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(a[i].result, GH_OK);
    }
    pthread_barrier_destroy(&start);
    struct chain_walk w = {0};
    assert_int_equal(gh_store_audit_scan(&f->h, 0, walk_chain, &w), GH_OK);
    assert_int_equal(w.n, APPENDERS * 25);
    assert_false(w.broken);
    gh_store_close(&other);
}

/* A SQLite store copied into an empty PostgreSQL one: the same users, tokens, SSO
 * providers and audit chain; a second copy into it is refused and leaves it as it was. */
static void pg_copy_from_sqlite(void **state)
{
    struct fixture *f = *state;
    char dir[] = "/tmp/gh-test-copy-XXXXXX", path[64];
    struct gh_store_handle lite, empty;
    struct gh_user u, got;
    struct gh_refresh_token t, peek;
    struct gh_audit_head a, b;
    struct gh_audit_event ev = {.ts = 9, .action = "LOGIN", .user_id = "x", .status = 200};
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/gh.db", dir);
    assert_int_equal(gh_store_open("sqlite", path, 5000, &lite), GH_OK);
    struct gh_org org = f->org;
    assert_int_equal(gh_store_org_create(&lite, &org, "*:*", "org:read"), GH_OK);
    make_user(f, "copied", "copied@x.io", &u);
    assert_int_equal(gh_store_user_create(&lite, &u, FAKE_HASH), GH_OK);
    fresh_token(&t, u.id, org.id, 5000);
    assert_int_equal(gh_store_refresh_insert(&lite, &t), GH_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gh_store_audit_append(&lite, &ev, 1, chain_hash, &a), GH_OK);
    struct gh_sso_provider sp, sp_got;
    make_provider("corp", &sp);
    assert_int_equal(gh_store_sso_provider_create(&lite, &sp), GH_OK);

    /* the fixture's store holds an org already, but no user and no record: empty it */
    assert_int_equal(pg_server_exec(dsn, "DELETE FROM orgs"), 0);
    assert_int_equal(gh_store_copy(&lite, &f->h, NULL, NULL), GH_OK);
    assert_int_equal(gh_store_user_get(&f->h, u.id, &got), GH_OK);
    assert_string_equal(got.username, "copied");
    assert_int_equal(gh_store_sso_provider_get(&f->h, "corp", &sp_got), GH_OK);
    assert_memory_equal(&sp_got, &sp, sizeof(sp));
    assert_int_equal(gh_store_refresh_get(&f->h, t.hash, 200, &peek), GH_OK);
    assert_int_equal(gh_store_audit_head(&f->h, &b), GH_OK);
    assert_int_equal(b.seq, a.seq);
    assert_memory_equal(b.hash, a.hash, GH_HASH_LEN);
    struct chain_walk w = {0};
    assert_int_equal(gh_store_audit_scan(&f->h, 0, walk_chain, &w), GH_OK);
    assert_int_equal(w.n, 3);
    assert_false(w.broken);

    assert_int_equal(gh_store_copy(&lite, &f->h, NULL, NULL), GH_ERR_CONFLICT);
    assert_int_equal(factory->reopen(f->ctx, &empty), GH_OK);
    int64_t n = 0;
    assert_int_equal(gh_store_user_count(&empty, &n), GH_OK);
    assert_int_equal(n, 1);
    gh_store_close(&empty);
    gh_store_close(&lite);
    assert_int_equal(remove_tree(dir), 0);
}

/* A wrong password: the open fails (GH_ERR_IO), nothing is left open. */
static void pg_open_refused_with_a_wrong_password(void **state)
{
    struct gh_store_handle h = {0};
    char bad[300];
    const char *at = strchr(dsn, '@');
    (void)state;
    if (at == NULL || strncmp(dsn, "postgresql://", 13) != 0)
        skip();
    snprintf(bad, sizeof(bad), "postgresql://gatehouse:not-the-password%s", at);
    assert_int_equal(gh_store_open("postgres", bad, 1000, &h), GH_ERR_IO);
    assert_null(h.st);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    dsn = pg_server_dsn();
    if (dsn == NULL) {
        fprintf(stderr, "test_postgres: no PostgreSQL server (tests/scripts/pgtmp.sh)\n");
        return 1;
    }
    factory = &pg_factory;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        GH_STORE_CONFORMANCE_TESTS(T),
        cmocka_unit_test(pg_nodes_starting_together_migrate_once),
        T(pg_rotation_across_nodes_has_one_winner),
        T(pg_audit_chain_appended_from_two_nodes),
        T(pg_copy_from_sqlite),
        cmocka_unit_test(pg_open_refused_with_a_wrong_password),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the applications' audit events (src/audit/appevent.c) and the grouped
 * writer behind them (gh_audit_append_grouped in src/audit/audit.c), on a temporary
 * SQLite store: action names, field checks, and a burst from many threads that gets
 * distinct, contiguous ids and a chain that verifies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "audit/appevent.h"
#include "tmpdir.h"

#define THREADS 8
#define PER_THREAD 50

struct fixture {
    char dir[64], db[96], key[96];
    struct gh_store_handle store;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-test-appevent-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/gh.db", f->dir);
    snprintf(f->key, sizeof(f->key), "%s/audit.key", f->dir);
    f->store.ops = &gh_store_sqlite_ops;
    struct gh_audit_opts o = {f->key, 1000, 300, 0, 60};
    if (f->store.ops->open(f->db, 5000, &f->store.st) != GH_OK ||
        gh_audit_open(&o, &f->store, NULL) != GH_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gh_audit_close();
    f->store.ops->close(f->store.st);
    int r = remove_tree(f->dir);
    free(f);
    return r;
}

static const struct gh_reqmeta meta = {"req", "192.0.2.7", "app/1", "POST", "/api/v1/audit/events"};
static const char org[] = "01900000-0000-7000-8000-000000000001";
static const char user[] = "01900000-0000-7000-8000-000000000002";

static void action_names(void **state)
{
    (void)state;
    assert_true(gh_audit_action_valid("INVOICE_EXPORTED"));
    assert_true(gh_audit_action_valid("A1_2"));
    char longest[GH_APPEVENT_ACTION_MAX + 2];
    memset(longest, 'A', sizeof(longest));
    longest[GH_APPEVENT_ACTION_MAX] = '\0';
    assert_true(gh_audit_action_valid(longest));
    longest[GH_APPEVENT_ACTION_MAX] = 'A';
    longest[GH_APPEVENT_ACTION_MAX + 1] = '\0';
    assert_false(gh_audit_action_valid(longest));
    const char *bad[] = {"", "lower", "_LEAD", "1ST", "A-B", "A B", "A\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(gh_audit_action_valid(bad[i]));
    /* The list is searched by bisection: every entry must be found. */
    const char *own[] = {"API_KEY_CREATE", "LOGIN",      "LOGIN_FAILED", "PERMISSION_DENIED",
                         "AUDIT_LOST",     "IP_BLOCKED", "USER_UPDATE",  "VAULT_WRITE"};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        assert_true(gh_audit_action_is_own(own[i]));
    assert_false(gh_audit_action_is_own("LOGIN_"));
    assert_false(gh_audit_action_is_own("INVOICE_EXPORTED"));
}

static void bad_fields_name_the_field(void **state)
{
    struct fixture *f = *state;
    int64_t seq = 0;
    enum gh_appevent_field bad = GH_APPEVENT_OK;
    struct gh_appevent ev = {"LOGIN", NULL, NULL, user, "u", 1, org, 0, NULL};
    assert_int_equal(gh_appevent_record(&f->store, &ev, &meta, &seq, &bad), GH_ERR_INVALID);
    assert_int_equal(bad, GH_APPEVENT_ACTION);
    ev.action = "APP_EVENT";
    ev.resource_type = "";
    assert_int_equal(gh_appevent_record(&f->store, &ev, &meta, &seq, &bad), GH_ERR_INVALID);
    assert_int_equal(bad, GH_APPEVENT_RESOURCE_TYPE);
    ev.resource_type = "doc";
    ev.resource_id = "a\tb";
    assert_int_equal(gh_appevent_record(&f->store, &ev, &meta, &seq, &bad), GH_ERR_INVALID);
    assert_int_equal(bad, GH_APPEVENT_RESOURCE_ID);
    ev.resource_id = "d1";
    ev.status = 42;
    assert_int_equal(gh_appevent_record(&f->store, &ev, &meta, &seq, &bad), GH_ERR_INVALID);
    assert_int_equal(bad, GH_APPEVENT_STATUS);
    /* A subject other than the caller must be a member of the org. */
    ev.status = 200;
    ev.by_caller = 0;
    assert_int_equal(gh_appevent_record(&f->store, &ev, &meta, &seq, &bad), GH_ERR_INVALID);
    assert_int_equal(bad, GH_APPEVENT_USER_ID);
    ev.by_caller = 1;
    assert_int_equal(gh_appevent_record(&f->store, &ev, &meta, &seq, &bad), GH_OK);
    assert_true(seq > 0);
}

struct burst {
    struct fixture *f;
    int64_t seqs[PER_THREAD];
    int failures;
};

static void *send_burst(void *arg)
{
    struct burst *b = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        struct gh_appevent ev = {"BURST_EVENT", "doc", NULL, user, "u", 1, org, 201, "{\"i\":1}"};
        enum gh_appevent_field bad;
        if (gh_appevent_record(&b->f->store, &ev, &meta, &b->seqs[i], &bad) != GH_OK)
            b->failures++;
    }
    return NULL;
}

static int cmp_seq(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int same_origin(void *arg, const struct gh_audit_row *row)
{
    int *n = arg;
    if (strcmp(row->ev.action, "BURST_EVENT") == 0 &&
        strcmp(row->ev.ip_address, "192.0.2.7") == 0 &&
        strcmp(row->ev.path, "/api/v1/audit/events") == 0)
        (*n)++;
    return 0;
}

static void a_burst_gets_distinct_ids_and_verifies(void **state)
{
    struct fixture *f = *state;
    static struct burst b[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        b[i] = (struct burst){.f = f};
        assert_int_equal(pthread_create(&t[i], NULL, send_burst, &b[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    static int64_t all[THREADS * PER_THREAD];
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(b[i].failures, 0);
        memcpy(all + i * PER_THREAD, b[i].seqs, sizeof(b[i].seqs));
    }
    qsort(all, THREADS * PER_THREAD, sizeof(all[0]), cmp_seq);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        assert_true(all[i] == all[i - 1] + 1); /* distinct and contiguous: nothing else wrote */
    int n = 0;
    assert_int_equal(f->store.ops->audit_scan(f->store.st, 0, same_origin, &n), GH_OK);
    assert_int_equal(n, THREADS * PER_THREAD);
    struct gh_audit_verdict v;
    assert_int_equal(gh_audit_verify(&f->store, NULL, &v), GH_OK);
    assert_true(v.valid);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(action_names),
        T(bad_fields_name_the_field),
        T(a_burst_gets_distinct_ids_and_verifies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the audit trail (src/audit/audit.c) on a temporary SQLite store: the
 * batched writer, the aggregation of repeated denials into one record and a summary,
 * checkpoints every N records, verification, and the checkpoint key file's permissions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>
#include <sodium.h>

#include "audit/audit.h"
#include "tmpdir.h"

struct fixture {
    char dir[64], db[96], key[96];
    struct gh_store_handle store;
    struct gh_pool *pool;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-test-audit-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/gh.db", f->dir);
    snprintf(f->key, sizeof(f->key), "%s/audit.key", f->dir);
    f->store.ops = &gh_store_sqlite_ops;
    if (f->store.ops->open(f->db, 5000, &f->store.st) != GH_OK ||
        gh_pool_new("io", 1, 64, &f->pool) != GH_OK)
        return -1;
    struct gh_audit_opts o = {f->key, 3, 300, 0, 60};
    if (gh_audit_open(&o, &f->store, f->pool) != GH_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gh_pool_free(f->pool);
    gh_audit_close();
    f->store.ops->close(f->store.st);
    int r = remove_tree(f->dir);
    free(f);
    return r;
}

struct count {
    int64_t rows, suppressed;
    const char *action;
};

static int count_row(void *arg, const struct gh_audit_row *row)
{
    struct count *c = arg;
    if (strcmp(row->ev.action, c->action) != 0)
        return 0;
    c->rows++;
    const char *s = row->ev.metadata_json ? strstr(row->ev.metadata_json, "\"suppressed\":") : NULL;
    if (s != NULL)
        c->suppressed += strtoll(s + 13, NULL, 10);
    return 0;
}

static struct count count(struct fixture *f, const char *action)
{
    struct count c = {0, 0, action};
    assert_int_equal(f->store.ops->audit_scan(f->store.st, 0, count_row, &c), GH_OK);
    return c;
}

static void repeated_denials_make_one_record_and_a_summary(void **state)
{
    struct fixture *f = *state;
    struct gh_reqmeta meta = {"r1", "192.0.2.7", "ua", "GET", "/x"};
    struct gh_audit_subject who = {"u1", "alice", "o1"};
    for (int i = 0; i < 10; i++)
        gh_audit_record_async(f->pool, &f->store, "PERMISSION_DENIED", &meta, &who, 403,
                              "{\"permission\":\"a:b\"}");
    int64_t now = (int64_t)time(NULL);
    gh_audit_tick(now); /* drains what the pool has not written yet */
    struct count c = count(f, "PERMISSION_DENIED");
    assert_int_equal(c.rows, 1);
    gh_audit_tick(now + 61); /* the window ended: its summary */
    c = count(f, "PERMISSION_DENIED");
    assert_int_equal(c.rows, 2);
    assert_int_equal(c.suppressed, 9);

    /* Other addresses are other windows; another permission is another record. */
    char ip[32];
    for (int i = 0; i < 5; i++) {
        snprintf(ip, sizeof(ip), "198.51.100.%d", i);
        meta.ip = ip;
        gh_audit_record_async(f->pool, &f->store, "PERMISSION_DENIED", &meta, &who, 403,
                              "{\"permission\":\"a:b\"}");
    }
    gh_audit_record_async(f->pool, &f->store, "PERMISSION_DENIED", &meta, &who, 403,
                          "{\"permission\":\"c:d\"}");
    gh_audit_tick(now);
    assert_int_equal(count(f, "PERMISSION_DENIED").rows, 8);
}

struct cps {
    int64_t n, last;
};

static int count_cp(void *arg, const struct gh_audit_checkpoint *cp)
{
    struct cps *c = arg;
    c->n++;
    c->last = cp->seq;
    return 0;
}

static void records_are_checkpointed_and_verify(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 7; i++)
        assert_int_equal(gh_audit_record(&f->store, "LOGIN", NULL, NULL, 200, NULL), GH_OK);
    struct cps c = {0, 0};
    assert_int_equal(f->store.ops->checkpoint_list(f->store.st, count_cp, &c), GH_OK);
    assert_int_equal(c.n, 2); /* every 3 records */
    assert_int_equal(c.last, 6);
    struct gh_audit_verdict v;
    assert_int_equal(gh_audit_verify(&f->store, NULL, &v), GH_OK);
    assert_true(v.valid);
    assert_int_equal(v.records, 7);
    assert_int_equal(v.checkpoint_seq, 6);
    unsigned char pk[32];
    char id[GH_AUDIT_KEY_ID_LEN + 1];
    assert_int_equal(gh_audit_public_key(pk, id), GH_OK);
    assert_int_equal(strlen(id), GH_AUDIT_KEY_ID_LEN);
    unsigned char other[32] = {9};
    assert_int_equal(gh_audit_verify(&f->store, other, &v), GH_OK);
    assert_false(v.valid);
    assert_string_equal(v.reason, "signature");
    /* An empty action is refused and nothing is written. */
    assert_int_not_equal(gh_audit_record(&f->store, "", NULL, NULL, 0, NULL), GH_OK);
    assert_int_equal(count(f, "LOGIN").rows, 7);
}

static void loose_key_file_is_refused(void **state)
{
    struct fixture *f = *state;
    struct stat sb;
    assert_int_equal(stat(f->key, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, 32);
    gh_audit_close();
    assert_int_equal(chmod(f->key, 0640), 0);
    struct gh_audit_opts o = {f->key, 3, 300, 0, 60};
    assert_int_equal(gh_audit_open(&o, &f->store, f->pool), GH_ERR_FILE_MODE);
    assert_int_equal(chmod(f->key, 0600), 0);
    assert_int_equal(gh_audit_open(&o, &f->store, f->pool), GH_OK);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(repeated_denials_make_one_record_and_a_summary),
        T(records_are_checkpointed_and_verify),
        T(loose_key_file_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

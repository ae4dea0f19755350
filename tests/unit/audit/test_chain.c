/*
 * Unit tests for the audit chain (src/audit/chain.c): the canonical encoding against
 * vectors computed independently from the specification (a short Python script over
 * struct.pack and hashlib, see docs/ARCHITECTURE.md "Audit chain"), checkpoint signatures,
 * and the verifier on chains altered, cut and extended in memory; then the SQLite
 * backend's chained append, scan and purge.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "audit/chain.h"
#include "store/store.h"
#include "tmpdir.h"

static void hex_equal(const unsigned char *bytes, size_t n, const char *want)
{
    char got[2 * 64 + 1];
    sodium_bin2hex(got, sizeof(got), bytes, n);
    assert_string_equal(got, want);
}

static void encoding_is_the_specified_bytes(void **state)
{
    (void)state;
    static const unsigned char zeros[GH_HASH_LEN];
    struct gh_audit_event ev = {.ts = 1, .action = "A"};
    struct gh_buf b;
    gh_buf_init(&b, 4096);
    assert_int_equal(gh_audit_encode(1, &ev, zeros, &b), GH_OK);
    assert_int_equal(b.len, 84);
    assert_memory_equal(b.ptr, "gatehouse.audit.v1\0", 19);
    assert_memory_equal(b.ptr + 19, "\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0\1", 16);
    assert_memory_equal(b.ptr + 35, "\1\0\0\0\1A", 6);
    unsigned char h[GH_HASH_LEN];
    gh_audit_hash(1, &ev, zeros, h);
    hex_equal(h, sizeof(h), "e20cb86fad5686728802d21f70aa66fec3afacfc7c3df5c05fbf499429c934a6");
    unsigned char direct[GH_HASH_LEN];
    crypto_hash_sha256(direct, (const unsigned char *)b.ptr, b.len);
    assert_memory_equal(direct, h, sizeof(h)); /* the streamed hash is of the same bytes */
    gh_buf_clear(&b);

    unsigned char prev[GH_HASH_LEN];
    for (int i = 0; i < GH_HASH_LEN; i++)
        prev[i] = (unsigned char)i;
    struct gh_audit_event full = {.ts = 1700000000,
                                  .action = "LOGIN",
                                  .user_id = "u1",
                                  .username = "alice",
                                  .org_id = "o1",
                                  .resource_type = "user",
                                  .resource_id = "u1",
                                  .ip_address = "127.0.0.1",
                                  .user_agent = "curl/8",
                                  .method = "POST",
                                  .path = "/api/v1/auth/login",
                                  .status = 200,
                                  .metadata_json = "{\"a\":1}"};
    gh_buf_init(&b, 4096);
    assert_int_equal(gh_audit_encode(42, &full, prev, &b), GH_OK);
    assert_int_equal(b.len, 195);
    gh_buf_clear(&b);
    gh_audit_hash(42, &full, prev, h);
    hex_equal(h, sizeof(h), "be835df0bcc0da9721d7b10a3b8bb6cb4d33b4c9f0e0084e9648ded2fef6fbfb");
}

static void every_field_counts_and_none_shifts(void **state)
{
    (void)state;
    static const unsigned char zeros[GH_HASH_LEN];
    unsigned char a[GH_HASH_LEN], b[GH_HASH_LEN];
    struct gh_audit_event x = {.ts = 5, .action = "X", .user_id = "ab"};
    struct gh_audit_event y = {.ts = 5, .action = "X", .user_id = "a", .username = "b"};
    gh_audit_hash(1, &x, zeros, a);
    gh_audit_hash(1, &y, zeros, b);
    assert_memory_not_equal(a, b, sizeof(a));
    /* NULL and "" are one value (the store keeps "" as NULL). */
    struct gh_audit_event z = {.ts = 5, .action = "X", .user_id = "ab", .path = ""};
    gh_audit_hash(1, &z, zeros, b);
    assert_memory_equal(a, b, sizeof(a));
    gh_audit_hash(2, &x, zeros, b); /* the sequence number */
    assert_memory_not_equal(a, b, sizeof(a));
    unsigned char other[GH_HASH_LEN] = {1};
    gh_audit_hash(1, &x, other, b); /* the previous hash */
    assert_memory_not_equal(a, b, sizeof(a));
    struct gh_audit_event s = x;
    s.status = 403;
    gh_audit_hash(1, &s, zeros, b);
    assert_memory_not_equal(a, b, sizeof(a));
}

static void encoding_respects_the_buffer_cap(void **state)
{
    (void)state;
    static const unsigned char zeros[GH_HASH_LEN];
    struct gh_audit_event ev = {.ts = 1, .action = "A"};
    struct gh_buf b;
    gh_buf_init(&b, 40);
    assert_int_equal(gh_audit_encode(1, &ev, zeros, &b), GH_ERR_TOO_LARGE);
    assert_int_equal(b.len, 0);
    gh_buf_clear(&b);
}

/* ---- verification over chains built in memory ---- */

#define N 10

struct chain {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    struct gh_audit_row rows[N + 1];
    char users[N + 1][16];
    size_t nrows;
    struct gh_audit_checkpoint cps[4];
    size_t ncps;
};

/* Records 1..N chained from zeros; checkpoints at 4 and 8. */
static void build(struct chain *c)
{
    memset(c, 0, sizeof(*c));
    crypto_sign_keypair(c->pk, c->sk);
    unsigned char prev[GH_HASH_LEN] = {0};
    for (size_t i = 0; i < N; i++) {
        struct gh_audit_row *r = &c->rows[i];
        snprintf(c->users[i], sizeof(c->users[i]), "user%zu", i);
        r->seq = (int64_t)i + 1;
        r->ev = (struct gh_audit_event){
            .ts = 100 + (int64_t)i, .action = "LOGIN", .user_id = c->users[i], .status = 200};
        r->hashed = 1;
        memcpy(r->prev_hash, prev, GH_HASH_LEN);
        gh_audit_hash(r->seq, &r->ev, prev, r->hash);
        memcpy(prev, r->hash, GH_HASH_LEN);
    }
    c->nrows = N;
    for (size_t i = 0; i < 2; i++) {
        struct gh_audit_checkpoint *cp = &c->cps[c->ncps++];
        const struct gh_audit_row *r = &c->rows[4 * (i + 1) - 1];
        cp->seq = r->seq;
        cp->ts = r->ev.ts;
        memcpy(cp->hash, r->hash, GH_HASH_LEN);
        gh_audit_checkpoint_sign(cp, c->sk);
    }
}

static struct gh_audit_verdict check(const struct chain *c, int64_t start, int64_t head)
{
    struct gh_audit_check k;
    struct gh_audit_verdict v;
    gh_audit_check_init(&k, start, c->pk, c->cps, c->ncps);
    for (size_t i = 0; i < c->nrows; i++)
        if (gh_audit_check_row(&k, &c->rows[i]) != 0)
            break;
    gh_audit_check_finish(&k, head, &v);
    return v;
}

static void remove_row(struct chain *c, size_t i)
{
    memmove(&c->rows[i], &c->rows[i + 1], (c->nrows - i - 1) * sizeof(c->rows[0]));
    c->nrows--;
}

static void intact_chain_verifies(void **state)
{
    (void)state;
    static struct chain c;
    build(&c);
    struct gh_audit_verdict v = check(&c, 0, N);
    assert_true(v.valid);
    assert_int_equal(v.records, N);
    assert_int_equal(v.checkpoints, 2);
    assert_int_equal(v.checkpoint_seq, 8);
    assert_int_equal(v.first_bad, 0);
}

static void altered_record_is_named(void **state)
{
    (void)state;
    static struct chain c;
    build(&c);
    c.rows[5].ev.ip_address = "10.0.0.1";
    struct gh_audit_verdict v = check(&c, 0, N);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, 6);
    assert_string_equal(v.reason, "altered");

    /* Rehashed by the forger: the next link breaks; a later checkpoint disagrees. */
    build(&c);
    c.rows[5].ev.ip_address = "10.0.0.1";
    gh_audit_hash(6, &c.rows[5].ev, c.rows[5].prev_hash, c.rows[5].hash);
    v = check(&c, 0, N);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, 7);
    assert_string_equal(v.reason, "link");
}

static void deleted_records_are_named(void **state)
{
    (void)state;
    static struct chain c;
    build(&c);
    remove_row(&c, 2); /* record 3 */
    struct gh_audit_verdict v = check(&c, 0, N);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, 3);
    assert_string_equal(v.reason, "missing");

    build(&c);
    remove_row(&c, 0); /* the first record, no checkpoint to vouch for record 2 */
    v = check(&c, 0, N);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, 1);

    build(&c);
    c.nrows = 6; /* the tail: records 7..10 are known to the sequence and a checkpoint */
    v = check(&c, 0, N);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, 7);
    assert_string_equal(v.reason, "missing");

    build(&c);
    remove_row(&c, 3); /* the checkpointed record 4 */
    v = check(&c, 0, N);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, 4);
}

static void inserted_record_is_named(void **state)
{
    (void)state;
    static struct chain c;
    build(&c);
    struct gh_audit_row *r = &c.rows[c.nrows++];
    r->seq = N + 1;
    r->ev = (struct gh_audit_event){.ts = 1, .action = "LOGIN"};
    r->hashed = 0; /* inserted by hand without hashes */
    struct gh_audit_verdict v = check(&c, 0, N + 1);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, N + 1);
    assert_string_equal(v.reason, "link");

    memcpy(r->prev_hash, c.rows[N - 1].hash, GH_HASH_LEN);
    memset(r->hash, 7, GH_HASH_LEN); /* with a guessed hash */
    r->hashed = 1;
    v = check(&c, 0, N + 1);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, N + 1);
    assert_string_equal(v.reason, "altered");
}

static void checkpoints_are_signed(void **state)
{
    (void)state;
    static struct chain c;
    build(&c);
    assert_int_equal(gh_audit_checkpoint_check(&c.cps[0], c.pk), GH_OK);
    c.cps[1].signature[0] ^= 1;
    struct gh_audit_verdict v = check(&c, 0, N);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, 8);
    assert_string_equal(v.reason, "signature");

    build(&c);
    c.cps[0].ts++; /* the signed time too */
    v = check(&c, 0, N);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, 4);

    build(&c);
    unsigned char pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk2, sk2);
    gh_audit_checkpoint_sign(&c.cps[0], sk2); /* another key's signature */
    v = check(&c, 0, N);
    assert_false(v.valid);
    assert_string_equal(v.reason, "signature");
}

static void purged_chain_starts_at_a_checkpoint(void **state)
{
    (void)state;
    static struct chain c;
    build(&c);
    for (int i = 0; i < 3; i++)
        remove_row(&c, 0); /* retention kept record 4, the checkpointed one */
    struct gh_audit_verdict v = check(&c, 0, N);
    assert_true(v.valid);
    assert_int_equal(v.records, N - 3);

    build(&c);
    for (int i = 0; i < 4; i++)
        remove_row(&c, 0); /* record 4 gone too: nothing vouches for record 5 */
    v = check(&c, 0, N);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, 4);

    build(&c);
    for (int i = 0; i < 3; i++)
        remove_row(&c, 0);
    c.rows[0].ev.user_id = "mallory"; /* the anchor itself altered */
    v = check(&c, 0, N);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, 4);
}

static void legacy_records_stay_outside(void **state)
{
    (void)state;
    static struct chain c;
    build(&c);
    /* Records 1..2 predate the chain: the chain begins at 3 from zeros. */
    unsigned char prev[GH_HASH_LEN] = {0};
    c.rows[0].hashed = c.rows[1].hashed = 0;
    for (size_t i = 2; i < N; i++) {
        memcpy(c.rows[i].prev_hash, prev, GH_HASH_LEN);
        gh_audit_hash(c.rows[i].seq, &c.rows[i].ev, prev, c.rows[i].hash);
        memcpy(prev, c.rows[i].hash, GH_HASH_LEN);
    }
    c.ncps = 0;
    struct gh_audit_verdict v = check(&c, 2, N);
    assert_true(v.valid);
    assert_int_equal(v.legacy, 2);
    assert_int_equal(v.records, N - 2);
}

/* ---- the SQLite backend ---- */

static const struct gh_store_ops *ops = &gh_store_sqlite_ops;

struct scan {
    struct gh_audit_check check;
    int64_t first, n;
};

static int scan_row(void *arg, const struct gh_audit_row *row)
{
    struct scan *s = arg;
    if (s->n++ == 0)
        s->first = row->seq;
    return gh_audit_check_row(&s->check, row);
}

static int collect_cp(void *arg, const struct gh_audit_checkpoint *cp)
{
    struct chain *c = arg;
    if (c->ncps < 4)
        c->cps[c->ncps++] = *cp;
    return 0;
}

static void store_chains_appends_and_purges_behind_a_checkpoint(void **state)
{
    (void)state;
    char dir[64], path[96];
    snprintf(dir, sizeof(dir), "/tmp/gh-test-audit-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/gh.db", dir);
    struct gh_store *st = NULL;
    assert_int_equal(ops->open(path, 5000, &st), GH_OK);

    static struct chain c;
    memset(&c, 0, sizeof(c));
    crypto_sign_keypair(c.pk, c.sk);
    struct gh_audit_event evs[3] = {{.ts = 10, .action = "A"},
                                    {.ts = 11, .action = "B"},
                                    {.ts = 12, .action = "C", .user_id = "u"}};
    struct gh_audit_head h;
    assert_int_equal(ops->audit_append(st, evs, 2, gh_audit_hash, &h), GH_OK);
    assert_int_equal(h.seq, 2);
    struct gh_audit_checkpoint cp = {.seq = h.seq, .ts = 50};
    memcpy(cp.hash, h.hash, GH_HASH_LEN);
    gh_audit_checkpoint_sign(&cp, c.sk);
    assert_int_equal(ops->checkpoint_add(st, &cp), GH_OK);
    assert_int_equal(ops->checkpoint_add(st, &cp), GH_OK); /* again: ignored */
    assert_int_equal(ops->audit_append(st, &evs[2], 1, gh_audit_hash, &h), GH_OK);
    assert_int_equal(h.seq, 3);
    assert_int_equal(h.checkpoint_seq, 2);
    assert_int_equal(h.checkpoint_ts, 50);

    int64_t purged = -1;
    assert_int_equal(ops->audit_purge(st, 50, &purged), GH_OK); /* checkpoint not before 50 */
    assert_int_equal(purged, 0);
    assert_int_equal(ops->audit_purge(st, 51, &purged), GH_OK);
    assert_int_equal(purged, 1); /* record 1; record 2 stays as the anchor */

    assert_int_equal(ops->checkpoint_list(st, collect_cp, &c), GH_OK);
    assert_int_equal(c.ncps, 1);
    struct scan s = {.n = 0};
    gh_audit_check_init(&s.check, 0, c.pk, c.cps, c.ncps);
    assert_int_equal(ops->audit_scan(st, 0, scan_row, &s), GH_OK);
    struct gh_audit_verdict v;
    gh_audit_check_finish(&s.check, h.seq, &v);
    assert_true(v.valid);
    assert_int_equal(s.first, 2);
    assert_int_equal(v.records, 2);

    /* A row altered in the file is found. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "UPDATE audit_events SET user_id = 'v' WHERE id = 3", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    memset(&s, 0, sizeof(s));
    gh_audit_check_init(&s.check, 0, c.pk, c.cps, c.ncps);
    assert_int_equal(ops->audit_scan(st, 0, scan_row, &s), GH_OK);
    gh_audit_check_finish(&s.check, h.seq, &v);
    assert_false(v.valid);
    assert_int_equal(v.first_bad, 3);

    ops->close(st);
    assert_int_equal(remove_tree(dir), 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encoding_is_the_specified_bytes),
        cmocka_unit_test(every_field_counts_and_none_shifts),
        cmocka_unit_test(encoding_respects_the_buffer_cap),
        cmocka_unit_test(intact_chain_verifies),
        cmocka_unit_test(altered_record_is_named),
        cmocka_unit_test(deleted_records_are_named),
        cmocka_unit_test(inserted_record_is_named),
        cmocka_unit_test(checkpoints_are_signed),
        cmocka_unit_test(purged_chain_starts_at_a_checkpoint),
        cmocka_unit_test(legacy_records_stay_outside),
        cmocka_unit_test(store_chains_appends_and_purges_behind_a_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

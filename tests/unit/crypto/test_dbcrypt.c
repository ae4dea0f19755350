/* Unit tests for crypto/dbcrypt: the encrypting SQLite VFS. A database written through it
 * reads back whole, holds no plaintext in its files, hands SQLite zeros in the reserved
 * bytes, refuses a changed byte, a moved page and another key with an I/O error, and
 * recovers its WAL after a crash (a copy of the files taken mid-use), a frame whose page
 * was not written ending the log. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "crypto/dbcrypt.h"
#include "tmpdir.h"

#define MARK "marker-a7c3e9"
#define PS GH_DBCRYPT_PAGE

static char dir[64], db_path[96], wal_path[100];

static int setup(void **state)
{
    (void)state;
    uint8_t k1[32], k2[32];
    memset(k1, 1, sizeof(k1));
    memset(k2, 2, sizeof(k2));
    snprintf(dir, sizeof(dir), "%s", "/tmp/gh-dbcrypt-XXXXXX");
    if (mkdtemp(dir) == NULL || gh_dbcrypt_register("t-one", k1) != GH_OK ||
        gh_dbcrypt_register("t-two", k2) != GH_OK)
        return -1;
    snprintf(db_path, sizeof(db_path), "%s/a.db", dir);
    snprintf(wal_path, sizeof(wal_path), "%s/a.db-wal", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return remove_tree(dir);
}

static sqlite3 *open_db(const char *path, const char *vfs)
{
    sqlite3 *db = NULL;
    int n = GH_DBCRYPT_RESERVE;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
                     SQLITE_OK);
    sqlite3_extended_result_codes(db, 1);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA temp_store = MEMORY; PRAGMA page_size = 4096", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &n), SQLITE_OK);
    return db;
}

/* The rows of t as "a,b,..." into out; the step's result code. */
static int rows(sqlite3 *db, char *out, size_t size)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT group_concat(v, ',') FROM t", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return sqlite3_extended_errcode(db);
    rc = sqlite3_step(s);
    snprintf(out, size, "%s",
             rc == SQLITE_ROW && sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
                                                           : "");
    rc = rc == SQLITE_ROW ? SQLITE_OK : sqlite3_extended_errcode(db);
    sqlite3_finalize(s);
    return rc;
}

/* A fresh database of n rows MARK-k, WAL checkpointed into the file on close. */
static void make_db(int n)
{
    unlink(db_path);
    unlink(wal_path);
    sqlite3 *db = open_db(db_path, "t-one");
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT)", NULL, NULL, NULL),
        SQLITE_OK);
    for (int i = 0; i < n; i++) {
        char *q = sqlite3_mprintf("INSERT INTO t VALUES ('%s-%d-%0400d')", MARK, i, i);
        assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_free(q);
    }
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static size_t read_file(const char *path, uint8_t *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, size, f);
    fclose(f);
    return n;
}

static void write_file(const char *path, const uint8_t *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static int contains(const uint8_t *buf, size_t n, const char *s)
{
    return memmem(buf, n, s, strlen(s)) != NULL;
}

static void test_round_trip_no_plaintext(void **state)
{
    (void)state;
    static uint8_t raw[1 << 20];
    char out[64 * 1024];
    make_db(40);
    size_t n = read_file(db_path, raw, sizeof(raw));
    assert_true(n >= 4 * PS && n % PS == 0);
    assert_false(contains(raw, n, MARK));
    assert_false(contains(raw, n, "SQLite format 3"));
    assert_false(contains(raw, n, "CREATE TABLE"));

    sqlite3 *db = open_db(db_path, "t-one");
    assert_int_equal(rows(db, out, sizeof(out)), SQLITE_OK);
    assert_non_null(strstr(out, MARK "-39-"));
    /* While open, the WAL holds sealed frames only. */
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; "
                                  "INSERT INTO t VALUES ('" MARK "-wal')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    n = read_file(wal_path, raw, sizeof(raw));
    assert_true(n >= 32 + 24 + PS);
    assert_false(contains(raw, n, MARK));
    sqlite3_close(db);

    /* The default VFS sees no database; the other key sees an I/O error. */
    enum gh_dbcrypt_state st;
    assert_int_equal(gh_dbcrypt_probe(db_path, NULL, &st), GH_OK);
    assert_int_equal(st, GH_DBCRYPT_OTHER);
    uint8_t k1[32];
    memset(k1, 1, sizeof(k1));
    assert_int_equal(gh_dbcrypt_probe(db_path, k1, &st), GH_OK);
    assert_int_equal(st, GH_DBCRYPT_SEALED);
    sqlite3 *plain = NULL;
    sqlite3_open_v2(db_path, &plain, SQLITE_OPEN_READWRITE, NULL);
    assert_int_not_equal(rows(plain, out, sizeof(out)), SQLITE_OK);
    sqlite3_close(plain);
}

static void test_other_key_refused_unchanged(void **state)
{
    (void)state;
    static uint8_t before[1 << 20], after[1 << 20];
    char out[64];
    make_db(5);
    size_t n = read_file(db_path, before, sizeof(before));
    sqlite3 *db = NULL;
    /* The open reads page 1 (WAL mode is in its header): it fails, or every use does. */
    int rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, "t-two");
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(db, 1);
        assert_int_equal(rows(db, out, sizeof(out)), SQLITE_IOERR_DATA);
        assert_int_not_equal(sqlite3_exec(db, "INSERT INTO t VALUES ('x')", NULL, NULL, NULL),
                             SQLITE_OK);
    } else {
        assert_int_equal(rc & 0xff, SQLITE_IOERR);
    }
    sqlite3_close(db);
    assert_int_equal(read_file(db_path, after, sizeof(after)), n);
    assert_memory_equal(before, after, n);
    uint8_t k2[32];
    memset(k2, 2, sizeof(k2));
    enum gh_dbcrypt_state st;
    assert_int_equal(gh_dbcrypt_probe(db_path, k2, &st), GH_OK);
    assert_int_equal(st, GH_DBCRYPT_OTHER);
}

static void test_reserved_bytes_read_as_zero(void **state)
{
    (void)state;
    uint8_t raw[2 * PS], page[PS], zero[GH_DBCRYPT_RESERVE] = {0};
    make_db(5);
    assert_int_equal(read_file(db_path, raw, sizeof(raw)), sizeof(raw));
    assert_memory_not_equal(raw + 2 * PS - GH_DBCRYPT_RESERVE, zero, sizeof(zero)); /* nonce, tag */

    sqlite3_vfs *vfs = sqlite3_vfs_find("t-one");
    sqlite3_file *f = calloc(1, (size_t)vfs->szOsFile);
    int flags = 0;
    assert_int_equal(
        vfs->xOpen(vfs, db_path, f, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &flags), SQLITE_OK);
    assert_int_equal(f->pMethods->xRead(f, page, PS, PS), SQLITE_OK);
    assert_memory_equal(page + PS - GH_DBCRYPT_RESERVE, zero, sizeof(zero));
    /* A range across pages: the header, then the end of page 1 and the start of page 2. */
    uint8_t hdr[100], span[64];
    assert_int_equal(f->pMethods->xRead(f, hdr, sizeof(hdr), 0), SQLITE_OK);
    assert_memory_equal(hdr, "SQLite format 3", 16);
    assert_int_equal(hdr[20], GH_DBCRYPT_RESERVE);
    assert_int_equal(f->pMethods->xRead(f, span, sizeof(span), PS - 32), SQLITE_OK);
    assert_memory_equal(span, zero, 32);
    assert_memory_equal(span + 32, page, 32);
    f->pMethods->xClose(f);
    free(f);
}

/* Changes the database file with edit, then reads it back: an I/O error, no rows. */
static void expect_refused(void (*edit)(uint8_t *raw))
{
    static uint8_t raw[1 << 20];
    char out[64 * 1024];
    make_db(40);
    size_t n = read_file(db_path, raw, sizeof(raw));
    edit(raw);
    write_file(db_path, raw, n);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, "t-one"), SQLITE_OK);
    sqlite3_extended_result_codes(db, 1);
    out[0] = '\0';
    assert_int_equal(rows(db, out, sizeof(out)), SQLITE_IOERR_DATA);
    assert_null(strstr(out, MARK));
    sqlite3_close(db);
}

static void flip_byte(uint8_t *raw)
{
    raw[2 * PS + 100] ^= 1; /* page 3, inside the ciphertext */
}

static void swap_pages(uint8_t *raw)
{
    uint8_t tmp[PS];
    memcpy(tmp, raw + 2 * PS, PS);
    memcpy(raw + 2 * PS, raw + 3 * PS, PS);
    memcpy(raw + 3 * PS, tmp, PS);
}

static void flip_tag(uint8_t *raw)
{
    raw[3 * PS - 1] ^= 0x80; /* page 3's tag */
}

static void test_changed_byte_refused(void **state)
{
    (void)state;
    expect_refused(flip_byte);
    expect_refused(flip_tag);
}

static void test_swapped_pages_refused(void **state)
{
    (void)state;
    expect_refused(swap_pages);
}

/* A copy of the database and WAL taken while a writer has them open: what a kill -9
 * leaves. Recovery replays every committed frame. */
static void test_wal_recovery(void **state)
{
    (void)state;
    static uint8_t db_raw[1 << 20], wal_raw[1 << 21];
    char out[64 * 1024], copy[128], copy_wal[136];
    make_db(3);
    sqlite3 *db = open_db(db_path, "t-one");
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    for (int i = 0; i < 30; i++) {
        char *q = sqlite3_mprintf("INSERT INTO t VALUES ('w%d-%0600d')", i, i);
        assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_free(q);
    }
    size_t n_db = read_file(db_path, db_raw, sizeof(db_raw));
    size_t n_wal = read_file(wal_path, wal_raw, sizeof(wal_raw));
    sqlite3_close(db);
    assert_true(n_wal > 32 + 30 * (24 + PS));

    snprintf(copy, sizeof(copy), "%s/crash.db", dir);
    snprintf(copy_wal, sizeof(copy_wal), "%s/crash.db-wal", dir);
    write_file(copy, db_raw, n_db);
    write_file(copy_wal, wal_raw, n_wal);
    db = NULL;
    assert_int_equal(sqlite3_open_v2(copy, &db, SQLITE_OPEN_READWRITE, "t-one"), SQLITE_OK);
    assert_int_equal(rows(db, out, sizeof(out)), SQLITE_OK);
    assert_non_null(strstr(out, "w29-"));
    sqlite3_close(db);

    /* The last frame's header written, its page not (stale bytes of another frame): the
     * log ends before that transaction, the earlier ones stay, nothing fails. */
    size_t frames = (n_wal - 32) / (24 + PS), last = 32 + (frames - 1) * (24 + PS);
    memcpy(wal_raw + last + 24, wal_raw + 32 + 24, PS);
    unlink(copy);
    write_file(copy, db_raw, n_db);
    write_file(copy_wal, wal_raw, n_wal);
    db = NULL;
    assert_int_equal(sqlite3_open_v2(copy, &db, SQLITE_OPEN_READWRITE, "t-one"), SQLITE_OK);
    assert_int_equal(rows(db, out, sizeof(out)), SQLITE_OK);
    assert_non_null(strstr(out, "w28-"));
    assert_null(strstr(out, "w29-"));
    sqlite3_close(db);
}

/* In rollback-journal mode the journal holds sealed page images; a hot journal left by a
 * crash (a copy taken mid-transaction) rolls the database back to its rows. */
static void test_rollback_journal(void **state)
{
    (void)state;
    static uint8_t db_raw[1 << 20], j_raw[1 << 20];
    char out[64 * 1024], copy[128], copy_j[136], jpath[112];
    make_db(20);
    snprintf(jpath, sizeof(jpath), "%s-journal", db_path);
    sqlite3 *db = open_db(db_path, "t-one");
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA journal_mode = DELETE; PRAGMA cache_size = 1; BEGIN; "
                                  "UPDATE t SET v = 'changed'; DELETE FROM t WHERE rowid > 10",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    size_t n_j = read_file(jpath, j_raw, sizeof(j_raw));
    size_t n_db = read_file(db_path, db_raw, sizeof(db_raw));
    assert_true(n_j > PS);
    assert_false(contains(j_raw, n_j, MARK));
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(rows(db, out, sizeof(out)), SQLITE_OK);
    assert_non_null(strstr(out, MARK "-19-"));
    sqlite3_close(db);

    snprintf(copy, sizeof(copy), "%s/hot.db", dir);
    snprintf(copy_j, sizeof(copy_j), "%s/hot.db-journal", dir);
    write_file(copy, db_raw, n_db);
    write_file(copy_j, j_raw, n_j);
    db = NULL;
    assert_int_equal(sqlite3_open_v2(copy, &db, SQLITE_OPEN_READWRITE, "t-one"), SQLITE_OK);
    assert_int_equal(rows(db, out, sizeof(out)), SQLITE_OK);
    assert_non_null(strstr(out, MARK "-19-"));
    assert_null(strstr(out, "changed"));
    sqlite3_close(db);
}

/* A database without reserved bytes is never written through the VFS: sealing would
 * overwrite the end of its pages. */
static void test_page_without_reserve_refused(void **state)
{
    (void)state;
    char path[96];
    snprintf(path, sizeof(path), "%s/noreserve.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "t-one"), SQLITE_OK);
    sqlite3_extended_result_codes(db, 1);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA temp_store = MEMORY; CREATE TABLE t (v TEXT)", NULL, NULL, NULL) &
            0xff,
        SQLITE_IOERR);
    sqlite3_close(db);
}

static void test_probe(void **state)
{
    (void)state;
    char path[96];
    enum gh_dbcrypt_state st;
    snprintf(path, sizeof(path), "%s/plain.db", dir);
    assert_int_equal(gh_dbcrypt_probe(path, NULL, &st), GH_OK);
    assert_int_equal(st, GH_DBCRYPT_EMPTY);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (v)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    uint8_t k1[32];
    memset(k1, 1, sizeof(k1));
    assert_int_equal(gh_dbcrypt_probe(path, k1, &st), GH_OK);
    assert_int_equal(st, GH_DBCRYPT_PLAIN);
}

static void test_key_derivation(void **state)
{
    (void)state;
    uint8_t m1[32] = {0}, m2[32] = {0}, a[32], b[32], c[32];
    m2[0] = 1;
    assert_int_equal(gh_dbcrypt_key(m1, a), GH_OK);
    assert_int_equal(gh_dbcrypt_key(m1, b), GH_OK);
    assert_int_equal(gh_dbcrypt_key(m2, c), GH_OK);
    assert_memory_equal(a, b, 32);
    assert_memory_not_equal(a, c, 32);
    assert_memory_not_equal(a, m1, 32);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_no_plaintext),
        cmocka_unit_test(test_other_key_refused_unchanged),
        cmocka_unit_test(test_reserved_bytes_read_as_zero),
        cmocka_unit_test(test_changed_byte_refused),
        cmocka_unit_test(test_swapped_pages_refused),
        cmocka_unit_test(test_wal_recovery),
        cmocka_unit_test(test_rollback_journal),
        cmocka_unit_test(test_page_without_reserve_refused),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_key_derivation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * storage.encrypt's CPU cost in the library, without HTTP or a loaded machine's scheduling
 * in the figure: process CPU time per committed write transaction (one 200-byte row
 * inserted, WAL, synchronous=NORMAL, as the store runs) and per page read cold (a new
 * connection scanning the table), through the default VFS and through crypto/dbcrypt's,
 * alternating rounds, medians. Built by `make build/bench/dbcrypt_cost`.
 *   dbcrypt_cost DIR [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <sqlite3.h>

#include "crypto/dbcrypt.h"

#define TXS 2000

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sqlite3 *open_db(const char *path, const char *vfs)
{
    sqlite3 *db = NULL;
    int n = vfs != NULL ? GH_DBCRYPT_RESERVE : 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA temp_store = MEMORY; PRAGMA page_size = 4096", NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &n) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", NULL, NULL,
                     NULL) != SQLITE_OK) {
        fprintf(stderr, "open %s: %s\n", path, sqlite3_errmsg(db));
        exit(1);
    }
    return db;
}

/* CPU seconds per write transaction and per page read cold, into w and r. */
static void round_of(const char *dir, const char *vfs, int k, double *w, double *r)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s-%d.db", dir, vfs ? "enc" : "plain", k);
    sqlite3 *db = open_db(path, vfs);
    sqlite3_stmt *s = NULL;
    sqlite3_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (printf('%.200c', 'x') || ?)", -1, &s, NULL);
    double t0 = cpu_s();
    for (int i = 0; i < TXS; i++) {
        sqlite3_bind_int(s, 1, i);
        if (sqlite3_step(s) != SQLITE_DONE)
            exit(1);
        sqlite3_reset(s);
    }
    *w = (cpu_s() - t0) / TXS;
    sqlite3_finalize(s);
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
    db = open_db(path, vfs);
    sqlite3_int64 pages = 0;
    sqlite3_prepare_v2(db,
                       "SELECT sum(length(v)), (SELECT page_count FROM pragma_page_count) FROM t",
                       -1, &s, NULL);
    t0 = cpu_s();
    if (sqlite3_step(s) == SQLITE_ROW)
        pages = sqlite3_column_int64(s, 1);
    *r = (cpu_s() - t0) / (double)(pages > 0 ? pages : 1);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    uint8_t key[GH_DBCRYPT_KEY_LEN];
    char *end = NULL;
    long asked = argc > 2 ? strtol(argv[2], &end, 10) : 5;
    if (argc < 2 || (end != NULL && *end != '\0') || asked < 1 || asked > 50 || sodium_init() < 0)
        return 2;
    int rounds = (int)asked; /* 1..50, checked above */
    randombytes_buf(key, sizeof(key));
    if (gh_dbcrypt_register(GH_DBCRYPT_VFS, key) != GH_OK)
        return 1;
    double pw[50], pr[50], ew[50], er[50];
    for (int k = 0; k < rounds; k++) {
        round_of(argv[1], NULL, k, &pw[k], &pr[k]);
        round_of(argv[1], GH_DBCRYPT_VFS, k, &ew[k], &er[k]);
    }
    double a = median(pw, rounds), b = median(ew, rounds), c = median(pr, rounds),
           d = median(er, rounds);
    printf("write transaction (1 row, WAL, synchronous=NORMAL): plain %.1f us, encrypted %.1f us "
           "CPU (ratio %.2f)\n",
           a * 1e6, b * 1e6, b / a);
    printf("page read cold: plain %.2f us, encrypted %.2f us CPU (ratio %.2f)\n", c * 1e6, d * 1e6,
           d / c);
    return 0;
}

/*
 * Which VFS SQLite files go through (storage.encrypt: crypto/dbcrypt.c's, registered by
 * the command before it opens the store) and the page layout it needs; and the copy of a
 * database from one VFS to another (gatehouse storage encrypt|decrypt). The store never
 * sees a key: it names the VFS.
 */
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "store/sqlite_schema.h"
#include "store/store.h"

#define PAGE_SIZE 4096

static char vfs_name[32];
static int vfs_reserve;

void gh_store_sqlite_vfs(const char *vfs, int reserve)
{
    (void)snprintf(vfs_name, sizeof(vfs_name), "%s", vfs != NULL ? vfs : "");
    vfs_reserve = vfs != NULL ? reserve : 0;
}

const char *gh_sqlite_vfs(void)
{
    return vfs_name[0] != '\0' ? vfs_name : NULL;
}

static int exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    fprintf(stderr, "store: %s: %s\n", sql, sqlite3_errmsg(db));
    return -1;
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* A new database gets 4096-byte pages with reserve bytes each (set before its first
 * write); an existing one must have them, or sealing a page would overwrite rows. */
static gh_err layout(sqlite3 *db, const char *path, int reserve)
{
    int64_t pages = one_int(db, "PRAGMA main.page_count");
    if (pages < 0)
        return GH_ERR_IO;
    if (pages == 0) {
        int n = reserve;
        if (exec(db, "PRAGMA main.page_size = 4096") != 0 ||
            sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &n) != SQLITE_OK)
            return GH_ERR_IO;
        return GH_OK;
    }
    int have = -1; /* a negative value asks, changes nothing */
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &have) != SQLITE_OK ||
        one_int(db, "PRAGMA main.page_size") != PAGE_SIZE || have != reserve) {
        fprintf(stderr, "store: %s: not laid out for storage.encrypt (%d reserved bytes a page)\n",
                path, have);
        return GH_ERR_IO;
    }
    return GH_OK;
}

gh_err gh_sqlite_prepare(sqlite3 *db, const char *path)
{
    if (gh_sqlite_vfs() == NULL)
        return GH_OK;
    /* Sorts and temporary tables stay in memory: a temporary file would be plain. */
    if (exec(db, "PRAGMA temp_store = MEMORY") != 0)
        return GH_ERR_IO;
    return layout(db, path, vfs_reserve);
}

/* The URI of path read through vfs: every byte but [A-Za-z0-9/._-] percent-encoded. */
static char *uri(const char *path, const char *vfs)
{
    sqlite3_str *s = sqlite3_str_new(NULL);
    sqlite3_str_appendall(s, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/._-", *p) != NULL)
            sqlite3_str_appendchar(s, 1, (char)*p);
        else
            sqlite3_str_appendf(s, "%%%02X", *p);
    }
    sqlite3_str_appendf(s, "?vfs=%s", vfs);
    return sqlite3_str_finish(s);
}

/* Runs sql (one column: a name or a statement) on db; per row, exec's fmt with the text
 * in its every %w or %s (at most 4) when check is 0, else requires that the formatted
 * query answers 1. */
static int each(sqlite3 *db, const char *sql, const char *fmt, int check)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "store: %s: %s\n", sql, sqlite3_errmsg(db));
        return -1;
    }
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        char *q = sqlite3_mprintf(fmt, t, t, t, t);
        rc = q == NULL ? -1 : check ? (one_int(db, q) == 1 ? 0 : -1) : exec(db, q);
        if (rc != 0 && check)
            fprintf(stderr, "store: table %s differs after the copy\n", (const char *)t);
        sqlite3_free(q);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize(s);
    return rc;
}

#define OURS "name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
#define TABLES "SELECT name FROM src.sqlite_schema WHERE type = 'table' AND " OURS

/* Schema, rows and AUTOINCREMENT counters of src into main, in one transaction; the
 * indexes and triggers after the rows. */
static int copy(sqlite3 *db)
{
    static const char *const steps[][2] = {
        {"SELECT sql FROM src.sqlite_schema WHERE type = 'table' AND " OURS " ORDER BY rowid",
         "%s"},
        {TABLES, "INSERT INTO main.\"%w\" SELECT * FROM src.\"%w\""},
        {"SELECT name FROM src.sqlite_schema WHERE name = 'sqlite_sequence'",
         "DELETE FROM main.%w; INSERT INTO main.%w SELECT * FROM src.%w"},
        {"SELECT sql FROM src.sqlite_schema WHERE type != 'table' AND sql IS NOT NULL AND " OURS
         " ORDER BY rowid",
         "%s"},
    };
    if (exec(db, "BEGIN") != 0)
        return -1;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (each(db, steps[i][0], steps[i][1], 0) != 0) {
            (void)exec(db, "ROLLBACK");
            return -1;
        }
    return exec(db, "COMMIT");
}

/* Every table of main holds the rows of src's, no more, and main is sound. */
static int same(sqlite3 *db)
{
    if (each(db, TABLES,
             "SELECT (SELECT count(*) FROM src.\"%w\") = (SELECT count(*) FROM main.\"%w\") AND "
             "NOT EXISTS (SELECT * FROM src.\"%w\" EXCEPT SELECT * FROM main.\"%w\")",
             1) != 0)
        return -1;
    sqlite3_stmt *s = NULL;
    int ok = sqlite3_prepare_v2(db, "PRAGMA main.integrity_check", -1, &s, NULL) == SQLITE_OK &&
             sqlite3_step(s) == SQLITE_ROW &&
             strcmp((const char *)sqlite3_column_text(s, 0), "ok") == 0;
    if (!ok)
        fprintf(stderr, "store: the copy fails its integrity check: %s\n",
                s != NULL && sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
                                                       : sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return ok ? 0 : -1;
}

/* Fails with GH_ERR_BUSY when another connection has path open (a running server): in WAL
 * mode every connection holds a shared lock on the file, and an exclusive one is needed. */
static gh_err unused(const char *path, const char *vfs)
{
    sqlite3 *db = NULL;
    gh_err err = GH_ERR_IO;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, vfs) ==
        SQLITE_OK) {
        sqlite3_busy_timeout(db, 0);
        int rc = sqlite3_exec(db, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT", NULL,
                              NULL, NULL);
        err = rc == SQLITE_OK ? GH_OK : (rc & 0xff) == SQLITE_BUSY ? GH_ERR_BUSY : GH_ERR_IO;
        if (err == GH_ERR_IO)
            fprintf(stderr, "store: %s: %s\n", path, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return err;
}

gh_err gh_store_sqlite_convert(const char *from, const char *from_vfs, const char *to,
                               const char *to_vfs, int to_reserve)
{
    sqlite3 *db = NULL;
    gh_err err = unused(from, from_vfs);
    if (err != GH_OK)
        return err;
    if ((err = gh_sqlite_file_init(to)) != GH_OK)
        return err;
    err = GH_ERR_IO;
    char *src = uri(from, from_vfs != NULL ? from_vfs : sqlite3_vfs_find(NULL)->zName);
    char *attach = src != NULL ? sqlite3_mprintf("ATTACH %Q AS src", src) : NULL;
    if (attach == NULL ||
        sqlite3_open_v2(to, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_URI,
                        to_vfs) != SQLITE_OK)
        goto out;
    if (exec(db, "PRAGMA temp_store = MEMORY") != 0 || layout(db, to, to_reserve) != GH_OK ||
        exec(db, "PRAGMA journal_mode = WAL") != 0 || exec(db, attach) != 0 || copy(db) != 0 ||
        same(db) != 0 || exec(db, "DETACH src") != 0 ||
        exec(db, "PRAGMA wal_checkpoint(TRUNCATE)") != 0)
        goto out;
    err = GH_OK;
out:
    if (db == NULL)
        err = GH_ERR_NOMEM;
    if (sqlite3_close(db) != SQLITE_OK && err == GH_OK)
        err = GH_ERR_IO;
    sqlite3_free(attach);
    sqlite3_free(src);
    return err;
}

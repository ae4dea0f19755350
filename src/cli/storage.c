/*
 * storage.encrypt (docs/CRYPTO.md "SQLite at rest"): before the store opens, the database
 * key is derived from the master key and the file is checked against it, so that a wrong
 * key, a plain file under storage.encrypt or an encrypted file without it stops the start
 * with its cause and nothing written. And gatehouse storage encrypt|decrypt, which convert
 * a stopped server's database.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "cli/cli.h"
#include "crypto/dbcrypt.h"

static const char usage[] =
    "usage: gatehouse storage encrypt|decrypt [--config FILE] [--data-dir DIR]\n"
    "\n"
    "encrypt converts the SQLite database (storage.database) into one whose pages are sealed\n"
    "under a key derived from the master key; decrypt converts it back. Stop the server\n"
    "first (a database in use is refused). The copy is checked table by table before it\n"
    "replaces the file; then set storage.encrypt to match and start the server.\n";

/* The database key of the held master key, and the VFS registered with it. */
static int register_key(struct gh_app *app, uint8_t key[GH_DBCRYPT_KEY_LEN])
{
    gh_err err = gh_dbcrypt_key(app->master, key);
    if (err == GH_OK)
        err = gh_dbcrypt_register(GH_DBCRYPT_VFS, key);
    if (err != GH_OK)
        fprintf(stderr, "gatehouse: cannot derive the database key: %s\n", gh_err_name(err));
    return err != GH_OK;
}

static int probe(const char *path, const uint8_t *key, enum gh_dbcrypt_state *st)
{
    if (gh_dbcrypt_probe(path, key, st) == GH_OK)
        return 0;
    fprintf(stderr, "gatehouse: cannot read %s: %s\n", path, strerror(errno));
    return 1;
}

int gh_app_storage_restore(struct gh_app *app)
{
    uint8_t key[GH_DBCRYPT_KEY_LEN];
    if (!app->cfg.storage_encrypt)
        return 0;
    int bad = gh_app_hold_master(app, 0) != 0 || register_key(app, key) != 0;
    sodium_memzero(key, sizeof(key));
    if (!bad)
        gh_store_sqlite_vfs(GH_DBCRYPT_VFS, GH_DBCRYPT_RESERVE);
    return bad;
}

int gh_app_storage_key(struct gh_app *app)
{
    const struct gh_config *cfg = &app->cfg;
    enum gh_dbcrypt_state st;
    uint8_t key[GH_DBCRYPT_KEY_LEN];
    if (strcmp(cfg->storage_backend, "sqlite") != 0)
        return 0;
    if (!cfg->storage_encrypt) {
        if (probe(cfg->database, NULL, &st) != 0)
            return 1;
        if (st == GH_DBCRYPT_OTHER)
            fprintf(stderr,
                    "gatehouse: %s is not a plain SQLite database: encrypted (set "
                    "storage.encrypt: true) or not a database at all\n",
                    cfg->database);
        return st == GH_DBCRYPT_OTHER;
    }
    if (probe(cfg->database, NULL, &st) != 0 ||
        gh_app_hold_master(app, st == GH_DBCRYPT_EMPTY) != 0 || register_key(app, key) != 0)
        return 1;
    int bad = probe(cfg->database, key, &st);
    sodium_memzero(key, sizeof(key));
    if (!bad && st == GH_DBCRYPT_PLAIN)
        fprintf(stderr,
                "gatehouse: storage.encrypt is on but %s is a plain database: convert it with "
                "`gatehouse storage encrypt` (server stopped), or turn storage.encrypt off\n",
                cfg->database);
    else if (!bad && st == GH_DBCRYPT_OTHER)
        fprintf(stderr,
                "gatehouse: %s does not open under the database key of the master key from %s "
                "(another master key, or a damaged file); nothing was written\n",
                cfg->database, app->master_from);
    if (bad || st == GH_DBCRYPT_PLAIN || st == GH_DBCRYPT_OTHER)
        return 1;
    gh_store_sqlite_vfs(GH_DBCRYPT_VFS, GH_DBCRYPT_RESERVE);
    return 0;
}

/* Makes sure the rename of the converted file is on disk. */
static void sync_dir(const char *path)
{
    char dir[PATH_MAX];
    (void)snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        (void)snprintf(dir, sizeof(dir), ".");
    else
        slash[slash == dir] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static int convert(struct gh_app *app, int encrypt)
{
    const char *db = app->cfg.database;
    char tmp[PATH_MAX + 16], wal[PATH_MAX + 32];
    enum gh_dbcrypt_state st;
    uint8_t key[GH_DBCRYPT_KEY_LEN];
    if (probe(db, NULL, &st) != 0)
        return 1;
    if (st == GH_DBCRYPT_EMPTY) {
        fprintf(stderr, "gatehouse: %s is missing or empty: nothing to convert\n", db);
        return 1;
    }
    if (gh_app_hold_master(app, 0) != 0 || register_key(app, key) != 0)
        return 1;
    int bad = probe(db, key, &st);
    sodium_memzero(key, sizeof(key));
    if (bad)
        return 1;
    if (st != (encrypt ? GH_DBCRYPT_PLAIN : GH_DBCRYPT_SEALED)) {
        fprintf(stderr, "gatehouse: %s is %s\n", db,
                st == GH_DBCRYPT_PLAIN    ? "not encrypted"
                : st == GH_DBCRYPT_SEALED ? "encrypted already"
                                          : "not a database this master key opens");
        return 1;
    }
    (void)snprintf(tmp, sizeof(tmp), "%s.convert", db);
    (void)snprintf(wal, sizeof(wal), "%s-wal", tmp);
    (void)unlink(wal); /* what an interrupted conversion left */
    (void)unlink(tmp);
    gh_err err =
        gh_store_sqlite_convert(db, encrypt ? NULL : GH_DBCRYPT_VFS, tmp,
                                encrypt ? GH_DBCRYPT_VFS : NULL, encrypt ? GH_DBCRYPT_RESERVE : 0);
    (void)snprintf(wal, sizeof(wal), "%s-wal", db);
    if (err == GH_OK && access(wal, F_OK) == 0) /* frames of the old file would follow it */
        err = GH_ERR_BUSY;
    if (err == GH_OK && rename(tmp, db) != 0)
        err = GH_ERR_IO;
    if (err != GH_OK) {
        (void)unlink(tmp);
        fprintf(stderr, "gatehouse: %s not converted: %s\n", db,
                err == GH_ERR_BUSY ? "the database is in use (stop the server first)"
                                   : "the copy failed (see above); the file is unchanged");
        return 1;
    }
    sync_dir(db);
    printf("%s %s; set storage.encrypt: %s before starting the server\n", db,
           encrypt ? "encrypted" : "decrypted", encrypt ? "true" : "false");
    return 0;
}

int gh_cmd_storage(int argc, char **argv)
{
    static const struct option opts[] = {GH_CLI_COMMON_OPTIONS};
    struct gh_cli_common common = {0};
    int status = gh_cli_help(argc, argv, usage), c;
    if (status >= 0)
        return status;
    int encrypt = strcmp(argv[1], "encrypt") == 0;
    if (!encrypt && strcmp(argv[1], "decrypt") != 0) {
        fputs(usage, stderr);
        return 2;
    }
    optind = 2;
    while ((c = getopt_long(argc, argv, GH_CLI_COMMON_SHORT, opts, NULL)) != -1)
        if ((status = gh_cli_option(c, usage, &common)) >= 0)
            return status;
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    static struct gh_app app;
    if (gh_cli_config(&app, &common) != 0)
        return 1;
    if (strcmp(app.cfg.storage_backend, "sqlite") != 0) {
        fprintf(stderr, "gatehouse: storage %s: SQLite only\n", argv[1]);
        status = 2;
    } else {
        status = convert(&app, encrypt);
    }
    gh_app_drop_master(&app);
    return status;
}

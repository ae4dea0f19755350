/*
 * gatehouse backup create | restore (docs/CRYPTO.md, "Backups"): a consistent copy of the
 * live database (the store's snapshot: SQLite's online backup API) and, when encrypted,
 * the secret files a restored server needs (signing keys, API-key pepper, audit
 * checkpoint key; never the master key), in the file format of crypto/backup.h. A
 * restore checks the whole file (header, version, key, every byte) before it writes
 * anything.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "core/fs.h"
#include "core/time.h"
#include "crypto/backup.h"

static const char usage[] =
    "usage: gatehouse backup create [--encrypt] [--passphrase-stdin] [--out FILE]\n"
    "       gatehouse backup restore FILE [--passphrase-stdin]\n"
    "Every form also takes --config FILE and --data-dir DIR.\n"
    "\n"
    "create copies the live database while the server runs. --encrypt seals the file under\n"
    "the master key, --passphrase-stdin under a passphrase read from stdin (Argon2id); an\n"
    "encrypted backup also holds the signing keys, the API-key pepper and the audit\n"
    "checkpoint key (never the master key). The file goes to --out (default\n"
    "<data_dir>/backups/gatehouse-<time>.ghbk, mode 0600); its path is printed.\n"
    "restore detects an encrypted file by its header and checks all of it (version, key,\n"
    "every byte) before it replaces the database and key files; stop the server first.\n";

#define MAX_FILE (1024L * 1024 * 1024) /* the largest backup read back */
#define MAX_SECRET (256 * 1024)        /* the largest key file taken along */
#define MAX_SECTIONS 64

struct backup_args {
    struct gh_cli_common common;
    const char *out;
    int encrypt, passphrase;
};

/* ---- files ---- */

/* Reads the regular file path whole (at most max bytes) into a new buffer. */
static gh_err read_file(const char *path, long max, uint8_t **out, size_t *len)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    gh_err err = GH_ERR_IO;
    uint8_t *p = NULL;
    size_t got = 0;
    if (fd < 0)
        return errno == ENOENT ? GH_ERR_NOT_FOUND : GH_ERR_IO;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        goto out;
    err = GH_ERR_TOO_LARGE;
    if (sb.st_size > max)
        goto out;
    err = GH_ERR_NOMEM;
    if ((p = malloc((size_t)sb.st_size + 1)) == NULL)
        goto out;
    for (ssize_t r;
         got < (size_t)sb.st_size && (r = read(fd, p + got, (size_t)sb.st_size - got)) > 0;)
        got += (size_t)r;
    err = got == (size_t)sb.st_size ? GH_OK : GH_ERR_IO;
out:
    close(fd);
    if (err != GH_OK) {
        free(p);
        return err;
    }
    *out = p;
    *len = got;
    return GH_OK;
}

/* Writes data to path through a private temporary file renamed over it (mode 0600). */
static gh_err write_file(const char *path, const uint8_t *data, size_t len, int exclusive)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp) ||
        gh_mkdir_parent(path, 0700) != GH_OK)
        return GH_ERR_IO;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return GH_ERR_IO;
    size_t done = 0;
    for (ssize_t w; done < len && (w = write(fd, data + done, len - done)) > 0;)
        done += (size_t)w;
    int ok = done == len && fchmod(fd, 0600) == 0 && fsync(fd) == 0;
    close(fd);
    /* link() refuses an existing name: --out never replaces a file. */
    if (ok && exclusive)
        ok = link(tmp, path) == 0;
    else if (ok)
        ok = rename(tmp, path) == 0;
    if (!ok || exclusive)
        unlink(tmp);
    return ok ? GH_OK : GH_ERR_IO;
}

/* ---- create ---- */

struct sections {
    struct gh_backup_section s[MAX_SECTIONS];
    uint8_t *data[MAX_SECTIONS];
    char names[MAX_SECTIONS][GH_BACKUP_NAME_MAX + 1];
    size_t n;
};

static void sections_clear(struct sections *ss)
{
    for (size_t i = 0; i < ss->n; i++) {
        sodium_memzero(ss->data[i], ss->s[i].len);
        free(ss->data[i]);
    }
    ss->n = 0;
}

/* Adds the file path as section name; a missing file is skipped. */
static gh_err add_file(struct sections *ss, const char *name, const char *path, long max)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (ss->n == MAX_SECTIONS)
        return GH_ERR_TOO_LARGE;
    gh_err err = read_file(path, max, &data, &len);
    if (err == GH_ERR_NOT_FOUND)
        return GH_OK;
    if (err != GH_OK)
        return err;
    (void)snprintf(ss->names[ss->n], sizeof(ss->names[0]), "%s", name);
    ss->data[ss->n] = data;
    ss->s[ss->n] = (struct gh_backup_section){ss->names[ss->n], data, len};
    ss->n++;
    return GH_OK;
}

/* The secret files of an encrypted backup: the key set's files but the master key, the
 * API-key pepper and the audit checkpoint key. */
static gh_err add_secrets(struct sections *ss, const struct gh_config *cfg)
{
    char path[PATH_MAX], name[GH_BACKUP_NAME_MAX + 1];
    gh_err err = GH_OK;
    DIR *d = opendir(cfg->keys_dir);
    for (struct dirent *e; d != NULL && err == GH_OK && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp") != NULL ||
            snprintf(path, sizeof(path), "%s/%s", cfg->keys_dir, e->d_name) >= (int)sizeof(path) ||
            strcmp(path, cfg->master_key_file) == 0 || strcmp(path, cfg->api_key_pepper) == 0 ||
            strcmp(path, cfg->audit_key) == 0 ||
            snprintf(name, sizeof(name), "keyset/%s", e->d_name) >= (int)sizeof(name))
            continue;
        err = add_file(ss, name, path, MAX_SECRET);
    }
    if (d != NULL)
        closedir(d);
    if (err == GH_OK)
        err = add_file(ss, "secret/api_key.pepper", cfg->api_key_pepper, MAX_SECRET);
    if (err == GH_OK)
        err = add_file(ss, "secret/audit_checkpoint.key", cfg->audit_key, MAX_SECRET);
    return err;
}

static void progress(size_t done, size_t total)
{
    if (total >= (1u << 20) && (done % (8u << 20) < 65536 || done == total))
        fprintf(stderr, "backup: %zu of %zu MiB\n", done >> 20, total >> 20);
}

/* Reads a passphrase line from stdin (unbuffered) into out. */
static int read_passphrase(char *out, size_t size)
{
    setvbuf(stdin, NULL, _IONBF, 0);
    if (fgets(out, (int)size, stdin) == NULL) {
        fprintf(stderr, "gatehouse: no passphrase on standard input\n");
        return 1;
    }
    out[strcspn(out, "\r\n")] = '\0';
    if (strlen(out) < 12) {
        fprintf(stderr, "gatehouse: the passphrase must have 12 characters at least\n");
        sodium_memzero(out, size);
        return 1;
    }
    return 0;
}

static int cmd_create(struct gh_app *app, const struct backup_args *a)
{
    const struct gh_config *cfg = &app->cfg;
    static struct sections ss;
    char snap[PATH_MAX], out[PATH_MAX], pass[1024], stamp[32];
    uint8_t master[GH_MASTER_KEY_LEN], *file = NULL;
    size_t len = 0;
    const char *from = NULL;
    struct gh_backup_key key = {NULL, NULL};
    struct gh_kdf_argon2 argon2 = {3, 64 * 1024, {0}};
    enum gh_backup_mode mode = a->passphrase ? GH_BACKUP_PASSPHRASE
                               : a->encrypt  ? GH_BACKUP_MASTER
                                             : GH_BACKUP_PLAIN;
    int status = 1;
    gh_err err = GH_ERR_IO;
    if (mode == GH_BACKUP_PASSPHRASE && read_passphrase(pass, sizeof(pass)) != 0)
        return 1;
    if (mode == GH_BACKUP_MASTER && gh_app_master_key(app, master, &from) != 0)
        return 1;
    key.master = mode == GH_BACKUP_MASTER ? master : NULL;
    key.passphrase = mode == GH_BACKUP_PASSPHRASE ? pass : NULL;
    int64_t now = gh_time_now();
    (void)snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
    if (snprintf(snap, sizeof(snap), "%s/backup-%s-%d.db", cfg->data_dir, stamp, (int)getpid()) <
        (int)sizeof(snap))
        err = gh_store_snapshot(&app->store, snap);
    if (err == GH_OK)
        err = add_file(&ss, "database", snap, MAX_FILE);
    unlink(snap);
    if (err == GH_OK && mode != GH_BACKUP_PLAIN)
        err = add_secrets(&ss, cfg);
    if (err == GH_OK)
        err = gh_backup_write(ss.s, ss.n, mode, &key, &argon2, progress, &file, &len);
    int n = a->out != NULL
                ? snprintf(out, sizeof(out), "%s", a->out)
                : snprintf(out, sizeof(out), "%s/backups/gatehouse-%s.ghbk", cfg->data_dir, stamp);
    if (err == GH_OK && (n < 0 || (size_t)n >= sizeof(out)))
        err = GH_ERR_TOO_LARGE;
    if (err == GH_OK)
        err = write_file(out, file, len, 1);
    if (err == GH_OK) {
        static const struct gh_reqmeta meta = {NULL, NULL, "gatehouse-cli", NULL, NULL};
        static const char *const modes[] = {"{\"mode\":\"plain\"}", "{\"mode\":\"master_key\"}",
                                            "{\"mode\":\"passphrase\"}"};
        if (gh_audit_record(&app->store, "BACKUP_CREATED", &meta, NULL, 0, modes[mode]) != GH_OK)
            fprintf(stderr, "gatehouse: the backup was made but not audited\n");
        printf("%s\n", out);
        if (mode == GH_BACKUP_PLAIN)
            fprintf(stderr, "backup: not encrypted: it holds the database only; keep the key "
                            "set, the API-key pepper and the audit checkpoint key apart\n");
        status = 0;
    } else {
        fprintf(stderr, "gatehouse: backup failed: %s\n", gh_err_name(err));
    }
    sections_clear(&ss);
    free(file);
    sodium_memzero(master, sizeof(master));
    sodium_memzero(pass, sizeof(pass));
    return status;
}

/* ---- restore ---- */

struct restore {
    const struct gh_config *cfg;
    gh_err err;
    int database;
    int plain; /* an unauthenticated file: anyone could have written it */
};

/* Where a section goes in this data dir; NULL: a name this build does not restore. */
static const char *target(const struct gh_config *cfg, const char *name, char *buf, size_t size)
{
    if (strcmp(name, "secret/api_key.pepper") == 0)
        return cfg->api_key_pepper;
    if (strcmp(name, "secret/audit_checkpoint.key") == 0)
        return cfg->audit_key;
    if (strncmp(name, "keyset/", 7) == 0 && strchr(name + 7, '/') == NULL &&
        snprintf(buf, size, "%s/%s", cfg->keys_dir, name + 7) < (int)size)
        return buf;
    return NULL;
}

static int check_section(void *arg, const struct gh_backup_section *s)
{
    struct restore *r = arg;
    char buf[PATH_MAX];
    const char *to = NULL;
    if (strcmp(s->name, "database") == 0)
        r->database++;
    /* Key files come only from an authenticated (encrypted) file, never over the master
     * key: a plain file's digest proves nothing about who wrote it. */
    else if (r->plain || (to = target(r->cfg, s->name, buf, sizeof(buf))) == NULL ||
             strcmp(to, r->cfg->master_key_file) == 0)
        r->err = GH_ERR_INVALID;
    return r->err != GH_OK;
}

static int restore_section(void *arg, const struct gh_backup_section *s)
{
    struct restore *r = arg;
    char buf[PATH_MAX], tmp[PATH_MAX];
    if (strcmp(s->name, "database") != 0) {
        r->err = write_file(target(r->cfg, s->name, buf, sizeof(buf)), s->data, s->len, 0);
        return r->err != GH_OK;
    }
    if (snprintf(tmp, sizeof(tmp), "%s.restore", r->cfg->database) >= (int)sizeof(tmp) ||
        gh_mkdir_parent(tmp, 0700) != GH_OK) {
        r->err = GH_ERR_IO;
        return 1;
    }
    r->err = write_file(tmp, s->data, s->len, 0);
    if (r->err == GH_OK)
        r->err = gh_store_restore(r->cfg->storage_backend, r->cfg->database, tmp,
                                  r->cfg->busy_timeout_ms);
    unlink(tmp);
    return r->err != GH_OK;
}

static int cmd_restore(struct gh_app *app, const struct backup_args *a, const char *path)
{
    const struct gh_config *cfg = &app->cfg;
    uint8_t *file = NULL, *payload = NULL, master[GH_MASTER_KEY_LEN];
    size_t len = 0, plen = 0;
    char pass[1024];
    struct gh_backup_header h;
    struct gh_backup_key key = {NULL, NULL};
    struct restore r = {cfg, GH_OK, 0, 0};
    int status = 1;
    gh_err err = read_file(path, MAX_FILE, &file, &len);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: cannot read %s: %s\n", path, gh_err_name(err));
        return 1;
    }
    if (gh_backup_header_parse(file, len, &h) != GH_OK) {
        fprintf(stderr, "gatehouse: %s is not a Gatehouse backup: nothing restored\n", path);
        goto out;
    }
    if (h.version != GH_BACKUP_VERSION) {
        fprintf(stderr,
                "gatehouse: %s is of backup format version %u; this build reads "
                "version %d: nothing restored\n",
                path, h.version, GH_BACKUP_VERSION);
        goto out;
    }
    if (h.mode == GH_BACKUP_PASSPHRASE) {
        if (!a->passphrase) {
            fprintf(stderr,
                    "gatehouse: %s is encrypted with a passphrase: give it with "
                    "--passphrase-stdin\n",
                    path);
            goto out;
        }
        if (read_passphrase(pass, sizeof(pass)) != 0)
            goto out;
        key.passphrase = pass;
    } else if (h.mode == GH_BACKUP_MASTER) {
        char *hex = getenv("GATEHOUSE_MASTER_KEY");
        if (app->master_held) /* storage.encrypt read it already */
            memcpy(master, app->master, sizeof(master));
        else if (gh_master_load(hex, cfg->master_key_file, 0, master) != GH_OK) {
            fprintf(stderr,
                    "gatehouse: %s is encrypted with a master key: set "
                    "GATEHOUSE_MASTER_KEY or crypto.master_key_file to it\n",
                    path);
            goto out;
        }
        key.master = master;
    }
    r.plain = h.mode == GH_BACKUP_PLAIN;
    fprintf(stderr, "restore: checking %s (%zu bytes, %s)\n", path, len,
            h.mode == GH_BACKUP_PLAIN ? "not encrypted" : "encrypted");
    err = gh_backup_read(file, len, &key, &payload, &plen);
    if (err == GH_OK && (gh_backup_sections(payload, plen, check_section, &r) != GH_OK ||
                         r.err != GH_OK || r.database != 1)) {
        fprintf(stderr,
                "gatehouse: %s holds what a restore does not write (a plain backup "
                "holds the database only, once): nothing restored\n",
                path);
        goto out;
    }
    if (err == GH_ERR_AUTH) {
        fprintf(stderr,
                "gatehouse: %s does not open with this key, or was changed: nothing "
                "restored\n",
                path);
        goto out;
    }
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: %s is truncated or damaged: nothing restored\n", path);
        goto out;
    }
    /* Everything checked: now the data dir changes. */
    if (gh_backup_sections(payload, plen, restore_section, &r) != GH_OK || r.err != GH_OK) {
        fprintf(stderr, "gatehouse: restore failed: %s\n", gh_err_name(r.err));
        goto out;
    }
    printf("restored %s into %s\n", path, cfg->data_dir);
    status = 0;
out:
    gh_backup_free_payload(payload, plen);
    free(file);
    sodium_memzero(master, sizeof(master));
    sodium_memzero(pass, sizeof(pass));
    return status;
}

int gh_cmd_backup(int argc, char **argv)
{
    static const struct option opts[] = {{"encrypt", no_argument, NULL, 'e'},
                                         {"passphrase-stdin", no_argument, NULL, 'p'},
                                         {"out", required_argument, NULL, 'o'},
                                         GH_CLI_COMMON_OPTIONS};
    struct backup_args a;
    memset(&a, 0, sizeof(a));
    int status = gh_cli_help(argc, argv, usage);
    if (status >= 0)
        return status;
    const char *verb = argv[1];
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "epo:" GH_CLI_COMMON_SHORT, opts, NULL)) != -1) {
        if (c == 'e')
            a.encrypt = 1;
        else if (c == 'p')
            a.passphrase = 1;
        else if (c == 'o')
            a.out = optarg;
        else if ((status = gh_cli_option(c, usage, &a.common)) >= 0)
            return status;
    }
    int create = strcmp(verb, "create") == 0, restore = strcmp(verb, "restore") == 0;
    if (!(create && optind == argc) &&
        !(restore && optind == argc - 1 && !a.encrypt && a.out == NULL)) {
        fputs(usage, stderr);
        return 2;
    }
    static struct gh_app app;
    if (restore) {
        /* No store is opened: the restore replaces it. */
        if (gh_cli_config(&app, &a.common) != 0 || gh_app_storage_restore(&app) != 0)
            return 1;
        status = cmd_restore(&app, &a, argv[optind]);
        gh_app_drop_master(&app);
        return status;
    }
    if (gh_cli_open(&app, &a.common) != 0)
        return 1;
    status = cmd_create(&app, &a);
    gh_app_close(&app);
    return status;
}

/*
 * gatehouse security audit [--json] [--fix]: checks the deployment (configuration, data
 * dir, database) against the OWASP ASVS 5.0 requirements it can see, one finding per
 * problem with its requirement id and severity. Exit status 0 when clean, 1 with findings
 * (after --fix: with findings left). --fix applies only the safe fixes (file and
 * directory modes) and says what it changed.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "audit/audit.h"
#include "authn/password.h"
#include "cli/cli.h"
#include "core/secure_json.h"

static const char usage[] =
    "usage: gatehouse security audit [--json] [--fix]\n"
    "Also takes --config FILE and --data-dir DIR.\n"
    "\n"
    "Checks the configuration, the data dir and the database: the bootstrap admin password,\n"
    "signing key sizes, key and database file modes, TLS, rate limits and backoff, token\n"
    "lifetimes, open registration, CORS open to every origin, the master key file, the audit\n"
    "chain, an unencrypted SQLite database. Each finding names its OWASP ASVS 5.0 requirement\n"
    "and a severity. Exit status 1 when anything is found.\n"
    "--fix applies the safe fixes (file and directory modes) and says what it changed.\n";

#define MAX_FINDINGS 64

struct finding {
    const char *asvs, *severity;
    char title[96];
    char detail[PATH_MAX + 128];
    char fix_path[PATH_MAX]; /* a mode to tighten: the safe fix */
    unsigned fix_mode;
    int fixed;
};

struct report {
    struct finding f[MAX_FINDINGS];
    size_t n;
};

static struct finding *add(struct report *r, const char *asvs, const char *severity,
                           const char *title)
{
    if (r->n == MAX_FINDINGS)
        return &r->f[MAX_FINDINGS - 1]; /* the last one stands for the rest */
    struct finding *f = &r->f[r->n++];
    memset(f, 0, sizeof(*f));
    f->asvs = asvs;
    f->severity = severity;
    (void)snprintf(f->title, sizeof(f->title), "%s", title);
    return f;
}

/* ---- the checks ---- */

/* A secret or database file readable or writable by group or others; a missing file is
 * fine. */
static void check_mode(struct report *r, const char *path, const char *what)
{
    struct stat sb;
    if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & 077) == 0)
        return;
    struct finding *f = add(r, "V13.3.1", "high", "secret file readable by group or others");
    (void)snprintf(f->detail, sizeof(f->detail), "%s %s has mode %04o; expected 0600", what, path,
                   (unsigned)(sb.st_mode & 07777));
    (void)snprintf(f->fix_path, sizeof(f->fix_path), "%s", path);
    f->fix_mode = 0600;
}

static void check_files(struct report *r, const struct gh_config *cfg)
{
    struct stat sb;
    char path[PATH_MAX];
    if (stat(cfg->data_dir, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 077) != 0) {
        struct finding *f = add(r, "V13.3.1", "medium", "data directory open to group or others");
        (void)snprintf(f->detail, sizeof(f->detail), "%s has mode %04o; expected 0700",
                       cfg->data_dir, (unsigned)(sb.st_mode & 07777));
        (void)snprintf(f->fix_path, sizeof(f->fix_path), "%s", cfg->data_dir);
        f->fix_mode = 0700;
    }
    check_mode(r, cfg->database, "the database");
    check_mode(r, cfg->master_key_file, "the master key");
    check_mode(r, cfg->api_key_pepper, "the API-key pepper");
    check_mode(r, cfg->audit_key, "the audit checkpoint key");
    DIR *d = opendir(cfg->keys_dir);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.' &&
            snprintf(path, sizeof(path), "%s/%s", cfg->keys_dir, e->d_name) < (int)sizeof(path) &&
            strcmp(path, cfg->master_key_file) != 0 && strcmp(path, cfg->api_key_pepper) != 0 &&
            strcmp(path, cfg->audit_key) != 0)
            check_mode(r, path, "the key set's");
    if (d != NULL)
        closedir(d);
    if (cfg->crypto_sealed && access(cfg->master_key_file, F_OK) == 0) {
        struct finding *f = add(r, "V13.3.1", "high", "sealed master key kept on disk");
        (void)snprintf(f->detail, sizeof(f->detail),
                       "crypto.sealed is on but %s still holds the master key: remove it once "
                       "the shares are handed out",
                       cfg->master_key_file);
    }
}

static int loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

static void check_config(struct report *r, const struct gh_config *cfg)
{
    struct finding *f;
    if (cfg->algorithm == 0 && cfg->rsa_bits < 3072) {
        f = add(r, "V11.2.3", "high", "signing key below 128-bit security");
        (void)snprintf(f->detail, sizeof(f->detail),
                       "auth.rsa_bits is %u; RS256 keys need 3072 bits or more (or ES256/EdDSA)",
                       cfg->rsa_bits);
    }
    if (!loopback(cfg->listen_host) && cfg->tls_cert[0] == '\0') {
        f = add(r, "V12.2.1", "high", "TLS off on a non-loopback address");
        (void)snprintf(f->detail, sizeof(f->detail),
                       "server.listen is %s:%u without server.tls_cert: serve TLS, or put a "
                       "TLS proxy in front and listen on loopback",
                       cfg->listen_host, (unsigned)cfg->listen_port);
    }
    if (cfg->rl_global == 0 || cfg->rl_auth == 0) {
        f = add(r, "V2.4.1", "medium", "rate limits off");
        (void)snprintf(f->detail, sizeof(f->detail), "rate_limit.global is %u, rate_limit.auth %u",
                       cfg->rl_global, cfg->rl_auth);
    }
    if (!cfg->login_backoff) {
        f = add(r, "V6.3.1", "medium", "login backoff off");
        (void)snprintf(f->detail, sizeof(f->detail),
                       "login.backoff is off: failed logins are not slowed down");
    }
    if (cfg->access_ttl > 3600 || cfg->refresh_ttl > 30 * 86400) {
        f = add(r, "V7.3.2", "medium", "token lifetimes above sensible bounds");
        (void)snprintf(f->detail, sizeof(f->detail),
                       "auth.access_ttl %llds (at most 1h), auth.refresh_ttl %llds (at most 30d)",
                       (long long)cfg->access_ttl, (long long)cfg->refresh_ttl);
    }
    if (cfg->registration) {
        f = add(r, "V6.3.7", "low", "open self-registration");
        (void)snprintf(f->detail, sizeof(f->detail),
                       "auth.registration is on: anyone who reaches the server can make an "
                       "account; turn it off unless that is intended");
    }
    /* "*" with cookies cannot load (config.c refuses it); "*" alone lets any site read
     * what /api/ answers to an Authorization header a script holds. */
    if (strcmp(cfg->cors_origins, "*") == 0) {
        f = add(r, "V3.4.2", "medium", "CORS open to every origin");
        (void)snprintf(f->detail, sizeof(f->detail),
                       "cors.allowed_origins is \"*\": list the origins of the apps that call "
                       "the API instead");
    }
    if (cfg->allow_core_dumps) {
        f = add(r, "V13.4.2", "medium", "core dumps allowed");
        (void)snprintf(f->detail, sizeof(f->detail),
                       "server.allow_core_dumps is on: a dump would hold keys and tokens");
    }
}

/* The bootstrap admin: still holding GATEHOUSE_ADMIN_PASSWORD, or never changed. */
/* Without storage.encrypt a SQLite file keeps its rows readable on disk (secret values are
 * field-encrypted either way); PostgreSQL's at-rest options are the server's (CRYPTO.md). */
static void check_storage(struct report *r, const struct gh_config *cfg)
{
    if (strcmp(cfg->storage_backend, "sqlite") != 0 || cfg->storage_encrypt)
        return;
    struct finding *f = add(r, "V14.2.4", "low", "database not encrypted at rest");
    (void)snprintf(f->detail, sizeof(f->detail),
                   "%.*s: rows readable on disk (gatehouse storage encrypt, server stopped, "
                   "then storage.encrypt: true)",
                   (int)(sizeof(f->detail) - 100), cfg->database);
}

static void check_admin(struct report *r, struct gh_app *app)
{
    struct gh_user u;
    struct gh_credentials c;
    const char *bootstrap = getenv("GATEHOUSE_ADMIN_PASSWORD");
    if (gh_store_user_find_login(&app->store, "admin", &u) != GH_OK || u.disabled)
        return;
    int same = 0;
    if (bootstrap != NULL && gh_store_user_get_credentials(&app->store, u.id, &c) == GH_OK) {
        same = gh_password_verify(c.password_hash, bootstrap, strlen(bootstrap)) == GH_OK;
        sodium_memzero(&c, sizeof(c));
    }
    /* A password change bumps the revocation epoch (and the update time). */
    if (!same && (u.token_epoch != 0 || u.updated_at != u.created_at))
        return;
    struct finding *f = add(r, "V6.3.2", "high", "bootstrap admin password still in use");
    (void)snprintf(f->detail, sizeof(f->detail), "%s",
                   same ? "the password in GATEHOUSE_ADMIN_PASSWORD still opens \"admin\""
                        : "\"admin\" was never changed since the first start: change its "
                          "password or disable it");
}

static void check_audit(struct report *r, struct gh_app *app)
{
    unsigned char pk[32];
    char key_id[GH_AUDIT_KEY_ID_LEN + 1];
    struct gh_audit_verdict v;
    struct finding *f;
    if (gh_audit_public_key(pk, key_id) != GH_OK || gh_audit_verify(&app->store, pk, &v) != GH_OK) {
        f = add(r, "V16.4.2", "high", "audit chain unreadable");
        (void)snprintf(f->detail, sizeof(f->detail), "the audit trail could not be verified");
        return;
    }
    if (!v.valid) {
        f = add(r, "V16.4.2", "high", "audit chain invalid");
        (void)snprintf(f->detail, sizeof(f->detail), "record %lld: %s", (long long)v.first_bad,
                       v.reason);
    }
}

/* ---- output ---- */

static void apply_fixes(struct report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct finding *f = &r->f[i];
        if (f->fix_path[0] == '\0')
            continue;
        f->fixed = chmod(f->fix_path, f->fix_mode) == 0;
        fprintf(stderr, "%s: %s to %04o\n", f->fixed ? "fixed" : "could not fix", f->fix_path,
                f->fix_mode);
    }
}

static size_t left(const struct report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += !r->f[i].fixed;
    return n;
}

static int print_json(const struct report *r)
{
    json_t *items = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const struct finding *f = &r->f[i];
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "asvs", f->asvs,
                                               "severity", f->severity, "title", f->title, "detail",
                                               f->detail, "fixable", f->fix_path[0] != '\0',
                                               "fixed", f->fixed));
    }
    json_t *doc = json_pack("{s:o, s:I}", "findings", items, "open", (json_int_t)left(r));
    char *text = doc != NULL ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    int ok = text != NULL && printf("%s\n", text) > 0;
    gh_secure_json_free(text);
    return ok ? 0 : -1;
}

static void print_text(const struct report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct finding *f = &r->f[i];
        printf("%-6s %-8s %s: %s%s\n", f->severity, f->asvs, f->title, f->detail,
               f->fixed         ? " (fixed)"
               : f->fix_path[0] ? " (--fix can fix it)"
                                : "");
    }
    if (r->n == 0)
        printf("no findings\n");
    else
        printf("%zu findings, %zu open\n", r->n, left(r));
}

int gh_cmd_security(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"fix", no_argument, NULL, 'f'}, GH_CLI_COMMON_OPTIONS};
    struct gh_cli_common common = {NULL, NULL, NULL};
    int json = 0, fix = 0, c;
    int status = gh_cli_help(argc, argv, usage);
    if (status >= 0)
        return status;
    optind = 2;
    while ((c = getopt_long(argc, argv, "jf" GH_CLI_COMMON_SHORT, opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'f')
            fix = 1;
        else if ((status = gh_cli_option(c, usage, &common)) >= 0)
            return status;
    }
    if (strcmp(argv[1], "audit") != 0 || optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    static struct gh_app app;
    static struct report r;
    if (gh_cli_config(&app, &common) != 0)
        return 1;
    check_files(&r, &app.cfg);
    check_config(&r, &app.cfg);
    check_storage(&r, &app.cfg);
    if (fix)
        apply_fixes(&r);
    /* The database checks open the store and the audit key, which refuse a secret file
     * others may read: they wait until the modes are fixed. */
    int modes_left = 0;
    for (size_t i = 0; i < r.n; i++)
        modes_left |= r.f[i].fix_path[0] != '\0' && !r.f[i].fixed;
    if (modes_left) {
        fprintf(stderr, "security audit: the database checks (admin password, audit chain) "
                        "wait until the file modes are fixed (--fix)\n");
    } else if (gh_app_open(&app, GH_APP_ADMIN) == 0) {
        check_admin(&r, &app);
        check_audit(&r, &app);
    } else {
        struct finding *f = add(&r, "V16.4.2", "high", "database not checked");
        (void)snprintf(f->detail, sizeof(f->detail),
                       "the database or the audit key would not open");
    }
    gh_app_close(&app);
    if (json ? print_json(&r) != 0 : (print_text(&r), 0))
        return 1;
    return left(&r) > 0 ? 1 : 0;
}

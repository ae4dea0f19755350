/*
 * gatehouse migrate --from sqlite:PATH --to postgres:DSN: copies a single-node install's
 * database into PostgreSQL (gh_store_copy), with progress on stderr, then checks that the
 * audit chain's end is the same on both sides. The DSN is never printed; "postgres:" alone
 * takes storage.dsn from the configuration, keeping a password off the command line.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: gatehouse migrate --from sqlite:PATH --to postgres:DSN\n"
    "Also takes --config FILE and --data-dir DIR.\n"
    "\n"
    "Copies every record of the SQLite database PATH (users, orgs, roles, memberships,\n"
    "invitations, refresh tokens, API keys, sessions, second factors, data keys, the audit\n"
    "chain with its checkpoints) into the PostgreSQL database DSN, which must hold no user\n"
    "and no audit record yet (start no node on it before). PATH is read in one snapshot,\n"
    "so the server using it may go on running; the copy is one transaction: if it fails,\n"
    "nothing is left behind. \"postgres:\" without a DSN takes storage.dsn from the\n"
    "configuration (GATEHOUSE_STORAGE_DSN), which keeps a password out of the process list.\n"
    "The key files (storage.data_dir/keys) are not in the database: copy them to the nodes.\n";

struct migrate_args {
    struct gh_cli_common common;
    const char *from, *to;
};

static void progress(void *arg, const char *table, int64_t done, int64_t total)
{
    (void)arg;
    fprintf(stderr, "migrate: %-18s %" PRId64 "/%" PRId64 "\n", table, done, total);
}

/* The part of spec after "scheme:", or NULL when spec does not start so. */
static const char *after(const char *spec, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncmp(spec, scheme, n) == 0 && spec[n] == ':' ? spec + n + 1 : NULL;
}

/* Copies, then compares the chains' ends. */
static int copy(const struct gh_store_handle *from, const struct gh_store_handle *to)
{
    struct gh_audit_head a, b;
    gh_err err = gh_store_copy(from, to, progress, NULL);
    if (err == GH_ERR_CONFLICT) {
        fprintf(stderr, "gatehouse: the PostgreSQL database already holds users or audit "
                        "records: migrate into an empty one\n");
        return 1;
    }
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: the copy failed (nothing was kept): %s\n", gh_err_name(err));
        return 1;
    }
    if (gh_store_audit_head(from, &a) != GH_OK || gh_store_audit_head(to, &b) != GH_OK ||
        a.seq < b.seq || (a.seq == b.seq && sodium_memcmp(a.hash, b.hash, sizeof(a.hash)) != 0)) {
        fprintf(stderr, "gatehouse: the audit chains' ends differ after the copy\n");
        return 1;
    }
    if (a.seq > b.seq) /* the server went on writing after the snapshot */
        fprintf(stderr,
                "gatehouse: %" PRId64 " audit records (and what they record) were written to "
                "the SQLite database during the copy and are not in PostgreSQL: stop the "
                "server before the final migration\n",
                a.seq - b.seq);
    printf("migrated: audit chain up to record %" PRId64 "\n", b.seq);
    return 0;
}

int gh_cmd_migrate(int argc, char **argv)
{
    static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
                                         {"to", required_argument, NULL, 't'},
                                         GH_CLI_COMMON_OPTIONS};
    struct migrate_args a;
    memset(&a, 0, sizeof(a));
    int c, status = gh_cli_help(argc, argv, usage);
    if (status >= 0)
        return status;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:t:" GH_CLI_COMMON_SHORT, opts, NULL)) != -1) {
        if (c == 'f')
            a.from = optarg;
        else if (c == 't')
            a.to = optarg;
        else if ((status = gh_cli_option(c, usage, &a.common)) >= 0)
            return status;
    }
    const char *path = a.from != NULL ? after(a.from, "sqlite") : NULL;
    const char *dsn = a.to != NULL ? after(a.to, "postgres") : NULL;
    if (optind != argc || path == NULL || path[0] == '\0' || dsn == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    static struct gh_app app;
    if (gh_cli_config(&app, &a.common) != 0)
        return 1;
    if (dsn[0] == '\0')
        dsn = app.cfg.storage_dsn;
    if (dsn[0] == '\0') {
        fprintf(stderr, "gatehouse: --to postgres: without a DSN needs storage.dsn\n");
        return 2;
    }
    struct gh_store_handle from = {0}, to = {0};
    gh_err err = gh_store_open("sqlite", path, app.cfg.busy_timeout_ms, &from);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: cannot open the SQLite database %s: %s\n", path,
                gh_err_name(err));
        return 1;
    }
    if ((err = gh_store_open("postgres", dsn, app.cfg.busy_timeout_ms, &to)) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot open the PostgreSQL database (DSN not shown): %s\n",
                gh_err_name(err));
        gh_store_close(&from);
        return 1;
    }
    status = copy(&from, &to);
    gh_store_close(&to);
    gh_store_close(&from);
    return status;
}

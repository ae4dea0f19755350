/* gatehouse key rotate | rewrap: the data keys (crypto/datakeys.h, docs/CRYPTO.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "core/time.h"
#include "crypto/shamir.h"
#include "crypto/share.h"
#include "crypto/vault.h"

static const char usage[] =
    "usage: gatehouse key rotate\n"
    "       gatehouse key rewrap [--batch N]\n"
    "       gatehouse key split --shares N --threshold M\n"
    "       gatehouse key unseal [--listen HOST:PORT] < shares\n"
    "Every form also takes --config FILE and --data-dir DIR.\n"
    "\n"
    "rotate adds a data key and makes it the current one: new values are sealed under it\n"
    "(running servers follow within 5 seconds); older keys still open their values.\n"
    "rewrap moves every stored value (the vault's versions) to the current key, N values\n"
    "per batch (default 500), while the server runs; progress goes to stderr. A rewrap that\n"
    "was interrupted (even by kill -9) is finished by running it again.\n"
    "split prints N shares of the master key, any M of which (2 <= M <= N <= 255) make it\n"
    "again; each is printed once, with a check that names a mistyped share. Then set\n"
    "crypto.sealed: true and remove the master key file: the server starts sealed.\n"
    "unseal reads shares from stdin, one per line, and gives them to the running server\n"
    "(server.listen, or --listen) until it is unsealed.\n";

static const struct gh_reqmeta cli_meta = {NULL, NULL, "gatehouse-cli", NULL, NULL};

/* Records an operator's key action (metadata: a JSON object of numbers only). */
static void record(struct gh_app *app, const char *action, const char *metadata)
{
    if (gh_audit_record(&app->store, action, &cli_meta, NULL, 0, metadata) != GH_OK)
        fprintf(stderr, "gatehouse: %s was done but not audited\n", action);
}

struct key_args {
    struct gh_cli_common common;
    const char *batch, *shares, *threshold;
};

static int cmd_rotate(struct gh_app *app)
{
    uint32_t id = 0;
    gh_err err = gh_datakeys_rotate(app->datakeys, gh_time_now(), &id);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: cannot add a data key: %s\n", gh_err_name(err));
        return 1;
    }
    char md[64];
    (void)snprintf(md, sizeof(md), "{\"key_id\":%u}", id);
    record(app, "DATA_KEY_ROTATED", md);
    printf("data key %u is now the current key (%zu keys); run gatehouse key rewrap to move "
           "stored values to it\n",
           id, gh_datakeys_count(app->datakeys));
    return 0;
}

static int cmd_rewrap(struct gh_app *app, size_t batch)
{
    uint32_t kid = gh_datakeys_current(app->datakeys);
    size_t moved = 0, skipped = 0;
    int64_t total = -1;
    for (;;) {
        struct gh_vault_rewrap r;
        gh_err err = gh_vault_rewrap(app->datakeys, &app->store, batch, &r);
        if (err != GH_OK) {
            fprintf(stderr, "gatehouse: rewrap stopped after %zu values: %s%s\n", moved,
                    gh_err_name(err),
                    err == GH_ERR_AUTH ? " (a stored value does not open: tampered with?)" : "");
            return 1;
        }
        if (total < 0)
            total = r.before;
        moved += r.done;
        skipped += r.skipped;
        if (r.before == 0 || r.done + r.skipped == 0)
            break;
        fprintf(stderr, "rewrap: %zu of %lld values moved to data key %u\n", moved,
                (long long)total, kid);
    }
    char md[96];
    (void)snprintf(md, sizeof(md), "{\"key_id\":%u,\"moved\":%zu,\"skipped\":%zu}", kid, moved,
                   skipped);
    record(app, "DATA_KEYS_REWRAPPED", md);
    printf("rewrap: done, %zu values moved to data key %u", moved, kid);
    if (skipped > 0)
        printf(" (%zu changed meanwhile and left to their writer)", skipped);
    printf("\n");
    return 0;
}

static int cmd_split(struct gh_app *app, size_t n, size_t m)
{
    uint8_t master[GH_MASTER_KEY_LEN], *ys = NULL;
    const char *from = NULL;
    struct gh_share s;
    char line[GH_SHARE_TEXT_MAX + 1];
    int status = 1;
    struct gh_datakeys *dk = NULL;
    if (gh_app_master_key(app, master, &from) != 0)
        return 1;
    /* Only a master key that opens the stored data keys is worth splitting. */
    gh_err err = gh_datakeys_open(&app->store, master, gh_time_now(), &dk);
    gh_datakeys_free(dk);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: the master key from %s does not open the data keys: %s\n", from,
                gh_err_name(err));
        sodium_memzero(master, sizeof(master));
        return 1;
    }
    ys = sodium_malloc(n * GH_MASTER_KEY_LEN);
    if (ys == NULL ||
        gh_shamir_split(master, sizeof(master), (unsigned)n, (unsigned)m, ys) != GH_OK)
        goto out;
    randombytes_buf(s.split, sizeof(s.split));
    s.threshold = (unsigned)m;
    fprintf(stderr,
            "The master key of %s in %zu shares, any %zu of which unseal it. Each is shown\n"
            "this once: give each to its keeper now.\n",
            from, n, m);
    for (size_t i = 0; i < n; i++) {
        s.x = (unsigned)(i + 1);
        memcpy(s.y, ys + i * GH_MASTER_KEY_LEN, sizeof(s.y));
        gh_share_format(&s, line);
        printf("%s\n", line);
    }
    status = fflush(stdout) == 0 ? 0 : 1;
    char md[64];
    (void)snprintf(md, sizeof(md), "{\"shares\":%zu,\"threshold\":%zu}", n, m);
    record(app, "MASTER_KEY_SPLIT", md);
out:
    sodium_memzero(master, sizeof(master));
    sodium_memzero(&s, sizeof(s));
    sodium_memzero(line, sizeof(line));
    sodium_free(ys);
    if (status != 0)
        fprintf(stderr, "gatehouse: cannot split the master key\n");
    return status;
}

int gh_cmd_key(int argc, char **argv)
{
    static const struct option opts[] = {{"batch", required_argument, NULL, 'b'},
                                         {"shares", required_argument, NULL, 'n'},
                                         {"threshold", required_argument, NULL, 'm'},
                                         {"listen", required_argument, NULL, 'l'},
                                         GH_CLI_COMMON_OPTIONS};
    struct key_args a;
    memset(&a, 0, sizeof(a));
    int status = gh_cli_help(argc, argv, usage);
    if (status >= 0)
        return status;
    const char *verb = argv[1];
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "b:n:m:l:" GH_CLI_COMMON_SHORT, opts, NULL)) != -1) {
        if (c == 'b')
            a.batch = optarg;
        else if (c == 'n')
            a.shares = optarg;
        else if (c == 'm')
            a.threshold = optarg;
        else if (c == 'l')
            a.common.listen = optarg;
        else if ((status = gh_cli_option(c, usage, &a.common)) >= 0)
            return status;
    }
    int rotate = strcmp(verb, "rotate") == 0, rewrap = strcmp(verb, "rewrap") == 0;
    int split = strcmp(verb, "split") == 0, unseal = strcmp(verb, "unseal") == 0;
    size_t batch = 0, n = 0, m = 0;
    if (optind != argc || !(rotate || rewrap || split || unseal) || (a.batch != NULL && !rewrap) ||
        ((a.shares || a.threshold) && !split) || (a.common.listen != NULL && !unseal)) {
        fputs(usage, stderr);
        return 2;
    }
    if (gh_cli_count(a.batch, 500, &batch) != 0 || batch == 0) {
        fprintf(stderr, "gatehouse: --batch: expected 1 to 1000000\n");
        return 2;
    }
    if (split && (a.shares == NULL || a.threshold == NULL || gh_cli_count(a.shares, 0, &n) != 0 ||
                  gh_cli_count(a.threshold, 0, &m) != 0 || m < 2 || m > n || n > 255)) {
        fprintf(stderr, "gatehouse: expected --shares N --threshold M with 2 <= M <= N <= 255\n");
        return 2;
    }
    static struct gh_app app;
    if (gh_cli_open(&app, &a.common) != 0)
        return 1;
    if (unseal)
        status = gh_cli_unseal(&app);
    else if (split)
        status = cmd_split(&app, n, m);
    else if (gh_app_open_datakeys(&app) != 0)
        status = 1;
    else
        status = rotate ? cmd_rotate(&app) : cmd_rewrap(&app, batch);
    gh_app_close(&app);
    return status;
}

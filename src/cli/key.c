/* gatehouse key rotate | rewrap: the data keys (crypto/datakeys.h, docs/CRYPTO.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/time.h"
#include "crypto/vault.h"

static const char usage[] =
    "usage: gatehouse key rotate\n"
    "       gatehouse key rewrap [--batch N]\n"
    "Every form also takes --config FILE and --data-dir DIR.\n"
    "\n"
    "rotate adds a data key and makes it the current one: new values are sealed under it\n"
    "(running servers follow within 5 seconds); older keys still open their values.\n"
    "rewrap moves every stored value (the vault's versions) to the current key, N values\n"
    "per batch (default 500), while the server runs; progress goes to stderr. A rewrap that\n"
    "was interrupted (even by kill -9) is finished by running it again.\n";

struct key_args {
    struct gh_cli_common common;
    const char *batch;
};

static int cmd_rotate(struct gh_app *app)
{
    uint32_t id = 0;
    gh_err err = gh_datakeys_rotate(app->datakeys, gh_time_now(), &id);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: cannot add a data key: %s\n", gh_err_name(err));
        return 1;
    }
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
    printf("rewrap: done, %zu values moved to data key %u", moved, kid);
    if (skipped > 0)
        printf(" (%zu changed meanwhile and left to their writer)", skipped);
    printf("\n");
    return 0;
}

int gh_cmd_key(int argc, char **argv)
{
    static const struct option opts[] = {{"batch", required_argument, NULL, 'b'},
                                         GH_CLI_COMMON_OPTIONS};
    struct key_args a;
    memset(&a, 0, sizeof(a));
    int status = gh_cli_help(argc, argv, usage);
    if (status >= 0)
        return status;
    const char *verb = argv[1];
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "b:" GH_CLI_COMMON_SHORT, opts, NULL)) != -1) {
        if (c == 'b')
            a.batch = optarg;
        else if ((status = gh_cli_option(c, usage, &a.common)) >= 0)
            return status;
    }
    int rotate = strcmp(verb, "rotate") == 0, rewrap = strcmp(verb, "rewrap") == 0;
    size_t batch = 0;
    if (optind != argc || (!rotate && !rewrap) || (rotate && a.batch != NULL)) {
        fputs(usage, stderr);
        return 2;
    }
    if (gh_cli_count(a.batch, 500, &batch) != 0 || batch == 0) {
        fprintf(stderr, "gatehouse: --batch: expected 1 to 1000000\n");
        return 2;
    }
    static struct gh_app app;
    if (gh_cli_open(&app, &a.common) != 0)
        return 1;
    status = 1;
    if (gh_app_open_datakeys(&app) == 0)
        status = rotate ? cmd_rotate(&app) : cmd_rewrap(&app, batch);
    gh_app_close(&app);
    return status;
}

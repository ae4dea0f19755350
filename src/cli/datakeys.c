/*
 * The master key and the data keys of a command (docs/CRYPTO.md): GATEHOUSE_MASTER_KEY
 * (wiped from the environment once read) or crypto.master_key_file (created on the first
 * start only, while no data key is stored), or, with crypto.sealed, none until the
 * server is unsealed with Shamir shares (api/unseal.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "cli/cli.h"
#include "core/fs.h"
#include "core/time.h"

static int count_key(void *arg, const struct gh_data_key *k)
{
    (void)k;
    (*(size_t *)arg)++;
    return 0;
}

/* Says why the master key from `from` could not be had or used. */
static void explain(gh_err err, const char *from, int hex)
{
    switch (err) {
    case GH_ERR_FILE_MODE:
        fprintf(stderr,
                "gatehouse: refusing %s: a secret must not be readable by group or others "
                "(fix the permissions: chmod 600)\n",
                from);
        break;
    case GH_ERR_INVALID:
        fprintf(stderr, "gatehouse: %s: expected %s\n", from,
                hex ? "64 hexadecimal digits" : "a file of 32 bytes");
        break;
    case GH_ERR_NOT_FOUND:
        fprintf(stderr,
                "gatehouse: %s is missing but data keys are stored: restore the file or set "
                "GATEHOUSE_MASTER_KEY (a new key would open nothing)\n",
                from);
        break;
    case GH_ERR_AUTH:
        fprintf(stderr,
                "gatehouse: the master key from %s does not open the stored data keys "
                "(another master key?)\n",
                from);
        break;
    default:
        fprintf(stderr, "gatehouse: cannot open the data keys with %s: %s\n", from,
                gh_err_name(err));
        break;
    }
}

/* The master key from GATEHOUSE_MASTER_KEY or the file (created when create is set). */
static int load_master(struct gh_app *app, int create, uint8_t master[GH_MASTER_KEY_LEN],
                       const char **from)
{
    const struct gh_config *cfg = &app->cfg;
    char *hex = getenv("GATEHOUSE_MASTER_KEY");
    *from = hex != NULL ? "GATEHOUSE_MASTER_KEY" : cfg->master_key_file;
    if (hex == NULL && cfg->crypto_sealed) {
        fprintf(stderr, "gatehouse: crypto.sealed: the master key is not kept on this machine; "
                        "this command needs GATEHOUSE_MASTER_KEY\n");
        return 1;
    }
    gh_err err = GH_OK;
    if (hex == NULL && gh_mkdir_parent(cfg->master_key_file, 0700) != GH_OK)
        err = GH_ERR_IO;
    if (err == GH_OK)
        err = gh_master_load(hex, cfg->master_key_file, create, master);
    if (hex != NULL) {
        /* Out of this process's environment (and /proc/self/environ) once read. */
        sodium_memzero(hex, strlen(hex));
        unsetenv("GATEHOUSE_MASTER_KEY");
    }
    if (err != GH_OK) {
        explain(err, *from, hex != NULL);
        return 1;
    }
    return 0;
}

int gh_app_hold_master(struct gh_app *app, int create)
{
    if (load_master(app, create, app->master, &app->master_from) != 0)
        return 1;
    app->master_held = 1;
    return 0;
}

void gh_app_drop_master(struct gh_app *app)
{
    sodium_memzero(app->master, sizeof(app->master));
    app->master_held = 0;
}

int gh_app_master_key(struct gh_app *app, uint8_t master[GH_MASTER_KEY_LEN], const char **from)
{
    if (app->master_held) { /* storage.encrypt: read before the store opened */
        memcpy(master, app->master, GH_MASTER_KEY_LEN);
        *from = app->master_from;
        return 0;
    }
    size_t stored = 0;
    gh_err err = gh_store_datakey_list(&app->store, count_key, &stored);
    if (err != GH_OK) {
        explain(err, app->cfg.master_key_file, 0);
        return 1;
    }
    return load_master(app, stored == 0, master, from);
}

int gh_app_open_datakeys(struct gh_app *app)
{
    uint8_t master[GH_MASTER_KEY_LEN];
    struct gh_datakeys *dk = NULL;
    const char *from = NULL;
    if (gh_app_master_key(app, master, &from) != 0)
        return 1;
    gh_err err = gh_datakeys_open(&app->store, master, gh_time_now(), &dk);
    sodium_memzero(master, sizeof(master));
    if (err != GH_OK) {
        explain(err, from, 0);
        return 1;
    }
    app->datakeys = dk;
    return 0;
}

int gh_app_open_serving_keys(struct gh_app *app)
{
    if (!app->cfg.crypto_sealed)
        return gh_app_open_datakeys(app);
    /* Sealed: data routes answer 503 until enough shares arrive (api/unseal.c). */
    if (gh_unseal_new(&app->unseal) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot start sealed\n");
        return 1;
    }
    return 0;
}

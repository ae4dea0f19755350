#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/keys.h"
#include "core/fs.h"

static const char usage[] =
    "usage: gatehouse keygen [--alg RS256|ES256|EdDSA] [--bits N] [--out FILE]\n"
    "                        [--config FILE] [--data-dir DIR]\n"
    "       gatehouse keygen --rotate [--alg RS256|ES256|EdDSA] [--bits N]\n"
    "                        [--config FILE] [--data-dir DIR]\n"
    "\n"
    "Writes a new private signing key (PKCS#8 PEM, mode 0600) to FILE, by default the\n"
    "configured auth.signing_key, and prints its kid. Never overwrites a file.\n"
    "\n"
    "--rotate adds a new key to the key set in auth.keys_dir (<data_dir>/keys) and makes it\n"
    "the active (signing) key; the previous one becomes retiring: it still verifies and\n"
    "stays in the JWKS until the last token it signed has expired (auth.access_ttl +\n"
    "auth.clock_leeway from now, plus a few seconds), then it is retired and its private\n"
    "file deleted. A running server picks the change up within a second. Run it with the\n"
    "server's configuration (same --config / environment), so the timing matches.\n"
    "Prints the new active kid and the retiring kid.\n";

/* --rotate: the key set is opened (imported or created if needed), then rotated; the
 * KEY_ROTATION record is written first (no rotation the audit trail does not show). */
static int rotate(struct gh_app *app, enum gh_alg alg, unsigned bits)
{
    const struct gh_config *cfg = &app->cfg;
    struct gh_keyset_opts o;
    struct gh_keyset *set = calloc(1, sizeof(*set));
    struct gh_sigkey *key = NULL;
    char msg[1024], when[64];
    int status = 1;
    gh_err err;
    gh_keys_opts(cfg, &o);
    if (set == NULL)
        goto out;
    if (gh_mkdir_p(cfg->keys_dir, 0700) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot create the key directory %s\n", cfg->keys_dir);
        goto out;
    }
    if ((err = gh_keyset_open(&o, (int64_t)time(NULL), set, msg, sizeof(msg))) != GH_OK) {
        fprintf(stderr, "gatehouse: signing keys: %s\n", msg);
        goto out;
    }
    char was[GH_KID_MAX];
    memcpy(was, gh_keyset_active(set)->kid, sizeof(was));
    /* Generation takes seconds for RSA: outside the key set's lock. */
    if ((err = gh_sigkey_generate(alg, bits, &key)) != GH_OK) {
        fprintf(stderr, "gatehouse: keygen failed: %s\n", gh_err_name(err));
        goto out;
    }
    char md[2 * GH_KID_MAX + 64];
    (void)snprintf(md, sizeof(md), "{\"by\":\"cli\",\"kid\":\"%s\",\"retiring\":\"%s\"}",
                   gh_sigkey_kid(key), was);
    if ((err = gh_audit_record(&app->store, "KEY_ROTATION", NULL, NULL, 0, md)) != GH_OK) {
        fprintf(stderr, "gatehouse: the audit record cannot be written; not rotating\n");
        goto out;
    }
    if ((err = gh_keyset_rotate(&o, key, NULL, (int64_t)time(NULL), set, msg, sizeof(msg))) !=
        GH_OK) {
        fprintf(stderr, "gatehouse: rotation failed: %s\n", msg);
        goto out;
    }
    const struct gh_keyset_key *active = gh_keyset_active(set), *old = NULL;
    for (size_t i = 0; i < set->n; i++)
        if (set->keys[i].state == GH_KEY_RETIRING && strcmp(set->keys[i].kid, was) == 0)
            old = &set->keys[i];
    printf("active %s %s (%s/%s)\n", active->kid, gh_alg_name(active->alg), cfg->keys_dir,
           active->file);
    if (old != NULL) {
        time_t t = (time_t)old->retire_at;
        struct tm tm;
        if (gmtime_r(&t, &tm) == NULL ||
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            when[0] = '\0';
        printf("retiring %s %s until %s (%lld)\n", old->kid, gh_alg_name(old->alg), when,
               (long long)old->retire_at);
    }
    status = 0;
out:
    gh_sigkey_free(key);
    free(set);
    return status;
}

int gh_cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"alg", required_argument, NULL, 'a'},
                                         {"bits", required_argument, NULL, 'b'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"rotate", no_argument, NULL, 'r'},
                                         GH_CLI_COMMON_OPTIONS};
    struct gh_cli_common common = {NULL, NULL, NULL};
    const char *alg_name = NULL, *bits_text = NULL, *out = NULL;
    int c, rotating = 0, status;
    optind = 1;
    while ((c = getopt_long(argc, argv, "a:b:o:r" GH_CLI_COMMON_SHORT, opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            rotating = 1;
            break;
        case 'a':
            alg_name = optarg;
            break;
        case 'b':
            bits_text = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        default:
            if ((status = gh_cli_option(c, usage, &common)) >= 0)
                return status;
        }
    }
    if (optind != argc || (rotating && out != NULL)) {
        fputs(usage, stderr);
        return 2;
    }
    static struct gh_app app; /* the store, for --rotate's audit record */
    const struct gh_config *cfg = &app.cfg;
    if (gh_cli_config(&app, &common) != 0)
        return 1;
    enum gh_alg alg = gh_cli_alg(cfg);
    if (alg_name != NULL && gh_alg_parse(alg_name, &alg) != GH_OK) {
        fprintf(stderr, "gatehouse: --alg: expected RS256, ES256 or EdDSA\n");
        return 2;
    }
    unsigned bits = cfg->rsa_bits;
    if (bits_text != NULL) {
        char *end = NULL;
        unsigned long v = strtoul(bits_text, &end, 10);
        if (end == bits_text || *end != '\0' || v < 2048 || v > 8192 || v % 1024 != 0) {
            fprintf(stderr, "gatehouse: --bits: expected 2048..8192, a multiple of 1024\n");
            return 2;
        }
        bits = (unsigned)v;
    }
    if (rotating) {
        status = 1;
        if (gh_app_open(&app, GH_APP_ADMIN) == 0)
            status = rotate(&app, alg, bits);
        gh_app_close(&app);
        return status;
    }
    if (out == NULL)
        out = cfg->signing_key;

    if (gh_mkdir_parent(out, 0700) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot create the directory of %s\n", out);
        return 1;
    }
    struct gh_sigkey *key = NULL;
    gh_err err = gh_sigkey_generate(alg, bits, &key);
    if (err == GH_OK)
        err = gh_sigkey_save(key, out);
    if (err == GH_ERR_CONFLICT)
        fprintf(stderr, "gatehouse: %s exists; refusing to overwrite a key\n", out);
    else if (err != GH_OK)
        fprintf(stderr, "gatehouse: keygen failed: %s\n", gh_err_name(err));
    else
        printf("%s key written to %s (mode 0600), kid %s\n", gh_alg_name(alg), out,
               gh_sigkey_kid(key));
    gh_sigkey_free(key);
    return err == GH_OK ? 0 : 1;
}

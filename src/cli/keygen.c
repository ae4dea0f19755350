#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: gatehouse keygen [--alg RS256|ES256|EdDSA] [--bits N] [--out FILE]\n"
    "                        [--config FILE] [--data-dir DIR]\n"
    "\n"
    "Writes a new private signing key (PKCS#8 PEM, mode 0600) to FILE, by default the\n"
    "configured auth.signing_key, and prints its kid. Never overwrites a file.\n";

int gh_cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"alg", required_argument, NULL, 'a'},
                                         {"bits", required_argument, NULL, 'b'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct gh_cli_common common = {NULL, NULL, NULL};
    const char *alg_name = NULL, *bits_text = NULL, *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "a:b:o:c:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': alg_name = optarg; break;
        case 'b': bits_text = optarg; break;
        case 'o': out = optarg; break;
        case 'c': common.config = optarg; break;
        case 'd': common.data_dir = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    struct gh_config cfg;
    if (gh_cli_config(&cfg, &common) != 0)
        return 1;
    enum gh_alg alg = cfg.algorithm;
    if (alg_name != NULL && gh_alg_parse(alg_name, &alg) != GH_OK) {
        fprintf(stderr, "gatehouse: --alg: expected RS256, ES256 or EdDSA\n");
        return 2;
    }
    unsigned bits = cfg.rsa_bits;
    if (bits_text != NULL) {
        char *end = NULL;
        unsigned long v = strtoul(bits_text, &end, 10);
        if (end == bits_text || *end != '\0' || v < 2048 || v > 8192 || v % 1024 != 0) {
            fprintf(stderr, "gatehouse: --bits: expected 2048..8192, a multiple of 1024\n");
            return 2;
        }
        bits = (unsigned)v;
    }
    if (out == NULL)
        out = cfg.signing_key;

    char dir[PATH_MAX];
    const char *slash = strrchr(out, '/');
    if (slash != NULL && (size_t)(slash - out) < sizeof(dir) && slash != out) {
        memcpy(dir, out, (size_t)(slash - out));
        dir[slash - out] = '\0';
        if (gh_mkdir_p(dir, 0700) != GH_OK) {
            fprintf(stderr, "gatehouse: cannot create %s\n", dir);
            return 1;
        }
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

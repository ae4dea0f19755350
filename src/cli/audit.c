#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "api/audit.h"
#include "api/json.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "core/secure_json.h"

static const char usage[] =
    "usage: gatehouse audit verify [--public-key HEX]\n"
    "       gatehouse audit export [--since RFC3339] [--until RFC3339]\n"
    "Every form also takes --config FILE and --data-dir DIR.\n"
    "\n"
    "verify checks every record's hash and link and every checkpoint's signature, and\n"
    "names the first altered, deleted or inserted record (exit status 1). The public key\n"
    "defaults to that of the checkpoint key file; --public-key pins one kept elsewhere.\n"
    "export writes the records, oldest first, as JSON Lines (with their hashes) to stdout.\n";

struct audit_args {
    struct gh_cli_common common;
    const char *public_key, *since, *until;
};

static int cmd_verify(struct gh_app *app, const struct audit_args *a)
{
    unsigned char pk[GH_AUDIT_PK_LEN];
    char key_id[GH_AUDIT_KEY_ID_LEN + 1];
    size_t n = 0;
    if (a->public_key != NULL) {
        if (sodium_hex2bin(pk, sizeof(pk), a->public_key, strlen(a->public_key), NULL, &n, NULL) !=
                0 ||
            n != sizeof(pk) || strlen(a->public_key) != 2 * sizeof(pk)) {
            fprintf(stderr, "gatehouse: --public-key: expected 64 hex digits\n");
            return 2;
        }
        gh_audit_key_id(pk, key_id);
    } else if (gh_audit_public_key(pk, key_id) != GH_OK) {
        fprintf(stderr, "gatehouse: no checkpoint key\n");
        return 1;
    }
    struct gh_audit_verdict v;
    gh_err err = gh_audit_verify(&app->store, pk, &v);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: cannot read the audit trail: %s\n", gh_err_name(err));
        return 1;
    }
    char pk_hex[2 * GH_AUDIT_PK_LEN + 1];
    sodium_bin2hex(pk_hex, sizeof(pk_hex), pk, sizeof(pk));
    printf("public key %s (key id %s)\n", pk_hex, key_id);
    if (!v.valid) {
        printf("BROKEN: record %lld: %s (%lld records verified before it)\n",
               (long long)v.first_bad, v.reason, (long long)v.records);
        return 1;
    }
    printf("valid: %lld records, %lld signed checkpoints", (long long)v.records,
           (long long)v.checkpoints);
    if (v.checkpoint_seq != 0)
        printf(", newest at record %lld", (long long)v.checkpoint_seq);
    if (v.legacy > 0)
        printf(", %lld records from before the chain not covered", (long long)v.legacy);
    printf("\n");
    return 0;
}

struct export
{
    int64_t since, until;
    int has_since, has_until, failed;
};

static int export_row(void *arg, const struct gh_audit_row *row)
{
    struct export *e = arg;
    if ((e->has_since && row->ev.ts < e->since) || (e->has_until && row->ev.ts > e->until))
        return 0;
    json_t *item = gh_api_audit_item(row, 1);
    char *line = item != NULL ? json_dumps(item, JSON_COMPACT) : NULL;
    json_decref(item);
    if (line == NULL || printf("%s\n", line) < 0) {
        e->failed = 1;
        gh_secure_json_free(line);
        return 1;
    }
    gh_secure_json_free(line);
    return 0;
}

static int cmd_export(struct gh_app *app, const struct audit_args *a)
{
    struct export e = {0, 0, a->since != NULL, a->until != NULL, 0};
    if ((a->since != NULL && gh_json_parse_time(a->since, &e.since) != GH_OK) ||
        (a->until != NULL && gh_json_parse_time(a->until, &e.until) != GH_OK)) {
        fprintf(stderr, "gatehouse: --since/--until: expected an RFC 3339 date-time\n");
        return 2;
    }
    gh_err err = gh_store_audit_scan(&app->store, 0, export_row, &e);
    if (fflush(stdout) != 0)
        e.failed = 1;
    if (err != GH_OK || e.failed) {
        fprintf(stderr, "gatehouse: export failed: %s\n",
                err != GH_OK ? gh_err_name(err) : "cannot write");
        return 1;
    }
    return 0;
}

int gh_cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = {{"public-key", required_argument, NULL, 'k'},
                                         {"since", required_argument, NULL, 's'},
                                         {"until", required_argument, NULL, 'u'},
                                         GH_CLI_COMMON_OPTIONS};
    struct audit_args a;
    memset(&a, 0, sizeof(a));
    int status = gh_cli_help(argc, argv, usage);
    if (status >= 0)
        return status;
    const char *verb = argv[1];
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "k:s:u:" GH_CLI_COMMON_SHORT, opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            a.public_key = optarg;
            break;
        case 's':
            a.since = optarg;
            break;
        case 'u':
            a.until = optarg;
            break;
        default:
            if ((status = gh_cli_option(c, usage, &a.common)) >= 0)
                return status;
        }
    }
    int verify = strcmp(verb, "verify") == 0, export = strcmp(verb, "export") == 0;
    if (optind != argc || (!verify && !export) || (verify && (a.since || a.until)) ||
        (export && a.public_key)) {
        fputs(usage, stderr);
        return 2;
    }
    static struct gh_app app;
    if (gh_cli_open(&app, &a.common) != 0)
        return 1;
    status = verify ? cmd_verify(&app, &a) : cmd_export(&app, &a);
    gh_app_close(&app);
    return status;
}

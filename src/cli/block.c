/* gatehouse block ...: the operator blocks client addresses (edge/blocks.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/blocks.h"
#include "api/json.h"
#include "cli/cli.h"
#include "core/time.h"
#include "core/uuid.h"

static const char usage[] =
    "usage: gatehouse block add CIDR --reason TEXT [--for DURATION | --until TIME]\n"
    "       gatehouse block list\n"
    "       gatehouse block remove ID\n"
    "Every form also takes --config FILE and --data-dir DIR.\n"
    "\n"
    "CIDR is an address or a range, IPv4 or IPv6 (203.0.113.7, 10.0.0.0/8, 2001:db8::/32);\n"
    "0.0.0.0/0 and ::/0 are refused. DURATION is a count and a unit s, m, h or d (90m);\n"
    "TIME is RFC 3339 (2030-01-01T00:00:00Z); without either the block never expires.\n"
    "Running servers apply a change within a fraction of a second; each is audited\n"
    "(IP_BLOCKED, IP_UNBLOCKED, by \"cli\").\n";

struct args {
    struct gh_cli_common common;
    const char *reason, *for_, *until, *arg;
};

static const struct gh_reqmeta cli_meta = {NULL, NULL, "gatehouse-cli", NULL, NULL};
static const struct gh_audit_subject cli_subject = {NULL, "cli", NULL};

static int parse(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {{"reason", required_argument, NULL, 'r'},
                                         {"for", required_argument, NULL, 'f'},
                                         {"until", required_argument, NULL, 'u'},
                                         GH_CLI_COMMON_OPTIONS};
    int c, status;
    optind = 2;
    while ((c = getopt_long(argc, argv, "r:f:u:" GH_CLI_COMMON_SHORT, opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            a->reason = optarg;
            break;
        case 'f':
            a->for_ = optarg;
            break;
        case 'u':
            a->until = optarg;
            break;
        default:
            if ((status = gh_cli_option(c, usage, &a->common)) >= 0)
                return status;
        }
    }
    if (optind < argc)
        a->arg = argv[optind++];
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    return -1;
}

/* "90s", "15m", "2h", "30d": seconds, from 1s to 3650d; -1 otherwise. */
static int64_t duration(const char *s)
{
    static const struct {
        char unit;
        int64_t seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    size_t n = strlen(s);
    int64_t v = 0;
    if (n < 2 || n > 9 || s[0] == '0')
        return -1;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (s[n - 1] == units[i].unit && v * units[i].seconds <= 3650 * 86400)
            return v * units[i].seconds;
    return -1;
}

static int block_add(struct gh_app *app, const struct args *a)
{
    int64_t now = gh_time_now(), expires_at = 0;
    if (a->arg == NULL || a->reason == NULL || (a->for_ != NULL && a->until != NULL)) {
        fputs(usage, stderr);
        return 2;
    }
    if (a->for_ != NULL) {
        int64_t d = duration(a->for_);
        if (d < 0) {
            fprintf(stderr, "gatehouse: --for: expected a DURATION such as 90m, 12h or 7d\n");
            return 2;
        }
        expires_at = now + d;
    }
    if (a->until != NULL &&
        (gh_json_parse_time(a->until, &expires_at) != GH_OK || expires_at <= now)) {
        fprintf(stderr, "gatehouse: --until: expected an RFC 3339 time in the future\n");
        return 2;
    }
    const struct gh_block_new in = {a->arg, a->reason, expires_at, "cli", 0};
    struct gh_address_block b;
    const char *why = NULL;
    gh_err err = gh_blocks_add(app->blocks, &in, now, &b, &why);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: %s\n",
                why != NULL               ? why
                : err == GH_ERR_CONFLICT  ? "this range is blocked already"
                : err == GH_ERR_TOO_LARGE ? "blocks.max blocks exist; remove some first"
                                          : gh_err_name(err));
        return 1;
    }
    gh_api_block_audit(&app->store, "IP_BLOCKED", &cli_meta, &cli_subject, 201, &b);
    printf("%s\t%s\n", b.id, b.cidr);
    return 0;
}

static int print_block(void *arg, const struct gh_address_block *b)
{
    char until[GH_TIME_TEXT] = "never";
    (void)arg;
    if (b->expires_at != 0 && gh_time_format(b->expires_at, until) != GH_OK)
        memcpy(until, "?", 2);
    printf("%s\t%s\t%s\t%s\t%s\n", b->id, b->cidr, until, b->created_by, b->reason);
    return 0;
}

static int block_list(struct gh_app *app)
{
    gh_err err = gh_blocks_list(app->blocks, gh_time_now(), SIZE_MAX, 0, print_block, NULL);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: %s\n", gh_err_name(err));
        return 1;
    }
    return 0;
}

static int block_remove(struct gh_app *app, const struct args *a)
{
    struct gh_address_block b;
    if (a->arg == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    gh_err err = gh_uuid_valid(a->arg, strlen(a->arg)) ? gh_blocks_remove(app->blocks, a->arg, &b)
                                                       : GH_ERR_NOT_FOUND;
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: %s\n",
                err == GH_ERR_NOT_FOUND ? "no such block" : gh_err_name(err));
        return 1;
    }
    gh_api_block_audit(&app->store, "IP_UNBLOCKED", &cli_meta, &cli_subject, 204, &b);
    return 0;
}

int gh_cmd_block(int argc, char **argv)
{
    static struct args a;
    memset(&a, 0, sizeof(a));
    int status = gh_cli_help(argc, argv, usage);
    if (status >= 0)
        return status;
    const char *verb = argv[1];
    if (strcmp(verb, "add") != 0 && strcmp(verb, "list") != 0 && strcmp(verb, "remove") != 0) {
        fputs(usage, stderr);
        return 2;
    }
    if ((status = parse(argc, argv, &a)) >= 0)
        return status;
    if (strcmp(verb, "list") == 0 && a.arg != NULL) {
        fputs(usage, stderr);
        return 2;
    }
    static struct gh_app app;
    if (gh_cli_open(&app, &a.common) != 0)
        return 1;
    if (strcmp(verb, "add") == 0)
        status = block_add(&app, &a);
    else if (strcmp(verb, "list") == 0)
        status = block_list(&app);
    else
        status = block_remove(&app, &a);
    gh_app_close(&app);
    return status;
}

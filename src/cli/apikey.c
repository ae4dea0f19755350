#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "api/json.h"
#include "authn/apikey.h"
#include "cli/cli.h"

static const char usage[] =
    "usage: gatehouse apikey create --user NAME --name KEYNAME [--scope PERM]...\n"
    "                               [--expires 30d|RFC3339] [--allow-ip CIDR]... [--org ORG_ID]\n"
    "       gatehouse apikey list --user NAME [--limit N] [--offset N]\n"
    "       gatehouse apikey revoke --user NAME (KEY_ID | --all)\n"
    "Every form also takes --config FILE and --data-dir DIR.\n"
    "\n"
    "create prints the key once; only its keyed hash is stored. Without --scope the key\n"
    "carries the user's permissions in the org as they are at each use. A revoked key\n"
    "stops working on running servers within a fraction of a second.\n";

struct apikey_args {
    struct gh_cli_common common;
    const char *user, *name, *expires, *org, *limit, *offset;
    struct gh_apikey_input in;
    int all;
};

/* "30d", "12h", "90m", "45s" from now, or an RFC 3339 date-time. */
static int parse_expiry(const char *text, int64_t *out)
{
    char *end = NULL;
    unsigned long long n = strtoull(text, &end, 10);
    if (end != text && text[0] >= '0' && text[0] <= '9' && end[0] != '\0' && end[1] == '\0') {
        static const char units[] = "smhd";
        static const long long secs[] = {1, 60, 3600, 86400};
        const char *u = strchr(units, end[0]);
        if (u != NULL && n > 0 && n <= 36500ULL * 86400) {
            *out = (int64_t)time(NULL) + (int64_t)n * secs[u - units];
            return 0;
        }
        return -1;
    }
    /* 0 would read as "never": a time at or before the epoch is simply in the past. */
    return gh_json_parse_time(text, out) == GH_OK && *out > 0 ? 0 : -1;
}

static int cmd_create(struct gh_app *app, struct apikey_args *a)
{
    if (a->name == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    if (a->expires != NULL && parse_expiry(a->expires, &a->in.expires_at) != 0) {
        fprintf(stderr, "gatehouse: --expires: expected 30d, 12h... or an RFC 3339 time\n");
        return 2;
    }
    struct gh_identity who;
    gh_err err = gh_apikey_operator(gh_auth_apikeys(app->auth), a->user, a->org, &who);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse: %s\n",
                err == GH_ERR_NOT_FOUND ? "no such user, or not a member of that org"
                                        : gh_err_name(err));
        return 1;
    }
    a->in.name = a->name;
    a->in.org_id = a->org;
    struct gh_api_key key;
    struct gh_refusal refusal = {NULL, 0};
    struct gh_reqmeta meta = {NULL, NULL, "gatehouse-cli", NULL, NULL};
    char text[GH_APIKEY_TEXT];
    err = gh_apikey_create(gh_auth_apikeys(app->auth), &who, &a->in, &meta, &key, text, &refusal);
    if (err == GH_OK) {
        printf("created API key %s (%s) for %s\nkey: %s (shown once)\n", key.id, key.prefix,
               who.username, text);
        sodium_memzero(text, sizeof(text));
        return 0;
    }
    if (err == GH_ERR_FORBIDDEN)
        fprintf(stderr, "gatehouse: a scope exceeds the user's permissions in the org\n");
    else if (err == GH_ERR_INVALID)
        fprintf(stderr, "gatehouse: unacceptable %s\n", refusal.field ? refusal.field : "value");
    else if (err == GH_ERR_CONFLICT)
        fprintf(stderr, "gatehouse: the user has a live key named \"%s\"\n", a->name);
    else
        fprintf(stderr, "gatehouse: failed: %s\n", gh_err_name(err));
    return 1;
}

static void print_time(int64_t t)
{
    char text[32] = "-";
    struct tm tm;
    time_t tt = (time_t)t;
    if (t != 0 && gmtime_r(&tt, &tm) != NULL)
        strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("\t%s", text);
}

static int print_key(void *arg, const struct gh_api_key *k)
{
    (void)arg;
    printf("%s\t%s\t%s\t%s", k->id, k->prefix, k->name, k->has_scopes ? k->scopes : "*");
    print_time(k->expires_at);
    print_time(k->last_used_at);
    printf("\t%s\n", k->revoked_at ? "revoked" : "live");
    return 0;
}

static int cmd_list(struct gh_app *app, const struct apikey_args *a)
{
    size_t limit, offset;
    if (gh_cli_count(a->limit, 100, &limit) || gh_cli_count(a->offset, 0, &offset))
        return 2;
    struct gh_identity who;
    gh_err err = gh_apikey_operator(gh_auth_apikeys(app->auth), a->user, NULL, &who);
    if (err == GH_OK) {
        printf("id\tprefix\tname\tscopes\texpires\tlast_used\tstate\n");
        err =
            gh_apikey_list(gh_auth_apikeys(app->auth), who.user_id, limit, offset, print_key, NULL);
    }
    if (err != GH_OK)
        fprintf(stderr, "gatehouse: %s\n",
                err == GH_ERR_NOT_FOUND ? "no such user" : gh_err_name(err));
    return err == GH_OK ? 0 : 1;
}

static int cmd_revoke(struct gh_app *app, const struct apikey_args *a, const char *id)
{
    if ((id == NULL) == (a->all == 0)) {
        fputs(usage, stderr);
        return 2;
    }
    struct gh_identity who;
    struct gh_reqmeta meta = {NULL, NULL, "gatehouse-cli", NULL, NULL};
    gh_err err = gh_apikey_operator(gh_auth_apikeys(app->auth), a->user, NULL, &who);
    if (err == GH_OK)
        err = gh_apikey_revoke(gh_auth_apikeys(app->auth), who.user_id, who.username, id, &meta);
    if (err != GH_OK)
        fprintf(stderr, "gatehouse: %s\n",
                err == GH_ERR_NOT_FOUND ? "no such user or key" : gh_err_name(err));
    else
        printf("revoked %s of %s\n", id ? id : "every key", who.username);
    return err == GH_OK ? 0 : 1;
}

int gh_cmd_apikey(int argc, char **argv)
{
    static const struct option opts[] = {{"user", required_argument, NULL, 'u'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"scope", required_argument, NULL, 's'},
                                         {"expires", required_argument, NULL, 'e'},
                                         {"allow-ip", required_argument, NULL, 'i'},
                                         {"org", required_argument, NULL, 'o'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"limit", required_argument, NULL, 'L'},
                                         {"offset", required_argument, NULL, 'O'},
                                         GH_CLI_COMMON_OPTIONS};
    static struct apikey_args a;
    memset(&a, 0, sizeof(a));
    int status = gh_cli_help(argc, argv, usage);
    if (status >= 0)
        return status;
    const char *verb = argv[1];
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "u:n:s:e:i:o:aL:O:" GH_CLI_COMMON_SHORT, opts, NULL)) !=
           -1) {
        switch (c) {
        case 'u':
            a.user = optarg;
            break;
        case 'n':
            a.name = optarg;
            break;
        case 's':
            if (a.in.nscopes == GH_APIKEY_SCOPES_MAX) {
                fprintf(stderr, "gatehouse: at most %d scopes\n", GH_APIKEY_SCOPES_MAX);
                return 2;
            }
            a.in.has_scopes = 1;
            a.in.scopes[a.in.nscopes++] = optarg;
            break;
        case 'e':
            a.expires = optarg;
            break;
        case 'i':
            if (a.in.nips == GH_APIKEY_IPS_MAX) {
                fprintf(stderr, "gatehouse: at most %d addresses\n", GH_APIKEY_IPS_MAX);
                return 2;
            }
            a.in.allowed_ips[a.in.nips++] = optarg;
            break;
        case 'o':
            a.org = optarg;
            break;
        case 'a':
            a.all = 1;
            break;
        case 'L':
            a.limit = optarg;
            break;
        case 'O':
            a.offset = optarg;
            break;
        default:
            if ((status = gh_cli_option(c, usage, &a.common)) >= 0)
                return status;
        }
    }
    int revoke = strcmp(verb, "revoke") == 0;
    const char *id = revoke && optind == argc - 1 ? argv[optind] : NULL;
    if (a.user == NULL || (optind != argc && id == NULL) ||
        (!revoke && strcmp(verb, "create") != 0 && strcmp(verb, "list") != 0)) {
        fputs(usage, stderr);
        return 2;
    }

    static struct gh_app app;
    if (gh_cli_open(&app, &a.common) != 0)
        return 1;
    if (strcmp(verb, "create") == 0)
        status = cmd_create(&app, &a);
    else if (strcmp(verb, "list") == 0)
        status = cmd_list(&app, &a);
    else
        status = cmd_revoke(&app, &a, id);
    gh_app_close(&app);
    return status;
}

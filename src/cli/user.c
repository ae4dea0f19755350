#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "cli/cli.h"
#include "crypto/b64url.h"

#define PASSWORD_MAX 1024

static const char usage[] =
    "usage: gatehouse user create --username NAME --email ADDR [--full-name TEXT]\n"
    "                             [--superadmin] [--password-stdin]\n"
    "       gatehouse user list [--limit N] [--offset N]\n"
    "       gatehouse user set-password NAME [--password-stdin]\n"
    "       gatehouse user disable NAME\n"
    "       gatehouse user enable NAME\n"
    "Every form also takes --config FILE and --data-dir DIR.\n"
    "\n"
    "Without --password-stdin a strong password is generated and printed once.\n"
    "Disabling a user or setting a password revokes all of the user's tokens.\n";

struct user_args {
    struct gh_cli_common common;
    const char *username, *email, *full_name, *limit, *offset;
    int superadmin, password_stdin;
};

/*
 * Reads one line from stdin (without the newline) or generates a password. stdin is
 * unbuffered, so the password is in out only, which the caller wipes; out is wiped here
 * on failure.
 */
static int obtain_password(int from_stdin, char out[PASSWORD_MAX], int *generated)
{
    *generated = 0;
    if (from_stdin) {
        setvbuf(stdin, NULL, _IONBF, 0);
        if (fgets(out, PASSWORD_MAX, stdin) == NULL) {
            sodium_memzero(out, PASSWORD_MAX);
            fprintf(stderr, "gatehouse: no password on standard input\n");
            return 1;
        }
        out[strcspn(out, "\r\n")] = '\0';
        return 0;
    }
    unsigned char raw[18];
    size_t len = 0;
    randombytes_buf(raw, sizeof(raw));
    gh_err err = gh_b64url_encode(raw, sizeof(raw), out, PASSWORD_MAX, &len);
    sodium_memzero(raw, sizeof(raw));
    if (err != GH_OK) {
        sodium_memzero(out, PASSWORD_MAX);
        return 1;
    }
    *generated = 1;
    return 0;
}

static void print_refusal(gh_err err, const struct gh_refusal *r)
{
    if (err == GH_ERR_POLICY) {
        fprintf(stderr, "gatehouse: the password does not meet the policy:");
        for (unsigned bit = 0; bit < GH_RULE_COUNT; bit++)
            if (r->policy_failed & (1u << bit))
                fprintf(stderr, " %s", gh_policy_rule_name(1u << bit));
        fputc('\n', stderr);
    } else if (err == GH_ERR_INVALID) {
        fprintf(stderr, "gatehouse: unacceptable %s\n", r->field ? r->field : "value");
    } else if (err == GH_ERR_CONFLICT) {
        fprintf(stderr, "gatehouse: username or email already registered\n");
    } else if (err == GH_ERR_NOT_FOUND) {
        fprintf(stderr, "gatehouse: no such user\n");
    } else {
        fprintf(stderr, "gatehouse: failed: %s\n", gh_err_name(err));
    }
}

static int cmd_create(struct gh_app *app, const struct user_args *a)
{
    if (a->username == NULL || a->email == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    char pw[PASSWORD_MAX];
    int generated = 0;
    if (obtain_password(a->password_stdin, pw, &generated) != 0)
        return 1;
    char bootstrap[32];
    gh_err err = gh_auth_bootstrap(app->auth, NULL, bootstrap);
    if (err == GH_OK && bootstrap[0] != '\0')
        printf("bootstrap admin created: username \"admin\", password \"%s\" (shown once)\n",
               bootstrap);
    sodium_memzero(bootstrap, sizeof(bootstrap));

    struct gh_register_input in = {a->username, a->email, a->full_name, pw, strlen(pw)};
    struct gh_user u;
    struct gh_refusal refusal = {NULL, 0};
    struct gh_reqmeta meta = {NULL, NULL, "gatehouse-cli", NULL, NULL};
    if (err == GH_OK)
        err = gh_auth_register(app->auth, &in, a->superadmin, &meta, &u, &refusal);
    if (err != GH_OK) {
        print_refusal(err, &refusal);
    } else {
        printf("created user %s (%s)\n", u.username, u.id);
        if (generated)
            printf("password: %s (shown once)\n", pw);
    }
    sodium_memzero(pw, sizeof(pw));
    return err == GH_OK ? 0 : 1;
}

static int print_user(void *arg, const struct gh_user *u)
{
    (void)arg;
    printf("%s\t%s\t%s\t%s%s\n", u->id, u->username, u->email, u->disabled ? "disabled" : "active",
           u->superadmin ? ",superadmin" : "");
    return 0;
}

static int cmd_list(struct gh_app *app, const struct user_args *a)
{
    size_t limit, offset;
    if (gh_cli_count(a->limit, 100, &limit) || gh_cli_count(a->offset, 0, &offset))
        return 2;
    printf("id\tusername\temail\tstatus\n");
    gh_err err = gh_store_user_list(&app->store, limit, offset, print_user, NULL);
    if (err != GH_OK)
        print_refusal(err, NULL);
    return err == GH_OK ? 0 : 1;
}

static int cmd_set_password(struct gh_app *app, const struct user_args *a)
{
    char pw[PASSWORD_MAX];
    int generated = 0;
    if (obtain_password(a->password_stdin, pw, &generated) != 0)
        return 1;
    struct gh_refusal refusal = {NULL, 0};
    gh_err err = gh_auth_set_password(app->auth, a->username, pw, strlen(pw), &refusal);
    if (err != GH_OK) {
        print_refusal(err, &refusal);
    } else {
        printf("password of %s changed; its tokens are revoked\n", a->username);
        if (generated)
            printf("password: %s (shown once)\n", pw);
    }
    sodium_memzero(pw, sizeof(pw));
    return err == GH_OK ? 0 : 1;
}

static int cmd_set_disabled(struct gh_app *app, const struct user_args *a, int disabled)
{
    gh_err err = gh_auth_set_disabled(app->auth, a->username, disabled);
    if (err != GH_OK)
        print_refusal(err, NULL);
    else
        printf("%s %s\n", a->username, disabled ? "disabled; its tokens are revoked" : "enabled");
    return err == GH_OK ? 0 : 1;
}

int gh_cmd_user(int argc, char **argv)
{
    static const struct option opts[] = {
        {"username", required_argument, NULL, 'u'},  {"email", required_argument, NULL, 'e'},
        {"full-name", required_argument, NULL, 'f'}, {"superadmin", no_argument, NULL, 's'},
        {"password-stdin", no_argument, NULL, 'p'},  {"limit", required_argument, NULL, 'L'},
        {"offset", required_argument, NULL, 'O'},    GH_CLI_COMMON_OPTIONS};
    struct user_args a;
    memset(&a, 0, sizeof(a));
    int status = gh_cli_help(argc, argv, usage);
    if (status >= 0)
        return status;
    const char *verb = argv[1];
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "u:e:f:spL:O:" GH_CLI_COMMON_SHORT, opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            a.username = optarg;
            break;
        case 'e':
            a.email = optarg;
            break;
        case 'f':
            a.full_name = optarg;
            break;
        case 's':
            a.superadmin = 1;
            break;
        case 'p':
            a.password_stdin = 1;
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
    int needs_name = strcmp(verb, "set-password") == 0 || strcmp(verb, "disable") == 0 ||
                     strcmp(verb, "enable") == 0;
    if (needs_name) {
        if (optind != argc - 1) {
            fputs(usage, stderr);
            return 2;
        }
        a.username = argv[optind];
    } else if (optind != argc || (strcmp(verb, "create") != 0 && strcmp(verb, "list") != 0)) {
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
    else if (strcmp(verb, "set-password") == 0)
        status = cmd_set_password(&app, &a);
    else
        status = cmd_set_disabled(&app, &a, strcmp(verb, "disable") == 0);
    gh_app_close(&app);
    return status;
}

/* gatehouse org ... and gatehouse role ...: the operator manages orgs and roles. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "authn/apikey.h"
#include "authz/rbac.h"
#include "cli/cli.h"
#include "core/uuid.h"

#define PERMS_MAX GH_ROLE_PERMS_MAX

static const char org_usage[] =
    "usage: gatehouse org create --name NAME --owner USER\n"
    "       gatehouse org list [--user USER] [--limit N] [--offset N]\n"
    "       gatehouse org add-member --org ORG --user USER [--role ROLE]\n"
    "Every form also takes --config FILE and --data-dir DIR.\n"
    "\n"
    "ORG is an org's id or name, USER a username or email. create makes the org with its\n"
    "system roles admin and member, OWNER its first admin. list shows every org, or those\n"
    "of USER. add-member gives USER the role ROLE (default member) in ORG.\n";

static const char role_usage[] =
    "usage: gatehouse role list --org ORG\n"
    "       gatehouse role create --org ORG --name NAME --perm PERM...\n"
    "       gatehouse role delete --org ORG --name NAME\n"
    "       gatehouse role set --org ORG --user USER --role NAME\n"
    "Every form also takes --config FILE and --data-dir DIR.\n"
    "\n"
    "PERM is a declared permission resource:action, wildcards and :own allowed. set gives\n"
    "USER, a member of ORG, the role NAME; running servers apply it within a fraction of\n"
    "a second. The system roles admin and member cannot be deleted; an org keeps at least\n"
    "one admin.\n";

struct args {
    struct gh_cli_common common;
    const char *name, *owner, *user, *org, *role, *limit, *offset;
    const char *perms[PERMS_MAX];
    size_t nperms;
};

/* The operator: a superadmin without a user of its own (audited as "cli"). */
static void operator_identity(struct gh_identity *who)
{
    memset(who, 0, sizeof(*who));
    memcpy(who->username, "cli", 4);
    who->cred = GH_CRED_OPERATOR;
    who->superadmin = 1;
}

static const struct gh_reqmeta cli_meta = {NULL, NULL, "gatehouse-cli", NULL, NULL};

/* The org named by id or name. */
static int find_org(struct gh_app *app, const char *ref, struct gh_org *out)
{
    gh_err err = gh_uuid_valid(ref, strlen(ref)) ? gh_store_org_get(&app->store, ref, out)
                                                 : gh_store_org_find_name(&app->store, ref, out);
    if (err != GH_OK)
        fprintf(stderr, "gatehouse: %s\n",
                err == GH_ERR_NOT_FOUND  ? "no such org"
                : err == GH_ERR_CONFLICT ? "several orgs bear that name: give the org's id"
                                         : gh_err_name(err));
    return err == GH_OK ? 0 : 1;
}

static int find_user(struct gh_app *app, const char *login, struct gh_user *out)
{
    gh_err err = gh_store_user_find_login(&app->store, login, out);
    if (err != GH_OK)
        fprintf(stderr, "gatehouse: %s\n",
                err == GH_ERR_NOT_FOUND ? "no such user" : gh_err_name(err));
    return err == GH_OK ? 0 : 1;
}

/* What a refused change means, for the operator. */
static int failed(gh_err err)
{
    const char *why;
    switch (err) {
    case GH_ERR_NOT_FOUND:
        why = "no such org, user, member or role";
        break;
    case GH_ERR_INVALID:
        why = "an unacceptable name, role or permission";
        break;
    case GH_ERR_CONFLICT:
        why = "the name is taken, the role is held, or the org would lose its last admin";
        break;
    case GH_ERR_IMMUTABLE:
        why = "system roles and the default org cannot change that way";
        break;
    default:
        why = gh_err_name(err);
        break;
    }
    fprintf(stderr, "gatehouse: %s\n", why);
    return 1;
}

static int print_org(void *arg, const struct gh_org *o)
{
    (void)arg;
    printf("%s\t%s\n", o->id, o->name);
    return 0;
}

static int org_create(struct gh_app *app, const struct args *a)
{
    static struct gh_user owner;
    struct gh_identity who;
    struct gh_org org;
    if (a->name == NULL || a->owner == NULL) {
        fputs(org_usage, stderr);
        return 2;
    }
    if (find_user(app, a->owner, &owner) != 0)
        return 1;
    operator_identity(&who);
    memcpy(who.user_id, owner.id, sizeof(who.user_id)); /* the owner becomes the admin */
    gh_err err = gh_rbac_org_create(app->rbac, &who, a->name, &cli_meta, &org);
    if (err != GH_OK)
        return failed(err);
    printf("created org %s (%s), admin %s\n", org.id, org.name, owner.username);
    return 0;
}

static int org_list(struct gh_app *app, const struct args *a)
{
    static struct gh_user u;
    size_t limit, offset;
    if (gh_cli_count(a->limit, 100, &limit) || gh_cli_count(a->offset, 0, &offset))
        return 2;
    if (a->user != NULL && find_user(app, a->user, &u) != 0)
        return 1;
    printf("id\tname\n");
    gh_err err =
        gh_store_org_list(&app->store, a->user ? u.id : NULL, limit, offset, print_org, NULL);
    return err == GH_OK ? 0 : failed(err);
}

static int org_add_member(struct gh_app *app, const struct args *a)
{
    static struct gh_user u;
    struct gh_org org;
    struct gh_identity who;
    struct gh_member m;
    if (a->org == NULL || a->user == NULL) {
        fputs(org_usage, stderr);
        return 2;
    }
    if (find_org(app, a->org, &org) != 0 || find_user(app, a->user, &u) != 0)
        return 1;
    operator_identity(&who);
    const char *role = a->role ? a->role : "member";
    const struct gh_invitee to = {u.id, NULL, NULL};
    /* The operator adds at once: no invitation to accept. */
    gh_err err = gh_rbac_member_add(app->rbac, &who, org.id, &to, role, &cli_meta, &m);
    if (err != GH_OK)
        return failed(err);
    printf("%s is now %s in %s\n", m.username, m.role_name, org.name);
    return 0;
}

static int print_role(void *arg, const struct gh_role *r)
{
    (void)arg;
    printf("%s\t%s\t%s\t%s\n", r->id, r->name, r->system ? "system" : "custom", r->permissions);
    return 0;
}

struct role_find {
    const char *name;
    char id[GH_UUID_LEN + 1];
};

static int match_role(void *arg, const struct gh_role *r)
{
    struct role_find *f = arg;
    if (strcmp(r->name, f->name) != 0)
        return 0;
    memcpy(f->id, r->id, sizeof(f->id));
    return 1;
}

static int role_cmd(struct gh_app *app, const char *verb, const struct args *a)
{
    struct gh_org org;
    struct gh_identity who;
    gh_err err;
    if (a->org == NULL || find_org(app, a->org, &org) != 0)
        return a->org == NULL ? (fputs(role_usage, stderr), 2) : 1;
    operator_identity(&who);
    if (strcmp(verb, "list") == 0) {
        printf("id\tname\tkind\tpermissions\n");
        err = gh_rbac_role_list(app->rbac, &who, org.id, SIZE_MAX, 0, print_role, NULL);
        return err == GH_OK ? 0 : failed(err);
    }
    if (strcmp(verb, "set") == 0) {
        static struct gh_user u;
        struct gh_member m;
        if (a->user == NULL || a->role == NULL) {
            fputs(role_usage, stderr);
            return 2;
        }
        if (find_user(app, a->user, &u) != 0)
            return 1;
        err = gh_rbac_member_set_role(app->rbac, &who, org.id, u.id, a->role, &cli_meta, &m);
        if (err != GH_OK)
            return failed(err);
        printf("%s is now %s in %s\n", m.username, m.role_name, org.name);
        return 0;
    }
    if (a->name == NULL) {
        fputs(role_usage, stderr);
        return 2;
    }
    if (strcmp(verb, "create") == 0) {
        static struct gh_role role;
        struct gh_role_refusal refusal;
        struct gh_role_input in = {a->name, a->perms, a->nperms, 1};
        memset(&refusal, 0, sizeof(refusal));
        err = gh_rbac_role_create(app->rbac, &who, org.id, &in, &cli_meta, &role, &refusal);
        if (err == GH_ERR_INVALID && refusal.permission[0] != '\0') {
            fprintf(stderr, "gatehouse: --perm %s: malformed or not declared\n",
                    refusal.permission);
            return 1;
        }
        if (err != GH_OK)
            return failed(err);
        printf("created role %s (%s) in %s\n", role.id, role.name, org.name);
        return 0;
    }
    struct role_find f = {a->name, ""};
    err = gh_rbac_role_list(app->rbac, &who, org.id, SIZE_MAX, 0, match_role, &f);
    if (err == GH_OK && f.id[0] == '\0')
        err = GH_ERR_NOT_FOUND;
    if (err == GH_OK)
        err = gh_rbac_role_delete(app->rbac, &who, org.id, f.id, &cli_meta);
    if (err != GH_OK)
        return failed(err);
    printf("deleted role %s of %s\n", a->name, org.name);
    return 0;
}

/* Parses the options of both commands (usage is the command's): -1 when they are good,
 * else the exit status. */
static int parse(int argc, char **argv, const char *usage, struct args *a)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"owner", required_argument, NULL, 'w'},
                                         {"user", required_argument, NULL, 'u'},
                                         {"org", required_argument, NULL, 'o'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"perm", required_argument, NULL, 'p'},
                                         {"limit", required_argument, NULL, 'L'},
                                         {"offset", required_argument, NULL, 'O'},
                                         GH_CLI_COMMON_OPTIONS};
    int c, status;
    optind = 2;
    while ((c = getopt_long(argc, argv, "n:w:u:o:r:p:L:O:" GH_CLI_COMMON_SHORT, opts, NULL)) !=
           -1) {
        switch (c) {
        case 'n':
            a->name = optarg;
            break;
        case 'w':
            a->owner = optarg;
            break;
        case 'u':
            a->user = optarg;
            break;
        case 'o':
            a->org = optarg;
            break;
        case 'r':
            a->role = optarg;
            break;
        case 'p':
            if (a->nperms == PERMS_MAX) {
                fprintf(stderr, "gatehouse: at most %d permissions\n", PERMS_MAX);
                return 2;
            }
            a->perms[a->nperms++] = optarg;
            break;
        case 'L':
            a->limit = optarg;
            break;
        case 'O':
            a->offset = optarg;
            break;
        default:
            if ((status = gh_cli_option(c, usage, &a->common)) >= 0)
                return status;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    return -1;
}

/* Runs verb (one of verbs, NULL-terminated) of a command. */
static int run(int argc, char **argv, const char *usage, const char *const *verbs, int is_org)
{
    static struct args a;
    memset(&a, 0, sizeof(a));
    int status = gh_cli_help(argc, argv, usage);
    if (status >= 0)
        return status;
    const char *verb = argv[1];
    int known = 0;
    for (size_t i = 0; verbs[i] != NULL; i++)
        known |= strcmp(verb, verbs[i]) == 0;
    if (!known) {
        fputs(usage, stderr);
        return 2;
    }
    if ((status = parse(argc, argv, usage, &a)) >= 0)
        return status;

    static struct gh_app app;
    if (gh_cli_open(&app, &a.common) != 0)
        return 1;
    if (!is_org)
        status = role_cmd(&app, verb, &a);
    else if (strcmp(verb, "create") == 0)
        status = org_create(&app, &a);
    else if (strcmp(verb, "list") == 0)
        status = org_list(&app, &a);
    else
        status = org_add_member(&app, &a);
    gh_app_close(&app);
    return status;
}

int gh_cmd_org(int argc, char **argv)
{
    static const char *const verbs[] = {"create", "list", "add-member", NULL};
    return run(argc, argv, org_usage, verbs, 1);
}

int gh_cmd_role(int argc, char **argv)
{
    static const char *const verbs[] = {"list", "create", "delete", "set", NULL};
    return run(argc, argv, role_usage, verbs, 0);
}

#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "cli/cli.h"
#include "core/secure_json.h"

#ifndef GH_VERSION
#define GH_VERSION "0.1.0"
#endif

static const char usage[] =
    "usage: gatehouse <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve     serve the HTTP API (gatehouse serve --help)\n"
    "  keygen    write a new signing key, or rotate the key set (keygen --rotate)\n"
    "  user      create, list, set-password, disable, enable users\n"
    "  apikey    create, list, revoke API keys\n"
    "  audit     verify the audit chain, export the records as JSON Lines\n"
    "  migrate   copy a SQLite database into PostgreSQL (several nodes)\n"
    "  org       create, list orgs, add members\n"
    "  role      list, create, delete roles of an org, set a member's role\n"
    "  key       split, unseal, rotate the data key, rewrap stored values\n"
    "  backup    create a backup of the live database, restore one\n"
    "  block     add, list, remove address blocks\n"
    "  storage   encrypt or decrypt the SQLite database (server stopped)\n"
    "  security  audit the deployment against OWASP ASVS 5 (security audit [--json] [--fix])\n"
    "  version   print the version\n"
    "\n"
    "Configuration: --config FILE (YAML), overridden by GATEHOUSE_* environment variables.\n";

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "gatehouse: libsodium failed to initialise\n");
        return 1;
    }
    gh_secure_json_install(); /* before any jansson value exists */
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return gh_cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "keygen") == 0)
        return gh_cmd_keygen(argc - 1, argv + 1);
    if (strcmp(cmd, "user") == 0)
        return gh_cmd_user(argc - 1, argv + 1);
    if (strcmp(cmd, "apikey") == 0)
        return gh_cmd_apikey(argc - 1, argv + 1);
    if (strcmp(cmd, "audit") == 0)
        return gh_cmd_audit(argc - 1, argv + 1);
    if (strcmp(cmd, "org") == 0)
        return gh_cmd_org(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0)
        return gh_cmd_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "role") == 0)
        return gh_cmd_role(argc - 1, argv + 1);
    if (strcmp(cmd, "security") == 0)
        return gh_cmd_security(argc - 1, argv + 1);
    if (strcmp(cmd, "backup") == 0)
        return gh_cmd_backup(argc - 1, argv + 1);
    if (strcmp(cmd, "key") == 0)
        return gh_cmd_key(argc - 1, argv + 1);
    if (strcmp(cmd, "block") == 0)
        return gh_cmd_block(argc - 1, argv + 1);
    if (strcmp(cmd, "storage") == 0)
        return gh_cmd_storage(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("gatehouse %s\n", GH_VERSION);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    fprintf(stderr, "gatehouse: unknown command \"%s\"\n", cmd);
    fputs(usage, stderr);
    return 2;
}

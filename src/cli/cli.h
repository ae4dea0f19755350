#ifndef GH_CLI_CLI_H
#define GH_CLI_CLI_H

#include <getopt.h>

#include "api/app.h"
#include "core/err.h"

/* Each command returns the process exit status: 0 ok, 1 failure, 2 usage error. */
int gh_cmd_serve(int argc, char **argv);
int gh_cmd_keygen(int argc, char **argv);
int gh_cmd_user(int argc, char **argv);
int gh_cmd_apikey(int argc, char **argv);
int gh_cmd_audit(int argc, char **argv);
int gh_cmd_org(int argc, char **argv);
int gh_cmd_role(int argc, char **argv);
int gh_cmd_key(int argc, char **argv);
int gh_cmd_backup(int argc, char **argv);
int gh_cmd_security(int argc, char **argv);
int gh_cmd_migrate(int argc, char **argv);
int gh_cmd_block(int argc, char **argv);
int gh_cmd_storage(int argc, char **argv);

struct gh_redis_opts;
/** How to reach the Redis at host:port from the configuration: timeout, redis.password,
 * redis.tls (edge/redis.h). */
gh_err gh_cli_redis_opts(const struct gh_config *cfg, const char *host, uint16_t port,
                         struct gh_redis_opts *o) GH_WUR GH_NONNULL(1, 2, 4);

/** Options every command shares. */
struct gh_cli_common {
    const char *config;   /* --config FILE */
    const char *data_dir; /* --data-dir DIR */
    const char *listen;   /* --listen HOST:PORT (serve) */
};

/* The options every command takes, to end its getopt_long table and its option string. */
/* clang-format off */
#define GH_CLI_COMMON_OPTIONS                                                              \
    {"config", required_argument, NULL, 'c'}, {"data-dir", required_argument, NULL, 'd'}, \
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}
/* clang-format on */
#define GH_CLI_COMMON_SHORT "c:d:h"

/**
 * The start of `gatehouse CMD VERB [options]`: returns -1 when argv[1] is a verb to run;
 * else prints usage and returns the exit status, 2 (on stderr) without a verb, 0 (on
 * stdout) for --help or -h.
 */
int gh_cli_help(int argc, char **argv, const char *usage) GH_NONNULL(2, 3);

/**
 * Handles an option getopt_long returned that no command-specific case took: --config
 * and --data-dir go to common (returns -1: go on); --help prints usage on stdout (returns
 * 0), anything else prints it on stderr (returns 2): the exit status.
 */
int gh_cli_option(int c, const char *usage, struct gh_cli_common *common) GH_NONNULL(2, 3);

/**
 * Builds app->cfg: defaults, then the YAML file, then GATEHOUSE_* variables, then the
 * command line; then the modules' own syntaxes (gh_cli_options). Prints what is wrong on
 * stderr and returns non-zero.
 */
int gh_cli_config(struct gh_app *app, const struct gh_cli_common *common) GH_NONNULL(1, 2);

/* ---- each module's options, from the configuration (cli/options.c) ---- */

/** auth.algorithm as the enum of crypto/sigkey.h. */
enum gh_alg gh_cli_alg(const struct gh_config *cfg) GH_NONNULL(1);
/** The authentication service's options; strings point into cfg. */
void gh_cli_auth_opts(const struct gh_config *cfg, struct gh_auth_opts *out) GH_NONNULL(1, 2);
/** The authorization service's options; strings point into cfg. */
void gh_cli_rbac_opts(const struct gh_config *cfg, struct gh_rbac_opts *out) GH_NONNULL(1, 2);

/**
 * Lets the modules check and parse, once, the keys with a syntax of their own, from
 * app->cfg (after gh_config_finish): rate_limit.routes into app->rl_route, the authz.*
 * permission lists (checked), forward_auth.* into app->rules, alerts.* into
 * app->alert_rules. GH_ERR_INVALID with err naming the key, e.g. "rate_limit.routes: line
 * 2: ..."; nothing is left to clear then.
 */
gh_err gh_cli_options(struct gh_app *app, char *err, size_t err_size) GH_WUR GH_NONNULL(1, 2);
/** Frees what gh_cli_options parsed (and the alerts did not take). */
void gh_cli_options_clear(struct gh_app *app) GH_NONNULL(1);

/** Parses a --limit/--offset style count (NULL: fallback); prints why and returns 1 if bad. */
int gh_cli_count(const char *text, size_t fallback, size_t *out) GH_NONNULL(3);

enum gh_app_mode {
    GH_APP_ADMIN, /* storage only: CLI commands */
    GH_APP_SERVE, /* storage, keys (made on first start), worker pools, documents */
};

/** Opens what mode needs; on failure prints why on stderr and returns non-zero. */
int gh_app_open(struct gh_app *app, enum gh_app_mode mode) GH_NONNULL(1);
/* ---- the master key and the data keys (cli/datakeys.c) ---- */

/**
 * The master key into master: GATEHOUSE_MASTER_KEY (wiped from the environment once
 * read), else crypto.master_key_file, created only while no data key is stored, never
 * with crypto.sealed. *from names the source for messages. Prints why and returns
 * non-zero on failure; the caller wipes master.
 */
int gh_app_master_key(struct gh_app *app, uint8_t master[GH_MASTER_KEY_LEN], const char **from)
    GH_NONNULL(1, 2, 3);
/**
 * storage.encrypt: reads the master key before the store opens (created when create is set:
 * a new database) into app->master, where gh_app_master_key finds it. Prints why and
 * returns non-zero on failure.
 */
int gh_app_hold_master(struct gh_app *app, int create) GH_NONNULL(1);
/** Wipes the held master key (gh_app_close does it too). */
void gh_app_drop_master(struct gh_app *app) GH_NONNULL(1);
/**
 * Before the store opens: with storage.encrypt, checks that the SQLite file is new or
 * sealed under the master key's database key and routes SQLite through the encrypting
 * VFS; without, that it is not an encrypted one. Prints the cause and returns non-zero
 * otherwise; nothing is written (cli/storage.c).
 */
int gh_app_storage_key(struct gh_app *app) GH_NONNULL(1);
/** backup restore with storage.encrypt: the backup's pages open, and the database is
 * written, through the encrypting VFS under the existing master key (never a new one). */
int gh_app_storage_restore(struct gh_app *app) GH_NONNULL(1);
/** Opens app->datakeys under the master key (the key and backup commands). */
int gh_app_open_datakeys(struct gh_app *app) GH_NONNULL(1);
/** gatehouse key unseal: shares from stdin to the running server (cli/unseal.c). */
int gh_cli_unseal(struct gh_app *app) GH_NONNULL(1);
/** Serving: the data keys, or with crypto.sealed the unseal state (app->datakeys NULL). */
int gh_app_open_serving_keys(struct gh_app *app) GH_NONNULL(1);
/**
 * gh_cli_config then gh_app_open(GH_APP_ADMIN): what a CLI command on the store needs.
 * Returns 0, or 1 after printing why and releasing what was opened.
 */
int gh_cli_open(struct gh_app *app, const struct gh_cli_common *common) GH_NONNULL(1, 2);
/** Releases everything gh_app_open made (in-flight pool jobs finish first). */
void gh_app_close(struct gh_app *app) GH_NONNULL(1);

#endif

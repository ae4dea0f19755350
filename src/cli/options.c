/*
 * Each module's own options, assembled from the configuration. config/ reads every key
 * and knows its type; the module that owns a key knows what its value means: this file
 * hands each one its options struct and lets the modules with a syntax of their own
 * (rate_limit.routes, authz.*permissions, forward_auth.*, alerts.*) check and parse it,
 * once. Messages name the key as config/ does.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "http/tls.h"

/* config/config.c keeps the names of its choice keys in the order of these enums. */
_Static_assert(GH_ALG_RS256 == 0 && GH_ALG_ES256 == 1 && GH_ALG_EDDSA == 2,
               "auth.algorithm's choices follow enum gh_alg");
_Static_assert(GH_PWHASH_BCRYPT == 0 && GH_PWHASH_ARGON2ID == 1,
               "password.hash's choices follow enum gh_pwhash_alg");
_Static_assert(GH_LOG_DEBUG == 0 && GH_LOG_INFO == 1 && GH_LOG_WARN == 2 && GH_LOG_ERROR == 3,
               "log.level's choices follow enum gh_log_level");
_Static_assert(GH_TLS_1_2 == 0 && GH_TLS_1_3 == 1,
               "server.tls_min_version's choices follow enum gh_tls_version");
_Static_assert(GH_RL_LIMIT_MAX == 1000000u, "rate_limit.global and .auth bounds agree");

enum gh_alg gh_cli_alg(const struct gh_config *cfg)
{
    return (enum gh_alg)cfg->algorithm;
}

void gh_cli_auth_opts(const struct gh_config *cfg, struct gh_auth_opts *out)
{
    *out = (struct gh_auth_opts){
        .issuer = cfg->issuer,
        .audience = cfg->audience,
        .access_ttl = cfg->access_ttl,
        .refresh_ttl = cfg->refresh_ttl,
        .clock_leeway = cfg->clock_leeway,
        .token_cache_size = cfg->token_cache_size,
        .api_key_pepper = cfg->api_key_pepper,
        .member_permissions = cfg->member_permissions,
        .pw = {(enum gh_pwhash_alg)cfg->hash, cfg->bcrypt_cost, cfg->argon2_ops,
               cfg->argon2_memory},
        .policy = {cfg->min_length, cfg->max_length, cfg->require_upper, cfg->require_lower,
                   cfg->require_digit, cfg->require_symbol, cfg->reject_common,
                   cfg->min_entropy_bits},
    };
}

void gh_cli_rbac_opts(const struct gh_config *cfg, struct gh_rbac_opts *out)
{
    *out = (struct gh_rbac_opts){
        .app_permissions = cfg->app_permissions,
        .member_permissions = cfg->member_permissions,
        .invitation_ttl = cfg->invitation_ttl,
        .max_pending_invitations = cfg->max_pending_invitations,
        .superadmin_direct_add = cfg->superadmin_direct_add,
    };
}

gh_err gh_cli_options(struct gh_app *app, char *err, size_t err_size)
{
    const struct gh_config *cfg = &app->cfg;
    struct gh_rbac_opts rbac;
    char why[200];
    gh_err e;
    if (gh_rl_routes_parse(cfg->rl_routes, app->rl_route, &app->rl_nroutes, why, sizeof(why)) !=
        GH_OK) {
        (void)snprintf(err, err_size, "rate_limit.routes: %s", why);
        return GH_ERR_INVALID;
    }
    gh_cli_rbac_opts(cfg, &rbac);
    if ((e = gh_rbac_opts_check(&rbac, err, err_size)) != GH_OK)
        return e == GH_ERR_NOMEM ? e : GH_ERR_INVALID;
    if ((e = gh_rules_parse(cfg->forward_rules, cfg->forward_default, &app->rules, why,
                            sizeof(why))) != GH_OK) {
        (void)snprintf(err, err_size, "forward_auth: %s",
                       e == GH_ERR_NOMEM ? "out of memory" : why);
        return GH_ERR_INVALID;
    }
    if ((e = gh_alert_rules_parse(cfg->alerts_rules, cfg->alerts_webhooks, &app->alert_rules, why,
                                  sizeof(why))) != GH_OK) {
        gh_rules_clear(&app->rules);
        (void)snprintf(err, err_size, "%s: %s",
                       strncmp(why, "webhook", 7) == 0 ? "alerts.webhooks" : "alerts.rules",
                       e == GH_ERR_NOMEM ? "out of memory" : why);
        return GH_ERR_INVALID;
    }
    return GH_OK;
}

void gh_cli_options_clear(struct gh_app *app)
{
    gh_rules_clear(&app->rules);
    gh_alert_rules_clear(&app->alert_rules);
    app->rl_nroutes = 0;
}

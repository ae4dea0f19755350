#ifndef GH_API_APP_H
#define GH_API_APP_H

#include "audit/alerts.h"
#include "audit/metrics.h"
#include "authn/service.h"
#include "authn/signin.h"
#include "authn/saml_flow.h"
#include "authn/sso_flow.h"
#include "authn/sso_providers.h"
#include "authn/sso_token.h"
#include "authz/rbac.h"
#include "authz/rules.h"
#include "edge/backoff.h"
#include "edge/blocks.h"
#include "edge/ratelimit.h"
#include "config/config.h"
#include "core/pool.h"
#include "crypto/datakeys.h"
#include "crypto/jwt.h"
#include "crypto/master.h"
#include "crypto/unseal.h"
#include "store/store.h"

struct gh_req;

/**
 * The browser-session hooks (issue 13 plugs them in at start). Zeroed, there are no
 * sessions: the credential chain ignores the gh_sid cookie.
 */
struct gh_session_hooks {
    /**
     * Proves a gh_sid cookie value (sid[0..len), not NUL-terminated): GH_OK fills *out;
     * GH_ERR_AUTH, GH_ERR_EXPIRED or GH_ERR_REVOKED answer 401; GH_ERR_IO 503.
     */
    gh_err (*prove)(void *ctx, const char *sid, size_t len, const struct gh_reqmeta *meta,
                    struct gh_identity *out);
    /**
     * The CSRF check of a CSRF route whose caller a session proved (API.md "Browser
     * CSRF"): 0 lets the request pass; otherwise it has answered (403 csrf_failed) and
     * audited the refusal. NULL with prove set: every such request is refused.
     */
    int (*csrf_check)(void *ctx, struct gh_req *req);
    void *ctx;
};

/** Everything a running Gatehouse holds, built once at start (cli/app.c). */
struct gh_app {
    struct gh_config cfg;
    struct gh_store_handle store;
    struct gh_keyring *ring; /* reloaded in place when keyring.json changes (cli/keys.c) */
    struct gh_auth *auth;
    struct gh_rbac *rbac;      /* orgs, roles, members, the permission check */
    struct gh_pool *hash_pool; /* password hashing: bounded, half the cores */
    struct gh_pool *io_pool;   /* storage writes and token signing */
    struct gh_pool *sso_pool;  /* sign-ins waiting on identity providers (api/sso_login.c) */
    struct gh_rules rules;     /* ForwardAuth route rules */
    struct gh_rl_route rl_route[GH_RL_ROUTES_MAX]; /* rate_limit.routes */
    size_t rl_nroutes;
    struct gh_alert_rules alert_rules; /* alerts.*, until the alerts take them at start */
    struct gh_backoff *backoff;        /* failed-login backoff, NULL when login.backoff is off */
    struct gh_metrics *metrics;        /* NULL for CLI commands */
    struct gh_alerts *alerts; /* audit observer and webhook queue; NULL without alerts.rules */
    struct gh_ratelimit *ratelimit; /* request limits, NULL when every limit is off */
    /* Field encryption and vault keys (crypto/datakeys.h): NULL for CLI commands that do
     * not open them, and while a sealed server waits for its shares (set once, atomically,
     * by the unseal). */
    struct gh_datakeys *_Atomic datakeys;
    struct gh_unseal *unseal; /* crypto.sealed: the shares received so far; NULL otherwise */
    /* storage.encrypt: the master key, read before the store opens (the database key comes
     * from it), held for the data keys, wiped once they are open or at close. */
    uint8_t master[GH_MASTER_KEY_LEN];
    int master_held;
    const char *master_from;          /* GATEHOUSE_MASTER_KEY or crypto.master_key_file */
    struct gh_session_hooks session;  /* browser sessions (issue 13); zeroed: none */
    struct gh_signin signin;          /* password, second factor, sessions (NULL members: CLI) */
    struct gh_ssop *sso;              /* SSO identity providers; NULL for CLI commands */
    struct gh_blocks *blocks;         /* address blocks, checked before routing */
    struct gh_saml_flow *saml;        /* SAML sign-ins; NULL for CLI commands */
    struct gh_sso_remote *sso_remote; /* calls to OIDC/OAuth2 providers; NULL for CLI commands */
    struct gh_sso_flow *sso_flow;     /* the browser's SSO sign-in; NULL for CLI commands */
    struct gh_ssotok *sso_tokens;     /* provider-token login; NULL for CLI commands */
};

#endif

#ifndef GH_AUTHN_SSO_REMOTE_H
#define GH_AUTHN_SSO_REMOTE_H

#include <jansson.h>
#include <stdint.h>
#include "authn/oidc_idtoken.h"
#include "core/err.h"
#include "store/records.h"

/*
 * Talking to OIDC and OAuth2 providers (edge/fetch, on the calling thread: a worker of
 * the SSO pool, never a polling thread, each call within sso.timeout): the endpoints (an OIDC
 * provider's from its discovery document, cached an hour; an OAuth2 provider's as
 * configured), the code exchange at the token endpoint (client_secret_basic or _post),
 * the ID token checked against the provider's keys (cached; fetched again with the
 * discovery document when a token names a kid they lack, one attempt per provider every
 * GH_SSO_KEYS_REFRESH seconds at most, so a flood of unknown kids cannot make Gatehouse
 * hammer the provider), the userinfo endpoint and Google's tokeninfo. Errors never carry a code,
 * token or secret into the log.
 */

#define GH_SSO_KEYS_REFRESH 10 /* seconds between two attempts at one provider's keys */
#define GH_SSO_META_TTL 3600   /* seconds a discovery document is kept */
#define GH_SSO_ANSWER_MAX (64 * 1024)
/* The pool the sign-ins that call providers run on (cli/app.c): threads that may each wait
 * sso.timeout, and how many more sign-ins may queue (past it: 503 with Retry-After). */
#define GH_SSO_THREADS 4
#define GH_SSO_QUEUE 256

struct gh_sso_remote;

/** A client for providers with each call bounded by timeout_ms. libcurl is loaded on the
 * first call (gh_fetch_open). GH_ERR_NOMEM. */
gh_err gh_sso_remote_new(long timeout_ms, struct gh_sso_remote **out) GH_WUR GH_NONNULL(2);
void gh_sso_remote_free(struct gh_sso_remote *r);

struct gh_sso_endpoints {
    char authorization[GH_SSO_URL_MAX + 1];
    char token[GH_SSO_URL_MAX + 1];
    char userinfo[GH_SSO_URL_MAX + 1];      /* "" none */
    char introspection[GH_SSO_URL_MAX + 1]; /* RFC 7662 (OIDC: as discovered); "" none */
    int secret_post;                        /* the provider takes only client_secret_post */
    int s256;                               /* PKCE S256 (OIDC: as discovered; OAuth2: p->pkce) */
};

/** p's endpoints. GH_ERR_IO the discovery document did not come; GH_ERR_INVALID it was
 * refused (or an OAuth2 provider lacks an endpoint). */
gh_err gh_sso_remote_endpoints(struct gh_sso_remote *r, const struct gh_sso_provider *p,
                               struct gh_sso_endpoints *out) GH_WUR GH_NONNULL(1, 2, 3);

/** What the token endpoint gave (heap strings, NULL when absent); gh_sso_tokens_clear. */
struct gh_sso_tokens {
    char *id_token;
    char *access_token;
};
void gh_sso_tokens_clear(struct gh_sso_tokens *t) GH_NONNULL(1);

/** The grant: what goes to the token endpoint besides the client's own credentials. */
struct gh_sso_grant {
    const char *code;
    const char *redirect_uri;
    const char *verifier; /* PKCE; NULL none */
    const char *secret;   /* the client secret in clear (NULL: a public client) */
};

/**
 * Exchanges g->code at ep->token for p. GH_ERR_IO no answer in time or a 5xx (the caller
 * answers 503), GH_ERR_AUTH the provider refused the grant (4xx), GH_ERR_INVALID an
 * answer that is not a JSON object with a string access_token.
 */
gh_err gh_sso_remote_exchange(struct gh_sso_remote *r, const struct gh_sso_provider *p,
                              const struct gh_sso_endpoints *ep, const struct gh_sso_grant *g,
                              struct gh_sso_tokens *out) GH_WUR GH_NONNULL(1, 2, 3, 4, 5);

/**
 * Checks an ID token of OIDC provider p as gh_idtoken_verify with the provider's keys
 * (fetched when missing, fetched again once for a signature refusal). GH_ERR_AUTH with
 * *why; GH_ERR_IO the keys did not come.
 */
gh_err gh_sso_remote_idtoken(struct gh_sso_remote *r, const struct gh_sso_provider *p,
                             const char *token, const struct gh_idtoken_expect *e,
                             struct gh_sso_identity *out, enum gh_idtoken_refusal *why) GH_WUR
    GH_NONNULL(1, 2, 3, 4, 5, 6);

/**
 * Asks ep->introspection (RFC 7662) about access_token with p's client credentials (secret
 * in clear, NULL none): *out the answer object (a new reference). GH_ERR_IO no answer in
 * time or not a 200, GH_ERR_INVALID not a JSON object.
 */
gh_err gh_sso_remote_introspect(struct gh_sso_remote *r, const struct gh_sso_provider *p,
                                const struct gh_sso_endpoints *ep, const char *secret,
                                const char *access_token, json_t **out) GH_WUR
    GH_NONNULL(1, 2, 3, 5, 6);

/**
 * Asks p->tokeninfo_endpoint (Google's tokeninfo) about access_token, sent as a POST form
 * (never in the URL): *out the answer object (a new reference). GH_ERR_AUTH the provider
 * refused the token (400), GH_ERR_IO no answer in time or another status, GH_ERR_INVALID
 * not a JSON object.
 */
gh_err gh_sso_remote_tokeninfo(struct gh_sso_remote *r, const struct gh_sso_provider *p,
                               const char *access_token, json_t **out) GH_WUR
    GH_NONNULL(1, 2, 3, 4);

/**
 * Asks url (a userinfo endpoint) who access_token belongs to: *out the answer object (a
 * new reference). GH_ERR_AUTH the provider refused the token (401/403), GH_ERR_IO no
 * answer in time or another status, GH_ERR_INVALID not a JSON object.
 */
gh_err gh_sso_remote_userinfo(struct gh_sso_remote *r, const char *url, const char *access_token,
                              json_t **out) GH_WUR GH_NONNULL(1, 2, 3, 4);

#endif

#ifndef GH_AUTHN_SSO_PROVIDERS_H
#define GH_AUTHN_SSO_PROVIDERS_H

#include <stddef.h>
#include "audit/audit.h"
#include "authn/sso_check.h"
#include "authn/views.h"
#include "core/err.h"
#include "crypto/datakeys.h"
#include "store/store.h"

/*
 * SSO identity providers (API.md "SSO"): those of the config key sso.providers, fixed for
 * the life of the process, and those superadmins keep through the admin API, in the store.
 * Every value is validated before it is kept: names, types, presets (Google, Microsoft
 * with its tenant, Okta with the org's domain), https URLs (http only to loopback hosts),
 * the fields each type needs. The client secret is sealed (enc:v1, bound to the provider's
 * name) before it is stored or held, and never leaves this module but through
 * gh_ssop_secret. Every change through the API is audited (SSO_PROVIDER_CREATE,
 * SSO_PROVIDER_UPDATE, SSO_PROVIDER_DELETE).
 */

/* The most providers sso.providers may name. */
#define GH_SSO_CONFIG_MAX 32

struct gh_ssop;

/** The registry's options (config keys sso.*). */
struct gh_ssop_opts {
    const char *config_lines; /* sso.providers: one JSON object per line, blank lines ignored */
    long timeout_ms;          /* sso.timeout: one call to a provider */
    int check_on_save;        /* sso.check_on_save: fetch an OIDC provider's discovery document
                                 when the API saves it */
};

/** Why a change was refused (GH_ERR_INVALID): the field, and for an OIDC provider whose
 * discovery document failed, "unreachable" or "invalid_discovery" (else NULL). */
struct gh_ssop_refusal {
    const char *field;
    const char *reason;
};

/**
 * The registry over store, sealing with dk, with the providers of opts->config_lines.
 * GH_ERR_INVALID with a message in err ("line 2: client_id: ...") for a bad line, a
 * duplicate name, or a name the store also holds; GH_ERR_NOMEM; the store's error. dk is
 * NULL while the server is sealed. libcurl is loaded by the first discovery check.
 */
gh_err gh_ssop_new(const struct gh_store_handle *store, struct gh_datakeys *dk,
                   const struct gh_ssop_opts *opts, int64_t now, char *err, size_t err_size,
                   struct gh_ssop **out) GH_WUR GH_NONNULL(1, 3, 5, 7);

/**
 * Gives r the data keys once a sealed server is unsealed (api/unseal.c); until then dk is
 * NULL and sealing or opening a client secret is GH_ERR_BUSY (never a NULL dereference).
 */
void gh_ssop_set_keys(struct gh_ssop *r, struct gh_datakeys *dk) GH_NONNULL(1, 2);

/** Frees r (wiping the sealed secrets it holds); NULL is fine. */
void gh_ssop_free(struct gh_ssop *r);

/** Visits a provider; from_config: 1 for one of sso.providers. Non-zero stops. */
typedef int (*gh_ssop_visit_fn)(void *arg, const struct gh_sso_provider *p, int from_config);

/* The admin API: who must be a superadmin (GH_ERR_FORBIDDEN otherwise). */

/** The providers, config's first, then the store's, each by name; paged over both. */
gh_err gh_ssop_list(struct gh_ssop *r, const struct gh_identity *who, size_t limit, size_t offset,
                    gh_ssop_visit_fn fn, void *arg) GH_WUR GH_NONNULL(1, 2, 5);

/** Provider name into *out; GH_ERR_NOT_FOUND none. */
gh_err gh_ssop_get(struct gh_ssop *r, const struct gh_identity *who, const char *name,
                   struct gh_sso_provider *out, int *from_config) GH_WUR GH_NONNULL(1, 2, 3, 4, 5);

/**
 * A new provider from spec: GH_ERR_INVALID (*why), GH_ERR_CONFLICT the name is taken. With
 * check_on_save an OIDC provider's discovery document must be fetched and pass (field
 * "issuer"), on the calling thread (the I/O pool), within the timeout.
 */
gh_err gh_ssop_create(struct gh_ssop *r, const struct gh_identity *who,
                      const struct gh_sso_spec *spec, const struct gh_reqmeta *meta,
                      struct gh_sso_provider *out, struct gh_ssop_refusal *why) GH_WUR
    GH_NONNULL(1, 2, 3, 4, 5, 6);

/** Changes provider name by spec (checked as gh_ssop_create): GH_ERR_INVALID (*why),
 * GH_ERR_NOT_FOUND, GH_ERR_IMMUTABLE a provider of the config file. */
gh_err gh_ssop_update(struct gh_ssop *r, const struct gh_identity *who, const char *name,
                      const struct gh_sso_spec *spec, const struct gh_reqmeta *meta,
                      struct gh_sso_provider *out, struct gh_ssop_refusal *why) GH_WUR
    GH_NONNULL(1, 2, 3, 4, 5, 6, 7);

/** Deletes provider name: GH_ERR_NOT_FOUND, GH_ERR_IMMUTABLE a provider of the config file. */
gh_err gh_ssop_delete(struct gh_ssop *r, const struct gh_identity *who, const char *name,
                      const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2, 3, 4);

/* For the sign-in flows (no caller yet). */

/** Provider name, wherever it is kept; GH_ERR_NOT_FOUND none. */
gh_err gh_ssop_find(struct gh_ssop *r, const char *name, struct gh_sso_provider *out) GH_WUR
    GH_NONNULL(1, 2, 3);

/** Visits the enabled providers (at most limit, config's first), for the login page's
 * buttons: their names and types only are public. */
gh_err gh_ssop_enabled(struct gh_ssop *r, size_t limit, gh_ssop_visit_fn fn, void *arg) GH_WUR
    GH_NONNULL(1, 3);

/**
 * Opens p's client secret into out (size bytes, NUL-terminated); GH_ERR_NOT_FOUND p has
 * none; the envelope's errors. The caller wipes out when done.
 */
gh_err gh_ssop_secret(struct gh_ssop *r, const struct gh_sso_provider *p, char *out,
                      size_t size) GH_WUR GH_NONNULL(1, 2, 3);

/**
 * Opens p's SAML private key (PEM) into out (size bytes, NUL-terminated);
 * GH_ERR_NOT_FOUND p has none; the envelope's errors. The caller wipes out when done.
 */
gh_err gh_ssop_saml_key(struct gh_ssop *r, const struct gh_sso_provider *p, char *out,
                        size_t size) GH_WUR GH_NONNULL(1, 2, 3);

/* Providers whose last metadata refresh is remembered (past it the oldest is forgotten). */
#define GH_SSOP_REFRESH_SLOTS 64

/**
 * Fetches stored SAML provider p's metadata anew from its idp_metadata_url, when a
 * signature failed against the stored one (the IdP may have rotated its key): at most once
 * per GH_SAML_META_RETRY per provider. A document that passes and differs replaces the
 * stored one (and lasso's kept server); *out is then p with it. GH_ERR_NOT_FOUND p has no
 * URL (or is the config file's, or its URL changed meanwhile); GH_ERR_BUSY tried too
 * recently; GH_ERR_AUTH the same document (only its time is stored); GH_ERR_INVALID the fetch
 * failed or was refused (the stored one stays).
 */
gh_err gh_ssop_saml_refresh(struct gh_ssop *r, const struct gh_sso_provider *p,
                            struct gh_sso_provider *out) GH_WUR GH_NONNULL(1, 2, 3);

/**
 * Refreshes (as gh_ssop_saml_refresh) each stored SAML provider whose fetched metadata is
 * older than GH_SAML_META_MAX_AGE: the daily refresh, run on the SSO pool (cli/serve.c).
 */
void gh_ssop_saml_refresh_stale(struct gh_ssop *r) GH_NONNULL(1);

#endif

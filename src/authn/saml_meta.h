#ifndef GH_AUTHN_SAML_META_H
#define GH_AUTHN_SAML_META_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "store/records.h"

/*
 * A SAML IdP's metadata fetched from p->idp_metadata_url (docs/SSO.md "Metadata by URL"):
 * with the same client and rules as an OpenID discovery document (edge/fetch.c: TLS
 * verified, no redirect to another host, the answer bounded), judged as inline metadata is.
 */

struct gh_fetch;

/** The refresh of a fetched document is tried at most this often per provider (seconds). */
#define GH_SAML_META_RETRY 600
/** A fetched document older than this is refreshed in the background (seconds). */
#define GH_SAML_META_MAX_AGE 86400

/**
 * Fetches p->idp_metadata_url into p->idp_metadata and sets p->idp_metadata_at to now, both
 * only on success. GH_ERR_IO unreachable, not a 200 or longer than GH_SAML_METADATA_MAX;
 * GH_ERR_INVALID not an IdP's EntityDescriptor lasso accepts (lasso must be open);
 * GH_ERR_NOMEM. The reason is logged, never returned to the caller.
 */
gh_err gh_saml_meta_fetch(struct gh_fetch *f, long timeout_ms, int64_t now,
                          struct gh_sso_provider *p) GH_WUR GH_NONNULL(1, 4);

#endif

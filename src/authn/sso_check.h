#ifndef GH_AUTHN_SSO_CHECK_H
#define GH_AUTHN_SSO_CHECK_H

#include <stdint.h>
#include "authn/sso_spec.h"
#include "core/err.h"
#include "store/records.h"

/*
 * The rules of an SSO provider's values (API.md "SSO"): names, types, presets (Google,
 * Microsoft with its tenant, Okta with the org's domain) and their defaults, https URLs
 * (http only to loopback hosts), the fields each type needs.
 */

/* The longest client secret accepted, in bytes. */
#define GH_SSO_SECRET_MAX 512
/**
 * Judges spec over base (the stored provider for a PATCH; NULL for a new one, which starts
 * from the defaults) into *out, without its secret: a client_secret in spec is copied into
 * secret (NUL-terminated) and *has_secret set; otherwise out keeps base's sealed secret.
 * GH_ERR_INVALID for an unacceptable value or a missing required one, *field naming it; a
 * PATCH may not change name, type, preset or tenant. now stamps created_at / updated_at.
 */
gh_err gh_ssop_build(const struct gh_sso_spec *spec, const struct gh_sso_provider *base,
                     int64_t now, struct gh_sso_provider *out, char secret[GH_SSO_SECRET_MAX + 1],
                     int *has_secret, const char **field) GH_WUR GH_NONNULL(1, 4, 5, 6, 7);

/** 1 when url is acceptable for a provider: https, or http to a loopback host
 * (localhost, 127.0.0.0/8, [::1]); no user info, no fragment, no blank. */
int gh_ssop_url_ok(const char *url) GH_NONNULL(1);

#endif

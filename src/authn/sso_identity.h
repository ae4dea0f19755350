#ifndef GH_AUTHN_SSO_IDENTITY_H
#define GH_AUTHN_SSO_IDENTITY_H

#include <jansson.h>
#include "core/err.h"
#include "store/records.h"

/*
 * Who an identity provider says signed in: the claims of a verified ID token or of a
 * userinfo answer, mapped by the provider's claim paths (dot-separated member names:
 * "email", "data.mail").
 */

struct gh_sso_identity {
    char subject[256]; /* the provider's stable id for the user; never empty */
    char email[256];   /* "" none */
    int email_verified;
    char username[65]; /* "" none */
    char name[256];    /* "" none */
};

/** The member at path (dot-separated) of obj, or NULL. */
const json_t *gh_sso_claim(const json_t *obj, const char *path) GH_NONNULL(2);

/**
 * Maps claims by p's paths into *out. The subject may be a string or an integer (GitHub's
 * ids are numbers); email, username and name are strings or absent; email_verified is true
 * or "true" (some providers send a string) and counts only with an email. GH_ERR_INVALID
 * no usable subject, or a claim of the wrong type or too long for its field.
 */
gh_err gh_sso_identity_map(const json_t *claims, const struct gh_sso_provider *p,
                           struct gh_sso_identity *out) GH_WUR GH_NONNULL(2, 3);

#endif

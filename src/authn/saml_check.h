#ifndef GH_AUTHN_SAML_CHECK_H
#define GH_AUTHN_SAML_CHECK_H

#include <stdint.h>
#include "authn/saml_facts.h"
#include "core/err.h"

/*
 * The rules a SAML Response must meet once its signatures hold (saml_lasso.h) and its
 * shape is sound (saml_facts.h): who issued it, for whom, in answer to which request,
 * when. One refusal reason per rule, for the audit trail (never the assertion's values).
 */

/* The clock skew allowed on each time, in seconds. */
#define GH_SAML_SKEW 60

struct gh_saml_expect {
    const char *idp_entity_id; /* the Response's and the Assertion's Issuer */
    const char *sp_entity_id;  /* an Audience of every AudienceRestriction */
    const char *acs_url;       /* the Response's Destination, the bearer confirmation's
                                  Recipient */
    const char *request_id;    /* our AuthnRequest's ID: InResponseTo of both */
    int64_t now;
};

/**
 * Judges f against e. GH_OK: *expires_at is the last second the assertion could still be
 * accepted (its validity's end plus the skew), until which its ID must be remembered.
 * Otherwise *reason names the broken rule: "issuer", "destination", "in_response_to",
 * "audience", "not_yet_valid", "expired", "subject_confirmation" (no bearer confirmation
 * for our ACS and request, in its window), "name_id"; GH_ERR_EXPIRED for "expired",
 * GH_ERR_NOT_YET for "not_yet_valid", GH_ERR_AUTH for the rest.
 */
gh_err gh_saml_check(const struct gh_saml_facts *f, const struct gh_saml_expect *e,
                     int64_t *expires_at, const char **reason) GH_WUR GH_NONNULL(1, 2, 3, 4);

#endif

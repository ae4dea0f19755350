/* The rules a SAML Response must meet (saml_check.h). */
#include "authn/saml_check.h"

#include <string.h>

#define BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"

/* 1 when t (0: absent) does not forbid now as a NotBefore; as a NotOnOrAfter. */
static int after_start(int64_t t, int64_t now)
{
    return t == 0 || now + GH_SAML_SKEW >= t;
}

static int before_end(int64_t t, int64_t now)
{
    return t == 0 || now < t + GH_SAML_SKEW;
}

/* 1 when every AudienceRestriction names us (and there is one). */
static int audience_ok(const struct gh_saml_facts *f, const char *sp)
{
    if (f->nrestrictions == 0)
        return 0;
    for (unsigned r = 0; r < f->nrestrictions; r++) {
        int found = 0;
        for (size_t i = 0; i < f->naudiences; i++)
            found |= f->audience_of[i] == r && strcmp(f->audiences[i], sp) == 0;
        if (!found)
            return 0;
    }
    return 1;
}

/* The bearer confirmation for our ACS and request valid now, or NULL. */
static const struct gh_saml_confirm *bearer(const struct gh_saml_facts *f,
                                            const struct gh_saml_expect *e)
{
    for (size_t i = 0; i < f->nconfirms; i++) {
        const struct gh_saml_confirm *k = &f->confirms[i];
        if (strcmp(k->method, BEARER) == 0 && strcmp(k->recipient, e->acs_url) == 0 &&
            strcmp(k->in_response_to, e->request_id) == 0 && k->not_on_or_after != 0 &&
            before_end(k->not_on_or_after, e->now) && after_start(k->not_before, e->now))
            return k;
    }
    return NULL;
}

gh_err gh_saml_check(const struct gh_saml_facts *f, const struct gh_saml_expect *e,
                     int64_t *expires_at, const char **reason)
{
    const struct gh_saml_confirm *k = NULL;
    gh_err err = GH_ERR_AUTH;
    if ((*reason = "issuer",
         strcmp(f->assertion_issuer, e->idp_entity_id) != 0 ||
             (f->issuer[0] != '\0' && strcmp(f->issuer, e->idp_entity_id) != 0)) ||
        (*reason = "destination",
         f->destination[0] != '\0' && strcmp(f->destination, e->acs_url) != 0) ||
        (*reason = "in_response_to", strcmp(f->in_response_to, e->request_id) != 0) ||
        (*reason = "audience", !audience_ok(f, e->sp_entity_id)) ||
        (*reason = "name_id", f->name_id[0] == '\0' || f->assertion_id[0] == '\0'))
        return err;
    *reason = "not_yet_valid";
    if (!after_start(f->not_before, e->now))
        return GH_ERR_NOT_YET;
    *reason = "expired";
    if (!before_end(f->not_on_or_after, e->now))
        return GH_ERR_EXPIRED;
    *reason = "subject_confirmation";
    if ((k = bearer(f, e)) == NULL) {
        /* Name expiry apart: it is the common failure and the one operators look for. */
        for (size_t i = 0; i < f->nconfirms; i++)
            if (!before_end(f->confirms[i].not_on_or_after, e->now)) {
                *reason = "expired";
                return GH_ERR_EXPIRED;
            }
        return err;
    }
    int64_t end = k->not_on_or_after;
    if (f->not_on_or_after != 0 && f->not_on_or_after < end)
        end = f->not_on_or_after;
    *expires_at = end + GH_SAML_SKEW;
    *reason = NULL;
    return GH_OK;
}

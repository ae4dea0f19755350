/* A SAML IdP's metadata by URL (saml_meta.h). */
#include "authn/saml_meta.h"

#include <string.h>

#include "authn/saml_facts.h"
#include "authn/saml_lasso.h"
#include "core/log.h"
#include "edge/fetch.h"

gh_err gh_saml_meta_fetch(struct gh_fetch *f, long timeout_ms, int64_t now,
                          struct gh_sso_provider *p)
{
    char reason[128], entity[GH_SAML_TEXT_MAX + 1];
    struct gh_fetch_req rq = {
        .url = p->idp_metadata_url, .timeout_ms = timeout_ms, .max_bytes = GH_SAML_METADATA_MAX};
    struct gh_fetch_resp doc = {0, NULL, 0};
    gh_err err = gh_fetch_do(f, &rq, &doc, reason, sizeof(reason));
    if (err == GH_ERR_NOMEM)
        return err;
    if (err != GH_OK || doc.status != 200 || doc.body == NULL ||
        memchr(doc.body, '\0', doc.len) != NULL) {
        gh_log(GH_LOG_WARN, "saml: provider %s: metadata: %s", p->name,
               err != GH_OK ? reason : "not a 200 with a text body");
        gh_fetch_resp_clear(&doc);
        return GH_ERR_IO;
    }
    /* judged as inline metadata is (sso_providers.c saml_parts) before it replaces any */
    if (gh_saml_lasso_idp_entity(doc.body, entity, sizeof(entity)) != GH_OK) {
        gh_log(GH_LOG_WARN, "saml: provider %s: metadata refused by lasso", p->name);
        gh_fetch_resp_clear(&doc);
        return GH_ERR_INVALID;
    }
    memcpy(p->idp_metadata, doc.body, doc.len);
    p->idp_metadata[doc.len] = '\0';
    p->idp_metadata_at = now;
    gh_fetch_resp_clear(&doc);
    return GH_OK;
}

#ifndef GH_AUTHN_SAML_LASSO_H
#define GH_AUTHN_SAML_LASSO_H

#include <stddef.h>
#include "core/err.h"

/*
 * The SAML 2.0 service provider's calls into lasso (and through it libxml2 and xmlsec),
 * opened at run time on first use as edge/fetch opens libcurl: lasso brings GLib,
 * libxml2, xmlsec, ICU and their libraries into the process, about 9 MB resident (6 MB
 * loaded, 3 MB more once started), for a feature that is off unless a SAML provider is
 * configured. Every call below runs under
 * one lock (lasso keeps process-wide state and SAML sign-ins are rare).
 *
 * An SP here is what lasso needs of one provider: our SP metadata (saml_meta.h), our
 * private key and certificate (PEM) and the IdP's metadata. The IdP must be the only
 * provider lasso knows for it, so a message issued by anyone else fails its lookup.
 * lasso's server for a provider is built on its first use and kept (the last 16
 * providers) until any of these values changes: building it is most of a step's cost.
 */

struct _xmlDoc;

#define GH_SAML_NAME_MAX 64    /* a provider's name (GH_SSO_NAME_MAX) */
#define GH_SAML_ENTITY_MAX 512 /* an IdP's entity id as kept */

struct gh_saml_sp {
    const char *name;         /* the provider's: its server is kept under it */
    const char *sp_metadata;  /* our EntityDescriptor (gh_saml_meta_build) */
    const char *key_pem;      /* our private key (opened from its envelope; wiped by the
                                 caller) */
    const char *cert_pem;     /* our certificate */
    const char *idp_metadata; /* the IdP's EntityDescriptor */
};

/** Loads and starts lasso unless done: GH_ERR_IO it cannot be (logged). It stays for the
 * life of the process: GObject (NODELETE) would keep lasso's registered types pointing
 * into an unloaded library, so a second load would register them again over stale
 * classes. */
gh_err gh_saml_lasso_open(void) GH_WUR;

/**
 * The IdP entity id of metadata (an IdP's EntityDescriptor with an SSO service) into out
 * (size bytes, NUL-terminated). GH_ERR_INVALID lasso refuses it or it names no IdP;
 * GH_ERR_TOO_LARGE the id does not fit; GH_ERR_IO lasso is not open.
 */
gh_err gh_saml_lasso_idp_entity(const char *metadata, char *out, size_t size) GH_WUR
    GH_NONNULL(1, 2);

/**
 * Drops provider name's kept server (it holds our private key) at once: the registry calls
 * it when the provider is changed or deleted, rather than leave the key in memory until the
 * slot is reused. Nothing when none is kept or lasso was never opened.
 */
void gh_saml_lasso_forget(const char *name) GH_NONNULL(1);

/**
 * An AuthnRequest for sp's IdP over HTTP-Redirect, signed with sp's key, asking for the
 * answer by HTTP-POST at acs_url, with ID request_id, carrying relay_state: the URL to
 * send the browser to into url (url_size bytes).
 * GH_ERR_INVALID lasso refuses the configuration; GH_ERR_TOO_LARGE a result does not fit;
 * GH_ERR_IO lasso is not open.
 */
gh_err gh_saml_lasso_authn_request(const struct gh_saml_sp *sp, const char *acs_url,
                                   const char *request_id, const char *relay_state, char *url,
                                   size_t url_size) GH_WUR GH_NONNULL(1, 2, 3, 4, 5);

/**
 * Checks the signatures of the HTTP-POST SAMLResponse b64 (base64, as posted) by sp's
 * IdP: the Response signed, or else every Assertion in it signed, by the key of the IdP's
 * metadata, each signature referring to the element that carries it; a success status.
 * An EncryptedAssertion is decrypted with sp's key first, and its Assertion signed, or the
 * Response signed (over the encrypted form), as above. With decrypt (the same Response
 * parsed by gh_saml_lasso_parse, holding one EncryptedAssertion: saml_facts.h), the
 * Assertion lasso decrypted and verified replaces it there, for the caller to read.
 * GH_OK the signatures hold (the caller still judges the contents: saml_check.h) and idp
 * (idp_size bytes) has the IdP's entity id; GH_ERR_AUTH a signature is missing or fails,
 * the assertion cannot be decrypted with our key, the issuer is not the IdP or the status
 * is not success; GH_ERR_INVALID not a SAML Response; GH_ERR_TOO_LARGE idp is too small;
 * GH_ERR_IO lasso is not open.
 */
gh_err gh_saml_lasso_verify(const struct gh_saml_sp *sp, const char *b64, struct _xmlDoc *decrypt,
                            char *idp, size_t idp_size) GH_WUR GH_NONNULL(1, 2, 4);

/**
 * Parses the XML text xml (n bytes) with lasso's libxml2 into *out: no network, no
 * external entities or DTD loaded, no messages on stderr. GH_ERR_INVALID not
 * well-formed; GH_ERR_IO lasso is not open. Freed by gh_saml_lasso_free_doc.
 */
gh_err gh_saml_lasso_parse(const char *xml, size_t n, struct _xmlDoc **out) GH_WUR GH_NONNULL(1, 3);

/** Frees a document of gh_saml_lasso_parse; NULL is fine. */
void gh_saml_lasso_free_doc(struct _xmlDoc *doc);

#endif

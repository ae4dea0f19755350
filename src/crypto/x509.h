#ifndef GH_CRYPTO_X509_H
#define GH_CRYPTO_X509_H

#include <stddef.h>
#include "core/err.h"

/*
 * An X.509 certificate and its private key as PEM text, for the SAML service provider:
 * the pair an admin gives is checked before it is kept, and the certificate is published
 * in the SP metadata as base64 DER.
 */

/** GH_OK when cert_pem is one certificate and key_pem (an unencrypted private key) is its
 * key; GH_ERR_INVALID either does not parse; GH_ERR_AUTH they are not a pair. */
gh_err gh_x509_pair_check(const char *cert_pem, const char *key_pem) GH_WUR GH_NONNULL(1, 2);

/** The DER of cert_pem in standard base64 (no line breaks) into out (size bytes,
 * NUL-terminated); GH_ERR_INVALID it does not parse, GH_ERR_TOO_LARGE it does not fit. */
gh_err gh_x509_der_base64(const char *cert_pem, char *out, size_t size) GH_WUR GH_NONNULL(1, 2);

#endif

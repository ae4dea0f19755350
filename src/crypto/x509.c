/* An X.509 certificate and its key as PEM (x509.h). */
#include "crypto/x509.h"

#include <string.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static X509 *read_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

/* An encrypted key is refused, never prompted for. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

gh_err gh_x509_pair_check(const char *cert_pem, const char *key_pem)
{
    gh_err err = GH_ERR_INVALID;
    X509 *x = read_cert(cert_pem);
    BIO *b = BIO_new_mem_buf(key_pem, -1);
    EVP_PKEY *k = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
    if (x != NULL && k != NULL)
        err = X509_check_private_key(x, k) == 1 ? GH_OK : GH_ERR_AUTH;
    EVP_PKEY_free(k);
    BIO_free(b);
    X509_free(x);
    return err;
}

gh_err gh_x509_der_base64(const char *cert_pem, char *out, size_t size)
{
    gh_err err = GH_ERR_INVALID;
    unsigned char *der = NULL;
    X509 *x = read_cert(cert_pem);
    int n = x != NULL ? i2d_X509(x, &der) : -1;
    if (n > 0) {
        size_t need = 4 * (((size_t)n + 2) / 3) + 1;
        err = GH_ERR_TOO_LARGE;
        if (need <= size && EVP_EncodeBlock((unsigned char *)out, der, n) > 0)
            err = GH_OK;
    }
    OPENSSL_free(der);
    X509_free(x);
    return err;
}

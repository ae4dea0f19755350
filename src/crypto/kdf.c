/* HKDF-SHA256 on OpenSSL's EVP_KDF, Argon2id on libsodium. */
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <pthread.h>
#include <sodium.h>

#include "crypto/kdf.h"

_Static_assert(GH_KDF_SALT_LEN == crypto_pwhash_SALTBYTES, "Argon2id salt size");

/* Fetched once: a fetch searches the provider's algorithms, which costs more than the
 * derivation itself. Never freed (held for the process's life, like OpenSSL's own). */
static EVP_KDF *hkdf;
static pthread_once_t hkdf_once = PTHREAD_ONCE_INIT;

static void hkdf_fetch(void)
{
    hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

gh_err gh_kdf_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                   const uint8_t *info, size_t info_len, uint8_t *out, size_t len)
{
    gh_err err = GH_ERR_CRYPTO;
    pthread_once(&hkdf_once, hkdf_fetch);
    EVP_KDF_CTX *ctx = hkdf != NULL ? EVP_KDF_CTX_new(hkdf) : NULL;
    OSSL_PARAM params[5], *p = params;
    if (ctx == NULL)
        goto out;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    if (salt_len > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    if (info_len > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *p = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(ctx, out, len, params) == 1)
        err = GH_OK;
out:
    EVP_KDF_CTX_free(ctx);
    return err;
}

gh_err gh_kdf_argon2id(const char *pass, size_t n, const struct gh_kdf_argon2 *p, uint8_t *out,
                       size_t len)
{
    size_t mem = (size_t)p->mem_kib * 1024;
    if (p->ops < crypto_pwhash_OPSLIMIT_MIN || mem < crypto_pwhash_MEMLIMIT_MIN || p->ops > 16 ||
        p->mem_kib > 1024u * 1024 || len < crypto_pwhash_BYTES_MIN)
        return GH_ERR_INVALID;
    if (crypto_pwhash(out, len, pass, n, p->salt, p->ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return GH_ERR_NOMEM;
    return GH_OK;
}

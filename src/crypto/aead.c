/* AEAD seal/open: AES-256-GCM on OpenSSL EVP, XChaCha20-Poly1305 on libsodium. */
#include <limits.h>
#include <openssl/evp.h>
#include <string.h>
#include <sodium.h>

#include "crypto/aead.h"

size_t gh_aead_overhead(enum gh_aead_alg alg)
{
    return alg == GH_AEAD_XCHACHA ? GH_XCHACHA_OVERHEAD : GH_GCM_OVERHEAD;
}

/* One AES-256-GCM pass: enc 1 encrypts in (n bytes) into out and writes the tag to tag;
 * enc 0 decrypts and checks tag. GH_ERR_AUTH a tag that does not match. */
static gh_err gcm(int enc, const uint8_t *key, const uint8_t *nonce, const uint8_t *ad,
                  size_t ad_len, const uint8_t *in, size_t n, uint8_t *out, uint8_t *tag)
{
    gh_err err = GH_ERR_CRYPTO;
    int len = 0;
    if (n > INT_MAX || ad_len > INT_MAX)
        return GH_ERR_TOO_LARGE;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return GH_ERR_NOMEM;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc) != 1)
        goto out;
    if (ad_len > 0 && EVP_CipherUpdate(ctx, NULL, &len, ad, (int)ad_len) != 1)
        goto out;
    if (n > 0 && EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1)
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GH_GCM_TAG_LEN, tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, out + n, &len) != 1) {
        err = enc ? GH_ERR_CRYPTO : GH_ERR_AUTH;
        goto out;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GH_GCM_TAG_LEN, tag) != 1)
        goto out;
    err = GH_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return err;
}

gh_err gh_aead_gcm_raw(const uint8_t key[GH_AEAD_KEY_LEN], const uint8_t nonce[GH_GCM_NONCE_LEN],
                       const uint8_t *ad, size_t ad_len, const uint8_t *pt, size_t n, uint8_t *out)
{
    return gcm(1, key, nonce, ad, ad_len, pt, n, out, out + n);
}

gh_err gh_aead_seal(enum gh_aead_alg alg, const uint8_t key[GH_AEAD_KEY_LEN], const uint8_t *ad,
                    size_t ad_len, const uint8_t *pt, size_t n, uint8_t *out, size_t out_size,
                    size_t *out_len)
{
    size_t over = gh_aead_overhead(alg);
    unsigned long long clen = 0;
    if (n > out_size || out_size - n < over)
        return GH_ERR_TOO_LARGE;
    if (alg == GH_AEAD_AES256GCM) {
        randombytes_buf(out, GH_GCM_NONCE_LEN);
        gh_err err = gh_aead_gcm_raw(key, out, ad, ad_len, pt, n, out + GH_GCM_NONCE_LEN);
        if (err != GH_OK)
            return err;
    } else {
        randombytes_buf(out, GH_XCHACHA_NONCE_LEN);
        if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + GH_XCHACHA_NONCE_LEN, &clen, pt, n, ad,
                                                       ad_len, NULL, out, key) != 0)
            return GH_ERR_CRYPTO;
    }
    *out_len = n + over;
    return GH_OK;
}

gh_err gh_aead_open(enum gh_aead_alg alg, const uint8_t key[GH_AEAD_KEY_LEN], const uint8_t *ad,
                    size_t ad_len, const uint8_t *sealed, size_t len, uint8_t *out, size_t out_size,
                    size_t *out_len)
{
    size_t over = gh_aead_overhead(alg);
    gh_err err = GH_OK;
    if (len < over)
        return GH_ERR_INVALID;
    size_t n = len - over;
    if (n > out_size)
        return GH_ERR_TOO_LARGE;
    if (alg == GH_AEAD_AES256GCM) {
        /* The tag is copied out: OpenSSL takes it as a non-const pointer. */
        uint8_t tag[GH_GCM_TAG_LEN];
        memcpy(tag, sealed + len - GH_GCM_TAG_LEN, sizeof(tag));
        err = gcm(0, key, sealed, ad, ad_len, sealed + GH_GCM_NONCE_LEN, n, out, tag);
    } else {
        unsigned long long m = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &m, NULL, sealed + GH_XCHACHA_NONCE_LEN,
                                                       len - GH_XCHACHA_NONCE_LEN, ad, ad_len,
                                                       sealed, key) != 0)
            err = GH_ERR_AUTH;
    }
    if (err != GH_OK) {
        sodium_memzero(out, n);
        return err;
    }
    *out_len = n;
    return GH_OK;
}

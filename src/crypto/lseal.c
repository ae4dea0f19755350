#include "crypto/lseal.h"

#include <string.h>
#include <sodium.h>

#include "crypto/b64url.h"

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define PREFIX_LEN (sizeof(GH_LSEAL_PREFIX) - 1)
#define RAW_MAX (NONCE + GH_LSEAL_MAX_PLAIN + TAG)

gh_err gh_lseal(const unsigned char key[GH_LSEAL_KEY_LEN], const char *ad, const unsigned char *pt,
                size_t n, char *out, size_t cap)
{
    unsigned char raw[RAW_MAX];
    unsigned long long clen = 0;
    size_t len = 0;
    if (n > GH_LSEAL_MAX_PLAIN || cap < PREFIX_LEN + 1)
        return GH_ERR_TOO_LARGE;
    randombytes_buf(raw, NONCE);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(
            raw + NONCE, &clen, pt, n, (const unsigned char *)ad, strlen(ad), NULL, raw, key) != 0)
        return GH_ERR_CRYPTO;
    memcpy(out, GH_LSEAL_PREFIX, PREFIX_LEN);
    gh_err err =
        gh_b64url_encode(raw, NONCE + (size_t)clen, out + PREFIX_LEN, cap - PREFIX_LEN, &len);
    sodium_memzero(raw, sizeof(raw));
    return err;
}

gh_err gh_lunseal(const unsigned char key[GH_LSEAL_KEY_LEN], const char *ad, const char *text,
                  unsigned char *pt, size_t cap, size_t *n)
{
    unsigned char raw[RAW_MAX], plain[GH_LSEAL_MAX_PLAIN];
    unsigned long long plen = 0;
    size_t len = 0;
    if (strncmp(text, GH_LSEAL_PREFIX, PREFIX_LEN) != 0)
        return GH_ERR_INVALID;
    text += PREFIX_LEN;
    if (gh_b64url_decode(text, strlen(text), raw, sizeof(raw), &len) != GH_OK || len < NONCE + TAG)
        return GH_ERR_INVALID;
    gh_err err = GH_ERR_AUTH;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, raw + NONCE, len - NONCE,
                                                   (const unsigned char *)ad, strlen(ad), raw,
                                                   key) == 0) {
        err = plen <= cap ? GH_OK : GH_ERR_TOO_LARGE;
        if (err == GH_OK) {
            memcpy(pt, plain, (size_t)plen);
            *n = (size_t)plen;
        }
    }
    sodium_memzero(plain, sizeof(plain));
    sodium_memzero(raw, sizeof(raw));
    return err;
}

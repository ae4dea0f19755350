#include "authn/password.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#define PREFIX "$bcrypt-sha256$"
#define PREFIX_LEN (sizeof(PREFIX) - 1)
#define BCRYPT_SETTING_LEN 29 /* "$2b$12$" + 22 salt characters */
#define BCRYPT_MAX_INPUT 72

/*
 * bcrypt reads at most 72 bytes and stops at NUL. Our form feeds it
 * base64(HMAC-SHA256(key = the salt setting, password)) instead: 44 printable bytes that
 * depend on every byte of the password.
 */
static gh_err prehash(const char *setting, const char *pw, size_t len, char out[45])
{
    unsigned char mac[32];
    unsigned int mac_len = 0;
    if (HMAC(EVP_sha256(), setting, (int)strlen(setting), (const unsigned char *)pw, len, mac,
             &mac_len) == NULL ||
        mac_len != sizeof(mac))
        return GH_ERR_CRYPTO;
    int n = EVP_EncodeBlock((unsigned char *)out, mac, (int)sizeof(mac));
    sodium_memzero(mac, sizeof(mac));
    return n == 44 ? GH_OK : GH_ERR_CRYPTO;
}

/* crypt_rn into out; struct crypt_data is 32 KiB, so it lives on the heap. */
static gh_err bcrypt_raw(const char *input, const char *setting, char *out, size_t size)
{
    struct crypt_data *data = calloc(1, sizeof(*data));
    if (data == NULL)
        return GH_ERR_NOMEM;
    gh_err err = GH_ERR_CRYPTO;
    const char *h = crypt_rn(input, setting, data, (int)sizeof(*data));
    if (h != NULL && h[0] == '$') {
        size_t n = strlen(h);
        if (n < size) {
            memcpy(out, h, n + 1);
            err = GH_OK;
        } else {
            err = GH_ERR_TOO_LARGE;
        }
    }
    sodium_memzero(data, sizeof(*data));
    free(data);
    return err;
}

static gh_err bcrypt_sha256(const char *setting, const char *pw, size_t len, char *out, size_t size)
{
    char input[45];
    gh_err err = prehash(setting, pw, len, input);
    if (err == GH_OK)
        err = bcrypt_raw(input, setting, out, size);
    sodium_memzero(input, sizeof(input));
    return err;
}

gh_err gh_password_hash(const struct gh_pwhash_params *p, const char *pw, size_t len,
                        char out[GH_PWHASH_MAX])
{
    if (p->alg == GH_PWHASH_ARGON2ID) {
        char h[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str_alg(h, pw, len, p->argon2_ops, p->argon2_memory,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0)
            return GH_ERR_NOMEM; /* libsodium fails only when it cannot get the memory */
        size_t n = strlen(h);
        if (n >= GH_PWHASH_MAX)
            return GH_ERR_TOO_LARGE;
        memcpy(out, h, n + 1);
        return GH_OK;
    }
    char setting[64];
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof(rnd));
    const char *s = crypt_gensalt_rn("$2b$", p->bcrypt_cost, (const char *)rnd, sizeof(rnd),
                                     setting, (int)sizeof(setting));
    sodium_memzero(rnd, sizeof(rnd));
    if (s == NULL)
        return GH_ERR_CRYPTO;
    memcpy(out, PREFIX, PREFIX_LEN);
    return bcrypt_sha256(setting, pw, len, out + PREFIX_LEN, GH_PWHASH_MAX - PREFIX_LEN);
}

/* The prefix tests in this file identify a hash's format; none compares a secret. */
static int is_plain_bcrypt(const char *hash)
{
    return strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
           strncmp(hash, "$2y$", 4) == 0;
}

/* Constant-time equality of two NUL-terminated strings; lengths are not secret. */
static int same(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

gh_err gh_password_verify(const char *hash, const char *pw, size_t len)
{
    char computed[GH_PWHASH_MAX];
    gh_err err;

    if (strncmp(hash, "$argon2id$", 10) == 0)
        return crypto_pwhash_str_verify(hash, pw, len) == 0 ? GH_OK : GH_ERR_AUTH;
    if (strncmp(hash, PREFIX, PREFIX_LEN) == 0) {
        const char *bc = hash + PREFIX_LEN;
        if (strlen(bc) < BCRYPT_SETTING_LEN || !is_plain_bcrypt(bc))
            return GH_ERR_INVALID;
        char setting[BCRYPT_SETTING_LEN + 1];
        memcpy(setting, bc, BCRYPT_SETTING_LEN);
        setting[BCRYPT_SETTING_LEN] = '\0';
        err = bcrypt_sha256(setting, pw, len, computed, sizeof(computed));
        if (err == GH_OK)
            err = same(computed, bc) ? GH_OK : GH_ERR_AUTH;
    } else if (is_plain_bcrypt(hash)) {
        /* Imported hashes: bcrypt semantics, so a NUL or a 73rd byte cannot match. */
        if (len > BCRYPT_MAX_INPUT || memchr(pw, '\0', len) != NULL)
            return GH_ERR_AUTH;
        char input[BCRYPT_MAX_INPUT + 1];
        memcpy(input, pw, len);
        input[len] = '\0';
        err = bcrypt_raw(input, hash, computed, sizeof(computed));
        sodium_memzero(input, sizeof(input));
        if (err == GH_OK)
            err = same(computed, hash) ? GH_OK : GH_ERR_AUTH;
    } else {
        return GH_ERR_INVALID;
    }
    sodium_memzero(computed, sizeof(computed));
    return err;
}

/* The cost of a "$2b$NN$" string, or -1. */
static int bcrypt_cost(const char *bc)
{
    if (!is_plain_bcrypt(bc) || bc[4] < '0' || bc[4] > '9' || bc[5] < '0' || bc[5] > '9' ||
        bc[6] != '$')
        return -1;
    return (bc[4] - '0') * 10 + (bc[5] - '0');
}

int gh_password_needs_rehash(const struct gh_pwhash_params *p, const char *hash)
{
    if (p->alg == GH_PWHASH_ARGON2ID)
        return strncmp(hash, "$argon2id$", 10) != 0 ||
               crypto_pwhash_str_needs_rehash(hash, p->argon2_ops, p->argon2_memory) != 0;
    if (strncmp(hash, PREFIX, PREFIX_LEN) != 0)
        return 1; /* plain bcrypt or Argon2id: move to the configured form */
    return bcrypt_cost(hash + PREFIX_LEN) != (int)p->bcrypt_cost;
}

#include "authn/password.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define BCRYPT_SHA256_PREFIX "$bcrypt-sha256$"
#define BCRYPT_SHA256_PREFIX_LEN (sizeof(BCRYPT_SHA256_PREFIX) - 1)
#define ARGON2ID_PREFIX "$argon2id$"
#define ARGON2ID_PREFIX_LEN (sizeof(ARGON2ID_PREFIX) - 1)

#define BCRYPT_LEN 60         /* "$2b$NN$" + 22 salt + 31 hash characters */
#define BCRYPT_SETTING_LEN 29 /* "$2b$NN$" + 22 salt characters */
#define BCRYPT_MAX_INPUT 72   /* bcrypt ignores every byte past the 72nd */
#define BCRYPT_COST_MIN 4
#define BCRYPT_COST_MAX 31
#define BCRYPT_SALT_BYTES 16
#define PREHASH_LEN 44 /* standard base64 of a 32-byte HMAC-SHA256, without the NUL */

_Static_assert(crypto_pwhash_STRBYTES <= GH_PWHASH_MAX, "Argon2id string fits");
_Static_assert(BCRYPT_SHA256_PREFIX_LEN + BCRYPT_LEN < GH_PWHASH_MAX, "bcrypt-sha256 fits");
_Static_assert(sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES,
                                         sodium_base64_VARIANT_ORIGINAL) == PREHASH_LEN + 1,
               "pre-hash length");

static int bcrypt_alphabet(char c)
{
    return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9');
}

/*
 * The cost of a plain bcrypt string ("$2a$" / "$2b$" / "$2y$", two-digit cost 04..31,
 * 53 characters of salt and hash, nothing after), or -1 when s is anything else.
 */
static int bcrypt_parse(const char *s)
{
    if (strnlen(s, BCRYPT_LEN + 1) != BCRYPT_LEN || s[0] != '$' || s[1] != '2' ||
        (s[2] != 'a' && s[2] != 'b' && s[2] != 'y') || s[3] != '$' || s[4] < '0' || s[4] > '9' ||
        s[5] < '0' || s[5] > '9' || s[6] != '$')
        return -1;
    int cost = (s[4] - '0') * 10 + (s[5] - '0');
    if (cost < BCRYPT_COST_MIN || cost > BCRYPT_COST_MAX)
        return -1;
    for (size_t i = 7; i < BCRYPT_LEN; i++) {
        if (!bcrypt_alphabet(s[i]))
            return -1;
    }
    return cost;
}

/*
 * crypt_rn(input, setting) into out. struct crypt_data is 32 KiB: too big for the stack of
 * a pool thread, so each call takes its own from the heap (which also keeps this
 * re-entrant) and wipes it, since it holds the key schedule derived from the password.
 */
static gh_err bcrypt_run(const char *input, const char *setting, char out[BCRYPT_LEN + 1])
{
    gh_err ret = GH_ERR_NOMEM;
    struct crypt_data *data = calloc(1, sizeof(*data));
    const char *h;

    if (data == NULL)
        goto out;
    ret = GH_ERR_CRYPTO;
    h = crypt_rn(input, setting, data, (int)sizeof(*data));
    /* crypt_rn returns NULL on failure; "*0" / "*1" are crypt_r's failure tokens. */
    if (h == NULL || h[0] == '*' || strnlen(h, BCRYPT_LEN + 1) != BCRYPT_LEN)
        goto out;
    memcpy(out, h, BCRYPT_LEN + 1);
    ret = GH_OK;
out:
    if (data != NULL) {
        sodium_memzero(data, sizeof(*data));
        free(data);
    }
    return ret;
}

/*
 * bcrypt over base64(HMAC-SHA256(key = setting, pw)): 44 printable bytes (no NUL, under
 * bcrypt's 72) that depend on every byte of pw. Keying with the salted setting keeps the
 * pre-hash from being a plain, unsalted SHA-256 of the password (no "password shucking"
 * against leaked SHA-256 lists).
 */
static gh_err bcrypt_sha256(const char *setting, const char *pw, size_t len,
                            char out[BCRYPT_LEN + 1])
{
    gh_err ret = GH_ERR_CRYPTO;
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char input[PREHASH_LEN + 1];

    if (crypto_auth_hmacsha256_init(&st, (const unsigned char *)setting, BCRYPT_SETTING_LEN) != 0 ||
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)pw, len) != 0 ||
        crypto_auth_hmacsha256_final(&st, mac) != 0)
        goto out;
    sodium_bin2base64(input, sizeof(input), mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
    if (strnlen(input, sizeof(input)) != PREHASH_LEN)
        goto out;
    ret = bcrypt_run(input, setting, out);
out:
    sodium_memzero(&st, sizeof(st));
    sodium_memzero(mac, sizeof(mac));
    sodium_memzero(input, sizeof(input));
    return ret;
}

static gh_err hash_bcrypt_sha256(unsigned cost, const char *pw, size_t len, char out[GH_PWHASH_MAX])
{
    gh_err ret = GH_ERR_INVALID;
    unsigned char rnd[BCRYPT_SALT_BYTES];
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    char bc[BCRYPT_LEN + 1];

    randombytes_buf(rnd, sizeof(rnd));
    if (cost < BCRYPT_COST_MIN || cost > BCRYPT_COST_MAX)
        goto out;
    ret = GH_ERR_CRYPTO;
    if (crypt_gensalt_rn("$2b$", cost, (const char *)rnd, (int)sizeof(rnd), setting,
                         (int)sizeof(setting)) == NULL ||
        strnlen(setting, sizeof(setting)) != BCRYPT_SETTING_LEN)
        goto out;
    if ((ret = bcrypt_sha256(setting, pw, len, bc)) != GH_OK)
        goto out;
    memcpy(out, BCRYPT_SHA256_PREFIX, BCRYPT_SHA256_PREFIX_LEN);
    memcpy(out + BCRYPT_SHA256_PREFIX_LEN, bc, BCRYPT_LEN + 1);
out:
    sodium_memzero(rnd, sizeof(rnd));
    sodium_memzero(bc, sizeof(bc));
    return ret;
}

static gh_err hash_argon2id(const struct gh_pwhash_params *p, const char *pw, size_t len,
                            char out[GH_PWHASH_MAX])
{
    if (p->argon2_ops < crypto_pwhash_argon2id_opslimit_min() ||
        p->argon2_ops > crypto_pwhash_argon2id_opslimit_max() ||
        p->argon2_memory < crypto_pwhash_argon2id_memlimit_min() ||
        p->argon2_memory > crypto_pwhash_argon2id_memlimit_max())
        return GH_ERR_INVALID;
    if (len > crypto_pwhash_argon2id_passwd_max())
        return GH_ERR_TOO_LARGE;
    errno = 0;
    if (crypto_pwhash_str_alg(out, pw, len, p->argon2_ops, p->argon2_memory,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return errno == ENOMEM ? GH_ERR_NOMEM : GH_ERR_CRYPTO;
    return GH_OK;
}

gh_err gh_password_hash(const struct gh_pwhash_params *p, const char *pw, size_t len,
                        char out[GH_PWHASH_MAX])
{
    gh_err ret = GH_ERR_CRYPTO;
    char h[GH_PWHASH_MAX];

    /* Idempotent and thread-safe; makes the module safe to call before main's init. */
    if (sodium_init() < 0)
        goto out;
    switch (p->alg) {
    case GH_PWHASH_BCRYPT:
        ret = hash_bcrypt_sha256(p->bcrypt_cost, pw, len, h);
        break;
    case GH_PWHASH_ARGON2ID:
        ret = hash_argon2id(p, pw, len, h);
        break;
    default:
        ret = GH_ERR_INVALID;
        break;
    }
    if (ret == GH_OK)
        memcpy(out, h, strlen(h) + 1);
out:
    sodium_memzero(h, sizeof(h));
    return ret;
}

static gh_err verify_argon2id(const char *hash, const char *pw, size_t len)
{
    /* str_verify says -1 for a mismatch and a malformed string alike; this tells them apart. */
    if (crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_argon2id_opslimit_min(),
                                       crypto_pwhash_argon2id_memlimit_min()) < 0)
        return GH_ERR_INVALID;
    return crypto_pwhash_str_verify(hash, pw, len) == 0 ? GH_OK : GH_ERR_AUTH;
}

static gh_err verify_bcrypt_sha256(const char *bc, const char *pw, size_t len)
{
    gh_err ret = GH_ERR_INVALID;
    char setting[BCRYPT_SETTING_LEN + 1];
    char computed[BCRYPT_LEN + 1];

    memset(computed, 0, sizeof(computed));
    if (bcrypt_parse(bc) < 0)
        goto out;
    memcpy(setting, bc, BCRYPT_SETTING_LEN);
    setting[BCRYPT_SETTING_LEN] = '\0';
    if ((ret = bcrypt_sha256(setting, pw, len, computed)) != GH_OK)
        goto out;
    /* Both are exactly BCRYPT_LEN long (bcrypt_parse, bcrypt_run): compare that much. */
    ret = sodium_memcmp(computed, bc, BCRYPT_LEN) == 0 ? GH_OK : GH_ERR_AUTH;
out:
    sodium_memzero(computed, sizeof(computed));
    return ret;
}

/* Imported hashes keep bcrypt's meaning: a NUL or a 73rd byte can never match. */
static gh_err verify_bcrypt_plain(const char *hash, const char *pw, size_t len)
{
    gh_err ret = GH_ERR_AUTH;
    char input[BCRYPT_MAX_INPUT + 1];
    char computed[BCRYPT_LEN + 1];

    memset(input, 0, sizeof(input));
    memset(computed, 0, sizeof(computed));
    if (len > BCRYPT_MAX_INPUT || memchr(pw, '\0', len) != NULL)
        goto out;
    memcpy(input, pw, len);
    input[len] = '\0';
    if ((ret = bcrypt_run(input, hash, computed)) != GH_OK)
        goto out;
    ret = sodium_memcmp(computed, hash, BCRYPT_LEN) == 0 ? GH_OK : GH_ERR_AUTH;
out:
    sodium_memzero(input, sizeof(input));
    sodium_memzero(computed, sizeof(computed));
    return ret;
}

gh_err gh_password_verify(const char *hash, const char *pw, size_t len)
{
    if (sodium_init() < 0)
        return GH_ERR_CRYPTO;
    if (strnlen(hash, GH_PWHASH_MAX) == GH_PWHASH_MAX)
        return GH_ERR_INVALID;
    if (strncmp(hash, ARGON2ID_PREFIX, ARGON2ID_PREFIX_LEN) == 0)
        return verify_argon2id(hash, pw, len);
    if (strncmp(hash, BCRYPT_SHA256_PREFIX, BCRYPT_SHA256_PREFIX_LEN) == 0)
        return verify_bcrypt_sha256(hash + BCRYPT_SHA256_PREFIX_LEN, pw, len);
    if (bcrypt_parse(hash) >= 0)
        return verify_bcrypt_plain(hash, pw, len);
    return GH_ERR_INVALID;
}

int gh_password_needs_rehash(const struct gh_pwhash_params *p, const char *hash)
{
    switch (p->alg) {
    case GH_PWHASH_ARGON2ID:
        /* libsodium: 0 same parameters, 1 other parameters, -1 not an Argon2id string */
        return strncmp(hash, ARGON2ID_PREFIX, ARGON2ID_PREFIX_LEN) != 0 ||
               crypto_pwhash_str_needs_rehash(hash, p->argon2_ops, p->argon2_memory) != 0;
    case GH_PWHASH_BCRYPT:
        /* Plain bcrypt (imported) and Argon2id move to the configured form as well. */
        return strncmp(hash, BCRYPT_SHA256_PREFIX, BCRYPT_SHA256_PREFIX_LEN) != 0 ||
               bcrypt_parse(hash + BCRYPT_SHA256_PREFIX_LEN) != (int)p->bcrypt_cost;
    }
    /* An unknown algorithm cannot hash either: asking for a rehash would only fail. */
    return 0;
}

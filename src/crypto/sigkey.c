#include "crypto/sigkey.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "crypto/b64url.h"

#define PEM_MAX 65536
#define EC_COORD 32
#define EC_DER_MAX 72

struct gh_sigkey {
    EVP_PKEY *pkey;
    enum gh_alg alg;
    unsigned bits;
    char kid[GH_KID_MAX];
};

const char *gh_alg_name(enum gh_alg alg)
{
    switch (alg) {
    case GH_ALG_RS256:
        return "RS256";
    case GH_ALG_ES256:
        return "ES256";
    case GH_ALG_EDDSA:
        return "EdDSA";
    }
    return "?";
}

gh_err gh_alg_parse(const char *name, enum gh_alg *out)
{
    static const enum gh_alg all[] = {GH_ALG_RS256, GH_ALG_ES256, GH_ALG_EDDSA};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, gh_alg_name(all[i])) == 0) {
            *out = all[i];
            return GH_OK;
        }
    }
    return GH_ERR_INVALID;
}

/* base64url of a big-endian number, left-padded to width bytes (0: minimal). */
static gh_err b64_bn(const BIGNUM *bn, int width, char *out, size_t size)
{
    unsigned char raw[1024];
    int n = width > 0 ? width : BN_num_bytes(bn);
    if (n <= 0 || (size_t)n > sizeof(raw))
        return GH_ERR_INVALID;
    if (BN_bn2binpad(bn, raw, n) != n)
        return GH_ERR_CRYPTO;
    size_t len = 0;
    return gh_b64url_encode(raw, (size_t)n, out, size, &len);
}

/* The JWK members that identify the key (RFC 7638 §3.2), as base64url strings. */
struct jwk_members {
    char a[1400]; /* RSA n / EC x / OKP x */
    char b[64];   /* RSA e / EC y */
};

static gh_err jwk_members(const struct gh_sigkey *k, struct jwk_members *m)
{
    gh_err err = GH_ERR_CRYPTO;
    BIGNUM *x = NULL, *y = NULL;
    memset(m, 0, sizeof(*m));
    switch (k->alg) {
    case GH_ALG_RS256:
        if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &x) != 1 ||
            EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &y) != 1)
            goto out;
        if ((err = b64_bn(x, 0, m->a, sizeof(m->a))) == GH_OK)
            err = b64_bn(y, 0, m->b, sizeof(m->b));
        break;
    case GH_ALG_ES256:
        if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
            EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1)
            goto out;
        if ((err = b64_bn(x, EC_COORD, m->a, sizeof(m->a))) == GH_OK)
            err = b64_bn(y, EC_COORD, m->b, sizeof(m->b));
        break;
    case GH_ALG_EDDSA: {
        unsigned char raw[32];
        size_t n = sizeof(raw), len = 0;
        if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) != 1 || n != sizeof(raw))
            goto out;
        err = gh_b64url_encode(raw, n, m->a, sizeof(m->a), &len);
        break;
    }
    }
out:
    BN_free(x);
    BN_free(y);
    return err;
}

/* RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order. */
static gh_err compute_kid(struct gh_sigkey *k)
{
    struct jwk_members m;
    char text[1600];
    int n = 0;
    gh_err err = jwk_members(k, &m);
    if (err != GH_OK)
        return err;
    if (k->alg == GH_ALG_RS256)
        n = snprintf(text, sizeof(text), "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", m.b, m.a);
    else if (k->alg == GH_ALG_ES256)
        n = snprintf(text, sizeof(text),
                     "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", m.a, m.b);
    else
        n = snprintf(text, sizeof(text), "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", m.a);
    if (n < 0 || (size_t)n >= sizeof(text))
        return GH_ERR_INTERNAL;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, (size_t)n, digest);
    size_t len = 0;
    return gh_b64url_encode(digest, sizeof(digest), k->kid, sizeof(k->kid), &len);
}

/* Key files are unencrypted (0600); refuse instead of prompting on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Wraps pkey (taking it) after checking it is a key type and size we sign with. */
static gh_err wrap(EVP_PKEY *pkey, struct gh_sigkey **out)
{
    struct gh_sigkey *k = OPENSSL_zalloc(sizeof(*k));
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return GH_ERR_NOMEM;
    }
    k->pkey = pkey;
    gh_err err = GH_ERR_INVALID;
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        k->alg = GH_ALG_RS256;
        k->bits = (unsigned)EVP_PKEY_get_bits(pkey);
        if (k->bits < 2048 || k->bits > 8192)
            goto out;
        break;
    case EVP_PKEY_EC: {
        char group[64];
        size_t glen = 0;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           &glen) != 1 ||
            strcmp(group, "prime256v1") != 0)
            goto out;
        k->alg = GH_ALG_ES256;
        k->bits = 256;
        break;
    }
    case EVP_PKEY_ED25519:
        k->alg = GH_ALG_EDDSA;
        k->bits = 256;
        break;
    default:
        goto out;
    }
    err = compute_kid(k);
out:
    if (err != GH_OK) {
        gh_sigkey_free(k);
        return err;
    }
    *out = k;
    return GH_OK;
}

gh_err gh_sigkey_generate(enum gh_alg alg, unsigned bits, struct gh_sigkey **out)
{
    EVP_PKEY *pkey = NULL;
    switch (alg) {
    case GH_ALG_RS256:
        if (bits < 2048 || bits > 8192 || bits % 1024 != 0)
            return GH_ERR_INVALID;
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
        break;
    case GH_ALG_ES256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case GH_ALG_EDDSA:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    }
    if (pkey == NULL)
        return GH_ERR_CRYPTO;
    return wrap(pkey, out);
}

gh_err gh_sigkey_load(const char *path, struct gh_sigkey **out)
{
    gh_err err = GH_ERR_IO;
    unsigned char *pem = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    struct stat st;

    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return GH_ERR_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > PEM_MAX)
        goto out;
    if (st.st_mode & 077) {
        err = GH_ERR_FILE_MODE;
        goto out;
    }
    pem = OPENSSL_malloc((size_t)st.st_size + 1);
    if (pem == NULL) {
        err = GH_ERR_NOMEM;
        goto out;
    }
    while (len < (size_t)st.st_size) {
        ssize_t r = read(fd, pem + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        len += (size_t)r;
    }
    bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    err = pkey ? wrap(pkey, out) : GH_ERR_INVALID;
out:
    BIO_free(bio);
    if (pem != NULL)
        OPENSSL_clear_free(pem, (size_t)st.st_size + 1);
    close(fd);
    return err;
}

gh_err gh_sigkey_save(const struct gh_sigkey *k, const char *path)
{
    gh_err err = GH_ERR_IO;
    BIO *bio = BIO_new(BIO_s_secmem());
    if (bio == NULL)
        return GH_ERR_NOMEM;
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        err = errno == EEXIST ? GH_ERR_CONFLICT : GH_ERR_IO;
        BIO_free(bio);
        return err;
    }
    char *data = NULL;
    long n = 0;
    if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
        (n = BIO_get_mem_data(bio, &data)) <= 0) {
        err = GH_ERR_CRYPTO;
        goto out;
    }
    for (size_t done = 0; done < (size_t)n;) {
        ssize_t w = write(fd, data + done, (size_t)n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        done += (size_t)w;
    }
    if (fsync(fd) == 0)
        err = GH_OK;
out:
    if (close(fd) != 0)
        err = GH_ERR_IO;
    if (err != GH_OK)
        unlink(path);
    BIO_free(bio); /* secure-heap BIO: wiped on free */
    return err;
}

void gh_sigkey_free(struct gh_sigkey *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    OPENSSL_free(k);
}

enum gh_alg gh_sigkey_alg(const struct gh_sigkey *k)
{
    return k->alg;
}

const char *gh_sigkey_kid(const struct gh_sigkey *k)
{
    return k->kid;
}

unsigned gh_sigkey_bits(const struct gh_sigkey *k)
{
    return k->bits;
}

gh_err gh_sigkey_public_jwk(const struct gh_sigkey *k, json_t **out)
{
    struct jwk_members m;
    gh_err err = jwk_members(k, &m);
    if (err != GH_OK)
        return err;
    json_t *jwk = NULL;
    const char *alg = gh_alg_name(k->alg);
    if (k->alg == GH_ALG_RS256)
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "kid", k->kid, "use", "sig",
                        "alg", alg, "n", m.a, "e", m.b);
    else if (k->alg == GH_ALG_ES256)
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "kid", k->kid, "use",
                        "sig", "alg", alg, "crv", "P-256", "x", m.a, "y", m.b);
    else
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "kid", k->kid, "use", "sig",
                        "alg", alg, "crv", "Ed25519", "x", m.a);
    if (jwk == NULL)
        return GH_ERR_NOMEM;
    *out = jwk;
    return GH_OK;
}

/* ECDSA: DER from OpenSSL <-> the fixed 64-byte r||s of JWS (RFC 7518 §3.4). */
static gh_err der_to_raw(const unsigned char *der, size_t len, uint8_t *raw)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (sig == NULL)
        return GH_ERR_CRYPTO;
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    gh_err err = BN_bn2binpad(r, raw, EC_COORD) == EC_COORD &&
                         BN_bn2binpad(s, raw + EC_COORD, EC_COORD) == EC_COORD
                     ? GH_OK
                     : GH_ERR_CRYPTO;
    ECDSA_SIG_free(sig);
    return err;
}

/* One DER INTEGER for the unsigned 32-byte big-endian v (minimal, sign byte if needed). */
static size_t der_uint(const uint8_t *v, uint8_t *out)
{
    size_t i = 0;
    while (i < EC_COORD - 1 && v[i] == 0)
        i++;
    size_t n = EC_COORD - i, pad = (v[i] & 0x80) != 0;
    out[0] = 0x02;
    out[1] = (uint8_t)(n + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v + i, n);
    return 2 + pad + n;
}

/*
 * JOSE r||s to a DER ECDSA-Sig-Value, on the stack: verification is the hot path. At most
 * 2 + 2 * (2 + 33) = 72 bytes, so every length fits the short form.
 */
static size_t raw_to_der(const uint8_t *raw, uint8_t der[EC_DER_MAX])
{
    size_t n = der_uint(raw, der + 2);
    n += der_uint(raw + EC_COORD, der + 2 + n);
    der[0] = 0x30;
    der[1] = (uint8_t)n;
    return 2 + n;
}

static const EVP_MD *digest_of(const struct gh_sigkey *k)
{
    return k->alg == GH_ALG_EDDSA ? NULL : EVP_sha256(); /* Ed25519 hashes internally */
}

gh_err gh_sigkey_sign(const struct gh_sigkey *k, const uint8_t *msg, size_t n, uint8_t *sig,
                      size_t sig_size, size_t *sig_len)
{
    gh_err err = GH_ERR_CRYPTO;
    unsigned char der[GH_SIG_MAX];
    size_t len = sizeof(der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return GH_ERR_NOMEM;
    if (EVP_DigestSignInit(ctx, NULL, digest_of(k), NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, der, &len, msg, n) != 1)
        goto out;
    if (k->alg == GH_ALG_ES256) {
        if (sig_size < 2 * EC_COORD) {
            err = GH_ERR_TOO_LARGE;
            goto out;
        }
        if ((err = der_to_raw(der, len, sig)) == GH_OK)
            *sig_len = 2 * EC_COORD;
        goto out;
    }
    if (len > sig_size) {
        err = GH_ERR_TOO_LARGE;
        goto out;
    }
    memcpy(sig, der, len);
    *sig_len = len;
    err = GH_OK;
out:
    EVP_MD_CTX_free(ctx);
    return err;
}

gh_err gh_sigkey_verify(const struct gh_sigkey *k, const uint8_t *msg, size_t n, const uint8_t *sig,
                        size_t sig_len)
{
    uint8_t der[EC_DER_MAX];
    const uint8_t *s = sig;
    size_t slen = sig_len;

    if (sig == NULL || (msg == NULL && n > 0))
        return GH_ERR_AUTH;
    if (k->alg == GH_ALG_ES256) {
        if (sig_len != 2 * EC_COORD)
            return GH_ERR_AUTH;
        slen = raw_to_der(sig, der);
        s = der;
    } else if (sig_len != (size_t)EVP_PKEY_get_size(k->pkey)) {
        return GH_ERR_AUTH; /* RSA: exactly the modulus size; Ed25519: 64 bytes */
    }
    gh_err err = GH_ERR_AUTH;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return GH_ERR_NOMEM;
    if (EVP_DigestVerifyInit(ctx, NULL, digest_of(k), NULL, k->pkey) == 1 &&
        EVP_DigestVerify(ctx, s, slen, msg, n) == 1)
        err = GH_OK;
    EVP_MD_CTX_free(ctx);
    return err;
}

/* ---- public keys of other issuers (JWK, RFC 7517) ---- */

/* Decodes the base64url member name of jwk into out (exactly len bytes when len != 0, at
 * most size otherwise); *n gets the length. */
static gh_err jwk_bytes(const json_t *jwk, const char *name, uint8_t *out, size_t size, size_t len,
                        size_t *n)
{
    const json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        gh_b64url_decode(json_string_value(v), json_string_length(v), out, size, n) != GH_OK ||
        (len != 0 && *n != len))
        return GH_ERR_INVALID;
    return GH_OK;
}

/* An RSA or P-256 public key from its parameters. */
static EVP_PKEY *from_params(const char *type, const OSSL_PARAM *params)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static EVP_PKEY *rsa_from_jwk(const json_t *jwk)
{
    uint8_t n[1024], e[8];
    size_t nlen = 0, elen = 0;
    if (jwk_bytes(jwk, "n", n, sizeof(n), 0, &nlen) != GH_OK ||
        jwk_bytes(jwk, "e", e, sizeof(e), 0, &elen) != GH_OK)
        return NULL;
    BIGNUM *bn_n = BN_bin2bn(n, (int)nlen, NULL), *bn_e = BN_bin2bn(e, (int)elen, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pkey = NULL;
    if (bn_n != NULL && bn_e != NULL && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL)
        pkey = from_params("RSA", params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return pkey;
}

static EVP_PKEY *ec_from_jwk(const json_t *jwk)
{
    uint8_t point[1 + 2 * EC_COORD];
    size_t n = 0;
    if (!json_is_string(json_object_get(jwk, "crv")) ||
        strcmp(json_string_value(json_object_get(jwk, "crv")), "P-256") != 0 ||
        jwk_bytes(jwk, "x", point + 1, EC_COORD, EC_COORD, &n) != GH_OK ||
        jwk_bytes(jwk, "y", point + 1 + EC_COORD, EC_COORD, EC_COORD, &n) != GH_OK)
        return NULL;
    point[0] = 0x04; /* uncompressed; OpenSSL checks the point is on the curve */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
        OSSL_PARAM_construct_end()};
    return from_params("EC", params);
}

static EVP_PKEY *okp_from_jwk(const json_t *jwk)
{
    uint8_t raw[32];
    size_t n = 0;
    if (!json_is_string(json_object_get(jwk, "crv")) ||
        strcmp(json_string_value(json_object_get(jwk, "crv")), "Ed25519") != 0 ||
        jwk_bytes(jwk, "x", raw, sizeof(raw), sizeof(raw), &n) != GH_OK)
        return NULL;
    return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, sizeof(raw));
}

gh_err gh_sigkey_from_jwk(const json_t *jwk, struct gh_sigkey **out)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const json_t *kid = json_object_get(jwk, "kid");
    const json_t *use = json_object_get(jwk, "use");
    const json_t *alg = json_object_get(jwk, "alg");
    if (!json_is_object(jwk) || kty == NULL || !json_is_string(kid) ||
        json_string_length(kid) == 0 || json_string_length(kid) >= GH_KID_MAX ||
        (use != NULL && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0)) ||
        (alg != NULL && !json_is_string(alg)))
        return GH_ERR_INVALID;
    /* Never a symmetric key: the algorithm comes from the key, and an "oct" key would let a
     * public value be used as an HMAC secret. */
    EVP_PKEY *pkey = strcmp(kty, "RSA") == 0   ? rsa_from_jwk(jwk)
                     : strcmp(kty, "EC") == 0  ? ec_from_jwk(jwk)
                     : strcmp(kty, "OKP") == 0 ? okp_from_jwk(jwk)
                                               : NULL;
    if (pkey == NULL)
        return GH_ERR_INVALID;
    struct gh_sigkey *k = NULL;
    gh_err err = wrap(pkey, &k);
    if (err != GH_OK)
        return err == GH_ERR_CRYPTO ? err : GH_ERR_INVALID;
    /* A stated algorithm must be the one the key is bound to (RS384 on an RSA key: not one
     * Gatehouse verifies). */
    if (alg != NULL && strcmp(json_string_value(alg), gh_alg_name(k->alg)) != 0) {
        gh_sigkey_free(k);
        return GH_ERR_INVALID;
    }
    memcpy(k->kid, json_string_value(kid), json_string_length(kid) + 1);
    *out = k;
    return GH_OK;
}

/* Shamir secret sharing over GF(2^8) (crypto/shamir.h). */
#include <sodium.h>
#include <string.h>

#include "crypto/shamir.h"

/* a * b in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, without tables or secret branches:
 * each step adds a (masked by b's low bit) and doubles a (reducing by a mask of its top
 * bit). */
static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    uint8_t r = 0;
    for (int i = 0; i < 8; i++) {
        r ^= (uint8_t)(-(b & 1) & a);
        b >>= 1;
        a = (uint8_t)((a << 1) ^ (0x1b & -(a >> 7)));
    }
    return r;
}

/* a^-1 = a^254 (a^255 = 1 for a != 0); 0 gives 0. Square-and-multiply over a fixed
 * exponent: the same steps for every a. */
static uint8_t gf_inv(uint8_t a)
{
    uint8_t a2 = gf_mul(a, a), a4 = gf_mul(a2, a2), a8 = gf_mul(a4, a4);
    uint8_t a16 = gf_mul(a8, a8), a32 = gf_mul(a16, a16), a64 = gf_mul(a32, a32);
    uint8_t a128 = gf_mul(a64, a64);
    /* 254 = 128 + 64 + 32 + 16 + 8 + 4 + 2 */
    return gf_mul(gf_mul(gf_mul(a128, a64), gf_mul(a32, a16)), gf_mul(gf_mul(a8, a4), a2));
}

/* The polynomial coef[0] + coef[1] x + ... + coef[degree] x^degree at x (Horner). */
static uint8_t poly_eval(const uint8_t *coef, unsigned degree, uint8_t x)
{
    uint8_t y = coef[degree];
    for (unsigned i = degree; i-- > 0;)
        y = (uint8_t)(gf_mul(y, x) ^ coef[i]);
    return y;
}

/* Splits with the given coefficients (coefs[b * threshold + j]: byte b's x^j term, the
 * x^0 terms being the secret); the known-answer tests use it directly. */
static void split_with(const uint8_t *coefs, size_t len, unsigned n, unsigned threshold,
                       uint8_t *shares)
{
    for (unsigned i = 0; i < n; i++)
        for (size_t b = 0; b < len; b++)
            shares[i * len + b] = poly_eval(coefs + b * threshold, threshold - 1, (uint8_t)(i + 1));
}

gh_err gh_shamir_split(const uint8_t *secret, size_t len, unsigned n, unsigned threshold,
                       uint8_t *shares)
{
    uint8_t coefs[GH_SHAMIR_MAX_SECRET * GH_SHAMIR_MAX_SHARES];
    if (len == 0 || len > GH_SHAMIR_MAX_SECRET || threshold < 2 || threshold > n ||
        n > GH_SHAMIR_MAX_SHARES)
        return GH_ERR_INVALID;
    randombytes_buf(coefs, len * threshold);
    for (size_t b = 0; b < len; b++)
        coefs[b * threshold] = secret[b];
    split_with(coefs, len, n, threshold, shares);
    sodium_memzero(coefs, sizeof(coefs));
    return GH_OK;
}

gh_err gh_shamir_combine(const uint8_t *xs, const uint8_t *ys, size_t k, size_t len,
                         uint8_t *secret)
{
    uint8_t basis[GH_SHAMIR_MAX_SHARES], out[GH_SHAMIR_MAX_SECRET];
    if (k < 2 || k > GH_SHAMIR_MAX_SHARES || len == 0 || len > GH_SHAMIR_MAX_SECRET)
        return GH_ERR_INVALID;
    /* The x are public (printed on each share): checking them may branch. */
    for (size_t i = 0; i < k; i++) {
        if (xs[i] == 0)
            return GH_ERR_INVALID;
        for (size_t j = 0; j < i; j++)
            if (xs[i] == xs[j])
                return GH_ERR_INVALID;
    }
    /* Lagrange basis at 0: l_i = prod_{j != i} x_j / (x_j - x_i); minus is xor here. */
    for (size_t i = 0; i < k; i++) {
        uint8_t num = 1, den = 1;
        for (size_t j = 0; j < k; j++) {
            if (j == i)
                continue;
            num = gf_mul(num, xs[j]);
            den = gf_mul(den, (uint8_t)(xs[j] ^ xs[i]));
        }
        basis[i] = gf_mul(num, gf_inv(den));
    }
    for (size_t b = 0; b < len; b++) {
        uint8_t y = 0;
        for (size_t i = 0; i < k; i++)
            y ^= gf_mul(ys[i * len + b], basis[i]);
        out[b] = y;
    }
    memcpy(secret, out, len);
    sodium_memzero(out, sizeof(out));
    return GH_OK;
}

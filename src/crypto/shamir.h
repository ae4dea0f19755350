#ifndef GH_CRYPTO_SHAMIR_H
#define GH_CRYPTO_SHAMIR_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * Shamir secret sharing over GF(2^8) (the AES field, x^8 + x^4 + x^3 + x + 1), byte by
 * byte: each byte of the secret is the constant term of its own random polynomial of
 * degree threshold - 1, and share x (1..255) holds every polynomial's value at x. Any
 * threshold shares give the secret back (Lagrange at 0); fewer give no information about
 * it. Written here rather than taken from Debian's libgfshare, whose field arithmetic
 * indexes log/exp tables with secret bytes (docs/ARCHITECTURE.md, "Dependencies"): this
 * one is table-free and constant-time (no branch or index depends on a secret byte).
 */

#define GH_SHAMIR_MAX_SHARES 255
#define GH_SHAMIR_MAX_SECRET 64

/**
 * Splits secret (len bytes, 1..GH_SHAMIR_MAX_SECRET) into n shares (2 <= threshold <= n
 * <= 255): shares[i] (len bytes each, n * len in all, laid out one after the other) is
 * the share at x = i + 1. GH_ERR_INVALID bounds not met. The caller wipes shares.
 */
gh_err gh_shamir_split(const uint8_t *secret, size_t len, unsigned n, unsigned threshold,
                       uint8_t *shares) GH_WUR GH_NONNULL(1, 5);

/**
 * The secret (len bytes) from k shares: xs[i] the x of share i (distinct, non-zero),
 * ys + i * len its bytes. GH_ERR_INVALID k < 2, an x of 0 or an x given twice. With fewer
 * shares than the threshold, or shares of different splits, the result is some other
 * value: the caller checks it (the master key must open the stored data keys).
 */
gh_err gh_shamir_combine(const uint8_t *xs, const uint8_t *ys, size_t k, size_t len,
                         uint8_t *secret) GH_WUR GH_NONNULL(1, 2, 5);

#endif

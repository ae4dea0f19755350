/*
 * What the verify caches' keys cost: the ways of finding and proving a 1.2 KB RS256-4096
 * token and a 46-byte API key, per call (ns), on this machine. The figures behind the
 * choice in authn/service.c (the token's tail placed by SipHash, the whole token compared
 * by gh_secret_equal) and authn/apikey.c (a keyed SipHash-128).
 *   make build/bench/hash_cost && build/bench/hash_cost
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "core/secret.h"

#define ROUNDS 200000

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static volatile unsigned sink;

static void row(const char *what, size_t len, double t0)
{
    printf("%-44s %5zu B %7.0f ns\n", what, len, (now_s() - t0) / ROUNDS * 1e9);
}

static void measure(size_t len)
{
    static unsigned char a[4096], b[4096];
    unsigned char out[64], key[32];
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    randombytes_buf(a, sizeof(a));
    randombytes_buf(key, sizeof(key));
    memcpy(b, a, sizeof(b));
    double t = now_s();
    for (int i = 0; i < ROUNDS; i++) {
        a[0] = (unsigned char)i;
        EVP_Digest(a, len, out, NULL, md, NULL);
        sink += out[0];
    }
    row("SHA-256 (EVP_Digest, SHA extensions)", len, t);
    t = now_s();
    for (int i = 0; i < ROUNDS; i++) {
        a[0] = (unsigned char)i;
        crypto_shorthash_siphashx24(out, a, len, key);
        sink += out[0];
    }
    row("SipHash-128 (crypto_shorthash_siphashx24)", len, t);
    t = now_s();
    for (int i = 0; i < ROUNDS; i++) {
        a[0] = (unsigned char)i;
        crypto_generichash(out, 16, a, len, key, 16);
        sink += out[0];
    }
    row("keyed BLAKE2b-128 (crypto_generichash)", len, t);
    t = now_s();
    for (int i = 0; i < ROUNDS; i++) {
        a[0] = b[0] = (unsigned char)i;
        sink += (unsigned)CRYPTO_memcmp(a, b, len);
    }
    row("CRYPTO_memcmp", len, t);
    t = now_s();
    for (int i = 0; i < ROUNDS; i++) {
        a[0] = b[0] = (unsigned char)i;
        sink += (unsigned)sodium_memcmp(a, b, len);
    }
    row("sodium_memcmp", len, t);
    t = now_s();
    for (int i = 0; i < ROUNDS; i++) {
        a[0] = b[0] = (unsigned char)i;
        sink += (unsigned)gh_secret_equal(a, b, len);
    }
    row("gh_secret_equal", len, t);
    t = now_s();
    for (int i = 0; i < ROUNDS; i++) {
        a[0] = (unsigned char)i;
        crypto_shorthash(out, a + len - (len < 64 ? len : 64), len < 64 ? len : 64, key);
        sink += out[0];
    }
    row("SipHash-64 of the last 64 bytes (placement)", len, t);
    EVP_MD_free(md);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    measure(1232); /* an RS256-4096 access token */
    measure(46);   /* an API key */
    return 0;
}

/* Unit tests for crypto/aead: AES-256-GCM known answers (the GCM specification's test cases,
 * as NIST's CAVP lists them), the XChaCha20-Poly1305 vector of draft-irtf-cfrg-xchacha-03
 * A.3.1, random nonces, and every changed byte refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/aead.h"
#include "kat.h"

struct gcm_vector {
    const char *key, *iv, *pt, *ad, *ct, *tag;
};

/* AES-256 test cases 13-16 of McGrew and Viega, "The Galois/Counter Mode of Operation". */
static const struct gcm_vector gcm_vectors[] = {
    {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919"},
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b"
     "5"
     "25b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828"
     "838"
     "c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b"
     "5"
     "25b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828"
     "838"
     "c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

static void gcm_known_answers(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof(gcm_vectors) / sizeof(gcm_vectors[0]); v++) {
        const struct gcm_vector *t = &gcm_vectors[v];
        uint8_t key[32], iv[12], pt[64], ad[32], ct[64], tag[16], out[96], sealed[96], back[64];
        unhex(t->key, key, sizeof(key));
        unhex(t->iv, iv, sizeof(iv));
        size_t n = unhex(t->pt, pt, sizeof(pt)), ad_len = unhex(t->ad, ad, sizeof(ad)), len = 0;
        assert_int_equal(unhex(t->ct, ct, sizeof(ct)), n);
        unhex(t->tag, tag, sizeof(tag));
        assert_int_equal(gh_aead_gcm_raw(key, iv, ad, ad_len, pt, n, out), GH_OK);
        assert_memory_equal(out, ct, n);
        assert_memory_equal(out + n, tag, 16);
        /* The same bytes as gh_aead_seal lays them out open to the plaintext. */
        memcpy(sealed, iv, 12);
        memcpy(sealed + 12, out, n + 16);
        assert_int_equal(gh_aead_open(GH_AEAD_AES256GCM, key, ad, ad_len, sealed, n + 28, back,
                                      sizeof(back), &len),
                         GH_OK);
        assert_int_equal(len, n);
        assert_memory_equal(back, pt, n);
    }
}

static void xchacha_draft_vector(void **state)
{
    (void)state;
    static const char pt[] = "Ladies and Gentlemen of the class of '99: If I could offer you only "
                             "one tip for the future, sunscreen would be it.";
    uint8_t key[32], ad[12], sealed[24 + 114 + 16], out[128];
    size_t len = 0;
    unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key, sizeof(key));
    unhex("50515253c0c1c2c3c4c5c6c7", ad, sizeof(ad));
    unhex("404142434445464748494a4b4c4d4e4f5051525354555657", sealed, 24);
    assert_int_equal(
        unhex(
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a8"
            "2f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc3"
            "69488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
            "c0875924c1c7987947deafd8780acf49",
            sealed + 24, sizeof(sealed) - 24),
        114 + 16);
    assert_int_equal(gh_aead_open(GH_AEAD_XCHACHA, key, ad, sizeof(ad), sealed, sizeof(sealed), out,
                                  sizeof(out), &len),
                     GH_OK);
    assert_int_equal(len, 114);
    assert_memory_equal(out, pt, 114);
}

/* Every alg: a round trip, two seals differ (fresh nonces), and every changed byte, another
 * key or other associated data is GH_ERR_AUTH with the output wiped. */
static void seal_open_and_tamper(void **state)
{
    (void)state;
    const enum gh_aead_alg algs[] = {GH_AEAD_AES256GCM, GH_AEAD_XCHACHA};
    for (size_t a = 0; a < 2; a++) {
        uint8_t key[32], a1[80], a2[80], out[40];
        size_t l1 = 0, l2 = 0, len = 0;
        randombytes_buf(key, sizeof(key));
        const uint8_t pt[] = "attack at dawn";
        assert_int_equal(
            gh_aead_seal(algs[a], key, (const uint8_t *)"ad", 2, pt, 14, a1, sizeof(a1), &l1),
            GH_OK);
        assert_int_equal(l1, 14 + gh_aead_overhead(algs[a]));
        assert_int_equal(
            gh_aead_seal(algs[a], key, (const uint8_t *)"ad", 2, pt, 14, a2, sizeof(a2), &l2),
            GH_OK);
        assert_memory_not_equal(a1, a2, l1);
        assert_int_equal(
            gh_aead_open(algs[a], key, (const uint8_t *)"ad", 2, a1, l1, out, sizeof(out), &len),
            GH_OK);
        assert_memory_equal(out, pt, 14);
        for (size_t i = 0; i < l1; i++) {
            a1[i] ^= 0x01;
            memset(out, 0x5a, sizeof(out));
            assert_int_equal(gh_aead_open(algs[a], key, (const uint8_t *)"ad", 2, a1, l1, out,
                                          sizeof(out), &len),
                             GH_ERR_AUTH);
            for (size_t k = 0; k < l1 - gh_aead_overhead(algs[a]); k++)
                assert_int_equal(out[k], 0);
            a1[i] ^= 0x01;
        }
        assert_int_equal(
            gh_aead_open(algs[a], key, (const uint8_t *)"aD", 2, a1, l1, out, sizeof(out), &len),
            GH_ERR_AUTH);
        key[0] ^= 1;
        assert_int_equal(
            gh_aead_open(algs[a], key, (const uint8_t *)"ad", 2, a1, l1, out, sizeof(out), &len),
            GH_ERR_AUTH);
        assert_int_equal(gh_aead_open(algs[a], key, NULL, 0, a1, 10, out, sizeof(out), &len),
                         GH_ERR_INVALID);
        assert_int_equal(gh_aead_seal(algs[a], key, NULL, 0, pt, 14, a1, 14 + 10, &l1),
                         GH_ERR_TOO_LARGE);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gcm_known_answers),
        cmocka_unit_test(xchacha_draft_vector),
        cmocka_unit_test(seal_open_and_tamper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

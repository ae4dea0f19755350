/* Unit tests for crypto/kdf: HKDF-SHA256 against RFC 5869 A.1-A.3; Argon2id deterministic,
 * salted, and bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/kdf.h"
#include "kat.h"

struct hkdf_vector {
    const char *ikm, *salt, *info, *okm;
};

static const struct hkdf_vector hkdf_vectors[] = {
    /* A.1 */
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
     "f0f1f2f3f4f5f6f7f8f9",
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
    /* A.2 */
    {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c"
     "2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c"
     "8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdc"
     "dddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e59"
     "0e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    /* A.3: no salt, no info */
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
};

static void hkdf_rfc5869(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof(hkdf_vectors) / sizeof(hkdf_vectors[0]); v++) {
        uint8_t ikm[80], salt[80], info[80], okm[82], out[82];
        size_t ikm_len = unhex(hkdf_vectors[v].ikm, ikm, sizeof(ikm));
        size_t salt_len = unhex(hkdf_vectors[v].salt, salt, sizeof(salt));
        size_t info_len = unhex(hkdf_vectors[v].info, info, sizeof(info));
        size_t len = unhex(hkdf_vectors[v].okm, okm, sizeof(okm));
        assert_int_equal(gh_kdf_hkdf(ikm, ikm_len, salt_len ? salt : NULL, salt_len,
                                     info_len ? info : NULL, info_len, out, len),
                         GH_OK);
        assert_memory_equal(out, okm, len);
    }
}

/* Deterministic for the same passphrase and salt, different for another salt or
 * passphrase; parameters outside the bounds refused. */
static void argon2id_derives_and_bounds(void **state)
{
    (void)state;
    struct gh_kdf_argon2 p = {.ops = 2, .mem_kib = 8192};
    uint8_t a[32], b[32], c[32];
    memset(p.salt, 7, sizeof(p.salt));
    assert_int_equal(gh_kdf_argon2id("passphrase", 10, &p, a, sizeof(a)), GH_OK);
    assert_int_equal(gh_kdf_argon2id("passphrase", 10, &p, b, sizeof(b)), GH_OK);
    assert_memory_equal(a, b, sizeof(a));
    assert_int_equal(gh_kdf_argon2id("passphrasE", 10, &p, c, sizeof(c)), GH_OK);
    assert_memory_not_equal(a, c, sizeof(a));
    p.salt[0] = 8;
    assert_int_equal(gh_kdf_argon2id("passphrase", 10, &p, c, sizeof(c)), GH_OK);
    assert_memory_not_equal(a, c, sizeof(a));
    p.ops = 0;
    assert_int_equal(gh_kdf_argon2id("passphrase", 10, &p, c, sizeof(c)), GH_ERR_INVALID);
    p.ops = 2;
    p.mem_kib = 1;
    assert_int_equal(gh_kdf_argon2id("passphrase", 10, &p, c, sizeof(c)), GH_ERR_INVALID);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hkdf_rfc5869),
        cmocka_unit_test(argon2id_derives_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

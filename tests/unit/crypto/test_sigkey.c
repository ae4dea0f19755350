/* Unit tests for crypto/sigkey: RFC 7515 / RFC 8037 / RFC 7638 known answers, key files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto/b64url.h"
#include "crypto/sigkey.h"
#include "tmpdir.h"

/* RFC 7515 appendix A.2: the RSA key (JWK converted once to PKCS#8 with jwcrypto). */
static const char A2_PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCh+BYK4uPJtGXO\n"
                             "jS1lYmM2K5J9vinh8CR3/BYlzJChNuOL2TSXxbbqY913EeZ8dCn5VrD7io8ImtxL\n"
                             "aYk8wTM/U+3QGbh3hCUv7JFP5IV3aVlL6kKA0ywPVb9ilE8TA5a8bpvfbr3SvaNn\n"
                             "juygxmj3AbONv/s4yDQs4v5tJ/reSlpIdJed1LnPmt7Ex1sFhSwsD174pcF1A5L5\n"
                             "ROjtZMEQxrZHYJqkeDrrnGya11UxMFBji4NmXG9veoKjlnAqH2QbgtPr8jkiGUkf\n"
                             "toaHLFcW9Qr4NY2ai50Xw0Byj3+H2JoY2PyrZ62EWQwuz3WTOTY8BwNNb2BvniHg\n"
                             "VFbK5emhAgMBAAECggEAEq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyW\n"
                             "PEAeP88vLNO97IjlA7/GQ5sLKMgvfTeXZx9SE+7YwVol2NXOoAJe46sui395IW/G\n"
                             "O+pWJ1O0BkTGoVEn2bKVRUCgu+GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzj\n"
                             "kn439X0M/V51gfpRLI9JYanrC4D4qAdGcopV/0ZHHzQlBjudU2QvXt4ehNYTCBr6\n"
                             "XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl/x/jTj3ccPDVZFD9pIuhLhBOneufuBiB\n"
                             "4cS98l2SR/RQyGWSeWjnczT0QU91p1DhOVRuOopznQKBgQDgHMQQ60imZV1URk0K\n"
                             "pLttoLhyt3SmqdEf/kgHePDdtzEafpAu+cS191R2JiuoF2yzWXnwFDcqGigp5BNr\n"
                             "0AHQfD8/Lk8l1Mk09jxxCfui5nYooNyac8YFjm3vItzVCVDnEd3BbVWG8qf6deqE\n"
                             "lMGAg+C2V0L4oNXnP7LZcPAZRwKBgQC5A8R+CZW2MvRTLLHzwZkUXV866cff7tx6\n"
                             "kqa0finGG0KgeqlaZPxgCZnFp7AeAcCMtiynVlJ7vMVgePsLq6XtON4tB5kP9jAP\n"
                             "rq3rbAOal78eUH5OcED6eNuCV8ixEu1eWcPNCS/l1OW1EnXUEoEHKl54Xrrz2uNw\n"
                             "kgMTP1FZ1wKBgAcCn1dwJKufzBWQxWQp1vsM5fggqPN1qGb5y0MAk3g7/Ls5bkUp\n"
                             "5u9SN0Ai3Ya6hNnvWJMb7sXQX6U/zyO2M/hTip7tUeh7CXgwo59dkpN75gJLVds2\n"
                             "9+DAncu3KXU4f2Fa+7bLNrur53k8KwPOq2bbuTG69QtV7Jr5MR0AHWKNAoGBAIf/\n"
                             "evpitUf+4JYbLpvNXWcY052Mpz22aR84mY3nh3F2LF2mjMJDpTg7FmuyPcVw6EcG\n"
                             "yoAe9fa65iNqCq+jdw6PVNGo2hxfjSiZ8IIzHdsPXI89//pMjZcQK9r+CCoRjaZj\n"
                             "OYiIDktVWZzmevJuv6WywUqd57LE3Zar3dLSIkx1AoGAIYd7DHOhrWvxkwPQsRM2\n"
                             "tOgrjbcrfvtQJipd+DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd/QJQ3\n"
                             "ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp/gh6A56\n"
                             "03k2+ZQwVK0JKSHuLFkuQ3U=\n"
                             "-----END PRIVATE KEY-----\n";
/* RFC 7515 A.2 / A.3 signing inputs: {"alg":"RS256"} / {"alg":"ES256"} and the same payload. */
static const char A2_INPUT[] = "eyJhbGciOiJSUzI1NiJ9"
                               ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcG"
                               "xlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char A2_SIG[] =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5"
    "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb"
    "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QO"
    "YEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/* RFC 7515 appendix A.3: the P-256 key and its (randomised, so verify-only) signature. */
static const char A3_PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjpsQnnGQmL+YBIff\n"
                             "H1136cspYG6+0iY7X1fCE9+E9LKhRANCAAR/zc4ncPbEXUGDy+5v20t7WAczNXvp\n"
                             "7xO6z248e9FURcfxRM0bvZt+hyzf7bnuufSzaV1uqQskrYpGIyiFiOWt\n"
                             "-----END PRIVATE KEY-----\n";
static const char A3_INPUT[] = "eyJhbGciOiJFUzI1NiJ9"
                               ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcG"
                               "xlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char A3_SIG[] =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
static const char A3_X[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char A3_Y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

/* RFC 8037 appendix A.1 / A.3 / A.4: the Ed25519 key, its thumbprint, a signed JWS. */
static const char ED_PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                             "-----END PRIVATE KEY-----\n";
static const char ED_X[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const char ED_KID[] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
static const char ED_INPUT[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
static const char ED_SIG[] =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/*
 * RFC 7638 section 3.1: the RFC 7517 A.1 RSA key, with the private half of RFC 7517 A.2
 * (the CRT values recomputed from d, p, q), and its thumbprint.
 */
static const char R7638_PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                                "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDS/HtqCh5sZxBK\n"
                                "64+Isldmm032ed2tCZtcSmzZqIAVtaEzvwuFbHhxtt8AC1VPzrPC7VErto8UXG6E\n"
                                "NHUvq1Khz8EkQI95tYpFeMFkKIVXifeiSeOEyy2fri1n/Zb7kmwZjgdzmf3IFcCv\n"
                                "CX3eWq3v9E3nDoJ/SHhDJDm/7rlgaNBHT8UNbZC/OpjfrxBAyJwC1pKrOzwolmCd\n"
                                "hv1zt3TOB0BkfO7qoxC9EvmFqOufWf3UJs6lshIPTyo0vKt2S35sVNaEAji8xAWH\n"
                                "pZ5m7R8ziUV3Y1xHCvdc+Swg0dpD4b/EGeIipvDQuzWMXjj5ywUK6v6QSBTxrBqk\n"
                                "nMqeoMqDAgMBAAECggEAX4cTteJY/gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoV\n"
                                "H+HLLKD9M7dx5oo7GURknchnrRweUkC7hT5fJLM0WbFAKNLWY2vv7B6NqXSzUvxT\n"
                                "0/YSfqijwp3RTzlBaCxWp4doFk5N2o8Gy/nHNKroADIkJ46pRUohsXywbReAdYaM\n"
                                "wFs9tv8d/cPVY3i07a3t8MN6TNwm0dSawm9v47UiCl3Sk5ZiG7xojPLu4sbg1U2j\n"
                                "x4IBTNBznbJSzFHK66jT8bgkuqsk0GjskDJk19Z4qwjwbsnn4j2WBii3RL+Us2lG\n"
                                "VkY8fkFzme1z0HbIkfz0Y6mqnOYtqc0X4jfcKoAC8QKBgQDzeL7si8wZegxcKyS/\n"
                                "vdMqvzrfsWI7tnbvO/yiPqltZRDIs9AFDG09WfAPbRH7rR5MOYPa6Ocy3k+ioyub\n"
                                "xF+Y2FVYO2OMyYIyM6lJeJwUePtc65UhhDKpVaVYSHp03foZVliT3c3wFz29jjXH\n"
                                "LwH1HPM4ZVDNe80S+fs7SdVt+wKBgQDd185H1y5ir7RL6aQUvOAi2AwR8XMHareF\n"
                                "Z6Ey4bSgK6qdve+hsvK6aqNVlA7V0it3CBOcJ2ljMFw59bmvfvQAVeOJZ+380YSK\n"
                                "i+ieLOEqmj1VVLvxPMWDGQh2t5xF7Oxn7WRh3+zWoNvG2QMSB8AhMAb0tScAO6fi\n"
                                "8hxvrJ6XGQKBgBuLD15HOmGvcvKCVvfyC4+MbqabtJc4vx+1U5EvMY+UnV93KBNK\n"
                                "IpmMMSItnpkwLntFDmuXaYBRsgSeHPLUNlReNNl0boCg0z/GpGIRaObQAO+0HvzZ\n"
                                "rbmGXNwt5tyNuBthr0ebEg8VMgDds6vC35/RFJrOq2Nzm/GHoipE4gY9AoGBALPZ\n"
                                "QB/X4IAbKBUfDmnNkfxNoMNvNq09pBjgIbyJZRExNXn6wOoblFLzHwXDKZ/Janlu\n"
                                "r8852GOUkkBe6THQv2oCN5xvCG6dQVG9CVIq2kTalHy4XEG/3fRheA4e3u+Fm0bK\n"
                                "G0aJ7o02DdcQmj+kzutY71q1/i9fLcV8OPeEP3IJAoGAGyM/p6JrXySiz1toFgKb\n"
                                "WV+JdI3jQ4ypu9rbMWx3rQJBfmt0FoYzgUIZEVFEcOqwemRN81zoDAaa+Bk0KWNG\n"
                                "DjJHZDdDmFhW3AN7lI+puxk/mHZGJ11rxyR8O55XLSe3SPmRfKwZI6yU24ZxvQKF\n"
                                "YItdldUKGzO6Ia6zTKhAVRU=\n"
                                "-----END PRIVATE KEY-----\n";
static const char R7638_KID[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
static const char R7638_N_HEAD[] = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4";

static char dir[] = "/tmp/gh-test-sigkey-XXXXXX";

static const char *tmp_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

/* Writes text to a fresh file with the given mode and returns its path. */
static const char *write_file(const char *name, const char *text, mode_t mode)
{
    const char *path = tmp_path(name);
    unlink(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static struct gh_sigkey *load_pem(const char *pem)
{
    struct gh_sigkey *k = NULL;
    assert_int_equal(gh_sigkey_load(write_file("vector.pem", pem, 0600), &k), GH_OK);
    assert_non_null(k);
    return k;
}

static size_t unb64(const char *text, uint8_t *out, size_t size)
{
    size_t n = 0;
    assert_int_equal(gh_b64url_decode(text, strlen(text), out, size, &n), GH_OK);
    return n;
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    return remove_tree(dir) == 0 ? 0 : -1;
}

static void alg_names(void **state)
{
    (void)state;
    enum gh_alg alg = GH_ALG_RS256;
    assert_string_equal(gh_alg_name(GH_ALG_RS256), "RS256");
    assert_string_equal(gh_alg_name(GH_ALG_ES256), "ES256");
    assert_string_equal(gh_alg_name(GH_ALG_EDDSA), "EdDSA");
    assert_int_equal(gh_alg_parse("EdDSA", &alg), GH_OK);
    assert_int_equal(alg, GH_ALG_EDDSA);
    assert_int_equal(gh_alg_parse("ES256", &alg), GH_OK);
    assert_int_equal(alg, GH_ALG_ES256);
    static const char *bad[] = {"none",  "HS256", "rs256",   "RS256 ",
                                "PS256", "EDDSA", "Ed25519", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gh_alg_parse(bad[i], &alg), GH_ERR_INVALID);
    assert_int_equal(alg, GH_ALG_ES256);
}

static void rs256_rfc7515_a2(void **state)
{
    (void)state;
    struct gh_sigkey *k = load_pem(A2_PEM);
    assert_int_equal(gh_sigkey_alg(k), GH_ALG_RS256);
    assert_int_equal(gh_sigkey_bits(k), 2048);

    uint8_t sig[GH_SIG_MAX], want[GH_SIG_MAX];
    size_t n = 0, want_n = unb64(A2_SIG, want, sizeof(want));
    assert_int_equal(
        gh_sigkey_sign(k, (const uint8_t *)A2_INPUT, strlen(A2_INPUT), sig, sizeof(sig), &n),
        GH_OK);
    assert_int_equal(n, want_n);
    assert_memory_equal(sig, want, n); /* PKCS#1 v1.5 is deterministic */
    assert_int_equal(gh_sigkey_verify(k, (const uint8_t *)A2_INPUT, strlen(A2_INPUT), want, n),
                     GH_OK);
    /* a signature one byte short of the modulus, or for other bytes, fails */
    assert_int_equal(gh_sigkey_verify(k, (const uint8_t *)A2_INPUT, strlen(A2_INPUT), want, n - 1),
                     GH_ERR_AUTH);
    assert_int_equal(gh_sigkey_verify(k, (const uint8_t *)A2_INPUT, strlen(A2_INPUT) - 1, want, n),
                     GH_ERR_AUTH);
    /* too small an output buffer */
    size_t untouched = 7;
    assert_int_equal(
        gh_sigkey_sign(k, (const uint8_t *)A2_INPUT, strlen(A2_INPUT), sig, 255, &untouched),
        GH_ERR_TOO_LARGE);
    assert_int_equal(untouched, 7);
    gh_sigkey_free(k);
}

static void es256_rfc7515_a3(void **state)
{
    (void)state;
    struct gh_sigkey *k = load_pem(A3_PEM);
    assert_int_equal(gh_sigkey_alg(k), GH_ALG_ES256);
    assert_int_equal(gh_sigkey_bits(k), 256);
    const uint8_t *msg = (const uint8_t *)A3_INPUT;
    size_t msg_n = strlen(A3_INPUT);

    uint8_t want[64];
    assert_int_equal(unb64(A3_SIG, want, sizeof(want)), 64);
    assert_int_equal(gh_sigkey_verify(k, msg, msg_n, want, 64), GH_OK);

    /* our own signatures are the raw 64-byte form and verify */
    uint8_t sig[GH_SIG_MAX];
    size_t n = 0;
    assert_int_equal(gh_sigkey_sign(k, msg, msg_n, sig, sizeof(sig), &n), GH_OK);
    assert_int_equal(n, 64);
    assert_int_equal(gh_sigkey_verify(k, msg, msg_n, sig, n), GH_OK);
    assert_int_equal(gh_sigkey_sign(k, msg, msg_n, sig, 63, &n), GH_ERR_TOO_LARGE);

    /* any other length (DER included), a flipped bit, r = 0 or s = 0 are refused */
    uint8_t bad[80];
    memcpy(bad, want, 64);
    bad[64] = 0;
    assert_int_equal(gh_sigkey_verify(k, msg, msg_n, bad, 63), GH_ERR_AUTH);
    assert_int_equal(gh_sigkey_verify(k, msg, msg_n, bad, 65), GH_ERR_AUTH);
    static const uint8_t der_prefix[] = {0x30, 0x44, 0x02, 0x20};
    memcpy(bad, der_prefix, sizeof(der_prefix));
    memcpy(bad + 4, want, 32);
    bad[36] = 0x02;
    bad[37] = 0x20;
    memcpy(bad + 38, want + 32, 32);
    assert_int_equal(gh_sigkey_verify(k, msg, msg_n, bad, 70), GH_ERR_AUTH);
    memcpy(bad, want, 64);
    bad[10] ^= 0x01;
    assert_int_equal(gh_sigkey_verify(k, msg, msg_n, bad, 64), GH_ERR_AUTH);
    memset(bad, 0, 32);
    memcpy(bad + 32, want + 32, 32);
    assert_int_equal(gh_sigkey_verify(k, msg, msg_n, bad, 64), GH_ERR_AUTH);
    memcpy(bad, want, 32);
    memset(bad + 32, 0, 32);
    assert_int_equal(gh_sigkey_verify(k, msg, msg_n, bad, 64), GH_ERR_AUTH);
    memset(bad, 0xff, 64);
    assert_int_equal(gh_sigkey_verify(k, msg, msg_n, bad, 64), GH_ERR_AUTH);

    json_t *jwk = NULL;
    assert_int_equal(gh_sigkey_public_jwk(k, &jwk), GH_OK);
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "EC");
    assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "P-256");
    assert_string_equal(json_string_value(json_object_get(jwk, "x")), A3_X);
    assert_string_equal(json_string_value(json_object_get(jwk, "y")), A3_Y);
    assert_string_equal(json_string_value(json_object_get(jwk, "alg")), "ES256");
    assert_string_equal(json_string_value(json_object_get(jwk, "kid")), gh_sigkey_kid(k));
    assert_null(json_object_get(jwk, "d"));
    json_decref(jwk);
    gh_sigkey_free(k);
}

/* Signatures with leading zero bytes in r or s still convert to DER and verify. */
static void es256_many_signatures(void **state)
{
    (void)state;
    struct gh_sigkey *k = NULL;
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &k), GH_OK);
    uint8_t msg[8] = "message", sig[GH_SIG_MAX];
    for (int i = 0; i < 600; i++) {
        size_t n = 0;
        msg[7] = (uint8_t)i;
        assert_int_equal(gh_sigkey_sign(k, msg, sizeof(msg), sig, sizeof(sig), &n), GH_OK);
        assert_int_equal(n, 64);
        assert_int_equal(gh_sigkey_verify(k, msg, sizeof(msg), sig, n), GH_OK);
    }
    gh_sigkey_free(k);
}

static void eddsa_rfc8037_a4(void **state)
{
    (void)state;
    struct gh_sigkey *k = load_pem(ED_PEM);
    assert_int_equal(gh_sigkey_alg(k), GH_ALG_EDDSA);
    assert_string_equal(gh_sigkey_kid(k), ED_KID); /* RFC 8037 A.3 */
    uint8_t sig[GH_SIG_MAX], want[64];
    size_t n = 0;
    assert_int_equal(unb64(ED_SIG, want, sizeof(want)), 64);
    assert_int_equal(
        gh_sigkey_sign(k, (const uint8_t *)ED_INPUT, strlen(ED_INPUT), sig, sizeof(sig), &n),
        GH_OK);
    assert_int_equal(n, 64);
    assert_memory_equal(sig, want, 64);
    assert_int_equal(gh_sigkey_verify(k, (const uint8_t *)ED_INPUT, strlen(ED_INPUT), want, 64),
                     GH_OK);
    want[63] ^= 0x80;
    assert_int_equal(gh_sigkey_verify(k, (const uint8_t *)ED_INPUT, strlen(ED_INPUT), want, 64),
                     GH_ERR_AUTH);
    assert_int_equal(gh_sigkey_verify(k, (const uint8_t *)ED_INPUT, strlen(ED_INPUT), want, 63),
                     GH_ERR_AUTH);

    json_t *jwk = NULL;
    assert_int_equal(gh_sigkey_public_jwk(k, &jwk), GH_OK);
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "OKP");
    assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "Ed25519");
    assert_string_equal(json_string_value(json_object_get(jwk, "x")), ED_X);
    assert_string_equal(json_string_value(json_object_get(jwk, "alg")), "EdDSA");
    assert_null(json_object_get(jwk, "d"));
    json_decref(jwk);
    gh_sigkey_free(k);
}

static void thumbprint_rfc7638(void **state)
{
    (void)state;
    struct gh_sigkey *k = load_pem(R7638_PEM);
    assert_string_equal(gh_sigkey_kid(k), R7638_KID);
    assert_int_equal(strlen(gh_sigkey_kid(k)), GH_KID_MAX - 1);
    json_t *jwk = NULL;
    assert_int_equal(gh_sigkey_public_jwk(k, &jwk), GH_OK);
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "RSA");
    assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
    assert_string_equal(json_string_value(json_object_get(jwk, "use")), "sig");
    assert_string_equal(json_string_value(json_object_get(jwk, "alg")), "RS256");
    assert_string_equal(json_string_value(json_object_get(jwk, "kid")), R7638_KID);
    assert_memory_equal(json_string_value(json_object_get(jwk, "n")), R7638_N_HEAD,
                        strlen(R7638_N_HEAD));
    assert_null(json_object_get(jwk, "d"));
    assert_null(json_object_get(jwk, "p"));
    json_decref(jwk);
    gh_sigkey_free(k);
}

static void load_refuses_loose_permissions(void **state)
{
    (void)state;
    static const mode_t loose[] = {0644, 0640, 0604, 0660, 0610, 0601, 0602, 0620};
    for (size_t i = 0; i < sizeof(loose) / sizeof(loose[0]); i++) {
        struct gh_sigkey *k = NULL;
        assert_int_equal(gh_sigkey_load(write_file("loose.pem", ED_PEM, loose[i]), &k),
                         GH_ERR_FILE_MODE);
        assert_null(k);
    }
    struct gh_sigkey *k = NULL;
    assert_int_equal(gh_sigkey_load(write_file("tight.pem", ED_PEM, 0400), &k), GH_OK);
    gh_sigkey_free(k);
}

static void load_refuses_symlinks_and_junk(void **state)
{
    (void)state;
    struct gh_sigkey *k = NULL;
    const char *target = write_file("target.pem", ED_PEM, 0600);
    char target_copy[256];
    snprintf(target_copy, sizeof(target_copy), "%s", target);
    const char *link = tmp_path("link.pem");
    unlink(link);
    assert_int_equal(symlink(target_copy, link), 0);
    assert_int_equal(gh_sigkey_load(link, &k), GH_ERR_IO);
    assert_int_equal(gh_sigkey_load(tmp_path("missing.pem"), &k), GH_ERR_IO);
    assert_int_equal(gh_sigkey_load(dir, &k), GH_ERR_IO);
    assert_int_equal(gh_sigkey_load(write_file("junk.pem", "not a key\n", 0600), &k),
                     GH_ERR_INVALID);
    assert_int_equal(gh_sigkey_load(write_file("empty.pem", "", 0600), &k), GH_ERR_INVALID);
    assert_null(k);
}

/* Writes pkey as PEM (optionally encrypted) to a 0600 file and tries to load it. */
static gh_err load_evp(EVP_PKEY *pkey, const EVP_CIPHER *cipher)
{
    const char *path = tmp_path("evp.pem");
    unlink(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(
        PEM_write_PrivateKey(f, pkey, cipher, (unsigned char *)"secret", 6, NULL, NULL), 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0600), 0);
    struct gh_sigkey *k = NULL;
    gh_err err = gh_sigkey_load(path, &k);
    gh_sigkey_free(k);
    return err;
}

static void load_refuses_other_key_types(void **state)
{
    (void)state;
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_PKEY *x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(p384);
    assert_non_null(x25519);
    assert_non_null(rsa1024);
    assert_non_null(ed);
    assert_int_equal(load_evp(p384, NULL), GH_ERR_INVALID);
    assert_int_equal(load_evp(x25519, NULL), GH_ERR_INVALID);
    assert_int_equal(load_evp(rsa1024, NULL), GH_ERR_INVALID);
    assert_int_equal(load_evp(ed, NULL), GH_OK);
    /* an encrypted key is refused, never prompted for */
    assert_int_equal(load_evp(ed, EVP_aes_256_cbc()), GH_ERR_INVALID);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(x25519);
    EVP_PKEY_free(rsa1024);
    EVP_PKEY_free(ed);
}

static void save_is_0600_and_never_overwrites(void **state)
{
    (void)state;
    struct gh_sigkey *k = load_pem(ED_PEM);
    const char *path = tmp_path("saved.pem");
    char saved[256];
    snprintf(saved, sizeof(saved), "%s", path);
    unlink(saved);
    assert_int_equal(gh_sigkey_save(k, saved), GH_OK);
    struct stat st;
    assert_int_equal(stat(saved, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* PKCS#8 */
    char head[64] = {0};
    FILE *f = fopen(saved, "r");
    assert_non_null(f);
    assert_non_null(fgets(head, sizeof(head), f));
    fclose(f);
    assert_string_equal(head, "-----BEGIN PRIVATE KEY-----\n");

    /* a second save to the same path fails and leaves the file alone */
    struct gh_sigkey *other = NULL;
    assert_int_equal(gh_sigkey_generate(GH_ALG_EDDSA, 0, &other), GH_OK);
    assert_int_equal(gh_sigkey_save(other, saved), GH_ERR_CONFLICT);
    struct gh_sigkey *back = NULL;
    assert_int_equal(gh_sigkey_load(saved, &back), GH_OK);
    assert_string_equal(gh_sigkey_kid(back), ED_KID);

    /* nor through a dangling symlink */
    const char *link = tmp_path("dangling.pem");
    char link_copy[256];
    snprintf(link_copy, sizeof(link_copy), "%s", link);
    unlink(link_copy);
    assert_int_equal(symlink("/tmp/gh-test-sigkey-nowhere", link_copy), 0);
    assert_int_not_equal(gh_sigkey_save(other, link_copy), GH_OK);
    assert_int_not_equal(access("/tmp/gh-test-sigkey-nowhere", F_OK), 0);

    gh_sigkey_free(k);
    gh_sigkey_free(other);
    gh_sigkey_free(back);
}

static void save_load_round_trip_keeps_kid(void **state)
{
    (void)state;
    static const enum gh_alg algs[] = {GH_ALG_RS256, GH_ALG_ES256, GH_ALG_EDDSA};
    for (size_t i = 0; i < 3; i++) {
        struct gh_sigkey *k = NULL, *back = NULL;
        assert_int_equal(gh_sigkey_generate(algs[i], 2048, &k), GH_OK);
        assert_int_equal(strlen(gh_sigkey_kid(k)), 43);
        char path[256];
        snprintf(path, sizeof(path), "%s/rt%zu.pem", dir, i);
        assert_int_equal(gh_sigkey_save(k, path), GH_OK);
        assert_int_equal(gh_sigkey_load(path, &back), GH_OK);
        assert_int_equal(gh_sigkey_alg(back), algs[i]);
        assert_string_equal(gh_sigkey_kid(back), gh_sigkey_kid(k));
        assert_int_equal(gh_sigkey_bits(back), gh_sigkey_bits(k));

        /* the reloaded key verifies what the original signed */
        uint8_t sig[GH_SIG_MAX];
        size_t n = 0;
        assert_int_equal(gh_sigkey_sign(k, (const uint8_t *)"abc", 3, sig, sizeof(sig), &n), GH_OK);
        assert_int_equal(gh_sigkey_verify(back, (const uint8_t *)"abc", 3, sig, n), GH_OK);
        gh_sigkey_free(k);
        gh_sigkey_free(back);
    }
}

static void generate_checks_rsa_bits(void **state)
{
    (void)state;
    static const unsigned bad[] = {0, 1024, 2047, 2049, 2560, 9216, 16384};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct gh_sigkey *k = NULL;
        assert_int_equal(gh_sigkey_generate(GH_ALG_RS256, bad[i], &k), GH_ERR_INVALID);
        assert_null(k);
    }
    struct gh_sigkey *k = NULL;
    assert_int_equal(gh_sigkey_generate(GH_ALG_RS256, 3072, &k), GH_OK);
    assert_int_equal(gh_sigkey_bits(k), 3072);
    uint8_t sig[GH_SIG_MAX];
    size_t n = 0;
    assert_int_equal(gh_sigkey_sign(k, (const uint8_t *)"x", 1, sig, sizeof(sig), &n), GH_OK);
    assert_int_equal(n, 384);
    gh_sigkey_free(k);
    gh_sigkey_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alg_names),
        cmocka_unit_test(rs256_rfc7515_a2),
        cmocka_unit_test(es256_rfc7515_a3),
        cmocka_unit_test(es256_many_signatures),
        cmocka_unit_test(eddsa_rfc8037_a4),
        cmocka_unit_test(thumbprint_rfc7638),
        cmocka_unit_test(load_refuses_loose_permissions),
        cmocka_unit_test(load_refuses_symlinks_and_junk),
        cmocka_unit_test(load_refuses_other_key_types),
        cmocka_unit_test(save_is_0600_and_never_overwrites),
        cmocka_unit_test(save_load_round_trip_keeps_kid),
        cmocka_unit_test(generate_checks_rsa_bits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

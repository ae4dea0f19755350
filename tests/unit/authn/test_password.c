/* Unit tests for authn/password: bcrypt-sha256, plain bcrypt, Argon2id, rehash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "authn/password.h"

static const struct gh_pwhash_params bcrypt4 = {GH_PWHASH_BCRYPT, 4, 1, 8u << 20};
static const struct gh_pwhash_params argon = {GH_PWHASH_ARGON2ID, 4, 1, 8u << 20};

static void hash_ok(const struct gh_pwhash_params *p, const char *pw, size_t len,
                    char out[GH_PWHASH_MAX])
{
    assert_int_equal(gh_password_hash(p, pw, len, out), GH_OK);
}

static void bcrypt_round_trip(void **state)
{
    (void)state;
    char h[GH_PWHASH_MAX], h2[GH_PWHASH_MAX];
    hash_ok(&bcrypt4, "correct horse", 13, h);
    assert_int_equal(strlen(h), 15 + 60);
    assert_memory_equal(h, "$bcrypt-sha256$$2b$04$", 22);
    assert_int_equal(gh_password_verify(h, "correct horse", 13), GH_OK);
    assert_int_equal(gh_password_verify(h, "correct horsf", 13), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(h, "correct hors", 12), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(h, "Correct horse", 13), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(h, "", 0), GH_ERR_AUTH);
    hash_ok(&bcrypt4, "correct horse", 13, h2);
    assert_string_not_equal(h, h2); /* a fresh salt each time */
    assert_int_equal(gh_password_verify(h2, "correct horse", 13), GH_OK);
}

static void bcrypt_cost_12(void **state)
{
    (void)state;
    const struct gh_pwhash_params p = {GH_PWHASH_BCRYPT, 12, 1, 8u << 20};
    char h[GH_PWHASH_MAX];
    hash_ok(&p, "twelve rounds", 13, h);
    assert_memory_equal(h, "$bcrypt-sha256$$2b$12$", 22);
    assert_int_equal(gh_password_verify(h, "twelve rounds", 13), GH_OK);
    assert_false(gh_password_needs_rehash(&p, h));
    assert_true(gh_password_needs_rehash(&bcrypt4, h));
}

/*
 * Known answers computed independently with python3-bcrypt:
 *   setting = b"$2b$04$e5G/rYBbOp4XyUtozMQ1ve"
 *   pre = base64.b64encode(hmac.new(setting, pw, hashlib.sha256).digest())
 *   "$bcrypt-sha256$" + bcrypt.hashpw(pre, setting)
 */
static void bcrypt_sha256_known_answers(void **state)
{
    (void)state;
    const char *staple =
        "$bcrypt-sha256$$2b$04$e5G/rYBbOp4XyUtozMQ1veZUstVII3pdNSK9UdcOpknHtjknaGfYC";
    const char *x100 =
        "$bcrypt-sha256$$2b$04$e5G/rYBbOp4XyUtozMQ1veoduVnWrzBKNRxV7QAlvBhCN7oW6KrJW";
    const char *empty =
        "$bcrypt-sha256$$2b$04$e5G/rYBbOp4XyUtozMQ1ve3421nS6FxczgQ2r1G0vciGW479by0WS";
    char xs[101];
    memset(xs, 'x', 100);
    xs[100] = '\0';

    assert_int_equal(gh_password_verify(staple, "correct horse battery staple", 28), GH_OK);
    assert_int_equal(gh_password_verify(staple, "correct horse battery stapl", 27), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(x100, xs, 100), GH_OK);
    assert_int_equal(gh_password_verify(x100, xs, 99), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(x100, xs, 72), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(empty, "", 0), GH_OK);
    assert_int_equal(gh_password_verify(empty, "\0", 1), GH_ERR_AUTH);
}

static void bcrypt_counts_every_byte(void **state)
{
    (void)state;
    /* Plain bcrypt ignores every byte past the 72nd; the pre-hash must not. */
    const size_t lens[] = {72, 73, 100, 128};
    char a[128], b[128], h[GH_PWHASH_MAX];
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t n = lens[i];
        memset(a, 'p', sizeof(a));
        memcpy(b, a, sizeof(b));
        b[n - 1] = 'q'; /* differs only in the last byte, at or past 72 */
        hash_ok(&bcrypt4, a, n, h);
        assert_int_equal(gh_password_verify(h, a, n), GH_OK);
        assert_int_equal(gh_password_verify(h, b, n), GH_ERR_AUTH);
        assert_int_equal(gh_password_verify(h, a, n - 1), GH_ERR_AUTH);
        assert_int_equal(gh_password_verify(h, a, 72 - (n == 72)), GH_ERR_AUTH);
        if (n < sizeof(a))
            assert_int_equal(gh_password_verify(h, a, n + 1), GH_ERR_AUTH);
    }
    /* Nor does a NUL end the password. */
    hash_ok(&bcrypt4, "ab\0cd", 5, h);
    assert_int_equal(gh_password_verify(h, "ab\0cd", 5), GH_OK);
    assert_int_equal(gh_password_verify(h, "ab\0ce", 5), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(h, "ab", 2), GH_ERR_AUTH);
}

/* Hashes made by python3-bcrypt 3.2.2, as imported users would bring them. */
static void plain_bcrypt_imported(void **state)
{
    (void)state;
    const char *h = "$2b$04$w9eIASC7N7KrXoSM.yn.i.TDnAqKeLseZvKKK5HsyZ8mNvJz8fZaW";
    assert_int_equal(gh_password_verify(h, "imported-Passw0rd", 17), GH_OK);
    assert_int_equal(gh_password_verify(h, "imported-Passw0rD", 17), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(h, "imported-Passw0rd\0", 18), GH_ERR_AUTH);
    assert_true(gh_password_needs_rehash(&bcrypt4, h)); /* upgrade to bcrypt-sha256 */
    assert_true(gh_password_needs_rehash(&argon, h));

    /* $2a$ verifies; $2y$ is the same algorithm under PHP's name. */
    const char *h2a = "$2a$04$oQv2/1zN49sUvi35ITbDLOQoUA2kS5Cy0tDnEb.qH5GXvVfs1v4Em";
    assert_int_equal(gh_password_verify(h2a, "legacy-2a", 9), GH_OK);
    assert_int_equal(gh_password_verify(h2a, "legacy-2b", 9), GH_ERR_AUTH);
    const char *h2y = "$2y$04$w9eIASC7N7KrXoSM.yn.i.TDnAqKeLseZvKKK5HsyZ8mNvJz8fZaW";
    assert_int_equal(gh_password_verify(h2y, "imported-Passw0rd", 17), GH_OK);

    /* 72 bytes is bcrypt's whole input; a 73rd byte would be ignored by bcrypt, so refuse. */
    const char *h72 = "$2b$04$BV6JuQPj94wSGt4LykwIzOY5cK.MxAtCJ//5U/2LqfF2kmsDK/gKq";
    char p[80];
    for (size_t i = 0; i < 70; i++)
        p[i] = (char)('0' + i % 10);
    memcpy(p + 70, "ab", 2);
    p[72] = 'Z';
    assert_int_equal(gh_password_verify(h72, p, 72), GH_OK);
    assert_int_equal(gh_password_verify(h72, p, 73), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(h72, p, 71), GH_ERR_AUTH);
}

static void argon2id_round_trip(void **state)
{
    (void)state;
    const char *pw = "Grüße, Welt";
    char h[GH_PWHASH_MAX], h2[GH_PWHASH_MAX];
    hash_ok(&argon, pw, strlen(pw), h);
    assert_memory_equal(h, "$argon2id$v=19$m=8192,t=1,p=1$", 30);
    assert_int_equal(gh_password_verify(h, pw, strlen(pw)), GH_OK);
    assert_int_equal(gh_password_verify(h, pw, strlen(pw) - 1), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(h, "Grüße, Welt!", strlen(pw) + 1), GH_ERR_AUTH);
    hash_ok(&argon, pw, strlen(pw), h2);
    assert_string_not_equal(h, h2);
    /* every byte counts, NUL included */
    hash_ok(&argon, "a\0b", 3, h);
    assert_int_equal(gh_password_verify(h, "a\0b", 3), GH_OK);
    assert_int_equal(gh_password_verify(h, "a", 1), GH_ERR_AUTH);
}

static void needs_rehash_cases(void **state)
{
    (void)state;
    char hb[GH_PWHASH_MAX], ha[GH_PWHASH_MAX];
    hash_ok(&bcrypt4, "pw", 2, hb);
    hash_ok(&argon, "pw", 2, ha);

    assert_false(gh_password_needs_rehash(&bcrypt4, hb));
    struct gh_pwhash_params five = bcrypt4;
    five.bcrypt_cost = 5;
    assert_true(gh_password_needs_rehash(&five, hb));
    assert_true(gh_password_needs_rehash(&argon, hb)); /* alg switch */

    assert_false(gh_password_needs_rehash(&argon, ha));
    assert_true(gh_password_needs_rehash(&bcrypt4, ha)); /* alg switch back */
    struct gh_pwhash_params more = argon;
    more.argon2_ops = 2;
    assert_true(gh_password_needs_rehash(&more, ha));
    more = argon;
    more.argon2_memory = 16u << 20;
    assert_true(gh_password_needs_rehash(&more, ha));

    assert_true(gh_password_needs_rehash(&bcrypt4, "garbage"));
    assert_true(gh_password_needs_rehash(&argon, "garbage"));
}

static void garbage_hash_is_invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "plaintext",
        "$1$md5$x",
        "$bcrypt-sha256$",
        "$bcrypt-sha256$short",
        "$bcrypt-sha256$$2b$04$e5G/rYBbOp4XyUtozMQ1veZUstVII3pdNSK9UdcOpknHtjknaGfY",   /* 59 */
        "$bcrypt-sha256$$2b$04$e5G/rYBbOp4XyUtozMQ1veZUstVII3pdNSK9UdcOpknHtjknaGfYCC", /* 61 */
        "$bcrypt-sha256$$2b$03$e5G/rYBbOp4XyUtozMQ1veZUstVII3pdNSK9UdcOpknHtjknaGfYC",  /* cost */
        "$bcrypt-sha256$$2c$04$e5G/rYBbOp4XyUtozMQ1veZUstVII3pdNSK9UdcOpknHtjknaGfYC",
        "$2b$04$w9eIASC7N7KrXoSM.yn.i.TDnAqKeLseZvKKK5HsyZ8mNvJz8fZa!",
        "$2b$4$w9eIASC7N7KrXoSM.yn.i.TDnAqKeLseZvKKK5HsyZ8mNvJz8fZaWW",
        "$argon2id$",
        "$argon2id$v=19$m=8192,t=1,p=1$garbage",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gh_password_verify(bad[i], "pw", 2), GH_ERR_INVALID);

    char huge[GH_PWHASH_MAX + 8];
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    memcpy(huge, "$argon2id$", 10);
    assert_int_equal(gh_password_verify(huge, "pw", 2), GH_ERR_INVALID);
}

static void bad_params_are_invalid(void **state)
{
    (void)state;
    char h[GH_PWHASH_MAX];
    struct gh_pwhash_params p = bcrypt4;
    p.bcrypt_cost = 3;
    assert_int_equal(gh_password_hash(&p, "pw", 2, h), GH_ERR_INVALID);
    p.bcrypt_cost = 32;
    assert_int_equal(gh_password_hash(&p, "pw", 2, h), GH_ERR_INVALID);
    p = argon;
    p.argon2_ops = 0;
    assert_int_equal(gh_password_hash(&p, "pw", 2, h), GH_ERR_INVALID);
    p = argon;
    p.argon2_memory = 1024;
    assert_int_equal(gh_password_hash(&p, "pw", 2, h), GH_ERR_INVALID);
}

static void empty_password(void **state)
{
    (void)state;
    char h[GH_PWHASH_MAX];
    hash_ok(&bcrypt4, "", 0, h);
    assert_int_equal(gh_password_verify(h, "", 0), GH_OK);
    assert_int_equal(gh_password_verify(h, " ", 1), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(h, "\0", 1), GH_ERR_AUTH);
    hash_ok(&argon, "", 0, h);
    assert_int_equal(gh_password_verify(h, "", 0), GH_OK);
    assert_int_equal(gh_password_verify(h, " ", 1), GH_ERR_AUTH);
}

/* Several hashing threads at once, each with its own password (run under TSan too). */
struct worker {
    const struct gh_pwhash_params *p;
    char pw[32];
    int failures;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    char h[GH_PWHASH_MAX];
    size_t n = strlen(w->pw);
    for (int i = 0; i < 4; i++) {
        if (gh_password_hash(w->p, w->pw, n, h) != GH_OK ||
            gh_password_verify(h, w->pw, n) != GH_OK ||
            gh_password_verify(h, w->pw, n - 1) != GH_ERR_AUTH || gh_password_needs_rehash(w->p, h))
            w->failures++;
    }
    return NULL;
}

static void concurrent_threads(void **state)
{
    (void)state;
    struct worker w[6];
    pthread_t t[6];
    for (int i = 0; i < 6; i++) {
        w[i].p = i % 2 ? &argon : &bcrypt4;
        snprintf(w[i].pw, sizeof(w[i].pw), "thread %d password", i);
        w[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bcrypt_round_trip),
        cmocka_unit_test(bcrypt_cost_12),
        cmocka_unit_test(bcrypt_sha256_known_answers),
        cmocka_unit_test(bcrypt_counts_every_byte),
        cmocka_unit_test(plain_bcrypt_imported),
        cmocka_unit_test(argon2id_round_trip),
        cmocka_unit_test(needs_rehash_cases),
        cmocka_unit_test(garbage_hash_is_invalid),
        cmocka_unit_test(bad_params_are_invalid),
        cmocka_unit_test(empty_password),
        cmocka_unit_test(concurrent_threads),
    };
    /* clang-format on */
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for authn/: password hashing and the password policy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "authn/password.h"
#include "authn/policy.h"

static const struct gh_pwhash_params bcrypt4 = {GH_PWHASH_BCRYPT, 4, 1, 8u << 20};
static const struct gh_pwhash_params argon = {GH_PWHASH_ARGON2ID, 0, 1, 8u << 20};

static void hash_ok(const struct gh_pwhash_params *p, const char *pw, size_t len,
                    char out[GH_PWHASH_MAX])
{
    assert_int_equal(gh_password_hash(p, pw, len, out), GH_OK);
}

static void bcrypt_round_trip(void **state)
{
    (void)state;
    char h[GH_PWHASH_MAX];
    hash_ok(&bcrypt4, "correct horse", 13, h);
    assert_true(strncmp(h, "$bcrypt-sha256$$2b$04$", 22) == 0);
    assert_int_equal(gh_password_verify(h, "correct horse", 13), GH_OK);
    assert_int_equal(gh_password_verify(h, "correct horsf", 13), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(h, "correct hors", 12), GH_ERR_AUTH);
    char h2[GH_PWHASH_MAX];
    hash_ok(&bcrypt4, "correct horse", 13, h2);
    assert_string_not_equal(h, h2); /* salted */
}

static void bcrypt_counts_every_byte(void **state)
{
    (void)state;
    /* Plain bcrypt ignores bytes past 72; the pre-hash must not. */
    char a[129], b[129];
    memset(a, 'x', 128);
    memcpy(b, a, 128);
    a[128] = b[128] = '\0';
    b[100] = 'y';
    char h[GH_PWHASH_MAX];
    const size_t lens[] = {73, 100, 128};
    for (size_t i = 0; i < 3; i++) {
        b[lens[i] - 1] = 'y';
        hash_ok(&bcrypt4, a, lens[i], h);
        assert_int_equal(gh_password_verify(h, a, lens[i]), GH_OK);
        assert_int_equal(gh_password_verify(h, b, lens[i]), GH_ERR_AUTH);
        b[lens[i] - 1] = 'x';
    }
    /* and a NUL does not end the password */
    hash_ok(&bcrypt4, "ab\0cd", 5, h);
    assert_int_equal(gh_password_verify(h, "ab\0ce", 5), GH_ERR_AUTH);
    assert_int_equal(gh_password_verify(h, "ab", 2), GH_ERR_AUTH);
}

static void plain_bcrypt_from_elsewhere(void **state)
{
    (void)state;
    /* made by python3-bcrypt */
    const char *h = "$2b$04$.HHE8eQrBzQPV6RhRJXFDeFeEeQ95CNTC4KgKvgelIOwiDWZkhMSO";
    assert_int_equal(gh_password_verify(h, "plain-old-bcrypt", 16), GH_OK);
    assert_int_equal(gh_password_verify(h, "plain-old-bcrypT", 16), GH_ERR_AUTH);
    assert_true(gh_password_needs_rehash(&bcrypt4, h));
}

static void argon2id_round_trip(void **state)
{
    (void)state;
    char h[GH_PWHASH_MAX];
    hash_ok(&argon, "Grüße, Welt", strlen("Grüße, Welt"), h);
    assert_true(strncmp(h, "$argon2id$", 10) == 0);
    assert_int_equal(gh_password_verify(h, "Grüße, Welt", strlen("Grüße, Welt")), GH_OK);
    assert_int_equal(gh_password_verify(h, "Grüße, Welt!", strlen("Grüße, Welt!")), GH_ERR_AUTH);
    assert_false(gh_password_needs_rehash(&argon, h));
    assert_true(gh_password_needs_rehash(&bcrypt4, h));
}

static void rehash_when_cost_changes(void **state)
{
    (void)state;
    char h[GH_PWHASH_MAX];
    hash_ok(&bcrypt4, "pw", 2, h);
    assert_false(gh_password_needs_rehash(&bcrypt4, h));
    struct gh_pwhash_params five = bcrypt4;
    five.bcrypt_cost = 5;
    assert_true(gh_password_needs_rehash(&five, h));
    assert_true(gh_password_needs_rehash(&argon, h));
    struct gh_pwhash_params stronger = argon;
    stronger.argon2_ops = 2;
    hash_ok(&argon, "pw", 2, h);
    assert_true(gh_password_needs_rehash(&stronger, h));
}

static void garbage_hash_is_invalid(void **state)
{
    (void)state;
    assert_int_equal(gh_password_verify("", "pw", 2), GH_ERR_INVALID);
    assert_int_equal(gh_password_verify("plaintext", "plaintext", 9), GH_ERR_INVALID);
    assert_int_equal(gh_password_verify("$bcrypt-sha256$short", "pw", 2), GH_ERR_INVALID);
    assert_int_equal(gh_password_verify("$1$md5$x", "pw", 2), GH_ERR_INVALID);
}

/* ---- policy ---- */

static const struct gh_policy defaults = {8, 128, 0, 0, 0, 0, 1, 20};

static unsigned check(const struct gh_policy *p, const char *pw, const char *const *words)
{
    unsigned failed = 0;
    gh_err err = gh_policy_check(p, pw, strlen(pw), words, &failed);
    assert_true(err == GH_OK || err == GH_ERR_POLICY);
    return err == GH_OK ? 0 : failed;
}

static void policy_length_in_code_points(void **state)
{
    (void)state;
    struct gh_policy p = defaults;
    p.reject_common = 0;
    assert_int_equal(check(&p, "éééééé\xc3\xa9", NULL), GH_RULE_TOO_SHORT); /* 7 chars, 14 bytes */
    assert_int_equal(check(&p, "éééééééé", NULL), 0);
    char long_pw[200];
    memset(long_pw, 'a', 128);
    long_pw[128] = '\0';
    assert_int_equal(check(&p, long_pw, NULL), 0);
    long_pw[128] = 'a';
    long_pw[129] = '\0';
    assert_int_equal(check(&p, long_pw, NULL), GH_RULE_TOO_LONG);
}

static void policy_rejects_common_and_personal(void **state)
{
    (void)state;
    const char *const words[] = {"alice", "alice@example.com", NULL};
    assert_int_equal(check(&defaults, "password123", words), GH_RULE_COMMON);
    assert_int_equal(check(&defaults, "letmein12", words), GH_RULE_COMMON);
    assert_int_equal(check(&defaults, "qwertyuiop", words), GH_RULE_COMMON);
    assert_int_equal(check(&defaults, "Alice-Was-Here-Zx9!", words), GH_RULE_COMMON);
    assert_int_equal(check(&defaults, "correct horse battery staple", words), 0);
    assert_int_equal(check(&defaults, "kxm2vq8z", words), 0);
    assert_int_equal(check(&defaults, "S3cure-Passw0rd!", words), 0);
}

static void policy_composition_rules_are_options(void **state)
{
    (void)state;
    struct gh_policy p = defaults;
    assert_int_equal(check(&p, "correct horse battery staple", NULL), 0);
    p.require_upper = p.require_digit = p.require_symbol = 1;
    assert_int_equal(check(&p, "correct horse battery staple", NULL),
                     GH_RULE_UPPER | GH_RULE_DIGIT);
    assert_int_equal(check(&p, "Correct horse battery staple 9", NULL), 0);
    p.require_symbol = 1;
    p.require_upper = p.require_digit = 0;
    assert_int_equal(check(&p, "correcthorsebatterystaple", NULL), GH_RULE_SYMBOL);
    p.require_lower = 1;
    assert_int_equal(check(&p, "CORRECT HORSE BATTERY", NULL), GH_RULE_LOWER);
}

static void policy_reports_every_failure(void **state)
{
    (void)state;
    struct gh_policy p = defaults;
    p.require_upper = 1;
    p.require_digit = 1;
    unsigned f = check(&p, "short", NULL);
    assert_int_equal(f, GH_RULE_TOO_SHORT | GH_RULE_UPPER | GH_RULE_DIGIT);
    assert_string_equal(gh_policy_rule_name(GH_RULE_TOO_SHORT), "too_short");
    assert_string_equal(gh_policy_rule_name(GH_RULE_COMMON), "common");
    assert_string_equal(gh_policy_rule_name(GH_RULE_ENCODING), "encoding");
}

static void policy_rejects_bad_encoding(void **state)
{
    (void)state;
    unsigned failed = 0;
    assert_int_equal(gh_policy_check(&defaults, "abc\0defgh", 9, NULL, &failed), GH_ERR_POLICY);
    assert_int_equal(failed, GH_RULE_ENCODING);
    assert_int_equal(check(&defaults, "bad\xff\xfe utf8 here", NULL), GH_RULE_ENCODING);
    assert_int_equal(check(&defaults, "overlong \xc0\xaf slash", NULL), GH_RULE_ENCODING);
    assert_int_equal(check(&defaults, "surrogate \xed\xa0\x80 half", NULL), GH_RULE_ENCODING);
    assert_int_equal(check(&defaults, "tab\tinside password", NULL), GH_RULE_ENCODING);
    assert_int_equal(check(&defaults, "truncated \xe2\x82", NULL), GH_RULE_ENCODING);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bcrypt_round_trip),
        cmocka_unit_test(bcrypt_counts_every_byte),
        cmocka_unit_test(plain_bcrypt_from_elsewhere),
        cmocka_unit_test(argon2id_round_trip),
        cmocka_unit_test(rehash_when_cost_changes),
        cmocka_unit_test(garbage_hash_is_invalid),
        cmocka_unit_test(policy_length_in_code_points),
        cmocka_unit_test(policy_rejects_common_and_personal),
        cmocka_unit_test(policy_composition_rules_are_options),
        cmocka_unit_test(policy_reports_every_failure),
        cmocka_unit_test(policy_rejects_bad_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

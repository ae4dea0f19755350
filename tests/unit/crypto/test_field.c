/* Unit tests for crypto/field: envelopes that open only for their org and field, every bad
 * input of issue 14 refused, rotation and rewrap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/field.h"
#include "store_fixture.h"

static const char *const ORG_A = "01890a5d-ac96-774b-bcce-b302099a8057";
static const char *const ORG_B = "01890a5d-ac96-774b-bcce-b302099a8058";

struct ctx {
    struct store_fixture store;
    struct gh_datakeys *dk;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    uint8_t master[32];
    randombytes_buf(master, sizeof(master));
    if (c == NULL || store_fixture_open(&c->store) != 0 ||
        gh_datakeys_open(&c->store.h, master, 1, &c->dk) != GH_OK)
        return -1;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    gh_datakeys_free(c->dk);
    store_fixture_close(&c->store);
    free(c);
    return 0;
}

static void seal(struct ctx *c, const char *org, const char *field, const char *pt, char *out,
                 size_t size)
{
    size_t len = 0;
    assert_int_equal(
        gh_field_seal(c->dk, org, field, (const uint8_t *)pt, strlen(pt), out, size, &len), GH_OK);
    assert_int_equal(len, strlen(out));
}

static gh_err open_text(struct ctx *c, const char *org, const char *field, const char *text,
                        char *out, size_t size)
{
    size_t len = 0;
    gh_err err =
        gh_field_open(c->dk, org, field, text, strlen(text), (uint8_t *)out, size - 1, &len);
    if (err == GH_OK)
        out[len] = '\0';
    return err;
}

static void round_trip_bound_to_org_and_field(void **state)
{
    struct ctx *c = *state;
    char text[GH_FIELD_SEALED_SIZE(32)], back[64];
    seal(c, ORG_A, "ssn", "078-05-1120", text, sizeof(text));
    assert_memory_equal(text, "enc:v1:1:", 9);
    assert_int_equal(open_text(c, ORG_A, "ssn", text, back, sizeof(back)), GH_OK);
    assert_string_equal(back, "078-05-1120");
    assert_int_equal(open_text(c, ORG_B, "ssn", text, back, sizeof(back)), GH_ERR_AUTH);
    assert_int_equal(open_text(c, NULL, "ssn", text, back, sizeof(back)), GH_ERR_AUTH);
    assert_int_equal(open_text(c, ORG_A, "ssn2", text, back, sizeof(back)), GH_ERR_AUTH);
    /* No org (what Gatehouse seals for itself, TOTP secrets) is its own scope. */
    seal(c, NULL, "totp:01890a5d-ac96-774b-bcce-b302099a8059", "JBSWY3DPEHPK3PXP", text,
         sizeof(text));
    assert_int_equal(
        open_text(c, NULL, "totp:01890a5d-ac96-774b-bcce-b302099a8059", text, back, sizeof(back)),
        GH_OK);
    assert_string_equal(back, "JBSWY3DPEHPK3PXP");
    assert_int_equal(
        open_text(c, ORG_A, "totp:01890a5d-ac96-774b-bcce-b302099a8059", text, back, sizeof(back)),
        GH_ERR_AUTH);
}

/* Issue 14's bad inputs: a changed byte, an unknown key id, truncated base64, another
 * prefix, an empty plaintext, bad names, too long a value, too small a buffer. */
static void bad_inputs_refused(void **state)
{
    struct ctx *c = *state;
    char text[GH_FIELD_SEALED_SIZE(32)], copy[sizeof(text)], back[64];
    size_t len = 0, n;
    seal(c, ORG_A, "card", "4111111111111111", text, sizeof(text));
    n = strlen(text);
    for (size_t i = 9; i < n; i++) {
        memcpy(copy, text, n + 1);
        copy[i] = copy[i] == 'A' ? 'B' : 'A';
        gh_err err = open_text(c, ORG_A, "card", copy, back, sizeof(back));
        /* A changed last character may break the canonical trailing bits instead. */
        assert_true(err == GH_ERR_AUTH || err == GH_ERR_INVALID);
    }
    memcpy(copy, text, n + 1);
    copy[7] = '9';
    assert_int_equal(open_text(c, ORG_A, "card", copy, back, sizeof(back)), GH_ERR_NOT_FOUND);
    memcpy(copy, text, n + 1);
    copy[n - 5] = '\0';
    assert_int_not_equal(open_text(c, ORG_A, "card", copy, back, sizeof(back)), GH_OK);
    memcpy(copy, text, n + 1);
    copy[4] = 'V';
    assert_int_equal(open_text(c, ORG_A, "card", copy, back, sizeof(back)), GH_ERR_INVALID);
    assert_int_equal(open_text(c, ORG_A, "card", "4111111111111111", back, sizeof(back)),
                     GH_ERR_INVALID);
    assert_int_equal(
        gh_field_seal(c->dk, ORG_A, "card", (const uint8_t *)"", 0, text, sizeof(text), &len),
        GH_ERR_INVALID);
    assert_int_equal(
        gh_field_seal(c->dk, ORG_A, "", (const uint8_t *)"x", 1, text, sizeof(text), &len),
        GH_ERR_INVALID);
    assert_int_equal(
        gh_field_seal(c->dk, ORG_A, "a b", (const uint8_t *)"x", 1, text, sizeof(text), &len),
        GH_ERR_INVALID);
    assert_int_equal(gh_field_seal(c->dk, "not-an-org", "card", (const uint8_t *)"x", 1, text,
                                   sizeof(text), &len),
                     GH_ERR_INVALID);
    assert_int_equal(gh_field_seal(c->dk, ORG_A, "card", (const uint8_t *)"x", 1, text, 20, &len),
                     GH_ERR_TOO_LARGE);
    uint8_t *big = calloc(1, GH_ENVELOPE_MAX_PLAIN + 1);
    char *out = malloc(GH_FIELD_SEALED_SIZE(GH_ENVELOPE_MAX_PLAIN + 1));
    assert_non_null(big);
    assert_non_null(out);
    assert_int_equal(gh_field_seal(c->dk, ORG_A, "card", big, GH_ENVELOPE_MAX_PLAIN + 1, out,
                                   GH_FIELD_SEALED_SIZE(GH_ENVELOPE_MAX_PLAIN + 1), &len),
                     GH_ERR_TOO_LARGE);
    assert_int_equal(gh_field_seal(c->dk, ORG_A, "card", big, GH_ENVELOPE_MAX_PLAIN, out,
                                   GH_FIELD_SEALED_SIZE(GH_ENVELOPE_MAX_PLAIN), &len),
                     GH_OK);
    free(big);
    free(out);
}

/* After a rotation new values use the new key, old ones still open, rewrap moves them and
 * leaves current ones unchanged. */
static void rotate_and_rewrap(void **state)
{
    struct ctx *c = *state;
    char old[GH_FIELD_SEALED_SIZE(32)], fresh[sizeof(old)], again[sizeof(old)], back[64];
    size_t len = 0;
    int changed = -1;
    uint32_t id = 0;
    seal(c, ORG_A, "iban", "DE89370400440532013000", old, sizeof(old));
    assert_int_equal(gh_datakeys_rotate(c->dk, 2, &id), GH_OK);
    seal(c, ORG_A, "iban", "DE89370400440532013000", fresh, sizeof(fresh));
    assert_memory_equal(fresh, "enc:v1:2:", 9);
    assert_int_equal(open_text(c, ORG_A, "iban", old, back, sizeof(back)), GH_OK);
    assert_int_equal(gh_field_rewrap(c->dk, ORG_A, "iban", old, strlen(old), again, sizeof(again),
                                     &len, &changed),
                     GH_OK);
    assert_int_equal(changed, 1);
    assert_memory_equal(again, "enc:v1:2:", 9);
    assert_int_equal(open_text(c, ORG_A, "iban", again, back, sizeof(back)), GH_OK);
    assert_string_equal(back, "DE89370400440532013000");
    assert_int_equal(gh_field_rewrap(c->dk, ORG_A, "iban", fresh, strlen(fresh), again,
                                     sizeof(again), &len, &changed),
                     GH_OK);
    assert_int_equal(changed, 0);
    assert_string_equal(again, fresh);
    /* Rewrap checks the value: another org's is refused, nothing written. */
    memset(again, 0, sizeof(again));
    assert_int_equal(gh_field_rewrap(c->dk, ORG_B, "iban", old, strlen(old), again, sizeof(again),
                                     &len, &changed),
                     GH_ERR_AUTH);
    assert_int_equal(again[0], 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(round_trip_bound_to_org_and_field),
        T(bad_inputs_refused),
        T(rotate_and_rewrap),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

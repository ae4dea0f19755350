/* Unit tests for authn/oidc_idtoken and authn/sso_identity: every claim check of an ID
 * token (issuer, Google's scheme-less one and Microsoft's {tenantid}, audience and azp,
 * exp/iat/nbf with the leeway, the nonce), a signed token end to end, and claims mapped by
 * a provider's paths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "authn/oidc_idtoken.h"
#include "crypto/b64url.h"
#include "crypto/jwks.h"

#define NOW 1700000000
#define ISS "https://idp.example.com"

static const struct gh_idtoken_expect EXPECT = {ISS, "gh", "n-0S6_WzA2Mj", NOW, 60, NULL};

/* A valid claims object, then edited by the test. */
static json_t *good(void)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:b}", "iss", ISS, "sub", "alice", "aud",
                     "gh", "exp", (json_int_t)NOW + 300, "iat", (json_int_t)NOW, "nonce",
                     "n-0S6_WzA2Mj", "email", "alice@example.com", "email_verified", 1);
}

static enum gh_idtoken_refusal check_with(const char *key, json_t *value)
{
    json_t *c = good();
    if (value != NULL)
        json_object_set_new(c, key, value);
    else
        json_object_del(c, key);
    enum gh_idtoken_refusal r = gh_idtoken_check(c, &EXPECT);
    json_decref(c);
    return r;
}

static void claim_checks(void **state)
{
    (void)state;
    json_t *c = good();
    assert_int_equal(gh_idtoken_check(c, &EXPECT), GH_IDT_OK);
    json_decref(c);
    assert_int_equal(check_with("iss", json_string(ISS "/")), GH_IDT_ISSUER);
    assert_int_equal(check_with("iss", NULL), GH_IDT_ISSUER);
    assert_int_equal(check_with("aud", json_string("other")), GH_IDT_AUDIENCE);
    assert_int_equal(check_with("aud", json_pack("[s]", "gh")), GH_IDT_OK);
    /* several audiences: azp must name the client */
    assert_int_equal(check_with("aud", json_pack("[s, s]", "gh", "api")), GH_IDT_AUDIENCE);
    c = good();
    json_object_set_new(c, "aud", json_pack("[s, s]", "api", "gh"));
    json_object_set_new(c, "azp", json_string("gh"));
    assert_int_equal(gh_idtoken_check(c, &EXPECT), GH_IDT_OK);
    json_object_set_new(c, "azp", json_string("api"));
    assert_int_equal(gh_idtoken_check(c, &EXPECT), GH_IDT_AUDIENCE);
    json_decref(c);
    assert_int_equal(check_with("azp", json_string("other")), GH_IDT_AUDIENCE);
    assert_int_equal(check_with("aud", json_pack("[i]", 1)), GH_IDT_AUDIENCE);
    /* times, with a 60 s leeway */
    assert_int_equal(check_with("exp", json_integer(NOW - 61)), GH_IDT_EXPIRED);
    assert_int_equal(check_with("exp", json_integer(NOW - 59)), GH_IDT_OK);
    assert_int_equal(check_with("exp", NULL), GH_IDT_CLAIMS);
    assert_int_equal(check_with("exp", json_real(NOW + 300.0)), GH_IDT_CLAIMS);
    assert_int_equal(check_with("iat", json_integer(NOW + 61)), GH_IDT_NOT_YET);
    assert_int_equal(check_with("iat", NULL), GH_IDT_CLAIMS);
    assert_int_equal(check_with("nbf", json_integer(NOW + 61)), GH_IDT_NOT_YET);
    assert_int_equal(check_with("nbf", json_integer(NOW)), GH_IDT_OK);
    assert_int_equal(check_with("nbf", json_string("now")), GH_IDT_CLAIMS);
    /* the nonce */
    assert_int_equal(check_with("nonce", NULL), GH_IDT_NONCE);
    assert_int_equal(check_with("nonce", json_string("n-0S6_WzA2Mk")), GH_IDT_NONCE);
    assert_int_equal(check_with("nonce", json_string("n-0S6_WzA2Mj ")), GH_IDT_NONCE);
    assert_int_equal(check_with("nonce", json_integer(1)), GH_IDT_NONCE);
}

static void microsoft_tenant_template(void **state)
{
    (void)state;
    const struct gh_idtoken_expect ms = {
        "https://login.microsoftonline.com/{tenantid}/v2.0", "gh", "n", NOW, 60, NULL};
    const char *tid = "9188040d-6c67-4c5b-b112-36a304b66dad";
    json_t *c = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "iss",
        "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "tid", tid,
        "sub", "s", "aud", "gh", "exp", (json_int_t)NOW + 60, "iat", (json_int_t)NOW, "nonce", "n");
    assert_int_equal(gh_idtoken_check(c, &ms), GH_IDT_OK);
    /* another tenant's iss than its tid, a tid that would change the path, none */
    json_object_set_new(c, "tid", json_string("72f988bf-86f1-41af-91ab-2d7cd011db47"));
    assert_int_equal(gh_idtoken_check(c, &ms), GH_IDT_ISSUER);
    json_object_set_new(c, "tid", json_string("x/../y"));
    json_object_set_new(c, "iss", json_string("https://login.microsoftonline.com/x/../y/v2.0"));
    assert_int_equal(gh_idtoken_check(c, &ms), GH_IDT_ISSUER);
    json_object_del(c, "tid");
    json_object_set_new(c, "iss", json_string(ms.issuer));
    assert_int_equal(gh_idtoken_check(c, &ms), GH_IDT_ISSUER);
    json_decref(c);
}

static void provider(struct gh_sso_provider *p);

/* Google's ID tokens name their issuer with or without the scheme: the google preset with
 * Google's issuer takes exactly those two, no other provider either. */
static void google_issuer_without_scheme(void **state)
{
    (void)state;
    struct gh_sso_provider p;
    provider(&p);
    snprintf(p.preset, sizeof(p.preset), "google");
    snprintf(p.issuer, sizeof(p.issuer), "https://accounts.google.com");
    struct gh_idtoken_expect g = {p.issuer, "gh", "n", NOW, 60, gh_idtoken_issuer_alt(&p)};
    json_t *c =
        json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "iss", "accounts.google.com", "sub", "s", "aud",
                  "gh", "exp", (json_int_t)NOW + 60, "iat", (json_int_t)NOW, "nonce", "n");
    assert_int_equal(gh_idtoken_check(c, &g), GH_IDT_OK);
    json_object_set_new(c, "iss", json_string("https://accounts.google.com"));
    assert_int_equal(gh_idtoken_check(c, &g), GH_IDT_OK);
    static const char *const near[] = {"http://accounts.google.com",
                                       "accounts.google.com/",
                                       "https://accounts.google.com/",
                                       "ACCOUNTS.GOOGLE.COM",
                                       "accounts.google.com.evil.example",
                                       "google.com",
                                       ""};
    for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
        json_object_set_new(c, "iss", json_string(near[i]));
        assert_int_equal(gh_idtoken_check(c, &g), GH_IDT_ISSUER);
    }
    /* the scheme-less form only for Google's own issuer under the google preset */
    json_object_set_new(c, "iss", json_string("accounts.google.com"));
    snprintf(p.issuer, sizeof(p.issuer), "http://127.0.0.1:9000");
    assert_null(gh_idtoken_issuer_alt(&p));
    g.issuer = p.issuer;
    g.issuer_alt = gh_idtoken_issuer_alt(&p);
    assert_int_equal(gh_idtoken_check(c, &g), GH_IDT_ISSUER);
    snprintf(p.issuer, sizeof(p.issuer), "https://accounts.google.com");
    snprintf(p.preset, sizeof(p.preset), "okta");
    assert_null(gh_idtoken_issuer_alt(&p));
    p.preset[0] = '\0';
    assert_null(gh_idtoken_issuer_alt(&p));
    g.issuer = p.issuer;
    g.issuer_alt = gh_idtoken_issuer_alt(&p);
    assert_int_equal(gh_idtoken_check(c, &g), GH_IDT_ISSUER);
    json_decref(c);
}

static void provider(struct gh_sso_provider *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->claim_subject, sizeof(p->claim_subject), "sub");
    snprintf(p->claim_email, sizeof(p->claim_email), "email");
    snprintf(p->claim_username, sizeof(p->claim_username), "preferred_username");
    snprintf(p->claim_name, sizeof(p->claim_name), "name");
}

static void claims_mapped_by_paths(void **state)
{
    (void)state;
    struct gh_sso_provider p;
    struct gh_sso_identity id;
    provider(&p);
    snprintf(p.claim_subject, sizeof(p.claim_subject), "data.id");
    snprintf(p.claim_email, sizeof(p.claim_email), "data.mail");
    json_t *c = json_pack("{s:{s:I, s:s}, s:s, s:s}", "data", "id", (json_int_t)4242, "mail",
                          "bob@example.com", "email_verified", "true", "name", "Bob");
    assert_int_equal(gh_sso_identity_map(c, &p, &id), GH_OK);
    assert_string_equal(id.subject, "4242");
    assert_string_equal(id.email, "bob@example.com");
    assert_true(id.email_verified);
    assert_string_equal(id.name, "Bob");
    assert_string_equal(id.username, "");
    json_object_set_new(c, "email_verified", json_false());
    assert_int_equal(gh_sso_identity_map(c, &p, &id), GH_OK);
    assert_false(id.email_verified);
    json_object_set_new(c, "name", json_integer(5));
    assert_int_equal(gh_sso_identity_map(c, &p, &id), GH_ERR_INVALID);
    json_object_set_new(c, "name", json_string("Bob"));
    json_object_set_new(json_object_get(c, "data"), "id", json_string(""));
    assert_int_equal(gh_sso_identity_map(c, &p, &id), GH_ERR_INVALID);
    json_object_del(json_object_get(c, "data"), "id");
    assert_int_equal(gh_sso_identity_map(c, &p, &id), GH_ERR_INVALID);
    assert_null(gh_sso_claim(c, "data.mail.x"));
    assert_null(gh_sso_claim(c, "nothing"));
    json_decref(c);
}

/* A token signed with key (kid "k1") over claims c. */
static void sign(const struct gh_sigkey *key, const json_t *c, char *out, size_t size)
{
    const char *header = "{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}";
    char *payload = json_dumps(c, JSON_COMPACT);
    size_t len = 0, at;
    uint8_t sig[GH_SIG_MAX];
    assert_int_equal(gh_b64url_encode((const uint8_t *)header, strlen(header), out, size, &len),
                     GH_OK);
    out[len] = '.';
    at = len + 1;
    assert_int_equal(
        gh_b64url_encode((const uint8_t *)payload, strlen(payload), out + at, size - at, &len),
        GH_OK);
    at += len;
    assert_int_equal(gh_sigkey_sign(key, (const uint8_t *)out, at, sig, sizeof(sig), &len), GH_OK);
    out[at++] = '.';
    assert_int_equal(gh_b64url_encode(sig, len, out + at, size - at, &len), GH_OK);
    free(payload);
}

static void signed_token_end_to_end(void **state)
{
    (void)state;
    struct gh_sigkey *key = NULL, *other = NULL;
    struct gh_keyring *ring = NULL;
    json_t *jwk = NULL;
    size_t skipped = 0;
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &key), GH_OK);
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &other), GH_OK);
    assert_int_equal(gh_sigkey_public_jwk(key, &jwk), GH_OK);
    json_object_set_new(jwk, "kid", json_string("k1"));
    json_t *doc = json_pack("{s:[o]}", "keys", jwk);
    char *jwks = json_dumps(doc, JSON_COMPACT);
    assert_int_equal(gh_jwks_parse(jwks, strlen(jwks), &ring, &skipped), GH_OK);

    struct gh_sso_provider p;
    struct gh_sso_identity id;
    enum gh_idtoken_refusal why;
    char token[4096];
    provider(&p);
    snprintf(p.claim_subject, sizeof(p.claim_subject), "email"); /* ignored: sub is the subject */
    json_t *c = good();
    sign(key, c, token, sizeof(token));
    assert_int_equal(gh_idtoken_verify(ring, token, strlen(token), &EXPECT, &p, &id, &why), GH_OK);
    assert_string_equal(id.subject, "alice");
    assert_string_equal(id.email, "alice@example.com");
    assert_true(id.email_verified);

    json_object_set_new(c, "nonce", json_string("replayed"));
    sign(key, c, token, sizeof(token));
    assert_int_equal(gh_idtoken_verify(ring, token, strlen(token), &EXPECT, &p, &id, &why),
                     GH_ERR_AUTH);
    assert_int_equal(why, GH_IDT_NONCE);
    assert_string_equal(gh_idtoken_refusal_name(why), "nonce");
    json_decref(c);
    c = good();
    sign(other, c, token, sizeof(token)); /* the right kid, another key */
    assert_int_equal(gh_idtoken_verify(ring, token, strlen(token), &EXPECT, &p, &id, &why),
                     GH_ERR_AUTH);
    assert_int_equal(why, GH_IDT_SIGNATURE);
    json_object_set_new(c, "sub", json_integer(7));
    sign(key, c, token, sizeof(token));
    assert_int_equal(gh_idtoken_verify(ring, token, strlen(token), &EXPECT, &p, &id, &why),
                     GH_ERR_AUTH);
    assert_int_equal(why, GH_IDT_CLAIMS);

    json_decref(c);
    json_decref(doc);
    free(jwks);
    gh_keyring_free(ring);
    gh_sigkey_free(key);
    gh_sigkey_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(claim_checks),
        cmocka_unit_test(microsoft_tenant_template),
        cmocka_unit_test(google_issuer_without_scheme),
        cmocka_unit_test(claims_mapped_by_paths),
        cmocka_unit_test(signed_token_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

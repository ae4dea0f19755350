/* Unit tests for authn/saml_facts and authn/saml_check: a Response read from lasso's
 * libxml2 (so also that lasso opens), the shapes that signature wrapping needs refused
 * (an Assertion hidden in Extensions or in a Signature's Object, a second Assertion, an
 * xml:id, a repeated ID, a DTD, a comment in the NameID), then each rule of the check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "authn/saml_check.h"
#include "authn/saml_facts.h"
#include "authn/saml_lasso.h"

#define IDP "http://127.0.0.1:9/idp"
#define SP "http://127.0.0.1:8/sp"
#define ACS "http://127.0.0.1:8/api/v1/auth/saml/acs"
#define REQ "_req1"
#define NOW 1796644800 /* 2026-12-07T12:00:00Z */

static const char assertion_fmt[] =
    "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"%s\" "
    "Version=\"2.0\" IssueInstant=\"2026-12-07T12:00:00Z\">"
    "<saml:Issuer>" IDP "</saml:Issuer>"
    "<saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:"
    "emailAddress\">%s</saml:NameID>"
    "<saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">"
    "<saml:SubjectConfirmationData InResponseTo=\"%s\" Recipient=\"%s\" "
    "NotOnOrAfter=\"%s\"/></saml:SubjectConfirmation></saml:Subject>"
    "<saml:Conditions NotBefore=\"2026-12-07T11:59:00Z\" NotOnOrAfter=\"%s\">"
    "<saml:AudienceRestriction><saml:Audience>%s</saml:Audience></saml:AudienceRestriction>"
    "</saml:Conditions>"
    "<saml:AttributeStatement><saml:Attribute Name=\"email\"><saml:AttributeValue>"
    "ann@example.com</saml:AttributeValue></saml:Attribute>"
    "<saml:Attribute Name=\"displayName\"><saml:AttributeValue>Ann Smith"
    "</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"
    "</saml:Assertion>";

struct opts {
    const char *assertion_id, *name_id, *confirm_irt, *recipient, *confirm_end, *cond_end,
        *audience, *response_irt, *destination, *extra_before, *extra_after, *response_id;
};

static const struct opts good = {"_a1",
                                 "ann@example.com",
                                 REQ,
                                 ACS,
                                 "2026-12-07T12:05:00Z",
                                 "2026-12-07T12:10:00Z",
                                 SP,
                                 REQ,
                                 ACS,
                                 "",
                                 "",
                                 "_r1"};

static char *build(const struct opts *o)
{
    char as[4096];
    char *out = malloc(16384);
    assert_non_null(out);
    (void)snprintf(as, sizeof(as), assertion_fmt, o->assertion_id, o->name_id, o->confirm_irt,
                   o->recipient, o->confirm_end, o->cond_end, o->audience);
    (void)snprintf(out, 16384,
                   "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
                   "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"%s\" "
                   "Version=\"2.0\" InResponseTo=\"%s\" Destination=\"%s\">"
                   "<saml:Issuer>" IDP "</saml:Issuer>%s<samlp:Status><samlp:StatusCode "
                   "Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>"
                   "%s%s</samlp:Response>",
                   o->response_id, o->response_irt, o->destination, o->extra_before, as,
                   o->extra_after);
    return out;
}

/* Reads text: the error, *why, the facts into f. */
static gh_err read_xml(const char *text, struct gh_saml_facts *f, const char **why)
{
    struct _xmlDoc *doc = NULL;
    gh_err err = gh_saml_lasso_parse(text, strlen(text), &doc);
    if (err == GH_OK)
        err = gh_saml_facts_read(doc, f, why);
    gh_saml_lasso_free_doc(doc);
    return err;
}

static struct gh_saml_facts facts;

static int setup(void **state)
{
    (void)state;
    return gh_saml_lasso_open() == GH_OK ? 0 : -1;
}

static void reads_a_response(void **state)
{
    (void)state;
    char *x = build(&good);
    const char *why = NULL;
    assert_int_equal(read_xml(x, &facts, &why), GH_OK);
    assert_string_equal(facts.response_id, "_r1");
    assert_string_equal(facts.assertion_id, "_a1");
    assert_string_equal(facts.issuer, IDP);
    assert_string_equal(facts.assertion_issuer, IDP);
    assert_string_equal(facts.name_id, "ann@example.com");
    assert_string_equal(facts.destination, ACS);
    assert_int_equal(facts.nrestrictions, 1);
    assert_string_equal(facts.audiences[0], SP);
    assert_int_equal(facts.nconfirms, 1);
    assert_string_equal(facts.confirms[0].recipient, ACS);
    assert_int_equal(facts.not_on_or_after, NOW + 600);
    assert_string_equal(gh_saml_facts_attr(&facts, "displayName"), "Ann Smith");
    assert_null(gh_saml_facts_attr(&facts, "phone"));
    free(x);
}

/* gh_saml_facts_encrypted on a Response whose children are body. */
static int encrypted(const char *body, const char **why)
{
    char text[4096];
    struct _xmlDoc *doc = NULL;
    (void)snprintf(text, sizeof(text),
                   "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
                   "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" "
                   "xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" ID=\"_r1\">%s"
                   "</samlp:Response>",
                   body);
    assert_int_equal(gh_saml_lasso_parse(text, strlen(text), &doc), GH_OK);
    int r = gh_saml_facts_encrypted(doc, why);
    gh_saml_lasso_free_doc(doc);
    return r;
}

#define ENC_ASSERTION(data_alg, key_alg)                                                           \
    "<saml:EncryptedAssertion><xenc:EncryptedData><xenc:EncryptionMethod Algorithm=\"" data_alg    \
    "\"/><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><xenc:EncryptedKey>"          \
    "<xenc:EncryptionMethod Algorithm=\"" key_alg "\"/></xenc:EncryptedKey></ds:KeyInfo>"          \
    "</xenc:EncryptedData></saml:EncryptedAssertion>"
#define XENC "http://www.w3.org/2001/04/xmlenc#"
#define GCM "http://www.w3.org/2009/xmlenc11#aes256-gcm"

/* One EncryptedAssertion as the root's child, AES content and an RSA-OAEP key: to be
 * decrypted; RSA PKCS#1 v1.5, another content cipher, two of them or one beside a plain
 * Assertion: refused before anything is decrypted. */
static void judges_encrypted_assertions(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(encrypted("<saml:Issuer>x</saml:Issuer>", &why), 0);
    assert_int_equal(encrypted(ENC_ASSERTION(GCM, XENC "rsa-oaep-mgf1p"), &why), 1);
    assert_int_equal(
        encrypted(ENC_ASSERTION(XENC "aes128-cbc", "http://www.w3.org/2009/xmlenc11#rsa-oaep"),
                  &why),
        1);
    assert_int_equal(encrypted(ENC_ASSERTION(GCM, XENC "rsa-1_5"), &why), -1);
    assert_string_equal(why, "encryption_method");
    why = NULL; /* a key without its method, or fetched from elsewhere in the document */
    assert_int_equal(
        encrypted("<saml:EncryptedAssertion><xenc:EncryptedData><xenc:EncryptionMethod "
                  "Algorithm=\"" GCM "\"/><xenc:EncryptedKey/></xenc:EncryptedData>"
                  "</saml:EncryptedAssertion>",
                  &why),
        -1);
    assert_string_equal(why, "encryption_method");
    why = NULL;
    assert_int_equal(
        encrypted("<saml:EncryptedAssertion><xenc:EncryptedData><xenc:EncryptionMethod "
                  "Algorithm=\"" GCM "\"/><ds:KeyInfo xmlns:ds=\"http://www.w3.org/"
                  "2000/09/xmldsig#\"><ds:RetrievalMethod URI=\"#k\"/></ds:KeyInfo>"
                  "</xenc:EncryptedData></saml:EncryptedAssertion>",
                  &why),
        -1);
    assert_string_equal(why, "encryption_method");
    why = NULL;
    assert_int_equal(encrypted(ENC_ASSERTION(XENC "tripledes-cbc", XENC "rsa-oaep-mgf1p"), &why),
                     -1);
    assert_string_equal(why, "encryption_method");
    why = NULL;
    assert_int_equal(encrypted(ENC_ASSERTION(GCM, XENC "rsa-oaep-mgf1p")
                                   ENC_ASSERTION(GCM, XENC "rsa-oaep-mgf1p"),
                               &why),
                     -1);
    assert_string_equal(why, "assertion_count");
    why = NULL;
    assert_int_equal(encrypted(ENC_ASSERTION(GCM, XENC "rsa-oaep-mgf1p") "<saml:Assertion/>", &why),
                     -1);
    assert_string_equal(why, "assertion_count");
}

static void expect_shape(const struct opts *o, const char *reason)
{
    char *x = build(o);
    const char *why = NULL;
    assert_int_equal(read_xml(x, &facts, &why), GH_ERR_INVALID);
    assert_non_null(why);
    assert_string_equal(why, reason);
    free(x);
}

static void refuses_wrapping(void **state)
{
    (void)state;
    char hidden[4096];
    struct opts o = good;
    /* XSW: the signed original hidden in Extensions, the forged one read */
    (void)snprintf(hidden, sizeof(hidden),
                   "<samlp:Extensions>"
                   "<saml:Assertion ID=\"_orig\"><saml:Issuer>" IDP
                   "</saml:Issuer></saml:Assertion></samlp:Extensions>");
    o.extra_before = hidden;
    expect_shape(&o, "assertion_count");
    /* in a ds:Object of the Response's Signature */
    o.extra_before = "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:Object>"
                     "<saml:Assertion ID=\"_orig\"/></ds:Object></ds:Signature>";
    expect_shape(&o, "assertion_count");
    /* a second Assertion beside the first, with another ID */
    o.extra_before = "";
    o.extra_after = "<saml:Assertion ID=\"_a2\"/>";
    expect_shape(&o, "assertion_count");
    /* the same ID twice (an ID lookup could pick either) */
    o = good;
    o.extra_after = "<samlp:Extensions ID=\"_a1\"/>";
    expect_shape(&o, "duplicate_id");
    o = good;
    o.assertion_id = "_r1";
    expect_shape(&o, "duplicate_id");
    /* xml:id is an ID libxml2 registers by itself */
    o = good;
    o.extra_before = "<samlp:Extensions xml:id=\"_a1\"/>";
    expect_shape(&o, "xml_id");
    /* no assertion at all; an encrypted one left (decrypted first: gh_saml_facts_encrypted) */
    o = good;
    o.extra_after = "<saml:EncryptedAssertion/>";
    expect_shape(&o, "encrypted_assertion");
    /* a comment cuts the NameID in two: the signed text and the read one differ */
    o = good;
    o.name_id = "ann@evil.com<!---->.example.com";
    expect_shape(&o, "value");
    o.name_id = "ann<x/>";
    expect_shape(&o, "value");
}

static void refuses_dtd_and_other_roots(void **state)
{
    (void)state;
    const char *why = NULL;
    char *x = build(&good);
    size_t n = strlen(x) + 200;
    char *dtd = malloc(n);
    assert_non_null(dtd);
    (void)snprintf(dtd, n, "<!DOCTYPE samlp:Response [<!ENTITY e \"x\">]>%s", x);
    assert_int_equal(read_xml(dtd, &facts, &why), GH_ERR_INVALID);
    assert_string_equal(why, "dtd");
    assert_int_equal(read_xml("<Response xmlns=\"urn:x\"/>", &facts, &why), GH_ERR_INVALID);
    assert_string_equal(why, "not_a_response");
    assert_int_equal(read_xml("<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:"
                              "protocol\"/>",
                              &facts, &why),
                     GH_ERR_INVALID);
    assert_string_equal(why, "assertion_count");
    assert_int_equal(read_xml("<a", &facts, &why), GH_ERR_INVALID);
    free(dtd);
    free(x);
}

static void times(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(gh_saml_time("2026-12-07T12:00:00Z", &t), GH_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(gh_saml_time("2026-12-07T12:00:00.123Z", &t), GH_OK);
    assert_int_equal(t, NOW);
    static const char *const bad[] = {"2026-12-07T12:00:00",
                                      "2026-12-07T12:00:00+01:00",
                                      "2026-12-07 12:00:00Z",
                                      "2026-13-07T12:00:00Z",
                                      "2026-12-07T12:00:00.Z",
                                      "x",
                                      ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gh_saml_time(bad[i], &t), GH_ERR_INVALID);
}

/* Checks o at now: the error and the reason. */
static gh_err check(const struct opts *o, int64_t now, const char **reason, int64_t *until)
{
    struct gh_saml_expect e = {IDP, SP, ACS, REQ, now};
    char *x = build(o);
    assert_int_equal(read_xml(x, &facts, NULL), GH_OK);
    free(x);
    return gh_saml_check(&facts, &e, until, reason);
}

static void expect_refusal(const struct opts *o, int64_t now, gh_err want, const char *reason)
{
    const char *why = NULL;
    int64_t until = 0;
    assert_int_equal(check(o, now, &why, &until), want);
    assert_string_equal(why, reason);
}

static void check_rules(void **state)
{
    (void)state;
    const char *why = NULL;
    int64_t until = 0;
    assert_int_equal(check(&good, NOW, &why, &until), GH_OK);
    assert_int_equal(until, NOW + 300 + GH_SAML_SKEW); /* the confirmation ends first */
    struct opts o = good;
    o.audience = "http://127.0.0.1:8/other-sp";
    expect_refusal(&o, NOW, GH_ERR_AUTH, "audience");
    o = good;
    o.response_irt = "_other";
    expect_refusal(&o, NOW, GH_ERR_AUTH, "in_response_to");
    o = good;
    o.confirm_irt = "_other";
    expect_refusal(&o, NOW, GH_ERR_AUTH, "subject_confirmation");
    o = good;
    o.recipient = "http://127.0.0.1:8/elsewhere";
    expect_refusal(&o, NOW, GH_ERR_AUTH, "subject_confirmation");
    o = good;
    o.destination = "http://127.0.0.1:8/elsewhere";
    expect_refusal(&o, NOW, GH_ERR_AUTH, "destination");
    /* the validity window, with the skew on each side */
    expect_refusal(&good, NOW - 60 - GH_SAML_SKEW - 1, GH_ERR_NOT_YET, "not_yet_valid");
    assert_int_equal(check(&good, NOW - 60 - GH_SAML_SKEW, &why, &until), GH_OK);
    assert_int_equal(check(&good, NOW + 300 + GH_SAML_SKEW - 1, &why, &until), GH_OK);
    expect_refusal(&good, NOW + 300 + GH_SAML_SKEW, GH_ERR_EXPIRED, "expired");
    expect_refusal(&good, NOW + 3600, GH_ERR_EXPIRED, "expired");
    struct gh_saml_expect e = {"http://127.0.0.1:9/another-idp", SP, ACS, REQ, NOW};
    assert_int_equal(gh_saml_check(&facts, &e, &until, &why), GH_ERR_AUTH);
    assert_string_equal(why, "issuer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_a_response),
        cmocka_unit_test(judges_encrypted_assertions),
        cmocka_unit_test(refuses_wrapping),
        cmocka_unit_test(refuses_dtd_and_other_roots),
        cmocka_unit_test(times),
        cmocka_unit_test(check_rules),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

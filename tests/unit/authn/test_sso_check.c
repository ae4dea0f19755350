/* Unit tests for authn/sso_check: provider URLs (https, http only to loopback), a new
 * provider's defaults and presets, the fields each type needs, what a PATCH may change,
 * allowed_client_ids. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "authn/sso_check.h"
#include "authn/sso_client.h"

static void urls(void **state)
{
    (void)state;
    static const char *const good[] = {
        "https://idp.example.com",
        "https://idp.example.com/",
        "https://idp.example.com:8443/x?y=1",
        "http://127.0.0.1:9000/idp",
        "http://127.1.2.3/",
        "http://localhost:80/a",
        "http://LOCALHOST/",
        "http://[::1]:8080/me",
        "https://[2001:db8::1]/",
        "https://login.microsoftonline.com/{tenantid}/v2.0",
    };
    static const char *const bad[] = {
        "",
        "idp.example.com",
        "ftp://idp.example.com",
        "http://idp.example.com",
        "http://127.0.0.1.nip.io/",
        "http://[::2]/",
        "http://10.0.0.1/",
        "https://user:pw@idp.example.com/",
        "https://idp.example.com/#frag",
        "https://idp.example.com/a b",
        "https://idp.example.com\\@evil.com/",
        "https:///path",
        "https://:443/",
        "https://idp.example.com:/",
        "https://idp.example.com:1234567/",
        "https://idp.example.com:12a/",
        "https://[::1/",
        "https://id_p.example.com/",
        "https://idp.example.com/\x01",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!gh_ssop_url_ok(good[i]))
            fail_msg("refused %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gh_ssop_url_ok(bad[i]))
            fail_msg("accepted %s", bad[i]);
    char longest[GH_SSO_URL_MAX + 2];
    memset(longest, 'a', sizeof(longest) - 1);
    memcpy(longest, "https://x/", 10);
    longest[GH_SSO_URL_MAX + 1] = '\0';
    assert_false(gh_ssop_url_ok(longest));
    longest[GH_SSO_URL_MAX] = '\0';
    assert_true(gh_ssop_url_ok(longest));
}

static void spec_init(struct gh_sso_spec *s, const char *name, const char *type)
{
    memset(s, 0, sizeof(*s));
    s->pkce = s->enabled = s->auto_create_user = s->link_by_email = s->trust_email = -1;
    s->name = name;
    s->type = type;
}

/* Builds s as a new provider; returns the error and the field. */
static gh_err build(const struct gh_sso_spec *s, struct gh_sso_provider *p, const char **field)
{
    char secret[GH_SSO_SECRET_MAX + 1];
    int has = 0;
    *field = NULL;
    return gh_ssop_build(s, NULL, 100, p, secret, &has, field);
}

static void new_oidc_gets_defaults(void **state)
{
    (void)state;
    struct gh_sso_spec s;
    struct gh_sso_provider p;
    char secret[GH_SSO_SECRET_MAX + 1];
    int has = 0;
    const char *field = NULL;
    spec_init(&s, "corp", "oidc");
    s.issuer = "https://idp.example.com";
    s.client_id = "gh";
    s.client_secret = "shh";
    assert_int_equal(gh_ssop_build(&s, NULL, 100, &p, secret, &has, &field), GH_OK);
    assert_true(has);
    assert_string_equal(secret, "shh");
    assert_string_equal(p.client_secret, ""); /* sealed by the registry, never here */
    assert_string_equal(p.scopes, "openid email profile");
    assert_string_equal(p.token_auth, "client_secret_basic");
    assert_string_equal(p.claim_subject, "sub");
    assert_string_equal(p.claim_username, "preferred_username");
    assert_string_equal(p.default_role, "member");
    assert_int_equal(p.pkce, 1);
    assert_int_equal(p.enabled, 1);
    assert_int_equal(p.auto_create_user, 0);
    assert_int_equal(p.created_at, 100);
    assert_int_equal(p.updated_at, 100);
}

static void preset_defaults(void **state)
{
    (void)state;
    struct gh_sso_spec s;
    struct gh_sso_provider p;
    const char *field;
    spec_init(&s, "ms", "oidc");
    s.preset = "microsoft";
    s.client_id = "app";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.tenant, "common");
    assert_string_equal(p.issuer, "https://login.microsoftonline.com/{tenantid}/v2.0");
    assert_string_equal(p.authorization_endpoint,
                        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
    s.tenant = "organizations";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.issuer, "https://login.microsoftonline.com/{tenantid}/v2.0");
    s.tenant = "9188040d-6c67-4c5b-b112-36a304b66dad";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(
        p.issuer, "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0");
    /* An explicit value wins over the preset's. */
    s.issuer = "https://sts.example.com/";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.issuer, "https://sts.example.com/");
    /* a multi-tenant issuer elsewhere (a stand-in on loopback) keeps the template */
    s.issuer = "http://127.0.0.1:9000/{tenantid}/v2.0";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.issuer, "http://127.0.0.1:9000/{tenantid}/v2.0");
    /* which only Microsoft's preset may have: the token's tid would choose the issuer */
    spec_init(&s, "corp", "oidc");
    s.issuer = "https://idp.example.com/{tenantid}";
    s.client_id = "app";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "issuer");

    spec_init(&s, "okta", "oidc");
    s.preset = "okta";
    s.client_id = "app";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "tenant");
    s.tenant = "dev-1.okta.com";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.token_endpoint, "https://dev-1.okta.com/oauth2/v1/token");
    s.tenant = "dev-1.okta.com/x";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "tenant");
    s.tenant = ".okta.com";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);

    spec_init(&s, "g", "oauth2");
    s.preset = "google";
    s.client_id = "app";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.userinfo_endpoint, "https://openidconnect.googleapis.com/v1/userinfo");
    s.tenant = "x";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "tenant");
}

static void required_and_bad_values(void **state)
{
    (void)state;
    struct gh_sso_spec s;
    struct gh_sso_provider p;
    const char *field;
    spec_init(&s, "o", "oauth2");
    s.client_id = "c";
    s.authorization_endpoint = "https://idp.example.com/a";
    s.token_endpoint = "https://idp.example.com/t";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "userinfo_endpoint");
    s.userinfo_endpoint = "https://idp.example.com/u";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.scopes, "");

    const char *scopes[] = {"openid", "email"};
    memcpy(s.scopes, scopes, sizeof(scopes));
    s.nscopes = 2;
    s.has_scopes = 1;
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.scopes, "openid email");
    s.scopes[1] = "a\"b";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "scopes");
    s.has_scopes = 0;

    s.claim_subject = "data..id";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "claims.subject");
    s.claim_subject = "data.id";
    s.token_auth = "none";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "token_auth");
    s.token_auth = NULL;

    char big[600];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    s.client_secret = big;
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "client_secret");
    s.client_secret = NULL;
    s.client_id = big; /* longer than the field: refused, never cut */
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "client_id");

    spec_init(&s, "Bad", "oidc");
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "name");
    spec_init(&s, "s", "ldap");
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "type");
    spec_init(&s, "x", "oidc");
    s.issuer = "https://idp.example.com";
    s.client_id = "c";
    scopes[0] = "email";
    memcpy(s.scopes, scopes, sizeof(scopes[0]));
    s.nscopes = 1;
    s.has_scopes = 1;
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "scopes");
}

static void patch_keeps_identity_and_secret(void **state)
{
    (void)state;
    struct gh_sso_spec s;
    struct gh_sso_provider base, p;
    char secret[GH_SSO_SECRET_MAX + 1];
    int has = 1;
    const char *field;
    spec_init(&s, "corp", "oidc");
    s.issuer = "https://idp.example.com";
    s.client_id = "gh";
    assert_int_equal(build(&s, &base, &field), GH_OK);
    snprintf(base.client_secret, sizeof(base.client_secret), "%s", "enc:v1:1:abc");

    spec_init(&s, NULL, NULL);
    s.enabled = 0;
    s.issuer = "https://other.example.com";
    assert_int_equal(gh_ssop_build(&s, &base, 200, &p, secret, &has, &field), GH_OK);
    assert_false(has);
    assert_string_equal(p.client_secret, "enc:v1:1:abc");
    assert_string_equal(p.issuer, "https://other.example.com");
    assert_int_equal(p.enabled, 0);
    assert_int_equal(p.created_at, 100);
    assert_int_equal(p.updated_at, 200);

    spec_init(&s, "corp", "oidc"); /* repeating them is fine */
    assert_int_equal(gh_ssop_build(&s, &base, 200, &p, secret, &has, &field), GH_OK);
    spec_init(&s, "other", NULL);
    assert_int_equal(gh_ssop_build(&s, &base, 200, &p, secret, &has, &field), GH_ERR_INVALID);
    assert_string_equal(field, "name");
    spec_init(&s, NULL, "oauth2");
    assert_int_equal(gh_ssop_build(&s, &base, 200, &p, secret, &has, &field), GH_ERR_INVALID);
    assert_string_equal(field, "type");
    spec_init(&s, NULL, NULL);
    s.preset = "google";
    assert_int_equal(gh_ssop_build(&s, &base, 200, &p, secret, &has, &field), GH_ERR_INVALID);
    assert_string_equal(field, "preset");
}

/* tokeninfo_endpoint: Google's by default for the google preset, another URL (validated
 * like every endpoint) taken there, none for a provider of another preset or none. */
static void tokeninfo_endpoint(void **state)
{
    (void)state;
    struct gh_sso_spec s;
    struct gh_sso_provider p;
    const char *field;
    spec_init(&s, "g", "oidc");
    s.preset = "google";
    s.client_id = "gh";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.tokeninfo_endpoint, "https://oauth2.googleapis.com/tokeninfo");
    s.tokeninfo_endpoint = "http://127.0.0.1:8080/tokeninfo";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.tokeninfo_endpoint, "http://127.0.0.1:8080/tokeninfo");
    static const char *const bad[] = {"http://tokeninfo.example.com/", "https://a@b/", "ftp://x/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s.tokeninfo_endpoint = bad[i];
        assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
        assert_string_equal(field, "tokeninfo_endpoint");
    }
    spec_init(&s, "o", "oidc");
    s.preset = "okta";
    s.tenant = "corp.okta.com";
    s.client_id = "gh";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.tokeninfo_endpoint, "");
    s.tokeninfo_endpoint = "https://oauth2.googleapis.com/tokeninfo";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "tokeninfo_endpoint");
}

/* allowed_client_ids: kept space-separated; each a client id of printable ASCII without
 * blanks; an empty list clears it. */
static void allowed_client_ids(void **state)
{
    (void)state;
    struct gh_sso_spec s;
    struct gh_sso_provider p;
    const char *field;
    spec_init(&s, "corp", "oidc");
    s.issuer = "https://idp.example.com";
    s.client_id = "gh";
    s.clients[0] = "gh";
    s.clients[1] = "ios.app-1";
    s.nclients = 2;
    s.has_clients = 1;
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.allowed_client_ids, "gh ios.app-1");
    assert_true(gh_sso_client_listed(p.allowed_client_ids, "ios.app-1"));
    assert_true(gh_sso_client_listed(p.allowed_client_ids, "gh"));
    assert_false(gh_sso_client_listed(p.allowed_client_ids, "ios"));
    assert_false(gh_sso_client_listed(p.allowed_client_ids, "g"));
    assert_false(gh_sso_client_listed(p.allowed_client_ids, ""));
    static const char *const bad[] = {"", "a b", "a\"b", "\x01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s.clients[1] = bad[i];
        assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
        assert_string_equal(field, "allowed_client_ids");
    }
    s.nclients = 0;
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.allowed_client_ids, "");
}

/* A SAML provider needs the IdP's metadata and our certificate (the key and the metadata's
 * content are the registry's to judge); no other type takes them; an entity id is a URI;
 * its email is trusted only when asked (trust_email), which no other type takes. */
static void saml_values(void **state)
{
    (void)state;
    struct gh_sso_spec s;
    struct gh_sso_provider p;
    const char *field = NULL;
    spec_init(&s, "corp", "saml");
    s.idp_metadata_xml = "<EntityDescriptor/>";
    s.sp_certificate = "-----BEGIN CERTIFICATE-----";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_string_equal(p.type, "saml");
    assert_string_equal(p.idp_metadata, "<EntityDescriptor/>");
    assert_false(p.trust_email);
    s.trust_email = 1;
    assert_int_equal(build(&s, &p, &field), GH_OK);
    assert_true(p.trust_email);
    s.sp_entity_id = "urn:example:sp";
    assert_int_equal(build(&s, &p, &field), GH_OK);
    s.sp_entity_id = "not a uri";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "sp_entity_id");
    s.sp_entity_id = "urn:x\"><evil";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    s.sp_entity_id = NULL;
    s.idp_metadata_xml = NULL;
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "idp_metadata_xml");
    spec_init(&s, "corp", "oidc");
    s.issuer = "https://idp.example.com";
    s.client_id = "c";
    s.trust_email = 1;
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "trust_email");
    s.trust_email = -1;
    s.sp_certificate = "-----BEGIN CERTIFICATE-----";
    assert_int_equal(build(&s, &p, &field), GH_ERR_INVALID);
    assert_string_equal(field, "sp_certificate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(urls),
        cmocka_unit_test(new_oidc_gets_defaults),
        cmocka_unit_test(preset_defaults),
        cmocka_unit_test(required_and_bad_values),
        cmocka_unit_test(patch_keeps_identity_and_secret),
        cmocka_unit_test(allowed_client_ids),
        cmocka_unit_test(tokeninfo_endpoint),
        cmocka_unit_test(saml_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * libFuzzer target: an SSO provider description (a body of POST /api/v1/sso/providers or a
 * line of sso.providers) through gh_sso_spec_read and gh_ssop_build. A provider that is
 * accepted has every URL acceptable to gh_ssop_url_ok (or empty where the type allows),
 * its text fields NUL-terminated within their arrays, a type the product serves, and a
 * secret copied only when one was given; a PATCH of it by the same input changes nothing
 * of its identity. The URL check alone also runs on the raw input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "authn/sso_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_url(const char *u, int may_be_empty)
{
    check(memchr(u, '\0', GH_SSO_URL_MAX + 1) != NULL);
    check(u[0] == '\0' ? may_be_empty : gh_ssop_url_ok(u));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char raw[GH_SSO_URL_MAX + 64];
    if (size < sizeof(raw)) {
        memcpy(raw, data, size);
        raw[size] = '\0';
        (void)gh_ssop_url_ok(raw);
    }
    json_t *obj = json_loadb((const char *)data, size, 0, NULL);
    struct gh_sso_spec spec;
    struct gh_sso_provider p, again;
    char secret[GH_SSO_SECRET_MAX + 1];
    int has = 0;
    const char *field = NULL;
    if (obj == NULL)
        return 0;
    if (gh_sso_spec_read(obj, &spec, &field) == GH_OK &&
        gh_ssop_build(&spec, NULL, 1, &p, secret, &has, &field) == GH_OK) {
        int oidc = strcmp(p.type, "oidc") == 0, oauth2 = strcmp(p.type, "oauth2") == 0;
        int saml = strcmp(p.type, "saml") == 0;
        check(oidc || oauth2 || saml);
        check_url(p.issuer, !oidc);
        check_url(p.authorization_endpoint, !oauth2);
        check_url(p.token_endpoint, !oauth2);
        check_url(p.userinfo_endpoint, !oauth2);
        check(saml == (p.idp_metadata[0] != '\0') && saml == (p.sp_certificate[0] != '\0'));
        check(p.sp_private_key[0] == '\0');
        check(has == (spec.client_secret != NULL));
        check(!has || strlen(secret) <= GH_SSO_SECRET_MAX);
        check(p.client_secret[0] == '\0');
        check(gh_ssop_build(&spec, &p, 2, &again, secret, &has, &field) == GH_OK);
        check(strcmp(again.name, p.name) == 0 && strcmp(again.type, p.type) == 0 &&
              again.created_at == 1 && again.updated_at == 2);
    }
    json_decref(obj);
    return 0;
}

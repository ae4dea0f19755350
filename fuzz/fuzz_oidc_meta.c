/*
 * libFuzzer target: an OpenID provider's discovery document (gh_oidc_meta_parse) for the
 * issuer https://idp.example.com. An accepted document has exactly that issuer and only
 * acceptable URLs (gh_ssop_url_ok; the userinfo endpoint may be absent), each within its
 * field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authn/oidc_meta.h"
#include "authn/sso_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_oidc_meta m;
    const char *field = NULL;
    if (gh_oidc_meta_parse((const char *)data, size, "https://idp.example.com", &m, &field) !=
        GH_OK)
        return 0;
    check(strcmp(m.issuer, "https://idp.example.com") == 0);
    check(gh_ssop_url_ok(m.authorization_endpoint) && gh_ssop_url_ok(m.token_endpoint) &&
          gh_ssop_url_ok(m.jwks_uri));
    check(m.userinfo_endpoint[0] == '\0' || gh_ssop_url_ok(m.userinfo_endpoint));
    return 0;
}

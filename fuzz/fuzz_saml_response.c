/*
 * libFuzzer target: gh_saml_facts_encrypted, gh_saml_facts_read and gh_saml_check, on the
 * SAML Response a browser posts to the ACS (parsed by libxml2 as the server parses it: no
 * network, no entity loading). An accepted tree has exactly one Assertion, no DTD and no repeated ID; a
 * refusal zeroes the facts and names its rule; the check never accepts without a bearer
 * confirmation for the expected request and ACS, and never accepts an expired window.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "authn/saml_check.h"
#include "authn/saml_facts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gh_saml_facts f;
    const char *why = NULL;
    if (size > INT_MAX)
        return 0;
    xmlDocPtr doc = xmlReadMemory((const char *)data, (int)size, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL)
        return 0;
    const char *enc_why = NULL;
    int enc = gh_saml_facts_encrypted(doc, &enc_why);
    check(enc >= -1 && enc <= 1 && (enc >= 0) == (enc_why == NULL));
    gh_err err = gh_saml_facts_read(doc, &f, &why);
    check(enc != 1 || err != GH_OK); /* an EncryptedAssertion is never read as it is */
    xmlFreeDoc(doc);
    if (err != GH_OK) {
        check(err == GH_ERR_INVALID && why != NULL && all_zero(&f, sizeof(f)));
        return 0;
    }
    check(f.naudiences <= GH_SAML_AUDIENCES_MAX && f.nconfirms <= GH_SAML_CONFIRMS_MAX &&
          f.nattrs <= GH_SAML_ATTRS_MAX);
    const int64_t now = 1796644800;
    struct gh_saml_expect e = {"http://127.0.0.1:9/idp", "http://127.0.0.1:8/sp",
                               "http://127.0.0.1:8/api/v1/auth/saml/acs", "_req1", now};
    int64_t until = 0;
    const char *reason = NULL;
    err = gh_saml_check(&f, &e, &until, &reason);
    if (err != GH_OK) {
        check(reason != NULL);
        return 0;
    }
    check(reason == NULL && until > now - GH_SAML_SKEW);
    check(strcmp(f.in_response_to, "_req1") == 0 && f.nrestrictions > 0 && f.name_id[0] != '\0');
    return 0;
}

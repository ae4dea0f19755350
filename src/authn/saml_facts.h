#ifndef GH_AUTHN_SAML_FACTS_H
#define GH_AUTHN_SAML_FACTS_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * What a SAML Response says, read from its parsed tree (libxml2's, walked field by field
 * without calling libxml2, so the fuzzer links it and the server uses lasso's copy).
 *
 * The tree is refused unless its shape leaves no room for signature wrapping: no DTD; the
 * root a samlp:Response; exactly one saml:Assertion in the whole document, a child of the
 * root (so the one lasso verified is the one read here, wherever an attacker hides a
 * second); no EncryptedAssertion (gh_saml_facts_encrypted: decrypted first); no xml:id and every ID
 * attribute unique (an ID cannot point at another element than its owner); text values without
 * comments or child elements (the comment-truncation trick on NameID); bounded depth and size.
 * Judging the values is saml_check's job.
 */

#define GH_SAML_TEXT_MAX 512 /* the longest value kept (ids, URLs, NameID, attributes) */
#define GH_SAML_AUDIENCES_MAX 8
#define GH_SAML_CONFIRMS_MAX 4
#define GH_SAML_ATTRS_MAX 32

struct gh_saml_confirm {
    char method[GH_SAML_TEXT_MAX + 1];
    char recipient[GH_SAML_TEXT_MAX + 1];
    char in_response_to[GH_SAML_TEXT_MAX + 1];
    int64_t not_before, not_on_or_after; /* unix seconds; 0 absent */
};

struct gh_saml_attr {
    char name[GH_SAML_TEXT_MAX + 1];
    char value[GH_SAML_TEXT_MAX + 1]; /* its first AttributeValue's text */
};

struct gh_saml_facts {
    /* the Response */
    char response_id[GH_SAML_TEXT_MAX + 1];
    char in_response_to[GH_SAML_TEXT_MAX + 1];
    char destination[GH_SAML_TEXT_MAX + 1];
    char issuer[GH_SAML_TEXT_MAX + 1];
    /* its Assertion */
    char assertion_id[GH_SAML_TEXT_MAX + 1];
    char assertion_issuer[GH_SAML_TEXT_MAX + 1];
    char name_id[GH_SAML_TEXT_MAX + 1];
    char name_id_format[GH_SAML_TEXT_MAX + 1];
    int has_conditions;
    int64_t not_before, not_on_or_after; /* the Conditions'; 0 absent */
    /* AudienceRestriction elements: each must name us; audiences[i] belongs to
     * restriction audience_of[i] (0-based) */
    size_t nrestrictions, naudiences;
    unsigned audience_of[GH_SAML_AUDIENCES_MAX];
    char audiences[GH_SAML_AUDIENCES_MAX][GH_SAML_TEXT_MAX + 1];
    size_t nconfirms;
    struct gh_saml_confirm confirms[GH_SAML_CONFIRMS_MAX];
    size_t nattrs;
    struct gh_saml_attr attrs[GH_SAML_ATTRS_MAX];
};

struct _xmlDoc;

/**
 * Reads doc into *out (heap: the caller frees). GH_ERR_INVALID a shape above is broken, a
 * value is too long, a time is not an xs:dateTime in UTC, or more audiences or subject
 * confirmations than kept; *why (may be NULL) names the rule. Attributes past
 * GH_SAML_ATTRS_MAX, or whose value is too long, are left out.
 */
gh_err gh_saml_facts_read(const struct _xmlDoc *doc, struct gh_saml_facts *out,
                          const char **why) GH_WUR GH_NONNULL(1, 2);

/**
 * Whether doc's Response carries its assertion encrypted, before anything decrypts it:
 * 0 it carries none (gh_saml_facts_read judges the rest); 1 exactly one EncryptedAssertion,
 * a child of the root beside no Assertion, every EncryptionMethod in it one we accept
 * (content AES-CBC or AES-GCM, the key by RSA-OAEP: never RSA PKCS#1 v1.5, whose padding
 * oracle lets an attacker decrypt); -1 refused, *why naming the rule. Once decrypted, the
 * Assertion that replaces it goes through gh_saml_facts_read like any other.
 */
int gh_saml_facts_encrypted(const struct _xmlDoc *doc, const char **why) GH_NONNULL(1, 2);

/** An xs:dateTime in UTC ("2026-12-07T12:00:00Z", fraction allowed) into unix seconds;
 * GH_ERR_INVALID otherwise. */
gh_err gh_saml_time(const char *s, int64_t *out) GH_WUR GH_NONNULL(1, 2);

/** The value of attribute name (its Name), or NULL. */
const char *gh_saml_facts_attr(const struct gh_saml_facts *f, const char *name) GH_NONNULL(1, 2);

#endif

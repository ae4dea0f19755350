/* The browser's sign-in through a SAML 2.0 identity provider (saml_flow.h). */
#include "authn/saml_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "authn/saml_check.h"
#include "authn/saml_facts.h"
#include "authn/saml_lasso.h"
#include "authn/sso_account.h"
#include "core/time.h"
#include "crypto/x509.h"

#define NAMEID_EMAIL "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"

struct gh_saml_flow {
    const struct gh_store_handle *store;
    struct gh_ssop *providers;
    const struct gh_signin *signin;
    char base[GH_SSO_URL_MAX + 1]; /* the public URL without a trailing slash */
};

gh_err gh_saml_flow_new(const struct gh_store_handle *store, struct gh_ssop *providers,
                        const struct gh_signin *signin, const char *public_url,
                        struct gh_saml_flow **out)
{
    size_t n = strlen(public_url);
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    /* it is written into XML attributes as it is */
    if (n == 0 || n > GH_SSO_URL_MAX || strcspn(public_url, "<>\"'&") < n)
        return GH_ERR_INVALID;
    struct gh_saml_flow *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return GH_ERR_NOMEM;
    f->store = store;
    f->providers = providers;
    f->signin = signin;
    memcpy(f->base, public_url, n);
    *out = f;
    return GH_OK;
}

void gh_saml_flow_free(struct gh_saml_flow *f)
{
    free(f);
}

/* Provider name if it is an enabled SAML provider. */
static gh_err find(struct gh_saml_flow *f, const char *name, struct gh_sso_provider *p)
{
    gh_err err = gh_ssop_find(f->providers, name, p);
    if (err == GH_OK && (strcmp(p->type, "saml") != 0 || !p->enabled))
        err = GH_ERR_NOT_FOUND;
    return err;
}

static void entity_id(const struct gh_saml_flow *f, const struct gh_sso_provider *p,
                      char out[GH_SSO_URL_MAX * 2])
{
    if (p->sp_entity_id[0] != '\0')
        (void)snprintf(out, GH_SSO_URL_MAX * 2, "%s", p->sp_entity_id);
    else
        (void)snprintf(out, GH_SSO_URL_MAX * 2, "%s" GH_SAML_METADATA "?provider=%s", f->base,
                       p->name);
}

/* Our EntityDescriptor for p (heap). */
static gh_err metadata(const struct gh_saml_flow *f, const struct gh_sso_provider *p, char **out)
{
    static const char fmt[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
        "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"%s\">\n"
        " <md:SPSSODescriptor AuthnRequestsSigned=\"true\" WantAssertionsSigned=\"true\" "
        "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n"
        "  <md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s"
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n"
        "  <md:KeyDescriptor use=\"encryption\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s"
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\n"
        "   <md:EncryptionMethod Algorithm=\"http://www.w3.org/2009/xmlenc11#aes256-gcm\"/>\n"
        "   <md:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes256-cbc\"/>\n"
        "   <md:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/>\n"
        "  </md:KeyDescriptor>\n"
        "  <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
        "</md:NameIDFormat>\n"
        "  <md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" "
        "Location=\"%s" GH_SAML_ACS "\" index=\"0\" isDefault=\"true\"/>\n"
        " </md:SPSSODescriptor>\n"
        "</md:EntityDescriptor>\n";
    char entity[GH_SSO_URL_MAX * 2];
    size_t size = sizeof(fmt) + sizeof(entity) + 2 * GH_SAML_CERT_MAX + sizeof(f->base);
    char *cert = malloc(GH_SAML_CERT_MAX);
    char *text = malloc(size);
    gh_err err = GH_ERR_NOMEM;
    if (cert != NULL && text != NULL)
        err = gh_x509_der_base64(p->sp_certificate, cert, GH_SAML_CERT_MAX);
    if (err == GH_OK) {
        entity_id(f, p, entity);
        (void)snprintf(text, size, fmt, entity, cert, cert, f->base);
        *out = text;
        text = NULL;
    }
    free(cert);
    free(text);
    return err;
}

gh_err gh_saml_flow_metadata(struct gh_saml_flow *f, const char *name, char **out)
{
    struct gh_sso_provider *p = malloc(sizeof(*p));
    if (p == NULL)
        return GH_ERR_NOMEM;
    gh_err err = find(f, name, p);
    if (err == GH_OK)
        err = metadata(f, p, out);
    sodium_memzero(p, sizeof(*p));
    free(p);
    return err;
}

/* What lasso needs of p: held until sp_clear (the key wiped). */
struct sp {
    struct gh_saml_sp conf;
    char *meta;
    char key[GH_SAML_KEY_MAX + 1];
};

static gh_err sp_init(const struct gh_saml_flow *f, const struct gh_sso_provider *p, struct sp *sp)
{
    memset(sp, 0, sizeof(*sp));
    gh_err err = gh_saml_lasso_open();
    if (err == GH_OK)
        err = metadata(f, p, &sp->meta);
    if (err == GH_OK)
        err = gh_ssop_saml_key(f->providers, p, sp->key, sizeof(sp->key));
    sp->conf = (struct gh_saml_sp){p->name, sp->meta, sp->key, p->sp_certificate, p->idp_metadata};
    return err;
}

static void sp_clear(struct sp *sp)
{
    free(sp->meta);
    sodium_memzero(sp, sizeof(*sp));
}

/* 32 random bytes as base64url text. */
static void random_text(char out[GH_SAML_BINDING_TEXT])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, GH_SAML_BINDING_TEXT, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

/* 1 when s is 32 bytes as base64url (a relay state or a binding we made). */
static int token_ok(const char *s)
{
    unsigned char raw[32];
    size_t len = 0;
    int ok = s != NULL && strlen(s) == GH_SAML_BINDING_TEXT - 1 &&
             sodium_base642bin(raw, sizeof(raw), s, strlen(s), NULL, &len, NULL,
                               sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
             len == sizeof(raw);
    sodium_memzero(raw, sizeof(raw));
    return ok;
}

static void sha256(const char *s, unsigned char out[GH_HASH_LEN])
{
    crypto_hash_sha256(out, (const unsigned char *)s, strlen(s));
}

/* The AuthnRequest's ID for relay: an NCName no one can make without the relay state. */
static void request_id(const char *relay, char out[42])
{
    static const char label[] = "gatehouse saml request ";
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)label, sizeof(label) - 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)relay, strlen(relay));
    crypto_hash_sha256_final(&st, h);
    out[0] = '_';
    sodium_bin2hex(out + 1, 41, h, 20);
}

gh_err gh_saml_flow_begin(struct gh_saml_flow *f, const char *provider, const char *redirect_to,
                          const char *binding, struct gh_saml_start *out)
{
    struct gh_sso_provider *p = malloc(sizeof(*p));
    struct sp *sp = calloc(1, sizeof(*sp)); /* zero: cleared at out even when never set up */
    struct gh_sso_state s;
    char relay[GH_SAML_RELAY_TEXT], rid[42], acs[GH_SSO_URL_MAX + sizeof(GH_SAML_ACS)];
    gh_err err = GH_ERR_NOMEM;
    memset(&s, 0, sizeof(s));
    if (p == NULL || sp == NULL)
        goto out;
    if ((err = find(f, provider, p)) != GH_OK || (err = sp_init(f, p, sp)) != GH_OK)
        goto out;
    err = GH_ERR_INVALID;
    if (strlen(redirect_to) >= sizeof(s.redirect_to))
        goto out;
    if (token_ok(binding))
        (void)snprintf(out->binding, sizeof(out->binding), "%s", binding);
    else
        random_text(out->binding);
    random_text(relay);
    request_id(relay, rid);
    (void)snprintf(acs, sizeof(acs), "%s" GH_SAML_ACS, f->base);
    if ((err = gh_saml_lasso_authn_request(&sp->conf, acs, rid, relay, out->location,
                                           sizeof(out->location))) != GH_OK)
        goto out;
    sha256(relay, s.hash);
    sha256(out->binding, s.binding);
    (void)snprintf(s.provider, sizeof(s.provider), "%s", p->name);
    (void)snprintf(s.redirect_to, sizeof(s.redirect_to), "%s", redirect_to);
    s.created_at = gh_time_now();
    s.expires_at = s.created_at + GH_SAML_STATE_TTL;
    err = gh_store_sso_state_add(f->store, &s);
out:
    if (sp != NULL)
        sp_clear(sp);
    free(sp);
    if (p != NULL)
        sodium_memzero(p, sizeof(*p));
    free(p);
    sodium_memzero(relay, sizeof(relay));
    return err;
}

/* The posted base64 SAMLResponse decoded (heap, NUL-terminated) into *xml. */
static gh_err decode(const char *b64, char **xml, size_t *n)
{
    size_t len = strlen(b64), got = 0;
    if (len == 0 || len > GH_SAML_POST_MAX)
        return GH_ERR_INVALID;
    char *buf = malloc(len);
    if (buf == NULL)
        return GH_ERR_NOMEM;
    if (sodium_base642bin((unsigned char *)buf, len, b64, len, " \t\r\n", &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got == 0 || got >= len) {
        free(buf);
        return GH_ERR_INVALID;
    }
    buf[got] = '\0';
    *xml = buf;
    *n = got;
    return GH_OK;
}

/* The assertion is remembered (in the states, under its own hash domain) until it
 * expires; a second use anywhere is GH_ERR_CONFLICT. */
static gh_err remember(struct gh_saml_flow *f, const struct gh_sso_provider *p,
                       const struct gh_saml_facts *facts, int64_t now, int64_t until)
{
    static const char label[] = "gatehouse saml assertion ";
    struct gh_sso_state s;
    crypto_hash_sha256_state st;
    memset(&s, 0, sizeof(s));
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)label, sizeof(label) - 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)facts->assertion_issuer,
                              strlen(facts->assertion_issuer) + 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)facts->assertion_id,
                              strlen(facts->assertion_id));
    crypto_hash_sha256_final(&st, s.hash);
    (void)snprintf(s.provider, sizeof(s.provider), "%s", p->name);
    s.created_at = now;
    s.expires_at = until;
    return gh_store_sso_state_add(f->store, &s);
}

static void field(char *dst, size_t size, const char *v)
{
    if (v != NULL && strlen(v) < size)
        memcpy(dst, v, strlen(v) + 1);
}

/* Who the assertion names, by p's claim names (SAML attribute Names). SAML has no
 * email_verified: a signed email proves only that this IdP said it, and any IdP may say
 * any address, so it counts as verified (link_by_email to an existing account, a new
 * user's email) only when the admin vouches for the IdP with trust_email. */
static gh_err identity(const struct gh_sso_provider *p, const struct gh_saml_facts *x,
                       struct gh_sso_identity *id)
{
    memset(id, 0, sizeof(*id));
    if (strlen(x->name_id) >= sizeof(id->subject))
        return GH_ERR_INVALID;
    memcpy(id->subject, x->name_id, strlen(x->name_id) + 1);
    field(id->email, sizeof(id->email), gh_saml_facts_attr(x, p->claim_email));
    if (id->email[0] == '\0' && strcmp(x->name_id_format, NAMEID_EMAIL) == 0)
        field(id->email, sizeof(id->email), x->name_id);
    id->email_verified = p->trust_email && id->email[0] != '\0';
    field(id->username, sizeof(id->username), gh_saml_facts_attr(x, p->claim_username));
    field(id->name, sizeof(id->name), gh_saml_facts_attr(x, p->claim_name));
    return GH_OK;
}

/* p anew when a signature failed and its IdP's metadata, fetched again, changed (the IdP
 * rotated its key); NULL otherwise (gh_ssop_saml_refresh rate-limits the fetches). */
static struct gh_sso_provider *rotated(struct gh_saml_flow *f, const struct gh_sso_provider *p)
{
    struct gh_sso_provider *fresh = NULL;
    if (p->idp_metadata_url[0] == '\0' || (fresh = malloc(sizeof(*fresh))) == NULL)
        return NULL;
    if (gh_ssop_saml_refresh(f->providers, p, fresh) == GH_OK)
        return fresh;
    free(fresh);
    return NULL;
}

/* The Response of in for p's sign-in state s: checked, its assertion remembered, its
 * identity into *id. */
static gh_err judge(struct gh_saml_flow *f, const struct gh_sso_provider *p, const char *relay,
                    const char *b64, struct gh_sso_identity *id, const char **reason)
{
    struct sp *sp = calloc(1, sizeof(*sp)); /* as in gh_saml_flow_begin */
    struct gh_saml_facts *x = malloc(sizeof(*x));
    struct gh_sso_provider *fresh = NULL;
    struct _xmlDoc *doc = NULL;
    char *xml = NULL, idp[GH_SAML_TEXT_MAX + 1], rid[42], acs[GH_SSO_URL_MAX * 2],
         entity[GH_SSO_URL_MAX * 2];
    size_t n = 0;
    int64_t until = 0, now = gh_time_now();
    gh_err err = GH_ERR_NOMEM;
    *reason = "storage";
    if (sp == NULL || x == NULL || (err = sp_init(f, p, sp)) != GH_OK)
        goto out;
    *reason = "malformed";
    if ((err = decode(b64, &xml, &n)) != GH_OK ||
        (err = gh_saml_lasso_parse(xml, n, &doc)) != GH_OK)
        goto out;
    /* an encrypted assertion is read once lasso decrypted and verified it; a plain one's
     * shape is judged before its signature */
    int encrypted = gh_saml_facts_encrypted(doc, reason);
    err = encrypted < 0 ? GH_ERR_INVALID : GH_OK;
    if (err != GH_OK || (!encrypted && (err = gh_saml_facts_read(doc, x, reason)) != GH_OK))
        goto out;
    *reason = "signature";
    err = gh_saml_lasso_verify(&sp->conf, b64, encrypted ? doc : NULL, idp, sizeof(idp));
    if (err == GH_ERR_AUTH && (fresh = rotated(f, p)) != NULL) {
        sp->conf.idp_metadata = fresh->idp_metadata;
        err = gh_saml_lasso_verify(&sp->conf, b64, encrypted ? doc : NULL, idp, sizeof(idp));
    }
    if (err != GH_OK)
        goto out;
    if (encrypted && (err = gh_saml_facts_read(doc, x, reason)) != GH_OK)
        goto out;
    request_id(relay, rid);
    (void)snprintf(acs, sizeof(acs), "%s" GH_SAML_ACS, f->base);
    entity_id(f, p, entity);
    struct gh_saml_expect e = {idp, entity, acs, rid, now};
    if ((err = gh_saml_check(x, &e, &until, reason)) != GH_OK)
        goto out;
    *reason = "replayed";
    if ((err = remember(f, p, x, now, until)) != GH_OK)
        goto out;
    *reason = "name_id";
    err = identity(p, x, id);
out:
    if (err == GH_OK)
        *reason = NULL;
    else if (err != GH_ERR_IO && err != GH_ERR_NOMEM && err != GH_ERR_BUSY)
        err = GH_ERR_AUTH;
    gh_saml_lasso_free_doc(doc);
    if (xml != NULL)
        sodium_memzero(xml, n);
    free(xml);
    if (sp != NULL)
        sp_clear(sp);
    free(sp);
    if (fresh != NULL)
        sodium_memzero(fresh, sizeof(*fresh));
    free(fresh);
    if (x != NULL)
        sodium_memzero(x, sizeof(*x));
    free(x);
    return err;
}

gh_err gh_saml_flow_finish(struct gh_saml_flow *f, const struct gh_saml_post *in,
                           const struct gh_reqmeta *meta, struct gh_signin_result *out,
                           char redirect_to[GH_SSO_RETURN_MAX + 1], const char **reason)
{
    struct gh_sso_provider *p = malloc(sizeof(*p));
    struct gh_sso_state s;
    struct gh_sso_identity id;
    unsigned char bound[GH_HASH_LEN], relay_hash[GH_HASH_LEN];
    gh_err err = GH_ERR_NOMEM;
    memset(&s, 0, sizeof(s));
    memset(&id, 0, sizeof(id));
    *reason = "storage";
    if (p == NULL)
        goto out;
    err = GH_ERR_AUTH;
    *reason = "state";
    if (!token_ok(in->relay_state))
        goto out;
    sha256(in->relay_state, relay_hash);
    if ((err = gh_store_sso_state_take(f->store, relay_hash, &s)) != GH_OK) {
        if (err == GH_ERR_NOT_FOUND)
            err = GH_ERR_AUTH;
        else
            *reason = "storage";
        goto out;
    }
    (void)snprintf(redirect_to, GH_SSO_RETURN_MAX + 1, "%s", s.redirect_to);
    err = GH_ERR_AUTH;
    *reason = "state_expired";
    if (gh_time_now() > s.expires_at)
        goto out;
    *reason = "browser";
    if (!token_ok(in->binding))
        goto out;
    sha256(in->binding, bound);
    if (sodium_memcmp(bound, s.binding, GH_HASH_LEN) != 0)
        goto out;
    *reason = "provider";
    if (find(f, s.provider, p) != GH_OK)
        goto out;
    *reason = "malformed";
    if (in->saml_response == NULL)
        goto out;
    if ((err = judge(f, p, in->relay_state, in->saml_response, &id, reason)) != GH_OK)
        goto out;
    /* gh_signin_sso audits SSO_LOGIN or its own SSO_LOGIN_FAILED */
    err = gh_signin_sso(f->signin, p, &id, 1, meta, out, reason);
    sodium_memzero(&id, sizeof(id));
    sodium_memzero(p, sizeof(*p));
    free(p);
    return err;
out:
    gh_sso_audit_failed(f->signin->auth, s.provider, *reason, NULL, meta);
    sodium_memzero(&id, sizeof(id));
    if (p != NULL)
        sodium_memzero(p, sizeof(*p));
    free(p);
    return err;
}

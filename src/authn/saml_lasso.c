/* The SAML SP's calls into lasso, opened at run time (saml_lasso.h). */
#include "authn/saml_lasso.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <limits.h>
#include <lasso/lasso.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/saml2_strings.h>
#include <lasso/xml/saml-2.0/samlp2_response.h>
#include <libxml/parser.h>
#include <sodium.h>

#include "core/log.h"

/*
 * Only lasso's types, field layouts and constants come from its headers; its functions
 * (and the three of GLib that its objects need) go through this table, filled by the
 * first gh_saml_lasso_open. GObject's casting macros are not used: they call into GLib.
 */
static struct {
    void *handle;
    lasso_error_t (*init)(void);
    LassoServer *(*server_new_from_buffers)(const gchar *metadata, const gchar *key,
                                            const gchar *password, const gchar *cert);
    lasso_error_t (*server_add_provider_from_buffer)(LassoServer *s, LassoProviderRole role,
                                                     const gchar *metadata, const gchar *public_key,
                                                     const gchar *ca_chain);
    LassoProvider *(*provider_new_from_buffer)(LassoProviderRole role, const char *metadata,
                                               const char *public_key, const char *ca_chain);
    LassoLogin *(*login_new)(LassoServer *s);
    lasso_error_t (*login_init_authn_request)(LassoLogin *l, const gchar *idp,
                                              LassoHttpMethod method);
    lasso_error_t (*login_build_authn_request_msg)(LassoLogin *l);
    lasso_error_t (*login_process_authn_response_msg)(LassoLogin *l, gchar *msg);
    void (*profile_set_signature_verify_hint)(LassoProfile *p,
                                              LassoProfileSignatureVerifyHint hint);
    lasso_error_t (*server_set_encryption_key)(LassoServer *s, const gchar *key,
                                               const gchar *password);
    xmlNode *(*original_xmlnode)(LassoNode *node);
    void (*object_unref)(gpointer obj);
    gchar *(*strdup)(const gchar *s);
    void (*free)(gpointer p);
    xmlDocPtr (*read_memory)(const char *buf, int size, const char *url, const char *encoding,
                             int options);
    void (*free_doc)(xmlDocPtr doc);
    xmlNodePtr (*doc_copy_node)(xmlNodePtr node, xmlDocPtr doc, int extended);
    xmlNodePtr (*replace_node)(xmlNodePtr old, xmlNodePtr cur);
    void (*free_node)(xmlNodePtr node);
} lib;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#define LOAD(field, name) ((lib.field = (__typeof__(lib.field))dlsym(lib.handle, name)) != NULL)

static gh_err load(void)
{
    lib.handle = dlopen("liblasso.so.3", RTLD_NOW | RTLD_LOCAL);
    if (lib.handle == NULL) {
        gh_log(GH_LOG_ERROR, "saml: cannot load liblasso.so.3: %s", dlerror());
        return GH_ERR_IO;
    }
    if (!LOAD(init, "lasso_init") ||
        !LOAD(server_new_from_buffers, "lasso_server_new_from_buffers") ||
        !LOAD(server_add_provider_from_buffer, "lasso_server_add_provider_from_buffer") ||
        !LOAD(provider_new_from_buffer, "lasso_provider_new_from_buffer") ||
        !LOAD(login_new, "lasso_login_new") ||
        !LOAD(login_init_authn_request, "lasso_login_init_authn_request") ||
        !LOAD(login_build_authn_request_msg, "lasso_login_build_authn_request_msg") ||
        !LOAD(login_process_authn_response_msg, "lasso_login_process_authn_response_msg") ||
        !LOAD(profile_set_signature_verify_hint, "lasso_profile_set_signature_verify_hint") ||
        !LOAD(server_set_encryption_key, "lasso_server_set_encryption_private_key_with_password") ||
        !LOAD(original_xmlnode, "lasso_node_get_original_xmlnode") ||
        !LOAD(doc_copy_node, "xmlDocCopyNode") || !LOAD(replace_node, "xmlReplaceNode") ||
        !LOAD(free_node, "xmlFreeNode") || !LOAD(object_unref, "g_object_unref") ||
        !LOAD(strdup, "g_strdup") || !LOAD(free, "g_free") || !LOAD(read_memory, "xmlReadMemory") ||
        !LOAD(free_doc, "xmlFreeDoc") || lib.init() != 0) {
        gh_log(GH_LOG_ERROR, "saml: liblasso.so.3 lacks a function or did not start");
        dlclose(lib.handle);
        memset(&lib, 0, sizeof(lib));
        return GH_ERR_IO;
    }
    return GH_OK;
}

gh_err gh_saml_lasso_open(void)
{
    gh_err err = GH_OK;
    pthread_mutex_lock(&lock);
    if (lib.handle == NULL)
        err = load();
    pthread_mutex_unlock(&lock);
    return err;
}

/* Copies s into out; GH_ERR_TOO_LARGE it does not fit, GH_ERR_INVALID there is none. */
static gh_err copy_out(const char *s, char *out, size_t size)
{
    if (s == NULL || s[0] == '\0')
        return GH_ERR_INVALID;
    size_t n = strlen(s);
    if (n >= size)
        return GH_ERR_TOO_LARGE;
    memcpy(out, s, n + 1);
    return GH_OK;
}

gh_err gh_saml_lasso_idp_entity(const char *metadata, char *out, size_t size)
{
    gh_err err = GH_ERR_IO;
    pthread_mutex_lock(&lock);
    if (lib.handle != NULL) {
        LassoProvider *p =
            lib.provider_new_from_buffer(LASSO_PROVIDER_ROLE_IDP, metadata, NULL, NULL);
        err = p == NULL ? GH_ERR_INVALID : copy_out(p->ProviderID, out, size);
        if (p != NULL)
            lib.object_unref(p);
    }
    pthread_mutex_unlock(&lock);
    return err;
}

/*
 * Servers by provider: building one (our key and certificate loaded, two metadata
 * documents parsed) is most of a sign-in step's cost, so each provider's is kept while its
 * configuration stays the same (the SHA-256 of every input). A provider changed or deleted
 * loses its own at once (gh_saml_lasso_forget); past CACHE_MAX providers the least recently
 * used goes. Only touched under the lock.
 */
#define CACHE_MAX 16
static struct cached {
    char name[GH_SAML_NAME_MAX + 1];
    unsigned char conf[crypto_hash_sha256_BYTES];
    LassoServer *server;
    char idp[GH_SAML_ENTITY_MAX + 1]; /* the IdP's entity id */
    uint64_t used;
} cache[CACHE_MAX];
static uint64_t cache_clock;

static void conf_hash(const struct gh_saml_sp *sp, unsigned char out[crypto_hash_sha256_BYTES])
{
    const char *parts[] = {sp->sp_metadata, sp->key_pem, sp->cert_pem, sp->idp_metadata};
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) /* each with its NUL */
        crypto_hash_sha256_update(&st, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
    crypto_hash_sha256_final(&st, out);
}

/* A new server for sp (its one IdP added) into slot c; the caller holds the lock. */
static gh_err server_build(const struct gh_saml_sp *sp, struct cached *c)
{
    LassoServer *s = lib.server_new_from_buffers(sp->sp_metadata, sp->key_pem, NULL, sp->cert_pem);
    if (s == NULL)
        return GH_ERR_INVALID;
    /* the key of our metadata's encryption KeyDescriptor decrypts EncryptedAssertions */
    if (lib.server_set_encryption_key(s, sp->key_pem, NULL) != 0) {
        lib.object_unref(s);
        return GH_ERR_INVALID;
    }
    LassoProvider *idp =
        lib.provider_new_from_buffer(LASSO_PROVIDER_ROLE_IDP, sp->idp_metadata, NULL, NULL);
    gh_err err = idp == NULL ? GH_ERR_INVALID : copy_out(idp->ProviderID, c->idp, sizeof(c->idp));
    if (idp != NULL)
        lib.object_unref(idp);
    if (err == GH_OK && lib.server_add_provider_from_buffer(s, LASSO_PROVIDER_ROLE_IDP,
                                                            sp->idp_metadata, NULL, NULL) != 0)
        err = GH_ERR_INVALID;
    if (err != GH_OK) {
        lib.object_unref(s);
        return err;
    }
    c->server = s;
    return GH_OK;
}

/* sp's server, built unless kept (the caller holds the lock; the cache owns it). */
static gh_err server_get(const struct gh_saml_sp *sp, struct cached **out)
{
    unsigned char conf[crypto_hash_sha256_BYTES];
    struct cached *c = NULL;
    if (strlen(sp->name) > GH_SAML_NAME_MAX)
        return GH_ERR_INVALID;
    conf_hash(sp, conf);
    for (size_t i = 0; i < CACHE_MAX && c == NULL; i++)
        if (cache[i].server != NULL && strcmp(cache[i].name, sp->name) == 0)
            c = &cache[i];
    if (c != NULL && sodium_memcmp(c->conf, conf, sizeof(conf)) == 0) {
        c->used = ++cache_clock;
        *out = c;
        return GH_OK;
    }
    if (c == NULL) { /* a free slot, else the least recently used */
        c = &cache[0];
        for (size_t i = 1; i < CACHE_MAX && c->server != NULL; i++)
            if (cache[i].server == NULL || cache[i].used < c->used)
                c = &cache[i];
    }
    if (c->server != NULL)
        lib.object_unref(c->server);
    memset(c, 0, sizeof(*c));
    gh_err err = server_build(sp, c);
    if (err != GH_OK) {
        memset(c, 0, sizeof(*c));
        return err;
    }
    memcpy(c->name, sp->name, strlen(sp->name) + 1);
    memcpy(c->conf, conf, sizeof(conf));
    c->used = ++cache_clock;
    *out = c;
    return GH_OK;
}

void gh_saml_lasso_forget(const char *name)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < CACHE_MAX; i++)
        if (cache[i].server != NULL && strcmp(cache[i].name, name) == 0) {
            lib.object_unref(cache[i].server);
            memset(&cache[i], 0, sizeof(cache[i]));
        }
    pthread_mutex_unlock(&lock);
}

/* Replaces the GLib string *slot by a copy of s. */
static void assign(char **slot, const char *s)
{
    lib.free(*slot);
    *slot = lib.strdup(s);
}

gh_err gh_saml_lasso_authn_request(const struct gh_saml_sp *sp, const char *acs_url,
                                   const char *request_id, const char *relay_state, char *url,
                                   size_t url_size)
{
    struct cached *c = NULL;
    LassoLogin *login = NULL;
    gh_err err = GH_ERR_IO;
    pthread_mutex_lock(&lock);
    if (lib.handle == NULL)
        goto out;
    if ((err = server_get(sp, &c)) != GH_OK)
        goto out;
    err = GH_ERR_INVALID;
    if ((login = lib.login_new(c->server)) == NULL ||
        lib.login_init_authn_request(login, NULL, LASSO_HTTP_METHOD_REDIRECT) != 0)
        goto out;
    LassoProfile *profile = &login->parent;
    LassoSamlp2AuthnRequest *rq = (LassoSamlp2AuthnRequest *)profile->request;
    rq->ForceAuthn = FALSE;
    rq->IsPassive = FALSE;
    assign(&rq->ProtocolBinding, LASSO_SAML2_METADATA_BINDING_POST);
    assign(&rq->AssertionConsumerServiceURL, acs_url);
    if (rq->NameIDPolicy != NULL) {
        rq->NameIDPolicy->AllowCreate = TRUE;
        assign(&rq->NameIDPolicy->Format, LASSO_SAML2_NAME_IDENTIFIER_FORMAT_UNSPECIFIED);
    }
    assign(&rq->parent.ID, request_id);
    assign(&profile->msg_relayState, relay_state);
    if (lib.login_build_authn_request_msg(login) != 0)
        goto out;
    err = copy_out(profile->msg_url, url, url_size);
out:
    if (login != NULL)
        lib.object_unref(login);
    pthread_mutex_unlock(&lock);
    return err;
}

/* The root's one child named name (in SAML's assertion namespace), or NULL. */
static xmlNode *root_child(xmlDoc *doc, const char *name)
{
    xmlNode *root = doc->children;
    while (root != NULL && root->type != XML_ELEMENT_NODE)
        root = root->next;
    for (xmlNode *c = root != NULL ? root->children : NULL; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE && c->ns != NULL && c->ns->href != NULL &&
            strcmp((const char *)c->ns->href, LASSO_SAML2_ASSERTION_HREF) == 0 &&
            strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/* The one Assertion lasso decrypted and verified in response, put in place of doc's
 * EncryptedAssertion (the caller holds the lock). */
static gh_err splice(LassoSamlp2Response *response, xmlDoc *doc)
{
    xmlNode *enc = root_child(doc, "EncryptedAssertion");
    if (response == NULL || response->Assertion == NULL || response->Assertion->next != NULL ||
        enc == NULL)
        return GH_ERR_AUTH;
    xmlNode *plain = lib.original_xmlnode((LassoNode *)response->Assertion->data);
    xmlNode *copy = plain != NULL ? lib.doc_copy_node(plain, doc, 1) : NULL;
    if (copy == NULL)
        return GH_ERR_AUTH;
    (void)lib.replace_node(enc, copy);
    lib.free_node(enc);
    return GH_OK;
}

gh_err gh_saml_lasso_verify(const struct gh_saml_sp *sp, const char *b64, struct _xmlDoc *decrypt,
                            char *idp, size_t idp_size)
{
    struct cached *c = NULL;
    LassoLogin *login = NULL;
    gh_err err = GH_ERR_IO;
    pthread_mutex_lock(&lock);
    if (lib.handle == NULL)
        goto out;
    if ((err = server_get(sp, &c)) != GH_OK)
        goto out;
    err = GH_ERR_INVALID;
    if ((login = lib.login_new(c->server)) == NULL)
        goto out;
    /* MAYBE: the Response's signature, or else each Assertion's (lasso's login.c). */
    lib.profile_set_signature_verify_hint(&login->parent,
                                          LASSO_PROFILE_SIGNATURE_VERIFY_HINT_MAYBE);
    lasso_error_t rc = lib.login_process_authn_response_msg(login, (gchar *)b64);
    if (rc == LASSO_PROFILE_ERROR_INVALID_MSG || rc == LASSO_PROFILE_ERROR_UNSUPPORTED_PROFILE)
        err = GH_ERR_INVALID;
    else
        err = rc == 0 ? copy_out(c->idp, idp, idp_size) : GH_ERR_AUTH;
    if (err == GH_OK && decrypt != NULL)
        err = splice((LassoSamlp2Response *)login->parent.response, decrypt);
out:
    if (login != NULL)
        lib.object_unref(login);
    pthread_mutex_unlock(&lock);
    return err;
}

gh_err gh_saml_lasso_parse(const char *xml, size_t n, struct _xmlDoc **out)
{
    gh_err err = GH_ERR_IO;
    if (n > INT_MAX)
        return GH_ERR_TOO_LARGE;
    pthread_mutex_lock(&lock);
    if (lib.handle != NULL) {
        xmlDocPtr doc = lib.read_memory(xml, (int)n, NULL, NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        err = doc == NULL ? GH_ERR_INVALID : GH_OK;
        if (doc != NULL)
            *out = doc;
    }
    pthread_mutex_unlock(&lock);
    return err;
}

void gh_saml_lasso_free_doc(struct _xmlDoc *doc)
{
    if (doc == NULL)
        return;
    pthread_mutex_lock(&lock);
    if (lib.handle != NULL)
        lib.free_doc(doc);
    pthread_mutex_unlock(&lock);
}

/* What a SAML Response says, read from its tree (saml_facts.h). */
#include "authn/saml_facts.h"

#include <string.h>
#include <time.h>
#include <libxml/tree.h>

#define NS_PROTOCOL "urn:oasis:names:tc:SAML:2.0:protocol"
#define NS_ASSERTION "urn:oasis:names:tc:SAML:2.0:assertion"
#define NS_XML "http://www.w3.org/XML/1998/namespace"
#define NS_XENC "http://www.w3.org/2001/04/xmlenc#"

#define DEPTH_MAX 32
#define ELEMENTS_MAX 4096
#define IDS_MAX 64

/* The walk's state: what the whole document holds, for the shape rules. */
struct walk {
    size_t elements, assertions, nids;
    const xmlChar *ids[IDS_MAX];
    const char *why;
};

static int is(const xmlNode *n, const char *ns, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* 0 or -1 (w->why set). */
static int fail(struct walk *w, const char *why)
{
    w->why = why;
    return -1;
}

/* Records an ID value; -1 when another element already has it. */
static int add_id(struct walk *w, const xmlChar *v)
{
    for (size_t i = 0; i < w->nids; i++)
        if (strcmp((const char *)w->ids[i], (const char *)v) == 0)
            return fail(w, "duplicate_id");
    if (w->nids == IDS_MAX)
        return fail(w, "too_large");
    w->ids[w->nids++] = v;
    return 0;
}

/* The whole tree under n: the shape rules that concern every element. */
static int walk_tree(struct walk *w, const xmlNode *n, const xmlNode *root, unsigned depth)
{
    for (; n != NULL; n = n->next) {
        if (n->type == XML_DTD_NODE || n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_DECL)
            return fail(w, "dtd");
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (++w->elements > ELEMENTS_MAX || depth > DEPTH_MAX)
            return fail(w, "too_large");
        if (is(n, NS_ASSERTION, "EncryptedAssertion"))
            return fail(w, "encrypted_assertion");
        if (is(n, NS_ASSERTION, "Assertion") && (++w->assertions > 1 || n->parent != root))
            return fail(w, "assertion_count");
        for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
            if (a->ns != NULL && a->ns->href != NULL &&
                strcmp((const char *)a->ns->href, NS_XML) == 0 &&
                strcmp((const char *)a->name, "id") == 0)
                return fail(w, "xml_id");
            if (a->ns == NULL && strcmp((const char *)a->name, "ID") == 0 &&
                (a->children == NULL || a->children->content == NULL ||
                 add_id(w, a->children->content) != 0))
                return w->why != NULL ? -1 : fail(w, "duplicate_id");
        }
        if (walk_tree(w, n->children, root, depth + 1) != 0)
            return -1;
    }
    return 0;
}

/* Copies s (n bytes) into out without the surrounding XML white space. */
static int put(char out[GH_SAML_TEXT_MAX + 1], const char *s, size_t n)
{
    while (n > 0 && strchr(" \t\r\n", s[0]) != NULL)
        s++, n--;
    while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
        n--;
    if (n > GH_SAML_TEXT_MAX || memchr(s, '\0', n) != NULL)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* An attribute of n (no namespace) into out; absent is "". */
static int attr(const xmlNode *n, const char *name, char out[GH_SAML_TEXT_MAX + 1])
{
    out[0] = '\0';
    for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
        if (a->ns == NULL && strcmp((const char *)a->name, name) == 0) {
            const xmlNode *t = a->children;
            if (t == NULL || t->content == NULL)
                return 0;
            if (t->next != NULL)
                return -1;
            return put(out, (const char *)t->content, strlen((const char *)t->content));
        }
    return 0;
}

/* The text content of element n: text and CDATA only (a comment or an element inside
 * would let the signed and the read value differ). */
static int text(const xmlNode *n, char out[GH_SAML_TEXT_MAX + 1])
{
    char buf[GH_SAML_TEXT_MAX + 1];
    size_t at = 0;
    for (const xmlNode *c = n->children; c != NULL; c = c->next) {
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
            return -1;
        size_t len = c->content != NULL ? strlen((const char *)c->content) : 0;
        if (at + len > GH_SAML_TEXT_MAX)
            return -1;
        memcpy(buf + at, c->content, len);
        at += len;
    }
    return put(out, buf, at);
}

/* A time attribute of n into *out (0 absent). */
static int time_attr(const xmlNode *n, const char *name, int64_t *out)
{
    char v[GH_SAML_TEXT_MAX + 1];
    *out = 0;
    if (attr(n, name, v) != 0)
        return -1;
    return v[0] == '\0' || gh_saml_time(v, out) == GH_OK ? 0 : -1;
}

static int digits(const char *s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *out = *out * 10 + (s[i] - '0');
    }
    return 0;
}

gh_err gh_saml_time(const char *s, int64_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec;
    memset(&tm, 0, sizeof(tm));
    if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return GH_ERR_INVALID;
    const char *at = s + 19;
    if (*at == '.') {
        size_t n = strspn(at + 1, "0123456789");
        if (n == 0 || n > 9)
            return GH_ERR_INVALID;
        at += 1 + n;
    }
    if (strcmp(at, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || sec > 60)
        return GH_ERR_INVALID;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm);
    return GH_OK;
}

static int read_conditions(const xmlNode *c, struct gh_saml_facts *f)
{
    f->has_conditions = 1;
    if (time_attr(c, "NotBefore", &f->not_before) != 0 ||
        time_attr(c, "NotOnOrAfter", &f->not_on_or_after) != 0)
        return -1;
    for (const xmlNode *r = c->children; r != NULL; r = r->next) {
        if (!is(r, NS_ASSERTION, "AudienceRestriction"))
            continue;
        for (const xmlNode *a = r->children; a != NULL; a = a->next) {
            if (!is(a, NS_ASSERTION, "Audience"))
                continue;
            if (f->naudiences == GH_SAML_AUDIENCES_MAX || text(a, f->audiences[f->naudiences]))
                return -1;
            f->audience_of[f->naudiences++] = (unsigned)f->nrestrictions;
        }
        f->nrestrictions++;
    }
    return 0;
}

static int read_subject(const xmlNode *s, struct gh_saml_facts *f)
{
    for (const xmlNode *c = s->children; c != NULL; c = c->next) {
        if (is(c, NS_ASSERTION, "NameID")) {
            if (f->name_id[0] != '\0' || text(c, f->name_id) != 0 ||
                attr(c, "Format", f->name_id_format) != 0)
                return -1;
        } else if (is(c, NS_ASSERTION, "SubjectConfirmation")) {
            if (f->nconfirms == GH_SAML_CONFIRMS_MAX)
                return -1;
            struct gh_saml_confirm *k = &f->confirms[f->nconfirms++];
            if (attr(c, "Method", k->method) != 0)
                return -1;
            for (const xmlNode *d = c->children; d != NULL; d = d->next)
                if (is(d, NS_ASSERTION, "SubjectConfirmationData") &&
                    (attr(d, "Recipient", k->recipient) != 0 ||
                     attr(d, "InResponseTo", k->in_response_to) != 0 ||
                     time_attr(d, "NotBefore", &k->not_before) != 0 ||
                     time_attr(d, "NotOnOrAfter", &k->not_on_or_after) != 0))
                    return -1;
        }
    }
    return 0;
}

static void read_attributes(const xmlNode *st, struct gh_saml_facts *f)
{
    for (const xmlNode *a = st->children; a != NULL; a = a->next) {
        if (!is(a, NS_ASSERTION, "Attribute") || f->nattrs == GH_SAML_ATTRS_MAX)
            continue;
        struct gh_saml_attr *out = &f->attrs[f->nattrs];
        const xmlNode *v = a->children;
        while (v != NULL && !is(v, NS_ASSERTION, "AttributeValue"))
            v = v->next;
        if (v != NULL && attr(a, "Name", out->name) == 0 && out->name[0] != '\0' &&
            text(v, out->value) == 0)
            f->nattrs++;
        else
            memset(out, 0, sizeof(*out));
    }
}

static int read_assertion(const xmlNode *as, struct gh_saml_facts *f)
{
    if (attr(as, "ID", f->assertion_id) != 0)
        return -1;
    for (const xmlNode *c = as->children; c != NULL; c = c->next) {
        if (is(c, NS_ASSERTION, "Issuer")) {
            if (text(c, f->assertion_issuer) != 0)
                return -1;
        } else if (is(c, NS_ASSERTION, "Subject")) {
            if (read_subject(c, f) != 0)
                return -1;
        } else if (is(c, NS_ASSERTION, "Conditions")) {
            if (f->has_conditions || read_conditions(c, f) != 0)
                return -1;
        } else if (is(c, NS_ASSERTION, "AttributeStatement")) {
            read_attributes(c, f);
        }
    }
    return 0;
}

gh_err gh_saml_facts_read(const struct _xmlDoc *doc, struct gh_saml_facts *out, const char **why)
{
    struct walk w;
    const xmlNode *root = doc->children;
    while (root != NULL && root->type != XML_ELEMENT_NODE)
        root = root->next;
    memset(&w, 0, sizeof(w));
    memset(out, 0, sizeof(*out));
    if (doc->intSubset != NULL || doc->extSubset != NULL)
        w.why = "dtd";
    else if (!is(root, NS_PROTOCOL, "Response"))
        w.why = "not_a_response";
    else if (walk_tree(&w, doc->children, root, 0) == 0 && w.assertions != 1)
        w.why = "assertion_count";
    if (w.why == NULL) {
        const xmlNode *as = root->children;
        while (!is(as, NS_ASSERTION, "Assertion"))
            as = as->next;
        w.why = "value";
        if (attr(root, "ID", out->response_id) == 0 &&
            attr(root, "InResponseTo", out->in_response_to) == 0 &&
            attr(root, "Destination", out->destination) == 0 && read_assertion(as, out) == 0)
            w.why = NULL;
        for (const xmlNode *c = root->children; w.why == NULL && c != NULL; c = c->next)
            if (is(c, NS_ASSERTION, "Issuer") && text(c, out->issuer) != 0)
                w.why = "value";
    }
    if (w.why != NULL) {
        memset(out, 0, sizeof(*out));
        if (why != NULL)
            *why = w.why;
        return GH_ERR_INVALID;
    }
    return GH_OK;
}

/* 1 when Algorithm of EncryptionMethod m is one of its parent's accepted ones. */
static int method_ok(const xmlNode *m)
{
    static const char *const content[] = {NS_XENC "aes128-cbc", NS_XENC "aes256-cbc",
                                          "http://www.w3.org/2009/xmlenc11#aes128-gcm",
                                          "http://www.w3.org/2009/xmlenc11#aes256-gcm", NULL};
    static const char *const transport[] = {NS_XENC "rsa-oaep-mgf1p",
                                            "http://www.w3.org/2009/xmlenc11#rsa-oaep", NULL};
    char alg[GH_SAML_TEXT_MAX + 1];
    const char *const *ok = is(m->parent, NS_XENC, "EncryptedKey")    ? transport
                            : is(m->parent, NS_XENC, "EncryptedData") ? content
                                                                      : NULL;
    if (ok == NULL || attr(m, "Algorithm", alg) != 0)
        return 0;
    for (; *ok != NULL; ok++)
        if (strcmp(alg, *ok) == 0)
            return 1;
    return 0;
}

/* 1 when element n has a child EncryptionMethod (none: the decrypter would pick one). */
static int names_method(const xmlNode *n)
{
    for (const xmlNode *c = n->children; c != NULL; c = c->next)
        if (is(c, NS_XENC, "EncryptionMethod"))
            return 1;
    return 0;
}

/* Every EncryptionMethod under n accepted, every EncryptedData and EncryptedKey naming
 * one, no key fetched from elsewhere (RetrievalMethod: outside what was judged here),
 * within the walk's bounds. */
static int methods_ok(const xmlNode *n, unsigned depth, size_t *elements)
{
    for (; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (++*elements > ELEMENTS_MAX || depth > DEPTH_MAX)
            return 0;
        if ((is(n, NS_XENC, "EncryptionMethod") && !method_ok(n)) ||
            ((is(n, NS_XENC, "EncryptedData") || is(n, NS_XENC, "EncryptedKey")) &&
             !names_method(n)) ||
            (n->name != NULL && strcmp((const char *)n->name, "RetrievalMethod") == 0))
            return 0;
        if (!methods_ok(n->children, depth + 1, elements))
            return 0;
    }
    return 1;
}

int gh_saml_facts_encrypted(const struct _xmlDoc *doc, const char **why)
{
    const xmlNode *root = doc->children, *enc = NULL;
    size_t nenc = 0, nplain = 0, elements = 0;
    while (root != NULL && root->type != XML_ELEMENT_NODE)
        root = root->next;
    if (!is(root, NS_PROTOCOL, "Response"))
        return 0; /* gh_saml_facts_read refuses it */
    for (const xmlNode *c = root->children; c != NULL; c = c->next) {
        if (is(c, NS_ASSERTION, "EncryptedAssertion"))
            enc = c, nenc++;
        else if (is(c, NS_ASSERTION, "Assertion"))
            nplain++;
    }
    if (nenc == 0)
        return 0;
    if (nenc > 1 || nplain > 0) {
        *why = "assertion_count";
        return -1;
    }
    if (!methods_ok(enc->children, 1, &elements)) {
        *why = "encryption_method";
        return -1;
    }
    return 1;
}

const char *gh_saml_facts_attr(const struct gh_saml_facts *f, const char *name)
{
    for (size_t i = 0; i < f->nattrs; i++)
        if (strcmp(f->attrs[i].name, name) == 0)
            return f->attrs[i].value;
    return NULL;
}

/* SSO identity providers: the registry, the admin API's changes (sso_providers.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sodium.h>

#include "authn/sso_providers.h"
#include "core/log.h"
#include "core/secure_json.h"
#include "core/time.h"
#include "authn/oidc_meta.h"
#include "authn/saml_facts.h"
#include "authn/saml_lasso.h"
#include "authn/saml_meta.h"
#include "crypto/field.h"
#include "crypto/x509.h"
#include "edge/fetch.h"

struct gh_ssop {
    const struct gh_store_handle *store;
    struct gh_datakeys *_Atomic dk; /* NULL while the server is sealed (gh_ssop_set_keys) */
    long timeout_ms;
    int check_on_save;
    pthread_mutex_t fetch_mu; /* fetch_open, refreshed */
    int fetch_open;           /* gh_fetch_open succeeded: gh_ssop_free closes */
    struct {                  /* when a SAML provider's metadata was last fetched anew */
        char name[GH_SSO_NAME_MAX + 1];
        int64_t at;
    } refreshed[GH_SSOP_REFRESH_SLOTS];
    size_t nconfig;
    struct gh_sso_provider config[GH_SSO_CONFIG_MAX]; /* by name; fixed after gh_ssop_new */
};

/* The envelope's field of provider name's secret: bound to the name. */
static void secret_field(const char *name, char out[GH_FIELD_NAME_MAX + 1])
{
    (void)snprintf(out, GH_FIELD_NAME_MAX + 1, "sso.client_secret:%s", name);
}

/* Seals secret into p->client_secret. */
static gh_err seal(struct gh_ssop *r, struct gh_sso_provider *p, const char *secret)
{
    char field[GH_FIELD_NAME_MAX + 1];
    size_t len;
    struct gh_datakeys *dk = atomic_load(&r->dk);
    if (dk == NULL)
        return GH_ERR_BUSY; /* sealed: no key to seal with yet */
    secret_field(p->name, field);
    return gh_field_seal(dk, NULL, field, (const uint8_t *)secret, strlen(secret), p->client_secret,
                         sizeof(p->client_secret), &len);
}

/* Opens sealed, a provider's value sealed for field, into out as a string. */
static gh_err open_sealed(struct gh_ssop *r, const char *field, const char *sealed, char *out,
                          size_t size)
{
    size_t len, n = strlen(sealed);
    if (n == 0)
        return GH_ERR_NOT_FOUND;
    if (size < 1)
        return GH_ERR_TOO_LARGE;
    struct gh_datakeys *dk = atomic_load(&r->dk);
    if (dk == NULL)
        return GH_ERR_BUSY;
    gh_err err = gh_field_open(dk, NULL, field, sealed, n, (uint8_t *)out, size - 1, &len);
    if (err == GH_OK)
        out[len] = '\0';
    return err;
}

gh_err gh_ssop_secret(struct gh_ssop *r, const struct gh_sso_provider *p, char *out, size_t size)
{
    char field[GH_FIELD_NAME_MAX + 1];
    secret_field(p->name, field);
    return open_sealed(r, field, p->client_secret, out, size);
}

/* A fetch handle; libcurl is loaded by the first, not at start: it costs an idle server
 * megabytes. */
static gh_err fetch_new(struct gh_ssop *r, struct gh_fetch **f)
{
    gh_err err = GH_OK;
    pthread_mutex_lock(&r->fetch_mu);
    if (!r->fetch_open && (err = gh_fetch_open()) == GH_OK)
        r->fetch_open = 1;
    pthread_mutex_unlock(&r->fetch_mu);
    return err == GH_OK ? gh_fetch_new(f) : err;
}

/* p's IdP metadata fetched from its idp_metadata_url (lasso open). */
static gh_err saml_fetch(struct gh_ssop *r, struct gh_sso_provider *p)
{
    struct gh_fetch *f = NULL;
    gh_err err = fetch_new(r, &f);
    if (err == GH_OK)
        err = gh_saml_meta_fetch(f, r->timeout_ms, gh_time_now(), p);
    gh_fetch_free(f);
    return err == GH_ERR_IO ? GH_ERR_INVALID : err;
}

/* The envelope's field of provider name's SAML key: bound to the name. */
static void key_field(const char *name, char out[GH_FIELD_NAME_MAX + 1])
{
    (void)snprintf(out, GH_FIELD_NAME_MAX + 1, "sso.sp_private_key:%s", name);
}

/*
 * A SAML provider's parts judged whole: the IdP's metadata as lasso reads it (lasso is
 * loaded here, by the first SAML provider), our certificate with its key, the key sealed
 * bound to the name. A new provider gives the key; a PATCH that changes the certificate
 * gives it again. Other types take no key.
 */
static gh_err saml_parts(struct gh_ssop *r, const struct gh_sso_spec *s,
                         const struct gh_sso_provider *base, struct gh_sso_provider *p,
                         const char **field)
{
    char entity[GH_SAML_TEXT_MAX + 1], kf[GH_FIELD_NAME_MAX + 1];
    size_t len;
    *field = "sp_private_key";
    if (strcmp(p->type, "saml") != 0)
        return s->sp_private_key != NULL ? GH_ERR_INVALID : GH_OK;
    if (s->sp_private_key == NULL &&
        (base == NULL || strcmp(base->sp_certificate, p->sp_certificate) != 0))
        return GH_ERR_INVALID;
    gh_err err = gh_saml_lasso_open();
    if (err != GH_OK)
        return err;
    *field = "idp_metadata_url";
    if (s->idp_metadata_url != NULL && (err = saml_fetch(r, p)) != GH_OK)
        return err;
    *field = "idp_metadata_xml";
    if (gh_saml_lasso_idp_entity(p->idp_metadata, entity, sizeof(entity)) != GH_OK)
        return GH_ERR_INVALID;
    if (s->sp_private_key == NULL)
        return GH_OK;
    *field = "sp_private_key";
    if (strlen(s->sp_private_key) > GH_SAML_KEY_MAX ||
        gh_x509_pair_check(p->sp_certificate, s->sp_private_key) != GH_OK)
        return GH_ERR_INVALID;
    struct gh_datakeys *dk = atomic_load(&r->dk);
    if (dk == NULL)
        return GH_ERR_BUSY;
    key_field(p->name, kf);
    return gh_field_seal(dk, NULL, kf, (const uint8_t *)s->sp_private_key,
                         strlen(s->sp_private_key), p->sp_private_key, sizeof(p->sp_private_key),
                         &len);
}

gh_err gh_ssop_saml_key(struct gh_ssop *r, const struct gh_sso_provider *p, char *out, size_t size)
{
    char field[GH_FIELD_NAME_MAX + 1];
    key_field(p->name, field);
    return open_sealed(r, field, p->sp_private_key, out, size);
}

static const struct gh_sso_provider *config_find(const struct gh_ssop *r, const char *name)
{
    for (size_t i = 0; i < r->nconfig; i++)
        if (strcmp(r->config[i].name, name) == 0)
            return &r->config[i];
    return NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct gh_sso_provider *)a)->name,
                  ((const struct gh_sso_provider *)b)->name);
}

/* One line of sso.providers into the next config slot; what is wrong into why. */
static gh_err config_line(struct gh_ssop *r, const char *line, size_t n, int64_t now, char *why,
                          size_t why_size)
{
    const char *f = "";
    json_error_t jerr;
    struct gh_sso_spec spec;
    char secret[GH_SSO_SECRET_MAX + 1];
    int has_secret = 0;
    struct gh_sso_provider *p = &r->config[r->nconfig];
    if (r->nconfig == GH_SSO_CONFIG_MAX)
        return GH_ERR_TOO_LARGE;
    json_t *obj = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
    gh_err err = obj == NULL ? GH_ERR_INVALID : gh_sso_spec_read(obj, &spec, &f);
    /* a fetched document is kept and refreshed in the database: none for these */
    if (err == GH_OK && spec.idp_metadata_url != NULL) {
        f = "idp_metadata_url";
        err = GH_ERR_INVALID;
    }
    if (err == GH_OK)
        err = gh_ssop_build(&spec, NULL, now, p, secret, &has_secret, &f);
    if (err == GH_OK)
        err = saml_parts(r, &spec, NULL, p, &f);
    if (err == GH_OK && config_find(r, p->name) != NULL) {
        f = "name";
        err = GH_ERR_CONFLICT;
    }
    if (err == GH_OK && has_secret)
        err = seal(r, p, secret);
    if (err == GH_OK)
        r->nconfig++;
    else
        sodium_memzero(p, sizeof(*p));
    /* The key names point into obj: the message is made before it goes. */
    (void)snprintf(why, why_size, "%s%s%s",
                   err == GH_ERR_TOO_LARGE ? "more providers than allowed" : f,
                   f[0] != '\0' ? ": " : "",
                   err == GH_ERR_CONFLICT  ? "a second provider of that name"
                   : f[0] != '\0'          ? "unacceptable, missing or ill-typed value"
                   : err == GH_ERR_INVALID ? "expected one JSON object"
                                           : gh_err_name(err));
    sodium_memzero(secret, sizeof(secret));
    json_decref(obj);
    return err;
}

void gh_ssop_set_keys(struct gh_ssop *r, struct gh_datakeys *dk)
{
    atomic_store(&r->dk, dk);
}

gh_err gh_ssop_new(const struct gh_store_handle *store, struct gh_datakeys *dk,
                   const struct gh_ssop_opts *opts, int64_t now, char *err, size_t err_size,
                   struct gh_ssop **out)
{
    const char *config_lines = opts->config_lines != NULL ? opts->config_lines : "";
    struct gh_ssop *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return GH_ERR_NOMEM;
    pthread_mutex_init(&r->fetch_mu, NULL);
    r->store = store;
    r->dk = dk;
    r->timeout_ms = opts->timeout_ms;
    r->check_on_save = opts->check_on_save;
    gh_err e = GH_OK;
    size_t lineno = 0;
    for (const char *at = config_lines; e == GH_OK && *at != '\0';) {
        size_t n = strcspn(at, "\n");
        char why[200];
        lineno++;
        if (strspn(at, " \t\r") < n && (e = config_line(r, at, n, now, why, sizeof(why))) != GH_OK)
            (void)snprintf(err, err_size, "line %zu: %s", lineno, why);
        at += n + (at[n] == '\n');
    }
    for (size_t i = 0; i < r->nconfig && e == GH_OK; i++) {
        struct gh_sso_provider stored;
        gh_err found = gh_store_sso_provider_get(store, r->config[i].name, &stored);
        if (found == GH_OK) {
            (void)snprintf(err, err_size,
                           "provider \"%s\" is also kept in the database (delete it through the "
                           "API first)",
                           r->config[i].name);
            e = GH_ERR_INVALID;
        } else if (found != GH_ERR_NOT_FOUND) {
            (void)snprintf(err, err_size, "cannot read the stored providers: %s",
                           gh_err_name(found));
            e = found;
        }
    }
    if (e != GH_OK) {
        gh_ssop_free(r);
        return e == GH_ERR_TOO_LARGE || e == GH_ERR_CONFLICT ? GH_ERR_INVALID : e;
    }
    qsort(r->config, r->nconfig, sizeof(r->config[0]), by_name);
    *out = r;
    return GH_OK;
}

void gh_ssop_free(struct gh_ssop *r)
{
    if (r == NULL)
        return;
    if (r->fetch_open)
        gh_fetch_close();
    pthread_mutex_destroy(&r->fetch_mu);
    sodium_memzero(r->config, sizeof(r->config));
    free(r);
}

gh_err gh_ssop_find(struct gh_ssop *r, const char *name, struct gh_sso_provider *out)
{
    const struct gh_sso_provider *c = config_find(r, name);
    if (c != NULL) {
        *out = *c;
        return GH_OK;
    }
    return gh_store_sso_provider_get(r->store, name, out);
}

/* ---- the admin API ---- */

static void audit(struct gh_ssop *r, const char *action, const struct gh_identity *who,
                  const struct gh_reqmeta *meta, const struct gh_sso_provider *p, int status)
{
    json_t *md = json_pack("{s:s, s:s}", "provider", p->name, "type", p->type);
    char *text = md != NULL ? json_dumps(md, JSON_COMPACT) : NULL;
    struct gh_audit_subject s = {who->user_id, who->username, who->org_id};
    (void)gh_audit_record(r->store, action, meta, &s, status, text);
    gh_secure_json_free(text);
    json_decref(md);
}

struct paging {
    gh_ssop_visit_fn fn;
    void *arg;
};

static int visit_stored(void *arg, const struct gh_sso_provider *p)
{
    struct paging *pg = arg;
    return pg->fn(pg->arg, p, 0);
}

gh_err gh_ssop_list(struct gh_ssop *r, const struct gh_identity *who, size_t limit, size_t offset,
                    gh_ssop_visit_fn fn, void *arg)
{
    if (!who->superadmin)
        return GH_ERR_FORBIDDEN;
    for (; offset < r->nconfig && limit > 0; offset++, limit--)
        if (fn(arg, &r->config[offset], 1) != 0)
            return GH_OK;
    if (limit == 0)
        return GH_OK;
    struct paging pg = {fn, arg};
    return gh_store_sso_provider_list(r->store, limit, offset - r->nconfig, visit_stored, &pg);
}

struct enabled_only {
    gh_ssop_visit_fn fn;
    void *arg;
};

static int visit_enabled(void *arg, const struct gh_sso_provider *p, int from_config)
{
    const struct enabled_only *e = arg;
    return p->enabled ? e->fn(e->arg, p, from_config) : 0;
}

gh_err gh_ssop_enabled(struct gh_ssop *r, size_t limit, gh_ssop_visit_fn fn, void *arg)
{
    struct gh_identity operator;
    struct enabled_only e = {fn, arg};
    memset(&operator, 0, sizeof(operator));
    operator.superadmin = 1; /* the registry's own read */
    return gh_ssop_list(r, &operator, limit, 0, visit_enabled, &e);
}

gh_err gh_ssop_get(struct gh_ssop *r, const struct gh_identity *who, const char *name,
                   struct gh_sso_provider *out, int *from_config)
{
    if (!who->superadmin)
        return GH_ERR_FORBIDDEN;
    *from_config = config_find(r, name) != NULL;
    return gh_ssop_find(r, name, out);
}

/* With check_on_save, an OIDC provider's discovery document must answer and pass. */
static gh_err discovery_ok(struct gh_ssop *r, const struct gh_sso_provider *p,
                           struct gh_ssop_refusal *why)
{
    struct gh_fetch *f = NULL;
    struct gh_oidc_meta meta;
    if (!r->check_on_save || strcmp(p->type, "oidc") != 0)
        return GH_OK;
    gh_err err = fetch_new(r, &f);
    if (err == GH_OK)
        err = gh_oidc_meta_fetch(f, p, r->timeout_ms, &meta, &why->reason);
    gh_fetch_free(f);
    if (err == GH_ERR_IO || err == GH_ERR_INVALID) {
        why->field = "issuer";
        return GH_ERR_INVALID;
    }
    return err;
}

gh_err gh_ssop_create(struct gh_ssop *r, const struct gh_identity *who,
                      const struct gh_sso_spec *spec, const struct gh_reqmeta *meta,
                      struct gh_sso_provider *out, struct gh_ssop_refusal *why)
{
    struct gh_sso_provider p;
    char secret[GH_SSO_SECRET_MAX + 1];
    int has_secret = 0;
    if (!who->superadmin)
        return GH_ERR_FORBIDDEN;
    gh_err err = gh_ssop_build(spec, NULL, gh_time_now(), &p, secret, &has_secret, &why->field);
    if (err == GH_OK)
        err = saml_parts(r, spec, NULL, &p, &why->field);
    if (err == GH_OK && config_find(r, p.name) != NULL)
        err = GH_ERR_CONFLICT;
    if (err == GH_OK)
        err = discovery_ok(r, &p, why);
    if (err == GH_OK && has_secret)
        err = seal(r, &p, secret);
    sodium_memzero(secret, sizeof(secret));
    if (err == GH_OK)
        err = gh_store_sso_provider_create(r->store, &p);
    if (err == GH_OK) {
        audit(r, "SSO_PROVIDER_CREATE", who, meta, &p, 201);
        *out = p;
    }
    sodium_memzero(&p, sizeof(p));
    return err;
}

gh_err gh_ssop_update(struct gh_ssop *r, const struct gh_identity *who, const char *name,
                      const struct gh_sso_spec *spec, const struct gh_reqmeta *meta,
                      struct gh_sso_provider *out, struct gh_ssop_refusal *why)
{
    struct gh_sso_provider base, p;
    char secret[GH_SSO_SECRET_MAX + 1];
    int has_secret = 0;
    if (!who->superadmin)
        return GH_ERR_FORBIDDEN;
    if (config_find(r, name) != NULL)
        return GH_ERR_IMMUTABLE;
    gh_err err = gh_store_sso_provider_get(r->store, name, &base);
    if (err == GH_OK)
        err = gh_ssop_build(spec, &base, gh_time_now(), &p, secret, &has_secret, &why->field);
    if (err == GH_OK)
        err = saml_parts(r, spec, &base, &p, &why->field);
    if (err == GH_OK)
        err = discovery_ok(r, &p, why);
    if (err == GH_OK && has_secret)
        err = seal(r, &p, secret);
    sodium_memzero(secret, sizeof(secret));
    if (err == GH_OK)
        err = gh_store_sso_provider_update(r->store, &p);
    if (err == GH_OK) {
        gh_saml_lasso_forget(p.name); /* its server holds the old key and metadata */
        audit(r, "SSO_PROVIDER_UPDATE", who, meta, &p, 200);
        *out = p;
    }
    sodium_memzero(&p, sizeof(p));
    sodium_memzero(&base, sizeof(base));
    return err;
}

gh_err gh_ssop_delete(struct gh_ssop *r, const struct gh_identity *who, const char *name,
                      const struct gh_reqmeta *meta)
{
    struct gh_sso_provider p;
    if (!who->superadmin)
        return GH_ERR_FORBIDDEN;
    if (config_find(r, name) != NULL)
        return GH_ERR_IMMUTABLE;
    gh_err err = gh_store_sso_provider_get(r->store, name, &p);
    if (err == GH_OK)
        err = gh_store_sso_provider_delete(r->store, name);
    if (err == GH_OK) {
        gh_saml_lasso_forget(name);
        audit(r, "SSO_PROVIDER_DELETE", who, meta, &p, 204);
    }
    sodium_memzero(&p, sizeof(p));
    return err;
}

/* 1 when provider name's metadata may be fetched anew now (then it counts as tried). */
static int refresh_due(struct gh_ssop *r, const char *name, int64_t now)
{
    int due = 1;
    pthread_mutex_lock(&r->fetch_mu);
    size_t pick = 0;
    for (size_t i = 0; i < GH_SSOP_REFRESH_SLOTS; i++) {
        if (strcmp(r->refreshed[i].name, name) == 0) {
            pick = i;
            due = now - r->refreshed[i].at >= GH_SAML_META_RETRY;
            break;
        }
        if (r->refreshed[i].at < r->refreshed[pick].at)
            pick = i;
    }
    if (due) {
        (void)snprintf(r->refreshed[pick].name, sizeof(r->refreshed[pick].name), "%s", name);
        r->refreshed[pick].at = now;
    }
    pthread_mutex_unlock(&r->fetch_mu);
    return due;
}

gh_err gh_ssop_saml_refresh(struct gh_ssop *r, const struct gh_sso_provider *p,
                            struct gh_sso_provider *out)
{
    if (p->idp_metadata_url[0] == '\0' || config_find(r, p->name) != NULL)
        return GH_ERR_NOT_FOUND;
    if (!refresh_due(r, p->name, gh_time_now()))
        return GH_ERR_BUSY;
    struct gh_sso_provider *got = malloc(sizeof(*got));
    if (got == NULL)
        return GH_ERR_NOMEM;
    *got = *p;
    gh_err err = saml_fetch(r, got);
    /* the stored document is replaced only by one that passed (a failed fetch keeps it),
     * into the provider as stored now: an admin's change made meanwhile stays */
    if (err == GH_OK && (err = gh_store_sso_provider_get(r->store, p->name, out)) == GH_OK &&
        strcmp(out->idp_metadata_url, p->idp_metadata_url) != 0)
        err = GH_ERR_NOT_FOUND;
    int same = err == GH_OK && strcmp(got->idp_metadata, out->idp_metadata) == 0;
    if (err == GH_OK) { /* the same document too: its time, so the daily refresh waits */
        memcpy(out->idp_metadata, got->idp_metadata, sizeof(out->idp_metadata));
        out->idp_metadata_at = got->idp_metadata_at;
        err = gh_store_sso_provider_update(r->store, out);
    }
    if (err == GH_OK && !same)
        gh_saml_lasso_forget(out->name);
    else if (err == GH_OK)
        err = GH_ERR_AUTH; /* the same document: a failure was not a rotation */
    sodium_memzero(got, sizeof(*got));
    free(got);
    gh_log(err == GH_OK || same ? GH_LOG_INFO : GH_LOG_WARN,
           "saml: provider %s: metadata refresh: %s", p->name,
           err == GH_OK ? "replaced"
           : same       ? "unchanged"
                        : gh_err_name(err));
    return err;
}

struct stale {
    int64_t before; /* fetched before it: due */
    size_t seen, n;
    char names[GH_SSOP_REFRESH_SLOTS][GH_SSO_NAME_MAX + 1];
};

static int visit_stale(void *arg, const struct gh_sso_provider *p)
{
    struct stale *s = arg;
    s->seen++;
    if (strcmp(p->type, "saml") == 0 && p->idp_metadata_url[0] != '\0' &&
        p->idp_metadata_at < s->before && s->n < GH_SSOP_REFRESH_SLOTS)
        memcpy(s->names[s->n++], p->name, strlen(p->name) + 1);
    return 0;
}

void gh_ssop_saml_refresh_stale(struct gh_ssop *r)
{
    struct stale *s = calloc(1, sizeof(*s));
    struct gh_sso_provider *p = malloc(sizeof(*p)), *out = malloc(sizeof(*out));
    if (s != NULL && p != NULL && out != NULL) {
        s->before = gh_time_now() - GH_SAML_META_MAX_AGE;
        for (size_t offset = 0; s->n < GH_SSOP_REFRESH_SLOTS; offset += s->seen) {
            s->seen = 0;
            if (gh_store_sso_provider_list(r->store, 100, offset, visit_stale, s) != GH_OK ||
                s->seen < 100)
                break;
        }
        for (size_t i = 0; i < s->n; i++) {
            gh_err err = gh_store_sso_provider_get(r->store, s->names[i], p);
            if (err == GH_OK)
                err = gh_ssop_saml_refresh(r, p, out); /* which logs the outcome */
            (void)err;
        }
        sodium_memzero(p, sizeof(*p));
        sodium_memzero(out, sizeof(*out));
    }
    free(s);
    free(p);
    free(out);
}

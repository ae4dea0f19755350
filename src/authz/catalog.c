/*
 * The declared permissions: Gatehouse's own (GH_PERM_BUILTIN), the apps' from the
 * configuration (authz.permissions), and those declared through the API (stored, so
 * every node sees them: a miss reloads them, at most once a second).
 */
#include "authz/catalog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/perm.h"
#include "core/time.h"
#include "core/words.h"

#define CATALOG_MAX 65536 /* declared permissions, joined with ' ' */
#define API_PERMS_MAX 1024
#define RELOAD_EVERY 1 /* seconds between reloads of the declared permissions on a miss */

static const char builtin[] = GH_PERM_BUILTIN;

struct gh_catalog {
    const char *app_permissions; /* authz.permissions, borrowed */
    const struct gh_store_handle *store;
    pthread_rwlock_t lock;     /* guards catalog, api, napi, loaded_at */
    char catalog[CATALOG_MAX]; /* builtin + config + api */
    char api[CATALOG_MAX];     /* declared through the API */
    size_t napi;
    int64_t loaded_at;
};

struct appender {
    char *out;
    size_t size, used, n;
    int full;
};

static int append_name(void *arg, const char *name)
{
    struct appender *ap = arg;
    size_t len = strlen(name);
    if (ap->n >= API_PERMS_MAX || ap->used + len + 2 > ap->size) {
        ap->full = 1;
        return 1;
    }
    if (ap->used > 0)
        ap->out[ap->used++] = ' ';
    memcpy(ap->out + ap->used, name, len + 1);
    ap->used += len;
    ap->n++;
    return 0;
}

/* Rebuilds the catalog from the store's declared permissions; under the write lock. */
static gh_err reload(struct gh_catalog *r)
{
    struct appender ap = {r->api, sizeof(r->api), 0, 0, 0};
    r->api[0] = '\0';
    gh_err err = gh_store_perm_list(r->store, append_name, &ap);
    if (err != GH_OK)
        return err;
    r->napi = ap.n;
    r->loaded_at = gh_time_now();
    int n =
        snprintf(r->catalog, sizeof(r->catalog), "%s %s %s", builtin, r->app_permissions, r->api);
    return n >= 0 && (size_t)n < sizeof(r->catalog) ? GH_OK : GH_ERR_TOO_LARGE;
}

int gh_catalog_known(struct gh_catalog *r, const char *perm)
{
    pthread_rwlock_rdlock(&r->lock);
    int k = gh_perm_known(r->catalog, perm, strlen(perm));
    int stale = !k && gh_time_now() - r->loaded_at >= RELOAD_EVERY;
    pthread_rwlock_unlock(&r->lock);
    if (!stale)
        return k;
    pthread_rwlock_wrlock(&r->lock);
    if (reload(r) != GH_OK)
        gh_log(GH_LOG_WARN, "authz: the declared permissions could not be reloaded");
    k = gh_perm_known(r->catalog, perm, strlen(perm));
    pthread_rwlock_unlock(&r->lock);
    return k;
}

/* Calls fn for each word of list with source; stops when it returns non-zero. */
static int each_word(const char *list, const char *source,
                     int (*fn)(void *arg, const char *name, const char *source), void *arg)
{
    char word[GH_PERM_MAX];
    while (*list != '\0') {
        size_t n = strcspn(list, " ");
        if (n > 0 && n < sizeof(word)) {
            memcpy(word, list, n);
            word[n] = '\0';
            if (fn(arg, word, source))
                return 1;
        }
        list += n;
        while (*list == ' ')
            list++;
    }
    return 0;
}

/* How many ':' the n bytes at p hold. */
static int colons(const char *p, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == ':';
    return k;
}

/* A space-separated permission list. catalog NULL: each item must be one concrete
 * permission (a declaration); else wildcards and ":own" are allowed, and each item must
 * stand for a permission of catalog (a role's list). */
static gh_err perm_list_check(const char *text, const char *key, const char *catalog, char *err,
                              size_t err_size)
{
    int wild = catalog != NULL;
    for (const char *p = text; *p != '\0';) {
        size_t n = strcspn(p, " ");
        int ok = wild ? gh_perm_known(catalog, p, n)
                      : gh_perm_valid(p, n) && memchr(p, '*', n) == NULL && colons(p, n) == 1;
        if (n > 0 && !ok) {
            char got[GH_QUOTE_TEXT];
            gh_word_quote(got, sizeof(got), p, n);
            (void)snprintf(
                err, err_size,
                "%s: expected permissions resource:action%s separated by spaces, got "
                "\"%s\"",
                key, wild ? " declared in authz.permissions or by Gatehouse" : " without wildcards",
                got);
            return GH_ERR_INVALID;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return GH_OK;
}

gh_err gh_catalog_check_config(const char *app_permissions, const char *member_permissions,
                               char *err, size_t err_size)
{
    gh_err e = perm_list_check(app_permissions, "authz.permissions", NULL, err, err_size);
    if (e != GH_OK)
        return e;
    size_t size = sizeof(GH_PERM_BUILTIN) + strlen(app_permissions) + 1;
    char *catalog = malloc(size);
    if (catalog == NULL) {
        (void)snprintf(err, err_size, "out of memory");
        return GH_ERR_NOMEM;
    }
    (void)snprintf(catalog, size, "%s %s", GH_PERM_BUILTIN, app_permissions);
    e = perm_list_check(member_permissions, "authz.member_permissions", catalog, err, err_size);
    free(catalog);
    return e;
}

gh_err gh_catalog_list(struct gh_catalog *r,
                       int (*fn)(void *arg, const char *name, const char *source), void *arg)
{
    pthread_rwlock_wrlock(&r->lock);
    gh_err err = reload(r);
    if (err == GH_OK && !each_word(builtin, "builtin", fn, arg) &&
        !each_word(r->app_permissions, "config", fn, arg))
        (void)each_word(r->api, "api", fn, arg);
    pthread_rwlock_unlock(&r->lock);
    return err;
}

gh_err gh_catalog_add(struct gh_catalog *r, const char *name)
{
    size_t len = strlen(name);
    if (!gh_perm_valid(name, len) || strchr(name, '*') != NULL || strstr(name, ":own") != NULL)
        return GH_ERR_INVALID;
    pthread_rwlock_wrlock(&r->lock);
    gh_err err = reload(r);
    if (err == GH_OK && r->napi >= API_PERMS_MAX)
        err = GH_ERR_TOO_LARGE;
    if (err == GH_OK) {
        /* A permission Gatehouse or the config already declares is declared. */
        if (gh_perm_known(r->catalog, name, len))
            err = GH_ERR_CONFLICT;
    }
    if (err == GH_OK && (err = gh_store_perm_add(r->store, name, gh_time_now())) == GH_OK)
        err = reload(r);
    pthread_rwlock_unlock(&r->lock);
    return err;
}

gh_err gh_catalog_new(const char *app_permissions, const struct gh_store_handle *store,
                      struct gh_catalog **out)
{
    struct gh_catalog *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return GH_ERR_NOMEM;
    c->app_permissions = app_permissions;
    c->store = store;
    pthread_rwlock_init(&c->lock, NULL);
    gh_err err = reload(c);
    if (err != GH_OK) {
        gh_catalog_free(c);
        return err;
    }
    *out = c;
    return GH_OK;
}

void gh_catalog_free(struct gh_catalog *c)
{
    if (c == NULL)
        return;
    pthread_rwlock_destroy(&c->lock);
    free(c);
}

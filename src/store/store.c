/*
 * The registry of store backends: storage.backend names one of them. Each passes
 * tests/unit/store/conformance.h unchanged.
 */
#include <string.h>

#include "store/store.h"

static const struct gh_store_ops *const backends[] = {
    &gh_store_sqlite_ops,
    &gh_store_postgres_ops,
};

const struct gh_store_ops *gh_store_backend(const char *name)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

gh_err gh_store_open(const char *backend, const char *dsn, unsigned busy_timeout_ms,
                     struct gh_store_handle *out)
{
    struct gh_store *st = NULL;
    const struct gh_store_ops *ops = gh_store_backend(backend);
    if (ops == NULL)
        return GH_ERR_INVALID;
    gh_err err = ops->open(dsn, busy_timeout_ms, &st);
    if (err != GH_OK)
        return err;
    out->ops = ops;
    out->st = st;
    return GH_OK;
}

void gh_store_close(struct gh_store_handle *h)
{
    if (h == NULL || h->st == NULL)
        return;
    h->ops->close(h->st);
    h->st = NULL;
}

gh_err gh_store_restore(const char *backend, const char *dsn, const char *path,
                        unsigned busy_timeout_ms)
{
    const struct gh_store_ops *ops = gh_store_backend(backend);
    if (ops == NULL || ops->restore == NULL)
        return GH_ERR_INVALID;
    return ops->restore(dsn, path, busy_timeout_ms);
}

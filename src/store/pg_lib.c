/* libpq opened at run time (pg_lib.h). */
#include "store/pg_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "core/log.h"

struct gh_pq gh_pq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static gh_err outcome = GH_ERR_IO;

#define LOAD(h, field) ((gh_pq.field = (__typeof__(gh_pq.field))dlsym(h, "PQ" #field)) != NULL)

static void load(void)
{
    void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        gh_log(GH_LOG_ERROR, "store: cannot load libpq.so.5 (Debian: libpq5): %s", dlerror());
        return;
    }
    if (!LOAD(h, connectdbParams) || !LOAD(h, status) || !LOAD(h, errorMessage) ||
        !LOAD(h, setNoticeProcessor) || !LOAD(h, reset) || !LOAD(h, finish) || !LOAD(h, exec) ||
        !LOAD(h, execParams) || !LOAD(h, prepare) || !LOAD(h, execPrepared) ||
        !LOAD(h, resultStatus) || !LOAD(h, resultErrorField) || !LOAD(h, ntuples) ||
        !LOAD(h, getvalue) || !LOAD(h, getlength) || !LOAD(h, getisnull) || !LOAD(h, ftype) ||
        !LOAD(h, cmdTuples) || !LOAD(h, cmdStatus) || !LOAD(h, clear)) {
        gh_log(GH_LOG_ERROR, "store: libpq.so.5 lacks a function");
        memset(&gh_pq, 0, sizeof(gh_pq));
        dlclose(h);
        return;
    }
    outcome = GH_OK; /* the library stays loaded for the life of the process */
}

gh_err gh_pq_load(void)
{
    (void)pthread_once(&once, load);
    return outcome;
}

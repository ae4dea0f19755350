#include "authn/admins.h"

#include <stdlib.h>
#include <string.h>

/* The org ids of one user, collected from org_list. */
struct org_ids {
    char (*id)[GH_UUID_LEN + 1];
    size_t n, cap;
    int nomem;
};

static int collect_org(void *arg, const struct gh_org *o)
{
    struct org_ids *ids = arg;
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 16;
        void *p = realloc(ids->id, cap * sizeof(*ids->id));
        if (p == NULL) {
            ids->nomem = 1;
            return 1;
        }
        ids->id = p;
        ids->cap = cap;
    }
    memcpy(ids->id[ids->n++], o->id, sizeof(o->id));
    return 0;
}

gh_err gh_admins_sole(const struct gh_store_handle *tx, const char *user_id, int *sole)
{
    struct org_ids ids = {NULL, 0, 0, 0};
    struct gh_membership m;
    const size_t page = 256;
    gh_err err;
    for (;;) {
        size_t before = ids.n;
        if ((err = gh_store_org_list(tx, user_id, page, before, collect_org, &ids)) != GH_OK)
            break;
        if (ids.nomem) {
            err = GH_ERR_NOMEM;
            break;
        }
        if (ids.n - before < page)
            break; /* the last page */
    }
    *sole = 0;
    for (size_t i = 0; i < ids.n && err == GH_OK && !*sole; i++) {
        int64_t admins = 0;
        if ((err = gh_store_member_get(tx, ids.id[i], user_id, &m)) != GH_OK ||
            strcmp(m.role_name, "admin") != 0)
            continue;
        if ((err = gh_store_member_count_admins(tx, ids.id[i], &admins)) == GH_OK)
            *sole = admins <= 1;
    }
    free(ids.id);
    return err;
}

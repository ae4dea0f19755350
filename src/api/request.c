#include "api/request.h"

#include <string.h>

#include "api/handlers.h"

struct gh_api_req *gh_api_req(struct gh_req *req)
{
    if (req->user == NULL) {
        struct gh_api_req *st = gh_req_alloc(req, sizeof(*st));
        if (st == NULL)
            return NULL;
        memset(st, 0, sizeof(*st));
        req->user = st;
        req->user_free = NULL; /* the arena frees it */
    }
    return req->user;
}

const struct gh_identity *gh_api_identity(const struct gh_req *req)
{
    const struct gh_api_req *st = req->user;
    return st != NULL ? st->who : NULL;
}

const struct gh_form *gh_api_form(const struct gh_req *req)
{
    const struct gh_api_req *st = req->user;
    return st != NULL ? st->form : NULL;
}

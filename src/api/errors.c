#include "api/errors.h"

#include "api/handlers.h"

#include "core/log.h"

#define UNAVAILABLE "storage is unavailable, retry shortly"
#define INTERNAL(e) [e] = {e, 500, "internal", "internal error", NULL}

/* What an error value answers where the handler names nothing else: one row per value. */
static const struct gh_api_answer defaults[] = {
    INTERNAL(GH_OK), /* never answered: a handler answers success itself */
    INTERNAL(GH_ERR_NOMEM),
    INTERNAL(GH_ERR_INVALID),
    INTERNAL(GH_ERR_TOO_LARGE),
    INTERNAL(GH_ERR_NOT_FOUND),
    INTERNAL(GH_ERR_CONFLICT),
    INTERNAL(GH_ERR_AUTH),
    INTERNAL(GH_ERR_EXPIRED),
    INTERNAL(GH_ERR_NOT_YET),
    INTERNAL(GH_ERR_REVOKED),
    INTERNAL(GH_ERR_REUSED),
    INTERNAL(GH_ERR_POLICY),
    [GH_ERR_BUSY] = {GH_ERR_BUSY, 503, "unavailable", UNAVAILABLE, NULL},
    [GH_ERR_IO] = {GH_ERR_IO, 503, "unavailable", UNAVAILABLE, NULL},
    INTERNAL(GH_ERR_CRYPTO),
    INTERNAL(GH_ERR_FILE_MODE),
    INTERNAL(GH_ERR_FORBIDDEN),
    INTERNAL(GH_ERR_ADDRESS),
    INTERNAL(GH_ERR_IMMUTABLE),
    INTERNAL(GH_ERR_INTERNAL),
};

_Static_assert(sizeof(defaults) / sizeof(defaults[0]) == GH_ERR_INTERNAL + 1,
               "a default answer for every gh_err");

const struct gh_api_answer *gh_api_answer_for(gh_err err, const struct gh_api_answer *rows)
{
    for (; rows != NULL && rows->err != GH_OK; rows++)
        if (rows->err == err)
            return rows;
    if ((unsigned)err >= sizeof(defaults) / sizeof(defaults[0]))
        err = GH_ERR_INTERNAL;
    return &defaults[err];
}

void gh_api_reply_err(struct gh_req *req, gh_err err, const struct gh_api_answer *rows)
{
    const struct gh_api_answer *a = gh_api_answer_for(err, rows);
    if (a->status == 500)
        gh_log(GH_LOG_ERROR, "request %s failed: %s", req->request_id, gh_err_name(err));
    gh_reply_error(req, a->status, a->code, a->message,
                   a->field != NULL ? json_pack("{s:s}", "field", a->field) : NULL);
    if (a->status == 503)
        gh_reply_header(req, "Retry-After", "1");
}

void gh_api_reply_failure(struct gh_req *req, gh_err err)
{
    gh_api_reply_err(req, err, NULL);
}

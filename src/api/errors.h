#ifndef GH_API_ERRORS_H
#define GH_API_ERRORS_H

#include "core/err.h"
#include "http/http.h"

/*
 * The one table from error value to answer. Every gh_err has a default answer (storage
 * and a full queue: 503 unavailable with Retry-After; everything else: 500 internal,
 * logged); a handler names the answers that differ for it (a 404 "no such role", a 409
 * "username or email is already registered") as a const array of rows ending with
 * GH_API_ANSWERS_END, and answers every failure with one call.
 */

/** How one error value is answered: the uniform JSON error, and details {"field"} when set. */
struct gh_api_answer {
    gh_err err;
    unsigned short status;
    const char *code;
    const char *message;
    const char *field; /* details.field, or NULL for no details */
};

#define GH_API_ANSWERS_END                                                                         \
    {                                                                                              \
        GH_OK, 0, NULL, NULL, NULL                                                                 \
    }

/** The answer for err (not GH_OK): its row in rows (may be NULL), else its default. */
const struct gh_api_answer *gh_api_answer_for(gh_err err, const struct gh_api_answer *rows) GH_WUR;

/**
 * Answers err (not GH_OK) by gh_api_answer_for: a 503 adds Retry-After: 1, a 500 is
 * logged with the request id and the error's name (never more).
 */
void gh_api_reply_err(struct gh_req *req, gh_err err, const struct gh_api_answer *rows)
    GH_NONNULL(1);

#endif

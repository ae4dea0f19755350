#ifndef GH_EDGE_FETCH_H
#define GH_EDGE_FETCH_H

#include <stddef.h>
#include "core/err.h"

/*
 * Outbound HTTP, the one client of the process (identity providers, alert webhooks):
 * libcurl, opened at run time (see fetch.c), http and https only, TLS verification on,
 * no redirects followed, a deadline on the whole call and a cap on the answer. Policy on
 * which URLs may be asked (https only but for loopback identity providers...) is the
 * caller's. A handle serves one thread at a time and keeps its connections between calls.
 */

/** Asked about once a second during a call: non-zero aborts it (a shutdown). */
typedef int (*gh_fetch_cancel)(void *arg);

struct gh_fetch_req {
    const char *url;
    const char *body; /* POST with this body (body_len bytes); NULL: GET */
    size_t body_len;
    const char *content_type; /* of the body */
    const char *bearer;       /* "Authorization: Bearer <bearer>" (NULL: none); a secret */
    const char *basic;        /* "Authorization: Basic <basic>", already encoded; a secret */
    long timeout_ms;          /* the whole call, connection included (> 0) */
    size_t max_bytes;         /* the longest answer body kept; longer is GH_ERR_TOO_LARGE */
    gh_fetch_cancel cancel;   /* NULL: none */
    void *cancel_arg;
};

/** An answer: body is NUL-terminated (len bytes before the NUL), or NULL when empty. */
struct gh_fetch_resp {
    long status;
    char *body;
    size_t len;
};

/**
 * Loads and starts libcurl once per process (counted: each open needs a close).
 * GH_ERR_IO, logged, when it cannot be loaded.
 */
gh_err gh_fetch_open(void) GH_WUR;
/** Undoes one gh_fetch_open; the last unloads libcurl (no handle may be left). */
void gh_fetch_close(void);

struct gh_fetch;
/** A handle for one thread at a time; after gh_fetch_open. GH_ERR_NOMEM. */
gh_err gh_fetch_new(struct gh_fetch **out) GH_WUR GH_NONNULL(1);
void gh_fetch_free(struct gh_fetch *f);

/**
 * Makes the request rq on f. GH_OK when an answer came, whatever its status (*out set;
 * the caller clears it); GH_ERR_IO no answer (refused, timed out, TLS failure, cancelled),
 * GH_ERR_TOO_LARGE an answer over rq->max_bytes, GH_ERR_NOMEM; why gets a fixed text
 * (libcurl's, never the URL or a header: they may hold secrets).
 */
gh_err gh_fetch_do(struct gh_fetch *f, const struct gh_fetch_req *rq, struct gh_fetch_resp *out,
                   char *why, size_t why_size) GH_WUR GH_NONNULL(1, 2, 3, 4);

/** Wipes and frees out's body. */
void gh_fetch_resp_clear(struct gh_fetch_resp *out) GH_NONNULL(1);

#endif

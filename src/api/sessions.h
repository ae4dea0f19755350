#ifndef GH_API_SESSIONS_H
#define GH_API_SESSIONS_H

#include <stddef.h>
#include "authn/views.h"
#include "http/http.h"

/*
 * The browser session at the API edge: the hooks the credential chain and the dispatcher
 * call (api/app.h struct gh_session_hooks; ctx is the struct gh_app), and the CSRF check.
 */

/** Proves a gh_sid cookie value (gh_session_check). */
gh_err gh_api_session_prove(void *ctx, const char *sid, size_t len, const struct gh_reqmeta *meta,
                            struct gh_identity *out) GH_WUR GH_NONNULL(1, 2, 5);

/**
 * The CSRF check (API.md "Browser CSRF") with token the X-CSRF-Token header (or a form's
 * csrf_token, NULL: none): the Origin (or Referer) is the public origin, and token is the
 * signed token of the request's gh_sid session. 0 passes; otherwise answers 403
 * csrf_failed, audits CSRF_FAILED with the reason and returns 1.
 */
int gh_api_csrf_check_token(struct gh_req *req, const char *token) GH_NONNULL(1);

/**
 * The reason (a constant word) why the request fails the CSRF check with token (a form's
 * csrf_token; anonymous: a form of no session, whose Origin alone is checked), audited
 * CSRF_FAILED; NULL when it passes. Nothing is answered.
 */
const char *gh_api_csrf_refusal(struct gh_req *req, const char *token, int anonymous) GH_NONNULL(1);

/** The session hook's CSRF check: gh_api_csrf_check_token with the X-CSRF-Token header. */
int gh_api_session_csrf(void *ctx, struct gh_req *req) GH_NONNULL(2);

#endif

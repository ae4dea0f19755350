#ifndef GH_API_PAGE_H
#define GH_API_PAGE_H

#include "authn/views.h"
#include "http/http.h"
#include "web/html.h"

/*
 * What the page handlers (api/page_*.c) share: the signed-in caller (the session cookie
 * only: pages are for browsers), its CSRF token for forms, form values, answering a page
 * or a redirect (303 See Other after a post).
 */

#define GH_PAGE_MAX (256 * 1024) /* bytes of one page */

/** A page's caller: who (NULL when nobody is signed in) and its forms' CSRF token. */
struct gh_page_caller {
    const struct gh_identity *who;
    char csrf[48];
    int admin; /* a superadmin, or holding user:admin or audit:read in its org */
};

/**
 * Proves the session cookie, if any, into *out. 0: signed in; 1: nobody (no cookie, or a
 * dead one); -1: answered (a repeated cookie is a 400, storage down a 503).
 */
int gh_api_page_caller(struct gh_req *req, struct gh_page_caller *out) GH_WUR GH_NONNULL(1, 2);

/** The one value of form field name, NULL when absent or repeated. */
const char *gh_api_page_value(const struct gh_req *req, const char *name) GH_NONNULL(1, 2);

/** Answers the page p (ended here) with status, as text/html. */
void gh_api_page_reply(struct gh_req *req, unsigned status, struct gh_page *p) GH_NONNULL(1, 3);

/** Answers 303 See Other to location (a path of Gatehouse or a URL checked by the caller). */
void gh_api_page_redirect(struct gh_req *req, const char *location) GH_NONNULL(1, 2);

/** A page with one message (an error or a notice) and a link onward, answered with status. */
void gh_api_page_message(struct gh_req *req, unsigned status, const char *title,
                         const char *message, const char *link, const char *link_text)
    GH_NONNULL(1, 3, 4, 5, 6);

/**
 * A post of a signed-in caller must carry its csrf_token and come from the public origin
 * (an anonymous one: the origin only). 0 passes; otherwise answers a 403 page (audited
 * CSRF_FAILED) and returns 1.
 */
int gh_api_page_csrf_refused(struct gh_req *req, int anonymous) GH_NONNULL(1);

struct gh_signin_result;

/** Where a completed sign-in goes: rd when the portal's return-to rules allow it (the
 * public origin or portal.allowed_redirect_hosts), else /account. */
const char *gh_api_return_to(const struct gh_req *req, const char *rd) GH_NONNULL(1);

/**
 * Answers a completed sign-in step r: the second factor's page when r asks for it (the
 * gh_mfa cookie), else the session cookies and on to gh_api_return_to(rd). Clears r.
 */
void gh_api_page_signed_in(struct gh_req *req, struct gh_signin_result *r, const char *rd)
    GH_NONNULL(1, 2);

#endif

#ifndef GH_API_COOKIES_H
#define GH_API_COOKIES_H

#include <stddef.h>
#include "authn/signin.h"
#include "http/http.h"

/*
 * The browser's cookies (API.md "Cookies"): reading one from the request's Cookie header,
 * and setting or clearing gh_sid (session: HttpOnly, SameSite=Lax, Path=/), gh_rid
 * (refresh: HttpOnly, SameSite=Strict, Path=/api/v1/auth) and gh_csrf (readable by
 * scripts, SameSite=Lax, Path=/), all Secure when the public URL is https and with
 * Domain=session.cookie_domain when it is set.
 */

/**
 * The value of cookie name (RFC 6265 5.4: one Cookie header of "name=value" pairs joined
 * by "; "): 0 with *val (pointing into the request) and *len when it is there once and not
 * empty; 1 when it is missing; -1 when it or the Cookie header is repeated (ambiguous).
 */
int gh_api_cookie(const struct gh_req *req, const char *name, const char **val, size_t *len)
    GH_NONNULL(1, 2, 3, 4);

/** Sets the three cookies of the session in r (r->session). */
void gh_api_set_session_cookies(struct gh_req *req, const struct gh_signin_result *r)
    GH_NONNULL(1, 2);

/** Sets gh_rid to refresh_token (a rotation). */
void gh_api_set_refresh_cookie(struct gh_req *req, const char *refresh_token) GH_NONNULL(1, 2);

/** Clears the three cookies (logout). */
void gh_api_clear_session_cookies(struct gh_req *req) GH_NONNULL(1);

#endif

#ifndef GH_EDGE_ORIGIN_H
#define GH_EDGE_ORIGIN_H

#include <stddef.h>
#include "core/err.h"

/*
 * Origins and return-to URLs of the browser half, pure string work: the origin of the
 * public URL, whether a request's Origin (or Referer) is it (the CSRF check's second
 * half), and whether an rd= URL may be followed (never an open redirect).
 */

#define GH_ORIGIN_MAX 300

/**
 * The origin (scheme "://" host [":" port], lower case, the default port dropped) of url
 * into out. GH_ERR_INVALID for anything but an http(s) URL with a host.
 */
gh_err gh_origin_of(const char *url, char out[GH_ORIGIN_MAX]) GH_WUR GH_NONNULL(1, 2);

/**
 * Whether a state-changing browser request comes from origin (gh_origin_of of the public
 * URL): its Origin header (NULL: not sent) equals it; or, without Origin, its Referer is
 * a URL of it. "null", another scheme, port or host, a suffix or subdomain of it, and a
 * request with neither header are refused.
 */
int gh_origin_same(const char *origin, const char *hdr_origin, const char *referer) GH_NONNULL(1);

/**
 * Whether rd may be followed after a sign-in: a path on the public URL ("/x", never "//"
 * or "/\"), or an absolute http(s) URL of the public origin or of a host in allowed
 * (hosts separated by spaces or commas: "app.example.com" or "*.example.com", which
 * covers subdomains only), without userinfo, backslashes, control characters or spaces.
 * Percent-escapes are checked decoded too (an encoded backslash or slash cannot hide).
 */
int gh_redirect_ok(const char *origin, const char *allowed, const char *rd) GH_NONNULL(1, 2, 3);

#endif

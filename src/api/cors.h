#ifndef GH_API_CORS_H
#define GH_API_CORS_H

#include "http/http.h"

/*
 * CORS for /api/ (cors.* keys): which other origins' pages may call the API from a
 * browser. Off while cors.allowed_origins is empty (no header at all). On: every /api/
 * answer carries Vary: Origin; an allowed Origin gets Access-Control-Allow-Origin with
 * that origin (or "*" when "*" is listed, never with credentials: the config refuses the
 * pair) and Access-Control-Allow-Credentials when cors.allow_credentials is on; a
 * preflight (OPTIONS with Access-Control-Request-Method) is answered 204 with the
 * allowed methods, headers and max age when the origin, the method and every requested
 * header are allowed, else 403 cors_refused without any Access-Control-* header.
 * Public documents (JWKS, discovery) keep their own "*".
 */

/** Adds the CORS headers of req's answer; 1 when it answered req (a preflight), else 0. */
int gh_api_cors(struct gh_req *req) GH_NONNULL(1);

/** 1 when the comma- or space-separated list holds word (any case), else 0. */
int gh_cors_listed(const char *list, const char *word, size_t n) GH_NONNULL(1, 2);

#endif

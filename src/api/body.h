#ifndef GH_API_BODY_H
#define GH_API_BODY_H

#include <stddef.h>
#include "core/err.h"
#include "http/http.h"

/*
 * Request bodies by route kind: a JSON object (req->json) or an HTML form
 * (gh_api_form). Each reader checks the Content-Type first: a body of another media type
 * is 415 unsupported_media_type, so a form never reaches a JSON route or the reverse.
 */

/**
 * Parses the body of a JSON route into req->json (strings up to max_string bytes,
 * nesting up to max_depth). Answers 415 for another media type, 400 invalid_json for an
 * empty, malformed or oversized body, and returns -1; 0 on success.
 */
int gh_api_read_json(struct gh_req *req, unsigned max_depth, size_t max_string) GH_WUR
    GH_NONNULL(1);

/**
 * Parses the body of a FORM route (api/form.h, values up to max_value bytes) into the
 * request arena (gh_api_form; an empty body is a form without fields). Form routes are
 * pages, so the refusals are pages with the message (api/page.h): 415 for another media
 * type, 400 for a malformed body or one past the limits; 500 when out of memory. Returns
 * -1 after answering, 0 on success.
 */
int gh_api_read_form(struct gh_req *req, size_t max_value) GH_WUR GH_NONNULL(1);

#endif

#ifndef GH_API_REQUEST_H
#define GH_API_REQUEST_H

#include "api/form.h"
#include "authn/views.h"
#include "http/http.h"

/*
 * What the API layer keeps on a request beside the server's fields: the proven caller,
 * where its credential came from, and a parsed form body. Lives in the request arena
 * (req->user), so it ends with the request.
 */

/** Where a credential was found: the credential chain (api/credential.h) in its order. */
enum gh_cred_source {
    GH_SRC_AUTHORIZATION, /* Authorization: Bearer <access JWT or ak_ key> */
    GH_SRC_API_KEY,       /* X-API-Key: ak_... */
    GH_SRC_SESSION,       /* the gh_sid cookie, proven by the session hook (api/app.h) */
    GH_SRC_WEBSOCKET,     /* Sec-WebSocket-Protocol: bearer.<token> (issue 17; absent today) */
    GH_SRC_MEDIA_QUERY,   /* ?token= of the original URI on a media route (/verify only) */
    GH_SRC_COUNT
};

struct gh_api_req {
    struct gh_identity *who;    /* the proven caller, or NULL */
    enum gh_cred_source source; /* with who: the credential that proved it */
    const struct gh_form *form; /* FORM routes: the parsed body */
};

/** The request's API state, made (zeroed) on first use; NULL when out of memory. */
struct gh_api_req *gh_api_req(struct gh_req *req) GH_NONNULL(1);

/** The parsed form body of a FORM route (api/form.h); NULL elsewhere. */
const struct gh_form *gh_api_form(const struct gh_req *req) GH_NONNULL(1);

#endif

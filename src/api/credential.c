#include "api/credential.h"

#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>

#include "api/app.h"
#include "api/cookies.h"
#include "api/handlers.h"
#include "authn/gateway.h"

#define SID_MAX 256 /* a gh_sid value longer than this is no session of ours */

/* Each finder: 0 with *out set, 1 when its source is absent, -1 after answering 400. */
typedef int (*find_fn)(struct gh_req *req, const char *media_uri, struct gh_credential *out);

static int reply_repeated(struct gh_req *req)
{
    gh_reply_error(req, 400, "invalid_request", "send one credential", NULL);
    return -1;
}

static int find_authorization(struct gh_req *req, const char *media_uri, struct gh_credential *out)
{
    (void)media_uri;
    const char *h;
    size_t len = 0;
    unsigned n = gh_req_header_find(req, "Authorization", &h, &len);
    if (n > 1)
        return reply_repeated(req);
    if (n == 0)
        return 1;
    out->source = GH_SRC_AUTHORIZATION;
    if (len < 7 || strncasecmp(h, "Bearer ", 7) != 0) {
        out->token = ""; /* another scheme: a credential, and not one we take */
        out->len = 0;
        return 0;
    }
    size_t skip = 7;
    while (h[skip] == ' ')
        skip++;
    out->token = h + skip;
    out->len = len - skip;
    return 0;
}

static int find_api_key(struct gh_req *req, const char *media_uri, struct gh_credential *out)
{
    (void)media_uri;
    const char *key;
    size_t len = 0;
    unsigned n = gh_req_header_find(req, "X-API-Key", &key, &len);
    if (n > 1)
        return reply_repeated(req);
    if (n == 0)
        return 1;
    out->source = GH_SRC_API_KEY;
    out->token = key;
    out->len = len;
    return 0;
}

/* The gh_sid cookie (api/cookies.h), consulted only when a session hook proves it. */
static int find_session(struct gh_req *req, const char *media_uri, struct gh_credential *out)
{
    (void)media_uri;
    const struct gh_app *app = req->app;
    const char *found = NULL;
    size_t found_len = 0;
    if (app->session.prove == NULL)
        return 1;
    int r = gh_api_cookie(req, "gh_sid", &found, &found_len);
    if (r < 0)
        return reply_repeated(req);
    if (r > 0 || found_len > SID_MAX)
        return 1;
    out->source = GH_SRC_SESSION;
    out->token = found;
    out->len = found_len;
    return 0;
}

/* JWT text: base64url segments and dots, nothing else (no space, no quote, no comma). */
static int jwt_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return n > 0 && n <= GH_JWT_MAX;
}

/*
 * The original request's Sec-WebSocket-Protocol entry "bearer.<token>" (a browser cannot
 * send Authorization with a WebSocket upgrade); the other entries are the application's.
 * Entries are comma-separated in one header line (browsers send one; several lines are
 * refused: an entry on another line could not be weighed); two bearer entries, or one
 * whose token is not bare JWT text (a space, a quote), are refused rather than guessed at.
 */
static int find_websocket(struct gh_req *req, const char *media_uri, struct gh_credential *out)
{
    (void)media_uri;
    const char *found = NULL, *h;
    size_t found_len = 0, len = 0;
    unsigned lines = gh_req_header_find(req, "Sec-WebSocket-Protocol", &h, &len);
    if (lines > 1)
        return reply_repeated(req);
    if (lines == 1) {
        const char *end = h + len;
        for (const char *p = h; p < end;) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma != NULL ? comma : end;
            while (p < stop && (*p == ' ' || *p == '\t'))
                p++;
            const char *e = stop;
            while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if ((size_t)(e - p) >= 7 && strncasecmp(p, "bearer.", 7) == 0) {
                if (found != NULL)
                    return reply_repeated(req);
                found = p + 7;
                found_len = (size_t)(e - p) - 7;
                if (!jwt_text(found, found_len)) {
                    gh_reply_error(req, 400, "invalid_request",
                                   "a bearer.<token> subprotocol entry holds a malformed token",
                                   NULL);
                    return -1;
                }
            }
            p = stop + (comma != NULL);
        }
    }
    if (found == NULL)
        return 1;
    out->source = GH_SRC_WEBSOCKET;
    out->token = found;
    out->len = found_len;
    return 0;
}

/*
 * The one "token" parameter of media_uri's query: absent when there is none, or more than
 * one (no guessing which counts), or it is not bare base64url JWT text.
 */
static int find_media_query(struct gh_req *req, const char *media_uri, struct gh_credential *out)
{
    (void)req;
    const char *q = media_uri != NULL ? strchr(media_uri, '?') : NULL;
    const char *found = NULL;
    size_t n = 0;
    if (q == NULL)
        return 1;
    const char *end = q + 1 + strcspn(q + 1, "#");
    for (const char *p = q + 1; p < end;) {
        size_t plen = strcspn(p, "&#");
        if (plen > (size_t)(end - p))
            plen = (size_t)(end - p);
        if (plen >= 6 && memcmp(p, "token=", 6) == 0) {
            if (found != NULL)
                return 1;
            found = p + 6;
            n = plen - 6;
        }
        p += plen + 1;
    }
    if (found == NULL || !jwt_text(found, n))
        return 1;
    out->source = GH_SRC_MEDIA_QUERY;
    out->token = found;
    out->len = n;
    return 0;
}

/* The chain, in precedence order (credential.h). */
static const struct extractor {
    enum gh_cred_source source;
    int header; /* an explicit credential header: read even after another was found */
    find_fn find;
} chain[] = {
    {GH_SRC_AUTHORIZATION, 1, find_authorization},
    {GH_SRC_API_KEY, 1, find_api_key},
    {GH_SRC_SESSION, 0, find_session},
    {GH_SRC_WEBSOCKET, 0, find_websocket},
    {GH_SRC_MEDIA_QUERY, 0, find_media_query},
};

_Static_assert(sizeof(chain) / sizeof(chain[0]) == GH_SRC_COUNT, "one extractor per source");

int gh_credential_find(struct gh_req *req, unsigned sources, const char *media_uri,
                       struct gh_credential *out)
{
    struct gh_credential found = {GH_SRC_COUNT, NULL, 0};
    if (media_uri != NULL)
        sources |= GH_SRC_BIT(GH_SRC_MEDIA_QUERY);
    for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]); i++) {
        const struct extractor *e = &chain[i];
        if (!(sources & GH_SRC_BIT(e->source)))
            continue;
        if (found.token != NULL && !e->header)
            break;
        struct gh_credential c;
        int r = e->find(req, media_uri, &c);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (found.token == NULL) {
            found = c;
        } else if (found.len > 0 && c.len > 0 &&
                   (found.len != c.len || CRYPTO_memcmp(found.token, c.token, c.len) != 0)) {
            gh_reply_error(req, 400, "invalid_request", "Authorization and X-API-Key disagree",
                           NULL);
            return -1;
        }
    }
    if (found.token == NULL)
        return 1;
    *out = found;
    return 0;
}

static int is_api_key(const struct gh_credential *cred)
{
    return cred->len > 3 && memcmp(cred->token, "ak_", 3) == 0;
}

gh_err gh_credential_prove(struct gh_req *req, const struct gh_credential *cred)
{
    return gh_credential_prove_for(req, cred, NULL);
}

gh_err gh_credential_prove_for(struct gh_req *req, const struct gh_credential *cred,
                               const char *audience)
{
    struct gh_app *app = req->app;
    struct gh_api_req *st = gh_api_req(req);
    struct gh_identity *id = st != NULL ? gh_req_alloc_plain(req, sizeof(*id)) : NULL;
    if (id == NULL)
        return GH_ERR_NOMEM;
    gh_identity_init(id); /* plain memory keeps what an earlier request left */
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    gh_err err;
    if (cred->source == GH_SRC_SESSION) {
        err = app->session.prove(app->session.ctx, cred->token, cred->len, &meta, id);
    } else if (cred->source == GH_SRC_MEDIA_QUERY && is_api_key(cred)) {
        err = GH_ERR_AUTH; /* a media link carries an access token; keys never travel in URLs */
    } else {
        err = gh_auth_verify_bearer(app->auth, cred->token, cred->len, &meta, id);
        if (err == GH_ERR_AUTH && audience != NULL && !is_api_key(cred))
            err = gh_gateway_verify(app->auth, cred->token, cred->len, audience, id);
        if (app->metrics != NULL && is_api_key(cred))
            gh_metrics_count(app->metrics, err == GH_OK ? GH_API_KEY_SUCCESS : GH_API_KEY_FAILURE);
    }
    if (err != GH_OK)
        return err;
    st->who = id;
    st->source = cred->source;
    memcpy(req->user_id_for_log, id->user_id, sizeof(id->user_id));
    return GH_OK;
}

void gh_credential_reply_unproven(struct gh_req *req, gh_err err, int had_credential,
                                  int invalid_token_always)
{
    if (err == GH_ERR_IO || err == GH_ERR_BUSY || err == GH_ERR_NOMEM) {
        gh_api_reply_failure(req, err);
        return;
    }
    const char *code = "unauthenticated", *message = "authentication required";
    if (had_credential) {
        code = err == GH_ERR_EXPIRED ? "token_expired" : "invalid_token";
        message = err == GH_ERR_EXPIRED ? "the token has expired" : "the token is not valid";
    }
    gh_reply_error(req, 401, code, message, NULL);
    /* RFC 9110: every 401 names the scheme; proxies relay it to the client. */
    gh_reply_header(req, "WWW-Authenticate",
                    had_credential || invalid_token_always ? "Bearer error=\"invalid_token\""
                                                           : "Bearer");
}

int gh_credential_authenticate(struct gh_req *req)
{
    struct gh_credential cred;
    int r = gh_credential_find(req, GH_SOURCES_API, NULL, &cred);
    if (r < 0)
        return -1;
    gh_err err = r == 0 ? gh_credential_prove(req, &cred) : GH_ERR_AUTH;
    if (err == GH_OK)
        return 0;
    gh_credential_reply_unproven(req, err, r == 0, 0);
    return -1;
}

const char *gh_credential_method(const struct gh_req *req)
{
    const struct gh_api_req *st = req->user;
    if (st == NULL || st->who == NULL)
        return NULL;
    return st->source == GH_SRC_SESSION ? "session" : gh_cred_name(st->who->cred);
}

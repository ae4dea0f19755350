/*
 * Unit tests for api/credential.c, the credential chain: which source proves the caller
 * when several are sent (the precedence of credential.h), the refusals of repeated or
 * disagreeing credentials, the session-cookie slot with a fake session hook, the
 * WebSocket slot (absent until issue 17), the media ?token=, and the CSRF hook of the
 * dispatcher (gh_api_csrf_refused) with a fake check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "api/app.h"
#include "api/credential.h"
#include "api/handlers.h"
#include "fake_req.h"

static struct gh_app app;
static int csrf_calls, csrf_answer;

/* The fake session store: "good" is a session of user u1, anything else is unknown. */
static gh_err fake_prove(void *ctx, const char *sid, size_t len, const struct gh_reqmeta *meta,
                         struct gh_identity *out)
{
    (void)ctx;
    (void)meta;
    if (len != 4 || memcmp(sid, "good", 4) != 0)
        return GH_ERR_AUTH;
    memset(out, 0, sizeof(*out));
    memcpy(out->user_id, "u1", 3);
    out->cred = GH_CRED_JWT;
    return GH_OK;
}

static int fake_csrf(void *ctx, struct gh_req *req)
{
    (void)ctx;
    csrf_calls++;
    if (csrf_answer != 0)
        gh_reply_error(req, 403, "csrf_failed", "the CSRF check failed", NULL);
    return csrf_answer;
}

static int with_sessions(void **state)
{
    (void)state;
    app.session.prove = fake_prove;
    app.session.csrf_check = fake_csrf;
    csrf_calls = 0;
    csrf_answer = 0;
    return 0;
}

static int without_sessions(void **state)
{
    (void)state;
    memset(&app.session, 0, sizeof(app.session));
    return 0;
}

/* Runs the chain over sources on a request with the headers name/value (NULL-ended). */
static int find(unsigned sources, const char *media, const char *const *headers,
                struct gh_credential *out, char code[64])
{
    struct fake *f = fake_new(&app);
    for (size_t i = 0; headers[i] != NULL; i += 2)
        fake_header(f, headers[i], headers[i + 1]);
    memset(out, 0, sizeof(*out));
    int r = gh_credential_find(f->req, sources, media, out);
    snprintf(code, 64, "%s", fake_code(f));
    if (r == 0 && out->len > 0) { /* the token points into the request: keep a copy */
        static char copy[256];
        assert_true(out->len < sizeof(copy));
        memcpy(copy, out->token, out->len);
        copy[out->len] = '\0';
        out->token = copy;
    }
    fake_free(f);
    return r;
}

static void expect_found(unsigned sources, const char *media, const char *const *headers,
                         enum gh_cred_source source, const char *token)
{
    struct gh_credential c;
    char code[64];
    assert_int_equal(find(sources, media, headers, &c, code), 0);
    assert_int_equal(c.source, source);
    assert_int_equal(c.len, strlen(token));
    assert_memory_equal(c.token, token, c.len);
    assert_string_equal(code, "");
}

static void expect_refused(unsigned sources, const char *const *headers)
{
    struct gh_credential c;
    char code[64];
    assert_int_equal(find(sources, NULL, headers, &c, code), -1);
    assert_string_equal(code, "invalid_request");
}

static void expect_none(unsigned sources, const char *media, const char *const *headers)
{
    struct gh_credential c;
    char code[64];
    assert_int_equal(find(sources, media, headers, &c, code), 1);
    assert_string_equal(code, "");
}

static void headers_in_order(void **state)
{
    (void)state;
    expect_none(GH_SOURCES_API, NULL, (const char *[]){NULL});
    expect_found(GH_SOURCES_API, NULL, (const char *[]){"Authorization", "Bearer t1", NULL},
                 GH_SRC_AUTHORIZATION, "t1");
    expect_found(GH_SOURCES_API, NULL, (const char *[]){"authorization", "bEaReR   t1", NULL},
                 GH_SRC_AUTHORIZATION, "t1");
    expect_found(GH_SOURCES_API, NULL, (const char *[]){"X-API-Key", "ak_1", NULL}, GH_SRC_API_KEY,
                 "ak_1");
    /* the same token in both headers: Authorization comes first */
    expect_found(GH_SOURCES_API, NULL,
                 (const char *[]){"X-API-Key", "ak_1", "Authorization", "Bearer ak_1", NULL},
                 GH_SRC_AUTHORIZATION, "ak_1");
    /* another scheme is a credential we do not take (a 401), whatever else is sent */
    expect_found(GH_SOURCES_API, NULL, (const char *[]){"Authorization", "Basic dTpw", NULL},
                 GH_SRC_AUTHORIZATION, "");
    expect_found(GH_SOURCES_API, NULL,
                 (const char *[]){"Authorization", "Basic dTpw", "X-API-Key", "ak_1", NULL},
                 GH_SRC_AUTHORIZATION, "");
}

static void conflicts_refused(void **state)
{
    (void)state;
    expect_refused(GH_SOURCES_API,
                   (const char *[]){"Authorization", "Bearer t1", "X-API-Key", "ak_2", NULL});
    expect_refused(GH_SOURCES_API, (const char *[]){"Authorization", "Bearer t1", "Authorization",
                                                    "Bearer t1", NULL});
    expect_refused(GH_SOURCES_API,
                   (const char *[]){"X-API-Key", "ak_1", "X-API-Key", "ak_1", NULL});
    /* a same-length disagreement is caught too (compared in full, in constant time) */
    expect_refused(GH_SOURCES_API,
                   (const char *[]){"Authorization", "Bearer ak_1", "X-API-Key", "ak_2", NULL});
}

static void session_slot_empty_without_hook(void **state)
{
    (void)state;
    expect_none(GH_SOURCES_API, NULL, (const char *[]){"Cookie", "gh_sid=good", NULL});
    /* nor are repeated Cookie headers looked at */
    expect_none(GH_SOURCES_API, NULL,
                (const char *[]){"Cookie", "gh_sid=a", "Cookie", "gh_sid=b", NULL});
}

static void session_cookie(void **state)
{
    (void)state;
    expect_found(GH_SOURCES_API, NULL, (const char *[]){"Cookie", "a=1; gh_sid=good; b=2", NULL},
                 GH_SRC_SESSION, "good");
    expect_found(GH_SOURCES_API, NULL, (const char *[]){"Cookie", "gh_sid=good", NULL},
                 GH_SRC_SESSION, "good");
    expect_none(GH_SOURCES_API, NULL, (const char *[]){"Cookie", "x_gh_sid=good; gh_sidx=1", NULL});
    expect_none(GH_SOURCES_API, NULL, (const char *[]){"Cookie", "gh_sid=", NULL});
    /* a header credential wins over the cookie, which is then not even read */
    expect_found(GH_SOURCES_API, NULL,
                 (const char *[]){"Cookie", "gh_sid=good", "Authorization", "Bearer t1", NULL},
                 GH_SRC_AUTHORIZATION, "t1");
    expect_found(GH_SOURCES_API, NULL,
                 (const char *[]){"Cookie", "gh_sid=a; gh_sid=b", "X-API-Key", "ak_1", NULL},
                 GH_SRC_API_KEY, "ak_1");
    expect_refused(GH_SOURCES_API, (const char *[]){"Cookie", "gh_sid=a; gh_sid=b", NULL});
    expect_refused(GH_SOURCES_API,
                   (const char *[]){"Cookie", "gh_sid=a", "Cookie", "other=1", NULL});
    /* a route that takes no sessions */
    expect_none(GH_SRC_BIT(GH_SRC_AUTHORIZATION), NULL,
                (const char *[]){"Cookie", "gh_sid=good", NULL});
}

static void websocket_slot_and_media(void **state)
{
    (void)state;
    expect_found(GH_SOURCES_VERIFY, NULL,
                 (const char *[]){"Sec-WebSocket-Protocol", "chat, bearer.t1 ,v2", NULL},
                 GH_SRC_WEBSOCKET, "t1");
    /* only where /verify looks, and never over a header credential */
    expect_none(GH_SOURCES_API, NULL,
                (const char *[]){"Sec-WebSocket-Protocol", "bearer.t1", NULL});
    expect_found(
        GH_SOURCES_VERIFY, NULL,
        (const char *[]){"Sec-WebSocket-Protocol", "bearer.t1", "Authorization", "Bearer h", NULL},
        GH_SRC_AUTHORIZATION, "h");
    expect_none(GH_SOURCES_VERIFY, NULL, (const char *[]){"Sec-WebSocket-Protocol", "chat", NULL});
    /* two bearer entries, two header lines, a token with a space or a quote */
    expect_refused(GH_SOURCES_VERIFY,
                   (const char *[]){"Sec-WebSocket-Protocol", "bearer.a, Bearer.b", NULL});
    expect_refused(GH_SOURCES_VERIFY, (const char *[]){"Sec-WebSocket-Protocol", "bearer.a",
                                                       "Sec-WebSocket-Protocol", "chat", NULL});
    expect_refused(GH_SOURCES_VERIFY,
                   (const char *[]){"Sec-WebSocket-Protocol", "bearer.a b", NULL});
    expect_refused(GH_SOURCES_VERIFY,
                   (const char *[]){"Sec-WebSocket-Protocol", "bearer.\"a\"", NULL});
    expect_found(GH_SOURCES_VERIFY, "/m/x?a=1&token=t.1-_", (const char *[]){NULL},
                 GH_SRC_MEDIA_QUERY, "t.1-_");
    expect_found(GH_SOURCES_VERIFY, "/m/x?token=q",
                 (const char *[]){"Authorization", "Bearer h", NULL}, GH_SRC_AUTHORIZATION, "h");
    expect_none(GH_SOURCES_VERIFY, "/m/x?token=a&token=b", (const char *[]){NULL});
    expect_none(GH_SOURCES_VERIFY, "/m/x?token=a%2Eb", (const char *[]){NULL});
    expect_none(GH_SOURCES_VERIFY, "/m/x?token=", (const char *[]){NULL});
    expect_none(GH_SOURCES_VERIFY, "/m/x#token=a", (const char *[]){NULL});
    expect_none(GH_SOURCES_VERIFY, NULL, (const char *[]){NULL});
}

static void session_proves_and_names_method(void **state)
{
    (void)state;
    struct fake *f = fake_new(&app);
    fake_header(f, "Cookie", "gh_sid=good");
    struct gh_credential c;
    assert_int_equal(gh_credential_find(f->req, GH_SOURCES_API, NULL, &c), 0);
    assert_null(gh_api_identity(f->req));
    assert_null(gh_credential_method(f->req));
    assert_int_equal(gh_credential_prove(f->req, &c), GH_OK);
    assert_string_equal(gh_api_identity(f->req)->user_id, "u1");
    assert_string_equal(gh_credential_method(f->req), "session");
    assert_string_equal(f->req->user_id_for_log, "u1");
    fake_free(f);

    f = fake_new(&app);
    fake_header(f, "Cookie", "gh_sid=stale");
    assert_int_equal(gh_credential_authenticate(f->req), -1);
    assert_int_equal(f->req->status, 401);
    assert_string_equal(fake_code(f), "invalid_token");
    assert_null(gh_api_identity(f->req));
    fake_free(f);
}

static void csrf_hook(void **state)
{
    (void)state;
    /* unproven, and bearer callers: never asked */
    struct fake *f = fake_new(&app);
    assert_int_equal(gh_api_csrf_refused(f->req), 0);
    struct gh_api_req *st = gh_api_req(f->req);
    static struct gh_identity bearer;
    st->who = &bearer;
    st->source = GH_SRC_AUTHORIZATION;
    assert_int_equal(gh_api_csrf_refused(f->req), 0);
    st->source = GH_SRC_API_KEY;
    assert_int_equal(gh_api_csrf_refused(f->req), 0);
    assert_int_equal(csrf_calls, 0);
    /* a session caller: the hook decides */
    st->source = GH_SRC_SESSION;
    assert_int_equal(gh_api_csrf_refused(f->req), 0);
    assert_int_equal(csrf_calls, 1);
    csrf_answer = 1;
    assert_int_equal(gh_api_csrf_refused(f->req), 1);
    assert_int_equal(csrf_calls, 2);
    assert_int_equal(f->req->status, 403);
    assert_string_equal(fake_code(f), "csrf_failed");
    fake_free(f);

    /* a session hook without a CSRF check fails closed */
    app.session.csrf_check = NULL;
    f = fake_new(&app);
    st = gh_api_req(f->req);
    st->who = &bearer;
    st->source = GH_SRC_SESSION;
    assert_int_equal(gh_api_csrf_refused(f->req), 1);
    assert_int_equal(f->req->status, 403);
    assert_string_equal(fake_code(f), "csrf_failed");
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(headers_in_order, without_sessions),
        cmocka_unit_test_setup(conflicts_refused, without_sessions),
        cmocka_unit_test_setup(session_slot_empty_without_hook, without_sessions),
        cmocka_unit_test_setup(session_cookie, with_sessions),
        cmocka_unit_test_setup(websocket_slot_and_media, with_sessions),
        cmocka_unit_test_setup(session_proves_and_names_method, with_sessions),
        cmocka_unit_test_setup(csrf_hook, with_sessions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

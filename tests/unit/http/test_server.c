/*
 * Unit tests for http/server: the per-request arena, response headers that are never
 * dropped silently, and the response head. The request is built on a loop and server of
 * the test's own (no socket).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/internal.h"

struct fixture {
    struct gh_http srv;
    struct gh_loop loop;
    struct gh_conn conn;
    struct gh_req *req;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->srv.opts.max_body = 1024;
    memcpy(f->srv.id_prefix, "0123456789ab", 13);
    memcpy(f->srv.fixed_headers, "X-Fixed: 1\r\n", 12);
    f->srv.fixed_len = 12;
    f->loop.srv = &f->srv;
    memcpy(f->loop.date, "Date: x\r\n", 10);
    f->loop.date_len = 9;
    f->conn.loop = &f->loop;
    memcpy(f->conn.ip, "127.0.0.1", 10);
    f->req = gh_req_new(&f->conn);
    assert_non_null(f->req);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gh_req_end(f->req, 0);
    while (f->loop.spare != NULL) {
        struct gh_req *r = f->loop.spare;
        f->loop.spare = r->next;
        free(r);
    }
    gh_buf_clear(&f->loop.log_line);
    free(f);
    return 0;
}

static void arena(void **state)
{
    struct fixture *f = *state;
    char *small[128];
    _Static_assert(128 * 112 > GH_REQ_ARENA_INLINE, "the loop reaches the blocks");
    for (int i = 0; i < 128; i++) { /* past the inline part into blocks */
        small[i] = gh_req_alloc(f->req, 100);
        assert_non_null(small[i]);
        assert_int_equal((uintptr_t)small[i] % 16, 0);
        memset(small[i], i, 100);
    }
    char *big = gh_req_alloc(f->req, 100000); /* a block of its own */
    assert_non_null(big);
    memset(big, 0xee, 100000);
    for (int i = 0; i < 128; i++)
        assert_int_equal((unsigned char)small[i][99], i); /* nothing overlapped */
    assert_null(gh_req_alloc(f->req, SIZE_MAX));
}

/* Plain and wiped allocations share the inline part from its two ends without overlapping,
 * and go on in blocks once it is full. */
static void arena_plain(void **state)
{
    struct fixture *f = *state;
    char *p[128];
    for (int i = 0; i < 128; i++) {
        p[i] = i % 2 ? gh_req_alloc_plain(f->req, 100) : gh_req_alloc(f->req, 100);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 16, 0);
        memset(p[i], i, 100);
    }
    for (int i = 0; i < 128; i++)
        assert_int_equal((unsigned char)p[i][0], i);
    assert_true(f->req->arena_used + f->req->arena_plain <= GH_REQ_ARENA_INLINE);
    assert_non_null(f->req->blocks);
    assert_null(gh_req_alloc_plain(f->req, SIZE_MAX));
}

static void request_id(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(strlen(f->req->request_id), 24);
    assert_memory_equal(f->req->request_id, "0123456789ab", 12);
}

static void headers_never_dropped(void **state)
{
    struct fixture *f = *state;
    char name[32];
    for (int i = 0; i < GH_REQ_MAX_HEADERS_OUT; i++) {
        snprintf(name, sizeof(name), "X-H-%d", i);
        gh_reply_header(f->req, name, "v");
    }
    assert_int_equal(f->req->nheaders_out, GH_REQ_MAX_HEADERS_OUT);
    assert_false(f->req->headers_overflow);
    gh_reply_header(f->req, "X-One-Too-Many", "v");
    assert_true(f->req->headers_overflow);

    /* The answer becomes a 500, not the 200 without the header. */
    gh_reply_raw(f->req, 200, "application/json", "{}", 2);
    char *head = NULL;
    size_t cap = 0, n = gh_req_head(f->req, 1, &head, &cap);
    assert_true(n > 0);
    assert_memory_equal(head, "HTTP/1.1 500 ", 13);
    head[n - 1] = '\0';
    assert_null(strstr(head, "X-H-1:"));
    free(head);
}

static void header_injection_refused(void **state)
{
    struct fixture *f = *state;
    gh_reply_header(f->req, "X-A", "v\r\nSet-Cookie: x=1");
    assert_true(f->req->headers_overflow);
}

static void response_head(void **state)
{
    struct fixture *f = *state;
    gh_reply_header(f->req, "Cache-Control", "public, max-age=300");
    gh_reply_raw(f->req, 200, "application/json", "{\"a\":1}", 7);
    char *head = NULL;
    size_t cap = 0, n = gh_req_head(f->req, 0, &head, &cap);
    assert_true(n > 0 && n <= cap);
    head[n - 1] = '\0'; /* the view below ends before the last LF */
    static const char start[] = "HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 7\r\n";
    assert_memory_equal(head, start, sizeof(start) - 1);
    assert_non_null(strstr(head, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(head, "X-Request-Id: 0123456789ab"));
    assert_non_null(strstr(head, "X-Fixed: 1\r\n"));
    assert_non_null(strstr(head, "Cache-Control: public, max-age=300\r\n"));
    assert_null(strstr(head, "no-store")); /* the handler's Cache-Control wins */
    assert_non_null(strstr(head, "Connection: close\r\n"));
    /* the other defaults stay, each exactly once */
    assert_non_null(strstr(head, "Referrer-Policy: no-referrer\r\n"));
    assert_non_null(strstr(head, "Content-Security-Policy: default-src 'none'"));
    assert_null(strstr(strstr(head, "Content-Security-Policy:") + 1, "Content-Security-Policy:"));
    free(head);
}

/* A handler's own Content-Security-Policy or Referrer-Policy, in any case, replaces the
 * default; a name that only starts like one does not. */
static void own_defaults_replace_the_server_ones(void **state)
{
    struct fixture *f = *state;
    gh_reply_header(f->req, "content-security-policy", "default-src 'self'");
    gh_reply_header(f->req, "REFERRER-POLICY", "same-origin");
    gh_reply_header(f->req, "Cache-Controls", "x");
    gh_reply_raw(f->req, 200, "text/html", "<p>", 3);
    char *head = NULL;
    size_t cap = 0, n = gh_req_head(f->req, 1, &head, &cap);
    assert_true(n > 0 && n <= cap);
    head[n - 1] = '\0';
    assert_non_null(strstr(head, "content-security-policy: default-src 'self'\r\n"));
    assert_null(strstr(head, "default-src 'none'"));
    assert_non_null(strstr(head, "REFERRER-POLICY: same-origin\r\n"));
    assert_null(strstr(head, "no-referrer"));
    assert_non_null(strstr(head, "Cache-Controls: x\r\nCache-Control: no-store\r\n"));
    free(head);
}

static void no_content_has_no_length(void **state)
{
    struct fixture *f = *state;
    gh_reply_json(f->req, 204, NULL);
    char *head = NULL;
    size_t cap = 0, n = gh_req_head(f->req, 1, &head, &cap);
    assert_true(n > 0);
    assert_memory_equal(head, "HTTP/1.1 204 No Content\r\n", 25);
    head[n - 1] = '\0';
    assert_null(strstr(head, "Content-Length"));
    assert_null(strstr(head, "Connection:"));
    free(head);
}

static void refusals_are_json(void **state)
{
    struct fixture *f = *state;
    static const unsigned statuses[] = {400, 408, 413, 414, 431, 501, 503, 505};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        gh_req_refuse(f->req, statuses[i]);
        assert_int_equal(f->req->status, statuses[i]);
        assert_string_equal(f->req->content_type, "application/json");
        assert_non_null(strstr(f->req->out.ptr, "{\"error\":{\"code\":"));
        assert_non_null(strstr(f->req->out.ptr, f->req->request_id));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(arena, setup, teardown),
        cmocka_unit_test_setup_teardown(arena_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(request_id, setup, teardown),
        cmocka_unit_test_setup_teardown(headers_never_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(header_injection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(response_head, setup, teardown),
        cmocka_unit_test_setup_teardown(own_defaults_replace_the_server_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(no_content_has_no_length, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals_are_json, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

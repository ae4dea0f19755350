/*
 * Unit tests for edge/fetch, the process's HTTP client, against a small HTTP server of the
 * test's own on loopback: GET and POST, the Authorization schemes, redirects not followed,
 * the answer cap, the deadline, cancellation, a refused connection and TLS required where
 * the URL says https.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "edge/fetch.h"

static int listener;
static int port;

/* Reads a request head and body (Content-Length) into buf; returns its length. */
static size_t read_request(int fd, char *buf, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t got = read(fd, buf + n, size - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
        buf[n] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end == NULL)
            continue;
        const char *cl = strstr(buf, "Content-Length: ");
        size_t want = (size_t)(end + 4 - buf) + (cl != NULL ? strtoul(cl + 16, NULL, 10) : 0);
        if (n >= want)
            break;
    }
    buf[n] = '\0';
    return n;
}

static void answer(int fd, const char *status, const char *extra, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                     len, extra);
    (void)!send(fd, head, (size_t)n, MSG_NOSIGNAL);
    for (size_t at = 0; at < len;) {
        ssize_t w = send(fd, body + at, len - at, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        at += (size_t)w;
    }
}

static void *serve(void *arg)
{
    (void)arg;
    static char req[65536], big[100000];
    memset(big, 'x', sizeof(big));
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0)
            return NULL;
        size_t n = read_request(fd, req, sizeof(req));
        if (strncmp(req, "GET /ok ", 8) == 0)
            answer(fd, "200 OK", "Content-Type: application/json\r\n", "{\"a\":1}", 7);
        else if (strncmp(req, "GET /big ", 9) == 0)
            answer(fd, "200 OK", "", big, sizeof(big));
        else if (strncmp(req, "GET /slow ", 10) == 0) {
            sleep(2);
            answer(fd, "200 OK", "", "late", 4);
        } else if (strncmp(req, "GET /redirect ", 14) == 0)
            answer(fd, "302 Found", "Location: http://127.0.0.1:1/elsewhere\r\n", "", 0);
        else if (strncmp(req, "GET /fail ", 10) == 0)
            answer(fd, "500 Internal Server Error", "", "no", 2);
        else
            answer(fd, "200 OK", "", req, n); /* /echo: the request as received */
        close(fd);
    }
}

static int setup(void **state)
{
    (void)state;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    pthread_t t;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(listener, 16) != 0 || getsockname(listener, (struct sockaddr *)&a, &len) != 0)
        return -1;
    port = ntohs(a.sin_port);
    if (pthread_create(&t, NULL, serve, NULL) != 0)
        return -1;
    pthread_detach(t);
    return gh_fetch_open() == GH_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gh_fetch_close();
    return 0;
}

static gh_err get(const char *path, struct gh_fetch_req *rq, struct gh_fetch_resp *out, char *why)
{
    char url[128];
    struct gh_fetch *f = NULL;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    rq->url = url;
    if (rq->timeout_ms == 0)
        rq->timeout_ms = 5000;
    if (rq->max_bytes == 0)
        rq->max_bytes = 65536;
    assert_int_equal(gh_fetch_new(&f), GH_OK);
    gh_err err = gh_fetch_do(f, rq, out, why, 128);
    gh_fetch_free(f);
    return err;
}

static void get_and_status(void **state)
{
    (void)state;
    struct gh_fetch_req rq = {0};
    struct gh_fetch_resp out = {0};
    char why[128] = "";
    assert_int_equal(get("/ok", &rq, &out, why), GH_OK);
    assert_int_equal(out.status, 200);
    assert_int_equal(out.len, 7);
    assert_string_equal(out.body, "{\"a\":1}");
    gh_fetch_resp_clear(&out);
    memset(&rq, 0, sizeof(rq));
    assert_int_equal(get("/fail", &rq, &out, why), GH_OK);
    assert_int_equal(out.status, 500);
    gh_fetch_resp_clear(&out);
    /* a redirect is an answer, never followed */
    memset(&rq, 0, sizeof(rq));
    assert_int_equal(get("/redirect", &rq, &out, why), GH_OK);
    assert_int_equal(out.status, 302);
    assert_null(out.body);
    gh_fetch_resp_clear(&out);
}

static void post_and_credentials(void **state)
{
    (void)state;
    struct gh_fetch_req rq = {.body = "grant_type=authorization_code&code=abc",
                              .body_len = 38,
                              .content_type = "application/x-www-form-urlencoded",
                              .basic = "Z2g6c2VjcmV0"};
    struct gh_fetch_resp out = {0};
    char why[128];
    assert_int_equal(get("/echo", &rq, &out, why), GH_OK);
    assert_non_null(strstr(out.body, "POST /echo HTTP/1.1\r\n"));
    assert_non_null(strstr(out.body, "Authorization: Basic Z2g6c2VjcmV0\r\n"));
    assert_non_null(strstr(out.body, "Content-Type: application/x-www-form-urlencoded\r\n"));
    assert_non_null(strstr(out.body, "\r\n\r\ngrant_type=authorization_code&code=abc"));
    assert_null(strstr(out.body, "Expect:"));
    gh_fetch_resp_clear(&out);
    struct gh_fetch_req bearer = {.bearer = "at-123"};
    assert_int_equal(get("/echo", &bearer, &out, why), GH_OK);
    assert_non_null(strstr(out.body, "GET /echo HTTP/1.1\r\n"));
    assert_non_null(strstr(out.body, "Authorization: Bearer at-123\r\n"));
    gh_fetch_resp_clear(&out);
}

static void cap_deadline_and_refusals(void **state)
{
    (void)state;
    struct gh_fetch_req rq = {.max_bytes = 1000};
    struct gh_fetch_resp out = {0};
    char why[128];
    assert_int_equal(get("/big", &rq, &out, why), GH_ERR_TOO_LARGE);
    assert_null(out.body);
    memset(&rq, 0, sizeof(rq));
    rq.timeout_ms = 300;
    assert_int_equal(get("/slow", &rq, &out, why), GH_ERR_IO);
    assert_non_null(strstr(why, "imeout"));

    struct gh_fetch *f = NULL;
    assert_int_equal(gh_fetch_new(&f), GH_OK);
    struct gh_fetch_req closed = {
        .url = "http://127.0.0.1:1/", .timeout_ms = 2000, .max_bytes = 100};
    assert_int_equal(gh_fetch_do(f, &closed, &out, why, sizeof(why)), GH_ERR_IO);
    char url[96];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/ok", port); /* no TLS there */
    struct gh_fetch_req tls = {.url = url, .timeout_ms = 2000, .max_bytes = 100};
    assert_int_equal(gh_fetch_do(f, &tls, &out, why, sizeof(why)), GH_ERR_IO);
    struct gh_fetch_req ftp = {.url = "ftp://127.0.0.1/x", .timeout_ms = 2000, .max_bytes = 100};
    assert_int_equal(gh_fetch_do(f, &ftp, &out, why, sizeof(why)), GH_ERR_IO);
    assert_null(strstr(why, "127.0.0.1"));
    gh_fetch_free(f);
}

static int stop_now(void *arg)
{
    (void)arg;
    return 1;
}

static void cancelled(void **state)
{
    (void)state;
    struct gh_fetch_req rq = {.cancel = stop_now, .timeout_ms = 5000};
    struct gh_fetch_resp out = {0};
    char why[128];
    assert_int_equal(get("/slow", &rq, &out, why), GH_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_and_status),
        cmocka_unit_test(post_and_credentials),
        cmocka_unit_test(cap_deadline_and_refusals),
        cmocka_unit_test(cancelled),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

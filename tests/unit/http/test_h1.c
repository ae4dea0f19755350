/* Unit tests for http/h1: the strict RFC 9112 request-head parser and the chunked decoder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "http/h1.h"

#define MAXB 16384

/* Parses text (a complete head) and returns the status; *head is filled. */
static enum gh_h1_status parse(const char *text, struct gh_h1_head *head)
{
    static char buf[65536];
    static struct gh_h1_field fields[64];
    size_t len = strlen(text);
    memcpy(buf, text, len);
    memset(head, 0, sizeof(*head));
    head->fields = fields;
    head->fields_max = 64;
    return gh_h1_parse(buf, len, 1024, MAXB, head);
}

static enum gh_h1_status status_of(const char *text)
{
    struct gh_h1_head head;
    return parse(text, &head);
}

static void simple_get(void **state)
{
    (void)state;
    struct gh_h1_head h;
    assert_int_equal(parse("GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-A:  v v \t\r\n\r\n", &h), GH_H1_OK);
    assert_string_equal(h.method, "GET");
    assert_string_equal(h.target, "/a?b=c");
    assert_int_equal(h.minor, 1);
    assert_int_equal(h.nfields, 2);
    assert_string_equal(h.fields[1].name, "X-A");
    assert_string_equal(h.fields[1].value, "v v"); /* OWS trimmed, inner space kept */
    assert_true(h.keep_alive);
    assert_false(h.has_length);
    assert_false(h.chunked);
}

static void versions_and_connection(void **state)
{
    (void)state;
    struct gh_h1_head h;
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &h), GH_H1_OK);
    assert_false(h.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h), GH_H1_OK);
    assert_true(h.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: te, close\r\n\r\n", &h),
                     GH_H1_OK);
    assert_false(h.keep_alive);
    assert_int_equal(status_of("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), GH_H1_BAD_VERSION);
    assert_int_equal(status_of("GET / HTTP/0.9\r\nHost: x\r\n\r\n"), GH_H1_BAD_VERSION);
    assert_int_equal(status_of("GET / HTTP/1.1\r\n\r\n"), GH_H1_BAD); /* no Host */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), GH_H1_BAD);
}

static void malformed_lines(void **state)
{
    (void)state;
    const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET /\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        "GET / http/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\nHost: x\r\n\r\n",       /* bare LF */
        "GET / HTTP/1.1\r\nHost: x\n\r\n",       /* bare LF */
        "GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n", /* NUL: strlen stops, the line is cut */
        "GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET x HTTP/1.1\r\nHost: x\r\n\r\n", /* not a target form */
        "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",           /* whitespace before the colon */
        "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", /* obs-fold */
        "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\x7f\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (status_of(bad[i]) != GH_H1_BAD)
            fail_msg("accepted: %s", bad[i]);
    }
}

static void nul_in_value(void **state)
{
    (void)state;
    static const char text[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Uri: /p\0/../a\r\n\r\n";
    char buf[sizeof(text)];
    struct gh_h1_field fields[8];
    struct gh_h1_head h = {.fields = fields, .fields_max = 8};
    memcpy(buf, text, sizeof(text));
    assert_int_equal(gh_h1_parse(buf, sizeof(text) - 1, 1024, MAXB, &h), GH_H1_BAD);
    assert_int_equal(gh_h1_check_line("GET /healthz\0abc HTTP/1.1\r\n", 26, 1024), GH_H1_BAD);
}

static void htab_allowed_in_values(void **state)
{
    (void)state;
    struct gh_h1_head h;
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nX: a\tb\r\n\r\n", &h), GH_H1_OK);
    assert_string_equal(h.fields[1].value, "a\tb");
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nX: caf\xc3\xa9\r\n\r\n", &h), GH_H1_OK);
}

static void framing(void **state)
{
    (void)state;
    struct gh_h1_head h;
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n", &h),
                     GH_H1_OK);
    assert_true(h.has_length);
    assert_int_equal(h.content_length, 12);
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n", &h),
                     GH_H1_OK);
    assert_true(h.chunked);
    const char *bad[] = {
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1,1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (status_of(bad[i]) != GH_H1_BAD)
            fail_msg("accepted: %s", bad[i]);
    }
    assert_int_equal(
        status_of("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
        GH_H1_NOT_IMPLEMENTED);
}

static void bounds(void **state)
{
    (void)state;
    char text[8192];
    memcpy(text, "GET /", 5);
    memset(text + 5, 'a', 2000);
    memcpy(text + 2005, " HTTP/1.1\r\nHost: x\r\n\r\n", 23);
    assert_int_equal(status_of(text), GH_H1_URI_TOO_LONG);
    assert_int_equal(gh_h1_check_line(text, 1500, 1024), GH_H1_URI_TOO_LONG);

    int n = snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 70; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "X-%d: v\r\n", i);
    snprintf(text + n, sizeof(text) - (size_t)n, "\r\n");
    assert_int_equal(status_of(text), GH_H1_HEAD_TOO_LARGE); /* 64 fields here */

    char big[MAXB + 200];
    n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(big + n, 'v', MAXB);
    memcpy(big + n + MAXB, "\r\n\r\n", 5);
    assert_int_equal(status_of(big), GH_H1_HEAD_TOO_LARGE);
}

static void absolute_form(void **state)
{
    (void)state;
    struct gh_h1_head h;
    assert_int_equal(parse("GET http://example.test/p?q HTTP/1.1\r\nHost: e\r\n\r\n", &h),
                     GH_H1_OK);
    assert_string_equal(h.target, "/p?q");
    assert_int_equal(parse("GET http://example.test HTTP/1.1\r\nHost: e\r\n\r\n", &h), GH_H1_OK);
    assert_string_equal(h.target, "/");
    assert_int_equal(parse("OPTIONS * HTTP/1.1\r\nHost: e\r\n\r\n", &h), GH_H1_OK);
    assert_int_equal(status_of("GET * HTTP/1.1\r\nHost: e\r\n\r\n"), GH_H1_BAD);
}

static void head_end(void **state)
{
    (void)state;
    const char *t = "GET / HTTP/1.1\r\nHost: x\r\n\r\nNEXT";
    size_t scanned = 0;
    for (size_t len = 0; len < 27; len++)
        assert_int_equal(gh_h1_head_end(t, len, &scanned), 0);
    assert_int_equal(gh_h1_head_end(t, 30, &scanned), 27);
    scanned = 0;
    assert_int_equal(gh_h1_head_end("GET / HTTP/1.1\n\nX", 17, &scanned), 16);
    assert_int_equal(gh_h1_check_line("GET /x HT", 9, 1024), GH_H1_OK);
    assert_int_equal(gh_h1_check_line("GARBAGE\r", 8, 1024), GH_H1_BAD);
}

/* ---- chunked ---- */

struct sink {
    struct gh_buf b;
};

static int to_buf(void *arg, const char *data, size_t n)
{
    struct sink *s = arg;
    return gh_buf_append(&s->b, data, n) != GH_OK;
}

/* Feeds text in pieces of step bytes; returns the error and the decoded body in s. */
static gh_err feed(const char *text, size_t step, struct sink *s, size_t max, size_t *rest)
{
    struct gh_chunked c;
    memset(&c, 0, sizeof(c));
    gh_buf_init(&s->b, max);
    size_t len = strlen(text), off = 0;
    while (off < len && c.state != GH_CHUNK_DONE) {
        size_t n = len - off < step ? len - off : step, used = 0;
        gh_err err = gh_chunked_feed(&c, text + off, n, 256, to_buf, s, &used);
        if (err != GH_OK)
            return err;
        off += used;
    }
    *rest = len - off;
    return c.state == GH_CHUNK_DONE ? GH_OK : GH_ERR_NOT_FOUND;
}

static void chunked_bodies(void **state)
{
    (void)state;
    struct sink s;
    size_t rest;
    for (size_t step = 1; step < 40; step += 7) {
        assert_int_equal(
            feed("5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: v\r\n\r\nGET", step, &s, 100, &rest),
            GH_OK);
        assert_int_equal(s.b.len, 11);
        assert_memory_equal(s.b.ptr, "hello world", 11);
        assert_int_equal(rest, 3);
        gh_buf_clear(&s.b);
    }
    const char *bad[] = {"x\r\n",
                         "5\r\nhelloX\r\n",
                         "5\nhello\r\n",
                         "-1\r\n",
                         "ffffffffffffffffff\r\n",
                         "0\r\n folded\r\n\r\n",
                         "0\r\nX: \x01\r\n\r\n",
                         "\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gh_err err = feed(bad[i], 3, &s, 100, &rest);
        gh_buf_clear(&s.b);
        if (err != GH_ERR_INVALID)
            fail_msg("accepted chunked: %s (%d)", bad[i], err);
    }
    /* Past the cap the sink stops it at once, not at the end. */
    assert_int_equal(feed("a\r\n0123456789\r\na\r\n0123456789\r\n", 64, &s, 15, &rest),
                     GH_ERR_TOO_LARGE);
    gh_buf_clear(&s.b);
}

/* The first control byte is found wherever it lies, in the 64-, 16- or 8-byte steps or the tail;
 * bytes from 0x20 to 0x7e and above 0x7f are not control bytes. */
static void first_ctl_everywhere(void **state)
{
    (void)state;
    static const unsigned char bad[] = {0x00, 0x01, 0x09, 0x0a, 0x1f, 0x7f};
    static const unsigned char fine[] = {0x20, 0x7e, 0x80, 0xa0, 0xff};
    char buf[64 + 64 + 16 + 8 + 7];
    for (size_t k = 0; k < sizeof(fine); k++) {
        memset(buf, (char)fine[k], sizeof(buf));
        assert_int_equal(gh_h1_first_ctl(buf, sizeof(buf)), sizeof(buf));
    }
    static const unsigned char around[] = {'v', 0x20, 0x80, 0xff}; /* borrows, high bits */
    for (size_t g = 0; g < sizeof(around); g++) {
        for (size_t k = 0; k < sizeof(bad); k++) {
            for (size_t at = 0; at < sizeof(buf); at++) {
                memset(buf, (char)around[g], sizeof(buf));
                buf[at] = (char)bad[k];
                assert_int_equal(gh_h1_first_ctl(buf, sizeof(buf)), at);
                assert_int_equal(gh_h1_first_ctl(buf, at), at); /* not past n */
                if (at + 1 < sizeof(buf)) {
                    buf[at + 1] = (char)bad[k]; /* the first of two */
                    assert_int_equal(gh_h1_first_ctl(buf, sizeof(buf)), at);
                }
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(simple_get),
        cmocka_unit_test(first_ctl_everywhere),
        cmocka_unit_test(versions_and_connection),
        cmocka_unit_test(malformed_lines),
        cmocka_unit_test(nul_in_value),
        cmocka_unit_test(htab_allowed_in_values),
        cmocka_unit_test(framing),
        cmocka_unit_test(bounds),
        cmocka_unit_test(absolute_form),
        cmocka_unit_test(head_end),
        cmocka_unit_test(chunked_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for http/h2: HTTP/2 on a connection without a socket (h2_conn.h). The client
 * is written by hand, frame by frame (HPACK through libnghttp2's deflater), so that it can
 * break the rules a real client keeps: the announced settings, the header-list limits and
 * the HPACK bomb, CONTINUATION floods, the stream cap, the rapid-reset defence, bodies
 * past the limit, the deadlines, and the h2c Upgrade with its HTTP2-Settings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <nghttp2/nghttp2.h>

#include "h2_conn.h"

#define MAX_STREAM 2048 /* stream ids a test uses */

/* Every request is answered 200 "ok"; the path of the last one is kept. */
static char last_path[64];

static void answer(struct gh_req *req)
{
    snprintf(last_path, sizeof(last_path), "%s", req->path);
    gh_reply_raw(req, 200, "text/plain", "ok", 2);
}

struct client {
    struct h2_peer p;
    nghttp2_hd_deflater *def;
    nghttp2_hd_inflater *inf;
    uint8_t *buf; /* frames being written */
    size_t len, cap;
    size_t parsed;          /* of p.out */
    uint32_t settings[8];   /* the server's SETTINGS, by id */
    unsigned settings_seen; /* bit per id */
    int goaway;             /* a GOAWAY came; its code: */
    uint32_t goaway_code;
    unsigned status[MAX_STREAM]; /* :status per stream */
    uint32_t rst[MAX_STREAM];    /* RST_STREAM code + 1 per stream (0: none) */
    int fixed_header;            /* "x-fixed" seen in an answer */
};

static void put(struct client *k, const void *bytes, size_t n)
{
    if (n == 0)
        return; /* an empty frame's payload may be NULL */
    if (k->len + n > k->cap) {
        k->cap = (k->len + n) * 2;
        k->buf = realloc(k->buf, k->cap);
        assert_non_null(k->buf);
    }
    memcpy(k->buf + k->len, bytes, n);
    k->len += n;
}

static void frame(struct client *k, uint8_t type, uint8_t flags, uint32_t id, const void *payload,
                  size_t n)
{
    uint8_t hd[9] = {
        (uint8_t)(n >> 16),  (uint8_t)(n >> 8),   (uint8_t)n,         type,       flags,
        (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};
    put(k, hd, 9);
    put(k, payload, n);
}

/* The HPACK block of a request: GET path plus extra fields. */
static size_t block(struct client *k, uint8_t *out, size_t cap, const char *path,
                    const nghttp2_nv *extra, size_t nextra)
{
    nghttp2_nv nv[512];
    size_t n = 0;
#define NV(a, b) (nghttp2_nv){(uint8_t *)(a), (uint8_t *)(b), strlen(a), strlen(b), 0}
    nv[n++] = NV(":method", "GET");
    nv[n++] = NV(":scheme", "http");
    nv[n++] = NV(":authority", "gatehouse.test");
    nv[n++] = NV(":path", path);
    assert_true(nextra <= 512 - n);
    if (nextra > 0)
        memcpy(nv + n, extra, nextra * sizeof(*nv));
    ssize_t r = nghttp2_hd_deflate_hd(k->def, out, cap, nv, n + nextra);
    assert_true(r > 0);
    return (size_t)r;
}

static void request(struct client *k, uint32_t id, const char *path, const nghttp2_nv *extra,
                    size_t nextra)
{
    static uint8_t hb[65536];
    size_t n = block(k, hb, sizeof(hb), path, extra, nextra);
    assert_true(n <= 16384);
    frame(k, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, id, hb, n);
}

static void read_answer(struct client *k, uint32_t id, const uint8_t *p, size_t n)
{
    for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        ssize_t r = nghttp2_hd_inflate_hd2(k->inf, &nv, &flags, p, n, 1);
        assert_true(r >= 0);
        p += r;
        n -= (size_t)r;
        if (flags & NGHTTP2_HD_INFLATE_EMIT) {
            if (nv.namelen == 7 && memcmp(nv.name, ":status", 7) == 0 && id < MAX_STREAM)
                k->status[id] = (unsigned)strtoul((const char *)nv.value, NULL, 10);
            if (nv.namelen == 7 && memcmp(nv.name, "x-fixed", 7) == 0)
                k->fixed_header = 1;
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(k->inf);
            return;
        }
        if (r == 0 && n == 0)
            return;
    }
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads the frames the server wrote since the last call. */
static void parse(struct client *k)
{
    const uint8_t *out = k->p.out;
    while (k->p.out_len - k->parsed >= 9) {
        const uint8_t *f = out + k->parsed;
        size_t n = (size_t)f[0] << 16 | (size_t)f[1] << 8 | f[2];
        if (k->p.out_len - k->parsed < 9 + n)
            break;
        uint8_t type = f[3], flags = f[4];
        uint32_t id = be32(f + 5) & 0x7fffffff;
        const uint8_t *pl = f + 9;
        if (type == NGHTTP2_SETTINGS && !(flags & NGHTTP2_FLAG_ACK)) {
            for (size_t i = 0; i + 6 <= n; i += 6) {
                unsigned sid = (unsigned)pl[i] << 8 | pl[i + 1];
                if (sid < 8) {
                    k->settings[sid] = be32(pl + i + 2);
                    k->settings_seen |= 1u << sid;
                }
            }
        } else if (type == NGHTTP2_HEADERS) {
            read_answer(k, id, pl, n);
        } else if (type == NGHTTP2_RST_STREAM && id < MAX_STREAM) {
            k->rst[id] = be32(pl) + 1;
        } else if (type == NGHTTP2_GOAWAY) {
            k->goaway = 1;
            k->goaway_code = be32(pl + 4);
        }
        k->parsed += 9 + n;
    }
}

/* Sends what was written and reads the answer; returns gh_h2_io's result. */
static int flush_client(struct client *k)
{
    int r = h2_peer_send(&k->p, k->buf, k->len);
    k->len = 0;
    parse(k);
    return r;
}

static int setup(void **state)
{
    struct client *k = calloc(1, sizeof(*k));
    assert_non_null(k);
    h2_peer_init(&k->p, answer);
    assert_int_equal(nghttp2_hd_deflate_new(&k->def, 4096), 0);
    assert_int_equal(nghttp2_hd_inflate_new(&k->inf), 0);
    *state = k;
    return 0;
}

static int teardown(void **state)
{
    struct client *k = *state;
    h2_peer_free(&k->p);
    nghttp2_hd_deflate_del(k->def);
    nghttp2_hd_inflate_del(k->inf);
    free(k->buf);
    free(k);
    return 0;
}

/* Prior knowledge: the server's SETTINGS first, then the client's preface, its SETTINGS
 * and the acknowledgement of the server's (its limits count from then on). */
static void open_h2(struct client *k)
{
    struct gh_conn *c = h2_peer_connect(&k->p);
    assert_non_null(c);
    assert_int_equal(gh_h2_start(c, NULL, 0, NULL), 0);
    put(k, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    frame(k, NGHTTP2_SETTINGS, 0, 0, NULL, 0);
    frame(k, NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0, NULL, 0);
    assert_int_equal(flush_client(k), 0);
}

static void preface(void **state)
{
    (void)state;
    static const char p[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    assert_int_equal(gh_h2_preface(p, 24), 1);
    assert_int_equal(gh_h2_preface(p, 3), 0);
    assert_int_equal(gh_h2_preface(p, 0), 0);
    assert_int_equal(gh_h2_preface("GET / HTTP/1.1\r\n", 16), -1);
    assert_int_equal(gh_h2_preface("PRI * HTTP/2.1", 14), -1);
}

static void settings_announced(void **state)
{
    struct client *k = *state;
    open_h2(k);
    assert_int_equal(k->settings[NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS], 8);
    assert_int_equal(k->settings[NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE], 8192);
    assert_true(k->settings_seen & (1u << NGHTTP2_SETTINGS_ENABLE_PUSH));
    assert_int_equal(k->settings[NGHTTP2_SETTINGS_ENABLE_PUSH], 0);
}

static void request_answered(void **state)
{
    struct client *k = *state;
    open_h2(k);
    nghttp2_nv cookies[] = {NV("cookie", "a=1"), NV("cookie", "b=2")};
    request(k, 1, "/hello%20there?x=1", cookies, 2);
    assert_int_equal(flush_client(k), 0);
    assert_int_equal(k->status[1], 200);
    assert_string_equal(last_path, "/hello there");
    assert_true(k->fixed_header); /* the server's own headers, names lower-cased */
    assert_true(h2_peer_open(&k->p));
}

/* Past server.max_header_bytes: 431, and the connection goes on. */
static void header_list_too_large(void **state)
{
    struct client *k = *state;
    open_h2(k);
    static char big[9000];
    memset(big, 'a', sizeof(big) - 1);
    nghttp2_nv one[] = {NV("x-big", big)};
    request(k, 1, "/", one, 1);
    assert_int_equal(flush_client(k), 0);
    assert_int_equal(k->status[1], 431);
    request(k, 3, "/after", NULL, 0);
    assert_int_equal(flush_client(k), 0);
    assert_int_equal(k->status[3], 200);
}

static void too_many_fields(void **state)
{
    struct client *k = *state;
    open_h2(k);
    static char names[300][16];
    nghttp2_nv nv[300];
    for (int i = 0; i < 300; i++) {
        snprintf(names[i], sizeof(names[i]), "x-f%d", i);
        nv[i] = (nghttp2_nv){(uint8_t *)names[i], (uint8_t *)"v", strlen(names[i]), 1,
                             NGHTTP2_NV_FLAG_NO_INDEX};
    }
    request(k, 1, "/", nv, 300);
    assert_int_equal(flush_client(k), 0);
    assert_int_equal(k->status[1], 431);
}

/* A small block that decodes into a list four times the limit: the connection ends. */
static void hpack_bomb(void **state)
{
    struct client *k = *state;
    open_h2(k);
    static char value[2500]; /* an entry of the 4 KiB dynamic table */
    memset(value, 'b', sizeof(value) - 1);
    nghttp2_nv nv[40];
    for (int i = 0; i < 40; i++)
        nv[i] = NV("x-bomb", value); /* indexed after the first: a byte each */
    request(k, 1, "/", nv, 40);
    assert_int_equal(flush_client(k), -1);
    assert_false(h2_peer_open(&k->p));
    assert_true(k->goaway);
    assert_int_equal(k->goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
    assert_int_equal(k->status[1], 0);
}

/* HEADERS without END_HEADERS, then CONTINUATION frames of one field each. */
static void continued(struct client *k, uint32_t id, int continuations)
{
    static uint8_t hb[4096];
    size_t n = block(k, hb, sizeof(hb), "/cont", NULL, 0);
    frame(k, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM, id, hb, n);
    for (int i = 0; i < continuations; i++) {
        nghttp2_nv f[] = {NV("x-c", "v")};
        ssize_t m = nghttp2_hd_deflate_hd(k->def, hb, sizeof(hb), f, 1);
        assert_true(m > 0);
        frame(k, NGHTTP2_CONTINUATION, i == continuations - 1 ? NGHTTP2_FLAG_END_HEADERS : 0, id,
              hb, (size_t)m);
    }
}

static void continuation_flood(void **state)
{
    struct client *k = *state;
    open_h2(k);
    continued(k, 1, 2); /* what a block of max_header_bytes may need */
    assert_int_equal(flush_client(k), 0);
    assert_int_equal(k->status[1], 200);
    continued(k, 3, 1000);
    assert_int_equal(flush_client(k), -1);
    assert_false(h2_peer_open(&k->p));
    assert_true(k->goaway);
    assert_int_equal(k->goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
    assert_int_equal(k->status[3], 0);
}

/* As many streams at once as SETTINGS_MAX_CONCURRENT_STREAMS are served; one more than
 * the client acknowledged is a connection error (RFC 9113 5.1.2, nghttp2's choice). */
static void stream_cap(void **state)
{
    struct client *k = *state;
    open_h2(k);
    for (uint32_t id = 1; id <= 15; id += 2)
        request(k, id, "/", NULL, 0);
    assert_int_equal(flush_client(k), 0);
    for (uint32_t id = 1; id <= 15; id += 2)
        assert_int_equal(k->status[id], 200);
    for (uint32_t id = 17; id <= 33; id += 2)
        request(k, id, "/", NULL, 0);
    assert_int_equal(flush_client(k), -1);
    assert_false(h2_peer_open(&k->p));
    assert_true(k->goaway);
    assert_int_equal(k->goaway_code, NGHTTP2_PROTOCOL_ERROR);
}

/* Requests opened and cancelled at once (CVE-2023-44487): a burst of them is served, a
 * flood ends the connection. */
static int rapid_resets(struct client *k, uint32_t first, unsigned n)
{
    uint8_t cancel[4] = {0, 0, 0, NGHTTP2_CANCEL};
    for (unsigned i = 0; i < n; i++) {
        uint32_t id = first + 2 * i;
        request(k, id, "/", NULL, 0);
        frame(k, NGHTTP2_RST_STREAM, 0, id, cancel, 4);
    }
    return flush_client(k);
}

static void rapid_reset_burst_served(void **state)
{
    struct client *k = *state;
    open_h2(k);
    assert_int_equal(rapid_resets(k, 1, 150), 0);
    assert_true(h2_peer_open(&k->p));
    assert_false(k->goaway);
}

static void rapid_reset_flood(void **state)
{
    struct client *k = *state;
    open_h2(k);
    int r = 0;
    for (uint32_t first = 1; r == 0 && first < 2 * 1000; first += 2 * 100)
        r = rapid_resets(k, first, 100);
    assert_int_equal(r, -1);
    assert_false(h2_peer_open(&k->p));
    assert_true(k->goaway);
    assert_int_not_equal(k->goaway_code, NGHTTP2_NO_ERROR);
}

static void body_too_large(void **state)
{
    struct client *k = *state;
    open_h2(k);
    static uint8_t hb[1024];
    nghttp2_nv len[] = {NV("content-length", "100000")};
    size_t n = block(k, hb, sizeof(hb), "/", len, 1);
    frame(k, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1, hb, n);
    assert_int_equal(flush_client(k), 0);
    assert_int_equal(k->status[1], 413); /* before any of the body */
}

/* The preface within server.header_timeout; then silence within connection_timeout. */
static void deadlines(void **state)
{
    struct client *k = *state;
    struct gh_conn *c = h2_peer_connect(&k->p);
    assert_int_equal(gh_h2_start(c, NULL, 0, NULL), 0);
    assert_int_equal(gh_h2_tick(c, 1000 + 9000), 0);
    assert_int_equal(gh_h2_tick(c, 1000 + 10000), 1);
    assert_false(h2_peer_open(&k->p));

    k->p.out_len = k->parsed = 0;
    open_h2(k);
    c = k->p.loop.conns;
    assert_int_equal(gh_h2_tick(c, 1000 + 30000), 0); /* the preface came: no head deadline */
    assert_int_equal(gh_h2_tick(c, 1000 + 60000), 1);
    assert_false(h2_peer_open(&k->p));
}

/* An HTTP/1.1 request carrying Upgrade: h2c and HTTP2-Settings (settings). */
static struct gh_req *upgrade_request(struct gh_conn *c, const char *settings)
{
    static struct gh_h1_field fields[4];
    fields[0] = (struct gh_h1_field){"Host", "gatehouse.test", 4, 14};
    fields[1] = (struct gh_h1_field){"Connection", "Upgrade, HTTP2-Settings", 10, 23};
    fields[2] = (struct gh_h1_field){"Upgrade", "h2c", 7, 3};
    fields[3] = (struct gh_h1_field){"HTTP2-Settings", settings, 14, strlen(settings)};
    struct gh_req *req = gh_req_new(c);
    assert_non_null(req);
    struct gh_h1_head head = {.method = "GET",
                              .target = "/up",
                              .target_len = 3,
                              .minor = 1,
                              .fields = fields,
                              .nfields = 4,
                              .fields_max = 4};
    assert_int_equal(gh_req_begin(req, &head), GH_OK);
    return req;
}

static void upgrade(void **state)
{
    struct client *k = *state;
    struct gh_conn *c = h2_peer_connect(&k->p);
    /* curl's: MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 32 MiB, ENABLE_PUSH 0 */
    struct gh_req *req = upgrade_request(c, "AAMAAABkAAQCAAAAAAIAAAAA");
    assert_int_equal(gh_h2_start(c, NULL, 0, req), 0);
    static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\n";
    assert_true(k->p.out_len > sizeof(sw));
    assert_memory_equal(k->p.out, sw, sizeof(sw) - 1);
    const uint8_t *end = memmem(k->p.out, k->p.out_len, "\r\n\r\n", 4);
    assert_non_null(end);
    k->parsed = (size_t)(end + 4 - k->p.out);
    parse(k);
    assert_int_equal(k->settings[NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS], 8);
    assert_int_equal(k->status[1], 200); /* the upgraded request is stream 1 */
    assert_string_equal(last_path, "/up");
}

/* A malformed HTTP2-Settings: nothing written, answered as HTTP/1.1 by the caller. */
static void upgrade_refused(void **state)
{
    struct client *k = *state;
    struct gh_conn *c = h2_peer_connect(&k->p);
    char too_long[200];
    memset(too_long, 'A', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    const char *bad[] = {"AAMAAABk!AQCAAAA", "AAMA", "AAMAAABkAAQCAAAAAAIAAAAA=", "AA MAAABk",
                         too_long};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct gh_req *req = upgrade_request(c, bad[i]);
        assert_int_equal(gh_h2_start(c, NULL, 0, req), 1);
        assert_null(c->h2);
        assert_int_equal(k->p.out_len, 0);
        gh_req_end(req, 1);
    }
    assert_true(h2_peer_open(&k->p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(preface),
        cmocka_unit_test_setup_teardown(settings_announced, setup, teardown),
        cmocka_unit_test_setup_teardown(request_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(header_list_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(too_many_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(hpack_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(continuation_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(stream_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(rapid_reset_burst_served, setup, teardown),
        cmocka_unit_test_setup_teardown(rapid_reset_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(body_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(deadlines, setup, teardown),
        cmocka_unit_test_setup_teardown(upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(upgrade_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * libFuzzer target: arbitrary bytes as what an HTTP/2 client sends after its preface,
 * through nghttp2 into our session code (http/h2.c): the callbacks that build requests
 * from header lists, the header-list and field limits, the HPACK-bomb and CONTINUATION
 * flood ends, the stream cap, the reset limit, bodies and the answers with their flow
 * control. The connection has no socket (tests/unit/http/h2_conn.h); the first byte
 * chooses how the rest is cut into reads. Whatever comes, the connection ends closed with
 * no request left behind (LeakSanitizer checks the rest).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "http/h2_conn.h"

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* Answers with the body's length; "/big" with more than a flow-control window. */
static void answer(struct gh_req *req)
{
    static char big[100000];
    if (req->path != NULL && strcmp(req->path, "/big") == 0) {
        gh_reply_raw(req, 200, "text/plain", big, sizeof(big));
        return;
    }
    char text[32];
    int n = snprintf(text, sizeof(text), "%zu", req->body.len);
    gh_reply_raw(req, 200, "text/plain", text, (size_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    size_t piece = (size_t)data[0] * 8 + 1; /* bytes per read: 1 to 2041 */
    data++, size--;

    struct h2_peer p;
    h2_peer_init(&p, answer);
    struct gh_conn *c = h2_peer_connect(&p);
    if (c == NULL || p.loop.scratch == NULL)
        abort();
    int r = gh_h2_start(c, PREFACE, sizeof(PREFACE) - 1, NULL);
    for (size_t at = 0; r == 0 && at < size; at += piece)
        r = h2_peer_send(&p, data + at, size - at < piece ? size - at : piece);
    if (r == 0) {
        p.eof = 1; /* the client leaves */
        r = h2_peer_send(&p, NULL, 0);
    }
    if (h2_peer_open(&p) || p.loop.deferred != 0)
        abort(); /* a connection whose client left must be closed, and nothing on a pool */
    h2_peer_free(&p);
    return 0;
}

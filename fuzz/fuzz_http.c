/*
 * libFuzzer target: the HTTP/1.1 request head (http/h1.c) and the chunked body decoder.
 * The input is split at its first byte: a head as a client sends it, then a chunked body.
 * Reads stay inside the input; the control-byte scan agrees with a bytewise one; a head the
 * parser accepts holds no control character but HTAB in a value, no NUL before its end, one
 * framing at most; the decoder never hands out more than it was given and stops at its cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/h1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 64
#define BODY_CAP 4096

static void check(int ok)
{
    if (!ok)
        abort();
}

static void value_clean(const char *v, size_t n)
{
    check(strlen(v) == n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        check(c == '\t' || (c >= 0x20 && c != 0x7f));
    }
    check(n == 0 || (v[0] != ' ' && v[0] != '\t' && v[n - 1] != ' ' && v[n - 1] != '\t'));
}

/* The control-byte scan (64, 16 and 8 bytes a step) finds what a bytewise one finds, from
 * every alignment. */
static void first_ctl_agrees(const char *p, size_t n)
{
    for (size_t off = 0; off < 16 && off <= n; off++) {
        size_t i = off;
        while (i < n && (unsigned char)p[i] >= 0x20 && p[i] != 0x7f)
            i++;
        check(off + gh_h1_first_ctl(p + off, n - off) == i);
    }
}

static void head(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    check(buf != NULL);
    memcpy(buf, data, size);
    first_ctl_agrees(buf, size);
    size_t scanned = 0;
    size_t end = gh_h1_head_end(buf, size, &scanned);
    check(end <= size && scanned <= size);
    (void)gh_h1_check_line(buf, size, 256);
    if (end > 0) {
        struct gh_h1_field fields[MAX_FIELDS];
        struct gh_h1_head h;
        memset(&h, 0, sizeof(h));
        h.fields = fields;
        h.fields_max = MAX_FIELDS;
        check(gh_h1_count_lines(buf, end) >= 1);
        if (gh_h1_parse(buf, end, 256, 2048, &h) == GH_H1_OK) {
            check(h.nfields <= MAX_FIELDS && h.field_bytes <= 2048);
            check(!(h.chunked && h.has_length));
            check(h.target[0] == '/' || h.target[0] == '*');
            check(h.minor <= 1);
            for (size_t i = 0; i < h.nfields; i++) {
                value_clean(fields[i].value, fields[i].value_len);
                check(strlen(fields[i].name) == fields[i].name_len);
            }
        }
    }
    free(buf);
}

struct sink {
    size_t total;
};

static int count(void *arg, const char *p, size_t n)
{
    struct sink *s = arg;
    (void)p;
    s->total += n;
    return s->total > BODY_CAP;
}

static void body(const uint8_t *data, size_t size, size_t step)
{
    struct gh_chunked c;
    struct sink s = {0};
    memset(&c, 0, sizeof(c));
    size_t off = 0;
    while (off < size && c.state != GH_CHUNK_DONE) {
        size_t n = size - off < step ? size - off : step, used = 0;
        if (gh_chunked_feed(&c, (const char *)data + off, n, 512, count, &s, &used) != GH_OK)
            break;
        check(used <= n);
        check(used > 0 || c.state == GH_CHUNK_DONE);
        off += used;
    }
    check(s.total <= size && s.total <= BODY_CAP + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t split = data[0] % (size);
    head(data + 1, split);
    body(data + 1 + split, size - 1 - split, 1 + data[0] % 7);
    body(data + 1 + split, size - 1 - split, 4096);
    return 0;
}

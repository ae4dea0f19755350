#ifndef GH_HTTP_H1_H
#define GH_HTTP_H1_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * A strict HTTP/1.1 request-head parser (RFC 9112), bounded and allocation-free: the
 * caller hands it a complete head (request line, fields, empty line) in a writable buffer,
 * and it NUL-terminates the method, the target, each field name and each trimmed value in
 * place. Anything RFC 9112 lets a server refuse is refused: bare LF, obs-fold, whitespace
 * before a colon, control characters (HTAB allowed inside values), a second Content-Length
 * (even an equal one), Content-Length with Transfer-Encoding, a Transfer-Encoding whose
 * last coding is not chunked, an HTTP/1.1 request without exactly one Host.
 *
 * The chunked body decoder is a byte-driven state machine with the same strictness.
 */

/** What the parser concluded; each refusal maps to one status the server answers. */
enum gh_h1_status {
    GH_H1_OK = 0,
    GH_H1_BAD = 400,             /* malformed request line or field */
    GH_H1_URI_TOO_LONG = 414,    /* request target past its bound */
    GH_H1_HEAD_TOO_LARGE = 431,  /* fields past their bound */
    GH_H1_NOT_IMPLEMENTED = 501, /* a transfer coding we do not decode (before chunked) */
    GH_H1_BAD_VERSION = 505,     /* HTTP/x.y other than 1.0 and 1.1 */
};

struct gh_h1_field {
    const char *name;  /* NUL-terminated, as sent */
    const char *value; /* NUL-terminated, without leading and trailing SP/HTAB */
    size_t value_len;
};

struct gh_h1_head {
    const char *method;
    const char *target;
    size_t target_len;
    unsigned minor;             /* HTTP/1.minor: 0 or 1 */
    struct gh_h1_field *fields; /* caller-provided array */
    size_t nfields;
    size_t fields_max; /* its size */
    size_t
        field_bytes; /* sum of name + value + 4 per field (the server.max_header_bytes measure) */
    int keep_alive;  /* after Connection and the version */
    int chunked;     /* Transfer-Encoding: chunked */
    int has_length;  /* Content-Length present */
    uint64_t content_length;
    int expect_continue; /* Expect: 100-continue */
};

/**
 * Offset just past the empty line ending a head in buf[0..len), or 0 while incomplete.
 * *scanned remembers how far earlier calls looked so a trickled head is scanned once.
 * A line ended by a bare LF also ends the scan (the parser then refuses it).
 */
size_t gh_h1_head_end(const char *buf, size_t len, size_t *scanned) GH_NONNULL(1, 3);

/**
 * Checks the request line in buf[0..len) as far as it arrived: GH_H1_OK while it may still
 * become valid, otherwise the refusal. Lets garbage be answered before a blank line comes.
 */
enum gh_h1_status gh_h1_check_line(const char *buf, size_t len, size_t max_target) GH_NONNULL(1);

/**
 * Parses the complete head buf[0..len) (len from gh_h1_head_end), writing NULs into buf.
 * head->fields/fields_max must be set; more fields than that is GH_H1_HEAD_TOO_LARGE, as is
 * field_bytes over max_field_bytes; a target longer than max_target is GH_H1_URI_TOO_LONG.
 */
enum gh_h1_status gh_h1_parse(char *buf, size_t len, size_t max_target, size_t max_field_bytes,
                              struct gh_h1_head *head) GH_NONNULL(1, 5);

/** Index of the first byte below 0x20 or equal to 0x7f in p[0..n), or n. */
size_t gh_h1_first_ctl(const char *p, size_t n) GH_NONNULL(1);

/** Counts the lines of a complete head: an upper bound for the fields array. */
size_t gh_h1_count_lines(const char *buf, size_t len) GH_NONNULL(1);

enum gh_chunk_state {
    GH_CHUNK_SIZE = 0,
    GH_CHUNK_EXT,
    GH_CHUNK_SIZE_LF,
    GH_CHUNK_DATA,
    GH_CHUNK_DATA_CR,
    GH_CHUNK_DATA_LF,
    GH_CHUNK_TRAILER,      /* at the start of a trailer line */
    GH_CHUNK_TRAILER_LINE, /* inside a trailer line */
    GH_CHUNK_TRAILER_LF,
    GH_CHUNK_END_LF,
    GH_CHUNK_DONE,
};

/** A chunked body being decoded. Zero it to start. */
struct gh_chunked {
    enum gh_chunk_state state;
    uint64_t remaining;   /* of the current chunk's data */
    unsigned digits;      /* of the current size */
    size_t trailer_bytes; /* bounded like a head */
    int last;             /* the size was 0 */
};

/** Called with each piece of decoded body data. A non-zero return stops decoding. */
typedef int (*gh_chunk_sink)(void *arg, const char *data, size_t n);

/**
 * Feeds in[0..n) to the decoder. *used is how many bytes it took (less than n once the body
 * is complete: the rest belongs to the next request). Returns GH_OK (DONE is in c->state),
 * GH_ERR_INVALID for malformed framing or trailers past max_trailer, or GH_ERR_TOO_LARGE
 * when the sink stopped it (the body crossed its cap).
 */
gh_err gh_chunked_feed(struct gh_chunked *c, const char *in, size_t n, size_t max_trailer,
                       gh_chunk_sink sink, void *arg, size_t *used) GH_WUR GH_NONNULL(1, 2, 5, 7);

#endif

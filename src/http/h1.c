#include "http/h1.h"

#include <string.h>
#include <strings.h>

#include "core/text.h"

#define METHOD_MAX 32
#define CL_DIGITS_MAX 18 /* below 2^63: no overflow, far above any body cap */
#define CHUNK_DIGITS_MAX 15

/* RFC 9110 5.6.2 tchar, as a bitmap over the 128 ASCII codes (one test per byte). */
static const uint64_t tchar_map[2] = {
    /* ! # $ % & ' * + - . 0-9 */
    (1ull << '!') | (1ull << '#') | (1ull << '$') | (1ull << '%') | (1ull << '&') | (1ull << '\'') |
        (1ull << '*') | (1ull << '+') | (1ull << '-') | (1ull << '.') | (0x3ffull << '0'),
    /* A-Z ^ _ ` a-z | ~ */
    (0x3ffffffull << ('A' - 64)) | (1ull << ('^' - 64)) | (1ull << ('_' - 64)) |
        (1ull << ('`' - 64)) | (0x3ffffffull << ('a' - 64)) | (1ull << ('|' - 64)) |
        (1ull << ('~' - 64)),
};

static int is_tchar(unsigned char c)
{
    return c < 128 && (tchar_map[c >> 6] >> (c & 63)) & 1;
}

/* A request target byte: visible ASCII (RFC 3986 characters and the few clients send raw). */
static int is_target_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

/* A field value byte besides SP/HTAB: VCHAR or obs-text. */
static int is_value_char(unsigned char c)
{
    return (c > 0x20 && c != 0x7f);
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

size_t gh_h1_head_end(const char *buf, size_t len, size_t *scanned)
{
    size_t p = *scanned;
    while (p < len) {
        const char *nl = memchr(buf + p, '\n', len - p);
        if (nl == NULL)
            break;
        size_t i = (size_t)(nl - buf);
        if (i + 1 >= len) {
            *scanned = i;
            return 0;
        }
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r') {
            if (i + 2 >= len) {
                *scanned = i;
                return 0;
            }
            if (buf[i + 2] == '\n')
                return i + 3;
        }
        p = i + 1;
    }
    *scanned = len;
    return 0;
}

size_t gh_h1_count_lines(const char *buf, size_t len)
{
    size_t n = 0;
    for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))) != NULL; p++)
        n++;
    return n;
}

/*
 * Scans the request line in buf[0..len) (complete or not). Sets the offsets of the target
 * and of the version when they were reached; *done is set when the line ended with CRLF.
 */
struct line {
    size_t method_len, target, target_len, version, end;
    int done;
};

static enum gh_h1_status scan_line(const char *buf, size_t len, size_t max_target, struct line *l)
{
    static const char proto[] = "HTTP/";
    memset(l, 0, sizeof(*l));
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)buf[i]))
        i++;
    if (i > METHOD_MAX)
        return GH_H1_BAD;
    if (i == len)
        return GH_H1_OK;
    if (i == 0 || buf[i] != ' ')
        return GH_H1_BAD;
    l->method_len = i;
    l->target = ++i;
    while (i < len && is_target_char((unsigned char)buf[i])) {
        if (i - l->target >= max_target)
            return GH_H1_URI_TOO_LONG;
        i++;
    }
    if (i == len)
        return GH_H1_OK;
    if (i == l->target || buf[i] != ' ')
        return GH_H1_BAD;
    l->target_len = i - l->target;
    l->version = ++i;
    /* "HTTP/" DIGIT "." DIGIT CR LF */
    for (size_t k = 0; i < len && k < 10; i++, k++) {
        char c = buf[i];
        int ok = k < 5                ? c == proto[k]
                 : (k == 5 || k == 7) ? (c >= '0' && c <= '9')
                 : k == 6             ? c == '.'
                 : k == 8             ? c == '\r'
                                      : c == '\n';
        if (!ok)
            return GH_H1_BAD;
        if (k == 9) {
            l->end = i + 1;
            l->done = 1;
        }
    }
    return GH_H1_OK;
}

enum gh_h1_status gh_h1_check_line(const char *buf, size_t len, size_t max_target)
{
    struct line l;
    return scan_line(buf, len, max_target, &l);
}

/* Sets head->target for the target form; the absolute form is reduced to its path. */
static enum gh_h1_status target_form(char *t, size_t n, struct gh_h1_head *head)
{
    if (t[0] == '/') {
        head->target = t;
        head->target_len = n;
        return GH_H1_OK;
    }
    if (n == 1 && t[0] == '*' && strcmp(head->method, "OPTIONS") == 0) {
        head->target = t;
        head->target_len = 1;
        return GH_H1_OK;
    }
    size_t skip = strncasecmp(t, "http://", 7) == 0    ? 7
                  : strncasecmp(t, "https://", 8) == 0 ? 8
                                                       : 0;
    if (skip == 0 || skip == n)
        return GH_H1_BAD;
    char *slash = memchr(t + skip, '/', n - skip);
    if (slash == NULL) {
        head->target = "/"; /* "http://host" means "/" */
        head->target_len = 1;
        return GH_H1_OK;
    }
    head->target = slash;
    head->target_len = n - (size_t)(slash - t);
    return GH_H1_OK;
}

typedef unsigned char v16 __attribute__((vector_size(16)));
typedef uint64_t v2 __attribute__((vector_size(16)));

/* Nonzero lanes where a byte of x is below 0x20 or 0x7f. */
static v16 ctl16(const char *p)
{
    v16 x;
    memcpy(&x, p, 16);
    return (v16)((x < 0x20) | (x == 0x7f));
}

static int any16(v16 bad)
{
    v2 w = (v2)bad;
    return (w[0] | w[1]) != 0;
}

/* Whether the word at p has a byte below 0x20, or one equal to 0x7f (a zero byte of del);
 * exact as a whole: a borrow runs only from such a byte to the ones above it. */
static int ctl8(const char *p)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t x, del;
    memcpy(&x, p, 8);
    del = x ^ (0x7f * ones);
    return ((((x - 0x20 * ones) & ~x) | ((del - ones) & ~del)) & high) != 0;
}

/*
 * A token is 1 KiB of plain text: 64 bytes a step with one test, in GCC/Clang vector
 * types that compile to SSE2 or NEON, then 16, then 8 bytes a step in a word and the last
 * word (the short values of answer headers); a step with such a byte is looked at bytewise.
 */
size_t gh_h1_first_ctl(const char *p, size_t n)
{
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        if (any16(ctl16(p + i) | ctl16(p + i + 16) | ctl16(p + i + 32) | ctl16(p + i + 48)))
            break;
    }
    for (; i + 16 <= n && !any16(ctl16(p + i)); i += 16)
        ;
    for (; i + 8 <= n && !ctl8(p + i); i += 8)
        ;
    if (i < n && i + 8 > n && n >= 8 && !ctl8(p + n - 8))
        return n; /* the last word, overlapping bytes already looked at */
    while (i < n && (unsigned char)p[i] >= 0x20 && p[i] != 0x7f)
        i++;
    return i;
}

/* Parses one field line buf[0..n) (without its CRLF) into f, writing NULs. */
static enum gh_h1_status parse_field(char *buf, size_t n, struct gh_h1_field *f)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == 0 || i == n || buf[i] != ':')
        return GH_H1_BAD; /* obs-fold, whitespace before the colon, a bad name byte */
    const char *colon = buf + i;
    buf[i++] = '\0';
    while (i < n && is_ows(buf[i]))
        i++;
    size_t start = i, end;
    while ((i += gh_h1_first_ctl(buf + i, n - i)) < n) {
        if (buf[i] != '\t')
            return GH_H1_BAD; /* NUL, CR, DEL and every other control character but HTAB */
        i++;
    }
    for (end = n; end > start && is_ows(buf[end - 1]); end--)
        ;
    buf[end] = '\0';
    f->name = buf;
    f->name_len = (size_t)(colon - buf);
    f->value = buf + start;
    f->value_len = end - start;
    return GH_H1_OK;
}

/* Transfer-Encoding: chunked last, nothing after it; any coding before it is 501. */
static enum gh_h1_status transfer_coding(const char *v, struct gh_h1_head *head)
{
    const char *last = v;
    size_t nlast = 0;
    unsigned count = 0;
    for (const char *p = v; *p != '\0';) {
        while (is_ows(*p))
            p++;
        const char *tok = p;
        while (is_tchar((unsigned char)*p))
            p++;
        size_t n = (size_t)(p - tok);
        while (is_ows(*p))
            p++;
        if (n == 0 || (*p != ',' && *p != '\0'))
            return GH_H1_BAD; /* empty element, parameters, junk */
        if (count > 0 && nlast == 7 && strncasecmp(last, "chunked", 7) == 0)
            return GH_H1_BAD; /* chunked applied twice or followed by another coding */
        last = tok;
        nlast = n;
        count++;
        if (*p == ',')
            p++;
    }
    if (count == 0 || nlast != 7 || strncasecmp(last, "chunked", 7) != 0)
        return GH_H1_BAD; /* the body length cannot be determined (RFC 9112 6.3) */
    if (count > 1)
        return GH_H1_NOT_IMPLEMENTED;
    head->chunked = 1;
    return GH_H1_OK;
}

static enum gh_h1_status content_length(const char *v, size_t n, struct gh_h1_head *head)
{
    if (n == 0 || n > CL_DIGITS_MAX)
        return GH_H1_BAD;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return GH_H1_BAD;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    head->has_length = 1;
    head->content_length = x;
    return GH_H1_OK;
}

/* Connection: a comma-separated token list; close wins. */
static void connection_tokens(const char *v, struct gh_h1_head *head)
{
    for (const char *p = v; *p != '\0';) {
        while (is_ows(*p) || *p == ',')
            p++;
        const char *tok = p;
        while (*p != '\0' && *p != ',' && !is_ows(*p))
            p++;
        size_t n = (size_t)(p - tok);
        if (n == 5 && strncasecmp(tok, "close", 5) == 0)
            head->keep_alive = -1;
        else if (n == 10 && strncasecmp(tok, "keep-alive", 10) == 0 && head->keep_alive == 0)
            head->keep_alive = 1;
    }
}

/* Framing and connection semantics of the parsed fields. */
static enum gh_h1_status semantics(struct gh_h1_head *head)
{
    unsigned nhost = 0, ncl = 0, nte = 0;
    head->keep_alive = 0;
    for (size_t i = 0; i < head->nfields; i++) {
        const struct gh_h1_field *f = &head->fields[i];
        enum gh_h1_status st = GH_H1_OK;
        char c = (char)(f->name[0] | 0x20);
        if (c != 'h' && c != 'c' && c != 't' && c != 'e')
            continue; /* none of the fields below: skip the comparisons */
        if (strcasecmp(f->name, "Host") == 0)
            nhost++;
        else if (strcasecmp(f->name, "Content-Length") == 0 && ncl++ == 0)
            st = content_length(f->value, f->value_len, head);
        else if (strcasecmp(f->name, "Transfer-Encoding") == 0 && nte++ == 0)
            st = transfer_coding(f->value, head);
        else if (strcasecmp(f->name, "Connection") == 0)
            connection_tokens(f->value, head);
        else if (strcasecmp(f->name, "Expect") == 0)
            head->expect_continue = strcasecmp(f->value, "100-continue") == 0;
        if (st != GH_H1_OK)
            return st;
    }
    /* Two lengths, even equal ones, or a length beside a coding: request smuggling shapes. */
    if (ncl > 1 || nte > 1 || (ncl > 0 && nte > 0) || nhost > 1)
        return GH_H1_BAD;
    if (head->minor == 0 && nte > 0)
        return GH_H1_BAD; /* RFC 9112 6.1: faulty framing */
    if (head->minor == 1 && nhost == 0)
        return GH_H1_BAD; /* RFC 9112 3.2 */
    head->keep_alive = head->keep_alive < 0 ? 0 : head->minor == 1 ? 1 : head->keep_alive;
    return GH_H1_OK;
}

enum gh_h1_status gh_h1_parse(char *buf, size_t len, size_t max_target, size_t max_field_bytes,
                              struct gh_h1_head *head)
{
    struct line l;
    enum gh_h1_status st = scan_line(buf, len, max_target, &l);
    if (st != GH_H1_OK)
        return st;
    if (!l.done)
        return GH_H1_BAD;
    if (buf[l.version + 5] != '1')
        return GH_H1_BAD_VERSION;
    head->minor = buf[l.version + 7] == '0' ? 0 : 1;
    buf[l.method_len] = '\0';
    buf[l.target + l.target_len] = '\0';
    head->method = buf;
    if ((st = target_form(buf + l.target, l.target_len, head)) != GH_H1_OK)
        return st;

    head->nfields = 0;
    head->field_bytes = 0;
    size_t p = l.end;
    for (;;) {
        char *nl = memchr(buf + p, '\n', len - p);
        if (nl == NULL)
            return GH_H1_BAD;
        size_t e = (size_t)(nl - buf);
        if (e == p || buf[e - 1] != '\r')
            return GH_H1_BAD; /* a bare LF */
        size_t n = e - 1 - p;
        if (n == 0)
            break;
        if (head->nfields == head->fields_max)
            return GH_H1_HEAD_TOO_LARGE;
        struct gh_h1_field *f = &head->fields[head->nfields];
        if ((st = parse_field(buf + p, n, f)) != GH_H1_OK)
            return st;
        head->field_bytes += f->name_len + f->value_len + 4;
        if (head->field_bytes > max_field_bytes)
            return GH_H1_HEAD_TOO_LARGE;
        head->nfields++;
        p = e + 1;
    }
    return semantics(head);
}

/* ---- chunked bodies ---- */

static gh_err trailer_byte(struct gh_chunked *c, char ch, size_t max_trailer)
{
    if (++c->trailer_bytes > max_trailer)
        return GH_ERR_INVALID;
    unsigned char u = (unsigned char)ch;
    return is_value_char(u) || is_ows(ch) ? GH_OK : GH_ERR_INVALID;
}

gh_err gh_chunked_feed(struct gh_chunked *c, const char *in, size_t n, size_t max_trailer,
                       gh_chunk_sink sink, void *arg, size_t *used)
{
    size_t i = 0;
    while (i < n && c->state != GH_CHUNK_DONE) {
        char ch = in[i];
        int h;
        switch (c->state) {
        case GH_CHUNK_SIZE:
            if ((h = gh_hex_value(ch)) >= 0) {
                if (++c->digits > CHUNK_DIGITS_MAX)
                    return GH_ERR_INVALID;
                c->remaining = c->remaining * 16 + (uint64_t)h;
            } else if (c->digits == 0) {
                return GH_ERR_INVALID;
            } else if (ch == ';' || is_ows(ch)) {
                c->state = GH_CHUNK_EXT;
            } else if (ch == '\r') {
                c->state = GH_CHUNK_SIZE_LF;
            } else {
                return GH_ERR_INVALID;
            }
            i++;
            break;
        case GH_CHUNK_EXT: /* extensions are ignored, bounded like trailers */
            if (ch == '\r')
                c->state = GH_CHUNK_SIZE_LF;
            else if (trailer_byte(c, ch, max_trailer) != GH_OK)
                return GH_ERR_INVALID;
            i++;
            break;
        case GH_CHUNK_SIZE_LF:
            if (ch != '\n')
                return GH_ERR_INVALID;
            c->last = c->remaining == 0;
            c->state = c->last ? GH_CHUNK_TRAILER : GH_CHUNK_DATA;
            i++;
            break;
        case GH_CHUNK_DATA: {
            size_t take = n - i;
            if ((uint64_t)take > c->remaining)
                take = (size_t)c->remaining;
            if (sink(arg, in + i, take) != 0)
                return GH_ERR_TOO_LARGE;
            c->remaining -= take;
            i += take;
            if (c->remaining == 0)
                c->state = GH_CHUNK_DATA_CR;
            break;
        }
        case GH_CHUNK_DATA_CR:
            if (ch != '\r')
                return GH_ERR_INVALID;
            c->state = GH_CHUNK_DATA_LF;
            i++;
            break;
        case GH_CHUNK_DATA_LF:
            if (ch != '\n')
                return GH_ERR_INVALID;
            c->state = GH_CHUNK_SIZE;
            c->digits = 0;
            i++;
            break;
        case GH_CHUNK_TRAILER:
            if (ch == '\r')
                c->state = GH_CHUNK_END_LF;
            else if (is_ows(ch) || trailer_byte(c, ch, max_trailer) != GH_OK)
                return GH_ERR_INVALID; /* obs-fold or a control character */
            else
                c->state = GH_CHUNK_TRAILER_LINE;
            i++;
            break;
        case GH_CHUNK_TRAILER_LINE:
            if (ch == '\r')
                c->state = GH_CHUNK_TRAILER_LF;
            else if (trailer_byte(c, ch, max_trailer) != GH_OK)
                return GH_ERR_INVALID;
            i++;
            break;
        case GH_CHUNK_TRAILER_LF:
        case GH_CHUNK_END_LF:
            if (ch != '\n')
                return GH_ERR_INVALID;
            c->state = c->state == GH_CHUNK_END_LF ? GH_CHUNK_DONE : GH_CHUNK_TRAILER;
            i++;
            break;
        case GH_CHUNK_DONE:
            break;
        }
    }
    *used = i;
    return GH_OK;
}

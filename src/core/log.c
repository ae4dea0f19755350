#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

static enum gh_log_level min_level = GH_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void gh_log_set_level(enum gh_log_level level)
{
    min_level = level;
}

gh_err gh_log_timestamp(struct gh_buf *b)
{
    /* One line per request: the date part is formatted once a second per thread. A
     * thread-local is the right tool here: a cache of a pure function of the clock, read
     * and written by its own thread only, no secret, and valid across requests (the
     * request arena would lose it; a shared copy would need a lock on every log line). */
    static __thread time_t cached_sec = -1;
    static __thread char text[32];
    static __thread size_t text_len;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        text_len = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S.", &tm);
        if (text_len == 0)
            return GH_ERR_INTERNAL;
        cached_sec = ts.tv_sec;
    }
    unsigned ms = (unsigned)(ts.tv_nsec / 1000000L);
    char tail[5] = {(char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), 'Z',
                    '\0'};
    gh_err err = gh_buf_append(b, text, text_len);
    return err == GH_OK ? gh_buf_append(b, tail, 4) : err;
}

void gh_log_json_line(const char *json, size_t len)
{
    /* One writev per line, so lines from several threads never interleave. */
    struct iovec iov[2] = {{(void *)json, len}, {(void *)"\n", 1}};
    size_t left = len + 1;
    while (left > 0) {
        ssize_t w = writev(STDOUT_FILENO, iov, 2);
        if (w <= 0)
            return;
        left -= (size_t)w;
        /* A short write (a full pipe) continues where it stopped. */
        for (int i = 0; i < 2; i++) {
            size_t take = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + take;
            iov[i].iov_len -= take;
            w -= (ssize_t)take;
        }
    }
}

void gh_log_json_lines(const char *text, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDOUT_FILENO, text, len);
        if (w <= 0)
            return;
        text += w;
        len -= (size_t)w;
    }
}

void gh_log(enum gh_log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t mlen = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;

    struct gh_buf b;
    gh_buf_init(&b, 4096);
    if (gh_buf_puts(&b, "{\"ts\":\"") == GH_OK && gh_log_timestamp(&b) == GH_OK &&
        gh_buf_printf(&b, "\",\"level\":\"%s\",\"msg\":\"", level_names[level]) == GH_OK &&
        gh_buf_json_escape(&b, msg, mlen) == GH_OK && gh_buf_puts(&b, "\"}") == GH_OK)
        gh_log_json_line(b.ptr, b.len);
    gh_buf_clear(&b);
}

/*
 * Query values are logged only for parameters known to be harmless, and only when short
 * and plain: a credential can hide under any name (apikey=, jwt=, %74oken=, =token=), so
 * the scrubber keeps what it knows instead of removing what it knows.
 */
static int is_harmless_param(const char *name, size_t len)
{
    static const char *const names[] = {"limit",  "offset",  "mode",   "since", "until", "action",
                                        "org_id", "user_id", "status", "page",  "sort",  "order"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return 1;
    }
    return 0;
}

#define KEPT_VALUE_MAX 40

static int is_plain_value(const char *v, size_t len)
{
    if (len > KEPT_VALUE_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

gh_err gh_log_scrub_uri(struct gh_buf *out, const char *uri, size_t len)
{
    const char *q = memchr(uri, '?', len);
    if (q == NULL)
        return gh_buf_append(out, uri, len);
    gh_err err = gh_buf_append(out, uri, (size_t)(q - uri) + 1);
    const char *end = uri + len;
    const char *p = q + 1;
    while (err == GH_OK && p < end) {
        /* '&' separates parameters; ';' and a second '?' are treated alike so that no
         * parser downstream can read a token= the scrubber took for part of a value. */
        const char *amp = p;
        while (amp < end && *amp != '&' && *amp != ';' && *amp != '?')
            amp++;
        if (amp == end)
            amp = NULL;
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq == NULL) {
            /* A bare item is a value without a name: kept only when it is a known name. */
            if (p == stop || is_harmless_param(p, (size_t)(stop - p)))
                err = gh_buf_append(out, p, (size_t)(stop - p));
            else
                err = gh_buf_puts(out, "***REDACTED***");
        } else if (is_harmless_param(p, (size_t)(eq - p)) &&
                   is_plain_value(eq + 1, (size_t)(stop - eq - 1))) {
            err = gh_buf_append(out, p, (size_t)(stop - p));
        } else {
            err = gh_buf_append(out, p, (size_t)(eq - p) + 1);
            if (err == GH_OK)
                err = gh_buf_puts(out, "***REDACTED***");
        }
        if (err == GH_OK && amp != NULL)
            err = gh_buf_append(out, amp, 1);
        p = amp ? amp + 1 : end;
    }
    return err;
}

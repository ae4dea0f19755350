/* Outbound HTTP through libcurl (fetch.h). */
#include "edge/fetch.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <sodium.h>

#include "core/buf.h"
#include "core/log.h"

/*
 * libcurl is opened when a feature needs it, not linked: it brings some 30 libraries
 * (GnuTLS, Kerberos, LDAP, SSH, RTMP...) and about 4 MB of resident memory into every
 * process, for features that are off unless configured (alerts, SSO). Its calls go
 * through this table, filled by the first gh_fetch_open and read-only until the last
 * gh_fetch_close; only its types and constants come from the header.
 */
static struct {
    void *handle;
    CURLcode (*global_init)(long flags);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *c);
    void (*easy_reset)(CURL *c);
    CURLcode (*easy_setopt)(CURL *c, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode rc);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
} lib;
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned lib_users;

#define LOAD(field, name) ((lib.field = (__typeof__(lib.field))dlsym(lib.handle, name)) != NULL)

static gh_err load(void)
{
    lib.handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (lib.handle == NULL) {
        gh_log(GH_LOG_ERROR, "fetch: cannot load libcurl.so.4: %s", dlerror());
        return GH_ERR_IO;
    }
    if (!LOAD(global_init, "curl_global_init") || !LOAD(global_cleanup, "curl_global_cleanup") ||
        !LOAD(easy_init, "curl_easy_init") || !LOAD(easy_cleanup, "curl_easy_cleanup") ||
        !LOAD(easy_reset, "curl_easy_reset") || !LOAD(easy_setopt, "curl_easy_setopt") ||
        !LOAD(easy_perform, "curl_easy_perform") || !LOAD(easy_getinfo, "curl_easy_getinfo") ||
        !LOAD(easy_strerror, "curl_easy_strerror") || !LOAD(slist_append, "curl_slist_append") ||
        !LOAD(slist_free_all, "curl_slist_free_all") ||
        lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        gh_log(GH_LOG_ERROR, "fetch: libcurl.so.4 lacks a function or did not start");
        dlclose(lib.handle);
        memset(&lib, 0, sizeof(lib));
        return GH_ERR_IO;
    }
    return GH_OK;
}

gh_err gh_fetch_open(void)
{
    gh_err err = GH_OK;
    pthread_mutex_lock(&lib_lock);
    if (lib_users == 0)
        err = load();
    if (err == GH_OK)
        lib_users++;
    pthread_mutex_unlock(&lib_lock);
    return err;
}

void gh_fetch_close(void)
{
    pthread_mutex_lock(&lib_lock);
    if (lib_users > 0 && --lib_users == 0) {
        lib.global_cleanup();
        dlclose(lib.handle);
        memset(&lib, 0, sizeof(lib));
    }
    pthread_mutex_unlock(&lib_lock);
}

struct gh_fetch {
    CURL *curl;
};

gh_err gh_fetch_new(struct gh_fetch **out)
{
    struct gh_fetch *f = calloc(1, sizeof(*f));
    if (f == NULL || lib.easy_init == NULL || (f->curl = lib.easy_init()) == NULL) {
        free(f);
        return GH_ERR_NOMEM;
    }
    *out = f;
    return GH_OK;
}

void gh_fetch_free(struct gh_fetch *f)
{
    if (f == NULL)
        return;
    lib.easy_cleanup(f->curl);
    free(f);
}

void gh_fetch_resp_clear(struct gh_fetch_resp *out)
{
    if (out->body != NULL) {
        sodium_memzero(out->body, out->len);
        free(out->body);
    }
    memset(out, 0, sizeof(*out));
}

/* The answer body, capped: past the cap the transfer stops (CURLE_WRITE_ERROR). The
 * buffer has room for the cap and a NUL. */
struct sink {
    struct gh_buf buf;
    size_t cap;
    int over;
};

static size_t take(char *p, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    if (size * n > s->cap - s->buf.len || gh_buf_append(&s->buf, p, size * n) != GH_OK) {
        s->over = 1;
        return 0;
    }
    return size * n;
}

struct cancel {
    gh_fetch_cancel fn;
    void *arg;
};

static int progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                    curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const struct cancel *c = arg;
    return c->fn != NULL ? c->fn(c->arg) : 0;
}

/* The request's headers; secrets in them are wiped by the caller's free_headers. */
static struct curl_slist *headers_of(const struct gh_fetch_req *rq)
{
    char line[4096];
    struct curl_slist *h = lib.slist_append(NULL, "Accept: application/json");
    if (h != NULL && rq->body != NULL) {
        (void)snprintf(line, sizeof(line), "Content-Type: %s",
                       rq->content_type != NULL ? rq->content_type : "application/json");
        h = lib.slist_append(h, line) != NULL ? lib.slist_append(h, "Expect:") : NULL;
    }
    const char *scheme = rq->bearer != NULL ? "Bearer" : rq->basic != NULL ? "Basic" : NULL;
    const char *cred = rq->bearer != NULL ? rq->bearer : rq->basic;
    if (h != NULL && scheme != NULL) {
        int n = snprintf(line, sizeof(line), "Authorization: %s %s", scheme, cred);
        h = n > 0 && (size_t)n < sizeof(line) ? lib.slist_append(h, line) : NULL;
    }
    sodium_memzero(line, sizeof(line));
    return h;
}

static void free_headers(struct curl_slist *h)
{
    for (struct curl_slist *at = h; at != NULL; at = at->next)
        sodium_memzero(at->data, strlen(at->data));
    lib.slist_free_all(h);
}

gh_err gh_fetch_do(struct gh_fetch *f, const struct gh_fetch_req *rq, struct gh_fetch_resp *out,
                   char *why, size_t why_size)
{
    struct cancel stop = {rq->cancel, rq->cancel_arg};
    struct sink sink = {.cap = rq->max_bytes, .over = 0};
    struct curl_slist *headers = headers_of(rq);
    CURL *c = f->curl;
    if (headers == NULL) {
        (void)snprintf(why, why_size, "out of memory");
        return GH_ERR_NOMEM;
    }
    gh_buf_init(&sink.buf, rq->max_bytes + 1);
    lib.easy_reset(c);
    CURLcode rc = CURLE_OK;
    /* Each option is checked: an unknown one (an older libcurl) must not pass silently. */
    if ((rc = lib.easy_setopt(c, CURLOPT_URL, rq->url)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, rq->timeout_ms)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_HTTPHEADER, headers)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_USERAGENT, "gatehouse")) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)rq->max_bytes)) !=
            CURLE_OK ||
        (rq->body != NULL && ((rc = lib.easy_setopt(c, CURLOPT_POSTFIELDS, rq->body)) != CURLE_OK ||
                              (rc = lib.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                                                    (curl_off_t)rq->body_len)) != CURLE_OK)) ||
        (rc = lib.easy_setopt(c, CURLOPT_WRITEFUNCTION, take)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_WRITEDATA, &sink)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_XFERINFODATA, &stop)) != CURLE_OK ||
        (rc = lib.easy_setopt(c, CURLOPT_NOPROGRESS, 0L)) != CURLE_OK)
        goto out;
    rc = lib.easy_perform(c);
out:
    /* The handle keeps no pointer to what is freed here past the call. */
    (void)lib.easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    free_headers(headers);
    gh_err err = GH_OK;
    if (sink.over || rc == CURLE_FILESIZE_EXCEEDED) {
        (void)snprintf(why, why_size, "answer larger than %zu bytes", rq->max_bytes);
        err = GH_ERR_TOO_LARGE;
    } else if (rc != CURLE_OK) {
        /* libcurl's error text is fixed: the URL (maybe a secret) never reaches the log. */
        (void)snprintf(why, why_size, "%s", lib.easy_strerror(rc));
        err = GH_ERR_IO;
    } else if (sink.buf.len > 0 && gh_buf_append(&sink.buf, "", 1) != GH_OK) {
        (void)snprintf(why, why_size, "out of memory");
        err = GH_ERR_NOMEM;
    }
    if (err != GH_OK) {
        gh_buf_clear(&sink.buf);
        return err;
    }
    long status = 0;
    (void)lib.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    out->status = status;
    out->len = sink.buf.len > 0 ? sink.buf.len - 1 : 0;
    out->body = sink.buf.len > 0 ? gh_buf_take(&sink.buf) : NULL;
    return GH_OK;
}

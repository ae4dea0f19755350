/*
 * libFuzzer target: the audit log's query (gh_api_audit_query_parse) over arguments cut
 * from the input as "name=value&name=value" (the dispatcher hands values already
 * decoded), with the parser's promises checked on success; then the canonical encoding
 * of a record made of the same bytes (its length must follow the specification and the
 * streamed hash must be the hash of the encoded bytes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "api/audit.h"
#include "audit/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

#define MAX_ARGS 16

struct args {
    const char *names[MAX_ARGS], *values[MAX_ARGS];
    size_t n;
};

static const char *get(void *arg, const char *name)
{
    struct args *a = arg;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->names[i], name) == 0)
            return a->values[i];
    return NULL;
}

static int within(const char *s, const char *text, size_t len)
{
    return s == NULL || (s >= text && s < text + len);
}

static size_t text_len(const char *s)
{
    return s == NULL || *s == '\0' ? 1 : 5 + strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t len = strlen(text);

    char *copy = strdup(text);
    struct args a = {.n = 0};
    for (char *p = copy; p != NULL && *p != '\0' && a.n < MAX_ARGS;) {
        char *amp = strchr(p, '&');
        if (amp != NULL)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq != NULL) {
            *eq = '\0';
            a.names[a.n] = p;
            a.values[a.n++] = eq + 1;
        }
        p = amp != NULL ? amp + 1 : NULL;
    }
    struct gh_audit_query q;
    const char *bad = NULL;
    if (gh_api_audit_query_parse(get, &a, &q, &bad) == GH_OK) {
        check(q.limit >= 1 && q.limit <= GH_AUDIT_PAGE_MAX);
        check(q.offset <= (size_t)1 << 40);
        check(!q.filter.has_since || !q.filter.has_until || q.filter.since <= q.filter.until);
        const char *fields[] = {q.filter.user_id, q.filter.action, q.filter.resource_type,
                                q.filter.resource_id, q.filter.org_id};
        for (size_t i = 0; i < 5; i++) {
            check(within(fields[i], copy, len + 1));
            check(fields[i] == NULL ||
                  (*fields[i] != '\0' && strlen(fields[i]) <= GH_AUDIT_ARG_MAX));
        }
    } else {
        check(bad != NULL);
    }
    free(copy);

    static const unsigned char prev[GH_HASH_LEN];
    struct gh_audit_event ev = {.ts = (int64_t)size,
                                .action = text,
                                .path = text + len / 2,
                                .metadata_json = text,
                                .status = (int)len - 2};
    struct gh_buf b;
    gh_buf_init(&b, 64 * 1024);
    if (gh_audit_encode((int64_t)len, &ev, prev, &b) == GH_OK) {
        size_t want = 19 + 16 + text_len(ev.action) + 8 + text_len(ev.path) +
                      (ev.status != 0 ? 9 : 1) + text_len(ev.metadata_json) + GH_HASH_LEN;
        check(b.len == want);
        unsigned char h1[GH_HASH_LEN], h2[GH_HASH_LEN];
        gh_audit_hash((int64_t)len, &ev, prev, h1);
        crypto_hash_sha256(h2, (const unsigned char *)b.ptr, b.len);
        check(memcmp(h1, h2, GH_HASH_LEN) == 0);
    }
    gh_buf_clear(&b);
    free(text);
    return 0;
}

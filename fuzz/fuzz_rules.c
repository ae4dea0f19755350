/*
 * libFuzzer target: gh_rules_parse, the ForwardAuth route rules from the configuration,
 * parsed under both default policies; on success, every rule is checked against the
 * parser's promises and a few fixed requests are matched (the path must come back
 * unchanged and the answer must be one of the rules).

 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authz/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static const char *const methods[] = {"GET", "HEAD", "POST", "DELETE", "GETX", "FORGET", "get",
                                      "", ",GET", "GET,HEAD"};

static const char *const paths[] = {"/", "/a", "/a/", "/a/b", "/media", "/media/x/y", "/api/v1/items/3",
                                    "/caf\xc3\xa9", "/x;y", "/%41"};

static void check_rules(const struct gh_rules *r, enum gh_access fallback)
{
    check(r->fallback == fallback);
    check(r->n <= 256);
    check(r->n == 0 || r->items != NULL);
    for (size_t i = 0; i < r->n; i++) {
        const struct gh_rule *x = &r->items[i];
        size_t ml = strnlen(x->methods, sizeof(x->methods));
        check(ml < sizeof(x->methods));
        check(strcmp(x->methods, "*") == 0 ||
              (ml >= 3 && x->methods[0] == ',' && x->methods[ml - 1] == ','));
        size_t pl = strnlen(x->pattern, sizeof(x->pattern));
        check(pl < sizeof(x->pattern));
        check(pl > 0 ? x->pattern[0] == '/' : x->any_suffix);
        check(strstr(x->pattern, "**") == NULL);
        check(strpbrk(x->pattern, "?[]\\#") == NULL);
        check(x->access == GH_ACCESS_PUBLIC || x->access == GH_ACCESS_AUTHENTICATED ||
              x->access == GH_ACCESS_PERMISSION);
        if (x->access == GH_ACCESS_PERMISSION)
            check(gh_perm_valid(x->permission, strnlen(x->permission, GH_PERM_MAX)));
        check(!(x->media && x->access == GH_ACCESS_PUBLIC));
    }
    for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
        for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
            char path[64];
            size_t n = strlen(paths[p]);
            memcpy(path, paths[p], n + 1);
            const struct gh_rule *hit = gh_rules_match(r, methods[m], path);
            check(memcmp(path, paths[p], n + 1) == 0);
            check(hit == NULL || (hit >= r->items && hit < r->items + r->n));
            /* A first rule for any method on a bare final "**" catches every request. */
            if (r->n > 0 && r->items[0].any_suffix && r->items[0].pattern[0] == '\0' &&
                strcmp(r->items[0].methods, "*") == 0)
                check(hit == &r->items[0]);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    check(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    static const char *const policies[] = {"authenticated", "deny"};
    static const enum gh_access fallbacks[] = {GH_ACCESS_AUTHENTICATED, GH_ACCESS_DENY};
    for (size_t i = 0; i < 2; i++) {
        struct gh_rules r;
        char err[128];
        memset(err, 'X', sizeof(err));
        gh_err e = gh_rules_parse(text, policies[i], &r, err, sizeof(err));
        if (e == GH_OK) {
            check_rules(&r, fallbacks[i]);
            gh_rules_clear(&r);
            check(r.items == NULL && r.n == 0);
        } else {
            check(e == GH_ERR_INVALID || e == GH_ERR_NOMEM);
            if (e == GH_ERR_INVALID) {
                check(memchr(err, '\0', sizeof(err)) != NULL);
                check(strncmp(err, "rule ", 5) == 0);
            }
        }
    }
    free(text);
    return 0;
}

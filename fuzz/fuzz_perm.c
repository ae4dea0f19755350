/*
 * libFuzzer target: permission lists (core/perm.c). The input is two lists separated by
 * the first newline. Properties: a valid permission covers itself; every item of the
 * intersection of the lists is a valid permission both lists allow (the intersection
 * never grants more than either side, ":own" included); a permission known to a catalog
 * is valid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/perm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

/* Checks each space-separated item of list against a and b. */
static void check_items(const char *list, const char *a, const char *b)
{
    char item[GH_PERM_MAX];
    while (*list != '\0') {
        size_t n = strcspn(list, " ");
        check(n > 0 && n < sizeof(item));
        memcpy(item, list, n);
        item[n] = '\0';
        check(gh_perm_valid(item, n));
        check(gh_perms_allow(a, item, n) && gh_perms_allow(b, item, n));
        list += n;
        check(*list == '\0' || (list[0] == ' ' && list[1] != ' ' && list[1] != '\0'));
        if (*list == ' ')
            list++;
    }
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
    if (strlen(text) != size) { /* a NUL inside: lists are C strings */
        free(text);
        return 0;
    }
    char *b = strchr(text, '\n');
    if (b != NULL)
        *b++ = '\0';
    else
        b = text + size;
    const char *a = text;

    size_t alen = strlen(a);
    if (gh_perm_valid(a, alen))
        check(gh_perm_covers(a, alen, a, alen));
    if (gh_perm_known(b, a, alen))
        check(gh_perm_valid(a, alen));

    char out[8192];
    if (gh_perms_intersect(a, b, out, sizeof(out)) == GH_OK)
        check_items(out, a, b);
    free(text);
    return 0;
}

#include "core/perm.h"

#include <string.h>

#define PART_MAX 64

#define OWN ":own"
#define OWN_LEN 4

/* A permission split at its colon; parts are not NUL-terminated. */
struct perm {
    const char *res, *act;
    size_t res_len, act_len;
    int own; /* qualified ":own" */
};

static int part_ok(const char *s, size_t n)
{
    if (n == 1 && s[0] == '*')
        return 1;
    if (n == 0 || n > PART_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

static int split(const char *s, size_t n, struct perm *p)
{
    const char *colon = memchr(s, ':', n);
    if (colon == NULL)
        return 0;
    p->res = s;
    p->res_len = (size_t)(colon - s);
    p->act = colon + 1;
    p->act_len = n - p->res_len - 1;
    p->own = 0;
    const char *second = memchr(p->act, ':', p->act_len);
    if (second != NULL) {
        /* The only third part there is: ":own". */
        if ((size_t)(s + n - second) != OWN_LEN || memcmp(second, OWN, OWN_LEN) != 0)
            return 0;
        p->own = 1;
        p->act_len -= OWN_LEN;
    }
    return part_ok(p->res, p->res_len) && part_ok(p->act, p->act_len);
}

static int is_star(const char *s, size_t n)
{
    return n == 1 && s[0] == '*';
}

static int part_covers(const char *g, size_t gn, const char *w, size_t wn)
{
    return is_star(g, gn) || (gn == wn && memcmp(g, w, gn) == 0);
}

int gh_perm_valid(const char *perm, size_t len)
{
    struct perm p;
    return split(perm, len, &p);
}

int gh_perm_covers(const char *granted, size_t glen, const char *wanted, size_t wlen)
{
    struct perm g, w;
    if (!split(granted, glen, &g) || !split(wanted, wlen, &w))
        return 0;
    return part_covers(g.res, g.res_len, w.res, w.res_len) &&
           part_covers(g.act, g.act_len, w.act, w.act_len) && (!g.own || w.own);
}

/* Visits each space-separated item of list; stops when fn returns non-zero. */
static int each(const char *list, int (*fn)(void *arg, const char *s, size_t n), void *arg)
{
    while (*list != '\0') {
        const char *end = strchr(list, ' ');
        size_t n = end ? (size_t)(end - list) : strlen(list);
        if (n > 0 && fn(arg, list, n))
            return 1;
        list += n;
        while (*list == ' ')
            list++;
    }
    return 0;
}

struct want {
    const char *s;
    size_t n;
};

static int covers_want(void *arg, const char *s, size_t n)
{
    const struct want *w = arg;
    return gh_perm_covers(s, n, w->s, w->n);
}

int gh_perms_allow(const char *list, const char *wanted, size_t wlen)
{
    struct want w = {wanted, wlen};
    return each(list, covers_want, &w);
}

struct known {
    struct perm base; /* the permission asked about, without ":own" */
};

static int covers_item(void *arg, const char *s, size_t n)
{
    const struct known *k = arg;
    struct perm item;
    return split(s, n, &item) &&
           part_covers(k->base.res, k->base.res_len, item.res, item.res_len) &&
           part_covers(k->base.act, k->base.act_len, item.act, item.act_len);
}

int gh_perm_known(const char *catalog, const char *perm, size_t len)
{
    struct known k;
    if (!split(perm, len, &k.base))
        return 0;
    return each(catalog, covers_item, &k);
}

/* The narrower of two parts, or NULL when they share nothing. */
static const char *meet(const char *a, size_t an, const char *b, size_t bn, size_t *n)
{
    if (is_star(a, an)) {
        *n = bn;
        return b;
    }
    if (is_star(b, bn) || (an == bn && memcmp(a, b, an) == 0)) {
        *n = an;
        return a;
    }
    return NULL;
}

struct intersect {
    const char *b;
    const char *a_item;
    size_t a_len;
    char *out;
    size_t size, used;
    int overflow;
};

static int append(struct intersect *x, const char *res, size_t rn, const char *act, size_t an,
                  int own)
{
    char perm[GH_PERM_MAX];
    size_t n = rn + 1 + an;
    memcpy(perm, res, rn);
    perm[rn] = ':';
    memcpy(perm + rn + 1, act, an);
    if (own) {
        memcpy(perm + n, OWN, OWN_LEN);
        n += OWN_LEN;
    }
    /* Skip what the list already grants (also drops exact duplicates). */
    x->out[x->used] = '\0';
    if (gh_perms_allow(x->out, perm, n))
        return 0;
    if (x->used + (x->used > 0) + n + 1 > x->size) {
        x->overflow = 1;
        return 1;
    }
    if (x->used > 0)
        x->out[x->used++] = ' ';
    memcpy(x->out + x->used, perm, n);
    x->used += n;
    x->out[x->used] = '\0';
    return 0;
}

static int meet_with_b(void *arg, const char *s, size_t n)
{
    struct intersect *x = arg;
    struct perm pa, pb;
    if (!split(x->a_item, x->a_len, &pa) || !split(s, n, &pb))
        return 0;
    size_t rn = 0, an = 0;
    const char *res = meet(pa.res, pa.res_len, pb.res, pb.res_len, &rn);
    const char *act = meet(pa.act, pa.act_len, pb.act, pb.act_len, &an);
    if (res == NULL || act == NULL)
        return 0;
    return append(x, res, rn, act, an, pa.own || pb.own);
}

static int meet_with_all_b(void *arg, const char *s, size_t n)
{
    struct intersect *x = arg;
    x->a_item = s;
    x->a_len = n;
    return each(x->b, meet_with_b, x);
}

gh_err gh_perms_intersect(const char *a, const char *b, char *out, size_t size)
{
    if (size == 0)
        return GH_ERR_TOO_LARGE;
    struct intersect x = {b, NULL, 0, out, size, 0, 0};
    out[0] = '\0';
    each(a, meet_with_all_b, &x);
    if (x.overflow) {
        out[0] = '\0';
        return GH_ERR_TOO_LARGE;
    }
    return GH_OK;
}

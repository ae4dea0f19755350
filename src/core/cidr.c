#include "core/cidr.h"

#include <arpa/inet.h>
#include <string.h>

#define ADDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN */

gh_err gh_ip_parse(const char *text, size_t len, uint8_t out[16])
{
    char buf[ADDR_TEXT_MAX];
    if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len) != NULL)
        return GH_ERR_INVALID;
    memcpy(buf, text, len);
    buf[len] = '\0';
    struct in_addr v4;
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(out, mapped, sizeof(mapped));
        memcpy(out + 12, &v4, 4);
        return GH_OK;
    }
    /* A zone ("fe80::1%eth0") or brackets are refused by inet_pton: no ambiguity. */
    return inet_pton(AF_INET6, buf, out) == 1 ? GH_OK : GH_ERR_INVALID;
}

static int in_range(const uint8_t *addr, const struct gh_cidr *c)
{
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(addr, c->addr, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (addr[full] & mask) == (c->addr[full] & mask);
}

gh_err gh_cidr_parse(const char *text, size_t len, struct gh_cidr *out)
{
    const char *slash = memchr(text, '/', len);
    size_t alen = slash ? (size_t)(slash - text) : len;
    struct gh_cidr c;
    if (gh_ip_parse(text, alen, c.addr) != GH_OK)
        return GH_ERR_INVALID;
    int v4 = memchr(text, ':', alen) == NULL;
    unsigned max = v4 ? 32 : 128, bits = max;
    if (slash != NULL) {
        const char *p = slash + 1, *end = text + len;
        if (p == end || end - p > 3)
            return GH_ERR_INVALID;
        bits = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return GH_ERR_INVALID;
            bits = bits * 10 + (unsigned)(*p - '0');
        }
        if (bits > max || (slash[1] == '0' && len - alen > 2))
            return GH_ERR_INVALID; /* "/08" is a typo more often than not */
    }
    c.bits = v4 ? 96 + bits : bits;
    /* Host bits set ("10.0.0.1/8") usually means a mistake about what is trusted. */
    struct gh_cidr probe = c;
    probe.bits = 128;
    for (unsigned i = c.bits; i < 128; i++)
        if (probe.addr[i / 8] & (0x80 >> (i % 8)))
            return GH_ERR_INVALID;
    *out = c;
    return GH_OK;
}

gh_err gh_cidr_list_parse(const char *text, struct gh_cidr_list *out, size_t *bad)
{
    struct gh_cidr_list list;
    memset(&list, 0, sizeof(list)); /* a list is compared and copied whole */
    const char *p = text;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n')
            p++;
        if (*p == '\0')
            break;
        size_t n = strcspn(p, " ,\t\n");
        if (list.n == GH_CIDR_LIST_MAX) {
            *bad = (size_t)(p - text);
            return GH_ERR_TOO_LARGE;
        }
        if (gh_cidr_parse(p, n, &list.items[list.n]) != GH_OK) {
            *bad = (size_t)(p - text);
            return GH_ERR_INVALID;
        }
        list.n++;
        p += n;
    }
    *out = list;
    return GH_OK;
}

int gh_cidr_list_match(const struct gh_cidr_list *list, const uint8_t addr[16])
{
    for (size_t i = 0; i < list->n; i++)
        if (in_range(addr, &list->items[i]))
            return 1;
    return 0;
}

int gh_cidr_list_match_text(const struct gh_cidr_list *list, const char *ip)
{
    uint8_t addr[16];
    if (list->n == 0 || gh_ip_parse(ip, strlen(ip), addr) != GH_OK)
        return 0;
    return gh_cidr_list_match(list, addr);
}

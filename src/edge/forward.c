#include "edge/forward.h"

#include <arpa/inet.h>
#include <string.h>

int gh_forward_peer_trusted(const struct gh_req *req, const struct gh_cidr_list *trusted)
{
    return gh_cidr_list_match(trusted, req->peer);
}

/*
 * The value of one of two header names that mean the same, or NULL when neither is sent.
 * *conflict when either is sent more than once, even twice alike (a proxy sets it once: a
 * second copy is a client's passed through), or both are sent and differ (a client may
 * add one of them through a proxy that sets the other).
 */
static const char *one_of(const struct gh_req *req, const char *name, const char *alt,
                          int *conflict)
{
    const char *a, *b;
    if (gh_req_header_find(req, name, &a, NULL) > 1 || gh_req_header_find(req, alt, &b, NULL) > 1) {
        *conflict = 1;
        return NULL;
    }
    if (a != NULL && b != NULL && strcmp(a, b) != 0)
        *conflict = 1;
    return a != NULL ? a : b;
}

void gh_forward_original(const struct gh_req *req, int peer_trusted, struct gh_forwarded *out)
{
    out->method = out->uri = NULL;
    out->conflict = 0;
    if (!peer_trusted)
        return;
    out->method = one_of(req, "X-Forwarded-Method", "X-Original-Method", &out->conflict);
    out->uri = one_of(req, "X-Forwarded-Uri", "X-Original-URI", &out->conflict);
}

/* Writes addr (16 bytes, IPv4 mapped) in canonical text. */
static void canonical(const uint8_t addr[16], char out[64])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(addr, mapped, sizeof(mapped)) == 0)
        inet_ntop(AF_INET, addr + 12, out, 64);
    else
        inet_ntop(AF_INET6, addr, out, 64);
}

/* 1-5 digits, at most 65535. */
static int port_ok(const char *p, size_t n)
{
    unsigned v = 0;
    if (n == 0 || n > 5)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v <= 65535;
}

/* A bare IPv6 address has two colons at least, so a single colon can only start IPv4's
 * port. */
gh_err gh_forward_hop_parse(const char *s, size_t n, uint8_t addr[16])
{
    const char *host = s;
    size_t hlen = n;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return GH_ERR_INVALID;
        host = s + 1;
        hlen = (size_t)(close - host);
        size_t rest = n - (size_t)(close + 1 - s);
        if (memchr(host, ':', hlen) == NULL ||
            (rest > 0 && (close[1] != ':' || !port_ok(close + 2, rest - 1))))
            return GH_ERR_INVALID;
    } else {
        const char *colon = memchr(s, ':', n);
        size_t after = colon != NULL ? n - (size_t)(colon + 1 - s) : 0;
        if (colon != NULL && memchr(colon + 1, ':', after) == NULL) {
            hlen = (size_t)(colon - s);
            if (!port_ok(colon + 1, after))
                return GH_ERR_INVALID;
        }
    }
    return gh_ip_parse(host, hlen, addr);
}

gh_err gh_forward_xff_client(const char *xff, const struct gh_cidr_list *trusted, uint8_t addr[16])
{
    /* Walk from the right: each hop appends the address it saw. */
    size_t end = strlen(xff);
    for (;;) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
            a++;
        while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
            b--;
        gh_err err = gh_forward_hop_parse(xff + a, b - a, addr);
        if (err != GH_OK || !gh_cidr_list_match(trusted, addr) || start == 0)
            return err; /* a hop we cannot read hides who is left of it */
        end = start - 1;
    }
}

void gh_forward_client_ip(struct gh_req *req, const struct gh_cidr_list *trusted)
{
    if (!gh_forward_peer_trusted(req, trusted))
        return;
    uint8_t addr[16];
    gh_err err;
    /* Sent twice, a header cannot say which copy the proxy wrote. */
    const char *v;
    size_t len = 0;
    unsigned n = gh_req_header_find(req, "X-Forwarded-For", &v, NULL);
    if (n > 0) {
        err = n == 1 ? gh_forward_xff_client(v, trusted, addr) : GH_ERR_INVALID;
    } else if ((n = gh_req_header_find(req, "X-Real-IP", &v, &len)) > 0) {
        err = n == 1 ? gh_forward_hop_parse(v, len, addr) : GH_ERR_INVALID;
    } else {
        return; /* the proxy's own request */
    }
    /* Not the proxy's address: that would give its allowlist entries and key bindings to
     * whoever it forwards for. */
    if (err == GH_OK) {
        canonical(addr, req->client_ip);
        memcpy(req->client, addr, sizeof(req->client));
    } else {
        memcpy(req->client_ip, GH_CLIENT_UNKNOWN, sizeof(GH_CLIENT_UNKNOWN));
        req->client_known = 0;
    }
}

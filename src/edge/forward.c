#include "edge/forward.h"

#include <arpa/inet.h>
#include <string.h>

int gh_forward_peer_trusted(const struct gh_req *req, const struct gh_cidr_list *trusted)
{
    return gh_cidr_list_match_text(trusted, req->ip);
}

/* The value of a header sent exactly once, or NULL. */
static const char *once(const struct gh_req *req, const char *name)
{
    return gh_req_header_count(req, name) == 1 ? gh_req_header(req, name) : NULL;
}

/* The single value of one of two header names, or NULL; *conflict when both are sent
 * and differ (a client may add one of them through a proxy that sets the other). */
static const char *one_of(const struct gh_req *req, const char *name, const char *alt,
                          int *conflict)
{
    const char *a = once(req, name);
    const char *b = alt != NULL ? once(req, alt) : NULL;
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

void gh_forward_client_ip(struct gh_req *req, const struct gh_cidr_list *trusted)
{
    if (!gh_forward_peer_trusted(req, trusted))
        return;
    uint8_t addr[16];
    const char *xff = once(req, "X-Forwarded-For");
    if (xff != NULL) {
        /* Walk from the right: each hop appends the address it saw. */
        size_t end = strlen(xff);
        while (end > 0) {
            size_t start = end;
            while (start > 0 && xff[start - 1] != ',')
                start--;
            size_t a = start, b = end;
            while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
                a++;
            while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
                b--;
            if (gh_ip_parse(xff + a, b - a, addr) != GH_OK)
                return; /* a hop we cannot read: stop at the last one we trust */
            if (!gh_cidr_list_match(trusted, addr) || start == 0) {
                canonical(addr, req->client_ip);
                return;
            }
            end = start - 1;
        }
        return;
    }
    const char *real = once(req, "X-Real-IP");
    if (real != NULL && gh_ip_parse(real, strlen(real), addr) == GH_OK)
        canonical(addr, req->client_ip);
}

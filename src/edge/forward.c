#include "edge/forward.h"

#include <arpa/inet.h>
#include <string.h>

int gh_forward_peer_trusted(const struct gh_req *req, const struct gh_cidr_list *trusted)
{
    return gh_cidr_list_match_text(trusted, req->ip);
}

/* The single value of one of two header names (the first name wins), or NULL. */
static const char *one_of(const struct gh_req *req, const char *name, const char *alt)
{
    const char *n = gh_req_header_count(req, name) > 0 ? name : alt;
    if (n == NULL || gh_req_header_count(req, n) != 1)
        return NULL;
    return gh_req_header(req, n);
}

void gh_forward_original(const struct gh_req *req, int peer_trusted, struct gh_forwarded *out)
{
    out->method = out->uri = out->host = NULL;
    if (!peer_trusted)
        return;
    out->method = one_of(req, "X-Forwarded-Method", "X-Original-Method");
    out->uri = one_of(req, "X-Forwarded-Uri", "X-Original-URI");
    out->host = one_of(req, "X-Forwarded-Host", NULL);
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
    const char *xff = one_of(req, "X-Forwarded-For", NULL);
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
    const char *real = one_of(req, "X-Real-IP", NULL);
    if (real != NULL && gh_ip_parse(real, strlen(real), addr) == GH_OK)
        canonical(addr, req->client_ip);
}

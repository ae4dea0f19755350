#ifndef GH_EDGE_FORWARD_H
#define GH_EDGE_FORWARD_H

#include "core/cidr.h"
#include "http/http.h"

/*
 * What a reverse proxy in front of Gatehouse tells about the request it serves. Those
 * headers are believed only when the TCP peer is a trusted proxy: anyone else could
 * write them.
 */

/**
 * The original request a proxy asks /verify about; NULL fields were not given. Rules are
 * per path, so X-Forwarded-Host is not read.
 */
struct gh_forwarded {
    const char *method; /* X-Forwarded-Method, or X-Original-Method */
    const char *uri;    /* X-Forwarded-Uri, or X-Original-URI: path and query, raw */
    int conflict;       /* a header sent twice, or both forms with different values:
                           nothing can be believed */
};

/**
 * req->client_ip of a client that a trusted proxy forwards for without naming it
 * readably. Never parses as an address: it matches no allowlist or key binding, and
 * such clients share a rate-limit counter of their own, apart from the proxy's.
 */
#define GH_CLIENT_UNKNOWN "unknown"

/** 1 when the request's TCP peer is in trusted. */
int gh_forward_peer_trusted(const struct gh_req *req, const struct gh_cidr_list *trusted)
    GH_NONNULL(1, 2);

/**
 * Fills *out from the request's headers when the peer is trusted, else leaves every
 * field NULL. A header sent twice (even alike) sets conflict: no guessing which one
 * counts. The Traefik/Caddy form wins over nginx's; both present and different sets
 * conflict. An empty value is a value, not an absence.
 */
void gh_forward_original(const struct gh_req *req, int peer_trusted, struct gh_forwarded *out)
    GH_NONNULL(1, 3);

/**
 * Sets req->client_ip (and req->client, req->client_known) when the peer is trusted: the right-most
 * X-Forwarded-For address that is not itself a trusted proxy (what a client prepends is never
 * believed), or else X-Real-IP; each as "ADDR", "IPv4:PORT", "[IPv6]" or "[IPv6]:PORT", written in
 * canonical form. Neither header: the peer stays the client. Either sent twice, empty, or with an
 * unreadable address where the walk stops: GH_CLIENT_UNKNOWN, never the peer's.
 */
void gh_forward_client_ip(struct gh_req *req, const struct gh_cidr_list *trusted) GH_NONNULL(1, 2);

/**
 * Parses one address as proxies write it, the n bytes at s: "ADDR", "IPv4:PORT",
 * "[IPv6]" or "[IPv6]:PORT" (a port of 1-5 digits, at most 65535). addr gets it as 16
 * bytes, IPv4 mapped. GH_ERR_INVALID for anything else.
 */
gh_err gh_forward_hop_parse(const char *s, size_t n, uint8_t addr[16]) GH_WUR GH_NONNULL(3);

/**
 * The client an X-Forwarded-For value names: walking from the right, the first address
 * that is not in trusted, or the left-most. GH_ERR_INVALID when an entry the walk reaches
 * is unreadable (it hides who is left of it).
 */
gh_err gh_forward_xff_client(const char *xff, const struct gh_cidr_list *trusted,
                             uint8_t addr[16]) GH_WUR GH_NONNULL(1, 2, 3);

#endif

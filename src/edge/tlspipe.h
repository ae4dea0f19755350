#ifndef GH_EDGE_TLSPIPE_H
#define GH_EDGE_TLSPIPE_H

#include <stdint.h>
#include <sys/time.h>

#include "core/err.h"

/*
 * TLS for a client library that speaks only plain sockets (Debian's hiredis 0.14): opens
 * a TLS connection to host:port (OpenSSL; the server's certificate verified against
 * ca_file, or the system's store when it is "", and matched to server_name: an IP
 * address or a DNS name) and hands back one end of a socket pair whose other end a
 * thread relays to and from the TLS connection. Closing the returned descriptor ends the
 * thread and the TLS connection. timeout bounds the connect and the handshake.
 */
gh_err gh_tlspipe_open(const char *host, uint16_t port, const struct timeval *timeout,
                       const char *ca_file, const char *server_name, int *fd) GH_WUR
    GH_NONNULL(1, 3, 4, 5, 6);

#endif

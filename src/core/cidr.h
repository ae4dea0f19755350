#ifndef GH_CORE_CIDR_H
#define GH_CORE_CIDR_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * Address ranges (CIDR, IPv4 and IPv6) and lists of them: trusted proxies, API-key IP
 * binding, allowlists. IPv4 addresses are kept as IPv4-mapped IPv6, so "10.0.0.0/8"
 * also matches a peer seen as "::ffff:10.1.2.3". Parsed once, then read-only.
 */

#define GH_CIDR_LIST_MAX 32

struct gh_cidr {
    uint8_t addr[16];
    unsigned bits; /* prefix length over the 128-bit form */
};

struct gh_cidr_list {
    struct gh_cidr items[GH_CIDR_LIST_MAX];
    size_t n;
};

/** Parses one address to 16 bytes (IPv4 mapped). GH_ERR_INVALID for anything else. */
gh_err gh_ip_parse(const char *text, size_t len, uint8_t out[16]) GH_WUR GH_NONNULL(1, 3);

/** Parses "ADDR" or "ADDR/BITS"; host bits must be zero. GH_ERR_INVALID otherwise. */
gh_err gh_cidr_parse(const char *text, size_t len, struct gh_cidr *out) GH_WUR GH_NONNULL(1, 3);

/**
 * Parses a list separated by commas and/or blanks ("" gives an empty list).
 * GH_ERR_INVALID names nothing: *bad gets the offset of the first bad item;
 * GH_ERR_TOO_LARGE past GH_CIDR_LIST_MAX items.
 */
gh_err gh_cidr_list_parse(const char *text, struct gh_cidr_list *out, size_t *bad) GH_WUR
    GH_NONNULL(1, 2, 3);

/** 1 when addr (16 bytes) lies in one of the list's ranges. */
int gh_cidr_list_match(const struct gh_cidr_list *list, const uint8_t addr[16]) GH_NONNULL(1, 2);

/** 1 when the address text parses and lies in the list. */
int gh_cidr_list_match_text(const struct gh_cidr_list *list, const char *ip) GH_NONNULL(1, 2);

#endif

#ifndef GH_API_AUDIT_H
#define GH_API_AUDIT_H

#include <stddef.h>
#include "core/err.h"
#include "store/store.h"

/*
 * The audit log's query (GET /api/v1/audit/logs): filters and page, read from named
 * arguments. Pure and bounded; the strings of the filter point into the arguments.
 */

#define GH_AUDIT_PAGE_DEFAULT 100
#define GH_AUDIT_PAGE_MAX 1000
#define GH_AUDIT_ARG_MAX 256 /* bytes of one filter value */

#include <jansson.h>

/** Returns argument name's value, or NULL when absent. */
typedef const char *(*gh_api_arg_fn)(void *arg, const char *name);

struct gh_audit_query {
    struct gh_audit_filter filter;
    size_t limit, offset;
};

/**
 * Reads user_id, action, resource_type, resource_id, org_id (1 to GH_AUDIT_ARG_MAX
 * printable bytes; action upper snake case), since and until (RFC 3339, inclusive, since
 * not after until), limit (1 to GH_AUDIT_PAGE_MAX, default GH_AUDIT_PAGE_DEFAULT) and
 * offset. GH_ERR_INVALID with *bad naming the first bad argument.
 */
gh_err gh_api_audit_query_parse(gh_api_arg_fn get, void *arg, struct gh_audit_query *out,
                                const char **bad) GH_WUR GH_NONNULL(1, 3, 4);

/**
 * A stored record as the API and the export show it: {id, timestamp, action, user_id,
 * username, org_id, resource_type, resource_id, ip_address, user_agent, method, path,
 * status, metadata}, with prev_hash and hash (hex) when with_hashes. A new reference.
 */
json_t *gh_api_audit_item(const struct gh_audit_row *row, int with_hashes) GH_NONNULL(1);

#endif

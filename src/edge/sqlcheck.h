#ifndef GH_EDGE_SQLCHECK_H
#define GH_EDGE_SQLCHECK_H

#include <stddef.h>
#include "core/err.h"

/*
 * The SQL safety check: is this text one read-only query, whatever database reads it?
 * Where SQL dialects disagree (MySQL's "--x", backslash escapes, nested or executable
 * comments, dollar quoting, brackets), the check takes the reading that sees more and
 * refuses what it cannot read one way: a false refusal costs a rewrite, a false
 * acceptance costs the database.
 */

#define GH_SQL_MAX (100 * 1024) /* longest text checked; longer is refused */
#define GH_SQL_DEPTH_MAX 10     /* deepest nesting of subqueries */

struct gh_sql_verdict {
    int allowed;
    const char *reason; /* a constant sentence: why it was refused, or "read-only query" */
};

/** Checks sql (len bytes, NULs included). GH_ERR_NOMEM is the only failure. */
gh_err gh_sql_check(const char *sql, size_t len, struct gh_sql_verdict *out) GH_WUR
    GH_NONNULL(1, 3);

#endif

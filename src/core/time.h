#ifndef GH_CORE_TIME_H
#define GH_CORE_TIME_H

#include <stdint.h>
#include "core/err.h"

#define GH_TIME_TEXT 21 /* "2026-11-23T10:00:00Z" and a NUL */

/**
 * Writes t (unix seconds) as an RFC 3339 UTC date-time, e.g. "2026-11-23T10:00:00Z",
 * into out. GH_ERR_INVALID when t is outside what the C library can represent (out is
 * then "").
 */
gh_err gh_time_format(int64_t t, char out[GH_TIME_TEXT]) GH_WUR GH_NONNULL(2);

/** The current time, unix seconds (the wall clock: records, expiries, tokens). */
int64_t gh_time_now(void);

#endif

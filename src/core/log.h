#ifndef GH_CORE_LOG_H
#define GH_CORE_LOG_H

#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"

/*
 * Structured logs: one JSON object per line on standard output, written with a single
 * write(2) so lines from several threads never interleave. Nothing secret is ever
 * passed here; URIs go through gh_log_scrub_uri first.
 */

enum gh_log_level { GH_LOG_DEBUG, GH_LOG_INFO, GH_LOG_WARN, GH_LOG_ERROR };

/** Lines below level are dropped (default GH_LOG_INFO). */
void gh_log_set_level(enum gh_log_level level);

/** Logs {"ts","level","msg"} with msg formatted from fmt. */
void gh_log(enum gh_log_level level, const char *fmt, ...) GH_PRINTF(2, 3);

/** Writes a complete, already-formatted JSON object (without newline) as one line. */
void gh_log_json_line(const char *json, size_t len) GH_NONNULL(1);

/**
 * Writes complete lines (each a JSON object ending in '\n'), at most PIPE_BUF bytes
 * together, with one write(2): batched lines stay whole even on a pipe.
 */
void gh_log_json_lines(const char *text, size_t len) GH_NONNULL(1);
/** Appends "YYYY-MM-DDTHH:MM:SS.mmmZ" for the current time. */
gh_err gh_log_timestamp(struct gh_buf *b) GH_WUR GH_NONNULL(1);

/**
 * Appends uri (len bytes) to out with every query value replaced by ***REDACTED***,
 * except short plain values of a few harmless parameters (limit, offset, mode, since,
 * until, ...): a credential in a URL, under whatever name, never reaches a log.
 */
gh_err gh_log_scrub_uri(struct gh_buf *out, const char *uri, size_t len) GH_WUR GH_NONNULL(1, 2);

#endif

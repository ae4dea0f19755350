#ifndef GH_CORE_WORDS_H
#define GH_CORE_WORDS_H

#include <stddef.h>
#include "core/err.h"

/*
 * Bounded cursors over the line-based config syntaxes (forward_auth.rules, alerts.rules,
 * alerts.webhooks, rate_limit.routes). Nothing here reads outside the span it is given,
 * allocates, or copies: words and lines are pointers into the caller's text.
 */

/** Non-zero for the bytes that separate words: space, tab and carriage return. */
int gh_is_blank(char c);

/**
 * Splits the next blank-separated word off [*p, end). Returns 1 with *w and *n set to the
 * word and *p moved just past it; or 0 when only blanks are left, with *w = end, *n = 0
 * and *p unchanged.
 */
int gh_word_next(const char **p, const char *end, const char **w, size_t *n) GH_NONNULL(1, 2, 3, 4);

/** Non-zero when the n bytes at w are exactly the string lit. */
int gh_word_is(const char *w, size_t n, const char *lit) GH_NONNULL(1, 3);

/**
 * Walks the rule lines of a NUL-terminated text: '\n' or ';' ends a line; blank lines
 * and comments (a '#' first on its line runs to the next '\n', past any ';') are skipped.
 * Start with {text, 0}.
 */
struct gh_lines {
    const char *p;
    size_t number; /* of the line last returned, counting only rule lines */
};

/**
 * Returns 1 with [*line, *end) the next rule line, leading blanks skipped (trailing ones
 * kept), and it->number counting it; 0 at the end of the text.
 */
int gh_line_next(struct gh_lines *it, const char **line, const char **end) GH_NONNULL(1, 2, 3);

#define GH_QUOTE_MAX 48                      /* bytes of a value quoted back in a message */
#define GH_QUOTE_TEXT (GH_QUOTE_MAX * 4 + 8) /* room for its quoted form, with "..." */

/**
 * Writes the n bytes at s into out (size bytes, cut to fit) as text safe to print between
 * double quotes in an error message: printable ASCII is kept (with '"' and '\\' escaped),
 * anything else becomes \xHH, and only the first GH_QUOTE_MAX bytes are shown, then "...".
 */
void gh_word_quote(char *out, size_t size, const char *s, size_t n) GH_NONNULL(1);

#endif

#ifndef GH_AUTHN_POLICY_H
#define GH_AUTHN_POLICY_H

#include <stddef.h>
#include "core/err.h"

/** Password policy (ASVS 5 V6): length first, composition rules only when configured. */
struct gh_policy {
    unsigned min_length; /* Unicode code points */
    unsigned max_length;
    int require_upper;
    int require_lower;
    int require_digit;
    int require_symbol;
    int reject_common;         /* reject guessable passwords (zxcvbn) */
    unsigned min_entropy_bits; /* zxcvbn's estimate must reach this */
};

/** Bit per failed rule, reported to clients by name (gh_policy_rule_name). */
enum gh_policy_rule {
    GH_RULE_TOO_SHORT = 1 << 0,
    GH_RULE_TOO_LONG = 1 << 1,
    GH_RULE_UPPER = 1 << 2,
    GH_RULE_LOWER = 1 << 3,
    GH_RULE_DIGIT = 1 << 4,
    GH_RULE_SYMBOL = 1 << 5,
    GH_RULE_COMMON = 1 << 6,   /* common, guessable, or built from the user's own names */
    GH_RULE_ENCODING = 1 << 7, /* not valid UTF-8, or contains NUL / control characters */
};
#define GH_RULE_COUNT 8

/** "too_short", "too_long", "upper", "lower", "digit", "symbol", "common", "encoding". */
const char *gh_policy_rule_name(enum gh_policy_rule rule);

/**
 * Checks pw (len bytes) against policy. user_words: NULL-terminated list of strings that
 * make a password guessable for this user (username, email, full name), may be NULL.
 * GH_OK when every rule passes, else GH_ERR_POLICY with *failed = the OR of failed rules.
 */
gh_err gh_policy_check(const struct gh_policy *policy, const char *pw, size_t len,
                       const char *const *user_words, unsigned *failed) GH_WUR GH_NONNULL(1, 2, 5);

/** Why an input was refused: the field, and for passwords the failed policy rules. */
struct gh_refusal {
    const char *field;
    unsigned policy_failed;
};

#endif

#include "authn/policy.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <zxcvbn.h>

const char *gh_policy_rule_name(enum gh_policy_rule rule)
{
    switch (rule) {
    case GH_RULE_TOO_SHORT: return "too_short";
    case GH_RULE_TOO_LONG: return "too_long";
    case GH_RULE_UPPER: return "upper";
    case GH_RULE_LOWER: return "lower";
    case GH_RULE_DIGIT: return "digit";
    case GH_RULE_SYMBOL: return "symbol";
    case GH_RULE_COMMON: return "common";
    case GH_RULE_ENCODING: return "encoding";
    }
    return "unknown";
}

/*
 * Counts code points of well-formed UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF); returns -1 for malformed input or a NUL / C0 control / DEL.
 */
static long utf8_length(const unsigned char *s, size_t len)
{
    long count = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t extra;
        unsigned long cp;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return -1;
            i++;
            count++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return -1;
        }
        if (len - i <= extra)
            return -1;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        i += extra + 1;
        count++;
    }
    return count;
}

/* Case-insensitive (ASCII) substring test. */
static int contains_word(const char *pw, const char *word)
{
    size_t n = strlen(word);
    if (n < 4)
        return 0;
    for (const char *p = pw; *p != '\0'; p++) {
        if (strncasecmp(p, word, n) == 0)
            return 1;
    }
    return 0;
}

gh_err gh_policy_check(const struct gh_policy *policy, const char *pw, size_t len,
                       const char *const *user_words, unsigned *failed)
{
    unsigned f = 0;
    long chars = utf8_length((const unsigned char *)pw, len);
    if (chars < 0 || memchr(pw, '\0', len) != NULL) {
        *failed = GH_RULE_ENCODING;
        return GH_ERR_POLICY;
    }
    if ((unsigned long)chars < policy->min_length)
        f |= GH_RULE_TOO_SHORT;
    if ((unsigned long)chars > policy->max_length)
        f |= GH_RULE_TOO_LONG;

    int upper = 0, lower = 0, digit = 0, symbol = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pw[i];
        upper |= c >= 'A' && c <= 'Z';
        lower |= c >= 'a' && c <= 'z';
        digit |= c >= '0' && c <= '9';
        symbol |= (c < 0x80 && ispunct(c)) || c == ' ' || c >= 0x80;
    }
    if (policy->require_upper && !upper)
        f |= GH_RULE_UPPER;
    if (policy->require_lower && !lower)
        f |= GH_RULE_LOWER;
    if (policy->require_digit && !digit)
        f |= GH_RULE_DIGIT;
    if (policy->require_symbol && !symbol)
        f |= GH_RULE_SYMBOL;

    /* Guessability only matters once the length is acceptable (and bounds zxcvbn's work). */
    if (policy->reject_common && !(f & (GH_RULE_TOO_SHORT | GH_RULE_TOO_LONG))) {
        const char *dict[8] = {NULL};
        size_t nd = 0;
        for (size_t i = 0; user_words != NULL && user_words[i] != NULL && nd < 7; i++) {
            dict[nd++] = user_words[i];
            if (contains_word(pw, user_words[i]))
                f |= GH_RULE_COMMON;
        }
        if (ZxcvbnMatch(pw, dict, NULL) < (double)policy->min_entropy_bits)
            f |= GH_RULE_COMMON;
    }
    if (f != 0) {
        *failed = f;
        return GH_ERR_POLICY;
    }
    return GH_OK;
}

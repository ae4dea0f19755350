#include "authn/policy.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zxcvbn.h>

#include "core/utf8.h"

/* User words (and their parts) shorter than this are too common to forbid inside passwords. */
#define USER_WORD_MIN 4

const char *gh_policy_rule_name(enum gh_policy_rule rule)
{
    switch (rule) {
    case GH_RULE_TOO_SHORT:
        return "too_short";
    case GH_RULE_TOO_LONG:
        return "too_long";
    case GH_RULE_UPPER:
        return "upper";
    case GH_RULE_LOWER:
        return "lower";
    case GH_RULE_DIGIT:
        return "digit";
    case GH_RULE_SYMBOL:
        return "symbol";
    case GH_RULE_COMMON:
        return "common";
    case GH_RULE_ENCODING:
        return "encoding";
    }
    return "unknown";
}

/* What one pass over the password found. */
struct scan {
    size_t chars; /* code points; each byte of a malformed sequence counts as one */
    int bad;      /* malformed UTF-8, or a control character */
    int upper, lower, digit, symbol;
};

/*
 * Character classes are ASCII: A-Z, a-z, 0-9; a symbol is ASCII punctuation, the space,
 * or any non-ASCII character (telling a non-ASCII letter from a symbol needs Unicode
 * tables; erring this way only makes an optional rule easier to meet). C0 controls
 * (NUL included), DEL and C1 controls make the password malformed.
 */
static void scan_password(const unsigned char *s, size_t len, struct scan *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t n = gh_utf8_next(s + i, len - i, &cp);
        out->chars++;
        if (n == 0) {
            out->bad = 1;
            i++;
            continue;
        }
        i += n;
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            out->bad = 1;
        else if (cp >= 'A' && cp <= 'Z')
            out->upper = 1;
        else if (cp >= 'a' && cp <= 'z')
            out->lower = 1;
        else if (cp >= '0' && cp <= '9')
            out->digit = 1;
        else
            out->symbol = 1;
    }
}

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static int ascii_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Non-zero when w (n bytes) occurs in pw (len bytes), ignoring ASCII case. */
static int contains_ci(const unsigned char *pw, size_t len, const unsigned char *w, size_t n)
{
    if (n == 0 || n > len)
        return 0;
    for (size_t i = 0; i + n <= len; i++) {
        size_t k = 0;
        while (k < n && ascii_lower(pw[i + k]) == ascii_lower(w[k]))
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

/*
 * Non-zero when pw equals a user word, or contains a user word or one of its parts
 * (split at every non-alphanumeric ASCII byte: "Alice Smith", "alice.smith@example.com")
 * of at least USER_WORD_MIN bytes, ignoring ASCII case.
 */
static int mentions_user_word(const unsigned char *pw, size_t len, const char *const *words)
{
    for (size_t i = 0; words != NULL && words[i] != NULL; i++) {
        const unsigned char *w = (const unsigned char *)words[i];
        size_t n = strlen(words[i]);
        if (n == len && contains_ci(pw, len, w, n))
            return 1;
        if (n >= USER_WORD_MIN && contains_ci(pw, len, w, n))
            return 1;
        for (size_t start = 0, end; start < n; start = end + 1) {
            for (end = start; end < n && ascii_alnum(w[end]); end++)
                ;
            if (end - start >= USER_WORD_MIN && end - start < n &&
                contains_ci(pw, len, w + start, end - start))
                return 1;
        }
    }
    return 0;
}

/* zxcvbn's estimate in bits for pw, which it needs NUL-terminated. */
static gh_err entropy_bits(const char *pw, size_t len, const char *const *words, double *bits)
{
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return GH_ERR_NOMEM;
    memcpy(copy, pw, len);
    copy[len] = '\0';
    /* zxcvbn takes a non-const array (C++ heritage) but only reads it. */
    *bits = ZxcvbnMatch(copy, (const char **)words, NULL);
    sodium_memzero(copy, len + 1);
    free(copy);
    return GH_OK;
}

gh_err gh_policy_check(const struct gh_policy *policy, const char *pw, size_t len,
                       const char *const *user_words, unsigned *failed)
{
    const unsigned char *s = (const unsigned char *)pw;
    struct scan sc;
    unsigned f = 0;
    double bits = 0;
    gh_err err;

    scan_password(s, len, &sc);
    if (sc.bad)
        f |= GH_RULE_ENCODING;
    if (sc.chars < policy->min_length)
        f |= GH_RULE_TOO_SHORT;
    if (sc.chars > policy->max_length)
        f |= GH_RULE_TOO_LONG;
    if (policy->require_upper && !sc.upper)
        f |= GH_RULE_UPPER;
    if (policy->require_lower && !sc.lower)
        f |= GH_RULE_LOWER;
    if (policy->require_digit && !sc.digit)
        f |= GH_RULE_DIGIT;
    if (policy->require_symbol && !sc.symbol)
        f |= GH_RULE_SYMBOL;
    if (policy->reject_common) {
        if (mentions_user_word(s, len, user_words))
            f |= GH_RULE_COMMON;
        /*
         * zxcvbn's work grows faster than linearly with the length, and it reads a C
         * string: only ask it about passwords of acceptable length and well formed.
         */
        if (!(f & (GH_RULE_COMMON | GH_RULE_TOO_LONG | GH_RULE_ENCODING))) {
            if ((err = entropy_bits(pw, len, user_words, &bits)) != GH_OK)
                return err;
            if (bits < (double)policy->min_entropy_bits)
                f |= GH_RULE_COMMON;
        }
    }
    *failed = f;
    return f == 0 ? GH_OK : GH_ERR_POLICY;
}

#ifndef GH_CONFIG_CONF_H
#define GH_CONFIG_CONF_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * Private to config/: the key descriptors that config.c's table is made of, and the
 * values they accept (types, bounds, the "expected ..." of messages), independent of the
 * struct they fill. source.c reads a file and the environment through a table.
 */

#define KIB ((uint64_t)1024)
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define MINUTES(n) ((uint64_t)(n)*60)
#define HOURS(n) ((uint64_t)(n)*3600)
#define DAYS(n) ((uint64_t)(n)*86400)

/* What text a key accepts. */
enum gh_conf_kind {
    K_STRING,       /* text without control characters, min..max bytes */
    K_SECRET,       /* the same holding a secret (a DSN's password): never quoted back */
    K_LINES,        /* text of lines (tabs and newlines allowed); in YAML also a list of strings */
    K_SECRET_LINES, /* the same holding secrets (webhook URLs): never quoted back in an error */
    K_URL,          /* "" (derive it) or an http:// / https:// URL */
    K_UNSIGNED,     /* plain decimal integer, min..max, a multiple of step */
    K_SIZE,         /* bytes: "512", "64KiB", "16MiB", "1GiB" */
    K_DURATION,     /* seconds: "90", "90s", "15m", "168h", "7d" */
    K_BOOL,         /* true/false on/off yes/no 1/0, any case */
    K_CHOICE,       /* one of the names of choices -> its index */
    K_CUSTOM,       /* parsed and written by set; expect says what it takes */
};

/* The C type of the struct gh_config member a key writes to. */
enum gh_conf_store {
    ST_NONE,  /* K_CUSTOM: set writes the members itself */
    ST_CHARS, /* char[size] */
    ST_UINT,  /* unsigned */
    ST_SIZE,  /* size_t */
    ST_I64,   /* int64_t */
    ST_INT,   /* int */
};

struct gh_conf_key {
    const char *path; /* "auth.access_ttl"; no dot for top-level keys */
    const char *def;  /* the default, in the syntax of the file */
    enum gh_conf_kind kind;
    enum gh_conf_store store;
    size_t offset; /* of the member in the target struct */
    size_t size;   /* of the member */
    uint64_t min, max, step;
    unsigned scale;             /* the member holds value * scale (busy_timeout: ms) */
    const char *const *choices; /* K_CHOICE: the names, NULL-terminated */
    gh_err (*set)(void *target, const char *value); /* K_CUSTOM */
    const char *expect;                             /* K_CUSTOM: "expected ..." */
};

/** A key table and its length. */
struct gh_conf_table {
    const struct gh_conf_key *keys;
    size_t n;
};

/** snprintf into err (a truncated message is still the best there is). */
void gh_conf_fail(char *err, size_t err_size, const char *fmt, ...) GH_PRINTF(3, 4);

/** Appends formatted text at *at in out (size bytes), stopping silently when full. */
void gh_conf_append(char *out, size_t size, size_t *at, const char *fmt, ...) GH_PRINTF(4, 5);

/** Parses a plain decimal number that starts at s (no blank, no sign); *end is left after
 * its digits. -1 when there is none or it overflows. */
int gh_conf_parse_u64(const char *s, const char **end, uint64_t *out) GH_NONNULL(1, 2, 3);

/** What k accepts, for "expected ..."; range = 0 gives the syntax, 1 the bounds. */
void gh_conf_expect(const struct gh_conf_key *k, int range, char *out, size_t size)
    GH_NONNULL(1, 3);

/** The value of k for an error message: quoted, or hidden when it may hold a secret. */
void gh_conf_quote_value(const struct gh_conf_key *k, char *out, size_t size, const char *v,
                         size_t n) GH_NONNULL(1, 2, 4);

/**
 * Parses v (a NUL-terminated string) for key k and writes it into target (the struct the
 * table's offsets are of). On failure, returns GH_ERR_INVALID and writes what was
 * expected into why; target is unchanged.
 */
gh_err gh_conf_set(void *target, const struct gh_conf_key *k, const char *v, char *why,
                   size_t why_size) GH_WUR GH_NONNULL(1, 2, 3, 4);

/** The key of t with that path, or NULL. */
const struct gh_conf_key *gh_conf_find(const struct gh_conf_table *t, const char *path)
    GH_NONNULL(1, 2);

/** Non-zero when name (n bytes) is the section of some key of t ("auth" for auth.*). */
int gh_conf_is_section(const struct gh_conf_table *t, const char *name, size_t n) GH_NONNULL(1, 2);

#endif

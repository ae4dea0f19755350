#include "edge/sqlcheck.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum tok_kind { T_WORD, T_QUOTED, T_STRING, T_NUMBER, T_OPEN, T_CLOSE, T_SEMI, T_OTHER };

struct tok {
    enum tok_kind kind;
    const char *s;
    size_t n;
};

struct lexer {
    const char *p, *end;
    const char *refusal; /* set when the text cannot be read one way */
};

static int word_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || c >= 0x80;
}

static int blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Skips blanks and comments; sets refusal on one that dialects read differently. */
static void skip_space(struct lexer *lx)
{
    while (lx->p < lx->end && lx->refusal == NULL) {
        const char *p = lx->p;
        size_t left = (size_t)(lx->end - p);
        if (blank((unsigned char)*p)) {
            lx->p++;
        } else if (left >= 2 && p[0] == '-' && p[1] == '-' &&
                   (left == 2 || blank((unsigned char)p[2]) || (unsigned char)p[2] < 0x20)) {
            /* MySQL needs a blank after "--"; without one it is two minus signs, so only
             * this form is a comment everywhere. */
            const char *nl = memchr(p, '\n', left);
            lx->p = nl ? nl + 1 : lx->end;
        } else if (left >= 2 && p[0] == '/' && p[1] == '*') {
            if (left >= 3 && p[2] == '!') {
                lx->refusal = "MySQL executable comment";
                return;
            }
            const char *q = p + 2, *close = NULL;
            for (; q + 1 < lx->end; q++) {
                if (q[0] == '*' && q[1] == '/') {
                    close = q;
                    break;
                }
                if (q[0] == '/' && q[1] == '*') {
                    lx->refusal = "nested comment (PostgreSQL nests them, MySQL does not)";
                    return;
                }
            }
            if (close == NULL) {
                lx->refusal = "unterminated comment";
                return;
            }
            lx->p = close + 2;
        } else {
            return;
        }
    }
}

/* Reads a quoted run ending at quote (doubled quote = one); refuses backslashes. */
static int quoted(struct lexer *lx, char quote, struct tok *t, enum tok_kind kind)
{
    const char *start = lx->p;
    for (const char *q = start + 1; q < lx->end; q++) {
        if (*q == '\\') {
            lx->refusal = "backslash in a quoted string (MySQL reads it as an escape)";
            return 0;
        }
        if (*q == quote) {
            if (q + 1 < lx->end && q[1] == quote) {
                q++;
                continue;
            }
            t->kind = kind;
            t->s = start;
            t->n = (size_t)(q + 1 - start);
            lx->p = q + 1;
            return 1;
        }
    }
    lx->refusal = "unterminated quoted string or identifier";
    return 0;
}

/* The next token; 0 at the end or on refusal. */
static int next(struct lexer *lx, struct tok *t)
{
    skip_space(lx);
    if (lx->refusal != NULL || lx->p >= lx->end)
        return 0;
    unsigned char c = (unsigned char)*lx->p;
    if (c == '\'')
        return quoted(lx, '\'', t, T_STRING);
    if (c == '"')
        return quoted(lx, '"', t, T_QUOTED);
    if (c == '`')
        return quoted(lx, '`', t, T_QUOTED);
    t->s = lx->p;
    t->n = 1;
    if (word_char(c)) {
        const char *q = lx->p;
        while (q < lx->end && word_char((unsigned char)*q))
            q++;
        t->n = (size_t)(q - lx->p);
        t->kind = (c >= '0' && c <= '9') ? T_NUMBER : T_WORD;
    } else if (c == '(') {
        t->kind = T_OPEN;
    } else if (c == ')') {
        t->kind = T_CLOSE;
    } else if (c == ';') {
        t->kind = T_SEMI;
    } else {
        t->kind = T_OTHER; /* operators, '[' and '#' included: they hide nothing */
    }
    lx->p += t->n;
    return 1;
}

static int is_word(const struct tok *t, const char *w)
{
    return t->kind == T_WORD && strlen(w) == t->n && strncasecmp(t->s, w, t->n) == 0;
}

static int in_list(const struct tok *t, const char *const *list)
{
    for (; *list != NULL; list++)
        if (is_word(t, *list))
            return 1;
    return 0;
}

/* Statements that only read. */
static const char *const first_words[] = {"SELECT", "WITH",     "VALUES", "EXPLAIN",
                                          "SHOW",   "DESCRIBE", "DESC",   NULL};
/* Words that make a read query write, lock, or run something, wherever they stand. */
static const char *const forbidden[] = {
    "INSERT",  "UPDATE",   "DELETE",   "MERGE",   "UPSERT",   "CREATE",     "ALTER",
    "DROP",    "TRUNCATE", "RENAME",   "GRANT",   "REVOKE",   "SHUTDOWN",   "KILL",
    "EXECUTE", "EXEC",     "CALL",     "PREPARE", "DEALLOCATE", "LOCK",     "UNLOCK",
    "ATTACH",  "DETACH",   "PRAGMA",   "VACUUM",  "ANALYZE",  "ANALYSE",    "REINDEX",
    "INTO",    "OUTFILE",  "DUMPFILE", "HANDLER", "SAVEPOINT", "ROLLBACK",  "COMMIT",
    NULL};
/* After FOR, these make a locking read (FOR UPDATE is caught by UPDATE). */
static const char *const lock_words[] = {"SHARE", "NO", "KEY", NULL};
/*
 * Functions that sleep, touch files, reach other servers, run query text, change
 * settings, sequences or locks. A deny list is never complete: the check guards a
 * read-only database role, it does not replace one.
 */
static const char *const forbidden_calls[] = {
    "SLEEP", "BENCHMARK", "PG_SLEEP", "PG_SLEEP_FOR", "PG_SLEEP_UNTIL", "WAITFOR",
    "PG_READ_FILE", "PG_READ_BINARY_FILE", "PG_LS_DIR", "PG_STAT_FILE", "PG_FILE_WRITE",
    "LO_IMPORT", "LO_EXPORT", "LO_UNLINK", "LO_CREATE", "LO_FROM_BYTEA", "LOAD_FILE",
    "DBLINK", "DBLINK_EXEC", "XP_CMDSHELL", "SYS_EXEC", "SYS_EVAL", "QUERY_TO_XML",
    "QUERY_TO_XML_AND_XMLSCHEMA", "CURSOR_TO_XML", "SET_CONFIG", "NEXTVAL", "SETVAL",
    "PG_NOTIFY", "PG_TERMINATE_BACKEND", "PG_CANCEL_BACKEND", "PG_RELOAD_CONF",
    "PG_ROTATE_LOGFILE", "PG_ADVISORY_LOCK", "PG_ADVISORY_XACT_LOCK", "GET_LOCK",
    "RELEASE_LOCK", NULL};

static void verdict(struct gh_sql_verdict *out, int allowed, const char *reason)
{
    out->allowed = allowed;
    out->reason = reason;
}

gh_err gh_sql_check(const char *sql, size_t len, struct gh_sql_verdict *out)
{
    if (len > GH_SQL_MAX) {
        verdict(out, 0, "longer than 100 KiB");
        return GH_OK;
    }
    if (memchr(sql, '\0', len) != NULL) {
        verdict(out, 0, "NUL byte");
        return GH_OK;
    }
    /* One flag per open parenthesis: does it open a subquery? */
    unsigned char *subquery = malloc(len + 1);
    if (subquery == NULL)
        return GH_ERR_NOMEM;
    struct lexer lx = {sql, sql + len, NULL};
    struct tok t, prev = {T_OTHER, NULL, 0};
    size_t open = 0, depth = 0, count = 0;
    int ended = 0, leading = 1;
    const char *refusal = NULL;

    while (refusal == NULL && next(&lx, &t)) {
        if (ended) {
            refusal = "more than one statement";
            break;
        }
        if (leading && t.kind != T_OPEN) {
            leading = 0;
            if (!in_list(&t, first_words))
                refusal = "not a read-only statement (SELECT, WITH, VALUES, EXPLAIN, SHOW)";
        }
        if (refusal != NULL)
            break;
        if (in_list(&t, forbidden) || (is_word(&prev, "FOR") && in_list(&t, lock_words))) {
            refusal = "modifies, locks or runs something";
        } else if (t.kind == T_OPEN && prev.kind == T_WORD && in_list(&prev, forbidden_calls)) {
            refusal = "calls a function that sleeps, reads files or reaches other servers";
        } else if (t.kind == T_OPEN) {
            subquery[open++] = 0;
        } else if (t.kind == T_CLOSE) {
            if (open == 0) {
                refusal = "unbalanced parentheses";
            } else if (subquery[--open]) {
                depth--;
            }
        } else if (t.kind == T_SEMI) {
            ended = 1;
        } else if (open > 0 && prev.kind == T_OPEN && !subquery[open - 1] &&
                   (is_word(&t, "SELECT") || is_word(&t, "WITH") || is_word(&t, "VALUES"))) {
            subquery[open - 1] = 1;
            if (++depth > GH_SQL_DEPTH_MAX)
                refusal = "subqueries nested deeper than 10";
        }
        prev = t;
        count++;
    }
    free(subquery);
    if (refusal == NULL)
        refusal = lx.refusal;
    if (refusal == NULL && count == 0)
        refusal = "empty";
    if (refusal == NULL && leading)
        refusal = "not a read-only statement (SELECT, WITH, VALUES, EXPLAIN, SHOW)";
    if (refusal == NULL && open > 0)
        refusal = "unbalanced parentheses";
    verdict(out, refusal == NULL, refusal ? refusal : "read-only query");
    return GH_OK;
}

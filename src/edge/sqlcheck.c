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
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c >= 0x80;
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
/* Words that make a read query write, lock, or run something, wherever they stand (T-SQL
 * runs a second statement without a ';': "SELECT 1 BACKUP DATABASE ..."). */
static const char *const forbidden[] = {
    "INSERT",  "UPDATE",     "DELETE",   "MERGE",   "UPSERT",     "CREATE",      "ALTER",
    "DROP",    "TRUNCATE",   "RENAME",   "GRANT",   "REVOKE",     "SHUTDOWN",    "KILL",
    "EXECUTE", "EXEC",       "CALL",     "PREPARE", "DEALLOCATE", "LOCK",        "UNLOCK",
    "ATTACH",  "DETACH",     "PRAGMA",   "VACUUM",  "ANALYZE",    "ANALYSE",     "REINDEX",
    "INTO",    "OUTFILE",    "DUMPFILE", "HANDLER", "SAVEPOINT",  "ROLLBACK",    "COMMIT",
    "WAITFOR", "BACKUP",     "RESTORE",  "DBCC",    "DENY",       "RECONFIGURE", "WHILE",
    "BULK",    "CHECKPOINT", "GOTO",     NULL};
/* After FOR, these make a locking read (FOR UPDATE is caught by UPDATE). */
static const char *const lock_words[] = {"SHARE", "NO", "KEY", NULL};
/*
 * Names that may stand before "(" without being refused: the read-only built-in functions
 * of PostgreSQL, MySQL, SQLite and SQL Server (aggregates, window, string, math, date,
 * JSON, array, full-text, conditional and cast functions, and the type names that take a
 * length). A call to any other name is refused: a deny list is never complete, and a
 * function the check does not know may write, sleep or reach a file. Sorted (upper case,
 * C order) for bsearch; the unit test checks the order.
 */
/* clang-format off */
static const char *const functions[] = {
    "ABS", "ACOS", "ADDDATE", "ADDTIME", "AGE", "ANY_VALUE", "APPROX_COUNT_DISTINCT", "ARRAY_AGG",
    "ARRAY_APPEND", "ARRAY_CAT", "ARRAY_DIMS", "ARRAY_LENGTH", "ARRAY_LOWER", "ARRAY_NDIMS",
    "ARRAY_POSITION", "ARRAY_POSITIONS", "ARRAY_PREPEND", "ARRAY_REMOVE", "ARRAY_REPLACE",
    "ARRAY_TO_JSON", "ARRAY_TO_STRING", "ARRAY_UPPER", "ASCII", "ASIN", "ATAN", "ATAN2", "ATN2",
    "AVG", "BIGINT", "BIN", "BINARY", "BIT", "BIT_AND", "BIT_LENGTH", "BIT_OR", "BIT_XOR", "BOOL",
    "BOOLEAN", "BOOL_AND", "BOOL_OR", "BTRIM", "CARDINALITY", "CAST", "CBRT", "CEIL", "CEILING",
    "CHAR", "CHARACTER", "CHARACTER_LENGTH", "CHARINDEX", "CHAR_LENGTH", "CHECKSUM_AGG", "CHOOSE",
    "CHR", "CLOCK_TIMESTAMP", "COALESCE", "CONCAT", "CONCAT_WS", "CONNECTION_ID", "CONTAINS",
    "CONV", "CONVERT", "CONVERT_FROM", "CONVERT_TO", "CONVERT_TZ", "CORR", "COS", "COSH", "COT",
    "COUNT", "COUNT_BIG", "COVAR_POP", "COVAR_SAMP", "CRC32", "CUME_DIST", "CURDATE",
    "CURRENT_DATABASE", "CURRENT_DATE", "CURRENT_SCHEMA", "CURRENT_SCHEMAS", "CURRENT_TIME",
    "CURRENT_TIMESTAMP", "CURRENT_USER", "CURTIME", "DATABASE", "DATALENGTH", "DATE", "DATEADD",
    "DATEDIFF", "DATEDIFF_BIG", "DATEFROMPARTS", "DATENAME", "DATEPART", "DATETIME", "DATETIME2",
    "DATETIMEFROMPARTS", "DATETIMEOFFSET", "DATE_ADD", "DATE_BIN", "DATE_FORMAT", "DATE_PART",
    "DATE_SUB", "DATE_TRUNC", "DAY", "DAYNAME", "DAYOFMONTH", "DAYOFWEEK", "DAYOFYEAR", "DB_NAME",
    "DEC", "DECIMAL", "DECODE", "DEGREES", "DENSE_RANK", "DIFFERENCE", "DIV", "DOUBLE", "ELT",
    "ENCODE", "EOMONTH", "EVERY", "EXP", "EXTRACT", "EXTRACTVALUE", "FACTORIAL", "FIELD",
    "FIND_IN_SET", "FIRST_VALUE", "FLOAT", "FLOAT4", "FLOAT8", "FLOOR", "FORMAT", "FREETEXT",
    "FROM_BASE64", "FROM_DAYS", "FROM_UNIXTIME", "GCD", "GENERATE_SERIES", "GENERATE_SUBSCRIPTS",
    "GEN_RANDOM_UUID", "GETDATE", "GETUTCDATE", "GLOB", "GREATEST", "GROUPING", "GROUPING_ID",
    "GROUP_CONCAT", "HEX", "HOUR", "IF", "IFNULL", "IIF", "INITCAP", "INSTR", "INT", "INT2", "INT4",
    "INT8", "INTEGER", "INTERVAL", "ISDATE", "ISFINITE", "ISJSON", "ISNULL", "ISNUMERIC", "JSON",
    "JSONB_AGG", "JSONB_ARRAY_ELEMENTS", "JSONB_ARRAY_ELEMENTS_TEXT", "JSONB_ARRAY_LENGTH",
    "JSONB_BUILD_ARRAY", "JSONB_BUILD_OBJECT", "JSONB_EACH", "JSONB_EACH_TEXT",
    "JSONB_EXTRACT_PATH", "JSONB_EXTRACT_PATH_TEXT", "JSONB_OBJECT_AGG", "JSONB_OBJECT_KEYS",
    "JSONB_PATH_EXISTS", "JSONB_PATH_MATCH", "JSONB_PATH_QUERY", "JSONB_PRETTY", "JSONB_SET",
    "JSONB_STRIP_NULLS", "JSONB_TYPEOF", "JSON_AGG", "JSON_ARRAY", "JSON_ARRAYAGG",
    "JSON_ARRAY_ELEMENTS", "JSON_ARRAY_ELEMENTS_TEXT", "JSON_ARRAY_LENGTH", "JSON_BUILD_ARRAY",
    "JSON_BUILD_OBJECT", "JSON_CONTAINS", "JSON_CONTAINS_PATH", "JSON_EACH", "JSON_EACH_TEXT",
    "JSON_EXISTS", "JSON_EXTRACT", "JSON_EXTRACT_PATH", "JSON_EXTRACT_PATH_TEXT",
    "JSON_GROUP_ARRAY", "JSON_GROUP_OBJECT", "JSON_KEYS", "JSON_LENGTH", "JSON_MERGE_PATCH",
    "JSON_MODIFY", "JSON_OBJECT", "JSON_OBJECTAGG", "JSON_OBJECT_AGG", "JSON_OBJECT_KEYS",
    "JSON_PATCH", "JSON_PRETTY", "JSON_QUERY", "JSON_QUOTE", "JSON_REMOVE", "JSON_REPLACE",
    "JSON_SEARCH", "JSON_SET", "JSON_STRIP_NULLS", "JSON_TABLE", "JSON_TYPE", "JSON_TYPEOF",
    "JSON_UNQUOTE", "JSON_VALID", "JSON_VALUE", "JULIANDAY", "JUSTIFY_DAYS", "JUSTIFY_HOURS",
    "JUSTIFY_INTERVAL", "LAG", "LAST_DAY", "LAST_VALUE", "LCASE", "LCM", "LEAD", "LEAST", "LEFT",
    "LEN", "LENGTH", "LIKE", "LISTAGG", "LN", "LOCALTIME", "LOCALTIMESTAMP", "LOCATE", "LOG",
    "LOG10", "LOG2", "LOWER", "LPAD", "LTRIM", "MAKEDATE", "MAKETIME", "MAKE_DATE", "MAKE_INTERVAL",
    "MAKE_TIME", "MAKE_TIMESTAMP", "MAKE_TIMESTAMPTZ", "MATCH", "MAX", "MD5", "MEDIUMINT", "MID",
    "MIN", "MINUTE", "MOD", "MODE", "MONTH", "MONTHNAME", "NCHAR", "NEWID", "NOW", "NTH_VALUE",
    "NTILE", "NULLIF", "NUMERIC", "NVARCHAR", "NVL", "OCT", "OCTET_LENGTH", "OPENJSON", "ORD",
    "OVERLAY", "PATINDEX", "PERCENTILE_CONT", "PERCENTILE_DISC", "PERCENT_RANK", "PERIOD_ADD",
    "PERIOD_DIFF", "PG_TYPEOF", "PHRASETO_TSQUERY", "PI", "PLAINTO_TSQUERY", "POSITION", "POW",
    "POWER", "PRINTF", "QUARTER", "QUOTE", "QUOTE_IDENT", "QUOTE_LITERAL", "QUOTE_NULLABLE",
    "RADIANS", "RAND", "RANDOM", "RANK", "REAL", "REGEXP_COUNT", "REGEXP_INSTR", "REGEXP_LIKE",
    "REGEXP_MATCH", "REGEXP_MATCHES", "REGEXP_REPLACE", "REGEXP_SPLIT_TO_ARRAY",
    "REGEXP_SPLIT_TO_TABLE", "REGEXP_SUBSTR", "REGR_AVGX", "REGR_AVGY", "REGR_COUNT",
    "REGR_INTERCEPT", "REGR_R2", "REGR_SLOPE", "REGR_SXX", "REGR_SXY", "REGR_SYY", "REPEAT",
    "REPLACE", "REPLICATE", "REVERSE", "RIGHT", "ROUND", "ROW_NUMBER", "ROW_TO_JSON", "RPAD",
    "RTRIM", "SCALE", "SCHEMA", "SECOND", "SEC_TO_TIME", "SESSION_USER", "SETWEIGHT", "SHA1",
    "SHA2", "SHA224", "SHA256", "SHA384", "SHA512", "SIGN", "SIN", "SINH", "SMALLINT", "SOUNDEX",
    "SPACE", "SPLIT_PART", "SQRT", "SQUARE", "STARTS_WITH", "STATEMENT_TIMESTAMP", "STDDEV",
    "STDDEV_POP", "STDDEV_SAMP", "STDEV", "STDEVP", "STR", "STRFTIME", "STRING_AGG", "STRING_SPLIT",
    "STRING_TO_ARRAY", "STRPOS", "STR_TO_DATE", "STUFF", "SUBDATE", "SUBSTR", "SUBSTRING",
    "SUBSTRING_INDEX", "SUBTIME", "SUM", "SWITCHOFFSET", "SYSDATE", "SYSDATETIME", "SYSUTCDATETIME",
    "TAN", "TANH", "TEXT", "TIME", "TIMEDIFF", "TIMESTAMP", "TIMESTAMPADD", "TIMESTAMPDIFF",
    "TIMESTAMPTZ", "TIMEZONE", "TIME_FORMAT", "TIME_TO_SEC", "TINYINT", "TODATETIMEOFFSET", "TOTAL",
    "TO_BASE64", "TO_CHAR", "TO_DATE", "TO_DAYS", "TO_HEX", "TO_JSON", "TO_JSONB", "TO_NUMBER",
    "TO_TIMESTAMP", "TO_TSQUERY", "TO_TSVECTOR", "TRANSACTION_TIMESTAMP", "TRANSLATE", "TRIM",
    "TRUNC", "TRY_CAST", "TRY_CONVERT", "TS_HEADLINE", "TS_RANK", "TS_RANK_CD", "TYPEOF", "UCASE",
    "UNHEX", "UNICODE", "UNIXEPOCH", "UNIX_TIMESTAMP", "UNNEST", "UPPER", "USER", "UTC_DATE",
    "UTC_TIME", "UTC_TIMESTAMP", "UUID", "VAR", "VARBINARY", "VARCHAR", "VARIANCE", "VARP",
    "VAR_POP", "VAR_SAMP", "VERSION", "WEBSEARCH_TO_TSQUERY", "WEEK", "WEEKDAY", "WEEKOFYEAR",
    "WIDTH_BUCKET", "XMLAGG", "XMLATTRIBUTES", "XMLCONCAT", "XMLELEMENT", "XMLFOREST", "YEAR",
    "YEARWEEK"};
/* Keywords that take a parenthesis ("IN (", "OVER (", "USING ("): not calls. Sorted. */
static const char *const paren_keywords[] = {
    "AGAINST", "ALL", "AND", "ANY", "APPLY", "ARRAY", "AS", "BETWEEN", "BY", "CASE", "COLUMNS",
    "CUBE", "DISTINCT", "ELSE", "ESCAPE", "EXCEPT", "EXISTS", "EXPLAIN", "FILTER", "FROM", "GROUP",
    "HAVING", "ILIKE", "IN", "INDEX", "INTERSECT", "JOIN", "KEY", "LATERAL", "LIMIT",
    "MATERIALIZED", "MINUS", "NOT", "OFFSET", "ON", "OPTION", "OR", "OVER", "PARTITION", "PATH",
    "PIVOT", "REGEXP", "REPEATABLE", "RLIKE", "ROLLUP", "ROOT", "ROW", "ROWS", "SELECT", "SETS",
    "SIMILAR", "SOME", "THEN", "TO", "TOP", "UNION", "UNPIVOT", "USING", "VALUES", "VARYING",
    "WHEN", "WHERE", "WITH", "XOR"};
/*
 * Functions known to sleep, lock, touch files or settings, run query text, change
 * sequences or reach other servers: they are off the allow list anyway, the list names
 * the reason, and it wins over the allow list should the two ever meet. Sorted.
 */
static const char *const denied_calls[] = {
    "BENCHMARK", "CURSOR_TO_XML", "CURSOR_TO_XMLSCHEMA", "DATABASE_TO_XML", "DATABASE_TO_XMLSCHEMA",
    "DATABASE_TO_XML_AND_XMLSCHEMA", "EDIT", "FN_DUMP_DBLOG", "FN_GET_AUDIT_FILE",
    "FN_TRACE_GETTABLE", "FN_XE_FILE_TARGET_READ_FILE", "FTS3_TOKENIZER", "GET_LOCK",
    "IS_FREE_LOCK", "IS_USED_LOCK", "LOAD_EXTENSION", "LOAD_FILE", "MASTER_POS_WAIT", "NEXTVAL",
    "OPENDATASOURCE", "OPENQUERY", "OPENROWSET", "OPENXML", "PG_BACKUP_START", "PG_BACKUP_STOP",
    "PG_CANCEL_BACKEND", "PG_DROP_REPLICATION_SLOT", "PG_IMPORT_SYSTEM_COLLATIONS", "PG_LOGDIR_LS",
    "PG_LOGICAL_EMIT_MESSAGE", "PG_LOG_BACKEND_MEMORY_CONTEXTS", "PG_NOTIFY", "PG_PROMOTE",
    "PG_RELOAD_CONF", "PG_ROTATE_LOGFILE", "PG_START_BACKUP", "PG_STAT_FILE", "PG_STOP_BACKUP",
    "PG_SWITCH_WAL", "PG_SWITCH_XLOG", "PG_TERMINATE_BACKEND", "PG_WAL_REPLAY_PAUSE",
    "PG_WAL_REPLAY_RESUME", "QUERY_TO_XML", "QUERY_TO_XMLSCHEMA", "QUERY_TO_XML_AND_XMLSCHEMA",
    "READFILE", "RELEASE_ALL_LOCKS", "RELEASE_LOCK", "SCHEMA_TO_XML", "SCHEMA_TO_XMLSCHEMA",
    "SCHEMA_TO_XML_AND_XMLSCHEMA", "SETVAL", "SET_CONFIG", "SLEEP", "SOURCE_POS_WAIT", "SYS_EVAL",
    "SYS_EXEC", "TABLE_TO_XML", "TABLE_TO_XMLSCHEMA", "TABLE_TO_XML_AND_XMLSCHEMA", "TS_REWRITE",
    "TS_STAT", "WAIT_FOR_EXECUTED_GTID_SET", "WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS", "WRITEFILE"};
/* Families of such functions, by prefix (dblink_connect, lo_get, pg_ls_logdir, xp_...). */
static const char *const denied_prefixes[] = {
    "DBLINK", "LO_", "PG_ADVISORY", "PG_CREATE_", "PG_FILE_", "PG_LS_", "PG_READ_",
    "PG_REPLICATION_", "PG_SLEEP", "PG_TRY_ADVISORY", "SP_", "XP_"};
/* clang-format on */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static unsigned char upper(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* Orders a token against a table entry as strcmp orders the token in upper case. */
static int name_cmp(const void *key, const void *entry)
{
    const struct tok *t = key;
    const unsigned char *w = *(const unsigned char *const *)entry;
    size_t i = 0;
    for (; i < t->n && w[i] != '\0'; i++)
        if (upper((unsigned char)t->s[i]) != w[i])
            return upper((unsigned char)t->s[i]) - w[i];
    if (i < t->n)
        return 1;
    return w[i] == '\0' ? 0 : -1;
}

static int in_table(const struct tok *name, const char *const *table, size_t count)
{
    return bsearch(name, table, count, sizeof(*table), name_cmp) != NULL;
}

static int denied(const struct tok *name)
{
    if (in_table(name, denied_calls, COUNT(denied_calls)))
        return 1;
    for (size_t i = 0; i < COUNT(denied_prefixes); i++) {
        size_t k = strlen(denied_prefixes[i]);
        if (name->n >= k && strncasecmp(name->s, denied_prefixes[i], k) == 0)
            return 1;
    }
    return 0;
}

static int is_punct(const struct tok *t, char c)
{
    return t->kind == T_OTHER && t->n == 1 && t->s[0] == c;
}

/*
 * Does the "(" the lexer stands after open a column list, "a, b)", and for a CTE go on
 * with "AS (" or "AS [NOT] MATERIALIZED"? Reads a copy of the lexer and stops at the first
 * token that does not fit; a list holds no "(", so the text is read at most twice.
 */
static int column_list(struct lexer lx, int cte)
{
    struct tok t;
    do {
        if (!next(&lx, &t) || (t.kind != T_WORD && t.kind != T_QUOTED) || !next(&lx, &t))
            return 0;
    } while (is_punct(&t, ','));
    if (t.kind != T_CLOSE)
        return 0;
    if (!cte)
        return 1;
    if (!next(&lx, &t) || !is_word(&t, "AS") || !next(&lx, &t))
        return 0;
    if (is_word(&t, "NOT") && !next(&lx, &t))
        return 0;
    return t.kind == T_OPEN || is_word(&t, "MATERIALIZED");
}

/* PostgreSQL's schema of built-ins, the one qualifier the allow list speaks for. */
static int is_catalog(const struct tok *t)
{
    return is_word(t, "pg_catalog") ||
           (t->kind == T_QUOTED && t->n == 12 && memcmp(t->s, "\"pg_catalog\"", 12) == 0);
}

static const char refused_call[] = "calls a function that sleeps, locks, touches files or "
                                   "settings, runs query text or reaches other servers";
static const char unknown_call[] = "unknown function: not on the allow list of read-only "
                                   "functions";
static const char quoted_call[] = "unknown function: a quoted name before ( can name a user "
                                  "function, not the built-in";

/*
 * Why the "(" after back[0] (back[1], back[2] before it) is a refused call, or NULL when
 * it is not a call or calls an allowed function; lx stands after the "(".
 */
static const char *call_refusal(const struct tok back[3], const struct lexer *lx)
{
    const struct tok *name = &back[0];
    if (is_punct(name, ']')) /* "[name](": SQL Server quotes names in brackets */
        return back[1].kind == T_WORD && denied(&back[1]) ? refused_call : quoted_call;
    if (name->kind != T_WORD && name->kind != T_QUOTED && name->kind != T_NUMBER)
        return NULL;
    struct tok key = *name;
    if (key.kind == T_QUOTED) {
        key.s++;
        key.n -= 2;
    }
    if (denied(&key))
        return refused_call;
    /* "schema.name(" names any function, keywords included, in that schema */
    int qualified = is_punct(&back[1], '.');
    if (!qualified) {
        if (name->kind == T_WORD && in_table(&key, paren_keywords, COUNT(paren_keywords)))
            return NULL;
        /* Column lists of aliases and CTEs, a CAST's type, a TABLESAMPLE method. */
        if (is_word(&back[1], "AS") || is_word(&back[1], "WITH") ||
            is_word(&back[1], "RECURSIVE") || is_word(&back[1], "TABLESAMPLE"))
            return NULL;
        if ((back[1].kind == T_CLOSE || is_punct(&back[1], ',')) &&
            column_list(*lx, back[1].kind != T_CLOSE))
            return NULL;
    }
    /* MySQL reads a quoted name as a stored function and PostgreSQL's are case-sensitive:
     * the allow list cannot vouch for one. */
    if (name->kind == T_QUOTED)
        return quoted_call;
    if (name->kind == T_WORD && in_table(&key, functions, COUNT(functions)) &&
        (!qualified || is_catalog(&back[2])))
        return NULL;
    return unknown_call;
}

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
    /* The last three tokens, newest first: a call is read back from its "(". */
    struct tok t, back[3] = {{T_OTHER, NULL, 0}, {T_OTHER, NULL, 0}, {T_OTHER, NULL, 0}};
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
        if (in_list(&t, forbidden) || (is_word(&back[0], "FOR") && in_list(&t, lock_words))) {
            refusal = "modifies, locks or runs something";
        } else if (is_word(&t, "UESCAPE")) {
            refusal = "Unicode escape with UESCAPE (the name or string it spells is hidden)";
        } else if (t.kind == T_OPEN) {
            refusal = call_refusal(back, &lx);
            subquery[open++] = 0;
        } else if (t.kind == T_CLOSE) {
            if (open == 0) {
                refusal = "unbalanced parentheses";
            } else if (subquery[--open]) {
                depth--;
            }
        } else if (t.kind == T_SEMI) {
            ended = 1;
        } else if (open > 0 && back[0].kind == T_OPEN && !subquery[open - 1] &&
                   (is_word(&t, "SELECT") || is_word(&t, "WITH") || is_word(&t, "VALUES"))) {
            subquery[open - 1] = 1;
            if (++depth > GH_SQL_DEPTH_MAX)
                refusal = "subqueries nested deeper than 10";
        }
        back[2] = back[1];
        back[1] = back[0];
        back[0] = t;
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

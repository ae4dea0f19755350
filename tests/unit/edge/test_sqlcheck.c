/*
 * Unit tests for edge/sqlcheck: the labelled corpus tests/unit/edge/sql_corpus.tsv (one
 * "allow|block<TAB>SQL" per line, \n \t \\ \0 escapes), then the limits built here and
 * the function tables (the .c is included to reach them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "edge/sqlcheck.c"

#define CORPUS "tests/unit/edge/sql_corpus.tsv"

/* Undoes the corpus escapes in place; returns the length. */
static size_t unescape(char *s)
{
    size_t o = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] == '\\' && s[i + 1] != '\0') {
            char c = s[++i];
            s[o++] = c == 'n' ? '\n' : c == 't' ? '\t' : c == '0' ? '\0' : c;
        } else {
            s[o++] = s[i];
        }
    }
    return o;
}

static int check(const char *sql, size_t len)
{
    struct gh_sql_verdict v;
    assert_int_equal(gh_sql_check(sql, len, &v), GH_OK);
    assert_non_null(v.reason);
    return v.allowed;
}

static void corpus(void **state)
{
    (void)state;
    FILE *f = fopen(CORPUS, "r");
    assert_non_null(f);
    static char line[1 << 16];
    unsigned allow = 0, block = 0, wrong = 0, number = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        number++;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        int want = strcmp(line, "allow") == 0;
        assert_true(want || strcmp(line, "block") == 0);
        size_t len = unescape(tab + 1);
        struct gh_sql_verdict v;
        assert_int_equal(gh_sql_check(tab + 1, len, &v), GH_OK);
        if (v.allowed != want) {
            printf("line %u: want %s, got %s (%s): %.*s\n", number, line,
                   v.allowed ? "allow" : "block", v.reason, (int)(len > 120 ? 120 : len), tab + 1);
            wrong++;
        }
        want ? allow++ : block++;
    }
    fclose(f);
    printf("corpus: %u allow, %u block, %u wrong\n", allow, block, wrong);
    assert_true(allow >= 100 && block >= 100);
    assert_int_equal(wrong, 0);
}

static void length_limit(void **state)
{
    (void)state;
    char *sql = malloc(GH_SQL_MAX + 2);
    assert_non_null(sql);
    memset(sql, ' ', GH_SQL_MAX + 1);
    memcpy(sql, "SELECT 1", 8);
    assert_true(check(sql, GH_SQL_MAX));
    assert_false(check(sql, GH_SQL_MAX + 1));
    free(sql);
}

/* Appends text to out (used bytes of size); fails the test rather than cut. */
static void put(char *out, size_t size, size_t *used, const char *text)
{
    size_t n = strlen(text);
    assert_true(*used + n < size);
    memcpy(out + *used, text, n + 1);
    *used += n;
}

/* "SELECT * FROM (SELECT * FROM (... SELECT 1 FROM t ...) AS s) AS s" with depth subqueries. */
static void nested(unsigned depth, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    put(out, size, &used, "SELECT 1");
    for (unsigned i = 0; i < depth; i++)
        put(out, size, &used, " FROM (SELECT 1");
    put(out, size, &used, " FROM t");
    for (unsigned i = 0; i < depth; i++)
        put(out, size, &used, ") AS s");
}

static void depth_limit(void **state)
{
    (void)state;
    char sql[4096];
    nested(GH_SQL_DEPTH_MAX, sql, sizeof(sql));
    assert_true(check(sql, strlen(sql)));
    nested(GH_SQL_DEPTH_MAX + 1, sql, sizeof(sql));
    assert_false(check(sql, strlen(sql)));
    /* Parentheses that are not subqueries do not count. */
    char expr[512];
    size_t used = 0;
    expr[0] = '\0';
    put(expr, sizeof(expr), &used, "SELECT ");
    for (int i = 0; i < 40; i++)
        put(expr, sizeof(expr), &used, "(");
    put(expr, sizeof(expr), &used, "1");
    for (int i = 0; i < 40; i++)
        put(expr, sizeof(expr), &used, ")");
    assert_true(check(expr, strlen(expr)));
}

static void dialect_traps(void **state)
{
    (void)state;
    static const char *const blocked[] = {
        "SELECT 1 --x; DROP TABLE t",      /* MySQL: not a comment without a blank */
        "SELECT $$; DROP TABLE t; $$",     /* dollar quotes are not strings everywhere */
        "SELECT a[pg_sleep(10)] FROM t",   /* brackets hide nothing */
        "SELECT 'a\\'; DROP TABLE t; --'", /* backslash escapes differ */
        "SELECT /* /* */ 1 */ 2",          /* nested comments differ */
        "SELECT 1 /*! ; DROP TABLE t */",  /* MySQL executes these */
        "SELECT * FROM t FOR SHARE",
        "SELECT * FROM t FOR NO KEY UPDATE",
        "SELECT query_to_xml('DELETE FROM t RETURNING 1', true, true, '')",
        "SELECT 1)",
        "SELECT (1",
    };
    for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
        if (check(blocked[i], strlen(blocked[i])))
            fail_msg("allowed: %s", blocked[i]);
    static const char *const allowed[] = {
        "SELECT 1 -- DROP TABLE t",
        "SELECT \"drop\", `delete` FROM t;  -- done",
        "(SELECT 1) UNION (SELECT 2)",
        "SELECT share, load, comment, start FROM metrics",
        "SELECT replace(name, 'a', 'b') FROM t",
    };
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (!check(allowed[i], strlen(allowed[i])))
            fail_msg("refused: %s", allowed[i]);
}

/* bsearch needs each table sorted, in upper case as name_cmp folds the text it looks up. */
static void sorted(const char *const *table, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (strspn(table[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(table[i]))
            fail_msg("not upper case: %s", table[i]);
        if (i > 0 && strcmp(table[i - 1], table[i]) >= 0)
            fail_msg("out of order: %s, %s", table[i - 1], table[i]);
    }
}

static void tables(void **state)
{
    (void)state;
    sorted(functions, COUNT(functions));
    sorted(paren_keywords, COUNT(paren_keywords));
    sorted(denied_calls, COUNT(denied_calls));
    for (size_t i = 0; i < COUNT(functions); i++) {
        struct tok t = {T_WORD, functions[i], strlen(functions[i])};
        if (denied(&t) || in_table(&t, paren_keywords, COUNT(paren_keywords)))
            fail_msg("allowed and denied, or a keyword: %s", functions[i]);
    }
    for (size_t i = 0; i < COUNT(paren_keywords); i++) {
        struct tok t = {T_WORD, paren_keywords[i], strlen(paren_keywords[i])};
        if (denied(&t))
            fail_msg("keyword denied: %s", paren_keywords[i]);
    }
    /* Every entry is found, in any case. */
    struct tok t = {T_WORD, "percentile_CONT", 15};
    assert_true(in_table(&t, functions, COUNT(functions)));
    t = (struct tok){T_WORD, "ABSX", 4};
    assert_false(in_table(&t, functions, COUNT(functions)));
    t = (struct tok){T_WORD, "AB", 2};
    assert_false(in_table(&t, functions, COUNT(functions)));
}

static const char *reason(const char *sql)
{
    struct gh_sql_verdict v;
    assert_int_equal(gh_sql_check(sql, strlen(sql), &v), GH_OK);
    assert_false(v.allowed);
    return v.reason;
}

static void call_reasons(void **state)
{
    (void)state;
    assert_string_equal(reason("SELECT my_func(1)"), unknown_call);
    assert_string_equal(reason("SELECT myschema.lower(name) FROM t"), unknown_call);
    assert_string_equal(reason("SELECT \"lower\"(name) FROM t"), quoted_call);
    assert_string_equal(reason("SELECT [dbo].[f](1)"), quoted_call);
    assert_string_equal(reason("SELECT `SLEEP`(5)"), refused_call);
    assert_string_equal(reason("SELECT [xp_cmdshell]('dir')"), refused_call);
    assert_string_equal(reason("SELECT \"pg_catalog\".\"pg_read_file\"('/etc/passwd')"),
                        refused_call);
    assert_string_equal(reason("SELECT dblink_connect('host=evil')"), refused_call);
    assert_string_equal(reason("SELECT * FROM pg_ls_logdir()"), refused_call);
    assert_non_null(strstr(unknown_call, "unknown function"));
    assert_non_null(strstr(quoted_call, "unknown function"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus),      cmocka_unit_test(length_limit),
        cmocka_unit_test(depth_limit), cmocka_unit_test(dialect_traps),
        cmocka_unit_test(tables),      cmocka_unit_test(call_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for authz/rules: ForwardAuth route rules (parsing, matching), and rules fed
 * with normalized paths (the normalization itself: test_path.c).
 *
 * Cases marked REGRESSION pin bugs this suite found (now fixed); each is described where
 * it is declared. Cases that may read out of bounds run in a child process (see
 * match_in_child) so that a crash fails one test, not the whole suite.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "authz/rules.h"

/* ---------------------------------------------------------------------------------------- */
/* rules: parsing                                                                            */

/*
 * Index of the rule matching method and path, or -1. The path is passed as a writable
 * copy (gh_rules_match may write to it while matching) and must come back unchanged.
 */
static int match_index(const struct gh_rules *r, const char *method, const char *path)
{
    char copy[1024];
    size_t n = strlen(path);
    assert_true(n < sizeof(copy));
    memcpy(copy, path, n + 1);
    const struct gh_rule *m = gh_rules_match(r, method, copy);
    assert_memory_equal(copy, path, n + 1);
    return m == NULL ? -1 : (int)(m - r->items);
}

static void rules_ok(const char *text, const char *policy, struct gh_rules *r)
{
    char err[256] = "";
    gh_err e = gh_rules_parse(text, policy, r, err, sizeof(err));
    if (e != GH_OK)
        fail_msg("gh_rules_parse(\"%s\") = %d: %s", text, e, err);
}

/* Parsing fails with GH_ERR_INVALID and a message containing both rule and what. */
static void rules_bad(const char *text, const char *rule, const char *what)
{
    struct gh_rules r = {NULL, 0, GH_ACCESS_AUTHENTICATED};
    char err[256] = "";
    gh_err e = gh_rules_parse(text, "authenticated", &r, err, sizeof(err));
    if (e != GH_ERR_INVALID) {
        if (e == GH_OK)
            gh_rules_clear(&r);
        fail_msg("gh_rules_parse(\"%s\") = %d, expected GH_ERR_INVALID", text, e);
    }
    if ((rule != NULL && strstr(err, rule) == NULL) || (what != NULL && strstr(err, what) == NULL))
        fail_msg("gh_rules_parse(\"%s\"): message \"%s\" lacks \"%s\" / \"%s\"", text, err,
                 rule ? rule : "", what ? what : "");
    /* The output is not touched on failure. */
    assert_null(r.items);
    assert_int_equal(r.n, 0);
}

static void rules_parse_basic(void **state)
{
    (void)state;
    struct gh_rules r;
    rules_ok("GET,HEAD /health public\n"
             "* /api/** authenticated\n"
             "POST /files/* file:write\n"
             "GET /media/** file:read media\n"
             "GET /thumbs/** authenticated media\n",
             "authenticated", &r);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.fallback, GH_ACCESS_AUTHENTICATED);
    assert_string_equal(r.items[0].methods, ",GET,HEAD,");
    assert_string_equal(r.items[0].pattern, "/health");
    assert_int_equal(r.items[0].any_suffix, 0);
    assert_int_equal(r.items[0].access, GH_ACCESS_PUBLIC);
    assert_int_equal(r.items[0].media, 0);
    assert_string_equal(r.items[1].methods, "*");
    assert_string_equal(r.items[1].pattern, "/api");
    assert_int_equal(r.items[1].any_suffix, 1);
    assert_int_equal(r.items[1].access, GH_ACCESS_AUTHENTICATED);
    assert_int_equal(r.items[2].access, GH_ACCESS_PERMISSION);
    assert_string_equal(r.items[2].permission, "file:write");
    assert_string_equal(r.items[2].pattern, "/files/*");
    assert_int_equal(r.items[3].media, 1);
    assert_string_equal(r.items[3].permission, "file:read");
    assert_int_equal(r.items[4].media, 1);
    assert_int_equal(r.items[4].access, GH_ACCESS_AUTHENTICATED);
    gh_rules_clear(&r);
    assert_null(r.items);
    assert_int_equal(r.n, 0);
    gh_rules_clear(&r); /* twice is harmless */
    gh_rules_clear(NULL);
}

static void rules_parse_layout(void **state)
{
    (void)state;
    struct gh_rules r;
    /* Comments, blank lines, blanks around words, CRLF and ';' separators. */
    rules_ok("# the public part\n"
             "\n"
             "   \t \n"
             "  GET   /a   public  \r\n"
             "\t# indented comment\n"
             "GET /b public; POST /c authenticated ;; ; \n"
             "PUT\t/d\tx:y\n",
             "deny", &r);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.fallback, GH_ACCESS_DENY);
    assert_string_equal(r.items[0].pattern, "/a");
    assert_string_equal(r.items[1].pattern, "/b");
    assert_string_equal(r.items[2].pattern, "/c");
    assert_string_equal(r.items[2].methods, ",POST,");
    assert_string_equal(r.items[3].permission, "x:y");
    gh_rules_clear(&r);

    /* Nothing at all: no rules, the fallback decides. */
    rules_ok("", "authenticated", &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(match_index(&r, "GET", "/"), -1);
    gh_rules_clear(&r);
    rules_ok("# only a comment\n\n", "deny", &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.fallback, GH_ACCESS_DENY);
    gh_rules_clear(&r);
}

/*
 * REGRESSION (rules.c, gh_rules_parse): a '#' comment ends at the next ';', not at the end
 * of its line, so the rest of a comment line is parsed as an active rule. In the input
 * below ("# disabled; " then a public catch-all rule: methods *, pattern slash-star-star)
 * the comment silently enables the catch-all; a comment such as "# was public; now
 * closed" makes the whole configuration fail to load.
 * Expected: one rule (GET /a authenticated). Was: two, the first public for every path.
 */
static void rules_comment_runs_to_end_of_line(void **state)
{
    (void)state;
    struct gh_rules r;
    rules_ok("# disabled; * /** public\nGET /a authenticated", "deny", &r);
    size_t n = r.n;
    int first_public = n > 0 && r.items[0].access == GH_ACCESS_PUBLIC;
    gh_rules_clear(&r);
    assert_false(first_public);
    assert_int_equal(n, 1);
}

static void rules_parse_errors(void **state)
{
    (void)state;
    /* The rule number counts rules, not comments or blank lines, and ';' pieces. */
    rules_bad("GET", "rule 1", "PATTERN");
    rules_bad("GET /a public\nget /b public", "rule 2", "METHODS");
    rules_bad("# c\n\nGET /a public\n\nPOST", "rule 2", "PATTERN");
    rules_bad("GET /a public; GET /b public; GET /c", "rule 3", "ACCESS");
    rules_bad("GET /a public\nGET /b public\nGET /c public\nGET /d nobody", "rule 4", "ACCESS");

    /* METHODS */
    rules_bad("GET,,HEAD /a public", "rule 1", "METHODS");
    rules_bad(",GET /a public", "rule 1", "METHODS");
    rules_bad("GET, /a public", "rule 1", "METHODS");
    rules_bad(", /a public", "rule 1", "METHODS");
    rules_bad("get /a public", "rule 1", "METHODS");
    rules_bad("G3T /a public", "rule 1", "METHODS");
    rules_bad("** /a public", "rule 1", "METHODS");
    rules_bad("GET,* /a public", "rule 1", "METHODS");
    rules_bad("GET|POST /a public", "rule 1", "METHODS");

    /* PATTERN */
    rules_bad("GET a/b public", "rule 1", "PATTERN");
    rules_bad("GET * public", "rule 1", "PATTERN");
    rules_bad("GET ** public", "rule 1", "PATTERN");
    rules_bad("GET /a/**/b public", "rule 1", "PATTERN");
    rules_bad("GET /a** public", "rule 1", "PATTERN");
    rules_bad("GET /**a public", "rule 1", "PATTERN");
    rules_bad("GET /a/b** public", "rule 1", "PATTERN");
    rules_bad("GET /**/** public", "rule 1", "PATTERN");
    rules_bad("GET /a/***", "rule 1", "PATTERN");
    rules_bad("GET /a? public", "rule 1", "PATTERN");
    rules_bad("GET /a[bc] public", "rule 1", "PATTERN");
    rules_bad("GET /a\\b public", "rule 1", "PATTERN");
    rules_bad("GET /a#b public", "rule 1", "PATTERN");
    rules_bad("GET /caf\xc3\xa9 public", "rule 1", "PATTERN");
    rules_bad("GET /a\x01 public", "rule 1", "PATTERN");
    rules_bad("GET", "rule 1", "PATTERN");

    /* ACCESS */
    rules_bad("GET /a", "rule 1", "ACCESS");
    rules_bad("GET /a deny", "rule 1", "ACCESS");
    rules_bad("GET /a Public", "rule 1", "ACCESS");
    rules_bad("GET /a File:read", "rule 1", "ACCESS");
    rules_bad("GET /a file:read:x", "rule 1", "ACCESS");
    rules_bad("GET /a file", "rule 1", "ACCESS");

    /* media and trailing words */
    rules_bad("GET /a public media", "rule 1", "public path needs no media");
    rules_bad("GET /a file:read video", "rule 1", "media");
    rules_bad("GET /a file:read Media", "rule 1", "media");
    rules_bad("GET /a file:read media extra", "rule 1", "each once");
    rules_bad("GET /a authenticated media media", "rule 1", "each once");
    /* gateway audiences (authn/gateway.h) */
    rules_bad("GET /a public aud=chat", "rule 1", "no gateway audience");
    rules_bad("GET /a authenticated aud=", "rule 1", "aud=NAME");
    rules_bad("GET /a authenticated aud=Chat", "rule 1", "aud=NAME");
    rules_bad("GET /a authenticated aud=a aud=b", "rule 1", "each once");
    struct gh_rules ok;
    char err[256];
    assert_int_equal(gh_rules_parse("GET /ws/** file:read media aud=chat.v2", "authenticated", &ok,
                                    err, sizeof(err)),
                     GH_OK);
    assert_string_equal(ok.items[0].audience, "chat.v2");
    assert_true(ok.items[0].media);
    gh_rules_clear(&ok);

    /* The offending text is quoted. */
    rules_bad("GET /a public\nPOST /b nobody", "\"POST /b nobody\"", NULL);
}

static void rules_parse_limits(void **state)
{
    (void)state;
    char text[80000];
    char err[256];
    struct gh_rules r;

    /* 255-byte pattern: fits; 256: refused. */
    char pat[300];
    pat[0] = '/';
    memset(pat + 1, 'p', 254);
    pat[255] = '\0';
    snprintf(text, sizeof(text), "GET %s public", pat);
    rules_ok(text, "deny", &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(match_index(&r, "GET", pat), 0);
    gh_rules_clear(&r);
    memset(pat + 1, 'p', 255);
    pat[256] = '\0';
    snprintf(text, sizeof(text), "GET %s public", pat);
    rules_bad(text, "rule 1", "PATTERN");

    /* 256 rules are allowed, the 257th is refused and named. */
    size_t used = 0;
    for (int i = 0; i < 256; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "GET /r%d public\n", i);
    rules_ok(text, "deny", &r);
    assert_int_equal(r.n, 256);
    assert_string_equal(r.items[255].pattern, "/r255");
    gh_rules_clear(&r);
    snprintf(text + used, sizeof(text) - used, "GET /r256 public\n");
    rules_bad(text, "rule 257", "too many");

    /* A rule line over 1024 bytes. */
    memcpy(text, "GET /a ", 7);
    memset(text + 7, ' ', 1100);
    memcpy(text + 1107, "public", 7);
    rules_bad(text, "rule 1", "too long");

    /* A tiny error buffer truncates the message; it stays terminated. */
    memset(err, 'X', sizeof(err));
    assert_int_equal(gh_rules_parse("GET /a nobody", "deny", &r, err, 8), GH_ERR_INVALID);
    assert_int_equal(strlen(err), 7);
}

static void rules_default_policy(void **state)
{
    (void)state;
    struct gh_rules r;
    char err[256];
    rules_ok("GET /a public", "authenticated", &r);
    assert_int_equal(r.fallback, GH_ACCESS_AUTHENTICATED);
    gh_rules_clear(&r);
    rules_ok("GET /a public", "deny", &r);
    assert_int_equal(r.fallback, GH_ACCESS_DENY);
    gh_rules_clear(&r);
    static const char *const bad[] = {"public",          "",           "Deny",      "deny ",
                                      "authenticated\n", "permission", "file:read", "*"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        r.items = NULL;
        r.n = 0;
        if (gh_rules_parse("GET /a public", bad[i], &r, err, sizeof(err)) != GH_ERR_INVALID)
            fail_msg("default policy \"%s\" accepted", bad[i]);
        assert_non_null(strstr(err, "default policy"));
        assert_null(r.items);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* rules: matching                                                                           */

struct match_case {
    const char *method, *path;
    int rule;
};

static void check_matches(const struct gh_rules *r, const struct match_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int got = match_index(r, cases[i].method, cases[i].path);
        if (got != cases[i].rule)
            fail_msg("match(%s %s) = rule %d, expected %d", cases[i].method, cases[i].path, got,
                     cases[i].rule);
    }
}

static void rules_match_patterns(void **state)
{
    (void)state;
    struct gh_rules r;
    rules_ok("* /media/** file:read media\n" /* 0 */
             "* /u/* authenticated\n"        /* 1 */
             "* /api/*/items/** x:read\n"    /* 2 */
             "* /exact public\n"             /* 3 */
             "* /dir/ public\n"              /* 4 */
             "* /f/*.png public\n"           /* 5 */
             "* / public\n",                 /* 6 */
             "deny", &r);
    static const struct match_case cases[] = {
        /* a final "**" matches the rest, nothing included, on a segment boundary */
        {"GET", "/media", 0},
        {"GET", "/media/", 0},
        {"GET", "/media/a", 0},
        {"GET", "/media/a/b", 0},
        {"GET", "/media/a/b/", 0},
        {"GET", "/mediax", -1},
        {"GET", "/mediax/a", -1},
        {"GET", "/medi", -1},
        {"GET", "/x/media", -1},
        /* "*" stays within one segment */
        {"GET", "/u/alice", 1},
        {"GET", "/u/alice/keys", -1},
        {"GET", "/u", -1},
        {"GET", "/api/v1/items", 2},
        {"GET", "/api/v1/items/3", 2},
        {"GET", "/api/v1/items/3/x", 2},
        {"GET", "/api/v1/v2/items/3", -1},
        {"GET", "/api/v1/itemsx", -1},
        {"GET", "/f/a.png", 5},
        {"GET", "/f/a/b.png", -1},
        {"GET", "/f/.png", 5},
        /* exact patterns: the whole path, trailing slash included */
        {"GET", "/exact", 3},
        {"GET", "/exact/", -1},
        {"GET", "/exact/x", -1},
        {"GET", "/exactx", -1},
        {"GET", "/dir/", 4},
        {"GET", "/dir", -1},
        {"GET", "/", 6},
        {"GET", "/other", -1},
    };
    check_matches(&r, cases, sizeof(cases) / sizeof(cases[0]));
    gh_rules_clear(&r);

    /* A lone final "**" segment matches every path. */
    rules_ok("* /** authenticated", "deny", &r);
    static const struct match_case all[] = {
        {"GET", "/", 0},       {"GET", "/a", 0},         {"POST", "/a/b/c", 0},
        {"GET", "/a/b/c/", 0}, {"X", "/caf\xc3\xa9", 0},
    };
    check_matches(&r, all, sizeof(all) / sizeof(all[0]));
    gh_rules_clear(&r);
}

static void rules_match_first_wins(void **state)
{
    (void)state;
    struct gh_rules r;
    rules_ok("GET /a/** public\n"
             "* /a/b file:write\n"
             "* /a/** authenticated\n"
             "* /** x:y\n",
             "deny", &r);
    static const struct match_case cases[] = {
        {"GET", "/a/b", 0}, {"POST", "/a/b", 1}, {"POST", "/a/c", 2},
        {"POST", "/a", 2},  {"GET", "/b", 3},    {"DELETE", "/", 3},
    };
    check_matches(&r, cases, sizeof(cases) / sizeof(cases[0]));
    gh_rules_clear(&r);

    /* Order matters: the same rules reversed give the broad rule everything. */
    rules_ok("* /** x:y\nGET /a/** public", "deny", &r);
    assert_int_equal(match_index(&r, "GET", "/a/b"), 0);
    gh_rules_clear(&r);
}

static void rules_match_methods(void **state)
{
    (void)state;
    struct gh_rules r;
    rules_ok("GET,HEAD /a public\n" /* 0 */
             "FORGET /b public\n"   /* 1 */
             "GETX /c public\n"     /* 2 */
             "POST,GET /d public\n" /* 3 */
             "* /e public\n",       /* 4 */
             "deny", &r);
    static const struct match_case cases[] = {
        {"GET", "/a", 0},     {"HEAD", "/a", 0},  {"POST", "/a", -1},  {"GETX", "/a", -1},
        {"FORGET", "/a", -1}, {"GE", "/a", -1},   {"ET", "/a", -1},    {"EAD", "/a", -1},
        {"get", "/a", -1},    {"T,HE", "/a", -1}, {"FORGET", "/b", 1}, {"GET", "/b", -1},
        {"FOR", "/b", -1},    {"GETX", "/c", 2},  {"GET", "/c", -1},   {"GET", "/d", 3},
        {"POST", "/d", 3},    {"POS", "/d", -1},  {"OST", "/d", -1},   {"ANYTHING", "/e", 4},
        {"get", "/e", 4},
    };
    check_matches(&r, cases, sizeof(cases) / sizeof(cases[0]));
    gh_rules_clear(&r);
}

/*
 * Runs match(method, path) on rules text in a forked child under a 5 s alarm, so that an
 * out-of-bounds walk fails this test only. Returns the rule index, -1 for no match, or -2
 * when the child crashed, hung or was stopped by a sanitizer.
 */
static int match_in_child(const char *text, const char *method, const char *path)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka's handlers would longjmp back into the runner: die plainly instead. */
        static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
            signal(sigs[i], SIG_DFL);
        alarm(5);
        struct gh_rules r;
        char err[256];
        if (gh_rules_parse(text, "deny", &r, err, sizeof(err)) != GH_OK)
            _exit(100);
        int got = match_index(&r, method, path);
        gh_rules_clear(&r);
        _exit(got + 10); /* 9 = no match; ASan's own exit status is 1 */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) < 9)
        return -2;
    assert_int_not_equal(WEXITSTATUS(status), 100);
    return WEXITSTATUS(status) - 10;
}

/*
 * REGRESSION (rules.c, method_matches): the method is found with strstr in ",GET,HEAD,"
 * and then p[-1] is read.
 * - method "" : strstr returns the start of the list every time, p[-1] reads the byte
 *   before r->methods (before the heap block for the first rule), and the loop then walks
 *   past the list's NUL through the rest of the heap until it finds ",," or faults.
 *   Expected: no match. Was: crash (SIGSEGV) or a match on unrelated memory.
 * - method ",GET" : found at r->methods[0], so r->methods[-1] is read (heap underflow by
 *   one byte; ASan reports it under `make asan`).
 * - method "GET,HEAD" matches the rule "GET,HEAD": a method containing ',' can span list
 *   items. Expected: no match. Was: rule 0.
 * ForwardAuth takes the method from X-Forwarded-Method, so the caller must not be trusted
 * to pass a clean token.
 */
static void rules_match_odd_methods(void **state)
{
    (void)state;
    const char *text = "GET,HEAD /a public\nPOST /b public";
    int empty = match_in_child(text, "", "/a");
    int lead_comma = match_in_child(text, ",GET", "/a");
    int spans = match_in_child(text, "GET,HEAD", "/a");
    int comma = match_in_child(text, ",", "/a");
    if (empty != -1 || lead_comma != -1 || spans != -1 || comma != -1)
        fail_msg("method \"\" -> %d, \",GET\" -> %d, \"GET,HEAD\" -> %d, \",\" -> %d "
                 "(expected -1 each; -2 = crashed or hung)",
                 empty, lead_comma, spans, comma);
}

/* A normalized path feeds rules: what still passes is judged by the segments sent. */
static void path_then_rules(void **state)
{
    (void)state;
    struct gh_rules r;
    rules_ok("GET /public/** public\n* /admin/** admin:*", "deny", &r);
    static const char *const admin[] = {"/admin/x", "/%61dmin/x", "/admin;x=1/users",
                                        "/admin/",  "/admin;x",   "/admin/public/x"};
    for (size_t i = 0; i < sizeof(admin) / sizeof(admin[0]); i++) {
        char out[128];
        assert_int_equal(gh_path_normalize(admin[i], strlen(admin[i]), out, sizeof(out)), GH_OK);
        const struct gh_rule *m = gh_rules_match(&r, "GET", out);
        if (m == NULL || m->access != GH_ACCESS_PERMISSION)
            fail_msg("%s -> %s not judged as /admin", admin[i], out);
    }
    static const char *const public[] = {"/public/x", "/public/a;v=1", "/public/%41/"};
    for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++) {
        char out[128];
        assert_int_equal(gh_path_normalize(public[i], strlen(public[i]), out, sizeof(out)), GH_OK);
        const struct gh_rule *m = gh_rules_match(&r, "GET", out);
        if (m == NULL || m->access != GH_ACCESS_PUBLIC)
            fail_msg("%s -> %s not judged public", public[i], out);
    }
    gh_rules_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rules_parse_basic),
        cmocka_unit_test(rules_parse_layout),
        cmocka_unit_test(rules_comment_runs_to_end_of_line),
        cmocka_unit_test(rules_parse_errors),
        cmocka_unit_test(rules_parse_limits),
        cmocka_unit_test(rules_default_policy),
        cmocka_unit_test(rules_match_patterns),
        cmocka_unit_test(rules_match_first_wins),
        cmocka_unit_test(rules_match_methods),
        cmocka_unit_test(rules_match_odd_methods),
        cmocka_unit_test(path_then_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

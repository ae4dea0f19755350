/* Unit tests for core/secure_json: jansson through the wiping allocator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "api/json.h"
#include "core/secure_json.h"

/* What the observer saw of the blocks freed while it was set. */
struct seen {
    size_t blocks;
    size_t largest;
    size_t not_wiped; /* blocks with a nonzero byte left when they reach free() */
};

static void observe(const unsigned char *block, size_t len, void *arg)
{
    struct seen *s = arg;
    s->blocks++;
    if (len > s->largest)
        s->largest = len;
    for (size_t i = 0; i < len; i++) {
        if (block[i] != 0) {
            s->not_wiped++;
            break;
        }
    }
}

static const char access_token[] = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXRleHQ";
static const char refresh_token[] = "rt_9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d9b1deb4d3b7d4bad";

/* The login response of api/auth.c: tokens in jansson strings, then in json_dumps text. */
static void login_response_is_wiped(void **state)
{
    (void)state;
    struct gh_secure_json_stats before, after;
    struct seen seen = {0, 0, 0};
    gh_secure_json_stats(&before);
    gh_secure_json_set_observer(observe, &seen);

    json_t *body = json_pack("{s:s, s:s, s:s, s:I}", "access_token", access_token, "refresh_token",
                             refresh_token, "token_type", "Bearer", "expires_in", (json_int_t)900);
    assert_non_null(body);
    char *text = json_dumps(body, JSON_COMPACT);
    assert_non_null(text);
    assert_non_null(strstr(text, access_token));
    assert_non_null(strstr(text, refresh_token));
    size_t text_len = strlen(text);
    json_decref(body);
    gh_secure_json_free(text);

    gh_secure_json_set_observer(NULL, NULL);
    gh_secure_json_stats(&after);
    /* The object, its table, four keys' values and the text at least. */
    assert_true(seen.blocks >= 4);
    assert_int_equal(seen.not_wiped, 0);
    assert_true(seen.largest >= text_len + 1); /* the dump's buffer passed through the wipe */
    assert_true(after.blocks - before.blocks >= seen.blocks);
    assert_true(after.bytes - before.bytes >=
                text_len + sizeof access_token + sizeof refresh_token);
}

/* A request body with a password, parsed as the dispatcher parses bodies. */
static void request_body_is_wiped(void **state)
{
    (void)state;
    static const char req[] = "{\"username\":\"alice\",\"password\":\"correct horse battery\"}";
    struct seen seen = {0, 0, 0};
    gh_secure_json_set_observer(observe, &seen);
    json_t *obj = NULL;
    assert_int_equal(gh_json_parse_object(req, sizeof req - 1, 16, 4096, &obj, NULL), GH_OK);
    const char *pw = NULL;
    size_t pw_len = 0;
    assert_int_equal(gh_json_string(obj, "password", &pw, &pw_len), GH_OK);
    assert_int_equal(pw_len, strlen("correct horse battery"));
    json_decref(obj);
    gh_secure_json_set_observer(NULL, NULL);
    assert_true(seen.blocks >= 3);
    assert_int_equal(seen.not_wiped, 0);
}

/* Blocks keep malloc's alignment: jansson stores doubles and pointers in them. */
static void blocks_are_aligned(void **state)
{
    (void)state;
    for (size_t n = 0; n < 40; n++) {
        char s[41];
        memset(s, 'x', n);
        s[n] = '\0';
        json_t *v = json_string(s);
        assert_non_null(v);
        assert_int_equal((uintptr_t)v % _Alignof(max_align_t), 0);
        json_t *r = json_real(1.5);
        assert_non_null(r);
        assert_int_equal((uintptr_t)r % _Alignof(max_align_t), 0);
        json_decref(r);
        json_decref(v);
    }
    gh_secure_json_free(NULL);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    gh_secure_json_install(); /* before any jansson value, as cli/main.c does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(login_response_is_wiped),
        cmocka_unit_test(request_body_is_wiped),
        cmocka_unit_test(blocks_are_aligned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

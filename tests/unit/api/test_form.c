/*
 * Unit tests for api/form.c (application/x-www-form-urlencoded, strict) and api/body.c
 * (a route's body kind: a form never reaches a JSON route nor the reverse: 415).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "api/body.h"
#include "api/form.h"
#include "api/request.h"
#include "fake_req.h"

static gh_err parse(const char *body, size_t max_value, struct gh_form *form, char *scratch)
{
    return gh_form_parse(body, strlen(body), max_value, scratch, form);
}

static void fields_decoded(void **state)
{
    (void)state;
    struct gh_form form;
    char scratch[GH_FORM_SCRATCH(128)];
    const char *body = "username=ann+lee&password=p%40ss%2Bw%C3%A9&rd=%2Faccount%3Fx%3D1&e=";
    assert_int_equal(parse(body, 64, &form, scratch), GH_OK);
    assert_int_equal(form.n, 4);
    assert_string_equal(form.fields[0].name, "username");
    assert_string_equal(form.fields[0].value, "ann lee");
    assert_string_equal(form.fields[1].value, "p@ss+w\xc3\xa9");
    assert_int_equal(form.fields[1].value_len, 8);
    assert_string_equal(form.fields[2].value, "/account?x=1");
    assert_string_equal(form.fields[3].name, "e");
    assert_string_equal(form.fields[3].value, "");

    const char *v;
    size_t n;
    assert_int_equal(gh_form_get(&form, "rd", &v, &n), GH_OK);
    assert_string_equal(v, "/account?x=1");
    assert_int_equal(n, 12);
    assert_int_equal(gh_form_get(&form, "RD", &v, &n), GH_ERR_NOT_FOUND);

    assert_int_equal(parse("a=1&a=2", 64, &form, scratch), GH_OK);
    assert_int_equal(gh_form_get(&form, "a", &v, &n), GH_ERR_CONFLICT);

    assert_int_equal(parse("", 64, &form, scratch), GH_OK);
    assert_int_equal(form.n, 0);
    assert_int_equal(gh_form_parse(NULL, 0, 64, scratch, &form), GH_OK);
    assert_int_equal(form.n, 0);
}

static void malformed_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "a",     "=1",    "a=1&",     "&a=1",        "a=1&&b=2",       "a=%",    "a=%4",  "a=%zz",
        "a=%4g", "a=b c", "a=\t",     "a=\xc3\xa9",  "a=%00",          "a=%0a",  "a=%0D", "a=%1f",
        "a=%7f", "a=%C3", "a=%C0%AE", "a=%ED%A0%80", "a=%F4%90%80%80", "a%00=1", "%0a=1", "a=\x7f",
    };
    struct gh_form form = {.n = 99};
    char scratch[GH_FORM_SCRATCH(64)];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gh_err err = parse(bad[i], 64, &form, scratch);
        if (err != GH_ERR_INVALID)
            fail_msg("\"%s\": %s, expected invalid", bad[i], gh_err_name(err));
    }
    assert_int_equal(form.n, 99); /* untouched on failure */
    /* printable ASCII may travel unencoded; '=' inside a value is text */
    assert_int_equal(parse("a=1%3Bb;c&c==", 64, &form, scratch), GH_OK);
    assert_string_equal(form.fields[0].value, "1;b;c");
    assert_string_equal(form.fields[1].value, "=");
}

static void limits(void **state)
{
    (void)state;
    struct gh_form form;
    char body[4096], scratch[GH_FORM_SCRATCH(4096)];
    size_t n = 0;
    for (int i = 0; i < GH_FORM_FIELDS_MAX; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%sf%d=v", i ? "&" : "", i);
    assert_int_equal(parse(body, 8, &form, scratch), GH_OK);
    assert_int_equal(form.n, GH_FORM_FIELDS_MAX);
    (void)snprintf(body + n, sizeof(body) - n, "&x=1");
    assert_int_equal(parse(body, 8, &form, scratch), GH_ERR_TOO_LARGE);

    char name[GH_FORM_NAME_MAX + 2];
    memset(name, 'n', sizeof(name) - 1);
    name[GH_FORM_NAME_MAX] = '\0';
    (void)snprintf(body, sizeof(body), "%s=1", name);
    assert_int_equal(parse(body, 8, &form, scratch), GH_OK);
    name[GH_FORM_NAME_MAX] = 'n';
    name[GH_FORM_NAME_MAX + 1] = '\0';
    (void)snprintf(body, sizeof(body), "%s=1", name);
    assert_int_equal(parse(body, 8, &form, scratch), GH_ERR_TOO_LARGE);

    /* value bounds count decoded bytes */
    assert_int_equal(parse("a=%41%42%43%44", 4, &form, scratch), GH_OK);
    assert_int_equal(parse("a=%41%42%43%44%45", 4, &form, scratch), GH_ERR_TOO_LARGE);
}

/* A form's refusal is a page (forms come from the pages) whose text holds words. */
static void read_form(const char *ct, const char *body, int want, unsigned status,
                      const char *words, size_t fields)
{
    struct fake *f = fake_new(NULL);
    fake_body(f, ct, body);
    assert_int_equal(gh_api_read_form(f->req, 64), want);
    assert_int_equal(f->req->status, status);
    assert_int_equal(f->req->out.len == 0, words[0] == '\0');
    if (words[0] != '\0') {
        assert_non_null(memmem(f->req->out.ptr, f->req->out.len, "<!DOCTYPE html>", 15));
        assert_non_null(memmem(f->req->out.ptr, f->req->out.len, words, strlen(words)));
    }
    if (want == 0)
        assert_int_equal(gh_api_form(f->req)->n, fields);
    else
        assert_null(gh_api_form(f->req));
    fake_free(f);
}

static void read_json(const char *ct, const char *body, int want, unsigned status, const char *code)
{
    struct fake *f = fake_new(NULL);
    fake_body(f, ct, body);
    assert_int_equal(gh_api_read_json(f->req, 8, 64), want);
    assert_int_equal(f->req->status, status);
    assert_string_equal(fake_code(f), code);
    assert_true(want != 0 || f->req->json != NULL);
    fake_free(f);
}

static void body_kinds(void **state)
{
    (void)state;
    static const char form[] = "application/x-www-form-urlencoded";
    read_form(form, "a=1&b=2", 0, 0, "", 2);
    read_form("Application/X-WWW-Form-Urlencoded; charset=UTF-8", "a=1", 0, 0, "", 1);
    read_form(NULL, "", 0, 0, "", 0);
    static const char not_form[] = "not sent as a web form";
    read_form("application/json", "{\"a\":1}", -1, 415, not_form, 0);
    read_form("application/x-www-form-urlencodedx", "a=1", -1, 415, not_form, 0);
    read_form("multipart/form-data; boundary=x", "a=1", -1, 415, not_form, 0);
    read_form(NULL, "a=1", -1, 415, not_form, 0);
    read_form(form, "a=%zz", -1, 400, "it is malformed", 0);
    read_form(form, "a=%00", -1, 400, "it is malformed", 0);
    char longer[80];
    (void)snprintf(longer, sizeof(longer), "a=%065d", 0); /* past the 64 bytes allowed */
    read_form(form, longer, -1, 400, "too long, or it has too many fields", 0);

    read_json("application/json", "{\"a\":1}", 0, 0, "");
    read_json("application/json; charset=utf-8", "{}", 0, 0, "");
    read_json(form, "a=1", -1, 415, "unsupported_media_type");
    read_json(form, "{\"a\":1}", -1, 415, "unsupported_media_type");
    read_json("application/json", "", -1, 400, "invalid_json");
    read_json("application/json", "[1]", -1, 400, "invalid_json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_decoded),
        cmocka_unit_test(malformed_refused),
        cmocka_unit_test(limits),
        cmocka_unit_test(body_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

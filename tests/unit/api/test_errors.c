/*
 * Unit tests for api/errors.c, the table from error value to answer: a default for every
 * gh_err (503 with Retry-After for storage and a full queue, 500 for the rest), a
 * handler's rows first (the first matching row wins), and details {"field"} when a row
 * names one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "api/errors.h"
#include "fake_req.h"

static const struct gh_api_answer rows[] = {
    {GH_ERR_NOT_FOUND, 404, "not_found", "no such thing", NULL},
    {GH_ERR_CONFLICT, 409, "conflict", "the name is taken", "name"},
    {GH_ERR_CONFLICT, 409, "conflict", "never reached: the first row wins", NULL},
    {GH_ERR_IO, 418, "teapot", "a handler may even override storage errors", NULL},
    GH_API_ANSWERS_END};

static const char *header(const struct gh_req *req, const char *name)
{
    for (unsigned i = 0; i < req->nheaders_out; i++)
        if (strcmp(req->headers_out[i].name, name) == 0)
            return req->headers_out[i].value;
    return NULL;
}

static void defaults_cover_every_error(void **state)
{
    (void)state;
    for (int e = GH_ERR_NOMEM; e <= GH_ERR_INTERNAL; e++) {
        const struct gh_api_answer *a = gh_api_answer_for((gh_err)e, NULL);
        assert_int_equal(a->err, e);
        if (e == GH_ERR_IO || e == GH_ERR_BUSY) {
            assert_int_equal(a->status, 503);
            assert_string_equal(a->code, "unavailable");
        } else {
            assert_int_equal(a->status, 500);
            assert_string_equal(a->code, "internal");
            assert_string_equal(a->message, "internal error"); /* never the error's name */
        }
    }
    /* a value outside the enum is an internal error too */
    assert_int_equal(gh_api_answer_for((gh_err)1000, NULL)->status, 500);
}

static void rows_before_defaults(void **state)
{
    (void)state;
    assert_string_equal(gh_api_answer_for(GH_ERR_NOT_FOUND, rows)->message, "no such thing");
    assert_string_equal(gh_api_answer_for(GH_ERR_CONFLICT, rows)->message, "the name is taken");
    assert_int_equal(gh_api_answer_for(GH_ERR_IO, rows)->status, 418);
    assert_int_equal(gh_api_answer_for(GH_ERR_BUSY, rows)->status, 503);
    assert_int_equal(gh_api_answer_for(GH_ERR_AUTH, rows)->status, 500);
}

static void answers(void **state)
{
    (void)state;
    struct fake *f = fake_new(NULL);
    gh_api_reply_err(f->req, GH_ERR_CONFLICT, rows);
    assert_int_equal(f->req->status, 409);
    json_t *j = json_loadb(f->req->out.ptr, f->req->out.len, 0, NULL);
    json_t *e = json_object_get(j, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "conflict");
    assert_string_equal(json_string_value(json_object_get(e, "message")), "the name is taken");
    assert_string_equal(json_string_value(json_object_get(e, "request_id")), f->req->request_id);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "details"), "field")),
                        "name");
    json_decref(j);
    assert_null(header(f->req, "Retry-After"));
    fake_free(f);

    f = fake_new(NULL);
    gh_api_reply_err(f->req, GH_ERR_BUSY, NULL);
    assert_int_equal(f->req->status, 503);
    assert_string_equal(fake_code(f), "unavailable");
    assert_string_equal(header(f->req, "Retry-After"), "1");
    assert_null(strstr(f->req->out.ptr, "details"));
    fake_free(f);

    f = fake_new(NULL);
    gh_api_reply_err(f->req, GH_ERR_CRYPTO, rows);
    assert_int_equal(f->req->status, 500);
    assert_string_equal(fake_code(f), "internal");
    assert_null(strstr(f->req->out.ptr, "crypto"));
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_cover_every_error),
        cmocka_unit_test(rows_before_defaults),
        cmocka_unit_test(answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

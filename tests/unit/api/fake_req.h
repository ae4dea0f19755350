/*
 * A request for the api/ unit tests, built on a server, loop and connection of the
 * test's own (no socket), as tests/unit/http/test_server.c does; headers and a body are
 * set by hand. Included by one test file each.
 */
#ifndef TESTS_UNIT_API_FAKE_REQ_H
#define TESTS_UNIT_API_FAKE_REQ_H

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "http/internal.h"

#define FAKE_FIELDS 16

struct fake {
    struct gh_http srv;
    struct gh_loop loop;
    struct gh_conn conn;
    struct gh_req *req;
    struct gh_h1_field fields[FAKE_FIELDS];
    char code[64]; /* the error code of the answer (fake_code) */
};

static inline struct fake *fake_new(void *app)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->srv.opts.max_body = 1 << 16;
    f->srv.app = app;
    memcpy(f->srv.id_prefix, "0123456789ab", 13);
    f->loop.srv = &f->srv;
    f->conn.loop = &f->loop;
    memcpy(f->conn.ip, "127.0.0.1", 10);
    f->req = gh_req_new(&f->conn);
    assert_non_null(f->req);
    f->req->fields = f->fields;
    f->req->method = GH_POST;
    f->req->method_name = "POST";
    f->req->path = "/test";
    return f;
}

static inline void fake_header(struct fake *f, const char *name, const char *value)
{
    assert_true(f->req->nfields < FAKE_FIELDS);
    struct gh_h1_field *h = &f->fields[f->req->nfields++];
    h->name = name;
    h->value = value;
    h->value_len = strlen(value);
}

static inline void fake_body(struct fake *f, const char *content_type, const char *body)
{
    if (content_type != NULL)
        fake_header(f, "Content-Type", content_type);
    assert_int_equal(gh_buf_append(&f->req->body, body, strlen(body)), GH_OK);
}

/* The "code" of the JSON error answered, or "" when none was. */
static inline const char *fake_code(struct fake *f)
{
    f->code[0] = '\0';
    if (f->req->out.len == 0)
        return f->code;
    json_t *j = json_loadb(f->req->out.ptr, f->req->out.len, 0, NULL);
    const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    if (c != NULL && strlen(c) < sizeof(f->code))
        memcpy(f->code, c, strlen(c) + 1);
    json_decref(j);
    return f->code;
}

static inline void fake_free(struct fake *f)
{
    f->req->nfields = 0;
    f->req->fields = NULL;
    gh_req_end(f->req, 0);
    while (f->loop.spare != NULL) {
        struct gh_req *r = f->loop.spare;
        f->loop.spare = r->next;
        free(r);
    }
    gh_buf_clear(&f->loop.log_line);
    free(f);
}

#endif

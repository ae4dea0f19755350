#include "api/body.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/form.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/page.h"
#include "api/request.h"

/* ct is media type want, alone or followed by parameters. */
static int is_type(const char *ct, const char *want)
{
    size_t n = strlen(want);
    if (ct == NULL || strncasecmp(ct, want, n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

int gh_api_read_json(struct gh_req *req, unsigned max_depth, size_t max_string)
{
    if (req->body.len > 0 && !is_type(gh_req_header(req, "Content-Type"), "application/json")) {
        gh_reply_error(req, 415, "unsupported_media_type", "send application/json", NULL);
        return -1;
    }
    if (req->body.len == 0) {
        gh_reply_error(req, 400, "invalid_json", "a JSON object body is required", NULL);
        return -1;
    }
    struct gh_json_excess excess;
    gh_err err = gh_json_parse_object(req->body.ptr, req->body.len, max_depth, max_string,
                                      &req->json, &excess);
    if (err == GH_ERR_TOO_LARGE && excess.field[0] != '\0') {
        /* Well-formed JSON with one value too long: a bad value of that field (API.md). */
        char why[96];
        snprintf(why, sizeof why, "%s is too long (at most %zu bytes)", excess.field, max_string);
        gh_reply_error(req, 422, "invalid_value", why, json_pack("{s:s}", "field", excess.field));
        return -1;
    }
    if (err == GH_ERR_TOO_LARGE) {
        gh_reply_error(req, 400, "invalid_json", "JSON nesting or a string exceeds the limits",
                       NULL);
        return -1;
    }
    if (err != GH_OK) {
        gh_reply_error(req, 400, "invalid_json", "the body is not a JSON object", NULL);
        return -1;
    }
    return 0;
}

/* Forms come from the pages: their refusals are pages too, the message on the page. */
static int form_refused(struct gh_req *req, unsigned status, const char *message)
{
    gh_api_page_message(req, status, "Form refused", message, "/account", "Back");
    return -1;
}

int gh_api_read_form(struct gh_req *req, size_t max_value)
{
    static const char form_type[] = "application/x-www-form-urlencoded";
    if (req->body.len > 0 && !is_type(gh_req_header(req, "Content-Type"), form_type))
        return form_refused(req, 415,
                            "This form was not sent as a web form "
                            "(application/x-www-form-urlencoded). Send it from its page.");
    struct gh_api_req *st = gh_api_req(req);
    struct gh_form *form = st != NULL ? gh_req_alloc(req, sizeof(*form)) : NULL;
    char *scratch = form != NULL ? gh_req_alloc(req, GH_FORM_SCRATCH(req->body.len)) : NULL;
    if (scratch == NULL) {
        gh_api_reply_failure(req, GH_ERR_NOMEM);
        return -1;
    }
    gh_err err = gh_form_parse(req->body.ptr, req->body.len, max_value, scratch, form);
    if (err == GH_ERR_TOO_LARGE)
        return form_refused(req, 400,
                            "A field of this form is too long, or it has too many "
                            "fields. Shorten it and send it again.");
    if (err != GH_OK)
        return form_refused(req, 400, "This form could not be read: it is malformed.");
    st->form = form;
    return 0;
}

/* GET /docs: the OpenAPI document (api/openapi.h) as a readable page, every operation by
 * path with the credential it needs and its answers. Rendered here under the pages' strict
 * CSP (no script, Gatehouse's one stylesheet, nothing from elsewhere). */
#include <string.h>
#include <jansson.h>

#include "api/handlers.h"
#include "api/openapi.h"
#include "api/page.h"

/* obj[key] as text, "" when it is not a string. */
static const char *text_of(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : "";
}

/* The status codes an operation answers, "200 401 403", into out. */
static void codes_of(const json_t *op, char *out, size_t size)
{
    const char *code;
    const json_t *v;
    size_t used = 0;
    out[0] = '\0';
    json_object_foreach((json_t *)json_object_get(op, "responses"), code, v)
    {
        size_t n = strlen(code);
        if (used + n + 2 > size)
            break;
        if (used > 0)
            out[used++] = ' ';
        memcpy(out + used, code, n + 1);
        used += n;
    }
}

void gh_h_docs_page(struct gh_req *req)
{
    static const char *const methods[] = {"get", "post", "put", "patch", "delete"};
    static const char *const cols[] = {"Method", "Path", "What", "Credential", "Answers"};
    json_error_t e;
    json_t *doc = json_loadb(gh_openapi_json, gh_openapi_json_len, 0, &e);
    if (doc == NULL) {
        gh_api_page_message(req, 500, "Unavailable", "The API reference cannot be read.", "/",
                            "Home");
        return;
    }
    struct gh_page p;
    struct gh_page_head head = {"API reference", NULL, 0, NULL};
    gh_page_begin(&p, GH_PAGE_MAX, &head);
    const json_t *info = json_object_get(doc, "info");
    gh_page_printf(&p,
                   "<p>%s</p><p>The machine-readable document: <a href=\"/openapi.json\">"
                   "/openapi.json</a> (OpenAPI %s).</p>",
                   text_of(info, "description"), text_of(doc, "openapi"));
    gh_page_table(&p, "Every operation", cols, 5);
    const char *path;
    const json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
            const json_t *op = json_object_get(item, methods[i]);
            if (op == NULL)
                continue;
            char codes[128];
            codes_of(op, codes, sizeof(codes));
            int open = json_array_size(json_object_get(op, "security")) == 0;
            gh_page_printf(&p,
                           "<tr><td><code>%s</code></td><td><code>%s</code></td><td>%s</td>"
                           "<td>%s</td><td>%s</td></tr>",
                           methods[i], path, text_of(op, "summary"),
                           open ? "none" : "token, API key or session", codes);
        }
    }
    gh_page_table_end(&p);
    json_decref(doc);
    gh_api_page_reply(req, 200, &p);
}

/* /admin: users, orgs with their roles, and the audit log (filters, paging), read-only
 * views scoped by the same rules as the API: a superadmin sees everything, an org admin
 * the users and records of the org it acts in and the orgs it belongs to. */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/audit.h"
#include "api/handlers.h"
#include "api/page.h"
#include "authz/decide.h"
#include "core/text.h"
#include "core/time.h"
#include <stdlib.h>

#define PAGE_ROWS 50

struct admin_view {
    struct gh_req *req;
    struct gh_page *p;
    const struct gh_identity *who;
    size_t n;
};

static void tabs(struct gh_page *p, const char *tab)
{
    static const char *const names[][2] = {
        {"users", "Users"}, {"orgs", "Organizations and roles"}, {"audit", "Audit log"}};
    gh_page_raw(p, "<nav aria-label=\"Admin sections\" class=\"row\">");
    for (size_t i = 0; i < 3; i++) {
        gh_page_printf(p, "<a href=\"/admin?tab=%s\"", names[i][0]);
        if (strcmp(tab, names[i][0]) == 0)
            gh_page_raw(p, " aria-current=\"page\"");
        gh_page_printf(p, ">%s</a>", names[i][1]);
    }
    gh_page_raw(p, "</nav>");
}

/* Previous / next links of a listing at offset that saw more rows than it showed. */
static void pager(struct gh_page *p, const char *base, size_t offset, int more)
{
    gh_page_raw(p, "<nav aria-label=\"Pages\" class=\"row\">");
    if (offset > 0)
        gh_page_printf(p, "<a href=\"%s&amp;offset=%zu\">Previous</a>", base,
                       offset > PAGE_ROWS ? offset - PAGE_ROWS : 0);
    if (more)
        gh_page_printf(p, "<a href=\"%s&amp;offset=%zu\">Next</a>", base, offset + PAGE_ROWS);
    gh_page_raw(p, "</nav>");
}

static int user_row(void *arg, const struct gh_user *u)
{
    struct admin_view *v = arg;
    char made[GH_TIME_TEXT];
    if (v->n++ >= PAGE_ROWS)
        return 1;
    gh_page_printf(v->p, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
                   u->username, u->email, u->disabled ? "disabled" : "active",
                   u->superadmin ? "yes" : "no",
                   gh_time_format(u->created_at, made) == GH_OK ? made : "");
    return 0;
}

static int role_row(void *arg, const struct gh_role *r)
{
    struct admin_view *v = arg;
    gh_page_printf(v->p, "<li><strong>%s</strong>%s: <code>%s</code></li>", r->name,
                   r->system ? " (system)" : "", r->permissions);
    return 0;
}

static int org_row(void *arg, const struct gh_org *o)
{
    struct admin_view *v = arg;
    struct gh_app *app = v->req->app;
    if (v->n++ >= PAGE_ROWS)
        return 1;
    gh_page_printf(v->p, "<section><h3>%s</h3><p><small>%s</small></p><ul>", o->name, o->id);
    struct admin_view roles = {v->req, v->p, v->who, 0};
    if (gh_rbac_role_list(app->rbac, v->who, o->id, 100, 0, role_row, &roles) != GH_OK)
        gh_page_raw(v->p, "<li>Roles not visible to you.</li>");
    gh_page_raw(v->p, "</ul></section>");
    return 0;
}

static int audit_row(void *arg, const struct gh_audit_row *row)
{
    struct admin_view *v = arg;
    char at[GH_TIME_TEXT];
    if (v->n++ >= PAGE_ROWS)
        return 1;
    const struct gh_audit_event *e = &row->ev;
    gh_page_printf(v->p,
                   "<tr><td>%lld</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s %s</td>"
                   "<td>%d</td></tr>",
                   (long long)row->seq, gh_time_format(e->ts, at) == GH_OK ? at : "", e->action,
                   e->username ? e->username : "", e->ip_address ? e->ip_address : "",
                   e->method ? e->method : "", e->path ? e->path : "", e->status);
    return 0;
}

static const char *query_arg(void *arg, const char *name)
{
    return gh_req_query(arg, name);
}

/* The audit tab: the API's filters and paging (api/audit.h), the API's scoping. */
static gh_err audit_tab(struct admin_view *v)
{
    struct gh_app *app = v->req->app;
    struct gh_audit_query q;
    const char *bad = NULL;
    if (!gh_authz_decide(v->who, v->who->perms, "audit:read", NULL, NULL)) {
        gh_page_error(v->p, "You may not read the audit log.");
        return GH_OK;
    }
    gh_page_raw(v->p, "<form method=\"get\" action=\"/admin\" class=\"row\">"
                      "<input type=\"hidden\" name=\"tab\" value=\"audit\">");
    static const char *const filters[][2] = {{"action", "Action"},
                                             {"user_id", "User id"},
                                             {"since", "Since (RFC 3339)"},
                                             {"until", "Until (RFC 3339)"}};
    for (size_t i = 0; i < 4; i++) {
        struct gh_field f = {
            filters[i][1], filters[i][0], "text", gh_req_query(v->req, filters[i][0]), "off", 0, 1,
            NULL};
        gh_page_field(v->p, &f);
    }
    gh_page_raw(v->p, "<button type=\"submit\">Filter</button></form>");
    if (gh_api_audit_query_parse(query_arg, v->req, &q, &bad) != GH_OK) {
        gh_page_printf(v->p, "<p class=\"error\" role=\"alert\">The filter %s is malformed.</p>",
                       bad != NULL ? bad : "");
        return GH_OK;
    }
    if (!v->who->superadmin)
        q.filter.org_id = v->who->org_id;
    static const char *const cols[] = {"#",       "Time",    "Action", "User",
                                       "Address", "Request", "Status"};
    gh_page_table(v->p, "Audit records, newest first", cols, 7);
    gh_err err = gh_store_audit_list(&app->store, &q.filter, PAGE_ROWS + 1, q.offset, audit_row, v);
    gh_page_table_end(v->p);
    /* the pages keep the filters */
    char base[1024] = "/admin?tab=audit", enc[3 * 128 + 1];
    for (size_t i = 0; i < 4; i++) {
        const char *value = gh_req_query(v->req, filters[i][0]);
        size_t n = strlen(base);
        if (value != NULL && *value != '\0' && gh_percent_encode(value, enc, sizeof(enc)) == GH_OK)
            (void)snprintf(base + n, sizeof(base) - n, "&%s=%s", filters[i][0], enc);
    }
    pager(v->p, base, q.offset, v->n > PAGE_ROWS);
    return err;
}

void gh_h_admin_page(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_page_caller c;
    int r = gh_api_page_caller(req, &c);
    if (r > 0)
        gh_api_page_redirect(req, "/login?rd=/admin");
    if (r != 0)
        return;
    if (!c.admin) {
        gh_api_page_message(req, 403, "Not allowed", "The admin pages are for administrators.",
                            "/account", "Back");
        return;
    }
    const char *tab = gh_req_query(req, "tab");
    if (tab == NULL || (strcmp(tab, "orgs") != 0 && strcmp(tab, "audit") != 0))
        tab = "users";
    const char *off = gh_req_query(req, "offset");
    size_t offset = 0;
    if (off != NULL && strspn(off, "0123456789") == strlen(off) && strlen(off) < 9)
        offset = (size_t)strtoul(off, NULL, 10);
    struct gh_page p;
    struct gh_page_head head = {"Administration", c.who->username, 1, c.csrf};
    gh_page_begin(&p, GH_PAGE_MAX, &head);
    tabs(&p, tab);
    struct admin_view v = {req, &p, c.who, 0};
    gh_err err = GH_OK;
    if (strcmp(tab, "users") == 0) {
        static const char *const cols[] = {"Username", "Email", "State", "Superadmin", "Created"};
        gh_page_table(&p, "Users", cols, 5);
        err = gh_rbac_user_list(app->rbac, c.who, PAGE_ROWS + 1, offset, user_row, &v);
        gh_page_table_end(&p);
        if (err == GH_ERR_FORBIDDEN || err == GH_ERR_NOT_FOUND) {
            gh_page_error(&p, "You may not list users.");
            err = GH_OK;
        }
        pager(&p, "/admin?tab=users", offset, v.n > PAGE_ROWS);
    } else if (strcmp(tab, "orgs") == 0) {
        err = gh_rbac_org_list(app->rbac, c.who, PAGE_ROWS + 1, offset, org_row, &v);
        pager(&p, "/admin?tab=orgs", offset, v.n > PAGE_ROWS);
    } else {
        err = audit_tab(&v);
    }
    if (err != GH_OK) {
        gh_buf_clear(&p.out);
        gh_api_page_message(req, 503, "Unavailable", "Try again soon.", "/admin", "Reload");
        return;
    }
    gh_api_page_reply(req, 200, &p);
}

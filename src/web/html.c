#include "web/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void put(struct gh_page *p, const char *s, size_t n)
{
    if (p->err == GH_OK)
        p->err = gh_buf_append(&p->out, s, n);
}

/* s escaped for HTML text and double-quoted attribute values. */
static void put_escaped(struct gh_page *p, const char *s)
{
    const char *start = s;
    for (; *s != '\0'; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '&':
            rep = "&amp;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        put(p, start, (size_t)(s - start));
        put(p, rep, strlen(rep));
        start = s + 1;
    }
    put(p, start, (size_t)(s - start));
}

void gh_page_raw(struct gh_page *p, const char *markup)
{
    put(p, markup, strlen(markup));
}

/* Only %s (escaped), %d, %u, %ld, %lld, %zu and %% are understood: a page has no use for
 * more, and an unknown one fails the page rather than print something unescaped. */
void gh_page_printf(struct gh_page *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *start = fmt;
    for (; *fmt != '\0'; fmt++) {
        if (*fmt != '%')
            continue;
        put(p, start, (size_t)(fmt - start));
        char num[32];
        const char *f = fmt + 1;
        if (*f == 's') {
            const char *s = va_arg(ap, const char *);
            put_escaped(p, s != NULL ? s : "");
        } else if (*f == '%') {
            put(p, "%", 1);
        } else if (*f == 'd') {
            put(p, num, (size_t)snprintf(num, sizeof(num), "%d", va_arg(ap, int)));
        } else if (*f == 'u') {
            put(p, num, (size_t)snprintf(num, sizeof(num), "%u", va_arg(ap, unsigned)));
        } else if (strncmp(f, "zu", 2) == 0) {
            put(p, num, (size_t)snprintf(num, sizeof(num), "%zu", va_arg(ap, size_t)));
            f++;
        } else if (strncmp(f, "lld", 3) == 0) {
            put(p, num, (size_t)snprintf(num, sizeof(num), "%lld", va_arg(ap, long long)));
            f += 2;
        } else {
            if (p->err == GH_OK)
                p->err = GH_ERR_INTERNAL;
            break;
        }
        fmt = f;
        start = f + 1;
    }
    if (*fmt == '\0')
        put(p, start, (size_t)(fmt - start));
    va_end(ap);
}

void gh_page_begin(struct gh_page *p, size_t max, const struct gh_page_head *head)
{
    gh_buf_init(&p->out, max);
    p->err = GH_OK;
    gh_page_printf(p,
                   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<title>%s - Gatehouse</title>"
                   "<link rel=\"stylesheet\" href=\"/static/gatehouse.css\"></head><body>"
                   "<a class=\"skip\" href=\"#main\">Skip to content</a>"
                   "<header><nav aria-label=\"Main\"><span class=\"brand\">Gatehouse</span>",
                   head->title);
    if (head->user != NULL) {
        gh_page_raw(p, "<a href=\"/account\">Account</a>");
        if (head->admin)
            gh_page_raw(p, "<a href=\"/admin\">Admin</a>");
        gh_page_form(p, "/logout", head->csrf);
        gh_page_printf(p, "<button type=\"submit\" class=\"link\">Sign out %s</button></form>",
                       head->user);
    }
    gh_page_printf(p, "</nav></header><main id=\"main\"><h1>%s</h1>", head->title);
}

gh_err gh_page_end(struct gh_page *p)
{
    gh_page_raw(p, "</main></body></html>\n");
    if (p->err != GH_OK)
        gh_buf_clear(&p->out);
    return p->err;
}

void gh_page_notice(struct gh_page *p, const char *text)
{
    gh_page_printf(p, "<p class=\"notice\" role=\"status\">%s</p>", text);
}

void gh_page_error(struct gh_page *p, const char *text)
{
    gh_page_printf(p, "<p class=\"error\" role=\"alert\" id=\"form-error\">%s</p>", text);
}

void gh_page_form(struct gh_page *p, const char *action, const char *csrf)
{
    gh_page_printf(p, "<form method=\"post\" action=\"%s\">", action);
    if (csrf != NULL)
        gh_page_hidden(p, "csrf_token", csrf);
}

void gh_page_field(struct gh_page *p, const struct gh_field *f)
{
    gh_page_printf(p, "<div class=\"field\"><label for=\"f-%s\">%s</label>", f->name, f->label);
    if (f->hint != NULL)
        gh_page_printf(p, "<small id=\"h-%s\">%s</small>", f->name, f->hint);
    gh_page_printf(p, "<input id=\"f-%s\" name=\"%s\" type=\"%s\" value=\"%s\"", f->name, f->name,
                   f->type, f->value != NULL ? f->value : "");
    if (f->autocomplete != NULL)
        gh_page_printf(p, " autocomplete=\"%s\"", f->autocomplete);
    if (!f->optional)
        gh_page_raw(p, " required");
    if (f->described_by_error || f->hint != NULL) {
        gh_page_raw(p, " aria-describedby=\"");
        if (f->described_by_error)
            gh_page_raw(p, "form-error");
        if (f->hint != NULL)
            gh_page_printf(p, "%sh-%s", f->described_by_error ? " " : "", f->name);
        gh_page_raw(p, "\"");
    }
    if (f->described_by_error)
        gh_page_raw(p, " aria-invalid=\"true\"");
    gh_page_raw(p, "></div>");
}

void gh_page_table(struct gh_page *p, const char *caption, const char *const *cols, size_t n)
{
    gh_page_printf(p,
                   "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"%s\">"
                   "<table><caption>%s</caption><thead><tr>",
                   caption, caption);
    for (size_t i = 0; i < n; i++)
        gh_page_printf(p, "<th scope=\"col\">%s</th>", cols[i]);
    gh_page_raw(p, "</tr></thead><tbody>");
}

void gh_page_table_end(struct gh_page *p)
{
    gh_page_raw(p, "</tbody></table></div>");
}

void gh_page_hidden(struct gh_page *p, const char *name, const char *value)
{
    gh_page_printf(p, "<input type=\"hidden\" name=\"%s\" value=\"%s\">", name, value);
}

void gh_page_submit(struct gh_page *p, const char *label, int danger)
{
    gh_page_raw(p,
                danger ? "<button type=\"submit\" class=\"danger\">" : "<button type=\"submit\">");
    gh_page_printf(p, "%s</button></form>", label);
}

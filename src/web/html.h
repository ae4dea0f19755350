#ifndef GH_WEB_HTML_H
#define GH_WEB_HTML_H

#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"

/*
 * The sign-in portal's HTML, server-rendered into a capped buffer: one layout (a skip link,
 * a header with the signed-in user's links, a main landmark), escaped text, and the form
 * parts every page uses (labelled fields whose error text is tied to them with
 * aria-describedby, the CSRF token). No inline script or style anywhere: the pages run
 * under "script-src 'self'; style-src 'self'" and work with JavaScript off; the one
 * stylesheet is gh_web_stylesheet. Every call appends; the first failure (the buffer's
 * cap) sticks in the page and is returned by gh_page_end.
 */

struct gh_page {
    struct gh_buf out;
    gh_err err;
};

/** What the header shows: nobody (NULL user), or a user with links to the account, the
 * admin pages when admin, and a sign-out form carrying csrf. */
struct gh_page_head {
    const char *title;
    const char *user; /* the signed-in username, or NULL */
    int admin;        /* the user may see /admin */
    const char *csrf; /* the session's CSRF token (with user) */
};

/** Starts a page (the buffer capped at max bytes) with the layout's head and header. */
void gh_page_begin(struct gh_page *p, size_t max, const struct gh_page_head *head) GH_NONNULL(1, 3);

/** Ends the layout; GH_OK and the page in p->out, or the first failure (p->out cleared). */
gh_err gh_page_end(struct gh_page *p) GH_WUR GH_NONNULL(1);

/** Appends markup as it is (a constant of the caller's, never user data). */
void gh_page_raw(struct gh_page *p, const char *markup) GH_NONNULL(1, 2);

/** Appends printf-formatted markup; every %s argument is escaped for HTML text and
 * attribute values (the format itself is the caller's constant markup). */
void gh_page_printf(struct gh_page *p, const char *fmt, ...) GH_NONNULL(1, 2)
    __attribute__((format(printf, 2, 3)));

/** A notice (role=status) or an error (role=alert, id "form-error") paragraph. */
void gh_page_notice(struct gh_page *p, const char *text) GH_NONNULL(1, 2);
void gh_page_error(struct gh_page *p, const char *text) GH_NONNULL(1, 2);

/** Opens a POST form to action (with the CSRF token when csrf is not NULL). */
void gh_page_form(struct gh_page *p, const char *action, const char *csrf) GH_NONNULL(1, 2);

/**
 * A labelled input: name, type, value (NULL: empty), autocomplete, and whether the form's
 * error (gh_page_error) describes it. Required unless optional.
 */
struct gh_field {
    const char *label;
    const char *name;
    const char *type;
    const char *value;
    const char *autocomplete;
    int described_by_error;
    int optional;
    const char *hint; /* a short help text tied with aria-describedby, or NULL */
};
void gh_page_field(struct gh_page *p, const struct gh_field *f) GH_NONNULL(1, 2);

/** A hidden input. */
void gh_page_hidden(struct gh_page *p, const char *name, const char *value) GH_NONNULL(1, 2, 3);

/** A submit button and the end of the form. */
void gh_page_submit(struct gh_page *p, const char *label, int danger) GH_NONNULL(1, 2);

/**
 * Opens a table with caption and the column headers cols (n of them) inside a region that
 * scrolls sideways on a narrow screen and can be scrolled from the keyboard;
 * gh_page_table_end closes both.
 */
void gh_page_table(struct gh_page *p, const char *caption, const char *const *cols, size_t n)
    GH_NONNULL(1, 2, 3);
void gh_page_table_end(struct gh_page *p) GH_NONNULL(1);

/** The stylesheet served at /static/gatehouse.css. */
extern const char gh_web_stylesheet[];

#endif

#include "core/qr.h"

#include <errno.h>
#include <string.h>
#include <qrencode.h>

#define QUIET 4 /* modules of white around the code (ISO/IEC 18004) */

/* label with the five characters XML gives a meaning escaped. */
static gh_err put_escaped(struct gh_buf *out, const char *label)
{
    gh_err err = GH_OK;
    for (const char *p = label; *p != '\0' && err == GH_OK; p++) {
        switch (*p) {
        case '<':
            err = gh_buf_puts(out, "&lt;");
            break;
        case '>':
            err = gh_buf_puts(out, "&gt;");
            break;
        case '&':
            err = gh_buf_puts(out, "&amp;");
            break;
        case '"':
            err = gh_buf_puts(out, "&quot;");
            break;
        case '\'':
            err = gh_buf_puts(out, "&#39;");
            break;
        default:
            err = gh_buf_append(out, p, 1);
            break;
        }
    }
    return err;
}

gh_err gh_qr_svg(const char *text, const char *label, struct gh_buf *out)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (qr == NULL)
        return errno == ENOMEM ? GH_ERR_NOMEM : GH_ERR_TOO_LARGE;
    int size = qr->width + 2 * QUIET;
    gh_err err = gh_buf_printf(out,
                               "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                               "class=\"qr\" role=\"img\" aria-label=\"",
                               size, size);
    if (err == GH_OK)
        err = put_escaped(out, label);
    if (err == GH_OK)
        err = gh_buf_printf(out,
                            "\" shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                            "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                            size, size);
    /* one rectangle per horizontal run of dark modules */
    for (int y = 0; y < qr->width && err == GH_OK; y++) {
        for (int x = 0; x < qr->width && err == GH_OK;) {
            if (!(qr->data[y * qr->width + x] & 1)) {
                x++;
                continue;
            }
            int run = 1;
            while (x + run < qr->width && (qr->data[y * qr->width + x + run] & 1))
                run++;
            err = gh_buf_printf(out, "M%d %dh%dv1h-%dz", x + QUIET, y + QUIET, run, run);
            x += run;
        }
    }
    if (err == GH_OK)
        err = gh_buf_puts(out, "\"/></svg>");
    QRcode_free(qr);
    return err;
}

#ifndef GH_CORE_QR_H
#define GH_CORE_QR_H

#include "core/buf.h"
#include "core/err.h"

/**
 * Appends to out a QR code of text (libqrencode, error correction M, byte mode) as one
 * SVG element: a white square and one black path, with a four-module quiet zone, sized by
 * its viewBox only (no style, so that a page's strict CSP shows it as it is), labelled
 * for screen readers by label (plain text, escaped here). GH_ERR_TOO_LARGE text does not
 * fit a QR code or out's cap; GH_ERR_NOMEM.
 */
gh_err gh_qr_svg(const char *text, const char *label, struct gh_buf *out) GH_WUR
    GH_NONNULL(1, 2, 3);

#endif

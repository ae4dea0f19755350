/* TOTP enrolment at the API: /api/v1/auth/mfa/totp/setup, .../confirm, DELETE .../totp. */
#include <string.h>
#include <sodium.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/json.h"

#define QR_SVG_MAX (64 * 1024)

void gh_h_mfa_setup(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_mfa_enrolment e;
    struct gh_buf svg;
    gh_buf_init(&svg, QR_SVG_MAX);
    gh_err err = gh_mfa_setup(app->signin.mfas, gh_api_identity(req), &e, &svg);
    if (err == GH_ERR_CONFLICT)
        gh_reply_error(req, 409, "conflict", "TOTP is enabled already; disable it first", NULL);
    else if (err != GH_OK)
        gh_api_reply_failure(req, err);
    else
        gh_reply_json(req, 200,
                      json_pack("{s:s, s:s, s:s}", "secret", e.secret, "otpauth_uri", e.uri,
                                "qr_svg", svg.ptr));
    sodium_memzero(&e, sizeof(e));
    gh_buf_clear(&svg);
}

void gh_h_mfa_confirm(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *code;
    size_t len;
    char codes[GH_BACKUP_CODES][GH_BACKUP_CODE_TEXT];
    struct gh_reqmeta meta;
    if (gh_api_string_field(req, "code", 1, &code, &len))
        return;
    gh_api_meta(req, &meta);
    gh_err err = gh_mfa_confirm(app->signin.mfas, gh_api_identity(req), code, &meta, codes);
    if (err == GH_ERR_NOT_FOUND) {
        gh_reply_error(req, 409, "conflict", "no TOTP setup waits for confirmation", NULL);
        return;
    }
    if (err == GH_ERR_AUTH || err == GH_ERR_INVALID) {
        gh_reply_error(req, 401, "invalid_code", "the code is wrong", NULL);
        return;
    }
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < GH_BACKUP_CODES; i++)
        json_array_append_new(list, json_string(codes[i]));
    sodium_memzero(codes, sizeof(codes));
    gh_reply_json(req, 200, json_pack("{s:o}", "backup_codes", list));
}

void gh_h_mfa_disable(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *password, *code;
    size_t plen, clen;
    struct gh_reqmeta meta;
    if (gh_api_string_field(req, "password", 1, &password, &plen) ||
        gh_api_string_field(req, "code", 1, &code, &clen))
        return;
    gh_api_meta(req, &meta);
    gh_err err =
        gh_mfa_disable(app->signin.mfas, gh_api_identity(req), password, plen, code, &meta);
    if (err == GH_ERR_NOT_FOUND) {
        gh_reply_error(req, 404, "not_found", "TOTP is not enabled", NULL);
        return;
    }
    if (err == GH_ERR_AUTH) {
        gh_reply_error(req, 401, "invalid_credentials", "the password or the code is wrong", NULL);
        return;
    }
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    gh_reply_json(req, 204, NULL);
}

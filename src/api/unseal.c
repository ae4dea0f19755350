/*
 * POST /api/v1/sys/unseal {share}: a sealed server (crypto.sealed) collects Shamir shares
 * of its master key until the threshold, then opens its data keys and serves. Only from
 * admin.allow addresses (the dispatcher's "/api/v1/sys" group); the share is the
 * credential. A refused share reveals nothing of the others; every share is audited
 * (UNSEAL_SHARE, UNSEALED, UNSEAL_FAILED) without its value.
 */
#include <sodium.h>
#include <stdatomic.h>

#include "api/app.h"
#include "api/handlers.h"
#include "core/time.h"
#include "authn/sso_providers.h"
#include "crypto/share.h"

static void audit(struct gh_req *req, const char *action, int status)
{
    struct gh_app *app = req->app;
    struct gh_reqmeta meta;
    gh_api_meta(req, &meta);
    struct gh_audit_subject none = {NULL, NULL, NULL};
    (void)gh_audit_record(&app->store, action, &meta, &none, status, NULL);
}

static void refuse(struct gh_req *req, int status, const char *code, const char *message)
{
    audit(req, "UNSEAL_SHARE", status);
    gh_reply_error(req, (unsigned)status, code, message, NULL);
}

/* Opens the data keys under the combined key and makes them the server's. */
static void finish(struct gh_req *req, uint8_t master[GH_MASTER_KEY_LEN], unsigned threshold)
{
    struct gh_app *app = req->app;
    struct gh_datakeys *dk = NULL, *none = NULL;
    gh_err err = gh_datakeys_open(&app->store, master, gh_time_now(), &dk);
    sodium_memzero(master, GH_MASTER_KEY_LEN);
    if (err == GH_ERR_AUTH) {
        audit(req, "UNSEAL_FAILED", 422);
        gh_reply_error(req, 422, "unseal_failed",
                       "these shares do not make the master key: every share was dropped, "
                       "start again",
                       NULL);
        return;
    }
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    if (!atomic_compare_exchange_strong(&app->datakeys, &none, dk))
        gh_datakeys_free(dk); /* unsealed meanwhile by another threshold of shares */
    else if (app->sso != NULL)
        gh_ssop_set_keys(app->sso, dk);
    audit(req, "UNSEALED", 200);
    gh_reply_json(req, 200,
                  json_pack("{s:b, s:i, s:i}", "sealed", 0, "shares", (int)threshold, "threshold",
                            (int)threshold));
}

void gh_h_unseal(struct gh_req *req)
{
    struct gh_app *app = req->app;
    const char *text;
    size_t len = 0;
    struct gh_share share;
    struct gh_unseal_progress p = {0, 0, 0};
    uint8_t master[GH_MASTER_KEY_LEN];
    if (gh_api_string_field(req, "share", 1, &text, &len))
        return;
    if (app->unseal == NULL || atomic_load(&app->datakeys) != NULL) {
        gh_reply_error(req, 409, "not_sealed", "the server is not sealed", NULL);
        return;
    }
    gh_err err = gh_share_parse(text, len, &share);
    if (err == GH_ERR_AUTH) {
        refuse(req, 422, "invalid_share", "the share's check does not match: mistyped?");
        return;
    }
    if (err != GH_OK) {
        refuse(req, 422, "invalid_share", "expected a share as gatehouse key split printed it");
        return;
    }
    err = gh_unseal_add(app->unseal, &share, &p, master);
    sodium_memzero(&share, sizeof(share));
    if (err == GH_ERR_CONFLICT) {
        refuse(req, 422, "share_mismatch",
               "this share is of another split than the shares received so far");
        return;
    }
    if (err == GH_ERR_REUSED) {
        refuse(req, 409, "duplicate_share", "this share was received already");
        return;
    }
    if (err != GH_OK) {
        gh_api_reply_failure(req, err);
        return;
    }
    audit(req, "UNSEAL_SHARE", 200);
    if (p.complete) {
        finish(req, master, p.threshold);
        return;
    }
    gh_reply_json(req, 200,
                  json_pack("{s:b, s:i, s:i}", "sealed", 1, "shares", (int)p.have, "threshold",
                            (int)p.threshold));
}

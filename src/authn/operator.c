/* The authentication service's operator commands (the CLI's user set-password and
 * enable/disable, the admin API's user changes and deletion): the same records and
 * revocations as a user's own changes. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <jansson.h>

#include "authn/admins.h"
#include "authn/fields.h"
#include "authn/service.h"
#include "authn/service_int.h"
#include "authn/views.h"
#include "core/secure_json.h"
#include "core/text.h"
#include "core/time.h"

gh_err gh_auth_set_password(struct gh_auth *a, const char *username, const char *password,
                            size_t len, struct gh_refusal *refusal)
{
    struct gh_user u;
    char hash[GH_PWHASH_MAX];
    int64_t epoch = 0;
    memset(hash, 0, sizeof(hash));
    gh_err err = gh_store_user_find_login(a->store, username, &u);
    if (err != GH_OK)
        return err;
    struct gh_audit_subject s = {u.id, u.username, NULL};
    if ((err = gh_auth_policy(a, password, len, u.username, u.email, u.full_name, refusal)) ==
            GH_OK &&
        (err = gh_password_hash(&a->o.pw, password, len, hash)) == GH_OK &&
        (err = gh_audit_record(a->store, "PASSWORD_CHANGE", NULL, &s, 0, "{\"by\":\"cli\"}")) ==
            GH_OK)
        err = gh_store_user_set_password(a->store, u.id, hash, 1, gh_time_now(), &epoch);
    gh_views_forget(a->views, u.id);
    sodium_memzero(hash, sizeof(hash));
    return err;
}

gh_err gh_auth_set_disabled(struct gh_auth *a, const char *username, int disabled)
{
    struct gh_user u;
    int64_t epoch = 0;
    gh_err err = gh_store_user_find_login(a->store, username, &u);
    if (err != GH_OK)
        return err;
    struct gh_audit_subject s = {u.id, u.username, NULL};
    err = gh_audit_record(a->store, disabled ? "USER_DISABLE" : "USER_ENABLE", NULL, &s, 0,
                          "{\"by\":\"cli\"}");
    if (err != GH_OK)
        return err; /* the record first: no change the trail does not show */
    err = gh_store_user_set_disabled(a->store, u.id, disabled, gh_time_now(), &epoch);
    gh_views_forget(a->views, u.id);
    return err;
}

gh_err gh_auth_user_update(struct gh_auth *a, const char *user_id, const struct gh_user_patch *p,
                           const struct gh_identity *by, const struct gh_reqmeta *meta,
                           struct gh_user *out, struct gh_refusal *refusal)
{
    struct gh_user u;
    gh_err err = gh_store_user_get(a->store, user_id, &u);
    if (err != GH_OK)
        return err;
    refusal->field = "full_name";
    if (p->full_name != NULL && (!gh_field_text_ok(p->full_name, 256) ||
                                 gh_copy_field(u.full_name, sizeof(u.full_name), p->full_name)))
        return GH_ERR_INVALID;
    refusal->field = "email";
    if (p->email != NULL && (!gh_field_email_ok(p->email) ||
                             gh_copy_field(u.email, sizeof(u.email), p->email) != GH_OK))
        return GH_ERR_INVALID;
    refusal->field = NULL;
    /* An operator cannot lock itself out nor drop its own flag by mistake. */
    int self = strcmp(user_id, by->user_id) == 0;
    if (self && ((p->disabled == 1) || (p->superadmin == 0 && u.superadmin)))
        return GH_ERR_CONFLICT;
    int disabling = p->disabled == 1 && !u.disabled;
    if (p->disabled >= 0)
        u.disabled = p->disabled;
    if (p->superadmin >= 0)
        u.superadmin = p->superadmin;
    err = gh_store_user_update(a->store, &u, disabling, gh_time_now());
    gh_views_forget(a->views, user_id);
    if (err != GH_OK)
        return err;
    json_t *md = json_pack("{s:s, s:b, s:b}", "target_id", u.id, "disabled", u.disabled,
                           "superadmin", u.superadmin);
    char *text = md ? json_dumps(md, JSON_COMPACT) : NULL;
    struct gh_audit_subject s = {by->user_id, by->username, by->org_id};
    (void)gh_audit_record(a->store, "USER_UPDATE", meta, &s, 200, text);
    gh_secure_json_free(text);
    json_decref(md);
    *out = u;
    return GH_OK;
}

gh_err gh_auth_user_delete(struct gh_auth *a, const char *user_id, const struct gh_identity *by,
                           const struct gh_reqmeta *meta)
{
    if (strcmp(user_id, by->user_id) == 0)
        return GH_ERR_CONFLICT;
    /* The check and the delete in one transaction: no admin joins or leaves in between. */
    struct gh_store_handle tx;
    int sole = 0;
    gh_err err = gh_store_tx_begin(a->store, &tx);
    if (err != GH_OK)
        return err;
    if ((err = gh_admins_sole(&tx, user_id, &sole)) == GH_OK && sole)
        err = GH_ERR_CONFLICT; /* an org keeps an admin */
    if (err == GH_OK)
        err = gh_store_user_delete(&tx, user_id, gh_time_now());
    err = gh_store_tx_end(&tx, err);
    gh_views_forget(a->views, user_id);
    if (err != GH_OK)
        return err;
    char md[80];
    (void)snprintf(md, sizeof(md), "{\"target_id\":\"%s\"}", user_id);
    struct gh_audit_subject s = {by->user_id, by->username, by->org_id};
    (void)gh_audit_record(a->store, "USER_DELETE", meta, &s, 204, md);
    return GH_OK;
}

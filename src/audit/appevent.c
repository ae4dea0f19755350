/* The applications' own audit events: validated, then appended by the grouped writer. */
#include "audit/appevent.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Every action Gatehouse records itself, sorted (strcmp order) for bsearch. An app may not
 * write any of them: a record named LOGIN is Gatehouse's word that a login happened.
 * A new action of Gatehouse's joins this list in the same change: the integration test
 * test_app_events.py reads every upper snake case literal of src/ (outside the SQL
 * checker's word lists) and fails on one missing here.
 */
static const char *const own_actions[] = {
    "API_KEY_CREATE",
    "API_KEY_REVOKE",
    "API_KEY_USE",
    "API_KEY_USE_FAILED",
    "AUDIT_LOST",
    "BACKUP_CODE_USED",
    "BACKUP_CREATED",
    "CSRF_FAILED",
    "DATA_KEYS_REWRAPPED",
    "DATA_KEY_ROTATED",
    "INVITATION_ACCEPTED",
    "INVITATION_DECLINED",
    "INVITATION_REVOKED",
    "IP_BLOCKED",
    "IP_UNBLOCKED",
    "KEY_ROTATION",
    "LOGIN",
    "LOGIN_FAILED",
    "LOGOUT",
    "MASTER_KEY_SPLIT",
    "MEMBERSHIP_CHANGE",
    "MEMBER_INVITED",
    "MFA_DISABLED",
    "MFA_ENABLED",
    "MFA_FAILED",
    "ORG_CREATE",
    "ORG_DELETE",
    "ORG_UPDATE",
    "PASSWORD_CHANGE",
    "PASSWORD_CHANGE_FAILED",
    "PERMISSION_CREATE",
    "PERMISSION_DENIED",
    "RATE_LIMITED",
    "RATE_LIMIT_BACKEND_DOWN",
    "RATE_LIMIT_BACKEND_UP",
    "REAUTH",
    "REAUTH_FAILED",
    "REAUTH_REQUIRED",
    "REGISTER",
    "ROLE_CHANGE",
    "SESSION_REVOKED",
    "SSO_LOGIN",
    "SSO_LOGIN_FAILED",
    "SSO_PROVIDER_CREATE",
    "SSO_PROVIDER_DELETE",
    "SSO_PROVIDER_UPDATE",
    "SSO_UNLINKED",
    "SSO_USER_CREATED",
    "TOKEN_REFRESH",
    "TOKEN_REUSE_DETECTED",
    "UNSEAL_FAILED",
    "UNSEAL_SHARE",
    "USER_DELETE",
    "USER_DISABLE",
    "USER_ENABLE",
    "USER_UPDATE",
    "VAULT_READ",
    "VAULT_WRITE",
};

static int by_name(const void *key, const void *item)
{
    return strcmp(key, *(const char *const *)item);
}

int gh_audit_action_is_own(const char *name)
{
    return bsearch(name, own_actions, sizeof(own_actions) / sizeof(own_actions[0]),
                   sizeof(own_actions[0]), by_name) != NULL;
}

int gh_audit_action_valid(const char *name)
{
    size_t n = strnlen(name, GH_APPEVENT_ACTION_MAX + 1);
    if (n == 0 || n > GH_APPEVENT_ACTION_MAX || name[0] < 'A' || name[0] > 'Z')
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* 1 when s is NULL or 1..GH_APPEVENT_FIELD_MAX bytes without control characters. */
static int good_text(const char *s)
{
    if (s == NULL)
        return 1;
    size_t n = strnlen(s, GH_APPEVENT_FIELD_MAX + 1);
    if (n == 0 || n > GH_APPEVENT_FIELD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static enum gh_appevent_field check(const struct gh_store_handle *store,
                                    const struct gh_appevent *ev, gh_err *err)
{
    *err = GH_OK;
    if (!gh_audit_action_valid(ev->action) || gh_audit_action_is_own(ev->action))
        return GH_APPEVENT_ACTION;
    if (!good_text(ev->resource_type))
        return GH_APPEVENT_RESOURCE_TYPE;
    if (!good_text(ev->resource_id))
        return GH_APPEVENT_RESOURCE_ID;
    if (ev->status != 0 && (ev->status < 100 || ev->status > GH_APPEVENT_STATUS_MAX))
        return GH_APPEVENT_STATUS;
    if (ev->user_id != NULL && !ev->by_caller) {
        struct gh_membership m;
        *err = gh_store_member_get(store, ev->org_id, ev->user_id, &m);
        if (*err == GH_ERR_NOT_FOUND || *err == GH_ERR_INVALID)
            return GH_APPEVENT_USER_ID;
    }
    return GH_APPEVENT_OK;
}

gh_err gh_appevent_record(const struct gh_store_handle *store, const struct gh_appevent *ev,
                          const struct gh_reqmeta *meta, int64_t *seq, enum gh_appevent_field *bad)
{
    gh_err err;
    enum gh_appevent_field field = check(store, ev, &err);
    if (field != GH_APPEVENT_OK) {
        *bad = field;
        return GH_ERR_INVALID;
    }
    if (err != GH_OK)
        return err;
    struct gh_audit_event rec = {
        .ts = (int64_t)time(NULL),
        .action = ev->action,
        .user_id = ev->user_id,
        .username = ev->username,
        .org_id = ev->org_id,
        .resource_type = ev->resource_type,
        .resource_id = ev->resource_id,
        .ip_address = meta->ip,
        .user_agent = meta->user_agent,
        .method = meta->method,
        .path = meta->path,
        .status = ev->status,
        .metadata_json = ev->metadata_json,
    };
    return gh_audit_append_grouped(store, &rec, seq);
}

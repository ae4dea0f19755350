#include "authn/sso_account.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "authn/fields.h"
#include "authn/service_int.h"
#include "core/log.h"
#include "core/text.h"
#include "core/time.h"
#include "core/uuid.h"
#include "store/store.h"

/* Tries at a free username before giving up (each adds random characters). */
#define NAME_TRIES 4

void gh_sso_audit_failed(struct gh_auth *a, const char *provider, const char *reason,
                         const struct gh_user *user, const struct gh_reqmeta *meta)
{
    char md[160];
    /* provider names are [a-z0-9_-] (validated at save) and reasons fixed words */
    (void)snprintf(md, sizeof(md), "{\"provider\":\"%s\",\"reason\":\"%s\"}", provider, reason);
    struct gh_audit_subject who = {user ? user->id : NULL, user ? user->username : NULL,
                                   user ? user->primary_org_id : NULL};
    if (gh_audit_record(a->store, "SSO_LOGIN_FAILED", meta, &who, 401, md) != GH_OK)
        gh_log(GH_LOG_WARN, "sso: a failed sign-in could not be audited");
}

gh_err gh_sso_audit_login(struct gh_auth *a, const char *provider, const struct gh_user *user,
                          int mfa, const struct gh_reqmeta *meta)
{
    char md[128];
    (void)snprintf(md, sizeof(md), "{\"provider\":\"%s\",\"mfa\":%s}", provider,
                   mfa ? "true" : "false");
    struct gh_audit_subject who = {user->id, user->username, user->primary_org_id};
    return gh_audit_record(a->store, "SSO_LOGIN", meta, &who, 200, md);
}

/* A username from what the provider offers: its username claim, else the email's local
 * part, else the provider's name; cut to the allowed characters and length. */
static void base_username(const struct gh_sso_provider *p, const struct gh_sso_identity *id,
                          char out[49])
{
    const char *src = id->username[0] ? id->username : id->email[0] ? id->email : p->name;
    size_t n = 0;
    for (; *src != '\0' && *src != '@' && n < 48; src++)
        if (isalnum((unsigned char)*src) || *src == '.' || *src == '_' || *src == '-')
            out[n++] = *src;
    out[n] = '\0';
    if (n < 3) /* provider names are [a-z0-9_-], at least one character */
        (void)snprintf(out, 49, "%.40s-user", p->name);
}

/*
 * A new user for id: no password (gh_auth_check_password refuses an empty hash), the
 * email only when the provider verified it (an unverified one could later attract a
 * link_by_email of someone else's identity to this account), in the default org.
 */
static gh_err create_user(struct gh_auth *a, const struct gh_sso_provider *p,
                          const struct gh_sso_identity *id, struct gh_user *out)
{
    struct gh_user u;
    char base[49];
    gh_err err = GH_ERR_CONFLICT;
    memset(&u, 0, sizeof(u));
    gh_uuid_v7(u.id);
    if (id->email_verified && gh_field_email_ok(id->email))
        (void)snprintf(u.email, sizeof(u.email), "%s", id->email);
    else /* the reserved .invalid domain: never an address anyone receives mail at */
        (void)snprintf(u.email, sizeof(u.email), "%s@sso.invalid", u.id);
    if (gh_field_text_ok(id->name, 256))
        (void)snprintf(u.full_name, sizeof(u.full_name), "%s", id->name);
    memcpy(u.primary_org_id, a->default_org, sizeof(u.primary_org_id));
    u.created_at = u.updated_at = gh_time_now();
    base_username(p, id, base);
    for (int i = 0; i < NAME_TRIES && err == GH_ERR_CONFLICT; i++) {
        if (i == 0)
            (void)snprintf(u.username, sizeof(u.username), "%s", base);
        else
            (void)snprintf(u.username, sizeof(u.username), "%s-%04x", base,
                           (unsigned)randombytes_uniform(0x10000));
        err = gh_store_user_create(a->store, &u, "");
    }
    if (err != GH_OK)
        return err;
    const char *role = p->default_role[0] ? p->default_role : "member";
    err = gh_store_member_add(a->store, a->default_org, u.id, role, u.created_at);
    if (err != GH_OK) {
        gh_log(GH_LOG_WARN, "sso: a new user could not join the default org");
        (void)gh_store_user_delete(a->store, u.id, gh_time_now());
        return err;
    }
    *out = u;
    return GH_OK;
}

static gh_err add_link(struct gh_auth *a, const struct gh_sso_provider *p,
                       const struct gh_sso_identity *id, const char *user_id)
{
    struct gh_sso_link l;
    memset(&l, 0, sizeof(l));
    gh_uuid_v7(l.id);
    (void)snprintf(l.provider, sizeof(l.provider), "%s", p->name);
    (void)snprintf(l.subject, sizeof(l.subject), "%s", id->subject);
    (void)snprintf(l.user_id, sizeof(l.user_id), "%s", user_id);
    if (id->email_verified)
        (void)snprintf(l.email, sizeof(l.email), "%s", id->email);
    l.created_at = l.last_login_at = gh_time_now();
    return gh_store_sso_link_add(a->store, &l);
}

/* The user of the verified email, when the provider may link by email. */
static gh_err by_email(struct gh_auth *a, const struct gh_sso_provider *p,
                       const struct gh_sso_identity *id, struct gh_user *out)
{
    if (!p->link_by_email || !id->email_verified || !gh_field_email_ok(id->email))
        return GH_ERR_NOT_FOUND;
    gh_err err = gh_store_user_find_login(a->store, id->email, out);
    if (err == GH_OK && strcasecmp(out->email, id->email) != 0)
        err = GH_ERR_NOT_FOUND; /* a username that happens to match: never */
    return err;
}

/* Whether someone else holds the email a new user would get. */
static int email_taken(struct gh_auth *a, const struct gh_sso_identity *id)
{
    struct gh_user u;
    return id->email_verified && gh_store_user_find_login(a->store, id->email, &u) == GH_OK;
}

static gh_err refuse(gh_err err, const char **reason)
{
    switch (err) {
    case GH_ERR_NOT_FOUND:
        *reason = "no_account";
        break;
    case GH_ERR_FORBIDDEN:
        *reason = "disabled";
        break;
    case GH_ERR_CONFLICT:
        *reason = "email_taken";
        break;
    default:
        *reason = "storage";
        break;
    }
    return err;
}

gh_err gh_sso_account_resolve(struct gh_auth *a, const struct gh_sso_provider *p,
                              const struct gh_sso_identity *id, const struct gh_reqmeta *meta,
                              struct gh_user *out, const char **reason)
{
    struct gh_sso_link link;
    *reason = NULL;
    if (id->subject[0] == '\0') {
        *reason = "invalid_identity";
        return GH_ERR_INVALID;
    }
    gh_err err = gh_store_sso_link_find(a->store, p->name, id->subject, &link);
    if (err == GH_OK) {
        if ((err = gh_store_user_get(a->store, link.user_id, out)) != GH_OK)
            return refuse(err, reason);
        if (out->disabled)
            return refuse(GH_ERR_FORBIDDEN, reason);
        if (gh_store_sso_link_touch(a->store, link.id, gh_time_now()) != GH_OK)
            gh_log(GH_LOG_WARN, "sso: an identity's last sign-in could not be written");
        return GH_OK;
    }
    if (err != GH_ERR_NOT_FOUND)
        return refuse(err, reason);

    err = by_email(a, p, id, out);
    if (err == GH_OK) {
        if (out->disabled)
            return refuse(GH_ERR_FORBIDDEN, reason);
        err = add_link(a, p, id, out->id);
        return err == GH_OK ? GH_OK : refuse(err == GH_ERR_CONFLICT ? GH_ERR_IO : err, reason);
    }
    if (err != GH_ERR_NOT_FOUND)
        return refuse(err, reason);
    if (!p->auto_create_user)
        return refuse(GH_ERR_NOT_FOUND, reason);
    if (email_taken(a, id))
        return refuse(GH_ERR_CONFLICT, reason);
    if ((err = create_user(a, p, id, out)) != GH_OK)
        return refuse(err == GH_ERR_CONFLICT ? GH_ERR_IO : err, reason);
    if ((err = add_link(a, p, id, out->id)) != GH_OK) {
        /* the same identity's first sign-in twice at once: one user stays */
        (void)gh_store_user_delete(a->store, out->id, gh_time_now());
        return refuse(err == GH_ERR_CONFLICT ? GH_ERR_IO : err, reason);
    }
    char md[128];
    (void)snprintf(md, sizeof(md), "{\"provider\":\"%s\"}", p->name);
    struct gh_audit_subject who = {out->id, out->username, out->primary_org_id};
    if ((err = gh_audit_record(a->store, "SSO_USER_CREATED", meta, &who, 201, md)) != GH_OK)
        return refuse(err, reason);
    return GH_OK;
}

gh_err gh_sso_account_links(struct gh_auth *a, const char *user_id, gh_sso_link_visit_fn fn,
                            void *arg)
{
    return gh_store_sso_link_list(a->store, user_id, fn, arg);
}

struct link_count {
    const char *except;
    int others;
    int found;
};

static int count_link(void *arg, const struct gh_sso_link *l)
{
    struct link_count *c = arg;
    if (strcmp(l->id, c->except) == 0)
        c->found = 1;
    else
        c->others++;
    return 0;
}

gh_err gh_sso_account_unlink(struct gh_auth *a, const struct gh_identity *who, const char *link_id,
                             const struct gh_reqmeta *meta)
{
    struct link_count c = {link_id, 0, 0};
    struct gh_credentials cr;
    gh_err err = gh_store_sso_link_list(a->store, who->user_id, count_link, &c);
    if (err != GH_OK)
        return err;
    if (!c.found)
        return GH_ERR_NOT_FOUND;
    if (c.others == 0) { /* the last identity: only with a password left to sign in with */
        memset(&cr, 0, sizeof(cr));
        err = gh_store_user_get_credentials(a->store, who->user_id, &cr);
        int has_password = err == GH_OK && cr.password_hash[0] != '\0';
        sodium_memzero(&cr, sizeof(cr));
        if (err != GH_OK)
            return err;
        if (!has_password)
            return GH_ERR_CONFLICT;
    }
    if ((err = gh_store_sso_link_delete(a->store, who->user_id, link_id)) != GH_OK)
        return err;
    struct gh_audit_subject s = {who->user_id, who->username, who->org_id};
    return gh_audit_record(a->store, "SSO_UNLINKED", meta, &s, 204, NULL);
}

/* The authentication service's operator commands (the CLI's user set-password and
 * enable/disable): the same records and revocations as a user's own changes. */
#include <string.h>
#include <sodium.h>

#include "authn/service.h"
#include "authn/service_int.h"
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

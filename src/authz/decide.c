#include "authz/decide.h"

#include <stdio.h>
#include <string.h>

#include "core/perm.h"

const char *gh_authz_reason_name(enum gh_authz_reason why)
{
    switch (why) {
    case GH_AUTHZ_GRANTED:
        return "granted";
    case GH_AUTHZ_OWNER:
        return "owner";
    case GH_AUTHZ_SUPERADMIN:
        return "superadmin";
    case GH_AUTHZ_NOT_GRANTED:
        return "not_granted";
    case GH_AUTHZ_NOT_A_MEMBER:
        return "not_a_member";
    case GH_AUTHZ_UNKNOWN_PERMISSION:
        return "unknown_permission";
    }
    return "not_granted";
}

int gh_authz_decide(const struct gh_identity *who, const char *perms, const char *perm,
                    const char *owner_id, enum gh_authz_reason *why)
{
    enum gh_authz_reason r = GH_AUTHZ_NOT_GRANTED;
    size_t len = strlen(perm);
    char own[GH_PERM_MAX];
    if (who->superadmin)
        r = GH_AUTHZ_SUPERADMIN;
    else if (gh_perms_allow(perms, perm, len))
        r = GH_AUTHZ_GRANTED;
    else if (owner_id != NULL && strcmp(owner_id, who->user_id) == 0 &&
             snprintf(own, sizeof(own), "%s:own", perm) < (int)sizeof(own) &&
             gh_perms_allow(perms, own, len + 4))
        r = GH_AUTHZ_OWNER;
    if (why != NULL)
        *why = r;
    return r != GH_AUTHZ_NOT_GRANTED;
}

int gh_authz_global(const struct gh_identity *who, const char *perm, const char *default_org)
{
    return gh_authz_decide(who, who->perms, perm, NULL, NULL) &&
           (who->superadmin || strcmp(who->org_id, default_org) == 0);
}

int gh_authz_holds_all(const struct gh_identity *who, const char *holder, const char *list)
{
    if (who->superadmin)
        return 1;
    char word[GH_PERM_MAX];
    while (*list != '\0') {
        size_t n = strcspn(list, " ");
        if (n >= sizeof(word))
            return 0;
        memcpy(word, list, n);
        word[n] = '\0';
        if (n > 0 && !gh_perms_allow(holder, word, n))
            return 0;
        list += n;
        while (*list == ' ')
            list++;
    }
    return 1;
}

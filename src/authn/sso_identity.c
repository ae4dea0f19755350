/* Claims mapped to an SSO identity (sso_identity.h). */
#include <stdio.h>
#include <string.h>

#include "authn/sso_identity.h"

const json_t *gh_sso_claim(const json_t *obj, const char *path)
{
    char name[64];
    while (json_is_object(obj)) {
        size_t n = strcspn(path, ".");
        if (n == 0 || n >= sizeof(name))
            return NULL;
        memcpy(name, path, n);
        name[n] = '\0';
        obj = json_object_get(obj, name);
        if (path[n] == '\0')
            return obj;
        path += n + 1;
    }
    return NULL;
}

/* Copies an optional string claim into dst; -1 another type, a NUL inside, or too long. */
static int text_claim(const json_t *claims, const char *path, char *dst, size_t size)
{
    const json_t *v = gh_sso_claim(claims, path);
    dst[0] = '\0';
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= size ||
        strlen(json_string_value(v)) != json_string_length(v))
        return -1;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

gh_err gh_sso_identity_map(const json_t *claims, const struct gh_sso_provider *p,
                           struct gh_sso_identity *out)
{
    struct gh_sso_identity id;
    memset(&id, 0, sizeof(id));
    const json_t *sub = gh_sso_claim(claims, p->claim_subject);
    if (json_is_integer(sub)) {
        (void)snprintf(id.subject, sizeof(id.subject), "%" JSON_INTEGER_FORMAT,
                       json_integer_value(sub));
    } else if (text_claim(claims, p->claim_subject, id.subject, sizeof(id.subject)) != 0 ||
               id.subject[0] == '\0') {
        return GH_ERR_INVALID;
    }
    if (text_claim(claims, p->claim_email, id.email, sizeof(id.email)) != 0 ||
        text_claim(claims, p->claim_username, id.username, sizeof(id.username)) != 0 ||
        text_claim(claims, p->claim_name, id.name, sizeof(id.name)) != 0)
        return GH_ERR_INVALID;
    const json_t *verified = json_object_get(claims, "email_verified");
    id.email_verified =
        id.email[0] != '\0' &&
        (json_is_true(verified) ||
         (json_is_string(verified) && strcmp(json_string_value(verified), "true") == 0));
    *out = id;
    return GH_OK;
}

/* The shape of an SSO provider description (sso_spec.h). */
#include <stddef.h>
#include <string.h>

#include "authn/sso_spec.h"

/* The string keys and where each goes. */
static const struct {
    const char *key;
    size_t off;
} strings[] = {
    {"name", offsetof(struct gh_sso_spec, name)},
    {"type", offsetof(struct gh_sso_spec, type)},
    {"preset", offsetof(struct gh_sso_spec, preset)},
    {"tenant", offsetof(struct gh_sso_spec, tenant)},
    {"issuer", offsetof(struct gh_sso_spec, issuer)},
    {"authorization_endpoint", offsetof(struct gh_sso_spec, authorization_endpoint)},
    {"token_endpoint", offsetof(struct gh_sso_spec, token_endpoint)},
    {"userinfo_endpoint", offsetof(struct gh_sso_spec, userinfo_endpoint)},
    {"tokeninfo_endpoint", offsetof(struct gh_sso_spec, tokeninfo_endpoint)},
    {"client_id", offsetof(struct gh_sso_spec, client_id)},
    {"client_secret", offsetof(struct gh_sso_spec, client_secret)},
    {"token_auth", offsetof(struct gh_sso_spec, token_auth)},
    {"default_role", offsetof(struct gh_sso_spec, default_role)},
    {"sp_entity_id", offsetof(struct gh_sso_spec, sp_entity_id)},
    {"idp_metadata_xml", offsetof(struct gh_sso_spec, idp_metadata_xml)},
    {"idp_metadata_url", offsetof(struct gh_sso_spec, idp_metadata_url)},
    {"sp_private_key", offsetof(struct gh_sso_spec, sp_private_key)},
    {"sp_certificate", offsetof(struct gh_sso_spec, sp_certificate)},
};
static const struct {
    const char *key;
    size_t off;
} claims[] = {
    {"subject", offsetof(struct gh_sso_spec, claim_subject)},
    {"email", offsetof(struct gh_sso_spec, claim_email)},
    {"username", offsetof(struct gh_sso_spec, claim_username)},
    {"name", offsetof(struct gh_sso_spec, claim_name)},
};
static const struct {
    const char *key;
    size_t off;
} flags[] = {
    {"pkce", offsetof(struct gh_sso_spec, pkce)},
    {"enabled", offsetof(struct gh_sso_spec, enabled)},
    {"auto_create_user", offsetof(struct gh_sso_spec, auto_create_user)},
    {"link_by_email", offsetof(struct gh_sso_spec, link_by_email)},
    {"trust_email", offsetof(struct gh_sso_spec, trust_email)},
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A JSON string without an inner NUL, or NULL. */
static const char *text(const json_t *v)
{
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

/* *slot = the string v (NULL for JSON null); -1 another type. */
static int read_string(const json_t *v, const char **slot)
{
    if (json_is_null(v)) {
        *slot = NULL;
        return 0;
    }
    return (*slot = text(v)) != NULL ? 0 : -1;
}

static int read_claims(const json_t *obj, struct gh_sso_spec *out)
{
    const char *key;
    const json_t *v;
    if (json_is_null(obj))
        return 0;
    if (!json_is_object(obj))
        return -1;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (i < COUNT(claims) && strcmp(claims[i].key, key) != 0)
            i++;
        if (i == COUNT(claims) || read_string(v, (const char **)((char *)out + claims[i].off)) != 0)
            return -1;
    }
    return 0;
}

/* An array of at most max strings into items[], *n and *has (JSON null: absent). */
static int read_list(const json_t *arr, const char **items, size_t max, size_t *n, int *has)
{
    size_t i;
    const json_t *v;
    if (json_is_null(arr))
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) > max)
        return -1;
    json_array_foreach(arr, i, v)
    {
        if ((items[i] = text(v)) == NULL)
            return -1;
    }
    *n = json_array_size(arr);
    *has = 1;
    return 0;
}

/* Reads one key of the object; -1 unknown key or wrong type. */
static int read_key(const char *key, const json_t *v, struct gh_sso_spec *out)
{
    for (size_t i = 0; i < COUNT(strings); i++)
        if (strcmp(strings[i].key, key) == 0)
            return read_string(v, (const char **)((char *)out + strings[i].off));
    for (size_t i = 0; i < COUNT(flags); i++)
        if (strcmp(flags[i].key, key) == 0) {
            int *slot = (int *)((char *)out + flags[i].off);
            if (json_is_null(v))
                return 0;
            if (!json_is_boolean(v))
                return -1;
            *slot = json_is_true(v);
            return 0;
        }
    if (strcmp(key, "claims") == 0)
        return read_claims(v, out);
    if (strcmp(key, "scopes") == 0)
        return read_list(v, out->scopes, GH_SSO_SCOPES_MAX, &out->nscopes, &out->has_scopes);
    if (strcmp(key, "allowed_client_ids") == 0)
        return read_list(v, out->clients, GH_SSO_CLIENTS_MAX, &out->nclients, &out->has_clients);
    return -1;
}

gh_err gh_sso_spec_read(const json_t *obj, struct gh_sso_spec *out, const char **field)
{
    struct gh_sso_spec s;
    const char *key;
    const json_t *v;
    memset(&s, 0, sizeof(s));
    s.pkce = s.enabled = s.auto_create_user = s.link_by_email = s.trust_email = -1;
    if (!json_is_object(obj))
        return GH_ERR_INVALID;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (read_key(key, v, &s) != 0) {
            if (field != NULL)
                *field = key;
            return GH_ERR_INVALID;
        }
    }
    *out = s;
    return GH_OK;
}

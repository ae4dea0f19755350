/* /api/v1/sso/providers: superadmins keep the SSO identity providers. */
#include <string.h>
#include <sodium.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/json.h"
#include "api/reauth.h"
#include "authn/sso_providers.h"

#define PROVIDERS_PREFIX "/api/v1/sso/providers/"

/* A provider as the API shows it: never the secret, only whether there is one. */
static json_t *provider_json(const struct gh_sso_provider *p, int from_config)
{
    json_t *claims =
        json_pack("{s:s, s:s, s:s, s:s}", "subject", p->claim_subject, "email", p->claim_email,
                  "username", p->claim_username, "name", p->claim_name);
    json_t *o = json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:b, s:s, s:o, s:o, s:b, s:b, s:b, s:s, "
        "s:b, s:s, s:o, s:o}",
        "name", p->name, "type", p->type, "preset",
        p->preset[0] ? json_string(p->preset) : json_null(), "tenant",
        p->tenant[0] ? json_string(p->tenant) : json_null(), "issuer",
        p->issuer[0] ? json_string(p->issuer) : json_null(), "authorization_endpoint",
        p->authorization_endpoint[0] ? json_string(p->authorization_endpoint) : json_null(),
        "token_endpoint", p->token_endpoint[0] ? json_string(p->token_endpoint) : json_null(),
        "userinfo_endpoint",
        p->userinfo_endpoint[0] ? json_string(p->userinfo_endpoint) : json_null(), "client_id",
        p->client_id, "has_client_secret", p->client_secret[0] != '\0', "token_auth", p->token_auth,
        "scopes", gh_json_words(p->scopes, ' '), "claims", claims, "pkce", p->pkce, "enabled",
        p->enabled, "auto_create_user", p->auto_create_user, "default_role", p->default_role,
        "link_by_email", p->link_by_email, "source", from_config ? "config" : "api", "created_at",
        gh_json_time(p->created_at), "updated_at", gh_json_time(p->updated_at));
    if (o != NULL && strcmp(p->type, "saml") != 0)
        (void)json_object_set_new(o, "allowed_client_ids",
                                  gh_json_words(p->allowed_client_ids, ' '));
    if (o != NULL && strcmp(p->preset, "google") == 0)
        (void)json_object_set_new(o, "tokeninfo_endpoint",
                                  p->tokeninfo_endpoint[0] ? json_string(p->tokeninfo_endpoint)
                                                           : json_null());
    if (o != NULL && strcmp(p->type, "saml") == 0)
        (void)json_object_update_new(
            o, json_pack("{s:s, s:s, s:s, s:b, s:b}", "sp_entity_id", p->sp_entity_id,
                         "idp_metadata_xml", p->idp_metadata, "sp_certificate", p->sp_certificate,
                         "has_sp_private_key", p->sp_private_key[0] != '\0', "trust_email",
                         p->trust_email));
    if (o != NULL && p->idp_metadata_url[0] != '\0')
        (void)json_object_update_new(o, json_pack("{s:s, s:o}", "idp_metadata_url",
                                                  p->idp_metadata_url, "idp_metadata_fetched_at",
                                                  gh_json_time(p->idp_metadata_at)));
    return o;
}

static void reply_err(struct gh_req *req, gh_err err, const struct gh_ssop_refusal *why)
{
    switch (err) {
    case GH_ERR_FORBIDDEN:
        gh_api_deny(req, "superadmin");
        break;
    case GH_ERR_NOT_FOUND:
        gh_reply_error(req, 404, "not_found", "no such identity provider", NULL);
        break;
    case GH_ERR_CONFLICT:
        gh_reply_error(req, 409, "conflict", "an identity provider of this name exists",
                       json_pack("{s:s}", "field", "name"));
        break;
    case GH_ERR_IMMUTABLE:
        gh_reply_error(req, 409, "immutable",
                       "this identity provider comes from the configuration file and changes "
                       "there",
                       NULL);
        break;
    case GH_ERR_INVALID:
        if (why != NULL && why->reason != NULL)
            gh_reply_error(req, 422, "invalid_value",
                           strcmp(why->reason, "unreachable") == 0
                               ? "the provider's discovery document could not be fetched"
                               : "the provider's discovery document is not acceptable",
                           json_pack("{s:s, s:s}", "field", "issuer", "reason", why->reason));
        else
            gh_reply_error(
                req, 422, "invalid_value", "a field has an unacceptable or missing value",
                json_pack("{s:s}", "field", why != NULL && why->field != NULL ? why->field : ""));
        break;
    default:
        gh_api_reply_failure(req, err);
        break;
    }
}

/* The provider name of the path, or NULL after answering 404 (a name that cannot exist
 * names nothing). */
static const char *path_name(struct gh_req *req)
{
    const char *name = req->path + strlen(PROVIDERS_PREFIX);
    size_t n = strlen(name);
    if (n == 0 || n > GH_SSO_NAME_MAX ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
        gh_reply_error(req, 404, "not_found", "no such identity provider", NULL);
        return NULL;
    }
    return name;
}

/* The body as a provider description; answers 400 naming the key and returns non-zero. */
static int read_spec(struct gh_req *req, struct gh_sso_spec *spec)
{
    const char *field = NULL;
    if (gh_sso_spec_read(req->json, spec, &field) == GH_OK)
        return 0;
    gh_reply_error(req, 400, "invalid_request", "a field is unknown or has the wrong type",
                   json_pack("{s:s}", "field", field != NULL ? field : ""));
    return -1;
}

static int add_provider(void *arg, const struct gh_sso_provider *p, int from_config)
{
    return gh_api_list_add(arg, provider_json(p, from_config));
}

void gh_h_sso_provider_list(struct gh_req *req)
{
    struct gh_app *app = req->app;
    size_t limit, offset;
    if (gh_api_page(req, &limit, &offset))
        return;
    struct gh_api_list l = {json_array(), limit, 0};
    gh_err err = gh_ssop_list(app->sso, gh_api_identity(req), limit + 1, offset, add_provider, &l);
    if (err != GH_OK) {
        json_decref(l.items);
        reply_err(req, err, NULL);
        return;
    }
    gh_api_reply_page(req, l.items, l.seen, limit, offset);
}

void gh_h_sso_provider_get(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_sso_provider p;
    int from_config = 0;
    const char *name = path_name(req);
    if (name == NULL)
        return;
    gh_err err = gh_ssop_get(app->sso, gh_api_identity(req), name, &p, &from_config);
    if (err == GH_OK)
        gh_reply_json(req, 200, provider_json(&p, from_config));
    else
        reply_err(req, err, NULL);
    sodium_memzero(&p, sizeof(p));
}

/* Changing a provider is a dangerous action (api/reauth.h) for the operators who may take
 * it; anyone else is refused by the service. */
static int changes_refused(struct gh_req *req)
{
    return gh_api_identity(req)->superadmin && gh_api_reauth_refused(req);
}

void gh_h_sso_provider_create(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_sso_spec spec;
    struct gh_sso_provider p;
    struct gh_reqmeta meta;
    struct gh_ssop_refusal why = {NULL, NULL};
    if (read_spec(req, &spec) || changes_refused(req))
        return;
    gh_api_meta(req, &meta);
    gh_err err = gh_ssop_create(app->sso, gh_api_identity(req), &spec, &meta, &p, &why);
    if (err == GH_OK)
        gh_reply_json(req, 201, provider_json(&p, 0));
    else
        reply_err(req, err, &why);
    sodium_memzero(&p, sizeof(p));
}

void gh_h_sso_provider_update(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_sso_spec spec;
    struct gh_sso_provider p;
    struct gh_reqmeta meta;
    struct gh_ssop_refusal why = {NULL, NULL};
    const char *name = path_name(req);
    if (name == NULL || read_spec(req, &spec) || changes_refused(req))
        return;
    gh_api_meta(req, &meta);
    gh_err err = gh_ssop_update(app->sso, gh_api_identity(req), name, &spec, &meta, &p, &why);
    if (err == GH_OK)
        gh_reply_json(req, 200, provider_json(&p, 0));
    else
        reply_err(req, err, &why);
    sodium_memzero(&p, sizeof(p));
}

void gh_h_sso_provider_delete(struct gh_req *req)
{
    struct gh_app *app = req->app;
    struct gh_reqmeta meta;
    const char *name = path_name(req);
    if (name == NULL || changes_refused(req))
        return;
    gh_api_meta(req, &meta);
    gh_err err = gh_ssop_delete(app->sso, gh_api_identity(req), name, &meta);
    if (err == GH_OK)
        gh_reply_json(req, 204, NULL);
    else
        reply_err(req, err, NULL);
}

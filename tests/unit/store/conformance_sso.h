/* The store conformance suite (conformance.h), part: SSO identity providers. Included by
 * conformance.h only. */
#ifndef GH_TEST_STORE_CONFORMANCE_SSO_H
#define GH_TEST_STORE_CONFORMANCE_SSO_H

struct providers_seen {
    int n;
    char names[4][GH_SSO_NAME_MAX + 1];
};

static int collect_provider(void *arg, const struct gh_sso_provider *p)
{
    struct providers_seen *s = arg;
    if (s->n < 4)
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", p->name);
    s->n++;
    return 0;
}

static void make_provider(const char *name, struct gh_sso_provider *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->type, sizeof(p->type), "oidc");
    snprintf(p->issuer, sizeof(p->issuer), "https://idp.example.com/%s", name);
    snprintf(p->client_id, sizeof(p->client_id), "client-%s", name);
    snprintf(p->client_secret, sizeof(p->client_secret), "enc:v1:1:c2VhbGVk");
    snprintf(p->token_auth, sizeof(p->token_auth), "client_secret_basic");
    snprintf(p->scopes, sizeof(p->scopes), "openid email profile");
    snprintf(p->default_role, sizeof(p->default_role), "member");
    p->pkce = 1;
    p->enabled = 1;
    p->auto_create_user = 1;
    p->created_at = 10;
    p->updated_at = 10;
}

/* Providers come back whole, by name, paged; a name taken twice is a conflict; another
 * handle (another node) sees them. */
static void sso_providers_create_get_list(void **state)
{
    struct fixture *f = *state;
    struct gh_sso_provider p, got;
    make_provider("okta", &p);
    assert_int_equal(gh_store_sso_provider_create(&f->h, &p), GH_OK);
    make_provider("google", &p);
    snprintf(p.preset, sizeof(p.preset), "google");
    snprintf(p.claim_email, sizeof(p.claim_email), "data.mail");
    p.link_by_email = 1;
    assert_int_equal(gh_store_sso_provider_create(&f->h, &p), GH_OK);
    assert_int_equal(gh_store_sso_provider_create(&f->h, &p), GH_ERR_CONFLICT);

    struct gh_store_handle other;
    assert_int_equal(factory->reopen(f->ctx, &other), GH_OK);
    assert_int_equal(gh_store_sso_provider_get(&other, "google", &got), GH_OK);
    gh_store_close(&other);
    assert_memory_equal(&got, &p, sizeof(p));
    assert_int_equal(gh_store_sso_provider_get(&f->h, "nobody", &got), GH_ERR_NOT_FOUND);

    struct providers_seen s = {0};
    assert_int_equal(gh_store_sso_provider_list(&f->h, 10, 0, collect_provider, &s), GH_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[0], "google");
    assert_string_equal(s.names[1], "okta");
    memset(&s, 0, sizeof(s));
    assert_int_equal(gh_store_sso_provider_list(&f->h, 1, 1, collect_provider, &s), GH_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.names[0], "okta");
}

/* An update replaces every value but the name and created_at; update and delete of an
 * unknown name are GH_ERR_NOT_FOUND; a deleted provider is gone. */
static void sso_providers_update_delete(void **state)
{
    struct fixture *f = *state;
    struct gh_sso_provider p, got;
    make_provider("corp", &p);
    assert_int_equal(gh_store_sso_provider_create(&f->h, &p), GH_OK);
    p.enabled = 0;
    p.client_secret[0] = '\0';
    snprintf(p.type, sizeof(p.type), "oauth2");
    snprintf(p.userinfo_endpoint, sizeof(p.userinfo_endpoint), "https://idp.example.com/me");
    p.created_at = 99;
    p.updated_at = 20;
    assert_int_equal(gh_store_sso_provider_update(&f->h, &p), GH_OK);
    assert_int_equal(gh_store_sso_provider_get(&f->h, "corp", &got), GH_OK);
    assert_int_equal(got.enabled, 0);
    assert_string_equal(got.client_secret, "");
    assert_string_equal(got.type, "oauth2");
    assert_string_equal(got.userinfo_endpoint, "https://idp.example.com/me");
    assert_int_equal(got.created_at, 10);
    assert_int_equal(got.updated_at, 20);

    make_provider("ghost", &p);
    assert_int_equal(gh_store_sso_provider_update(&f->h, &p), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_sso_provider_delete(&f->h, "ghost"), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_sso_provider_delete(&f->h, "corp"), GH_OK);
    assert_int_equal(gh_store_sso_provider_get(&f->h, "corp", &got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_sso_provider_delete(&f->h, "corp"), GH_ERR_NOT_FOUND);
}

#endif

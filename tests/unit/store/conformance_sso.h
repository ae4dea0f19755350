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
    /* the SAML values too (a provider carries one type's; the store keeps whatever it is
     * given) */
    snprintf(p.sp_entity_id, sizeof(p.sp_entity_id), "urn:gatehouse:sp");
    memset(p.idp_metadata, 'm', sizeof(p.idp_metadata) - 1); /* the longest kept */
    snprintf(p.sp_private_key, sizeof(p.sp_private_key), "enc:v1:1:a2V5");
    snprintf(p.sp_certificate, sizeof(p.sp_certificate), "-----BEGIN CERTIFICATE-----");
    snprintf(p.allowed_client_ids, sizeof(p.allowed_client_ids), "web-app ios-app");
    p.trust_email = 1;
    snprintf(p.tokeninfo_endpoint, sizeof(p.tokeninfo_endpoint),
             "https://oauth2.googleapis.com/tokeninfo");
    snprintf(p.idp_metadata_url, sizeof(p.idp_metadata_url), "https://idp.example.com/md");
    p.idp_metadata_at = 1700000000;
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
    snprintf(p.allowed_client_ids, sizeof(p.allowed_client_ids), "cli");
    p.created_at = 99;
    p.updated_at = 20;
    p.trust_email = 1;
    snprintf(p.tokeninfo_endpoint, sizeof(p.tokeninfo_endpoint), "http://127.0.0.1:9/ti");
    snprintf(p.idp_metadata_url, sizeof(p.idp_metadata_url), "https://idp.example.com/md2");
    p.idp_metadata_at = 1700000123;
    assert_int_equal(gh_store_sso_provider_update(&f->h, &p), GH_OK);
    assert_int_equal(gh_store_sso_provider_get(&f->h, "corp", &got), GH_OK);
    assert_int_equal(got.enabled, 0);
    assert_int_equal(got.trust_email, 1);
    assert_string_equal(got.client_secret, "");
    assert_string_equal(got.type, "oauth2");
    assert_string_equal(got.allowed_client_ids, "cli");
    assert_string_equal(got.tokeninfo_endpoint, "http://127.0.0.1:9/ti");
    assert_string_equal(got.idp_metadata_url, "https://idp.example.com/md2");
    assert_int_equal(got.idp_metadata_at, 1700000123);
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

struct links_seen {
    int n;
    struct gh_sso_link first;
};

static int collect_link(void *arg, const struct gh_sso_link *l)
{
    struct links_seen *s = arg;
    if (s->n++ == 0)
        s->first = *l;
    return 0;
}

static void make_link(const char *id, const char *provider, const char *subject,
                      const char *user_id, int64_t at, struct gh_sso_link *l)
{
    memset(l, 0, sizeof(*l));
    snprintf(l->id, sizeof(l->id), "%s", id);
    snprintf(l->provider, sizeof(l->provider), "%s", provider);
    snprintf(l->subject, sizeof(l->subject), "%s", subject);
    snprintf(l->user_id, sizeof(l->user_id), "%s", user_id);
    snprintf(l->email, sizeof(l->email), "a@x.io");
    l->created_at = l->last_login_at = at;
}

/* An identity (provider, subject) links to one user only; found by both, listed per user
 * oldest first, touched, unlinked by its own user only, and gone with its user. */
static void sso_links_find_list_unlink(void **state)
{
    struct fixture *f = *state;
    struct gh_user alice, bob;
    struct gh_sso_link l, got;
    add_user(f, "alice", "alice@x.io", &alice);
    add_user(f, "bob", "bob@x.io", &bob);
    make_link("01900000-0000-7000-8000-000000000001", "corp", "sub-1", alice.id, 5, &l);
    assert_int_equal(gh_store_sso_link_add(&f->h, &l), GH_OK);
    make_link("01900000-0000-7000-8000-000000000002", "corp", "sub-1", bob.id, 6, &l);
    assert_int_equal(gh_store_sso_link_add(&f->h, &l), GH_ERR_CONFLICT);
    make_link("01900000-0000-7000-8000-000000000003", "other", "sub-1", alice.id, 7, &l);
    assert_int_equal(gh_store_sso_link_add(&f->h, &l), GH_OK);

    assert_int_equal(gh_store_sso_link_find(&f->h, "corp", "sub-1", &got), GH_OK);
    assert_string_equal(got.user_id, alice.id);
    assert_string_equal(got.email, "a@x.io");
    assert_int_equal(gh_store_sso_link_find(&f->h, "corp", "SUB-1", &got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_sso_link_touch(&f->h, got.id, 50), GH_OK);

    struct links_seen s = {0};
    assert_int_equal(gh_store_sso_link_list(&f->h, alice.id, collect_link, &s), GH_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.first.provider, "corp");
    assert_int_equal(s.first.last_login_at, 50);

    assert_int_equal(gh_store_sso_link_delete(&f->h, bob.id, l.id), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_sso_link_delete(&f->h, alice.id, l.id), GH_OK);
    assert_int_equal(gh_store_sso_link_delete(&f->h, alice.id, l.id), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_user_delete(&f->h, alice.id, 60), GH_OK);
    assert_int_equal(gh_store_sso_link_find(&f->h, "corp", "sub-1", &got), GH_ERR_NOT_FOUND);
}

/* A state is taken once, from any node, with what it was stored with; dead ones go when
 * a new one is added. */
static void sso_states_are_single_use(void **state)
{
    struct fixture *f = *state;
    struct gh_sso_state s, got;
    memset(&s, 0, sizeof(s));
    memset(s.hash, 0xab, sizeof(s.hash));
    memset(s.binding, 0xcd, sizeof(s.binding));
    snprintf(s.provider, sizeof(s.provider), "corp");
    snprintf(s.redirect_to, sizeof(s.redirect_to), "/app?x=1");
    s.created_at = 100;
    s.expires_at = 700;
    assert_int_equal(gh_store_sso_state_add(&f->h, &s), GH_OK);
    assert_int_equal(gh_store_sso_state_add(&f->h, &s), GH_ERR_CONFLICT);

    struct gh_store_handle other;
    assert_int_equal(factory->reopen(f->ctx, &other), GH_OK);
    assert_int_equal(gh_store_sso_state_take(&other, s.hash, &got), GH_OK);
    gh_store_close(&other);
    assert_memory_equal(&got, &s, sizeof(s));
    assert_int_equal(gh_store_sso_state_take(&f->h, s.hash, &got), GH_ERR_NOT_FOUND);

    assert_int_equal(gh_store_sso_state_add(&f->h, &s), GH_OK);
    struct gh_sso_state later = s;
    memset(later.hash, 0x11, sizeof(later.hash));
    later.created_at = 701; /* s expired before it */
    later.expires_at = 1301;
    assert_int_equal(gh_store_sso_state_add(&f->h, &later), GH_OK);
    assert_int_equal(gh_store_sso_state_take(&f->h, s.hash, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_sso_state_take(&f->h, later.hash, &got), GH_OK);
}

#endif

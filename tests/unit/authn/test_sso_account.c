/*
 * Unit tests for the accounts of outside identities (src/authn/sso_account.c) on a real
 * SQLite store: creation only with auto_create_user, linking by a verified email only,
 * disabled users refused, the last way to sign in kept.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "authn/service.h"
#include "authn/sso_account.h"
#include "cli/cli.h"
#include "config/config.h"
#include "crypto/jwt.h"
#include "crypto/sigkey.h"
#include "store/store.h"
#include "tmpdir.h"

#define PASSWORD "correct horse battery staple"

#include "auth_fixture.h"

static gh_err register_user(struct fixture *f, const char *name, struct gh_user *out)
{
    char email[96];
    snprintf(email, sizeof(email), "%s@example.com", name);
    struct gh_register_input in = {name, email, NULL, PASSWORD, strlen(PASSWORD)};
    struct gh_refusal refusal;
    memset(&refusal, 0, sizeof(refusal));
    return gh_auth_register(f->auth, &in, 0, &meta, out, &refusal);
}

static void provider(struct gh_sso_provider *p, int create, int by_email)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "corp");
    snprintf(p->type, sizeof(p->type), "oidc");
    snprintf(p->default_role, sizeof(p->default_role), "member");
    p->auto_create_user = create;
    p->link_by_email = by_email;
}

static void ident(struct gh_sso_identity *id, const char *sub, const char *email, int verified)
{
    memset(id, 0, sizeof(*id));
    snprintf(id->subject, sizeof(id->subject), "%s", sub);
    snprintf(id->email, sizeof(id->email), "%s", email);
    id->email_verified = verified;
    snprintf(id->username, sizeof(id->username), "jane");
}

/* A new subject makes a user only with auto_create_user; then it signs in as that user;
 * the new user has no password and an unverified email is not kept. */
static void creates_only_when_allowed(void **state)
{
    struct fixture *f = *state;
    struct gh_sso_provider p;
    struct gh_sso_identity id;
    struct gh_user u, again;
    const char *why = NULL;
    provider(&p, 0, 0);
    ident(&id, "s-1", "jane@corp.example", 0);
    assert_int_equal(gh_sso_account_resolve(f->auth, &p, &id, &meta, &u, &why), GH_ERR_NOT_FOUND);
    assert_string_equal(why, "no_account");
    provider(&p, 1, 0);
    assert_int_equal(gh_sso_account_resolve(f->auth, &p, &id, &meta, &u, &why), GH_OK);
    assert_string_equal(u.username, "jane");
    assert_non_null(strstr(u.email, "@sso.invalid"));
    assert_int_equal(gh_sso_account_resolve(f->auth, &p, &id, &meta, &again, &why), GH_OK);
    assert_string_equal(again.id, u.id);
    struct gh_token_pair pair;
    assert_int_equal(gh_auth_login(f->auth, "jane", "", 0, NULL, &meta, &pair), GH_ERR_AUTH);
    /* another subject with the same username claim gets another name */
    ident(&id, "s-2", "", 0);
    assert_int_equal(gh_sso_account_resolve(f->auth, &p, &id, &meta, &again, &why), GH_OK);
    assert_string_not_equal(again.id, u.id);
    assert_string_not_equal(again.username, "jane");
}

/* Linking by email needs link_by_email and a verified email; an existing user's email is
 * never taken over by a new account. */
static void links_by_verified_email_only(void **state)
{
    struct fixture *f = *state;
    struct gh_sso_provider p;
    struct gh_sso_identity id;
    struct gh_user bob, u;
    const char *why = NULL;
    assert_int_equal(register_user(f, "bob", &bob), GH_OK);
    provider(&p, 1, 1);
    ident(&id, "b-1", "BOB@example.com", 0);
    assert_int_equal(gh_sso_account_resolve(f->auth, &p, &id, &meta, &u, &why), GH_OK);
    assert_string_not_equal(u.id, bob.id); /* unverified: a new user, not bob */
    ident(&id, "b-2", "BOB@example.com", 1);
    assert_int_equal(gh_sso_account_resolve(f->auth, &p, &id, &meta, &u, &why), GH_OK);
    assert_string_equal(u.id, bob.id);
    provider(&p, 1, 0);
    snprintf(p.name, sizeof(p.name), "other");
    ident(&id, "b-3", "bob@example.com", 1);
    assert_int_equal(gh_sso_account_resolve(f->auth, &p, &id, &meta, &u, &why), GH_ERR_CONFLICT);
    assert_string_equal(why, "email_taken");
}

static int count(void *arg, const struct gh_sso_link *l)
{
    (void)l;
    (*(int *)arg)++;
    return 0;
}

struct first {
    char id[GH_UUID_LEN + 1];
};

static int first_id(void *arg, const struct gh_sso_link *l)
{
    snprintf(((struct first *)arg)->id, GH_UUID_LEN + 1, "%s", l->id);
    return 1;
}

/* A disabled user is refused; the last way to sign in cannot be unlinked, another can. */
static void disabled_refused_and_last_link_kept(void **state)
{
    struct fixture *f = *state;
    struct gh_sso_provider p;
    struct gh_sso_identity id;
    struct gh_user u;
    const char *why = NULL;
    provider(&p, 1, 0);
    ident(&id, "d-1", "", 0);
    assert_int_equal(gh_sso_account_resolve(f->auth, &p, &id, &meta, &u, &why), GH_OK);
    struct gh_identity who;
    memset(&who, 0, sizeof(who));
    snprintf(who.user_id, sizeof(who.user_id), "%s", u.id);
    struct first one;
    assert_int_equal(gh_sso_account_links(f->auth, u.id, first_id, &one), GH_OK);
    assert_int_equal(gh_sso_account_unlink(f->auth, &who, one.id, &meta), GH_ERR_CONFLICT);
    int n = 0;
    assert_int_equal(gh_sso_account_links(f->auth, u.id, count, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(
        gh_sso_account_unlink(f->auth, &who, "01900000-0000-7000-8000-00000000dead", &meta),
        GH_ERR_NOT_FOUND);

    int64_t epoch = 0;
    assert_int_equal(gh_store_user_set_disabled(&f->store, u.id, 1, 100, &epoch), GH_OK);
    snprintf(p.name, sizeof(p.name), "corp");
    assert_int_equal(gh_sso_account_resolve(f->auth, &p, &id, &meta, &u, &why), GH_ERR_FORBIDDEN);
    assert_string_equal(why, "disabled");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(creates_only_when_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(links_by_verified_email_only, setup, teardown),
        cmocka_unit_test_setup_teardown(disabled_refused_and_last_link_kept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

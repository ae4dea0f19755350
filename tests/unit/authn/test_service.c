/*
 * Unit tests for the authentication service (src/authn/service.c) on a real SQLite store
 * and an ES256 key: registration refusals, login alike for unknown users and wrong
 * passwords, refresh rotation with reuse detection revoking the family, logout, and
 * logout-all / password change / disabling cutting live access tokens at once.
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
#include "cli/cli.h"
#include "config/config.h"
#include "crypto/jwt.h"
#include "crypto/sigkey.h"
#include "store/store.h"
#include "tmpdir.h"

#define PASSWORD "correct horse battery staple"

#include "auth_fixture.h"

static gh_err register_user(struct fixture *f, const char *name, const char *password,
                            struct gh_user *out)
{
    char email[96];
    snprintf(email, sizeof(email), "%s@example.com", name);
    struct gh_register_input in = {name, email, NULL, password, strlen(password)};
    struct gh_refusal refusal;
    memset(&refusal, 0, sizeof(refusal));
    return gh_auth_register(f->auth, &in, 0, &meta, out, &refusal);
}

static gh_err login(struct fixture *f, const char *name, const char *password,
                    struct gh_token_pair *out)
{
    return gh_auth_login(f->auth, name, password, strlen(password), NULL, &meta, out);
}

static gh_err check(struct fixture *f, const char *token, struct gh_identity *who)
{
    return gh_auth_verify_bearer(f->auth, token, strlen(token), &meta, who);
}

static void register_refusals(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    assert_int_equal(register_user(f, "alice", PASSWORD, &u), GH_OK);
    assert_string_equal(u.username, "alice");
    assert_int_equal(register_user(f, "alice", PASSWORD, &u), GH_ERR_CONFLICT);
    assert_int_equal(register_user(f, "ALICE", PASSWORD, &u), GH_ERR_CONFLICT);
    assert_int_equal(register_user(f, "bob", "short", &u), GH_ERR_POLICY);
    assert_int_equal(register_user(f, "bad name\x01", PASSWORD, &u), GH_ERR_INVALID);
}

static void login_alike_for_unknown_and_wrong(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_token_pair pair;
    struct gh_identity who;
    assert_int_equal(register_user(f, "carol", PASSWORD, &u), GH_OK);
    assert_int_equal(login(f, "carol", "wrong password here", &pair), GH_ERR_AUTH);
    assert_int_equal(login(f, "nobody", PASSWORD, &pair), GH_ERR_AUTH);
    assert_int_equal(login(f, "carol@example.com", PASSWORD, &pair), GH_OK); /* by email */
    assert_int_equal(check(f, pair.access_token, &who), GH_OK);
    assert_string_equal(who.user_id, u.id);
    assert_int_equal(who.cred, GH_CRED_JWT);
    gh_token_pair_clear(&pair);
    assert_int_equal(gh_auth_set_disabled(f->auth, "carol", 1), GH_OK);
    assert_int_equal(login(f, "carol", PASSWORD, &pair), GH_ERR_AUTH);
}

static void refresh_rotates_and_reuse_revokes_the_family(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_token_pair first, second, third;
    assert_int_equal(register_user(f, "dave", PASSWORD, &u), GH_OK);
    assert_int_equal(login(f, "dave", PASSWORD, &first), GH_OK);
    assert_int_equal(gh_auth_refresh(f->auth, first.refresh_token, NULL, &meta, &second), GH_OK);
    assert_string_not_equal(second.refresh_token, first.refresh_token);
    /* the spent token again: refused, and the live one of its family dies with it */
    assert_int_equal(gh_auth_refresh(f->auth, first.refresh_token, NULL, &meta, &third),
                     GH_ERR_AUTH);
    assert_int_equal(gh_auth_refresh(f->auth, second.refresh_token, NULL, &meta, &third),
                     GH_ERR_AUTH);
    assert_int_equal(gh_auth_refresh(f->auth, "not-a-token", NULL, &meta, &third), GH_ERR_AUTH);
    gh_token_pair_clear(&first);
    gh_token_pair_clear(&second);

    /* logout spends one token; unknown tokens are no error (no oracle) */
    assert_int_equal(login(f, "dave", PASSWORD, &first), GH_OK);
    assert_int_equal(gh_auth_logout(f->auth, first.refresh_token, &meta), GH_OK);
    assert_int_equal(gh_auth_refresh(f->auth, first.refresh_token, NULL, &meta, &third),
                     GH_ERR_AUTH);
    assert_int_equal(gh_auth_logout(f->auth, "unknown", &meta), GH_OK);
    gh_token_pair_clear(&first);
}

/* logout-all, a password change and disabling each end every live access token at once. */
static void revocations_reach_live_access_tokens(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_token_pair pair, other;
    struct gh_identity who;
    struct gh_refusal refusal;
    assert_int_equal(register_user(f, "erin", PASSWORD, &u), GH_OK);

    assert_int_equal(login(f, "erin", PASSWORD, &pair), GH_OK);
    assert_int_equal(check(f, pair.access_token, &who), GH_OK); /* now cached */
    assert_int_equal(gh_auth_logout_all(f->auth, &who, &meta), GH_OK);
    assert_int_equal(check(f, pair.access_token, &who), GH_ERR_REVOKED);
    assert_int_equal(gh_auth_refresh(f->auth, pair.refresh_token, NULL, &meta, &other),
                     GH_ERR_AUTH);
    gh_token_pair_clear(&pair);

    assert_int_equal(login(f, "erin", PASSWORD, &pair), GH_OK);
    assert_int_equal(check(f, pair.access_token, &who), GH_OK);
    memset(&refusal, 0, sizeof(refusal));
    assert_int_equal(gh_auth_change_password(f->auth, &who, "wrong one", 9, "another long one", 16,
                                             &meta, &refusal),
                     GH_ERR_AUTH);
    assert_int_equal(check(f, pair.access_token, &who),
                     GH_OK); /* a failed change revokes nothing */
    assert_int_equal(gh_auth_change_password(f->auth, &who, PASSWORD, strlen(PASSWORD),
                                             "another long one", 16, &meta, &refusal),
                     GH_OK);
    assert_int_equal(check(f, pair.access_token, &who), GH_ERR_REVOKED);
    assert_int_equal(login(f, "erin", PASSWORD, &other), GH_ERR_AUTH);
    gh_token_pair_clear(&pair);

    assert_int_equal(login(f, "erin", "another long one", &pair), GH_OK);
    assert_int_equal(check(f, pair.access_token, &who), GH_OK);
    assert_int_equal(gh_auth_set_disabled(f->auth, "erin", 1), GH_OK);
    assert_int_equal(check(f, pair.access_token, &who), GH_ERR_REVOKED);
    gh_token_pair_clear(&pair);
}

static void forged_tokens_refused(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_token_pair pair;
    struct gh_identity who;
    assert_int_equal(register_user(f, "frank", PASSWORD, &u), GH_OK);
    assert_int_equal(login(f, "frank", PASSWORD, &pair), GH_OK);
    char *t = pair.access_token;
    size_t n = strlen(t);
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A'; /* a signature byte */
    assert_int_equal(check(f, t, &who), GH_ERR_AUTH);
    assert_int_equal(check(f, "eyJhbGciOiJub25lIn0.e30.", &who), GH_ERR_AUTH);
    assert_int_equal(check(f, "", &who), GH_ERR_AUTH);
    gh_token_pair_clear(&pair);
}

/* The token cache finds a token by its tail: a token that shares the tail of a cached one
 * but differs before it (a payload byte, a header byte) must not get its answer. */
static void cached_tail_does_not_prove(void **state)
{
    struct fixture *f = *state;
    struct gh_user u;
    struct gh_token_pair pair;
    struct gh_identity who;
    assert_int_equal(register_user(f, "grace", PASSWORD, &u), GH_OK);
    assert_int_equal(login(f, "grace", PASSWORD, &pair), GH_OK);
    char *t = pair.access_token;
    size_t n = strlen(t);
    assert_true(n > 2 * 64);
    assert_int_equal(check(f, t, &who), GH_OK); /* now cached */
    size_t at[] = {1, strchr(t, '.') - t + 5, n - 65};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        char was = t[at[i]];
        t[at[i]] = was == 'A' ? 'B' : 'A';
        assert_int_equal(check(f, t, &who), GH_ERR_AUTH);
        t[at[i]] = was;
    }
    assert_int_equal(check(f, t, &who), GH_OK);
    assert_string_equal(who.user_id, u.id);
    /* longer and shorter tokens with the same tail */
    char *longer = calloc(1, n + 2);
    assert_non_null(longer);
    longer[0] = 'e';
    memcpy(longer + 1, t, n + 1);
    assert_int_equal(check(f, longer, &who), GH_ERR_AUTH);
    assert_int_equal(check(f, t + 1, &who), GH_ERR_AUTH);
    free(longer);
    gh_token_pair_clear(&pair);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(register_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(login_alike_for_unknown_and_wrong, setup, teardown),
        cmocka_unit_test_setup_teardown(refresh_rotates_and_reuse_revokes_the_family, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(revocations_reach_live_access_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(forged_tokens_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(cached_tail_does_not_prove, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

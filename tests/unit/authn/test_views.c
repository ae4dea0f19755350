/*
 * Unit tests for the cached user view of the token check (src/authn/views.c): the
 * revocation state every JWT and API-key check reads. The store's ops table is wrapped by
 * a copy whose user read revokes the user (as logout-all does: the store, then the cached
 * view) right after the real read, so the revocation lands between the check's read and
 * its cache fill, with no hook in the code under test.
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
#include "authn/views.h"
#include "cli/cli.h"
#include "config/config.h"
#include "crypto/jwt.h"
#include "store/store.h"
#include "tmpdir.h"

struct fixture {
    char dir[64];
    struct gh_config cfg;
    struct gh_store_ops ops; /* gh_store_sqlite_ops with a racing user_get */
    struct gh_store_handle store;
    struct gh_keyring *ring;
    struct gh_auth *auth;
    char admin_id[64];
};

static struct {
    struct fixture *f;
    int armed;
} race;

static gh_err racing_user_get(struct gh_store *st, const char *id, struct gh_user *out)
{
    gh_err err = gh_store_sqlite_ops.user_get(st, id, out);
    if (err == GH_OK && race.armed) {
        int64_t epoch = 0;
        race.armed = 0;
        assert_int_equal(gh_store_sqlite_ops.user_revoke_all(st, id, 1, &epoch), GH_OK);
        gh_views_forget(gh_auth_views(race.f->auth), id);
    }
    return err;
}

/* The id of the bootstrap admin, read straight from the store. */
static int find_admin(void *arg, const struct gh_user *u)
{
    if (strcmp(u->username, "admin") == 0)
        snprintf(arg, 64, "%s", u->id);
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[96], generated[32];
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-test-view-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    gh_config_defaults(&f->cfg);
    f->cfg.bcrypt_cost = 4;
    snprintf(f->cfg.api_key_pepper, sizeof(f->cfg.api_key_pepper), "%s/pepper", f->dir);
    struct gh_auth_opts auth;
    gh_cli_auth_opts(&f->cfg, &auth); /* the strings stay in f->cfg */
    snprintf(path, sizeof(path), "%s/gh.db", f->dir);
    f->ops = gh_store_sqlite_ops;
    f->ops.user_get = racing_user_get;
    f->store.ops = &f->ops;
    if (gh_store_sqlite_ops.open(path, 5000, &f->store.st) != GH_OK ||
        gh_keyring_new(&f->ring) != GH_OK ||
        gh_auth_new(&auth, &f->store, f->ring, &f->auth) != GH_OK ||
        gh_auth_bootstrap(f->auth, NULL, generated) != GH_OK ||
        gh_store_sqlite_ops.user_list(f->store.st, 100, 0, find_admin, f->admin_id) != GH_OK ||
        f->admin_id[0] == '\0')
        return -1;
    sodium_memzero(generated, sizeof(generated));
    memset(&race, 0, sizeof(race));
    race.f = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gh_auth_free(f->auth);
    gh_keyring_free(f->ring);
    gh_store_sqlite_ops.close(f->store.st);
    int r = remove_tree(f->dir);
    free(f);
    return r;
}

/* A revocation after a check's read may let that check pass, never the next one. */
static void revocation_between_read_and_cache_fill(void **state)
{
    struct fixture *f = *state;
    struct gh_user_view first, next;
    race.armed = 1;
    assert_int_equal(gh_views_user(gh_auth_views(f->auth), f->admin_id, 100, &first), GH_OK);
    assert_int_equal(race.armed, 0);
    assert_int_equal(gh_views_user(gh_auth_views(f->auth), f->admin_id, 100, &next), GH_OK);
    if (next.epoch == first.epoch)
        fail_msg("the view read before the revocation was cached after it (epoch %lld)",
                 (long long)first.epoch);
}

/* Without a race the view is cached: the second read does not reach the store. */
static void view_is_cached(void **state)
{
    struct fixture *f = *state;
    struct gh_user_view first, next;
    assert_int_equal(gh_views_user(gh_auth_views(f->auth), f->admin_id, 100, &first), GH_OK);
    race.armed = 1; /* would revoke on a store read */
    assert_int_equal(gh_views_user(gh_auth_views(f->auth), f->admin_id, 100, &next), GH_OK);
    assert_int_equal(race.armed, 1);
    assert_int_equal(next.gen, first.gen);
    assert_int_equal(next.epoch, first.epoch);
}

/* An identity in memory an earlier request left reads as an empty one after init. */
static void identity_init_empties_every_field(void **state)
{
    (void)state;
    struct gh_identity id;
    memset(&id, 0xa5, sizeof(id));
    gh_identity_init(&id);
    const char *strings[] = {id.user_id, id.username, id.org_id,    id.roles,
                             id.perms,   id.key_id,   id.session_id};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        assert_string_equal(strings[i], "");
    assert_int_equal(id.expires_at, 0);
    assert_int_equal(id.cred, GH_CRED_JWT);
    assert_int_equal(id.scoped, 0);
    assert_int_equal(id.superadmin, 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(revocation_between_read_and_cache_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(view_is_cached, setup, teardown),
        cmocka_unit_test(identity_init_empties_every_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the last-admin rule, which the services hold (authz/rbac.c for role changes
 * and removals, authn/service.c for user deletion) rather than the store: an org keeps at
 * least one admin, and two demotions at once of its last two admins cannot both pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "authn/service.h"
#include "authz/rbac.h"
#include "cli/cli.h"
#include "config/config.h"
#include "core/uuid.h"
#include "crypto/jwt.h"
#include "store/store.h"
#include "tmpdir.h"

struct fixture {
    char dir[64];
    struct gh_config cfg;
    struct gh_store_handle store;
    struct gh_keyring *ring;
    struct gh_auth *auth;
    struct gh_rbac *rbac;
    struct gh_identity op; /* a superadmin acting with an access token */
    struct gh_org org;
    struct gh_user u, v;
};

static void add_user(struct fixture *f, const char *name, struct gh_user *u)
{
    memset(u, 0, sizeof(*u));
    gh_uuid_v7(u->id);
    snprintf(u->username, sizeof(u->username), "%s", name);
    snprintf(u->email, sizeof(u->email), "%s@x.io", name);
    u->created_at = u->updated_at = 10;
    assert_int_equal(gh_store_user_create(&f->store, u, "$argon2id$v=19$fake"), GH_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[96], generated[32];
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-test-admins-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    gh_config_defaults(&f->cfg);
    f->cfg.bcrypt_cost = 4;
    snprintf(f->cfg.api_key_pepper, sizeof(f->cfg.api_key_pepper), "%s/pepper", f->dir);
    struct gh_auth_opts auth;
    struct gh_rbac_opts rbac;
    gh_cli_auth_opts(&f->cfg, &auth); /* the strings stay in f->cfg */
    gh_cli_rbac_opts(&f->cfg, &rbac);
    snprintf(path, sizeof(path), "%s/gh.db", f->dir);
    if (gh_store_open("sqlite", path, 5000, &f->store) != GH_OK ||
        gh_keyring_new(&f->ring) != GH_OK ||
        gh_auth_new(&auth, &f->store, f->ring, &f->auth) != GH_OK ||
        gh_auth_bootstrap(f->auth, NULL, generated) != GH_OK ||
        gh_rbac_new(&rbac, &f->store, f->auth, &f->rbac) != GH_OK)
        return -1;
    sodium_memzero(generated, sizeof(generated));
    struct gh_user admin;
    if (gh_store_user_find_login(&f->store, "admin", &admin) != GH_OK)
        return -1;
    memcpy(f->op.user_id, admin.id, sizeof(f->op.user_id));
    snprintf(f->op.username, sizeof(f->op.username), "admin");
    memcpy(f->op.org_id, admin.primary_org_id, sizeof(f->op.org_id));
    f->op.cred = GH_CRED_JWT;
    f->op.superadmin = 1;
    add_user(f, "ursula", &f->u);
    add_user(f, "victor", &f->v);
    gh_uuid_v7(f->org.id);
    snprintf(f->org.name, sizeof(f->org.name), "Alpha");
    f->org.created_at = 3;
    if (gh_store_org_create(&f->store, &f->org, "*:*", "org:read") != GH_OK ||
        gh_store_member_add(&f->store, f->org.id, f->u.id, "admin", 4) != GH_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gh_rbac_free(f->rbac);
    gh_auth_free(f->auth);
    gh_keyring_free(f->ring);
    gh_store_close(&f->store);
    int r = remove_tree(f->dir);
    free(f);
    return r;
}

static gh_err set_role(struct fixture *f, const struct gh_user *u, const char *role)
{
    struct gh_member m;
    return gh_rbac_member_set_role(f->rbac, &f->op, f->org.id, u->id, role, NULL, &m);
}

static int64_t admins(struct fixture *f)
{
    int64_t n = -1;
    assert_int_equal(gh_store_member_count_admins(&f->store, f->org.id, &n), GH_OK);
    return n;
}

static void the_last_admin_stays(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(set_role(f, &f->u, "member"), GH_ERR_CONFLICT);
    assert_int_equal(gh_rbac_member_remove(f->rbac, &f->op, f->org.id, f->u.id, NULL),
                     GH_ERR_CONFLICT);
    assert_int_equal(gh_auth_user_delete(f->auth, f->u.id, &f->op, NULL), GH_ERR_CONFLICT);
    assert_int_equal(admins(f), 1);
    assert_int_equal(set_role(f, &f->u, "admin"), GH_OK); /* admin to admin: no change */

    /* with a second admin, either may go, then not the other */
    assert_int_equal(gh_store_member_add(&f->store, f->org.id, f->v.id, "admin", 5), GH_OK);
    assert_int_equal(set_role(f, &f->u, "member"), GH_OK);
    assert_int_equal(gh_rbac_member_remove(f->rbac, &f->op, f->org.id, f->v.id, NULL),
                     GH_ERR_CONFLICT);
    assert_int_equal(gh_auth_user_delete(f->auth, f->v.id, &f->op, NULL), GH_ERR_CONFLICT);
    assert_int_equal(gh_rbac_member_remove(f->rbac, &f->op, f->org.id, f->u.id, NULL), GH_OK);
    assert_int_equal(admins(f), 1);
    /* a non-member: not found, before any rule */
    assert_int_equal(gh_rbac_member_remove(f->rbac, &f->op, f->org.id, f->u.id, NULL),
                     GH_ERR_NOT_FOUND);
    /* once the user is admin nowhere alone, it may be deleted */
    struct gh_user w;
    add_user(f, "wanda", &w);
    assert_int_equal(gh_auth_user_delete(f->auth, w.id, &f->op, NULL), GH_OK);
}

struct demoter {
    struct fixture *f;
    const struct gh_user *u;
    pthread_barrier_t *start;
    gh_err result;
};

static void *demote(void *arg)
{
    struct demoter *d = arg;
    pthread_barrier_wait(d->start);
    d->result = set_role(d->f, d->u, "member");
    return NULL;
}

static void two_demotions_at_once_leave_an_admin(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(gh_store_member_add(&f->store, f->org.id, f->v.id, "admin", 5), GH_OK);
    for (int round = 0; round < 20; round++) {
        pthread_t th[2];
        pthread_barrier_t start;
        struct demoter d[2] = {{f, &f->u, &start, GH_ERR_INTERNAL},
                               {f, &f->v, &start, GH_ERR_INTERNAL}};
        assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, demote, &d[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start);
        assert_int_equal((d[0].result == GH_OK) + (d[1].result == GH_OK), 1);
        assert_int_equal((d[0].result == GH_ERR_CONFLICT) + (d[1].result == GH_ERR_CONFLICT), 1);
        assert_int_equal(admins(f), 1);
        /* both admins again for the next round */
        assert_int_equal(set_role(f, d[0].result == GH_OK ? &f->u : &f->v, "admin"), GH_OK);
        assert_int_equal(admins(f), 2);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_last_admin_stays, setup, teardown),
        cmocka_unit_test_setup_teardown(two_demotions_at_once_leave_an_admin, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

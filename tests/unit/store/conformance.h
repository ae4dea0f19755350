/*
 * The store conformance suite: every op of a backend, through the gh_store_* wrappers only
 * (no SQL, no backend call). A runner defines the backend's fresh-database factory and
 * runs GH_STORE_CONFORMANCE_TESTS (tests/unit/store/test_sqlite.c for SQLite); a later
 * backend (PostgreSQL) passes the same suite unchanged. Business rules (the last admin,
 * what an org's deletion revokes) are the services': the suite checks the primitives they
 * are made of and that a transaction makes a check and a write one step.
 */
#ifndef GH_TEST_STORE_CONFORMANCE_H
#define GH_TEST_STORE_CONFORMANCE_H

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

#include "audit/chain.h"
#include "core/uuid.h"
#include "store/store.h"

/** What a backend gives the suite. */
struct gh_store_factory {
    const struct gh_store_ops *ops;
    /* Creates a new empty database and opens it into *h; *ctx is the backend's own
     * (a directory...). GH_OK or the failure. */
    gh_err (*create)(void **ctx, struct gh_store_handle *h);
    /* Opens another handle on ctx's database, as another process would (the CLI). */
    gh_err (*reopen)(void *ctx, struct gh_store_handle *h);
    /* Closes h and deletes ctx's database. */
    void (*destroy)(void *ctx, struct gh_store_handle *h);
};

/* The runner defines it before running the suite. */
static const struct gh_store_factory *factory;

struct fixture {
    void *ctx;
    struct gh_store_handle h;
    struct gh_org org;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    if (factory->create(&f->ctx, &f->h) != GH_OK || f->h.ops != factory->ops)
        return -1;
    gh_uuid_v7(f->org.id);
    snprintf(f->org.name, sizeof(f->org.name), "default");
    f->org.created_at = 1;
    if (gh_store_org_create(&f->h, &f->org, "*:*", "file:read org:read") != GH_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    factory->destroy(f->ctx, &f->h);
    free(f);
    return 0;
}

#define FAKE_HASH "$argon2id$v=19$fake"

static void make_user(const struct fixture *f, const char *name, const char *email,
                      struct gh_user *u)
{
    memset(u, 0, sizeof(*u));
    gh_uuid_v7(u->id);
    snprintf(u->username, sizeof(u->username), "%s", name);
    snprintf(u->email, sizeof(u->email), "%s", email);
    snprintf(u->full_name, sizeof(u->full_name), "Full %s", name);
    memcpy(u->primary_org_id, f->org.id, sizeof(u->primary_org_id));
    u->created_at = u->updated_at = 10;
}

static void add_user(const struct fixture *f, const char *name, const char *email,
                     struct gh_user *u)
{
    make_user(f, name, email, u);
    assert_int_equal(gh_store_user_create(&f->h, u, FAKE_HASH), GH_OK);
}

static void fresh_token(struct gh_refresh_token *t, const char *user_id, const char *org_id,
                        int64_t expires)
{
    memset(t, 0, sizeof(*t));
    gh_uuid_v7(t->id);
    randombytes_buf(t->hash, sizeof(t->hash));
    snprintf(t->user_id, sizeof(t->user_id), "%s", user_id);
    memcpy(t->family_id, t->id, sizeof(t->family_id));
    snprintf(t->org_id, sizeof(t->org_id), "%s", org_id);
    t->created_at = 100;
    t->expires_at = expires;
}

/* A token as the service builds it for a rotation: id, hash and times only. */
static void next_token(struct gh_refresh_token *t, int64_t expires)
{
    fresh_token(t, "", "", expires);
    memset(t->family_id, 0, sizeof(t->family_id));
}

/* ---- what the suite reads through ops where a test once read rows ---- */

struct feed_count {
    const char *user_id;
    int64_t n;
};

static void count_feed(void *arg, const char *user_id)
{
    struct feed_count *c = arg;
    c->n += strcmp(c->user_id, user_id) == 0;
}

/* How many revocation feed entries name user_id. */
static int64_t feed_count(const struct fixture *f, const char *user_id)
{
    struct feed_count c = {user_id, 0};
    int64_t after = 0, last = 0;
    for (;;) {
        assert_int_equal(gh_store_revocation_feed(&f->h, after, 0, count_feed, &c, &last), GH_OK);
        if (last == after)
            return c.n;
        after = last;
    }
}

/* Whether the token with hash is live (not spent, revoked or expired) at now. */
static int token_live(const struct fixture *f, const unsigned char *hash, int64_t now)
{
    struct gh_refresh_token t;
    gh_err err = gh_store_refresh_get(&f->h, hash, now, &t);
    assert_true(err == GH_OK || err == GH_ERR_NOT_FOUND);
    return err == GH_OK;
}

static int count_role(void *arg, const struct gh_role *r)
{
    (void)r;
    (*(int *)arg)++;
    return 0;
}

static int member_count_user(const struct fixture *f, const char *user_id)
{
    struct gh_membership m[4];
    size_t n = 0;
    assert_int_equal(gh_store_member_list_user(&f->h, user_id, m, 4, &n), GH_OK);
    return (int)n;
}

static int role_count(const struct fixture *f, const char *org_id)
{
    int n = 0;
    assert_int_equal(gh_store_role_list(&f->h, org_id, 1000, 0, count_role, &n), GH_OK);
    return n;
}

struct role_pick {
    const char *name;
    struct gh_role role;
    int n;
};

static int pick_role(void *arg, const struct gh_role *r)
{
    struct role_pick *p = arg;
    p->n++;
    if (strcmp(r->name, p->name) == 0)
        p->role = *r;
    return 0;
}

#include "store/conformance_users.h"
#include "store/conformance_orgs.h"
#include "store/conformance_members.h"
#include "store/conformance_sessions.h"
#include "store/conformance_crypto.h"
#include "store/conformance_sso.h"
#include "store/conformance_blocks.h"

/* The suite, as entries of a CMUnitTest array (T(fn) is the runner's setup/teardown). */
#define GH_STORE_CONFORMANCE_TESTS(T)                                                              \
    T(users_found_without_regard_to_case), T(users_username_differing_in_case_conflicts),          \
        T(users_duplicate_email_conflicts), T(users_list_with_limit_and_offset),                   \
        T(users_bad_values_refused), T(orgs_and_memberships), T(refresh_rotate_happy_path),        \
        T(refresh_reuse_revokes_family), T(refresh_expired_and_unknown), T(refresh_revoke_one),    \
        T(refresh_concurrent_rotation_has_one_winner), T(set_password_bumps_epoch_and_revokes),    \
        T(revocation_feed_sees_other_writers), T(audit_append_writes_a_row),                       \
        T(rbac_orgs_are_scoped), T(rbac_custom_roles), T(rbac_admin_count_and_plain_changes),      \
        T(tx_commits_or_rolls_back), T(tx_check_and_write_are_one_step),                           \
        T(rbac_removal_and_org_delete_revoke), T(rbac_user_update_delete_and_permissions),         \
        T(invitations_accept_makes_a_member_once), T(invitations_addressed_to_nobody),             \
        T(invitations_decline_expire_revoke), T(invitations_purged_when_dead),                     \
        T(invitations_concurrent_accept_has_one_winner), T(sessions_create_get_list_touch),        \
        T(sessions_revoke_one_family_and_user), T(mfa_setup_enable_steps_and_codes),               \
        T(mfa_challenges_are_single_use), T(datakeys_add_list_and_conflict),                       \
        T(sso_providers_create_get_list), T(sso_providers_update_delete),                          \
        T(sso_links_find_list_unlink), T(sso_states_are_single_use),                               \
        T(vault_versions_list_delete), T(vault_scan_and_rekey),                                    \
        T(sessions_revoked_with_their_org), T(blocks_add_list_expire),                             \
        T(sessions_reauth_moves_auth_time), T(members_epoch_per_org_outlives_removal),             \
        T(members_fallback_before_org_delete)

#endif

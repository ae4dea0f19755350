/*
 * Unit tests for the API-key check (src/authn/apikey.c) against a real SQLite store.
 * The store's ops table is wrapped by a copy whose key read revokes the key right after
 * the real read: the revocation a concurrent request could land between the check's
 * reads, forced at each read in turn, with no hook in the code under test. Its last-use
 * write is wrapped too, to see what a flush writes.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "authn/apikey.h"
#include "authn/service.h"
#include "cli/cli.h"
#include "config/config.h"
#include "core/time.h"
#include "core/uuid.h"
#include "crypto/jwt.h"
#include "store/store.h"
#include "tmpdir.h"

#define READS_MAX 8 /* key reads one check may do, at most: bounds the loop below */

struct fixture {
    char dir[64];
    struct gh_config cfg;
    struct gh_store_ops ops; /* gh_store_sqlite_ops with a racing apikey_find_hash */
    struct gh_store_handle store;
    struct gh_keyring *ring;
    struct gh_auth *auth;
    struct gh_identity admin;
};

/* The race to force: revoke the key after the trigger-th read of it (0: never). */
static struct {
    struct gh_auth *auth;
    unsigned reads, trigger;
    int fired;
} race;

static gh_err racing_find(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                          struct gh_api_key *out)
{
    gh_err err = gh_store_sqlite_ops.apikey_find_hash(st, hash, out);
    if (err == GH_OK && race.trigger != 0 && ++race.reads == race.trigger) {
        /* As DELETE /api-keys/{id} does: the store (and its feed), then the local view. */
        assert_int_equal(
            gh_apikey_revoke(gh_auth_apikeys(race.auth), out->user_id, NULL, out->id, NULL), GH_OK);
        race.fired = 1;
    }
    return err;
}

/* What the last flush wrote (the uses of its last batch). */
static struct {
    struct gh_api_key_use use[16];
    size_t n;
} touched;

static gh_err recording_touch(struct gh_store *st, const struct gh_api_key_use *uses, size_t n)
{
    touched.n = n < 16 ? n : 16;
    memcpy(touched.use, uses, touched.n * sizeof(*uses));
    return gh_store_sqlite_ops.apikey_touch(st, uses, n);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[96], generated[32];
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-test-apikey-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    gh_config_defaults(&f->cfg);
    f->cfg.bcrypt_cost = 4;
    snprintf(f->cfg.api_key_pepper, sizeof(f->cfg.api_key_pepper), "%s/pepper", f->dir);
    struct gh_auth_opts auth;
    gh_cli_auth_opts(&f->cfg, &auth); /* the strings stay in f->cfg */
    snprintf(path, sizeof(path), "%s/gh.db", f->dir);
    f->ops = gh_store_sqlite_ops;
    f->ops.apikey_find_hash = racing_find;
    f->ops.apikey_touch = recording_touch;
    f->store.ops = &f->ops;
    if (gh_store_sqlite_ops.open(path, 5000, &f->store.st) != GH_OK ||
        gh_keyring_new(&f->ring) != GH_OK ||
        gh_auth_new(&auth, &f->store, f->ring, &f->auth) != GH_OK ||
        gh_auth_bootstrap(f->auth, NULL, generated) != GH_OK ||
        gh_apikey_operator(gh_auth_apikeys(f->auth), "admin", NULL, &f->admin) != GH_OK)
        return -1;
    sodium_memzero(generated, sizeof(generated));
    memset(&race, 0, sizeof(race));
    race.auth = f->auth;
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

static void new_key(struct fixture *f, char key[GH_APIKEY_TEXT])
{
    char name[32];
    static unsigned n;
    snprintf(name, sizeof(name), "k%u", ++n);
    struct gh_apikey_input in = {.name = name};
    struct gh_api_key rec;
    struct gh_refusal refusal = {NULL, 0};
    assert_int_equal(
        gh_apikey_create(gh_auth_apikeys(f->auth), &f->admin, &in, NULL, &rec, key, &refusal),
        GH_OK);
}

static gh_err check_from(struct fixture *f, const char *key, const char *ip)
{
    struct gh_reqmeta meta = {"req", ip, NULL, "GET", "/api/v1/auth/me"};
    struct gh_identity who;
    return gh_auth_verify_bearer(f->auth, key, strlen(key), &meta, &who);
}

static gh_err check(struct fixture *f, const char *key)
{
    return check_from(f, key, "127.0.0.1");
}

/* No race: a revocation applies at once to a key proven and cached before it. */
static void revoked_after_cached_use(void **state)
{
    struct fixture *f = *state;
    char key[GH_APIKEY_TEXT];
    new_key(f, key);
    assert_int_equal(check(f, key), GH_OK);
    assert_int_equal(check(f, key), GH_OK);
    assert_int_equal(gh_apikey_revoke(gh_auth_apikeys(f->auth), f->admin.user_id, NULL, NULL, NULL),
                     GH_OK);
    assert_int_equal(check(f, key), GH_ERR_REVOKED);
    sodium_memzero(key, sizeof(key));
}

/*
 * A revocation that lands right after any one key read of a check may let that check
 * pass (they overlapped), but never a check that starts after it: the cached record
 * must not outlive the revocation. first_ok: the key was proven and cached beforehand,
 * and its owner's view then reloaded (the stale-cache path), else it is read cold.
 */
static void race_at_every_read(struct fixture *f, int first_ok)
{
    unsigned fired = 0;
    for (unsigned trigger = 1; trigger <= READS_MAX; trigger++) {
        char key[GH_APIKEY_TEXT];
        new_key(f, key);
        if (first_ok) {
            assert_int_equal(check(f, key), GH_OK);
            gh_views_forget(gh_auth_views(f->auth), f->admin.user_id); /* e.g. a feed entry */
        }
        race.trigger = trigger;
        race.reads = 0;
        race.fired = 0;
        gh_err first = check(f, key);
        race.trigger = 0;
        if (!race.fired)
            break; /* the check reads the key fewer times than trigger */
        fired++;
        assert_true(first == GH_OK || first == GH_ERR_REVOKED);
        if (check(f, key) != GH_ERR_REVOKED)
            fail_msg("revoked after read %u of a %s check, the key still works", trigger,
                     first_ok ? "stale-cache" : "cold");
        sodium_memzero(key, sizeof(key));
    }
    assert_true(fired >= 1);
}

static void revocation_between_reads_cold(void **state)
{
    race_at_every_read(*state, 0);
}

static void revocation_between_reads_stale_cache(void **state)
{
    race_at_every_read(*state, 1);
}

/* ---- last uses: each thread records its own, the flush merges them ---- */

struct use_on_thread {
    struct fixture *f;
    const char *key, *ip;
    gh_err err;
};

static void *use_there(void *arg)
{
    struct use_on_thread *u = arg;
    u->err = check_from(u->f, u->key, u->ip);
    return NULL;
}

/* A use of key from ip on a thread of its own (another part of the last uses). */
static void use_on_new_thread(struct fixture *f, const char *key, const char *ip)
{
    struct use_on_thread u = {f, key, ip, GH_ERR_INTERNAL};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, use_there, &u), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(u.err, GH_OK);
}

/* Waits (at most 2 s) for the clock's next second: a later use than any before. */
static void next_second(void)
{
    int64_t t0 = gh_time_now();
    for (int i = 0; i < 200 && gh_time_now() == t0; i++)
        usleep(10000);
    assert_true(gh_time_now() > t0);
}

static const struct gh_api_key_use *touched_use(const char *key_id)
{
    const struct gh_api_key_use *found = NULL;
    for (size_t i = 0; i < touched.n; i++)
        if (strcmp(touched.use[i].id, key_id) == 0) {
            assert_null(found); /* one use per key, however many threads used it */
            found = &touched.use[i];
        }
    assert_non_null(found);
    return found;
}

static void key_id_of(struct fixture *f, const char *key, char id[GH_UUID_LEN + 1])
{
    struct gh_reqmeta meta = {"req", "127.0.0.1", NULL, "GET", "/api/v1/auth/me"};
    struct gh_identity who;
    assert_int_equal(gh_auth_verify_bearer(f->auth, key, strlen(key), &meta, &who), GH_OK);
    memcpy(id, who.key_id, GH_UUID_LEN + 1);
}

/*
 * Two threads use the same keys, in turn, a second apart: the flush writes each key once,
 * with its latest use whichever thread's part the flush merges first (one key's latest
 * use is this thread's, the other's the other thread's).
 */
static void last_use_merged_across_threads(void **state)
{
    struct fixture *f = *state;
    char a[GH_APIKEY_TEXT], b[GH_APIKEY_TEXT], ida[GH_UUID_LEN + 1], idb[GH_UUID_LEN + 1];
    new_key(f, a);
    new_key(f, b);
    key_id_of(f, a, ida);
    key_id_of(f, b, idb);
    assert_int_equal(check_from(f, a, "192.0.2.1"), GH_OK);
    use_on_new_thread(f, b, "192.0.2.2");
    next_second();
    use_on_new_thread(f, a, "198.51.100.1");
    assert_int_equal(check_from(f, b, "198.51.100.2"), GH_OK);
    touched.n = 0;
    assert_int_equal(gh_apikey_flush(gh_auth_apikeys(f->auth)), GH_OK);
    const struct gh_api_key_use *ua = touched_use(ida), *ub = touched_use(idb);
    assert_string_equal(ua->ip, "198.51.100.1");
    assert_string_equal(ub->ip, "198.51.100.2");
    /* Written: nothing is left for the next flush. */
    touched.n = 0;
    assert_int_equal(gh_apikey_flush(gh_auth_apikeys(f->auth)), GH_OK);
    assert_int_equal(touched.n, 0);
    sodium_memzero(a, sizeof(a));
    sodium_memzero(b, sizeof(b));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(revoked_after_cached_use, setup, teardown),
        cmocka_unit_test_setup_teardown(revocation_between_reads_cold, setup, teardown),
        cmocka_unit_test_setup_teardown(revocation_between_reads_stale_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(last_use_merged_across_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#ifndef GH_TESTS_AUTHN_AUTH_FIXTURE_H
#define GH_TESTS_AUTHN_AUTH_FIXTURE_H
/* An authentication service over a real SQLite store in a temporary directory (bcrypt
 * cost 4, an ES256 key, the bootstrap admin), for the authn tests' setup and teardown.
 * Included after cmocka.h, sodium.h and the headers of authn/service, cli, config,
 * crypto/sigkey, store and tmpdir.h. */

struct fixture {
    char dir[64];
    struct gh_config cfg;
    struct gh_store_handle store;
    struct gh_keyring *ring;
    struct gh_auth *auth;
};

static const struct gh_reqmeta meta = {"req", "127.0.0.1", NULL, "POST", "/api/v1/auth/login"};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[96], generated[32];
    struct gh_sigkey *key = NULL;
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-test-auth-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    gh_config_defaults(&f->cfg);
    f->cfg.bcrypt_cost = 4;
    snprintf(f->cfg.api_key_pepper, sizeof(f->cfg.api_key_pepper), "%s/pepper", f->dir);
    struct gh_auth_opts auth;
    gh_cli_auth_opts(&f->cfg, &auth);
    snprintf(path, sizeof(path), "%s/gh.db", f->dir);
    if (gh_store_open("sqlite", path, 5000, &f->store) != GH_OK ||
        gh_keyring_new(&f->ring) != GH_OK || gh_sigkey_generate(GH_ALG_ES256, 0, &key) != GH_OK ||
        gh_keyring_add(f->ring, key, 1) != GH_OK ||
        gh_auth_new(&auth, &f->store, f->ring, &f->auth) != GH_OK ||
        gh_auth_bootstrap(f->auth, NULL, generated) != GH_OK)
        return -1;
    sodium_memzero(generated, sizeof(generated));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gh_auth_free(f->auth);
    gh_keyring_free(f->ring);
    gh_store_close(&f->store);
    int r = remove_tree(f->dir);
    free(f);
    return r;
}

#endif

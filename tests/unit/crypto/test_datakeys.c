/* Unit tests for crypto/datakeys and crypto/master: the first key is made once, keys come
 * back under the same master key and not under another, rotation (here and seen by another
 * holder), subkeys per org and purpose; the master key's sources and refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/datakeys.h"
#include "store_fixture.h"

static const char *const ORG_A = "01890a5d-ac96-774b-bcce-b302099a8057";
static const char *const ORG_B = "01890a5d-ac96-774b-bcce-b302099a8058";

static int setup(void **state)
{
    struct store_fixture *f = calloc(1, sizeof(*f));
    if (f == NULL || store_fixture_open(f) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    store_fixture_close(*state);
    free(*state);
    return 0;
}

static void first_key_once_and_master_bound(void **state)
{
    struct store_fixture *f = *state;
    uint8_t master[32], other[32], k1[32], k2[32];
    struct gh_datakeys *dk = NULL, *again = NULL;
    memset(master, 1, sizeof(master));
    memset(other, 2, sizeof(other));
    assert_int_equal(gh_datakeys_open(&f->h, master, 10, &dk), GH_OK);
    assert_int_equal(gh_datakeys_current(dk), 1);
    assert_int_equal(gh_datakeys_count(dk), 1);
    assert_int_equal(gh_datakeys_derive(dk, 1, "field", ORG_A, k1), GH_OK);
    /* Opened again: the same key, not a second one. */
    assert_int_equal(gh_datakeys_open(&f->h, master, 11, &again), GH_OK);
    assert_int_equal(gh_datakeys_count(again), 1);
    assert_int_equal(gh_datakeys_derive(again, 1, "field", ORG_A, k2), GH_OK);
    assert_memory_equal(k1, k2, 32);
    gh_datakeys_free(again);
    /* Another master key opens nothing and adds nothing. */
    again = NULL;
    assert_int_equal(gh_datakeys_open(&f->h, other, 12, &again), GH_ERR_AUTH);
    assert_null(again);
    assert_int_equal(gh_datakeys_count(dk), 1);
    gh_datakeys_free(dk);
}

static void subkeys_differ_by_org_purpose_and_key(void **state)
{
    struct store_fixture *f = *state;
    uint8_t master[32], a[32], b[32], c[32], d[32], e[32];
    struct gh_datakeys *dk = NULL;
    uint32_t id = 0;
    randombytes_buf(master, sizeof(master));
    assert_int_equal(gh_datakeys_open(&f->h, master, 10, &dk), GH_OK);
    assert_int_equal(gh_datakeys_derive(dk, 1, "field", ORG_A, a), GH_OK);
    assert_int_equal(gh_datakeys_derive(dk, 1, "field", ORG_B, b), GH_OK);
    assert_int_equal(gh_datakeys_derive(dk, 1, "vault", ORG_A, c), GH_OK);
    assert_int_equal(gh_datakeys_derive(dk, 1, "field", NULL, d), GH_OK);
    assert_memory_not_equal(a, b, 32);
    assert_memory_not_equal(a, c, 32);
    assert_memory_not_equal(a, d, 32);
    assert_int_equal(gh_datakeys_rotate(dk, 20, &id), GH_OK);
    assert_int_equal(id, 2);
    assert_int_equal(gh_datakeys_current(dk), 2);
    assert_int_equal(gh_datakeys_derive(dk, 2, "field", ORG_A, e), GH_OK);
    assert_memory_not_equal(a, e, 32);
    assert_int_equal(gh_datakeys_derive(dk, 3, "field", ORG_A, e), GH_ERR_NOT_FOUND);
    gh_datakeys_free(dk);
}

/* A key rotated in by another holder (the CLI) opens here at once and becomes current. */
static void rotation_by_another_holder(void **state)
{
    struct store_fixture *f = *state;
    uint8_t master[32], k[32], mine[32];
    struct gh_datakeys *server = NULL, *cli = NULL;
    uint32_t id = 0;
    randombytes_buf(master, sizeof(master));
    assert_int_equal(gh_datakeys_open(&f->h, master, 10, &server), GH_OK);
    assert_int_equal(gh_datakeys_open(&f->h, master, 10, &cli), GH_OK);
    assert_int_equal(gh_datakeys_rotate(cli, 20, &id), GH_OK);
    assert_int_equal(gh_datakeys_rotate(server, 21, &id), GH_OK);
    assert_int_equal(id, 3); /* read before adding: no conflict, no lost key */
    sleep(1);                /* an unknown key id reads the store at most once a second */
    assert_int_equal(gh_datakeys_derive(cli, 3, "vault", ORG_A, k), GH_OK);
    assert_int_equal(gh_datakeys_derive(server, 3, "vault", ORG_A, mine), GH_OK);
    assert_memory_equal(k, mine, 32);
    gh_datakeys_free(server);
    gh_datakeys_free(cli);
}

static void master_from_hex_and_file(void **state)
{
    struct store_fixture *f = *state;
    uint8_t key[32], again[32];
    char path[128];
    memset(key, 0x5a, sizeof(key));
    assert_int_equal(
        gh_master_load("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1F",
                       "/nonexistent", 0, key),
        GH_OK);
    assert_int_equal(key[0], 0);
    assert_int_equal(key[31], 0x1f);
    memset(key, 0x5a, sizeof(key));
    assert_int_equal(gh_master_load("0001", "/nonexistent", 0, key), GH_ERR_INVALID);
    assert_int_equal(
        gh_master_load("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                       "/nonexistent", 0, key),
        GH_ERR_INVALID);
    assert_int_equal(key[0], 0x5a);
    /* The file is created 0600 on first use and read back the same. */
    snprintf(path, sizeof(path), "%s/master.key", f->dir);
    assert_int_equal(gh_master_load(NULL, path, 0, key), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_master_load(NULL, path, 1, key), GH_OK);
    assert_int_equal(gh_master_load(NULL, path, 0, again), GH_OK);
    assert_memory_equal(key, again, 32);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(gh_master_load(NULL, path, 0, again), GH_ERR_FILE_MODE);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(first_key_once_and_master_bound),
        T(subkeys_differ_by_org_purpose_and_key),
        T(rotation_by_another_holder),
        T(master_from_hex_and_file),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

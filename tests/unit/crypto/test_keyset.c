/* Unit tests for crypto/keyset: the manifest, first key, import, rotation, retirement, modes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "crypto/jwt.h"
#include "crypto/keyset.h"
#include "crypto/sigkey.h"
#include "tmpdir.h"

#define NOW 1700000000
#define TTL 900

static char root[] = "/tmp/gh-test-keyset-XXXXXX";
static char dir[512], legacy[600], path[1200];
static struct gh_keyset set; /* large: keep it off the test stack */

static int setup_all(void **state)
{
    (void)state;
    return mkdtemp(root) == NULL ? -1 : 0;
}

static int teardown_all(void **state)
{
    (void)state;
    return remove_tree(root) == 0 ? 0 : -1;
}

/* A fresh, empty keys directory per test. */
static int setup(void **state)
{
    (void)state;
    static int n;
    snprintf(dir, sizeof(dir), "%s/k%d", root, n++);
    snprintf(legacy, sizeof(legacy), "%s/signing.pem", dir);
    memset(&set, 0, sizeof(set));
    return mkdir(dir, 0700);
}

static struct gh_keyset_opts opts(void)
{
    struct gh_keyset_opts o = {dir, legacy, GH_ALG_ES256, 0, TTL};
    return o;
}

static unsigned mode_of(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

static const char *in_dir(const char *name)
{
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static gh_err parse(const char *text)
{
    char err[256];
    struct gh_keyset *s = calloc(1, sizeof(*s));
    gh_err e = gh_keyset_parse(text, strlen(text), s, err, sizeof(err));
    free(s);
    return e;
}

#define KEY(kid, state, retire)                                                                    \
    "{\"kid\":\"" kid "\",\"alg\":\"ES256\",\"file\":\"" kid ".pem\",\"state\":\"" state           \
    "\",\"created_at\":1,\"activated_at\":1,\"retire_at\":" retire "}"

static void manifest_round_trip(void **state)
{
    (void)state;
    static struct gh_keyset a, b;
    char err[256];
    a.n = 3;
    const char *kids[] = {"AAAA", "BBBB", "CCCC"};
    enum gh_key_state states[] = {GH_KEY_RETIRED, GH_KEY_RETIRING, GH_KEY_ACTIVE};
    for (size_t i = 0; i < 3; i++) {
        snprintf(a.keys[i].kid, sizeof(a.keys[i].kid), "%s", kids[i]);
        snprintf(a.keys[i].file, sizeof(a.keys[i].file), "%s.pem", kids[i]);
        a.keys[i].alg = i == 0 ? GH_ALG_RS256 : i == 1 ? GH_ALG_EDDSA : GH_ALG_ES256;
        a.keys[i].state = states[i];
        a.keys[i].created_at = NOW + (int64_t)i;
        a.keys[i].activated_at = NOW + 10 + (int64_t)i;
        a.keys[i].retire_at = i < 2 ? NOW + 100 + (int64_t)i : 0;
    }
    snprintf(a.keys[0].file, sizeof(a.keys[0].file), "/srv/keys/old signing.pem");
    char *text = NULL;
    assert_int_equal(gh_keyset_render(&a, &text), GH_OK);
    assert_int_equal(gh_keyset_parse(text, strlen(text), &b, err, sizeof(err)), GH_OK);
    assert_int_equal(b.n, 3);
    assert_memory_equal(&a.keys[0], &b.keys[0], sizeof(a.keys[0]) * 3);
    assert_null(strstr(text, "PRIVATE"));
    free(text);
}

static void strict_parsing(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"version\":1,\"keys\":[" KEY("AAAA", "active", "0") "]}"), GH_OK);
    /* unknown state, no active key, two active keys */
    assert_int_equal(parse("{\"version\":1,\"keys\":[" KEY("AAAA", "primary", "0") "]}"),
                     GH_ERR_INVALID);
    assert_int_equal(parse("{\"version\":1,\"keys\":[" KEY("AAAA", "retiring", "5") "]}"),
                     GH_ERR_INVALID);
    assert_int_equal(parse("{\"version\":1,\"keys\":[" KEY("AAAA", "active", "0") "," KEY(
                         "BBBB", "active", "0") "]}"),
                     GH_ERR_INVALID);
    /* a retiring key needs retire_at; a kid appears once */
    assert_int_equal(parse("{\"version\":1,\"keys\":[" KEY("AAAA", "active", "0") "," KEY(
                         "BBBB", "retiring", "0") "]}"),
                     GH_ERR_INVALID);
    assert_int_equal(parse("{\"version\":1,\"keys\":[" KEY("AAAA", "active", "0") "," KEY(
                         "AAAA", "retired", "5") "]}"),
                     GH_ERR_INVALID);
    /* unknown members are refused, at the top and in a key; so is another version */
    assert_int_equal(parse("{\"version\":1,\"next\":2,\"keys\":[" KEY("AAAA", "active", "0") "]}"),
                     GH_ERR_INVALID);
    assert_int_equal(parse("{\"version\":1,\"keys\":[{\"kid\":\"AAAA\",\"alg\":\"ES256\","
                           "\"file\":\"a.pem\",\"state\":\"active\",\"created_at\":1,"
                           "\"activated_at\":1,\"retire_at\":0,\"d\":\"secret\"}]}"),
                     GH_ERR_INVALID);
    assert_int_equal(parse("{\"version\":2,\"keys\":[" KEY("AAAA", "active", "0") "]}"),
                     GH_ERR_INVALID);
    /* missing member, bad alg, bad file names, negative time, duplicate member, not JSON */
    assert_int_equal(parse("{\"version\":1,\"keys\":[{\"kid\":\"AAAA\",\"alg\":\"ES256\","
                           "\"file\":\"a.pem\",\"state\":\"active\",\"created_at\":1,"
                           "\"activated_at\":1}]}"),
                     GH_ERR_INVALID);
    assert_int_equal(parse("{\"version\":1,\"keys\":[{\"kid\":\"AAAA\",\"alg\":\"HS256\","
                           "\"file\":\"a.pem\",\"state\":\"active\",\"created_at\":1,"
                           "\"activated_at\":1,\"retire_at\":0}]}"),
                     GH_ERR_INVALID);
    assert_int_equal(parse("{\"version\":1,\"keys\":[{\"kid\":\"AAAA\",\"alg\":\"ES256\","
                           "\"file\":\"../a.pem\",\"state\":\"active\",\"created_at\":1,"
                           "\"activated_at\":1,\"retire_at\":0}]}"),
                     GH_ERR_INVALID);
    assert_int_equal(parse("{\"version\":1,\"keys\":[{\"kid\":\"AAAA\",\"alg\":\"ES256\","
                           "\"file\":\"/x/../a.pem\",\"state\":\"active\",\"created_at\":1,"
                           "\"activated_at\":1,\"retire_at\":0}]}"),
                     GH_ERR_INVALID);
    assert_int_equal(parse("{\"version\":1,\"keys\":[{\"kid\":\"AAAA\",\"alg\":\"ES256\","
                           "\"file\":\"a.pem\",\"state\":\"active\",\"created_at\":-1,"
                           "\"activated_at\":1,\"retire_at\":0}]}"),
                     GH_ERR_INVALID);
    assert_int_equal(
        parse("{\"version\":1,\"version\":1,\"keys\":[" KEY("AAAA", "active", "0") "]}"),
        GH_ERR_INVALID);
    assert_int_equal(parse("[]"), GH_ERR_INVALID);
    assert_int_equal(parse("{\"version\":1,\"keys\":[" KEY("AA/A", "active", "0") "]}"),
                     GH_ERR_INVALID);
}

static void fresh_directory_gets_a_key(void **state)
{
    (void)state;
    char err[512];
    struct gh_keyset_opts o = opts();
    assert_int_equal(gh_keyset_open(&o, NOW, &set, err, sizeof(err)), GH_OK);
    assert_int_equal(set.n, 1);
    const struct gh_keyset_key *a = gh_keyset_active(&set);
    assert_non_null(a);
    assert_string_equal(a->file, "signing.pem");
    assert_int_equal(a->alg, GH_ALG_ES256);
    assert_int_equal(a->activated_at, NOW);
    /* every file written is 0600; the manifest holds no private material */
    assert_int_equal(mode_of(legacy), 0600);
    assert_int_equal(mode_of(in_dir(GH_KEYSET_MANIFEST)), 0600);
    assert_int_equal(mode_of(in_dir(GH_KEYSET_LOCKFILE)), 0600);
    assert_null(strstr(slurp(in_dir(GH_KEYSET_MANIFEST)), "PRIVATE"));
    assert_non_null(strstr(slurp(in_dir(GH_KEYSET_MANIFEST)), a->kid));
    /* opening again reads the same set */
    static struct gh_keyset again;
    assert_int_equal(gh_keyset_open(&o, NOW + 5, &again, err, sizeof(err)), GH_OK);
    assert_int_equal(again.n, 1);
    assert_string_equal(gh_keyset_active(&again)->kid, a->kid);
    struct gh_keyring *ring = NULL;
    assert_int_equal(gh_keyset_load_ring(dir, &set, NOW, &ring, err, sizeof(err)), GH_OK);
    assert_string_equal(gh_sigkey_kid(gh_keyring_active(ring)), a->kid);
    gh_keyring_free(ring);
}

static void legacy_key_is_imported(void **state)
{
    (void)state;
    char err[512];
    struct gh_sigkey *k = NULL;
    assert_int_equal(gh_sigkey_generate(GH_ALG_EDDSA, 0, &k), GH_OK);
    assert_int_equal(gh_sigkey_save(k, legacy), GH_OK);
    struct gh_keyset_opts o = opts(); /* says ES256: the file decides */
    assert_int_equal(gh_keyset_open(&o, NOW, &set, err, sizeof(err)), GH_OK);
    assert_int_equal(set.n, 1);
    assert_string_equal(gh_keyset_active(&set)->kid, gh_sigkey_kid(k));
    assert_int_equal(gh_keyset_active(&set)->alg, GH_ALG_EDDSA);
    gh_sigkey_free(k);
}

static void group_readable_key_is_refused(void **state)
{
    (void)state;
    char err[512];
    struct gh_sigkey *k = NULL;
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &k), GH_OK);
    assert_int_equal(gh_sigkey_save(k, legacy), GH_OK);
    gh_sigkey_free(k);
    assert_int_equal(chmod(legacy, 0640), 0);
    struct gh_keyset_opts o = opts();
    assert_int_equal(gh_keyset_open(&o, NOW, &set, err, sizeof(err)), GH_ERR_FILE_MODE);
    assert_non_null(strstr(err, legacy));
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(access(in_dir(GH_KEYSET_MANIFEST), F_OK), -1);
    /* also when the manifest exists and names it */
    assert_int_equal(chmod(legacy, 0600), 0);
    assert_int_equal(gh_keyset_open(&o, NOW, &set, err, sizeof(err)), GH_OK);
    assert_int_equal(chmod(legacy, 0640), 0);
    struct gh_keyring *ring = NULL;
    assert_int_equal(gh_keyset_load_ring(dir, &set, NOW, &ring, err, sizeof(err)),
                     GH_ERR_FILE_MODE);
    assert_non_null(strstr(err, "chmod 600"));
    /* and a manifest others can write */
    assert_int_equal(chmod(in_dir(GH_KEYSET_MANIFEST), 0620), 0);
    assert_int_equal(gh_keyset_read(dir, &set, err, sizeof(err)), GH_ERR_FILE_MODE);
}

static void rotation_and_retirement(void **state)
{
    (void)state;
    char err[512];
    struct gh_keyset_opts o = opts();
    assert_int_equal(gh_keyset_open(&o, NOW, &set, err, sizeof(err)), GH_OK);
    char kid1[GH_KID_MAX];
    snprintf(kid1, sizeof(kid1), "%s", gh_keyset_active(&set)->kid);

    struct gh_sigkey *k2 = NULL, *k3 = NULL;
    assert_int_equal(gh_sigkey_generate(GH_ALG_EDDSA, 0, &k2), GH_OK);
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &k3), GH_OK);
    assert_int_equal(gh_keyset_rotate(&o, k2, kid1, NOW + 100, &set, err, sizeof(err)), GH_OK);
    assert_int_equal(set.n, 2);
    assert_string_equal(gh_keyset_active(&set)->kid, gh_sigkey_kid(k2));
    assert_int_equal(gh_keyset_active(&set)->activated_at, NOW + 100);
    assert_string_equal(set.keys[0].kid, kid1);
    assert_int_equal(set.keys[0].state, GH_KEY_RETIRING);
    int64_t retire_at = NOW + 100 + TTL + GH_KEYSET_GRACE;
    assert_int_equal(set.keys[0].retire_at, retire_at);
    assert_int_equal(gh_keyset_next_retirement(&set), retire_at);
    char k2file[128];
    snprintf(k2file, sizeof(k2file), "%s.pem", gh_sigkey_kid(k2));
    assert_string_equal(gh_keyset_active(&set)->file, k2file);
    assert_int_equal(mode_of(in_dir(k2file)), 0600);
    assert_int_equal(mode_of(in_dir(GH_KEYSET_MANIFEST)), 0600);

    /* compare-and-swap: a rotation that saw kid1 active loses, and writes nothing */
    char k3file[128];
    snprintf(k3file, sizeof(k3file), "%s.pem", gh_sigkey_kid(k3));
    assert_int_equal(gh_keyset_rotate(&o, k3, kid1, NOW + 101, &set, err, sizeof(err)),
                     GH_ERR_CONFLICT);
    assert_int_equal(access(in_dir(k3file), F_OK), -1);
    assert_int_equal(gh_keyset_read(dir, &set, err, sizeof(err)), GH_OK);
    assert_int_equal(set.n, 2);

    /* both keys verify until retire_at; the ring signs with the new one */
    struct gh_keyring *ring = NULL;
    assert_int_equal(gh_keyset_load_ring(dir, &set, retire_at - 1, &ring, err, sizeof(err)), GH_OK);
    assert_int_equal(gh_keyring_size(ring), 2);
    assert_string_equal(gh_sigkey_kid(gh_keyring_active(ring)), gh_sigkey_kid(k2));
    gh_keyring_free(ring);
    /* past retire_at the key leaves the ring even before anyone rewrites the manifest */
    assert_int_equal(gh_keyset_load_ring(dir, &set, retire_at, &ring, err, sizeof(err)), GH_OK);
    assert_int_equal(gh_keyring_size(ring), 1);
    gh_keyring_free(ring);

    /* retirement: state recorded, private file deleted, nothing else touched */
    size_t retired = 99;
    assert_int_equal(gh_keyset_retire_due(&o, retire_at - 1, &retired, err, sizeof(err)), GH_OK);
    assert_int_equal(retired, 0);
    assert_int_equal(access(legacy, F_OK), 0);
    assert_int_equal(gh_keyset_retire_due(&o, retire_at, &retired, err, sizeof(err)), GH_OK);
    assert_int_equal(retired, 1);
    assert_int_equal(access(legacy, F_OK), -1);
    assert_int_equal(access(in_dir(k2file), F_OK), 0);
    assert_int_equal(gh_keyset_read(dir, &set, err, sizeof(err)), GH_OK);
    assert_int_equal(set.n, 2);
    assert_string_equal(set.keys[0].kid, kid1);
    assert_int_equal(set.keys[0].state, GH_KEY_RETIRED);
    assert_int_equal(mode_of(in_dir(GH_KEYSET_MANIFEST)), 0600);

    /* a rotation without expectation always rotates */
    assert_int_equal(gh_keyset_rotate(&o, k3, NULL, retire_at + 1, &set, err, sizeof(err)), GH_OK);
    assert_int_equal(set.n, 3);
    assert_string_equal(gh_keyset_active(&set)->kid, gh_sigkey_kid(k3));
    gh_sigkey_free(k2);
    gh_sigkey_free(k3);
}

static void retired_file_reused_is_not_deleted(void **state)
{
    (void)state;
    char err[512];
    struct gh_keyset_opts o = opts();
    assert_int_equal(gh_keyset_open(&o, NOW, &set, err, sizeof(err)), GH_OK);
    struct gh_sigkey *k2 = NULL, *other = NULL;
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &k2), GH_OK);
    assert_int_equal(gh_keyset_rotate(&o, k2, NULL, NOW, &set, err, sizeof(err)), GH_OK);
    size_t retired = 0;
    assert_int_equal(gh_keyset_retire_due(&o, NOW + 10000, &retired, err, sizeof(err)), GH_OK);
    assert_int_equal(access(legacy, F_OK), -1);
    /* `gatehouse keygen` writes a new key under the old name: a later sweep keeps it */
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &other), GH_OK);
    assert_int_equal(gh_sigkey_save(other, legacy), GH_OK);
    assert_int_equal(gh_keyset_open(&o, NOW + 20000, &set, err, sizeof(err)), GH_OK);
    assert_int_equal(access(legacy, F_OK), 0);
    gh_sigkey_free(k2);
    gh_sigkey_free(other);
}

static void missing_or_wrong_key_file(void **state)
{
    (void)state;
    char err[512];
    struct gh_keyset_opts o = opts();
    assert_int_equal(gh_keyset_open(&o, NOW, &set, err, sizeof(err)), GH_OK);
    /* another key under the recorded name */
    struct gh_sigkey *other = NULL;
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &other), GH_OK);
    assert_int_equal(unlink(legacy), 0);
    assert_int_equal(gh_sigkey_save(other, legacy), GH_OK);
    struct gh_keyring *ring = NULL;
    assert_int_equal(gh_keyset_load_ring(dir, &set, NOW, &ring, err, sizeof(err)), GH_ERR_INVALID);
    assert_non_null(strstr(err, gh_sigkey_kid(other)));
    /* no file at all */
    assert_int_equal(unlink(legacy), 0);
    assert_int_equal(gh_keyset_open(&o, NOW, &set, err, sizeof(err)), GH_ERR_INVALID);
    assert_non_null(strstr(err, "no private key file"));
    gh_sigkey_free(other);
}

static void live_keys_are_bounded(void **state)
{
    (void)state;
    char err[512];
    struct gh_keyset_opts o = opts();
    assert_int_equal(gh_keyset_open(&o, NOW, &set, err, sizeof(err)), GH_OK);
    for (int i = 1; i < GH_KEYSET_LIVE_MAX; i++) {
        struct gh_sigkey *k = NULL;
        assert_int_equal(gh_sigkey_generate(GH_ALG_EDDSA, 0, &k), GH_OK);
        assert_int_equal(gh_keyset_rotate(&o, k, NULL, NOW + i, &set, err, sizeof(err)), GH_OK);
        gh_sigkey_free(k);
    }
    struct gh_sigkey *k = NULL;
    assert_int_equal(gh_sigkey_generate(GH_ALG_EDDSA, 0, &k), GH_OK);
    assert_int_equal(gh_keyset_rotate(&o, k, NULL, NOW + 100, &set, err, sizeof(err)),
                     GH_ERR_TOO_LARGE);
    /* once the first retiring key is due, there is room again */
    assert_int_equal(
        gh_keyset_rotate(&o, k, NULL, NOW + 1 + TTL + GH_KEYSET_GRACE, &set, err, sizeof(err)),
        GH_OK);
    gh_sigkey_free(k);
}

static void ring_replace_keeps_serving(void **state)
{
    (void)state;
    struct gh_keyring *ring = NULL, *next = NULL;
    struct gh_sigkey *a = NULL, *b = NULL;
    assert_int_equal(gh_keyring_new(&ring), GH_OK);
    assert_int_equal(gh_keyring_new(&next), GH_OK);
    assert_int_equal(gh_sigkey_generate(GH_ALG_ES256, 0, &a), GH_OK);
    assert_int_equal(gh_sigkey_generate(GH_ALG_EDDSA, 0, &b), GH_OK);
    char kid_b[GH_KID_MAX];
    snprintf(kid_b, sizeof(kid_b), "%s", gh_sigkey_kid(b));
    assert_int_equal(gh_keyring_add(ring, a, 1), GH_OK);
    /* no active key: refused, both rings unchanged */
    assert_int_equal(gh_keyring_replace(ring, next), GH_ERR_INVALID);
    assert_int_equal(gh_keyring_add(next, b, 1), GH_OK);
    assert_int_equal(gh_keyring_replace(ring, next), GH_OK);
    assert_int_equal(gh_keyring_size(ring), 1);
    assert_string_equal(gh_sigkey_kid(gh_keyring_active(ring)), kid_b);
    char *jwks = NULL;
    assert_int_equal(gh_keyring_jwks(ring, &jwks), GH_OK);
    assert_non_null(strstr(jwks, kid_b));
    enum gh_alg algs[3];
    assert_int_equal(gh_keyring_algs(ring, algs, 3), 1);
    assert_int_equal(algs[0], GH_ALG_EDDSA);
    free(jwks);
    gh_keyring_free(ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(manifest_round_trip),
        cmocka_unit_test(strict_parsing),
        cmocka_unit_test_setup(fresh_directory_gets_a_key, setup),
        cmocka_unit_test_setup(legacy_key_is_imported, setup),
        cmocka_unit_test_setup(group_readable_key_is_refused, setup),
        cmocka_unit_test_setup(rotation_and_retirement, setup),
        cmocka_unit_test_setup(retired_file_reused_is_not_deleted, setup),
        cmocka_unit_test_setup(missing_or_wrong_key_file, setup),
        cmocka_unit_test_setup(live_keys_are_bounded, setup),
        cmocka_unit_test(ring_replace_keeps_serving),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}

/* Unit tests for crypto/backup: the three modes round-trip; the header names the version;
 * a wrong key, a changed byte anywhere, truncation and stray bytes are refused; section
 * names are checked before any section is visited. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/backup.h"

static const struct gh_kdf_argon2 FAST = {1, 8192, {0}};

struct seen {
    int n;
    char names[4][32];
    size_t lens[4];
};

static int visit(void *arg, const struct gh_backup_section *s)
{
    struct seen *v = arg;
    if (v->n < 4) {
        snprintf(v->names[v->n], sizeof(v->names[0]), "%s", s->name);
        v->lens[v->n] = s->len;
    }
    v->n++;
    return 0;
}

/* Sections: a database larger than one chunk, and a small key file. */
static uint8_t *make(enum gh_backup_mode mode, const struct gh_backup_key *key, size_t *len)
{
    static uint8_t db[200000];
    for (size_t i = 0; i < sizeof(db); i++)
        db[i] = (uint8_t)(i * 31);
    const struct gh_backup_section s[] = {{"database", db, sizeof(db)},
                                          {"keyset/es256-1.pem", (const uint8_t *)"PEM", 3}};
    uint8_t *out = NULL;
    assert_int_equal(gh_backup_write(s, 2, mode, key, &FAST, NULL, &out, len), GH_OK);
    return out;
}

static void round_trips(void **state)
{
    (void)state;
    uint8_t master[32];
    randombytes_buf(master, sizeof(master));
    const struct gh_backup_key keys[] = {{NULL, NULL}, {master, NULL}, {NULL, "a passphrase!"}};
    for (int mode = 0; mode <= 2; mode++) {
        size_t len = 0, plen = 0;
        uint8_t *file = make((enum gh_backup_mode)mode, &keys[mode], &len), *payload = NULL;
        struct gh_backup_header h;
        assert_int_equal(gh_backup_header_parse(file, len, &h), GH_OK);
        assert_int_equal(h.version, GH_BACKUP_VERSION);
        assert_int_equal(h.mode, mode);
        assert_int_equal(gh_backup_read(file, len, &keys[mode], &payload, &plen), GH_OK);
        struct seen v = {0};
        assert_int_equal(gh_backup_sections(payload, plen, visit, &v), GH_OK);
        assert_int_equal(v.n, 2);
        assert_string_equal(v.names[0], "database");
        assert_int_equal(v.lens[0], 200000);
        assert_string_equal(v.names[1], "keyset/es256-1.pem");
        gh_backup_free_payload(payload, plen);
        free(file);
    }
}

/* Every byte of an encrypted file changed, the wrong key, truncation at every chunk
 * boundary or a byte short, and bytes appended: never GH_OK. */
static void tamper_truncate_wrong_key(void **state)
{
    (void)state;
    uint8_t master[32], other[32], *payload = NULL;
    size_t len = 0, plen = 0;
    randombytes_buf(master, sizeof(master));
    randombytes_buf(other, sizeof(other));
    struct gh_backup_key key = {master, NULL}, wrong = {other, NULL}, none = {NULL, NULL};
    uint8_t *file = make(GH_BACKUP_MASTER, &key, &len);
    assert_int_equal(gh_backup_read(file, len, &wrong, &payload, &plen), GH_ERR_AUTH);
    assert_int_equal(gh_backup_read(file, len, &none, &payload, &plen), GH_ERR_INVALID);
    for (size_t i = 0; i < len; i += 97) {
        file[i] ^= 0x20;
        gh_err err = gh_backup_read(file, len, &key, &payload, &plen);
        assert_true(err == GH_ERR_AUTH || err == GH_ERR_INVALID);
        file[i] ^= 0x20;
    }
    for (size_t cut = 0; cut < len; cut += 4099)
        assert_int_not_equal(gh_backup_read(file, cut, &key, &payload, &plen), GH_OK);
    assert_int_not_equal(gh_backup_read(file, len - 1, &key, &payload, &plen), GH_OK);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, file, len);
    longer[len] = 0;
    assert_int_equal(gh_backup_read(longer, len + 1, &key, &payload, &plen), GH_ERR_INVALID);
    /* Another version: named by the header, refused by the reader. */
    longer[8] = 2;
    struct gh_backup_header h;
    assert_int_equal(gh_backup_header_parse(longer, len, &h), GH_OK);
    assert_int_equal(h.version, 2);
    assert_int_equal(gh_backup_read(longer, len, &key, &payload, &plen), GH_ERR_INVALID);
    free(longer);
    free(file);
    /* A plain file: damage and truncation show through the digest. */
    file = make(GH_BACKUP_PLAIN, &none, &len);
    file[len / 2] ^= 1;
    assert_int_equal(gh_backup_read(file, len, &none, &payload, &plen), GH_ERR_INVALID);
    file[len / 2] ^= 1;
    assert_int_equal(gh_backup_read(file, len - 1, &none, &payload, &plen), GH_ERR_INVALID);
    free(file);
}

static void bad_names_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"",        "../etc/passwd", "/abs", "a/../b",
                                      ".hidden", "a/.b",          "dir/", "sp ace"};
    struct gh_backup_key none = {NULL, NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct gh_backup_section s[] = {{bad[i], (const uint8_t *)"x", 1}};
        uint8_t *out = NULL;
        size_t len = 0;
        assert_int_equal(gh_backup_write(s, 1, GH_BACKUP_PLAIN, &none, NULL, NULL, &out, &len),
                         GH_ERR_INVALID);
    }
    /* A payload whose second name is bad visits nothing. */
    uint8_t payload[] = {0, 1,   'a', 0, 0, 0, 0, 0, 0, 0, 1, 'x', 0,
                         2, '.', '.', 0, 0, 0, 0, 0, 0, 0, 0, 0,   0};
    struct seen v = {0};
    assert_int_equal(gh_backup_sections(payload, sizeof(payload), visit, &v), GH_ERR_INVALID);
    assert_int_equal(v.n, 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips),
        cmocka_unit_test(tamper_truncate_wrong_key),
        cmocka_unit_test(bad_names_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

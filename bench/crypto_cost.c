/*
 * Issue 14's figures, in the library: field encryption and decryption of 1 KiB values
 * (gh_field_seal / gh_field_open, the work of /api/v1/crypto/encrypt and decrypt without
 * HTTP) in calls per second, and the seeding of a data dir with vault values for the
 * `gatehouse key rewrap` figure. Built by `make build/bench/crypto_cost`; run by
 * bench/crypto.sh.
 *   crypto_cost field DIR          calls/s of seal and open, 1 KiB, a store in DIR
 *   crypto_cost seed DIR N         N vault values (64 bytes) in DIR's gatehouse.db, sealed
 *                                  under DIR/keys/master.key (made when missing)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sodium.h>

#include "core/uuid.h"
#include "crypto/field.h"
#include "crypto/vault.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_all(const char *dir, struct gh_store_handle *h, struct gh_datakeys **dk)
{
    char db[4096], keys[4096], key[4096];
    uint8_t master[GH_MASTER_KEY_LEN];
    snprintf(db, sizeof(db), "%s/gatehouse.db", dir);
    snprintf(keys, sizeof(keys), "%s/keys", dir);
    snprintf(key, sizeof(key), "%s/keys/master.key", dir);
    mkdir(dir, 0700);
    mkdir(keys, 0700);
    if (gh_store_open("sqlite", db, 5000, h) != GH_OK ||
        gh_master_load(NULL, key, 1, master) != GH_OK ||
        gh_datakeys_open(h, master, time(NULL), dk) != GH_OK) {
        fprintf(stderr, "crypto_cost: cannot open %s\n", dir);
        return -1;
    }
    sodium_memzero(master, sizeof(master));
    return 0;
}

static int field(const char *dir)
{
    struct gh_store_handle h;
    struct gh_datakeys *dk;
    uint8_t pt[1024], back[2048];
    char text[GH_FIELD_SEALED_SIZE(1024)];
    size_t len = 0, n = 0;
    const int calls = 200000;
    if (open_all(dir, &h, &dk) != 0)
        return 1;
    randombytes_buf(pt, sizeof(pt));
    const char *org = "01890a5d-ac96-774b-bcce-b302099a8057";
    double t0 = now_s();
    for (int i = 0; i < calls; i++)
        if (gh_field_seal(dk, org, "bench", pt, sizeof(pt), text, sizeof(text), &len) != GH_OK)
            return 1;
    double t1 = now_s();
    for (int i = 0; i < calls; i++)
        if (gh_field_open(dk, org, "bench", text, len, back, sizeof(back), &n) != GH_OK)
            return 1;
    double t2 = now_s();
    printf("field seal 1KiB: %.0f calls/s\nfield open 1KiB: %.0f calls/s\n", calls / (t1 - t0),
           calls / (t2 - t1));
    gh_datakeys_free(dk);
    gh_store_close(&h);
    return 0;
}

static int seed(const char *dir, long n)
{
    struct gh_store_handle h, tx;
    struct gh_datakeys *dk;
    struct gh_org org = {.created_at = 1};
    uint8_t value[64];
    char name[32];
    if (open_all(dir, &h, &dk) != 0)
        return 1;
    gh_uuid_v7(org.id);
    snprintf(org.name, sizeof(org.name), "bench-%s", org.id);
    if (gh_store_org_create(&h, &org, "*:*", "org:read") != GH_OK)
        return 1;
    double t0 = now_s();
    for (long i = 0; i < n;) {
        if (gh_store_tx_begin(&h, &tx) != GH_OK)
            return 1;
        gh_err err = GH_OK;
        for (long k = 0; k < 1000 && i < n && err == GH_OK; k++, i++) {
            randombytes_buf(value, sizeof(value));
            snprintf(name, sizeof(name), "item%ld", i);
            err = gh_vault_put(dk, &tx, org.id, name, value, sizeof(value), 1, NULL);
        }
        if (gh_store_tx_end(&tx, err) != GH_OK)
            return 1;
    }
    fprintf(stderr, "seeded %ld vault values in %.1f s\n", n, now_s() - t0);
    gh_datakeys_free(dk);
    gh_store_close(&h);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    if (argc == 3 && strcmp(argv[1], "field") == 0)
        return field(argv[2]);
    if (argc == 4 && strcmp(argv[1], "seed") == 0)
        return seed(argv[2], strtol(argv[3], NULL, 10));
    fprintf(stderr, "usage: crypto_cost field DIR | seed DIR N\n");
    return 2;
}

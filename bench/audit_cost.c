/*
 * Figure h: what an audit record costs the thread that makes it (a polling thread
 * answering a denial), through gh_audit_record_async into the batched writer, and how
 * fast the io pool then writes them. Distinct client addresses (nothing aggregated: the
 * worst case), then one repeated denial (aggregated). Built by `make build/bench/audit_cost`;
 * run by bench/run.sh (ONLY=h) with a temporary database.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include <pthread.h>

#include "audit/audit.h"

#define N 50000

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t *lat;

static void run(struct gh_pool *pool, const struct gh_store_handle *store, int distinct,
                const char *label)
{
    char ip[64];
    for (size_t i = 0; i < N; i++) {
        snprintf(ip, sizeof(ip), "10.%zu.%zu.%zu", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        struct gh_reqmeta meta = {"req", distinct ? ip : "10.0.0.1", "bench/1", "GET",
                                  "/api/v1/auth/verify"};
        struct gh_audit_subject who = {"01900000-0000-7000-8000-000000000000", "bench", NULL};
        uint64_t t0 = now_ns();
        gh_audit_record_async(pool, store, "PERMISSION_DENIED", &meta, &who, 403,
                              "{\"permission\":\"file:read\"}");
        lat[i] = now_ns() - t0;
    }
    qsort(lat, N, sizeof(lat[0]), cmp);
    uint64_t sum = 0;
    for (size_t i = 0; i < N; i++)
        sum += lat[i];
    printf("%s: caller cost mean %.2f us, p50 %.2f us, p99 %.2f us, max %.2f us (target < 50 us)\n",
           label, (double)sum / N / 1000.0, (double)lat[N / 2] / 1000.0,
           (double)lat[N * 99 / 100] / 1000.0, (double)lat[N - 1] / 1000.0);
}

/* Figure k2: applications' events (POST /api/v1/audit/events), which wait for their id:
 * one writer at a time with gh_audit_record, then GROUPED threads through the grouped
 * writer (one transaction per batch of whoever is waiting). */
#define GROUPED 8
#define APP_N 2000

static const struct gh_store_handle *app_store;

static void *app_events(void *arg)
{
    struct gh_reqmeta meta = {"req", "10.0.0.2", "app/1", "POST", "/api/v1/audit/events"};
    struct gh_audit_event ev = {.action = "INVOICE_EXPORTED", .ip_address = "10.0.0.2",
                                .user_agent = "app/1", .method = "POST",
                                .path = "/api/v1/audit/events", .status = 200,
                                .metadata_json = "{\"rows\":3}"};
    for (size_t i = 0; i < APP_N; i++) {
        int64_t seq;
        ev.ts = (int64_t)time(NULL);
        if (arg == NULL ? gh_audit_record(app_store, "INVOICE_EXPORTED", &meta, NULL, 200,
                                          "{\"rows\":3}") != GH_OK
                        : gh_audit_append_grouped(app_store, &ev, &seq) != GH_OK)
            return arg;
    }
    return NULL;
}

static int app_figure(const struct gh_store_handle *store)
{
    pthread_t t[GROUPED];
    app_store = store;
    uint64_t t0 = now_ns();
    if (app_events(NULL) != NULL)
        return 1;
    double one = (double)(now_ns() - t0) / APP_N / 1000.0;
    t0 = now_ns();
    for (int i = 0; i < GROUPED; i++)
        if (pthread_create(&t[i], NULL, app_events, (void *)1) != 0)
            return 1;
    int failed = 0;
    for (int i = 0; i < GROUPED; i++) {
        void *r;
        pthread_join(t[i], &r);
        failed |= r != NULL;
    }
    double grouped = (double)(now_ns() - t0) / (GROUPED * APP_N) / 1000.0;
    printf("app events: one at a time %.1f us/event (a transaction each); %d threads grouped "
           "%.1f us/event\n",
           one, GROUPED, grouped);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc != 2 || sodium_init() < 0) {
        fprintf(stderr, "usage: audit_cost DIR\n");
        return 2;
    }
    char db[4096], key[4096];
    snprintf(db, sizeof(db), "%s/bench.db", argv[1]);
    snprintf(key, sizeof(key), "%s/audit.key", argv[1]);
    struct gh_store_handle store = {&gh_store_sqlite_ops, NULL};
    struct gh_pool *pool = NULL;
    lat = calloc(N, sizeof(*lat));
    if (lat == NULL || store.ops->open(db, 5000, &store.st) != GH_OK ||
        gh_pool_new("io", 2, 1024, &pool) != GH_OK)
        return 1;
    struct gh_audit_opts o = {key, 1000, 300, 0, 60};
    if (gh_audit_open(&o, &store, pool) != GH_OK)
        return 1;
    uint64_t t0 = now_ns();
    run(pool, &store, 1, "distinct addresses");
    struct gh_audit_head h = {0};
    do {
        usleep(10000);
        if (store.ops->audit_head(store.st, &h) != GH_OK)
            return 1;
    } while (h.seq < N && now_ns() - t0 < 60ull * 1000000000u);
    double s = (double)(now_ns() - t0) / 1e9;
    printf("distinct addresses: %lld records written in %.2f s (%.0f records/s, batched)\n",
           (long long)h.seq, s, (double)h.seq / s);
    run(pool, &store, 0, "one repeated denial (aggregated)");
    if (app_figure(&store) != 0)
        return 1;
    gh_pool_free(pool);
    gh_audit_close();
    store.ops->close(store.st);
    free(lat);
    return 0;
}

#include "cli/keys.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fs.h"
#include "core/log.h"

#define MSG_MAX 1024
#define ROTATE_RETRY 60 /* seconds before a failed automatic rotation is tried again */

void gh_keys_opts(const struct gh_config *cfg, struct gh_keyset_opts *out)
{
    out->dir = cfg->keys_dir;
    out->legacy_key = cfg->signing_key;
    out->alg = gh_cli_alg(cfg);
    out->bits = cfg->rsa_bits;
    out->retire_after = cfg->access_ttl + cfg->clock_leeway;
}

static gh_err manifest_path(const char *dir, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%s", dir, GH_KEYSET_MANIFEST);
    return n < 0 || (size_t)n >= size ? GH_ERR_TOO_LARGE : GH_OK;
}

int gh_keys_open(struct gh_app *app)
{
    const struct gh_config *cfg = &app->cfg;
    struct gh_keyset_opts o;
    struct gh_keyset *set = calloc(1, sizeof(*set));
    struct gh_keyring *ring = NULL;
    char msg[MSG_MAX], manifest[PATH_MAX];
    int status = 1;
    gh_err err;
    gh_keys_opts(cfg, &o);
    if (set == NULL)
        goto out;
    if (gh_mkdir_p(cfg->keys_dir, 0700) != GH_OK ||
        manifest_path(cfg->keys_dir, manifest, sizeof(manifest)) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot create the key directory %s\n", cfg->keys_dir);
        goto out;
    }
    if (access(manifest, F_OK) != 0 && access(cfg->signing_key, F_OK) != 0) {
        if (gh_mkdir_parent(cfg->signing_key, 0700) != GH_OK) {
            fprintf(stderr, "gatehouse: cannot create the key directory for %s\n",
                    cfg->signing_key);
            goto out;
        }
        fprintf(stderr, "gatehouse: generating a %s signing key in %s\n",
                gh_alg_name(gh_cli_alg(cfg)), cfg->signing_key);
    }
    int64_t now = (int64_t)time(NULL);
    if ((err = gh_keyset_open(&o, now, set, msg, sizeof(msg))) != GH_OK ||
        (err = gh_keyset_load_ring(cfg->keys_dir, set, now, &ring, msg, sizeof(msg))) != GH_OK) {
        fprintf(stderr, "gatehouse: signing keys: %s\n", msg);
        goto out;
    }
    if ((err = gh_keyring_replace(app->ring, ring)) != GH_OK) {
        fprintf(stderr, "gatehouse: cannot use the signing keys: %s\n", gh_err_name(err));
        goto out;
    }
    ring = NULL;
    const struct gh_keyset_key *active = gh_keyset_active(set);
    if (active->alg != gh_cli_alg(cfg))
        fprintf(stderr,
                "gatehouse: note: the signing key is %s, auth.algorithm says %s; "
                "the key decides\n",
                gh_alg_name(active->alg), gh_alg_name(gh_cli_alg(cfg)));
    status = 0;
out:
    gh_keyring_free(ring);
    free(set);
    return status;
}

/* ---- the watch ---- */

struct gh_keys_watch {
    struct gh_app *app;
    struct gh_keyset_opts opts;
    char manifest[PATH_MAX];
    struct gh_keyset set; /* as last loaded into the ring */
    struct stat seen;     /* of the manifest then */
    int have_seen;
    int64_t next_tick;
    int load_failing, retire_failing;
    /* automatic rotation */
    pthread_t thread;
    int thread_started;
    atomic_int rotating;
    gh_err rotate_result; /* written by the thread before it clears rotating */
    char expect_kid[GH_KID_MAX];
    int64_t rotate_not_before;
};

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Reads the manifest and swaps the ring's keys for its live ones. */
static void reload(struct gh_keys_watch *w, int64_t now)
{
    struct gh_keyset *set = calloc(1, sizeof(*set));
    struct gh_keyring *ring = NULL;
    struct stat st;
    char msg[MSG_MAX] = "out of memory";
    gh_err err = GH_ERR_NOMEM;
    int have_st = 0;
    if (set == NULL)
        goto out;
    have_st = stat(w->manifest, &st) == 0;
    if ((err = gh_keyset_read(w->opts.dir, set, msg, sizeof(msg))) != GH_OK ||
        (err = gh_keyset_load_ring(w->opts.dir, set, now, &ring, msg, sizeof(msg))) != GH_OK)
        goto out;
    size_t before = gh_keyring_size(w->app->ring);
    if ((err = gh_keyring_replace(w->app->ring, ring)) != GH_OK) {
        snprintf(msg, sizeof(msg), "cannot replace the keyring: %s", gh_err_name(err));
        goto out;
    }
    ring = NULL;
    const struct gh_keyset_key *was = gh_keyset_active(&w->set), *is = gh_keyset_active(set);
    size_t after = gh_keyring_size(w->app->ring);
    if (was == NULL || strcmp(was->kid, is->kid) != 0 || before != after)
        gh_log(GH_LOG_INFO, "signing keys: active %s (%s), %zu published", is->kid,
               gh_alg_name(is->alg), after);
    memcpy(&w->set, set, sizeof(*set));
    if (have_st) {
        w->seen = st;
        w->have_seen = 1;
    }
    if (w->load_failing)
        gh_log(GH_LOG_INFO, "signing keys: %s loads again", GH_KEYSET_MANIFEST);
    w->load_failing = 0;
out:
    if (err != GH_OK && have_st) {
        /* Retried once a second from the tick, not on every poll. */
        w->seen = st;
        w->have_seen = 1;
    }
    if (err != GH_OK && !w->load_failing) {
        gh_log(GH_LOG_ERROR, "signing keys: %s; the current keys stay in use", msg);
        w->load_failing = 1;
    }
    gh_keyring_free(ring);
    free(set);
}

/* The rotation thread: generation takes seconds (RSA-4096), so it never runs on the watch. */
static void *rotate_main(void *arg)
{
    struct gh_keys_watch *w = arg;
    const struct gh_config *cfg = &w->app->cfg;
    struct gh_sigkey *key = NULL;
    struct gh_keyset *set = calloc(1, sizeof(*set));
    char msg[MSG_MAX] = "out of memory";
    gh_err err = GH_ERR_NOMEM;
    if (set == NULL)
        goto out;
    if ((err = gh_sigkey_generate(gh_cli_alg(cfg), cfg->rsa_bits, &key)) != GH_OK) {
        snprintf(msg, sizeof(msg), "key generation failed: %s", gh_err_name(err));
        goto out;
    }
    err =
        gh_keyset_rotate(&w->opts, key, w->expect_kid, (int64_t)time(NULL), set, msg, sizeof(msg));
out:
    if (err == GH_OK) {
        gh_log(GH_LOG_INFO, "signing keys: rotated automatically, %s active, %s retiring",
               gh_sigkey_kid(key), w->expect_kid);
        /* After the fact: with several nodes most attempts lose the race and change nothing. */
        char md[2 * GH_KID_MAX + 64];
        (void)snprintf(md, sizeof(md), "{\"by\":\"schedule\",\"kid\":\"%s\",\"retiring\":\"%s\"}",
                       gh_sigkey_kid(key), w->expect_kid);
        (void)gh_audit_record(&w->app->store, "KEY_ROTATION", NULL, NULL, 0, md);
    } else if (err == GH_ERR_CONFLICT)
        gh_log(GH_LOG_INFO, "signing keys: rotation skipped: %s", msg);
    else
        gh_log(GH_LOG_ERROR, "signing keys: automatic rotation failed: %s", msg);
    gh_sigkey_free(key);
    free(set);
    w->rotate_result = err;
    atomic_store(&w->rotating, 0);
    return NULL;
}

static void maybe_rotate(struct gh_keys_watch *w, int64_t now)
{
    if (w->thread_started && !atomic_load(&w->rotating)) {
        pthread_join(w->thread, NULL);
        w->thread_started = 0;
        if (w->rotate_result != GH_OK && w->rotate_result != GH_ERR_CONFLICT)
            w->rotate_not_before = now + ROTATE_RETRY;
    }
    const struct gh_keyset_key *active = gh_keyset_active(&w->set);
    int64_t period = w->app->cfg.key_rotation;
    if (period <= 0 || w->thread_started || now < w->rotate_not_before || active == NULL ||
        active->activated_at + period > now)
        return;
    /* Compare-and-swap: only rotate if the key we saw is still the active one. */
    memcpy(w->expect_kid, active->kid, sizeof(w->expect_kid));
    atomic_store(&w->rotating, 1);
    if (pthread_create(&w->thread, NULL, rotate_main, w) != 0) {
        atomic_store(&w->rotating, 0);
        w->rotate_not_before = now + ROTATE_RETRY;
        gh_log(GH_LOG_ERROR, "signing keys: cannot start the rotation thread");
        return;
    }
    w->thread_started = 1;
}

static void retire_due(struct gh_keys_watch *w, int64_t now)
{
    int64_t next = gh_keyset_next_retirement(&w->set);
    if (next == 0 || next > now)
        return;
    char msg[MSG_MAX];
    size_t retired = 0;
    gh_err err = gh_keyset_retire_due(&w->opts, now, &retired, msg, sizeof(msg));
    if (err != GH_OK && !w->retire_failing)
        gh_log(GH_LOG_WARN, "signing keys: retirement: %s", msg);
    w->retire_failing = err != GH_OK;
    if (retired > 0)
        gh_log(GH_LOG_INFO, "signing keys: %zu key(s) retired", retired);
    /* The ring drops a key past retire_at even when the manifest could not be rewritten. */
    reload(w, now);
}

gh_err gh_keys_watch_new(struct gh_app *app, struct gh_keys_watch **out)
{
    struct gh_keys_watch *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return GH_ERR_NOMEM;
    w->app = app;
    gh_keys_opts(&app->cfg, &w->opts);
    if (manifest_path(app->cfg.keys_dir, w->manifest, sizeof(w->manifest)) != GH_OK) {
        free(w);
        return GH_ERR_TOO_LARGE;
    }
    atomic_init(&w->rotating, 0);
    *out = w; /* have_seen = 0: the first poll loads, closing the gap since start-up */
    return GH_OK;
}

void gh_keys_watch_poll(struct gh_keys_watch *w)
{
    int64_t now = (int64_t)time(NULL);
    struct stat st;
    if (stat(w->manifest, &st) == 0 && (!w->have_seen || !same_file(&st, &w->seen)))
        reload(w, now);
    if (now < w->next_tick)
        return;
    w->next_tick = now + 1;
    if (w->load_failing)
        reload(w, now);
    retire_due(w, now);
    maybe_rotate(w, now);
}

void gh_keys_watch_free(struct gh_keys_watch *w)
{
    if (w == NULL)
        return;
    if (w->thread_started)
        pthread_join(w->thread, NULL);
    free(w);
}

#ifndef GH_CLI_KEYS_H
#define GH_CLI_KEYS_H

#include "api/app.h"
#include "core/err.h"
#include "crypto/keyset.h"

/*
 * The signing keys of a running Gatehouse: opening the key set at start, and the watch
 * that follows it while serving (reloads on manifest changes, retirements, automatic
 * rotation on a background thread).
 */

/** The key-set options the configuration implies. Strings point into cfg. */
void gh_keys_opts(const struct gh_config *cfg, struct gh_keyset_opts *out) GH_NONNULL(1, 2);

/**
 * Opens the key set of app->cfg (creating auth.keys_dir, importing auth.signing_key or
 * generating the first key) and loads its live keys into app->ring. On failure prints
 * why on stderr and returns non-zero.
 */
int gh_keys_open(struct gh_app *app) GH_NONNULL(1);

struct gh_keys_watch;

/** A watch over app's key set; app must outlive it. */
gh_err gh_keys_watch_new(struct gh_app *app, struct gh_keys_watch **out) GH_WUR GH_NONNULL(1, 2);

/**
 * One step, called every ~100 ms from one thread: reloads app->ring when keyring.json
 * changed (stat: inode, size, times), and about once a second retires due keys and, when
 * auth.key_rotation is set and the active key is that old, starts a rotation on a
 * background thread (key generation never runs here). Failures are logged, once per
 * streak; the current keys stay in use.
 */
void gh_keys_watch_poll(struct gh_keys_watch *w) GH_NONNULL(1);

/** Waits for a running rotation to finish, then frees. Accepts NULL. */
void gh_keys_watch_free(struct gh_keys_watch *w);

#endif

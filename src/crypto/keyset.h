#ifndef GH_CRYPTO_KEYSET_H
#define GH_CRYPTO_KEYSET_H

/*
 * The signing keys on disk: private keys (PEM, mode 0600) in a keys directory, and a
 * manifest, keyring.json, that holds only public metadata: which key is active (signs),
 * which are retiring (verify only, still published in the JWKS) and which are retired
 * (gone from the JWKS, their private file deleted, the record kept). Every change to the
 * manifest is made under an exclusive flock on keyring.lock and written atomically
 * (temp file 0600, fsync, rename, fsync of the directory), so the CLI, the server and
 * other nodes sharing the directory never interleave writes; readers need no lock.
 */

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "crypto/jwt.h"
#include "crypto/sigkey.h"

#define GH_KEYSET_MANIFEST "keyring.json"
#define GH_KEYSET_LOCKFILE "keyring.lock"
/** Records kept in the manifest, retired ones included (the oldest retired go first). */
#define GH_KEYSET_MAX 64
/** Active + retiring keys at most: the capacity of a gh_keyring. */
#define GH_KEYSET_LIVE_MAX 16
/** Longest "file" entry: a name inside the keys directory or an absolute path. */
#define GH_KEYSET_FILE_MAX 512
/**
 * Seconds added to a retiring key's retire_at beyond auth.access_ttl + auth.clock_leeway:
 * a server that has not yet noticed a rotation (it polls the manifest every 100 ms, and
 * other nodes may see a shared directory late) may still sign with the old key that long.
 */
#define GH_KEYSET_GRACE 5

enum gh_key_state {
    GH_KEY_ACTIVE,   /* signs new tokens, verifies, published */
    GH_KEY_RETIRING, /* verifies and is published until retire_at */
    GH_KEY_RETIRED,  /* record only: out of the ring and the JWKS, private file deleted */
};

/** One manifest record. Strings are NUL-terminated. Times are unix seconds, 0 = unset. */
struct gh_keyset_key {
    char kid[GH_KID_MAX];
    enum gh_alg alg;
    char file[GH_KEYSET_FILE_MAX]; /* "<kid>.pem" (relative to the directory) or absolute */
    enum gh_key_state state;
    int64_t created_at;
    int64_t activated_at;
    int64_t retire_at; /* set when the key stops signing */
};

/** The manifest, typed. Exactly one key is active once it has been parsed or opened. */
struct gh_keyset {
    size_t n;
    struct gh_keyset_key keys[GH_KEYSET_MAX];
};

/** What opening and rotating need to know, usually from the configuration. */
struct gh_keyset_opts {
    const char *dir;        /* auth.keys_dir, which must exist */
    const char *legacy_key; /* auth.signing_key: imported, or where a first key is written */
    enum gh_alg alg;        /* algorithm of a first key (rotation takes its key ready-made) */
    unsigned bits;          /* RSA bits of a first key */
    int64_t retire_after;   /* auth.access_ttl + auth.clock_leeway (GH_KEYSET_GRACE is added) */
};

/** "active", "retiring", "retired". */
const char *gh_key_state_name(enum gh_key_state state);

/**
 * Parses manifest text strictly: {"version":1,"keys":[{kid, alg, file, state, created_at,
 * activated_at, retire_at}...]} with every member required and no other member (an
 * unknown one is an error, not ignored: a newer manifest must bump "version"), a known
 * state, exactly one active key, a retire_at on every retiring key, no kid twice, at most
 * GH_KEYSET_LIVE_MAX keys not retired. GH_ERR_INVALID with the reason in err.
 */
gh_err gh_keyset_parse(const char *text, size_t len, struct gh_keyset *out, char *err,
                       size_t err_size) GH_WUR GH_NONNULL(1, 3, 4);

/** The manifest text of set (pretty JSON, trailing newline); caller frees. */
gh_err gh_keyset_render(const struct gh_keyset *set, char **out) GH_WUR GH_NONNULL(1, 2);

/**
 * Reads and parses <dir>/keyring.json. GH_ERR_NOT_FOUND when there is none, GH_ERR_FILE_MODE
 * when it is writable by group or others, GH_ERR_IO, or GH_ERR_INVALID (reason in err).
 */
gh_err gh_keyset_read(const char *dir, struct gh_keyset *out, char *err, size_t err_size) GH_WUR
    GH_NONNULL(1, 2, 3);

/** Writes set as <dir>/keyring.json atomically (mode 0600). The caller holds the lock. */
gh_err gh_keyset_write(const char *dir, const struct gh_keyset *set) GH_WUR GH_NONNULL(1, 2);

/**
 * Takes the exclusive lock of dir (flock on keyring.lock, created 0600), waiting at most
 * 10 s (GH_ERR_BUSY). *fd is the descriptor to give gh_keyset_unlock.
 */
gh_err gh_keyset_lock(const char *dir, int *fd) GH_WUR GH_NONNULL(1, 2);
void gh_keyset_unlock(int fd);

/** The active record of set, or NULL. */
const struct gh_keyset_key *gh_keyset_active(const struct gh_keyset *set) GH_NONNULL(1);

/** The path of key's private file in dir, in out; GH_ERR_TOO_LARGE if it does not fit. */
gh_err gh_keyset_path(const char *dir, const struct gh_keyset_key *key, char *out,
                      size_t size) GH_WUR GH_NONNULL(1, 2, 3);

/**
 * The key set of o->dir as of now, made ready under the lock: with no manifest, the file
 * o->legacy_key is imported as the active key when it exists, or a new key (o->alg,
 * o->bits) is written there (mode 0600) and recorded; retiring keys whose retire_at has
 * passed become retired and their files are deleted; every key not retired must have
 * its file. *out is the manifest as written. Errors: GH_ERR_FILE_MODE (a key file readable by
 * group or others; the path is in err), GH_ERR_INVALID, GH_ERR_IO, GH_ERR_BUSY, and
 * those of key generation, each with a message in err.
 */
gh_err gh_keyset_open(const struct gh_keyset_opts *o, int64_t now, struct gh_keyset *out, char *err,
                      size_t err_size) GH_WUR GH_NONNULL(1, 3, 4);

/**
 * Makes retiring keys whose retire_at <= now retired, deletes their private files (and
 * those of older retired records still on disk), under the lock. *retired is how many
 * changed state. A file that cannot be deleted gives GH_ERR_IO after the manifest is
 * written (the deletion is retried next time).
 */
gh_err gh_keyset_retire_due(const struct gh_keyset_opts *o, int64_t now, size_t *retired, char *err,
                            size_t err_size) GH_WUR GH_NONNULL(1, 3, 4);

/**
 * Rotation. key (borrowed; generated beforehand, outside the lock, because RSA
 * generation takes seconds) is written as <dir>/<kid>.pem (0600) and becomes active; the
 * previous active key becomes retiring with retire_at = now + o->retire_after +
 * GH_KEYSET_GRACE. Due retirements are applied in the same write. expect_kid, when not
 * NULL, makes it a compare-and-swap: GH_ERR_CONFLICT, nothing written, if the active key
 * is no longer that one (another process rotated first). GH_ERR_TOO_LARGE when
 * GH_KEYSET_LIVE_MAX keys are already live. *out is the manifest as written.
 */
gh_err gh_keyset_rotate(const struct gh_keyset_opts *o, const struct gh_sigkey *key,
                        const char *expect_kid, int64_t now, struct gh_keyset *out, char *err,
                        size_t err_size) GH_WUR GH_NONNULL(1, 2, 5, 6);

/**
 * Loads the live keys of set (the active one, and retiring ones with retire_at > now)
 * from dir into a new ring, checking that each file holds the key the manifest names
 * (kid and algorithm). GH_ERR_FILE_MODE for a file readable by group or others; messages in err.
 */
gh_err gh_keyset_load_ring(const char *dir, const struct gh_keyset *set, int64_t now,
                           struct gh_keyring **out, char *err, size_t err_size) GH_WUR
    GH_NONNULL(1, 2, 4, 5);

/** The earliest retire_at of the retiring keys of set, 0 when none is retiring. */
int64_t gh_keyset_next_retirement(const struct gh_keyset *set) GH_NONNULL(1);

#endif

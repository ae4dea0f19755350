/*
 * The signing-key set on disk (keyset.h): reading and writing the manifest (its text:
 * keyset_text.c), the directory lock, and the transitions first key -> rotation ->
 * retirement.
 */
#include "crypto/keyset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/keyset_int.h"

#define MANIFEST_MAX (256 * 1024) /* 64 records are ~20 KiB */
#define LOCK_WAIT_MS 10000
#define TMP_SUFFIX ".tmp"

/* out = dir "/" name; GH_ERR_TOO_LARGE if it does not fit. */
static gh_err join(const char *dir, const char *name, char *out, size_t size)
{
    size_t n = strlen(dir);
    const char *sep = n > 0 && dir[n - 1] == '/' ? "" : "/";
    int w = snprintf(out, size, "%s%s%s", dir, sep, name);
    return w < 0 || (size_t)w >= size ? GH_ERR_TOO_LARGE : GH_OK;
}

gh_err gh_keyset_path(const char *dir, const struct gh_keyset_key *key, char *out, size_t size)
{
    if (key->file[0] == '/') {
        size_t n = strlen(key->file);
        if (n >= size)
            return GH_ERR_TOO_LARGE;
        memcpy(out, key->file, n + 1);
        return GH_OK;
    }
    return join(dir, key->file, out, size);
}

const struct gh_keyset_key *gh_keyset_active(const struct gh_keyset *set)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->keys[i].state == GH_KEY_ACTIVE)
            return &set->keys[i];
    return NULL;
}

int64_t gh_keyset_next_retirement(const struct gh_keyset *set)
{
    int64_t next = 0;
    for (size_t i = 0; i < set->n; i++)
        if (set->keys[i].state == GH_KEY_RETIRING && (next == 0 || set->keys[i].retire_at < next))
            next = set->keys[i].retire_at;
    return next;
}

/* ---- files ---- */

gh_err gh_keyset_read(const char *dir, struct gh_keyset *out, char *err, size_t err_size)
{
    char path[PATH_MAX], why[256];
    gh_err ret = GH_ERR_IO;
    char *text = NULL;
    if (join(dir, GH_KEYSET_MANIFEST, path, sizeof(path)) != GH_OK) {
        gh_keyset_fail(err, err_size, "%s: the path is too long", dir);
        return GH_ERR_TOO_LARGE;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        ret = errno == ENOENT ? GH_ERR_NOT_FOUND : GH_ERR_IO;
        gh_keyset_fail(err, err_size, "%s: %s", path, strerror(errno));
        return ret;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        gh_keyset_fail(err, err_size, "%s: not a regular file", path);
        goto out;
    }
    /* The manifest decides which key signs: nobody else may be able to change it. */
    if ((st.st_mode & 022) != 0) {
        gh_keyset_fail(err, err_size, "refusing %s: it is writable by group or others (chmod 600)",
                       path);
        ret = GH_ERR_FILE_MODE;
        goto out;
    }
    if (st.st_size > MANIFEST_MAX) {
        gh_keyset_fail(err, err_size, "%s: larger than %d bytes", path, MANIFEST_MAX);
        ret = GH_ERR_INVALID;
        goto out;
    }
    size_t len = 0, cap = (size_t)st.st_size + 1;
    if ((text = malloc(cap)) == NULL) {
        ret = GH_ERR_NOMEM;
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, text + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            gh_keyset_fail(err, err_size, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == cap) { /* grew since fstat: not the file we sized */
            gh_keyset_fail(err, err_size, "%s: changed while being read", path);
            goto out;
        }
    }
    if ((ret = gh_keyset_parse(text, len, out, why, sizeof(why))) != GH_OK)
        gh_keyset_fail(err, err_size, "%s: %s", path, why);
out:
    free(text);
    close(fd);
    return ret;
}

/* Writes all of text to fd. */
static gh_err write_all(int fd, const char *text, size_t n)
{
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, text + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return GH_ERR_IO;
        done += (size_t)w;
    }
    return GH_OK;
}

gh_err gh_keyset_write(const char *dir, const struct gh_keyset *set)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    char *text = NULL;
    int fd = -1, dfd = -1;
    gh_err ret = gh_keyset_render(set, &text);
    if (ret != GH_OK)
        return ret;
    if ((ret = join(dir, GH_KEYSET_MANIFEST, path, sizeof(path))) != GH_OK ||
        (ret = join(dir, GH_KEYSET_MANIFEST TMP_SUFFIX, tmp, sizeof(tmp))) != GH_OK)
        goto out;
    ret = GH_ERR_IO;
    /* A temp file left by a crash may have any mode: never reuse it. */
    if (unlink(tmp) != 0 && errno != ENOENT)
        goto out;
    fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        goto out;
    if (write_all(fd, text, strlen(text)) != GH_OK || fsync(fd) != 0)
        goto out;
    int closed = close(fd);
    fd = -1;
    if (closed != 0 || rename(tmp, path) != 0)
        goto out;
    /* The rename is durable only once the directory is. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0)
        goto out;
    ret = GH_OK;
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (ret != GH_OK)
        (void)unlink(tmp);
    free(text);
    return ret;
}

gh_err gh_keyset_lock(const char *dir, int *out)
{
    char path[PATH_MAX];
    if (join(dir, GH_KEYSET_LOCKFILE, path, sizeof(path)) != GH_OK)
        return GH_ERR_TOO_LARGE;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return GH_ERR_IO;
    /* Holders never generate keys under the lock (except a first key): waits are short. */
    for (int waited = 0; waited < LOCK_WAIT_MS; waited += 10) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            *out = fd;
            return GH_OK;
        }
        if (errno != EWOULDBLOCK && errno != EINTR)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    gh_err ret = errno == EWOULDBLOCK ? GH_ERR_BUSY : GH_ERR_IO;
    close(fd);
    return ret;
}

void gh_keyset_unlock(int fd)
{
    if (fd < 0)
        return;
    (void)flock(fd, LOCK_UN);
    close(fd);
}

/* ---- transitions ---- */

/* Retiring keys past retire_at become retired; returns how many. */
static size_t retire_in_memory(struct gh_keyset *set, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (set->keys[i].state == GH_KEY_RETIRING && set->keys[i].retire_at <= now) {
            set->keys[i].state = GH_KEY_RETIRED;
            n++;
        }
    }
    return n;
}

/*
 * Deletes the private files of retired records that are still on disk. A file is deleted
 * only when it holds the recorded key: a name can be reused (auth.signing_key rewritten
 * by `gatehouse keygen`) and that newer key is not ours to delete. Returns the number of
 * files that could not be deleted; the first one is named in err.
 */
static size_t sweep_retired(const char *dir, const struct gh_keyset *set, char *err,
                            size_t err_size)
{
    size_t failed = 0;
    char path[PATH_MAX];
    for (size_t i = 0; i < set->n; i++) {
        const struct gh_keyset_key *k = &set->keys[i];
        struct gh_sigkey *key = NULL;
        if (k->state != GH_KEY_RETIRED || gh_keyset_path(dir, k, path, sizeof(path)) != GH_OK ||
            access(path, F_OK) != 0)
            continue;
        int ours = gh_sigkey_load(path, &key) == GH_OK && strcmp(gh_sigkey_kid(key), k->kid) == 0;
        gh_sigkey_free(key);
        if (!ours)
            continue;
        if (unlink(path) != 0 && errno != ENOENT) {
            if (failed++ == 0)
                gh_keyset_fail(err, err_size, "cannot delete the retired key %s: %s", path,
                               strerror(errno));
        }
    }
    return failed;
}

/* Every key not retired has its file. */
static gh_err check_files(const char *dir, const struct gh_keyset *set, char *err, size_t err_size)
{
    char path[PATH_MAX];
    for (size_t i = 0; i < set->n; i++) {
        const struct gh_keyset_key *k = &set->keys[i];
        if (k->state == GH_KEY_RETIRED)
            continue;
        if (gh_keyset_path(dir, k, path, sizeof(path)) != GH_OK || access(path, F_OK) != 0) {
            gh_keyset_fail(err, err_size, "%s/%s: the %s key %s has no private key file %s", dir,
                           GH_KEYSET_MANIFEST, gh_key_state_name(k->state), k->kid, k->file);
            return GH_ERR_INVALID;
        }
    }
    return GH_OK;
}

/*
 * The manifest's "file" for path: its name when it lies in dir, else its absolute path
 * (the directories are compared resolved, so "./var/keys" and "/srv/var/keys" match).
 */
static gh_err file_entry(const char *dir, const char *path, char *out, size_t size)
{
    char rdir[PATH_MAX], pdir[PATH_MAX], rpdir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dlen = slash ? (size_t)(slash - path) : 1;
    if (slash == path)
        dlen = 1; /* "/k.pem" lives in "/" */
    if (dlen >= sizeof(pdir) || base[0] == '\0')
        return GH_ERR_INVALID;
    memcpy(pdir, slash ? path : ".", dlen);
    pdir[dlen] = '\0';
    if (realpath(dir, rdir) == NULL || realpath(pdir, rpdir) == NULL)
        return GH_ERR_IO;
    int w = strcmp(rdir, rpdir) == 0
                ? snprintf(out, size, "%s", base)
                : snprintf(out, size, "%s%s%s", rpdir, strcmp(rpdir, "/") == 0 ? "" : "/", base);
    if (w < 0 || (size_t)w >= size || !gh_keyset_file_ok(out, strlen(out)))
        return GH_ERR_INVALID;
    return GH_OK;
}

static void refuse_perm(const char *path, char *err, size_t err_size)
{
    gh_keyset_fail(err, err_size,
                   "refusing %s: a private key must not be readable or writable by group or others "
                   "(fix the permissions: chmod 600)",
                   path);
}

/* A manifest for a directory that has none: the legacy key imported, or a new one. */
static gh_err first_key(const struct gh_keyset_opts *o, int64_t now, struct gh_keyset *set,
                        int *created, char *err, size_t err_size)
{
    struct gh_sigkey *key = NULL;
    struct gh_keyset_key *k = &set->keys[0];
    gh_err ret;
    *created = 0;
    memset(set, 0, sizeof(*set));
    if (access(o->legacy_key, F_OK) == 0) {
        if ((ret = gh_sigkey_load(o->legacy_key, &key)) != GH_OK) {
            if (ret == GH_ERR_FILE_MODE)
                refuse_perm(o->legacy_key, err, err_size);
            else
                gh_keyset_fail(err, err_size, "cannot load the signing key %s: %s", o->legacy_key,
                               gh_err_name(ret));
            goto out;
        }
    } else {
        if ((ret = gh_sigkey_generate(o->alg, o->bits, &key)) != GH_OK ||
            (ret = gh_sigkey_save(key, o->legacy_key)) != GH_OK) {
            gh_keyset_fail(err, err_size, "cannot create the signing key %s: %s", o->legacy_key,
                           gh_err_name(ret));
            goto out;
        }
        *created = 1;
    }
    if ((ret = file_entry(o->dir, o->legacy_key, k->file, sizeof(k->file))) != GH_OK) {
        gh_keyset_fail(err, err_size, "%s: cannot record this path in %s", o->legacy_key,
                       GH_KEYSET_MANIFEST);
        goto out;
    }
    memcpy(k->kid, gh_sigkey_kid(key), strlen(gh_sigkey_kid(key)) + 1);
    k->alg = gh_sigkey_alg(key);
    k->state = GH_KEY_ACTIVE;
    k->created_at = k->activated_at = now;
    set->n = 1;
out:
    if (ret != GH_OK && *created) {
        (void)unlink(o->legacy_key);
        *created = 0;
    }
    gh_sigkey_free(key);
    return ret;
}

/* gh_keyset_lock with the reason in err. */
static gh_err lock_dir(const char *dir, int *lock, char *err, size_t err_size)
{
    gh_err ret = gh_keyset_lock(dir, lock);
    if (ret != GH_OK)
        gh_keyset_fail(err, err_size, "cannot lock %s/%s: %s", dir, GH_KEYSET_LOCKFILE,
                       gh_err_name(ret));
    return ret;
}

gh_err gh_keyset_open(const struct gh_keyset_opts *o, int64_t now, struct gh_keyset *out, char *err,
                      size_t err_size)
{
    int lock = -1, created = 0, fresh = 0;
    struct gh_keyset *set = calloc(1, sizeof(*set));
    gh_err ret = GH_ERR_NOMEM;
    if (set == NULL)
        goto out;
    if ((ret = lock_dir(o->dir, &lock, err, err_size)) != GH_OK)
        goto out;
    ret = gh_keyset_read(o->dir, set, err, err_size);
    if (ret == GH_ERR_NOT_FOUND) {
        fresh = 1;
        ret = first_key(o, now, set, &created, err, err_size);
    }
    if (ret != GH_OK)
        goto out;
    size_t retired = retire_in_memory(set, now);
    if ((ret = check_files(o->dir, set, err, err_size)) != GH_OK)
        goto out;
    if ((fresh || retired > 0) && (ret = gh_keyset_write(o->dir, set)) != GH_OK) {
        gh_keyset_fail(err, err_size, "cannot write %s/%s", o->dir, GH_KEYSET_MANIFEST);
        if (created)
            (void)unlink(o->legacy_key);
        goto out;
    }
    char ignored[8];
    (void)sweep_retired(o->dir, set, ignored, sizeof(ignored));
    memcpy(out, set, sizeof(*set));
out:
    gh_keyset_unlock(lock);
    free(set);
    return ret;
}

gh_err gh_keyset_retire_due(const struct gh_keyset_opts *o, int64_t now, size_t *retired, char *err,
                            size_t err_size)
{
    int lock = -1;
    struct gh_keyset *set = calloc(1, sizeof(*set));
    gh_err ret = GH_ERR_NOMEM;
    if (set == NULL)
        goto out;
    if ((ret = lock_dir(o->dir, &lock, err, err_size)) != GH_OK)
        goto out;
    if ((ret = gh_keyset_read(o->dir, set, err, err_size)) != GH_OK)
        goto out;
    size_t n = retire_in_memory(set, now);
    if (n > 0 && (ret = gh_keyset_write(o->dir, set)) != GH_OK) {
        gh_keyset_fail(err, err_size, "cannot write %s/%s", o->dir, GH_KEYSET_MANIFEST);
        goto out;
    }
    if (n > 0 && sweep_retired(o->dir, set, err, err_size) > 0)
        ret = GH_ERR_IO;
    *retired = n;
out:
    gh_keyset_unlock(lock);
    free(set);
    return ret;
}

/* Makes room for one more record by dropping the oldest retired one; 0 if none. */
static int drop_oldest_retired(struct gh_keyset *set)
{
    size_t best = set->n;
    for (size_t i = 0; i < set->n; i++)
        if (set->keys[i].state == GH_KEY_RETIRED &&
            (best == set->n || set->keys[i].retire_at < set->keys[best].retire_at))
            best = i;
    if (best == set->n)
        return 0;
    memmove(&set->keys[best], &set->keys[best + 1], (set->n - best - 1) * sizeof(set->keys[0]));
    set->n--;
    return 1;
}

gh_err gh_keyset_rotate(const struct gh_keyset_opts *o, const struct gh_sigkey *key,
                        const char *expect_kid, int64_t now, struct gh_keyset *out, char *err,
                        size_t err_size)
{
    int lock = -1, saved = 0;
    char path[PATH_MAX];
    struct gh_keyset *set = calloc(1, sizeof(*set));
    gh_err ret = GH_ERR_NOMEM;
    const char *kid = gh_sigkey_kid(key);
    if (set == NULL)
        goto out;
    if ((ret = lock_dir(o->dir, &lock, err, err_size)) != GH_OK)
        goto out;
    if ((ret = gh_keyset_read(o->dir, set, err, err_size)) != GH_OK)
        goto out;
    (void)retire_in_memory(set, now);
    struct gh_keyset_key *active = (struct gh_keyset_key *)gh_keyset_active(set);
    ret = GH_ERR_CONFLICT;
    if (expect_kid != NULL && strcmp(active->kid, expect_kid) != 0) {
        gh_keyset_fail(err, err_size,
                       "the active key is now %s, not %s: another process rotated first",
                       active->kid, expect_kid);
        goto out;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->keys[i].kid, kid) == 0) {
            gh_keyset_fail(err, err_size, "key %s is already in %s", kid, GH_KEYSET_MANIFEST);
            goto out;
        }
    }
    ret = GH_ERR_TOO_LARGE;
    size_t live = 0;
    for (size_t i = 0; i < set->n; i++)
        live += set->keys[i].state != GH_KEY_RETIRED;
    if (live >= GH_KEYSET_LIVE_MAX) {
        gh_keyset_fail(
            err, err_size,
            "%zu keys are active or retiring (at most %d); wait until the next one retires "
            "(unix time %lld)",
            live, GH_KEYSET_LIVE_MAX, (long long)gh_keyset_next_retirement(set));
        goto out;
    }
    if (set->n == GH_KEYSET_MAX && !drop_oldest_retired(set)) {
        gh_keyset_fail(err, err_size, "%s is full", GH_KEYSET_MANIFEST);
        goto out;
    }
    /* active may have moved in the array when a record was dropped. */
    active = (struct gh_keyset_key *)gh_keyset_active(set);
    struct gh_keyset_key *k = &set->keys[set->n];
    memset(k, 0, sizeof(*k));
    int w = snprintf(k->file, sizeof(k->file), "%s.pem", kid);
    if (w < 0 || (size_t)w >= sizeof(k->file) ||
        gh_keyset_path(o->dir, k, path, sizeof(path)) != GH_OK) {
        gh_keyset_fail(err, err_size, "%s: the path is too long", o->dir);
        goto out;
    }
    if ((ret = gh_sigkey_save(key, path)) != GH_OK) {
        gh_keyset_fail(err, err_size, "cannot write %s: %s", path, gh_err_name(ret));
        goto out;
    }
    saved = 1;
    memcpy(k->kid, kid, strlen(kid) + 1);
    k->alg = gh_sigkey_alg(key);
    k->state = GH_KEY_ACTIVE;
    k->created_at = k->activated_at = now;
    active->state = GH_KEY_RETIRING;
    active->retire_at = now + o->retire_after + GH_KEYSET_GRACE;
    set->n++;
    if ((ret = gh_keyset_write(o->dir, set)) != GH_OK) {
        gh_keyset_fail(err, err_size, "cannot write %s/%s", o->dir, GH_KEYSET_MANIFEST);
        goto out;
    }
    saved = 0; /* recorded: keep the file */
    char ignored[8];
    (void)sweep_retired(o->dir, set, ignored, sizeof(ignored));
    memcpy(out, set, sizeof(*set));
out:
    if (saved)
        (void)unlink(path);
    gh_keyset_unlock(lock);
    free(set);
    return ret;
}

gh_err gh_keyset_load_ring(const char *dir, const struct gh_keyset *set, int64_t now,
                           struct gh_keyring **out, char *err, size_t err_size)
{
    struct gh_keyring *ring = NULL;
    char path[PATH_MAX];
    gh_err ret = gh_keyring_new(&ring);
    if (ret != GH_OK)
        return ret;
    for (size_t i = 0; i < set->n; i++) {
        const struct gh_keyset_key *k = &set->keys[i];
        struct gh_sigkey *key = NULL;
        if (k->state == GH_KEY_RETIRED || (k->state == GH_KEY_RETIRING && k->retire_at <= now))
            continue;
        if ((ret = gh_keyset_path(dir, k, path, sizeof(path))) != GH_OK) {
            gh_keyset_fail(err, err_size, "%s: the path of key %s is too long", dir, k->kid);
            goto out;
        }
        if ((ret = gh_sigkey_load(path, &key)) != GH_OK) {
            if (ret == GH_ERR_FILE_MODE)
                refuse_perm(path, err, err_size);
            else
                gh_keyset_fail(err, err_size, "cannot load the %s key %s from %s: %s",
                               gh_key_state_name(k->state), k->kid, path, gh_err_name(ret));
            goto out;
        }
        if (strcmp(gh_sigkey_kid(key), k->kid) != 0 || gh_sigkey_alg(key) != k->alg) {
            gh_keyset_fail(err, err_size, "%s holds the %s key %s, but %s says %s %s", path,
                           gh_alg_name(gh_sigkey_alg(key)), gh_sigkey_kid(key), GH_KEYSET_MANIFEST,
                           gh_alg_name(k->alg), k->kid);
            gh_sigkey_free(key);
            ret = GH_ERR_INVALID;
            goto out;
        }
        if ((ret = gh_keyring_add(ring, key, k->state == GH_KEY_ACTIVE)) != GH_OK) {
            gh_keyset_fail(err, err_size, "cannot add key %s to the keyring: %s", k->kid,
                           gh_err_name(ret));
            goto out;
        }
    }
    *out = ring;
    ring = NULL;
out:
    gh_keyring_free(ring);
    return ret;
}

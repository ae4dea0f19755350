/*
 * The encrypting SQLite VFS (dbcrypt.h). It sits over the default VFS and changes only
 * the bytes of page images on their way to and from three kinds of file:
 *   - the database: page p at (p-1)*4096, associated data ("db", p);
 *   - the WAL: frame k's page at 32 + k*(24+4096) + 24, associated data ("wal", k, the
 *     page number and salts of the frame's header), so that a page cannot be moved to
 *     another frame or page, nor a stale frame of an earlier WAL generation pass;
 *   - the rollback journal: every 4096-byte record at offset o ("journal", o); the main
 *     file reports 512-byte sectors so that journal headers are never 4096 bytes long.
 * Headers (database header inside page 1 is sealed with it; WAL and journal headers are
 * not) carry no row data. Temporary files are refused: connections use temp_store=MEMORY.
 * The io_methods are version 2 (shared memory, no xFetch): SQLite never maps ciphertext.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <sqlite3.h>

#include "crypto/dbcrypt.h"
#include "crypto/kdf.h"

#define PS GH_DBCRYPT_PAGE
#define BODY (PS - GH_DBCRYPT_RESERVE) /* the sealed part of a page */
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define WAL_HDR 32
#define FRAME_HDR 24
#define FRAME (FRAME_HDR + PS)
#define AD_LEN 29
#define MAX_VFS 4
#define SECTOR 512
#define CACHE_SLOTS 128 /* 1 MiB once used: the pages every request of a small store reads */

_Static_assert(NONCE + crypto_aead_xchacha20poly1305_ietf_ABYTES == GH_DBCRYPT_RESERVE,
               "the reserved bytes hold the nonce and the tag");

enum role { R_DB = 1, R_WAL = 2, R_JOURNAL = 3 };

struct keyed_vfs {
    sqlite3_vfs vfs;
    sqlite3_vfs *base;
    uint8_t *key; /* sodium_malloc: locked, guarded */
    char name[32];
};

struct cfile {
    sqlite3_file base;
    enum role role;
    const struct keyed_vfs *kv;
    const char *path;
    dev_t dev; /* the file's identity for the cache; ino 0: not cached */
    ino_t ino;
    sqlite3_file *real; /* the base VFS's file, right after this struct */
};

static struct keyed_vfs *registered[MAX_VFS];

/*
 * Opened pages, because in WAL mode every pool connection drops its whole page cache
 * when another one has written, and re-reads each page from the file: without this, a
 * decryption each time. A slot is reused only for the very bytes it was opened from
 * (file, place and associated data equal, and all 4096 raw bytes equal: a changed byte
 * is opened, and refused, afresh); pages written are put in as they are sealed. The
 * plaintext is what SQLite's own page cache holds anyway.
 */
struct slot {
    const struct keyed_vfs *kv;
    dev_t dev;
    ino_t ino;
    uint8_t ad[AD_LEN];
    uint8_t raw[PS];
    uint8_t plain[PS];
};
static struct slot *cache; /* CACHE_SLOTS, allocated on first use; NULL: none */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct slot *slot_of(const struct cfile *f, const uint8_t ad[AD_LEN])
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)f->ino ^ ((uint64_t)f->dev << 32);
    for (int i = 0; i < AD_LEN; i++)
        h = (h ^ ad[i]) * 1099511628211ULL;
    if (cache == NULL)
        cache = calloc(CACHE_SLOTS, sizeof(*cache));
    return cache != NULL ? &cache[h % CACHE_SLOTS] : NULL;
}

static int cache_get(const struct cfile *f, const uint8_t ad[AD_LEN], const uint8_t *raw,
                     uint8_t *plain)
{
    int hit = 0;
    if (f->ino == 0)
        return 0;
    pthread_mutex_lock(&cache_lock);
    struct slot *s = slot_of(f, ad);
    if (s != NULL && s->kv == f->kv && s->dev == f->dev && s->ino == f->ino &&
        memcmp(s->ad, ad, AD_LEN) == 0 && memcmp(s->raw, raw, PS) == 0) {
        memcpy(plain, s->plain, PS);
        hit = 1;
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

static void cache_put(const struct cfile *f, const uint8_t ad[AD_LEN], const uint8_t *raw,
                      const uint8_t *plain)
{
    if (f->ino == 0)
        return;
    pthread_mutex_lock(&cache_lock);
    struct slot *s = slot_of(f, ad);
    if (s != NULL) {
        s->kv = f->kv;
        s->dev = f->dev;
        s->ino = f->ino;
        memcpy(s->ad, ad, AD_LEN);
        memcpy(s->raw, raw, PS);
        memcpy(s->plain, plain, PS);
    }
    pthread_mutex_unlock(&cache_lock);
}

gh_err gh_dbcrypt_key(const uint8_t master[32], uint8_t out[GH_DBCRYPT_KEY_LEN])
{
    static const char label[] = "gatehouse sqlite pages v1";
    return gh_kdf_hkdf(master, 32, NULL, 0, (const uint8_t *)label, sizeof(label) - 1, out,
                       GH_DBCRYPT_KEY_LEN);
}

/* "ghdbpg1\0" | role | position (64-bit big-endian) | frame page number | frame salts */
static void make_ad(uint8_t ad[AD_LEN], enum role r, uint64_t pos, const uint8_t *frame_hdr)
{
    memset(ad, 0, AD_LEN);
    memcpy(ad, "ghdbpg1", 8);
    ad[8] = (uint8_t)r;
    for (int i = 0; i < 8; i++)
        ad[9 + i] = (uint8_t)(pos >> (56 - 8 * i));
    if (frame_hdr != NULL) {
        memcpy(ad + 17, frame_hdr, 4);     /* page number */
        memcpy(ad + 21, frame_hdr + 8, 8); /* salt-1, salt-2 */
    }
}

static int seal(const struct cfile *f, const uint8_t ad[AD_LEN], const uint8_t *in, uint8_t *out)
{
    for (size_t i = BODY; i < PS; i++)
        if (in[i] != 0) { /* a database without reserved bytes: writing would destroy rows */
            fprintf(stderr, "dbcrypt: %s: a page without %d reserved bytes; refusing to write\n",
                    f->path, GH_DBCRYPT_RESERVE);
            return SQLITE_IOERR_WRITE;
        }
    randombytes_buf(out + BODY, NONCE);
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out, out + BODY + NONCE, NULL, in, BODY, ad,
                                                        AD_LEN, NULL, out + BODY, f->kv->key);
    return SQLITE_OK;
}

/* raw (PS bytes) into out with the reserved bytes zero, as SQLite wrote them; -1 forged. */
static int unseal(const uint8_t *key, const uint8_t ad[AD_LEN], const uint8_t *raw, uint8_t *out)
{
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            out, NULL, raw, BODY, raw + BODY + NONCE, ad, AD_LEN, raw + BODY, key) != 0)
        return -1;
    memset(out + BODY, 0, GH_DBCRYPT_RESERVE);
    return 0;
}

static int forged(const struct cfile *f, uint64_t pos)
{
    fprintf(stderr,
            "dbcrypt: %s: %s %llu fails authentication (another key, or the file was damaged "
            "or altered)\n",
            f->path, f->role == R_WAL ? "WAL frame" : "page at", (unsigned long long)pos);
    return SQLITE_IOERR_DATA;
}

/* The region of f holding offset off: [*start, *end), a page image when it returns 1
 * (*pos its page number or frame index), a plain header when 0. */
static int region(enum role r, sqlite3_int64 off, sqlite3_int64 *start, sqlite3_int64 *end,
                  uint64_t *pos)
{
    if (r == R_DB) {
        *start = off / PS * PS;
        *end = *start + PS;
        *pos = (uint64_t)(off / PS) + 1;
        return 1;
    }
    if (off < WAL_HDR) {
        *start = 0;
        *end = WAL_HDR;
        return 0;
    }
    sqlite3_int64 k = (off - WAL_HDR) / FRAME, frame = WAL_HDR + k * FRAME;
    *pos = (uint64_t)k;
    if (off < frame + FRAME_HDR) {
        *start = frame;
        *end = frame + FRAME_HDR;
        return 0;
    }
    *start = frame + FRAME_HDR;
    *end = *start + PS;
    return 1;
}

/* Reads the page image at start (its WAL frame header too) and opens it into page. */
static int read_page(struct cfile *f, sqlite3_int64 start, uint64_t pos, int whole_frame,
                     uint8_t page[PS])
{
    uint8_t raw[FRAME], ad[AD_LEN];
    int wal = f->role == R_WAL;
    int rc =
        f->real->pMethods->xRead(f->real, raw, wal ? FRAME : PS, wal ? start - FRAME_HDR : start);
    if (rc != SQLITE_OK)
        return rc;
    make_ad(ad, f->role, pos, wal ? raw : NULL);
    const uint8_t *sealed = wal ? raw + FRAME_HDR : raw;
    if (cache_get(f, ad, sealed, page))
        return SQLITE_OK;
    if (unseal(f->kv->key, ad, sealed, page) == 0) {
        cache_put(f, ad, sealed, page);
        return SQLITE_OK;
    }
    /* Recovery reads whole frames and stops at the first whose checksum fails: a frame
     * whose header was written but not its page (a kill between the two writes) must end
     * the log there, not fail the open. Random bytes fail the checksum. */
    if (wal && whole_frame) {
        randombytes_buf(page, PS);
        return SQLITE_OK;
    }
    return forged(f, pos);
}

static int x_read(sqlite3_file *file, void *buf, int n, sqlite3_int64 off)
{
    struct cfile *f = (struct cfile *)file;
    uint8_t *out = buf, page[PS], ad[AD_LEN];
    if (f->role == R_JOURNAL) {
        int rc = f->real->pMethods->xRead(f->real, buf, n, off);
        if (rc != SQLITE_OK || n != PS)
            return rc;
        make_ad(ad, R_JOURNAL, (uint64_t)off, NULL);
        memcpy(page, buf, PS);
        return unseal(f->kv->key, ad, page, out) == 0 ? SQLITE_OK : forged(f, (uint64_t)off);
    }
    for (sqlite3_int64 at = off, stop = off + n; at < stop;) {
        sqlite3_int64 start, end;
        uint64_t pos;
        int sealed = region(f->role, at, &start, &end, &pos), rc;
        sqlite3_int64 to = end < stop ? end : stop;
        if (!sealed) {
            rc = f->real->pMethods->xRead(f->real, out + (at - off), (int)(to - at), at);
        } else {
            rc = read_page(f, start, pos, off <= start - FRAME_HDR, page);
            if (rc == SQLITE_OK)
                memcpy(out + (at - off), page + (at - start), (size_t)(to - at));
        }
        if (rc == SQLITE_IOERR_SHORT_READ) /* past the end: zeros from here, as SQLite wants */
            memset(out + (at - off), 0, (size_t)(stop - at));
        if (rc != SQLITE_OK)
            return rc;
        at = to;
    }
    return SQLITE_OK;
}

/* Seals the page at start, whose image is in; the frame header of a WAL page is in the
 * buffer being written (hdr) or, written just before, in the file. */
static int write_page(struct cfile *f, sqlite3_int64 start, uint64_t pos, const uint8_t *in,
                      const uint8_t *hdr)
{
    uint8_t out[PS], ad[AD_LEN], frame_hdr[FRAME_HDR];
    if (f->role == R_WAL && hdr == NULL) {
        int rc = f->real->pMethods->xRead(f->real, frame_hdr, FRAME_HDR, start - FRAME_HDR);
        if (rc != SQLITE_OK)
            return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_IOERR_WRITE : rc;
        hdr = frame_hdr;
    }
    make_ad(ad, f->role, pos, f->role == R_WAL ? hdr : NULL);
    int rc = seal(f, ad, in, out);
    if (rc == SQLITE_OK)
        rc = f->real->pMethods->xWrite(f->real, out, PS, start);
    if (rc == SQLITE_OK && f->role != R_JOURNAL)
        cache_put(f, ad, out, in);
    return rc;
}

static int x_write(sqlite3_file *file, const void *buf, int n, sqlite3_int64 off)
{
    struct cfile *f = (struct cfile *)file;
    const uint8_t *in = buf;
    if (f->role == R_JOURNAL)
        return n == PS ? write_page(f, off, (uint64_t)off, in, NULL)
                       : f->real->pMethods->xWrite(f->real, buf, n, off);
    for (sqlite3_int64 at = off, stop = off + n; at < stop;) {
        sqlite3_int64 start, end;
        uint64_t pos;
        int sealed = region(f->role, at, &start, &end, &pos), rc;
        sqlite3_int64 to = end < stop ? end : stop;
        if (!sealed) {
            rc = f->real->pMethods->xWrite(f->real, in + (at - off), (int)(to - at), at);
        } else if (at != start || to != end) { /* SQLite writes whole pages; anything else
                                                  would leave part of one unsealed */
            fprintf(stderr, "dbcrypt: %s: a write of part of a page\n", f->path);
            rc = SQLITE_IOERR_WRITE;
        } else {
            int hdr_here = f->role == R_WAL && off <= start - FRAME_HDR;
            rc = write_page(f, start, pos, in + (at - off),
                            hdr_here ? in + (start - FRAME_HDR - off) : NULL);
        }
        if (rc != SQLITE_OK)
            return rc;
        at = to;
    }
    return SQLITE_OK;
}

static int x_close(sqlite3_file *file)
{
    struct cfile *f = (struct cfile *)file;
    return f->real->pMethods->xClose(f->real);
}

static int x_sector_size(sqlite3_file *file)
{
    struct cfile *f = (struct cfile *)file;
    /* Journal headers take a sector: smaller than a page, they never look like one. */
    return f->role == R_DB ? SECTOR : f->real->pMethods->xSectorSize(f->real);
}

/* The rest goes to the base VFS's file unchanged. */
#define REAL(file) (((struct cfile *)(file))->real)
static int x_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    return REAL(file)->pMethods->xTruncate(REAL(file), size);
}
static int x_sync(sqlite3_file *file, int flags)
{
    return REAL(file)->pMethods->xSync(REAL(file), flags);
}
static int x_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    return REAL(file)->pMethods->xFileSize(REAL(file), size);
}
static int x_lock(sqlite3_file *file, int lock)
{
    return REAL(file)->pMethods->xLock(REAL(file), lock);
}
static int x_unlock(sqlite3_file *file, int lock)
{
    return REAL(file)->pMethods->xUnlock(REAL(file), lock);
}
static int x_check_reserved(sqlite3_file *file, int *out)
{
    return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}
static int x_file_control(sqlite3_file *file, int op, void *arg)
{
    return REAL(file)->pMethods->xFileControl(REAL(file), op, arg);
}
static int x_device(sqlite3_file *file)
{
    /* No batch-atomic writes: they would skip the journal we seal. */
    return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file)) & ~SQLITE_IOCAP_BATCH_ATOMIC;
}
static int x_shm_map(sqlite3_file *file, int pg, int pgsz, int extend, void volatile **p)
{
    return REAL(file)->pMethods->xShmMap(REAL(file), pg, pgsz, extend, p);
}
static int x_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}
static void x_shm_barrier(sqlite3_file *file)
{
    REAL(file)->pMethods->xShmBarrier(REAL(file));
}
static int x_shm_unmap(sqlite3_file *file, int del)
{
    return REAL(file)->pMethods->xShmUnmap(REAL(file), del);
}

static const sqlite3_io_methods methods = {
    2, /* no xFetch: never a map of the ciphertext handed to SQLite */
    x_close,   x_read,     x_write,          x_truncate,     x_sync,        x_file_size,
    x_lock,    x_unlock,   x_check_reserved, x_file_control, x_sector_size, x_device,
    x_shm_map, x_shm_lock, x_shm_barrier,    x_shm_unmap,    NULL,          NULL,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out)
{
    struct keyed_vfs *kv = vfs->pAppData;
    struct cfile *f = (struct cfile *)file;
    memset(f, 0, sizeof(*f));
    f->role = (flags & SQLITE_OPEN_MAIN_DB)        ? R_DB
              : (flags & SQLITE_OPEN_WAL)          ? R_WAL
              : (flags & SQLITE_OPEN_MAIN_JOURNAL) ? R_JOURNAL
                                                   : 0;
    if (f->role == 0 || name == NULL) {
        fprintf(stderr, "dbcrypt: refusing a temporary file (flags %#x): it would be plain\n",
                (unsigned)flags);
        return SQLITE_CANTOPEN;
    }
    f->kv = kv;
    f->path = name;
    f->real = (sqlite3_file *)(f + 1);
    int rc = kv->base->xOpen(kv->base, name, f->real, flags, out);
    struct stat sb;
    if (rc == SQLITE_OK && stat(name, &sb) == 0) {
        f->dev = sb.st_dev;
        f->ino = sb.st_ino;
    }
    if (rc == SQLITE_OK)
        f->base.pMethods = &methods;
    else if (f->real->pMethods != NULL)
        f->real->pMethods->xClose(f->real);
    return rc;
}

/* The VFS methods but xOpen go to the base VFS. */
#define BASE(vfs) (((struct keyed_vfs *)(vfs)->pAppData)->base)
static int v_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
    return BASE(vfs)->xDelete(BASE(vfs), name, sync);
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    return BASE(vfs)->xAccess(BASE(vfs), name, flags, out);
}
static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    return BASE(vfs)->xFullPathname(BASE(vfs), name, n, out);
}
static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
    return BASE(vfs)->xDlOpen(BASE(vfs), name);
}
static void v_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
    BASE(vfs)->xDlError(BASE(vfs), n, out);
}
static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    return BASE(vfs)->xDlSym(BASE(vfs), h, sym);
}
static void v_dlclose(sqlite3_vfs *vfs, void *h)
{
    BASE(vfs)->xDlClose(BASE(vfs), h);
}
static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    return BASE(vfs)->xRandomness(BASE(vfs), n, out);
}
static int v_sleep(sqlite3_vfs *vfs, int us)
{
    return BASE(vfs)->xSleep(BASE(vfs), us);
}
static int v_current_time(sqlite3_vfs *vfs, double *out)
{
    return BASE(vfs)->xCurrentTime(BASE(vfs), out);
}
static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    return BASE(vfs)->xGetLastError(BASE(vfs), n, out);
}
static int v_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    return BASE(vfs)->xCurrentTimeInt64(BASE(vfs), out);
}

gh_err gh_dbcrypt_register(const char *name, const uint8_t key[GH_DBCRYPT_KEY_LEN])
{
    if (strlen(name) >= sizeof(registered[0]->name))
        return GH_ERR_INVALID;
    for (int i = 0; i < MAX_VFS && registered[i] != NULL; i++)
        if (strcmp(registered[i]->name, name) == 0) {
            pthread_mutex_lock(&cache_lock); /* pages opened under the old key are gone */
            memcpy(registered[i]->key, key, GH_DBCRYPT_KEY_LEN);
            if (cache != NULL)
                memset(cache, 0, CACHE_SLOTS * sizeof(*cache));
            pthread_mutex_unlock(&cache_lock);
            return GH_OK;
        }
    int slot = 0;
    while (slot < MAX_VFS && registered[slot] != NULL)
        slot++;
    sqlite3_vfs *base = sqlite3_vfs_find(NULL);
    if (slot == MAX_VFS || base == NULL || base->iVersion < 2)
        return GH_ERR_INVALID;
    struct keyed_vfs *kv = sodium_malloc(sizeof(*kv));
    uint8_t *k = sodium_malloc(GH_DBCRYPT_KEY_LEN);
    if (kv == NULL || k == NULL) {
        sodium_free(kv);
        sodium_free(k);
        return GH_ERR_NOMEM;
    }
    memset(kv, 0, sizeof(*kv));
    memcpy(k, key, GH_DBCRYPT_KEY_LEN);
    (void)snprintf(kv->name, sizeof(kv->name), "%s", name);
    kv->base = base;
    kv->key = k;
    kv->vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct cfile) + base->szOsFile,
        .mxPathname = base->mxPathname,
        .zName = kv->name,
        .pAppData = kv,
        .xOpen = v_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_full_pathname,
        .xDlOpen = v_dlopen,
        .xDlError = v_dlerror,
        .xDlSym = v_dlsym,
        .xDlClose = v_dlclose,
        .xRandomness = v_randomness,
        .xSleep = v_sleep,
        .xCurrentTime = v_current_time,
        .xGetLastError = v_last_error,
        .xCurrentTimeInt64 = v_current_time64,
    };
    if (sqlite3_vfs_register(&kv->vfs, 0) != SQLITE_OK) {
        sodium_free(k);
        sodium_free(kv);
        return GH_ERR_NOMEM;
    }
    registered[slot] = kv;
    return GH_OK;
}

gh_err gh_dbcrypt_probe(const char *path, const uint8_t *key, enum gh_dbcrypt_state *out)
{
    uint8_t raw[PS], page[PS], ad[AD_LEN];
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        *out = GH_DBCRYPT_EMPTY;
        return GH_OK;
    }
    if (fd < 0)
        return GH_ERR_IO;
    size_t n = 0;
    ssize_t got = 1;
    while (n < PS && (got = read(fd, raw + n, PS - n)) > 0)
        n += (size_t)got;
    close(fd);
    if (got < 0)
        return GH_ERR_IO;
    make_ad(ad, R_DB, 1, NULL);
    if (n == 0)
        *out = GH_DBCRYPT_EMPTY;
    else if (n >= 16 && memcmp(raw, "SQLite format 3", 16) == 0)
        *out = GH_DBCRYPT_PLAIN;
    else if (n == PS && key != NULL && unseal(key, ad, raw, page) == 0)
        *out = GH_DBCRYPT_SEALED;
    else
        *out = GH_DBCRYPT_OTHER;
    sodium_memzero(page, sizeof(page));
    return GH_OK;
}

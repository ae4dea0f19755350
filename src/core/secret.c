#include "core/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

static gh_err secret_read(int fd, unsigned char *out, size_t len)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return GH_ERR_IO;
    if ((sb.st_mode & 077) != 0)
        return GH_ERR_FILE_MODE;
    if ((size_t)sb.st_size != len || read(fd, out, len) != (ssize_t)len)
        return GH_ERR_INVALID;
    return GH_OK;
}

gh_err gh_secret_file_load(const char *path, unsigned char *out, size_t len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            unsigned char fresh[256];
            if (len > sizeof(fresh)) {
                close(fd);
                unlink(path);
                return GH_ERR_INVALID;
            }
            randombytes_buf(fresh, len);
            int ok = write(fd, fresh, len) == (ssize_t)len && fsync(fd) == 0;
            sodium_memzero(fresh, sizeof(fresh));
            close(fd);
            if (!ok) {
                unlink(path);
                return GH_ERR_IO;
            }
        } else if (errno != EEXIST) {
            return GH_ERR_IO;
        }
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC); /* another process may have won */
    }
    if (fd < 0)
        return GH_ERR_IO;
    gh_err err = secret_read(fd, out, len);
    close(fd);
    return err;
}

static uint64_t word(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

#if defined(__SSE2__)
typedef uint64_t v2 __attribute__((vector_size(16)));

static v2 lane(const unsigned char *p)
{
    v2 v;
    memcpy(&v, p, 16);
    return v;
}
#endif

int gh_secret_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    uint64_t d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    size_t i = 0;
    /* The empty asm statements hide the accumulators from the compiler while looping, so it
     * cannot turn the loop into one that stops at the first difference. */
#if defined(__SSE2__)
    /* 64 bytes a step in SSE2 registers (a token's 1.2 KB in a third of the word steps). */
    v2 v0 = {0, 0}, v1 = {0, 0};
    for (; i + 64 <= n; i += 64) {
        v0 |= (lane(x + i) ^ lane(y + i)) | (lane(x + i + 16) ^ lane(y + i + 16));
        v1 |= (lane(x + i + 32) ^ lane(y + i + 32)) | (lane(x + i + 48) ^ lane(y + i + 48));
        __asm__("" : "+x"(v0), "+x"(v1));
    }
    v0 |= v1;
    d0 = v0[0] | v0[1];
#endif
    for (; i + 32 <= n; i += 32) {
        d0 |= word(x + i) ^ word(y + i);
        d1 |= word(x + i + 8) ^ word(y + i + 8);
        d2 |= word(x + i + 16) ^ word(y + i + 16);
        d3 |= word(x + i + 24) ^ word(y + i + 24);
        __asm__("" : "+r"(d0), "+r"(d1), "+r"(d2), "+r"(d3));
    }
    for (; i + 8 <= n; i += 8) {
        d0 |= word(x + i) ^ word(y + i);
        __asm__("" : "+r"(d0));
    }
    for (; i < n; i++) {
        d1 |= (uint64_t)(x[i] ^ y[i]);
        __asm__("" : "+r"(d1));
    }
    return (d0 | d1 | d2 | d3) == 0;
}

void *gh_secret_grow(void *old, size_t used, size_t size)
{
    void *grown = malloc(size);
    if (grown == NULL)
        return NULL;
    if (used > 0)
        memcpy(grown, old, used);
    gh_secret_free(old, used);
    return grown;
}

void gh_secret_free(void *p, size_t used)
{
    if (p != NULL) {
        sodium_memzero(p, used);
        free(p);
    }
}

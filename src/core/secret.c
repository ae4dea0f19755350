#include "core/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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

int gh_secret_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    uint64_t d = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t u, v;
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        d |= u ^ v;
        __asm__("" : "+r"(d)); /* no early exit: the compiler cannot see d while looping */
    }
    for (; i < n; i++) {
        d |= (uint64_t)(x[i] ^ y[i]);
        __asm__("" : "+r"(d));
    }
    return d == 0;
}

#include "core/fs.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

gh_err gh_mkdir_parent(const char *path, unsigned mode)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
        return GH_OK; /* the current directory or the root */
    size_t n = (size_t)(slash - path);
    if (n >= sizeof(dir))
        return GH_ERR_INVALID;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return gh_mkdir_p(dir, mode);
}

gh_err gh_mkdir_p(const char *path, unsigned mode)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf))
        return GH_ERR_INVALID;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
            return GH_ERR_IO;
        buf[i] = saved;
    }
    return GH_OK;
}

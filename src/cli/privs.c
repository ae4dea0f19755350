#include "cli/privs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 8 /* the data directory holds keys/ and files: deeper is not ours */

gh_err gh_privs_no_core_dumps(void)
{
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return GH_ERR_IO;
    return GH_OK;
}

/*
 * Gives dfd's directory and its entries to uid:gid, recursively through descriptors: an
 * entry swapped for a symlink while we walk changes the link, never its target.
 */
static gh_err give_dir(int dfd, uid_t uid, gid_t gid, unsigned depth)
{
    if (fchown(dfd, uid, gid) != 0)
        return GH_ERR_IO;
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return GH_ERR_IO;
    }
    gh_err ret = GH_OK;
    struct dirent *e;
    while (ret == GH_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            ret = GH_ERR_IO;
        } else if (S_ISDIR(st.st_mode)) {
            int sub = depth < MAX_DEPTH
                          ? openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                          : -1;
            ret = sub >= 0 ? give_dir(sub, uid, gid, depth + 1) : GH_ERR_IO;
            if (sub >= 0)
                close(sub);
        } else if (fchownat(dfd, e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
            ret = GH_ERR_IO;
        }
    }
    closedir(d);
    return ret;
}

gh_err gh_privs_drop(const char *user, const char *data_dir, int dumpable, char *why,
                     size_t why_size)
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        snprintf(why, why_size, "server.user: no user \"%s\"", user);
        return GH_ERR_NOT_FOUND;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (getuid() == uid && geteuid() == uid && getgid() == gid && getegid() == gid)
        return GH_OK;
    if (uid == 0) {
        snprintf(why, why_size, "server.user: \"%s\" is root", user);
        return GH_ERR_INVALID;
    }
    /* The configured path may be a symlink (the operator's); nothing below it is followed. */
    int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || give_dir(dfd, uid, gid, 0) != GH_OK) {
        snprintf(why, why_size, "cannot give %s to %s: %s", data_dir, user, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return GH_ERR_IO;
    }
    close(dfd);
    if (initgroups(user, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        snprintf(why, why_size, "cannot become %s: %s", user, strerror(errno));
        return GH_ERR_IO;
    }
    if (setuid(0) == 0 || getuid() != uid || geteuid() != uid || getegid() != gid) {
        snprintf(why, why_size, "still privileged after becoming %s", user);
        return GH_ERR_IO;
    }
    if (dumpable && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) {
        snprintf(why, why_size, "cannot keep core dumps on: %s", strerror(errno));
        return GH_ERR_IO;
    }
    return GH_OK;
}

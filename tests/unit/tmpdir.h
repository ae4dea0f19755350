/* Test helper: removes a temporary directory tree (no shell involved). */
#ifndef GH_TEST_TMPDIR_H
#define GH_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/** Deletes dir and everything below it; 0 on success. */
static int remove_tree(const char *dir)
{
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif

/* Test helper: a fresh SQLite store in a temporary directory, for the crypto services. */
#ifndef GH_TEST_STORE_FIXTURE_H
#define GH_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "store/store.h"
#include "tmpdir.h"

struct store_fixture {
    char dir[64];
    char path[96];
    struct gh_store_handle h;
};

/** Creates the directory and opens a fresh store in it; 0 on success. */
static int store_fixture_open(struct store_fixture *f)
{
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-test-crypto-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/gh.db", f->dir);
    return gh_store_open("sqlite", f->path, 5000, &f->h) == GH_OK ? 0 : -1;
}

/** Closes the store and removes the directory. */
static void store_fixture_close(struct store_fixture *f)
{
    gh_store_close(&f->h);
    (void)remove_tree(f->dir);
}

#endif

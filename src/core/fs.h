#ifndef GH_CORE_FS_H
#define GH_CORE_FS_H

#include "core/err.h"

/**
 * mkdir -p: creates path and its missing parents, each with mode. GH_ERR_INVALID for an
 * empty or too long path, GH_ERR_IO when a directory cannot be made.
 */
gh_err gh_mkdir_p(const char *path, unsigned mode) GH_WUR GH_NONNULL(1);

/** mkdir -p of the directory that holds the file path (none for a bare name or "/x"). */
gh_err gh_mkdir_parent(const char *path, unsigned mode) GH_WUR GH_NONNULL(1);

#endif

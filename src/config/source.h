#ifndef GH_CONFIG_SOURCE_H
#define GH_CONFIG_SOURCE_H

#include "config/conf.h"
#include "core/err.h"

/* Private to config/: reading a YAML file and the environment through a key table. */

/**
 * Reads the YAML file path into target through t: a mapping of sections (and top-level
 * keys) whose keys are t's. GH_ERR_IO when it cannot be opened, GH_ERR_INVALID with err
 * "path:line: key: expected ..., got \"...\"" (unknown keys, duplicates, bad values);
 * target may be partly written then.
 */
gh_err gh_source_file(const struct gh_conf_table *t, void *target, const char *path, char *err,
                      size_t err_size) GH_WUR GH_NONNULL(1, 2, 3, 4);

/**
 * Reads GATEHOUSE_<KEY PATH> variables of envp (NULL-terminated "NAME=value" strings)
 * into target for each key of t; other variables are ignored. GH_ERR_INVALID with err
 * "NAME: expected ..., got \"...\"".
 */
gh_err gh_source_env(const struct gh_conf_table *t, void *target, char *const *envp, char *err,
                     size_t err_size) GH_WUR GH_NONNULL(1, 2, 3, 4);

#endif

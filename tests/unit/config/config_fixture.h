#ifndef GH_TESTS_CONFIG_FIXTURE_H
#define GH_TESTS_CONFIG_FIXTURE_H
/* Loading a configuration from a YAML text and an environment, for test_config.c and
 * test_config_finish.c (after cmocka.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

static char *const NO_ENV[] = {NULL};

/* Writes text to a new temporary file; its path goes into path (unlink it after). */
static inline void write_file(char path[64], const char *text)
{
    snprintf(path, 64, "/tmp/gh-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

/* Loads yaml (NULL: no file) and env over the defaults; err receives the message. */
static inline gh_err load(struct gh_config *c, const char *yaml, char *const *env, char *err,
                          size_t size)
{
    char path[64];
    gh_config_defaults(c);
    err[0] = '\0';
    if (yaml == NULL)
        return gh_config_load(c, NULL, env, err, size);
    write_file(path, yaml);
    gh_err e = gh_config_load(c, path, env, err, size);
    /* Messages start with the path; tests compare what follows it. */
    size_t n = strlen(path);
    if (strncmp(err, path, n) == 0)
        memmove(err, err + n, strlen(err + n) + 1);
    unlink(path);
    return e;
}

/* Loads one variable NAME=value and expects GH_ERR_INVALID with exactly message. */
static inline void env_rejects(const char *assignment, const char *message)
{
    struct gh_config c;
    char err[512];
    char *env[] = {(char *)assignment, NULL};
    assert_int_equal(load(&c, NULL, env, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err, message);
}

static inline void env_accepts(const char *assignment, struct gh_config *c)
{
    char err[512];
    char *env[] = {(char *)assignment, NULL};
    gh_err e = load(c, NULL, env, err, sizeof(err));
    if (e != GH_OK)
        fail_msg("%s: %s", assignment, err);
}

/* Loads a YAML text and expects GH_ERR_INVALID with message (after the file name). */
static inline void yaml_rejects(const char *yaml, const char *message)
{
    struct gh_config c;
    char err[512];
    assert_int_equal(load(&c, yaml, NO_ENV, err, sizeof(err)), GH_ERR_INVALID);
    assert_string_equal(err, message);
}

#endif

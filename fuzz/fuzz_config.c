/* libFuzzer target: the YAML configuration loader. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/gh-fuzz-config-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    if (write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    struct gh_config cfg;
    char err[512];
    char *const env[] = {NULL};
    gh_config_defaults(&cfg);
    gh_err r = gh_config_load(&cfg, path, env, err, sizeof(err));
    (void)r;
    unlink(path);
    return 0;
}

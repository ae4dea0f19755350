/* libFuzzer target: log scrubbing of URIs; a token= value must never survive. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_buf out;
    gh_buf_init(&out, 3 * size + 64);
    if (gh_log_scrub_uri(&out, (const char *)data, size) == GH_OK && out.ptr != NULL) {
        const char *q = memchr(out.ptr, '?', out.len);
        /* every "token=" parameter in the query is followed by the redaction marker */
        for (const char *p = q; p != NULL && (p = strstr(p, "token=")) != NULL; p++) {
            if ((p[-1] == '?' || p[-1] == '&' || p[-1] == ';') && strncmp(p + 6, "***REDACTED***", 14) != 0)
                abort();
        }
    }
    gh_buf_clear(&out);
    return 0;
}

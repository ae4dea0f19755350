/*
 * libFuzzer target: gh_sql_check, the SQL safety check. Whatever it allows must stay
 * one statement: the same text followed by a newline and "; DROP TABLE t" is refused
 * (so nothing it allows can end inside a string, comment or statement it misread).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/sqlcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char tail[] = "\n; DROP TABLE t";
    struct gh_sql_verdict v;
    if (gh_sql_check((const char *)data, size, &v) != GH_OK || v.reason == NULL)
        abort();
    if (!v.allowed || size + sizeof(tail) > GH_SQL_MAX)
        return 0;
    char *more = malloc(size + sizeof(tail));
    if (more == NULL)
        return 0;
    memcpy(more, data, size);
    memcpy(more + size, tail, sizeof(tail) - 1);
    if (gh_sql_check(more, size + sizeof(tail) - 1, &v) != GH_OK || v.allowed)
        abort();
    free(more);
    return 0;
}

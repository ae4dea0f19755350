#include "core/text.h"

#include <string.h>

int gh_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

gh_err gh_copy_field(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        return GH_ERR_INVALID;
    memcpy(dst, src, n + 1);
    return GH_OK;
}

/* Test helper: hexadecimal known-answer vectors into bytes. */
#ifndef GH_TEST_KAT_H
#define GH_TEST_KAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** Decodes hex into out (at most cap bytes); returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n && i < cap; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 32) - 'a' + 10);
        }
        out[i] = (uint8_t)v;
    }
    return n < cap ? n : cap;
}

#endif

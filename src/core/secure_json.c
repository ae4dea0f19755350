#include "core/secure_json.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <jansson.h>
#include <sodium.h>

/* The header keeps the block's size; its length keeps the user pointer max_align_t aligned. */
#define HEADER sizeof(max_align_t)
_Static_assert(sizeof(max_align_t) >= sizeof(size_t), "the header holds a size_t");

static atomic_uint_fast64_t wiped_blocks;
static atomic_uint_fast64_t wiped_bytes;
static void (*observer)(const unsigned char *block, size_t len, void *arg);
static void *observer_arg;

static void *wiping_malloc(size_t size)
{
    if (size > SIZE_MAX - HEADER)
        return NULL;
    unsigned char *base = malloc(HEADER + size);
    if (base == NULL)
        return NULL;
    *(size_t *)(void *)base = size;
    return base + HEADER;
}

static void wiping_free(void *p)
{
    if (p == NULL)
        return;
    unsigned char *base = (unsigned char *)p - HEADER;
    size_t len = HEADER + *(size_t *)(void *)base;
    sodium_memzero(base, len);
    atomic_fetch_add_explicit(&wiped_blocks, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&wiped_bytes, len, memory_order_relaxed);
    if (observer != NULL)
        observer(base, len, observer_arg);
    free(base);
}

void gh_secure_json_install(void)
{
    json_set_alloc_funcs(wiping_malloc, wiping_free);
}

void gh_secure_json_free(void *p)
{
    json_free_t release = NULL;
    json_get_alloc_funcs(NULL, &release);
    release(p);
}

void gh_secure_json_stats(struct gh_secure_json_stats *out)
{
    out->blocks = atomic_load_explicit(&wiped_blocks, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&wiped_bytes, memory_order_relaxed);
}

void gh_secure_json_set_observer(void (*fn)(const unsigned char *block, size_t len, void *arg),
                                 void *arg)
{
    observer = fn;
    observer_arg = arg;
}

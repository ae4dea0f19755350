#ifndef GH_CORE_SECURE_JSON_H
#define GH_CORE_SECURE_JSON_H

#include <stddef.h>
#include <stdint.h>

/*
 * jansson through a wiping allocator. Request bodies, responses and token claims pass
 * through jansson strings and json_dumps text; with the allocator installed every block
 * jansson frees is wiped first, so no token or password is left in freed memory.
 */

/** What the wiping free has done since the process started (relaxed counters). */
struct gh_secure_json_stats {
    uint64_t blocks; /* blocks wiped and freed */
    uint64_t bytes;  /* bytes wiped, headers included */
};

/**
 * Makes jansson allocate through malloc with a size header (aligned for max_align_t) and
 * free through sodium_memzero of the whole block, then free. Call once at process start,
 * before any jansson value exists: a value allocated before cannot be freed after.
 */
void gh_secure_json_install(void);

/**
 * Releases memory jansson handed out (json_dumps text) through jansson's current free
 * function, so it is wiped when the allocator is installed. Never free() such text.
 * Accepts NULL.
 */
void gh_secure_json_free(void *p);

/** Copies the counters into out. */
void gh_secure_json_stats(struct gh_secure_json_stats *out) __attribute__((nonnull(1)));

/**
 * For tests: fn sees each block (len bytes, header included) after it is wiped and before
 * it is freed. NULL removes it. Not thread-safe: set it while no other thread uses jansson.
 */
void gh_secure_json_set_observer(void (*fn)(const unsigned char *block, size_t len, void *arg),
                                 void *arg);

#endif

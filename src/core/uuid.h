#ifndef GH_CORE_UUID_H
#define GH_CORE_UUID_H

#include "core/err.h"

#define GH_UUID_STR 37 /* 36 characters and a NUL */

/**
 * Writes a new UUIDv7 (RFC 9562: 48-bit millisecond time, then CSPRNG bits) in
 * lower-case text form. Time-ordered ids keep B-tree inserts local.
 */
void gh_uuid_v7(char out[GH_UUID_STR]) GH_NONNULL(1);

/** Non-zero when s (len bytes) is a UUID in canonical lower- or upper-case text form. */
int gh_uuid_valid(const char *s, unsigned long len) GH_NONNULL(1);

#endif

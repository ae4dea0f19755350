#ifndef GH_AUTHN_FIELDS_H
#define GH_AUTHN_FIELDS_H

#include <stddef.h>
#include "core/err.h"

/* The fields of a user record as registration and user admin accept them. */

/** 1 for 3-64 of [A-Za-z0-9._-]. */
int gh_field_username_ok(const char *s) GH_NONNULL(1);

/**
 * 1 for a pragmatic address: one '@', a non-empty local part, a non-empty domain (a
 * single label too) not starting or ending with '.', no blanks, control characters or
 * <>",; and at most 254 bytes. Deliverability is the mail system's business.
 */
int gh_field_email_ok(const char *s) GH_NONNULL(1);

/** 1 for at most max bytes without control characters (a full name). */
int gh_field_text_ok(const char *s, size_t max) GH_NONNULL(1);

#endif

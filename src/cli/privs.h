#ifndef GH_CLI_PRIVS_H
#define GH_CLI_PRIVS_H

#include <stddef.h>

#include "core/err.h"

/*
 * What the process may do to itself: no core dumps (a dump holds keys, tokens and
 * passwords), and serving as an unprivileged user once the privileged set-up is done.
 */

/**
 * Turns core dumps off: RLIMIT_CORE 0 (soft and hard) and PR_SET_DUMPABLE 0, which also
 * makes /proc/PID files root's and keeps other processes of the same user from
 * attaching. GH_ERR_IO when a call fails.
 */
gh_err gh_privs_no_core_dumps(void) GH_WUR;

/**
 * Becomes user (a name from the password database) for good: first gives it data_dir and
 * everything under it (fchownat on directory descriptors, symlinks not followed, so keys
 * rotated and files created later stay writable), then setgroups/initgroups, setgid and
 * setuid, and checks that root cannot be regained. Files opened before stay open. When
 * the process already runs as user, nothing changes. dumpable says whether core dumps
 * stay allowed (a uid change resets the dumpable flag). GH_ERR_NOT_FOUND for an unknown
 * user, GH_ERR_IO when the process may not change its ids or a call fails; why (why_size
 * bytes) then says what failed.
 */
gh_err gh_privs_drop(const char *user, const char *data_dir, int dumpable, char *why,
                     size_t why_size) GH_WUR GH_NONNULL(1, 2, 4);

#endif

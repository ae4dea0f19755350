#ifndef GH_API_LOGINWAIT_H
#define GH_API_LOGINWAIT_H

#include <stdint.h>
#include "core/cache.h"
#include "core/err.h"
#include "http/http.h"

/*
 * The login backoff (edge/backoff) at the edge of every sign-in step, for the API and the
 * pages alike: the keys of an attempt, the wait before it, the result after it.
 */

/** The backoff keys of an attempt: the account (as typed, folded) and the client. */
struct gh_login_keys {
    char account[GH_CACHE_KEY_MAX + 1];
    char client[72];
};

/**
 * The keys of an attempt on login (kind 'u': a login name as typed; 'm': an MFA
 * challenge, so that many clients guessing at one wait together) into *keys, and the
 * seconds it must still wait (0: none, or the backoff is off). A wait is counted in the
 * metrics and audited RATE_LIMITED; the caller answers 429 with Retry-After. An unknown
 * account backs off exactly like a real one: the answer tells nothing.
 */
int64_t gh_api_login_wait(struct gh_req *req, char kind, const char *login,
                          struct gh_login_keys *keys) GH_NONNULL(1, 3, 4);

/**
 * After the attempt: GH_ERR_AUTH or GH_ERR_REUSED (a wrong password or code) makes the
 * account and the client wait longer; GH_OK clears the account (not the client: one
 * valid account must not reset an address that guesses at others) unless a second
 * factor is still to come (partial); counted in the metrics.
 */
void gh_api_login_result(struct gh_req *req, const struct gh_login_keys *keys, gh_err err,
                         int partial) GH_NONNULL(1, 2);

#endif

#ifndef GH_AUTHN_SESSION_H
#define GH_AUTHN_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "audit/audit.h"
#include "authn/views.h"
#include "core/err.h"
#include "store/store.h"

/*
 * Browser sessions: the gh_sid cookie (32 random bytes, base64url) names a session stored
 * only as its SHA-256. A session lives until its absolute timeout and dies after its idle
 * timeout; last use is written at most once per GH_SESSION_TOUCH seconds, so the common
 * check reads no database: sessions are cached by hash, each under the generation of its
 * user's view (authn/views), so that any revocation of the user, here or on another node
 * through the feed, makes the next check read the session again. Its CSRF token is an
 * HMAC of the session under the server's key (signed double submit): a cookie and header
 * pair planted by someone else never matches the victim's session.
 */

#define GH_SID_TEXT 44      /* 32 bytes as base64url (43) and a NUL */
#define GH_CSRF_TEXT 44     /* HMAC-SHA256 as base64url (43) and a NUL */
#define GH_SESSION_TOUCH 60 /* seconds between writes of a session's last use */
#define GH_SESSION_KEY_LEN 32

struct gh_sessions;

struct gh_session_opts {
    int64_t idle_timeout;     /* session.idle_timeout seconds */
    int64_t absolute_timeout; /* session.absolute_timeout seconds */
    size_t cache_size;        /* entries of the session cache (at least 1) */
};

/** store and views must outlive the sessions; key (the CSRF HMAC key) is copied. */
gh_err gh_sessions_new(const struct gh_session_opts *opts, const struct gh_store_handle *store,
                       struct gh_views *views, const unsigned char key[GH_SESSION_KEY_LEN],
                       struct gh_sessions **out) GH_WUR GH_NONNULL(1, 2, 3, 4, 5);
/** Wipes the key. Accepts NULL. */
void gh_sessions_free(struct gh_sessions *s);

/**
 * Starts a session of user_id in org_id after a completed sign-in (method: "password",
 * "password+totp", "backup_code"), tied to the refresh family family_id of the refresh
 * token issued with it. sid gets the cookie value, csrf its CSRF token; *out (may be NULL)
 * the stored record. GH_ERR_NOT_FOUND unknown user.
 */
gh_err gh_session_start(struct gh_sessions *s, const char *user_id, const char *org_id,
                        const char *family_id, const char *method, const struct gh_reqmeta *meta,
                        char sid[GH_SID_TEXT], char csrf[GH_CSRF_TEXT]) GH_WUR
    GH_NONNULL(1, 2, 3, 4, 5, 7, 8);

/**
 * The credential check of a session cookie value (len bytes): GH_OK fills *out (cred
 * GH_CRED_SESSION, session_id set, expires_at the absolute timeout). GH_ERR_AUTH for a
 * malformed, unknown or revoked session; GH_ERR_EXPIRED past the idle or absolute
 * timeout; GH_ERR_REVOKED when the user was disabled or left the session's org;
 * GH_ERR_IO storage failed.
 */
gh_err gh_session_check(struct gh_sessions *s, const char *sid, size_t len, int64_t now,
                        struct gh_identity *out) GH_WUR GH_NONNULL(1, 2, 5);

/** The CSRF token of the session whose cookie value is sid (len bytes). */
gh_err gh_session_csrf(const struct gh_sessions *s, const char *sid, size_t len,
                       char out[GH_CSRF_TEXT]) GH_WUR GH_NONNULL(1, 2, 4);

/** Whether token (len bytes) is the CSRF token of session sid (constant time). */
int gh_session_csrf_ok(const struct gh_sessions *s, const char *sid, size_t sid_len,
                       const char *token, size_t len) GH_NONNULL(1, 2, 4);

/**
 * Ends the session whose cookie value is sid with its refresh family (logout). An unknown
 * or dead session is GH_OK (no oracle). Audited LOGOUT.
 */
gh_err gh_session_logout(struct gh_sessions *s, const char *sid, size_t len,
                         const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2);

/**
 * Records a re-authentication of who's session (who->session_id) at time at: the session
 * and its refresh family carry it from now on, here and on every node (the feed).
 * GH_ERR_AUTH the session died meanwhile.
 */
gh_err gh_session_reauth(struct gh_sessions *s, const struct gh_identity *who, int64_t at) GH_WUR
    GH_NONNULL(1, 2);

/** Visits user_id's live sessions, newest first (those past their idle timeout left out). */
gh_err gh_session_list(struct gh_sessions *s, const char *user_id, size_t limit, size_t offset,
                       gh_session_visit_fn fn, void *arg) GH_WUR GH_NONNULL(1, 2, 5);

/**
 * Revokes who's session id (one of who's own; GH_ERR_NOT_FOUND otherwise), with its
 * refresh family; it fails at its next check here and on every node. Audited
 * SESSION_REVOKED.
 */
gh_err gh_session_revoke(struct gh_sessions *s, const struct gh_identity *who, const char *id,
                         const struct gh_reqmeta *meta) GH_WUR GH_NONNULL(1, 2, 3);

/** Hits and misses of the session cache since start. */
void gh_session_cache_stats(struct gh_sessions *s, uint64_t *hits, uint64_t *misses)
    GH_NONNULL(1, 2, 3);

#endif

#ifndef GH_AUTHN_MFA_H
#define GH_AUTHN_MFA_H

#include <stddef.h>
#include <stdint.h>
#include "audit/audit.h"
#include "authn/totp.h"
#include "authn/views.h"
#include "core/buf.h"
#include "core/err.h"
#include "crypto/datakeys.h"
#include "store/store.h"

/*
 * The second factor: TOTP enrolment (setup, then confirm with a first code, which gives
 * ten single-use backup codes), the login's challenge (a single-use mfa_token valid five
 * minutes) and its answer (a TOTP code of the current step or one either side, never a
 * step used before; or a backup code), and disabling (password and code). The TOTP secret
 * is stored sealed (crypto/field: enc:v1, field "totp:<user id>"); backup codes as HMACs
 * under a server key. Every failure is audited MFA_FAILED; every state change MFA_ENABLED,
 * MFA_DISABLED, BACKUP_CODE_USED.
 */

#define GH_MFA_TOKEN_TEXT 44   /* 32 random bytes as base64url and a NUL */
#define GH_BACKUP_CODE_TEXT 12 /* "xxxxx-xxxxx" and a NUL */
#define GH_MFA_KEY_LEN 32
#define GH_MFA_CHALLENGE_TTL 300

struct gh_mfas;

/**
 * store and dk (the data keys that seal TOTP secrets; NULL: none, every TOTP use is
 * GH_ERR_IO) must outlive it; key (the HMAC key of backup codes) is copied.
 */
gh_err gh_mfas_new(const struct gh_store_handle *store, struct gh_datakeys *dk,
                   const unsigned char key[GH_MFA_KEY_LEN], struct gh_mfas **out) GH_WUR
    GH_NONNULL(1, 3, 4);
/** Wipes the keys. Accepts NULL. */
void gh_mfas_free(struct gh_mfas *m);

/** *on: whether user_id has an enabled TOTP factor. */
gh_err gh_mfa_enabled(struct gh_mfas *m, const char *user_id, int *on) GH_WUR GH_NONNULL(1, 2, 3);

/** What a new enrolment shows the user, once. */
struct gh_mfa_enrolment {
    char secret[GH_TOTP_SECRET_TEXT]; /* base32 */
    char uri[256];                    /* otpauth://totp/... */
};

/**
 * Starts (or restarts) who's enrolment: a new secret, stored sealed and waiting for its
 * first code; *out and the QR code of the URI appended to qr_svg (see core/qr.h).
 * GH_ERR_CONFLICT when a factor is enabled already. The caller wipes *out.
 */
gh_err gh_mfa_setup(struct gh_mfas *m, const struct gh_identity *who, struct gh_mfa_enrolment *out,
                    struct gh_buf *qr_svg) GH_WUR GH_NONNULL(1, 2, 3, 4);

/**
 * Enables who's waiting factor with its first code and fills codes with ten new backup
 * codes (shown once; the caller wipes them). GH_ERR_NOT_FOUND nothing waits,
 * GH_ERR_AUTH a wrong code, GH_ERR_INVALID a code that is not 6 digits.
 */
gh_err gh_mfa_confirm(struct gh_mfas *m, const struct gh_identity *who, const char *code,
                      const struct gh_reqmeta *meta,
                      char codes[GH_BACKUP_CODES][GH_BACKUP_CODE_TEXT]) GH_WUR
    GH_NONNULL(1, 2, 3, 5);

/**
 * Removes who's factor and backup codes; password (len bytes) must be the user's and code
 * a current TOTP or an unused backup code. GH_ERR_AUTH either wrong, GH_ERR_NOT_FOUND
 * no enabled factor.
 */
gh_err gh_mfa_disable(struct gh_mfas *m, const struct gh_identity *who, const char *password,
                      size_t len, const char *code, const struct gh_reqmeta *meta) GH_WUR
    GH_NONNULL(1, 2, 3, 5);

/**
 * Checks who's code (a TOTP or unused backup code, which it spends) outside a login: a
 * re-authentication. *method gets "password+totp" or "backup_code". GH_ERR_AUTH wrong (or
 * no factor), GH_ERR_REUSED a time step used before; both audited MFA_FAILED.
 */
gh_err gh_mfa_prove(struct gh_mfas *m, const struct gh_identity *who, const char *code,
                    const struct gh_reqmeta *meta, const char **method) GH_WUR
    GH_NONNULL(1, 2, 3, 5);

/** A login of user u (for org_id, NULL: the primary org) waiting for its second factor. */
gh_err gh_mfa_challenge(struct gh_mfas *m, const struct gh_user *u, const char *org_id,
                        char token[GH_MFA_TOKEN_TEXT]) GH_WUR GH_NONNULL(1, 2, 4);

/** A login answered: whose, for which org ("" the primary), by which method. */
struct gh_mfa_passed {
    struct gh_user user;
    char org_id[GH_UUID_LEN + 1];
    const char *method; /* "password+totp" or "backup_code" */
};

/**
 * Answers the challenge token with code (a TOTP or backup code). GH_OK spends the token
 * and fills *out. GH_ERR_NOT_FOUND unknown, used or expired token; GH_ERR_AUTH wrong
 * code; GH_ERR_REUSED a code of a time step used before (both leave the token live).
 */
gh_err gh_mfa_answer(struct gh_mfas *m, const char *token, const char *code,
                     const struct gh_reqmeta *meta, struct gh_mfa_passed *out) GH_WUR
    GH_NONNULL(1, 2, 3, 5);

#endif

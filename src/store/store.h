#ifndef GH_STORE_STORE_H
#define GH_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "store/records.h"

/*
 * The storage interface. Services see only these typed records and the ops table;
 * no SQL and no backend type leaves a backend. All times are unix seconds (UTC).
 * Every op is safe to call from several threads at once. Ops return GH_ERR_IO when
 * the backend fails (the message goes to the log, never to a client), GH_ERR_BUSY when
 * a lock or a free connection was not had within the busy timeout, and GH_ERR_NOT_FOUND
 * when a record refers to a user, org or role that does not exist.
 */

struct gh_store;

/** Callback for list ops; return non-zero to stop early. */
typedef int (*gh_user_visit_fn)(void *arg, const struct gh_user *user);
typedef int (*gh_api_key_visit_fn)(void *arg, const struct gh_api_key *key);
typedef int (*gh_audit_visit_fn)(void *arg, const struct gh_audit_row *row);
typedef int (*gh_checkpoint_visit_fn)(void *arg, const struct gh_audit_checkpoint *cp);
typedef int (*gh_org_visit_fn)(void *arg, const struct gh_org *org);
typedef int (*gh_role_visit_fn)(void *arg, const struct gh_role *role);
typedef int (*gh_member_visit_fn)(void *arg, const struct gh_member *member);
typedef int (*gh_name_visit_fn)(void *arg, const char *name);
typedef int (*gh_invitation_visit_fn)(void *arg, const struct gh_invitation *inv);
typedef int (*gh_data_key_visit_fn)(void *arg, const struct gh_data_key *key);
typedef int (*gh_vault_item_visit_fn)(void *arg, const struct gh_vault_item *item);
typedef int (*gh_vault_entry_visit_fn)(void *arg, const struct gh_vault_entry *e);
typedef int (*gh_session_visit_fn)(void *arg, const struct gh_session *s);
typedef int (*gh_sso_provider_visit_fn)(void *arg, const struct gh_sso_provider *p);
typedef int (*gh_sso_link_visit_fn)(void *arg, const struct gh_sso_link *l);
/** Told each user whose access a change altered (the change is also in the revocation feed). */
typedef void (*gh_affected_fn)(void *arg, const char *user_id);
/**
 * The audit chain's record hash (audit/chain.h gh_audit_hash): out = the hash of record seq
 * ev chained after prev. The store calls it inside audit_append's transaction, where the
 * chain's end is known; the encoding belongs to the audit module, not to a backend.
 */
typedef void (*gh_audit_hash_fn)(int64_t seq, const struct gh_audit_event *ev,
                                 const unsigned char prev[GH_HASH_LEN],
                                 unsigned char out[GH_HASH_LEN]);

/*
 * The ops of a backend, grouped by domain. Callers use the gh_store_* wrappers below, never
 * the table. The ops hold data rules (uniqueness, references, the revocation feed) and no
 * business rule: who may be removed, what an org's deletion revokes, the last admin of an
 * org are decided by the services (authz/rbac.c, authn/service.c), inside a transaction
 * (tx_begin) where the check and the write must not be separated.
 */
struct gh_store_ops {
    const char *name; /* "sqlite" */

    /* ---- core ---- */

    /* Opens (creating if needed) and applies pending migrations. dsn: a file path for
     * sqlite. busy_timeout_ms bounds waits for locks. */
    gh_err (*open)(const char *dsn, unsigned busy_timeout_ms, struct gh_store **out);
    void (*close)(struct gh_store *st);
    /* GH_OK when the backend answers a trivial query and no write failed with an I/O
     * error (disk full, read-only, I/O) in the last 10 s: readiness reflects that writes
     * fail, without writing on every probe. */
    gh_err (*ping)(struct gh_store *st);
    /*
     * Starts a transaction on one connection of st and gives it as *tx: a store every op
     * accepts, whose ops all run in that transaction (ops that are atomic on their own
     * join it rather than nest). The write lock is taken at the start (SQLite: BEGIN
     * IMMEDIATE; PostgreSQL: the rows' locks), so two transactions that read then write
     * serialise: a check made in one holds until its tx_end. The holder calls tx_end
     * exactly once and makes no call on st meanwhile (the pool is not reentrant).
     * GH_ERR_BUSY no connection or lock within the busy timeout.
     */
    gh_err (*tx_begin)(struct gh_store *st, struct gh_store **tx);
    /* Commits tx when err is GH_OK, else rolls it back (an op that failed inside may have
     * left part of its effect: only the rollback undoes it); frees tx. Returns err, or
     * the commit's own failure. */
    gh_err (*tx_end)(struct gh_store *tx, gh_err err);
    /* Backups (cli/backup.c). snapshot writes a consistent copy of the whole database to
     * the new file path (mode 0600) while others go on reading and writing; restore
     * replaces the database at dsn with such a copy (GH_ERR_INVALID: path is not one, or
     * is damaged; nothing changed). NULL where a backend has its own tools (pg_dump). */
    gh_err (*snapshot)(struct gh_store *st, const char *path);
    gh_err (*restore)(const char *dsn, const char *path, unsigned busy_timeout_ms);

    /* ---- users ---- */

    /* Unique username / email (case-insensitive) violations -> GH_ERR_CONFLICT.
     * password_hash: the PHC / crypt(3) string (GH_ERR_TOO_LARGE past GH_PASSWORD_HASH_LEN). */
    gh_err (*user_create)(struct gh_store *st, const struct gh_user *u, const char *password_hash);
    /* The display reads: never the password hash. */
    gh_err (*user_get)(struct gh_store *st, const char *id, struct gh_user *out);
    /* login is a username or an email, matched without regard to case. */
    gh_err (*user_find_login)(struct gh_store *st, const char *login, struct gh_user *out);
    /* The credential check's read: user id's password hash. GH_ERR_NOT_FOUND unknown id. */
    gh_err (*user_get_credentials)(struct gh_store *st, const char *id, struct gh_credentials *out);
    gh_err (*user_list)(struct gh_store *st, size_t limit, size_t offset, gh_user_visit_fn fn,
                        void *arg);
    /* The users who are members of org_id, like user_list. */
    gh_err (*user_list_org)(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                            gh_user_visit_fn fn, void *arg);
    gh_err (*user_count)(struct gh_store *st, int64_t *out);
    /* Writes full_name, email, disabled and superadmin of u (by u->id); when revoke, also
     * what user_revoke_all does, else appends the user to the revocation feed.
     * GH_ERR_CONFLICT email taken, GH_ERR_NOT_FOUND unknown id. */
    gh_err (*user_update)(struct gh_store *st, const struct gh_user *u, int revoke, int64_t now);
    /* Replaces the hash; when bump_epoch, also increments token_epoch and revokes every
     * refresh token of the user, in one transaction; *new_epoch gets the user's epoch
     * (unchanged when !bump_epoch). GH_ERR_NOT_FOUND unknown id. */
    gh_err (*user_set_password)(struct gh_store *st, const char *id, const char *hash,
                                int bump_epoch, int64_t now, int64_t *new_epoch);
    /* Sets disabled, increments token_epoch and revokes refresh tokens (one transaction). */
    gh_err (*user_set_disabled)(struct gh_store *st, const char *id, int disabled, int64_t now,
                                int64_t *new_epoch);
    /* Increments token_epoch and revokes every refresh token and session (logout-all);
     * every op here that increments token_epoch revokes the sessions too. */
    gh_err (*user_revoke_all)(struct gh_store *st, const char *id, int64_t now, int64_t *new_epoch);
    /* GH_ERR_NOT_FOUND when user_id is not a member of org_id. */
    gh_err (*user_set_primary_org)(struct gh_store *st, const char *user_id, const char *org_id);
    /* Users whose primary org is org_id (only user_id when not NULL) get their oldest other
     * membership's org as primary (none: no primary org). */
    gh_err (*user_primary_reassign)(struct gh_store *st, const char *org_id, const char *user_id);
    /* Deletes the user row and the rows that cannot outlive it (tokens, keys, memberships)
     * and appends the user to the revocation feed, in one transaction. GH_ERR_NOT_FOUND. */
    gh_err (*user_delete)(struct gh_store *st, const char *id, int64_t now);

    /* ---- orgs ---- */

    /* The org and its system roles "admin" and "member" with these permissions, atomically. */
    gh_err (*org_create)(struct gh_store *st, const struct gh_org *org,
                         const char *admin_permissions, const char *member_permissions);
    gh_err (*org_get)(struct gh_store *st, const char *id, struct gh_org *out);
    /* The org named name, any case; names repeat: GH_ERR_CONFLICT when several bear it. */
    gh_err (*org_find_name)(struct gh_store *st, const char *name, struct gh_org *out);
    /* The orgs of user_id (NULL: every org), by name. */
    gh_err (*org_list)(struct gh_store *st, const char *user_id, size_t limit, size_t offset,
                       gh_org_visit_fn fn, void *arg);
    /* Names repeat: another org's name is no conflict. */
    gh_err (*org_rename)(struct gh_store *st, const char *id, const char *name);
    /* Deletes the org row and the rows that cannot outlive it (its roles, memberships,
     * invitations and API keys), appending its members to the revocation feed and telling
     * affected (may be NULL) about each, in one transaction. What else the deletion
     * revokes is the caller's to do (refresh_revoke_org, user_primary_reassign).
     * GH_ERR_NOT_FOUND. */
    gh_err (*org_delete)(struct gh_store *st, const char *id, int64_t now, gh_affected_fn affected,
                         void *arg);

    /*
     * ---- roles and memberships ----
     * Every op on an org-owned row takes the org id and matches it in the backend, so a row
     * of another org is GH_ERR_NOT_FOUND. Every change that alters what a user may do
     * appends the user to the revocation feed in the same transaction and tells affected
     * (which may be NULL) about the user, so callers drop cached views at once.
     */
    gh_err (*role_list)(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                        gh_role_visit_fn fn, void *arg);
    gh_err (*role_get)(struct gh_store *st, const char *org_id, const char *role_id,
                       struct gh_role *out);
    /* A custom role (role->system is ignored: always 0). GH_ERR_CONFLICT name taken in org;
     * GH_ERR_NOT_FOUND no such org. */
    gh_err (*role_create)(struct gh_store *st, const struct gh_role *role);
    /* Sets name and/or permissions (NULL: unchanged); the role's members are affected. */
    gh_err (*role_update)(struct gh_store *st, const char *org_id, const char *role_id,
                          const char *name, const char *permissions, int64_t now,
                          gh_affected_fn affected, void *arg);
    /* GH_ERR_CONFLICT while members hold the role (they refer to it). */
    gh_err (*role_delete)(struct gh_store *st, const char *org_id, const char *role_id);
    /* Adds user to org with the org's system role role_name ("admin" or "member"). */
    gh_err (*member_add)(struct gh_store *st, const char *org_id, const char *user_id,
                         const char *role_name, int64_t now);
    gh_err (*member_get)(struct gh_store *st, const char *org_id, const char *user_id,
                         struct gh_membership *out);
    /* Fills up to max memberships of user, ordered by org name; *n gets the count. */
    gh_err (*member_list_user)(struct gh_store *st, const char *user_id, struct gh_membership *out,
                               size_t max, size_t *n);
    /* The org's members by username. */
    gh_err (*member_list_org)(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                              gh_member_visit_fn fn, void *arg);
    /* *n: how many members of org_id hold its system role "admin". */
    gh_err (*member_count_admins)(struct gh_store *st, const char *org_id, int64_t *n);
    /* Gives the member the org's role role_name. GH_ERR_NOT_FOUND not a member;
     * GH_ERR_INVALID no such role in the org. */
    gh_err (*member_set_role)(struct gh_store *st, const char *org_id, const char *user_id,
                              const char *role_name, int64_t now);
    /* Deletes the membership and moves the user's epoch in that org forward (kept past the
     * membership: an access token names its org and carries that epoch, so a re-add revives
     * none; the user's tokens for other orgs live on). GH_ERR_NOT_FOUND not a member. The
     * rest it granted (refresh tokens, sessions, keys, primary org) is the caller's. */
    gh_err (*member_remove)(struct gh_store *st, const char *org_id, const char *user_id,
                            int64_t now);
    /* Makes each member of org_id that is a member of no other org a member of
     * fallback_org_id with its system role "member" (before org_id's deletion: every user
     * keeps an org); *n gets how many. The caller appends them to the feed (org_delete). */
    gh_err (*member_fallback)(struct gh_store *st, const char *org_id, const char *fallback_org_id,
                              int64_t now, int64_t *n);

    /*
     * ---- invitations ---- (pending -> accepted | declined | revoked). A pending one past
     * its expires_at is dead: it is listed nowhere and can only be revoked.
     *
     * invitation_create stores inv (its id, org_id, role_name, created_at and expires_at;
     * the rest is ignored) for user_id, made by invited_by (a user id, or NULL). It is stored
     * addressed to nobody, so that it can never be accepted, when user_id is NULL or not a
     * user, is already a member of the org, or already has a live invitation there: it
     * looks the same to the org either way. GH_ERR_NOT_FOUND no such org or no such role in
     * it; GH_ERR_CONFLICT inv->id taken.
     */
    gh_err (*invitation_create)(struct gh_store *st, const struct gh_invitation *inv,
                                const char *user_id, const char *invited_by);
    /* The live invitations of org_id, oldest first, as its admins see them (no invitee). */
    gh_err (*invitation_list_org)(struct gh_store *st, const char *org_id, int64_t now,
                                  size_t limit, size_t offset, gh_invitation_visit_fn fn,
                                  void *arg);
    /* The live invitations addressed to user_id, oldest first, with org name and inviter. */
    gh_err (*invitation_list_user)(struct gh_store *st, const char *user_id, int64_t now,
                                   size_t limit, size_t offset, gh_invitation_visit_fn fn,
                                   void *arg);
    /*
     * Consumes invitation id addressed to user_id and makes the user a member of its org
     * with its role, appending the user to the revocation feed, in one transaction: of
     * several concurrent accepts exactly one succeeds. *out (may be NULL) gets the
     * invitee's view of it. GH_ERR_NOT_FOUND no pending invitation id addressed to
     * user_id (another's, already answered, revoked, or its org or role gone);
     * GH_ERR_EXPIRED pending but dead at now; GH_ERR_CONFLICT already a member (nothing
     * changes).
     */
    gh_err (*invitation_accept)(struct gh_store *st, const char *user_id, const char *id,
                                int64_t now, struct gh_invitation *out);
    /* Marks invitation id addressed to user_id declined; errors as invitation_accept. */
    gh_err (*invitation_decline)(struct gh_store *st, const char *user_id, const char *id,
                                 int64_t now);
    /* Marks pending invitation id of org_id revoked (a dead one too). GH_ERR_NOT_FOUND
     * none pending in that org. */
    gh_err (*invitation_revoke)(struct gh_store *st, const char *org_id, const char *id,
                                int64_t now);
    /* Deletes the invitations answered, revoked or expired before cutoff; *n how many. */
    gh_err (*invitation_purge)(struct gh_store *st, int64_t cutoff, int64_t *n);

    /* ---- permissions declared through the API ---- GH_ERR_CONFLICT already declared. */
    gh_err (*perm_add)(struct gh_store *st, const char *name, int64_t now);
    gh_err (*perm_list)(struct gh_store *st, gh_name_visit_fn fn, void *arg);

    /* ---- refresh tokens ---- */

    /* The record of a live token (not spent, revoked or past expires_at at now), without
     * changing it: a peek before a refresh that switches org. GH_ERR_NOT_FOUND for an
     * unknown or dead token (the rotation then refuses it, detecting reuse). */
    gh_err (*refresh_get)(struct gh_store *st, const unsigned char hash[GH_HASH_LEN], int64_t now,
                          struct gh_refresh_token *out);
    gh_err (*refresh_insert)(struct gh_store *st, const struct gh_refresh_token *t);
    /*
     * Spends the token with hash old_hash and inserts next, atomically: exactly one of
     * several concurrent callers with the same old_hash succeeds. The caller fills next's
     * id, hash and times (it cannot know the rest); the backend fills next->user_id,
     * family_id and (unless the caller set it: a switch of org) org_id from the spent
     * token before inserting it (next is written on GH_OK only).
     * On GH_OK *spent gets the spent token's record. Errors:
     * GH_ERR_NOT_FOUND unknown hash; GH_ERR_EXPIRED past expires_at; GH_ERR_REVOKED
     * revoked (family or user); GH_ERR_REUSED already spent: the whole family and the
     * session it belongs to are then revoked, the user appended to the revocation feed,
     * before returning, and *spent gets the record (for the audit).
     */
    gh_err (*refresh_rotate)(struct gh_store *st, const unsigned char old_hash[GH_HASH_LEN],
                             struct gh_refresh_token *next, int64_t now,
                             struct gh_refresh_token *spent);
    /* Revokes one token by hash; GH_ERR_NOT_FOUND if unknown. *out gets the record. */
    gh_err (*refresh_revoke)(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                             int64_t now, struct gh_refresh_token *out);
    /* Revokes the live refresh tokens and sessions in org_id (only user_id's when not NULL). */
    gh_err (*refresh_revoke_org)(struct gh_store *st, const char *org_id, const char *user_id,
                                 int64_t now);
    /* Deletes tokens expired before cutoff; *n gets the count. */
    gh_err (*refresh_purge)(struct gh_store *st, int64_t cutoff, int64_t *n);

    /* ---- API keys ---- */

    /* GH_ERR_CONFLICT when the user has a live key of that name, GH_ERR_NOT_FOUND for an
     * unknown user or org. */
    gh_err (*apikey_create)(struct gh_store *st, const struct gh_api_key *key);
    gh_err (*apikey_find_hash)(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                               struct gh_api_key *out);
    /* The user's keys, revoked ones included, newest first. */
    gh_err (*apikey_list_user)(struct gh_store *st, const char *user_id, size_t limit,
                               size_t offset, gh_api_key_visit_fn fn, void *arg);
    /*
     * Revokes key id of user_id (id NULL: every live key of the user) and appends the user
     * to the revocation feed, in one transaction; *n gets how many keys were revoked now.
     * GH_ERR_NOT_FOUND when id is not a key of that user (revoking a revoked key is GH_OK).
     */
    gh_err (*apikey_revoke)(struct gh_store *st, const char *user_id, const char *id, int64_t now,
                            int64_t *n);
    /* Revokes user_id's live keys that act in org_id (no feed entry: the caller's change
     * that made them go appends it). */
    gh_err (*apikey_revoke_org)(struct gh_store *st, const char *org_id, const char *user_id,
                                int64_t now);
    /* Records last uses (one transaction); unknown ids are skipped. */
    gh_err (*apikey_touch)(struct gh_store *st, const struct gh_api_key_use *uses, size_t n);

    /* ---- browser sessions (and second factors below) ---- */

    /* GH_ERR_CONFLICT id or hash taken, GH_ERR_NOT_FOUND unknown user. */
    gh_err (*session_create)(struct gh_store *st, const struct gh_session *s);
    /* The session when live (not revoked, expires_at > now), else GH_ERR_NOT_FOUND. The idle
     * timeout (last_seen_at) is the caller's rule. */
    gh_err (*session_get)(struct gh_store *st, const unsigned char hash[GH_HASH_LEN], int64_t now,
                          struct gh_session *out);
    /* The user's live sessions, newest first. */
    gh_err (*session_list)(struct gh_store *st, const char *user_id, int64_t now, size_t limit,
                           size_t offset, gh_session_visit_fn fn, void *arg);
    /* Moves last_seen_at of session id forward to at (never back); unknown id: GH_OK. */
    gh_err (*session_touch)(struct gh_store *st, const char *id, int64_t at);
    /* Revokes user_id's live session id and its refresh family, appends the user to the
     * feed (one transaction). GH_ERR_NOT_FOUND not a live session of that user. */
    gh_err (*session_revoke)(struct gh_store *st, const char *user_id, const char *id, int64_t now);
    /* As session_revoke, but sets auth_time := at of the session and its live family. */
    gh_err (*session_reauth)(struct gh_store *st, const char *user_id, const char *id, int64_t at);
    /* Deletes sessions and MFA challenges dead before cutoff; *n: how many. */
    gh_err (*session_purge)(struct gh_store *st, int64_t cutoff, int64_t *n);
    /* The user's TOTP factor; GH_ERR_NOT_FOUND none. */
    gh_err (*mfa_get)(struct gh_store *st, const char *user_id, struct gh_mfa *out);
    /* Stores m as the user's factor waiting for its first code (replacing one that waits).
     * GH_ERR_CONFLICT an enabled factor exists, GH_ERR_NOT_FOUND unknown user. */
    gh_err (*mfa_put)(struct gh_store *st, const struct gh_mfa *m);
    /* Enables the waiting factor with last_step step and replaces the backup codes by codes
     * (SHA-256), one transaction. GH_ERR_NOT_FOUND no waiting factor. */
    gh_err (*mfa_enable)(struct gh_store *st, const char *user_id, int64_t step,
                         const unsigned char codes[GH_BACKUP_CODES][GH_HASH_LEN]);
    /* Accepts time step step of the enabled factor, one caller per step. GH_ERR_REUSED
     * step <= last_step (replay), GH_ERR_NOT_FOUND no enabled factor. */
    gh_err (*mfa_use_step)(struct gh_store *st, const char *user_id, int64_t step);
    /* Spends an unused backup code of the user, one caller per code; GH_ERR_NOT_FOUND
     * otherwise. *left: the unused codes after. */
    gh_err (*mfa_use_backup)(struct gh_store *st, const char *user_id,
                             const unsigned char hash[GH_HASH_LEN], int64_t now, int64_t *left);
    /* Deletes the user's factor and backup codes; none is GH_OK. */
    gh_err (*mfa_delete)(struct gh_store *st, const char *user_id);
    /* A login waiting for its code. GH_ERR_CONFLICT hash taken, GH_ERR_NOT_FOUND unknown user. */
    gh_err (*mfa_challenge_add)(struct gh_store *st, const struct gh_mfa_challenge *c);
    /* The challenge when live (not spent, expires_at > now), else GH_ERR_NOT_FOUND. */
    gh_err (*mfa_challenge_get)(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                                int64_t now, struct gh_mfa_challenge *out);
    /* Spends a live challenge, one caller only; the others get GH_ERR_NOT_FOUND. */
    gh_err (*mfa_challenge_spend)(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                                  int64_t now);

    /*
     * ---- the revocation feed ---- every epoch increment and access change above also
     * appends (seq, user_id). Calls fn for each entry with seq > after, in order (at most
     * 1000 per call), and sets *last to the highest seq seen (or the current highest when
     * after < 0, without calling fn). Entries older than purge_before are deleted.
     */
    gh_err (*revocation_feed)(struct gh_store *st, int64_t after, int64_t purge_before,
                              void (*fn)(void *arg, const char *user_id), void *arg, int64_t *last);

    /*
     * ---- the audit chain ---- (audit/chain.h). audit_append appends n records in one
     * transaction that holds the database's write lock from the start (so that processes
     * and threads appending at once serialise): each gets the next sequence number, the
     * hash of the record before it and its own hash, computed by hash. *head gets the
     * chain's end after the append. Nothing is written on failure.
     */
    gh_err (*audit_append)(struct gh_store *st, const struct gh_audit_event *evs, size_t n,
                           gh_audit_hash_fn hash, struct gh_audit_head *head);
    gh_err (*audit_head)(struct gh_store *st, struct gh_audit_head *out);
    /* Records matching f, newest first. */
    gh_err (*audit_list)(struct gh_store *st, const struct gh_audit_filter *f, size_t limit,
                         size_t offset, gh_audit_visit_fn fn, void *arg);
    /* Every record with seq > after, oldest first, in one read transaction. */
    gh_err (*audit_scan)(struct gh_store *st, int64_t after, gh_audit_visit_fn fn, void *arg);
    /* Stores a checkpoint; one for a seq already checkpointed is ignored. */
    gh_err (*checkpoint_add)(struct gh_store *st, const struct gh_audit_checkpoint *cp);
    /* Every checkpoint, by seq. */
    gh_err (*checkpoint_list)(struct gh_store *st, gh_checkpoint_visit_fn fn, void *arg);
    /* Deletes the records before the newest checkpoint made before cutoff (the
     * checkpointed record itself stays, as the anchor of verification); *n: how many. */
    gh_err (*audit_purge)(struct gh_store *st, int64_t cutoff, int64_t *n);

    /* ---- data keys ---- (crypto/datakeys.h) stored wrapped; never updated or deleted. */
    /* GH_ERR_CONFLICT a key with that id exists (two rotations at once: one wins). */
    gh_err (*datakey_add)(struct gh_store *st, const struct gh_data_key *key);
    /* Every data key, by id ascending. */
    gh_err (*datakey_list)(struct gh_store *st, gh_data_key_visit_fn fn, void *arg);
    /* ---- SSO identity providers ---- (authn/sso_providers.h), secrets sealed. create:
     * GH_ERR_CONFLICT name taken; list: by name; update: every value but created_at; get,
     * update, delete: GH_ERR_NOT_FOUND no provider of that name. */
    gh_err (*sso_provider_create)(struct gh_store *st, const struct gh_sso_provider *p);
    gh_err (*sso_provider_get)(struct gh_store *st, const char *name, struct gh_sso_provider *out);
    gh_err (*sso_provider_list)(struct gh_store *st, size_t limit, size_t offset,
                                gh_sso_provider_visit_fn fn, void *arg);
    gh_err (*sso_provider_update)(struct gh_store *st, const struct gh_sso_provider *p);
    gh_err (*sso_provider_delete)(struct gh_store *st, const char *name);
    /* ---- SSO identities, pending sign-ins ---- contracts in store/store_sso.h */
    gh_err (*sso_link_add)(struct gh_store *st, const struct gh_sso_link *l);
    gh_err (*sso_link_find)(struct gh_store *st, const char *provider, const char *subject,
                            struct gh_sso_link *out);
    gh_err (*sso_link_list)(struct gh_store *st, const char *user_id, gh_sso_link_visit_fn fn,
                            void *arg);
    gh_err (*sso_link_touch)(struct gh_store *st, const char *id, int64_t now);
    gh_err (*sso_link_delete)(struct gh_store *st, const char *user_id, const char *id);
    gh_err (*sso_state_add)(struct gh_store *st, const struct gh_sso_state *s);
    gh_err (*sso_state_take)(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                             struct gh_sso_state *out);

    /* ---- the vault ---- (crypto/vault.h) sealed values, every version kept until the name
     * is deleted, deleted with their org. insert: GH_ERR_CONFLICT that version exists (the
     * service retries), GH_ERR_NOT_FOUND no such org. */
    gh_err (*vault_insert)(struct gh_store *st, const struct gh_vault_entry *e);
    /* The newest version of (org_id, name) into *out; GH_ERR_NOT_FOUND none. */
    gh_err (*vault_latest)(struct gh_store *st, const char *org_id, const char *name,
                           struct gh_vault_entry *out);
    /* The org's names with their newest version, by name. */
    gh_err (*vault_list)(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                         gh_vault_item_visit_fn fn, void *arg);
    /* Deletes every version of (org_id, name); GH_ERR_NOT_FOUND none. */
    gh_err (*vault_delete)(struct gh_store *st, const char *org_id, const char *name);
    /* At most limit versions (any org) sealed under a key id below key_id, in a stable
     * order; *total (may be NULL) gets how many there are in all. */
    gh_err (*vault_scan)(struct gh_store *st, int64_t key_id, size_t limit,
                         gh_vault_entry_visit_fn fn, void *arg, int64_t *total);
    /* Replaces the sealed value and key id of version e->item.version of (org, name) if it
     * is still sealed under old_key_id; GH_ERR_CONFLICT it is not (rewrapped or deleted
     * meanwhile: nothing changes). */
    gh_err (*vault_rekey)(struct gh_store *st, const struct gh_vault_entry *e, int64_t old_key_id);
    const struct gh_store_block_ops *blocks; /* address blocks: store_blocks.h */
};

/** A store: a backend's ops and its state (or a transaction on it, see gh_store_tx_begin). */
struct gh_store_handle {
    const struct gh_store_ops *ops;
    struct gh_store *st;
};

extern const struct gh_store_ops gh_store_sqlite_ops;
extern const struct gh_store_ops gh_store_postgres_ops;

/**
 * The backend named name ("sqlite", "postgres"), or NULL when there is none by that name. The one
 * registry of backends (store.c); storage.backend names one.
 */
const struct gh_store_ops *gh_store_backend(const char *name) GH_NONNULL(1);

/**
 * Opens the backend named backend on dsn (sqlite: the database file; postgres: a libpq
 * connection string or URI, which may hold a password: never logged) into *out.
 * GH_ERR_INVALID no backend by that name (nothing is opened); otherwise the backend's open.
 * *out is written on GH_OK only; gh_store_close releases it.
 */
gh_err gh_store_open(const char *backend, const char *dsn, unsigned busy_timeout_ms,
                     struct gh_store_handle *out) GH_WUR GH_NONNULL(1, 2, 4);

/**
 * Every SQLite file this process opens from now on (the store, snapshots, restores) goes
 * through the VFS named vfs (storage.encrypt: crypto/dbcrypt.h's, registered already),
 * with reserve bytes reserved in each 4096-byte page of a new database and exactly that
 * many required of an existing one, and temp_store=MEMORY. NULL: the default VFS. Set
 * once at start, before the store opens.
 */
void gh_store_sqlite_vfs(const char *vfs, int reserve);

/**
 * gatehouse storage encrypt|decrypt: copies the SQLite database at from, read through
 * from_vfs (NULL: the default), into the new file to, written through to_vfs with
 * to_reserve reserved bytes a page: schema, rows, AUTOINCREMENT counters; then checks
 * that each table holds the same rows and that to passes integrity_check. from is never
 * written. GH_ERR_BUSY from is open elsewhere (a running server); else GH_ERR_IO, logged.
 */
gh_err gh_store_sqlite_convert(const char *from, const char *from_vfs, const char *to,
                               const char *to_vfs, int to_reserve) GH_WUR GH_NONNULL(1, 3);

/** Told how far a copy is: done of total rows of table so far. */
typedef void (*gh_store_copy_fn)(void *arg, const char *table, int64_t done, int64_t total);

/**
 * Copies every record of from into to (gatehouse migrate): users, orgs, roles,
 * memberships, invitations, permissions, refresh tokens, API keys, sessions and second
 * factors, data keys, the audit chain with its sequence numbers, hashes and checkpoints,
 * as they are. from is read in one snapshot (a running server may go on writing to it);
 * to is written in one transaction: on failure nothing is left in it. progress (may be
 * NULL) is told at most every 10,000 rows and at each table's end.
 * GH_ERR_CONFLICT to holds users or audit records already; GH_ERR_INVALID a store of a
 * backend that cannot be copied; else the first failure.
 */
gh_err gh_store_copy(const struct gh_store_handle *from, const struct gh_store_handle *to,
                     gh_store_copy_fn progress, void *arg) GH_WUR GH_NONNULL(1, 2);

/** Closes what gh_store_open opened and clears h; h NULL or closed is a no-op. */
void gh_store_close(struct gh_store_handle *h);

/*
 * The wrappers: one per op, gh_store_<op>(h, ...) calls h->ops-><op>(h->st, ...), as
 * Redis's connWrite() wraps its ConnectionType. The op's contract above is theirs.
 */
/** Starts a transaction on h (tx_begin): on GH_OK *tx is a handle every wrapper takes,
 * until gh_store_tx_end (tx->st is NULL on failure: nothing to end). */
static inline gh_err gh_store_tx_begin(const struct gh_store_handle *h, struct gh_store_handle *tx)
{
    struct gh_store *t = NULL;
    gh_err err = h->ops->tx_begin(h->st, &t);
    tx->ops = h->ops;
    tx->st = err == GH_OK ? t : NULL;
    return err;
}

/** Commits tx when err is GH_OK, else rolls back (tx_end); tx is spent. */
static inline gh_err gh_store_tx_end(struct gh_store_handle *tx, gh_err err)
{
    err = tx->ops->tx_end(tx->st, err);
    tx->st = NULL;
    return err;
}

static inline gh_err gh_store_ping(const struct gh_store_handle *h)
{
    return h->ops->ping(h->st);
}

static inline gh_err gh_store_user_create(const struct gh_store_handle *h, const struct gh_user *u,
                                          const char *password_hash)
{
    return h->ops->user_create(h->st, u, password_hash);
}

static inline gh_err gh_store_user_get(const struct gh_store_handle *h, const char *id,
                                       struct gh_user *out)
{
    return h->ops->user_get(h->st, id, out);
}

static inline gh_err gh_store_user_find_login(const struct gh_store_handle *h, const char *login,
                                              struct gh_user *out)
{
    return h->ops->user_find_login(h->st, login, out);
}

static inline gh_err gh_store_user_get_credentials(const struct gh_store_handle *h, const char *id,
                                                   struct gh_credentials *out)
{
    return h->ops->user_get_credentials(h->st, id, out);
}

static inline gh_err gh_store_user_list(const struct gh_store_handle *h, size_t limit,
                                        size_t offset, gh_user_visit_fn fn, void *arg)
{
    return h->ops->user_list(h->st, limit, offset, fn, arg);
}

static inline gh_err gh_store_user_list_org(const struct gh_store_handle *h, const char *org_id,
                                            size_t limit, size_t offset, gh_user_visit_fn fn,
                                            void *arg)
{
    return h->ops->user_list_org(h->st, org_id, limit, offset, fn, arg);
}

static inline gh_err gh_store_user_count(const struct gh_store_handle *h, int64_t *out)
{
    return h->ops->user_count(h->st, out);
}

static inline gh_err gh_store_user_update(const struct gh_store_handle *h, const struct gh_user *u,
                                          int revoke, int64_t now)
{
    return h->ops->user_update(h->st, u, revoke, now);
}

static inline gh_err gh_store_user_set_password(const struct gh_store_handle *h, const char *id,
                                                const char *hash, int bump_epoch, int64_t now,
                                                int64_t *new_epoch)
{
    return h->ops->user_set_password(h->st, id, hash, bump_epoch, now, new_epoch);
}

static inline gh_err gh_store_user_set_disabled(const struct gh_store_handle *h, const char *id,
                                                int disabled, int64_t now, int64_t *new_epoch)
{
    return h->ops->user_set_disabled(h->st, id, disabled, now, new_epoch);
}

static inline gh_err gh_store_user_revoke_all(const struct gh_store_handle *h, const char *id,
                                              int64_t now, int64_t *new_epoch)
{
    return h->ops->user_revoke_all(h->st, id, now, new_epoch);
}

static inline gh_err gh_store_user_set_primary_org(const struct gh_store_handle *h,
                                                   const char *user_id, const char *org_id)
{
    return h->ops->user_set_primary_org(h->st, user_id, org_id);
}

static inline gh_err gh_store_user_primary_reassign(const struct gh_store_handle *h,
                                                    const char *org_id, const char *user_id)
{
    return h->ops->user_primary_reassign(h->st, org_id, user_id);
}

static inline gh_err gh_store_user_delete(const struct gh_store_handle *h, const char *id,
                                          int64_t now)
{
    return h->ops->user_delete(h->st, id, now);
}

static inline gh_err gh_store_org_create(const struct gh_store_handle *h, const struct gh_org *org,
                                         const char *admin_permissions,
                                         const char *member_permissions)
{
    return h->ops->org_create(h->st, org, admin_permissions, member_permissions);
}

static inline gh_err gh_store_org_get(const struct gh_store_handle *h, const char *id,
                                      struct gh_org *out)
{
    return h->ops->org_get(h->st, id, out);
}

static inline gh_err gh_store_org_find_name(const struct gh_store_handle *h, const char *name,
                                            struct gh_org *out)
{
    return h->ops->org_find_name(h->st, name, out);
}

static inline gh_err gh_store_org_list(const struct gh_store_handle *h, const char *user_id,
                                       size_t limit, size_t offset, gh_org_visit_fn fn, void *arg)
{
    return h->ops->org_list(h->st, user_id, limit, offset, fn, arg);
}

static inline gh_err gh_store_org_rename(const struct gh_store_handle *h, const char *id,
                                         const char *name)
{
    return h->ops->org_rename(h->st, id, name);
}

static inline gh_err gh_store_org_delete(const struct gh_store_handle *h, const char *id,
                                         int64_t now, gh_affected_fn affected, void *arg)
{
    return h->ops->org_delete(h->st, id, now, affected, arg);
}

static inline gh_err gh_store_role_list(const struct gh_store_handle *h, const char *org_id,
                                        size_t limit, size_t offset, gh_role_visit_fn fn, void *arg)
{
    return h->ops->role_list(h->st, org_id, limit, offset, fn, arg);
}

static inline gh_err gh_store_role_get(const struct gh_store_handle *h, const char *org_id,
                                       const char *role_id, struct gh_role *out)
{
    return h->ops->role_get(h->st, org_id, role_id, out);
}

static inline gh_err gh_store_role_create(const struct gh_store_handle *h,
                                          const struct gh_role *role)
{
    return h->ops->role_create(h->st, role);
}

static inline gh_err gh_store_role_update(const struct gh_store_handle *h, const char *org_id,
                                          const char *role_id, const char *name,
                                          const char *permissions, int64_t now,
                                          gh_affected_fn affected, void *arg)
{
    return h->ops->role_update(h->st, org_id, role_id, name, permissions, now, affected, arg);
}

static inline gh_err gh_store_role_delete(const struct gh_store_handle *h, const char *org_id,
                                          const char *role_id)
{
    return h->ops->role_delete(h->st, org_id, role_id);
}

static inline gh_err gh_store_member_add(const struct gh_store_handle *h, const char *org_id,
                                         const char *user_id, const char *role_name, int64_t now)
{
    return h->ops->member_add(h->st, org_id, user_id, role_name, now);
}

static inline gh_err gh_store_member_get(const struct gh_store_handle *h, const char *org_id,
                                         const char *user_id, struct gh_membership *out)
{
    return h->ops->member_get(h->st, org_id, user_id, out);
}

static inline gh_err gh_store_member_list_user(const struct gh_store_handle *h, const char *user_id,
                                               struct gh_membership *out, size_t max, size_t *n)
{
    return h->ops->member_list_user(h->st, user_id, out, max, n);
}

static inline gh_err gh_store_member_list_org(const struct gh_store_handle *h, const char *org_id,
                                              size_t limit, size_t offset, gh_member_visit_fn fn,
                                              void *arg)
{
    return h->ops->member_list_org(h->st, org_id, limit, offset, fn, arg);
}

static inline gh_err gh_store_member_count_admins(const struct gh_store_handle *h,
                                                  const char *org_id, int64_t *n)
{
    return h->ops->member_count_admins(h->st, org_id, n);
}

static inline gh_err gh_store_member_set_role(const struct gh_store_handle *h, const char *org_id,
                                              const char *user_id, const char *role_name,
                                              int64_t now)
{
    return h->ops->member_set_role(h->st, org_id, user_id, role_name, now);
}

static inline gh_err gh_store_member_fallback(const struct gh_store_handle *h, const char *org_id,
                                              const char *fallback_org_id, int64_t now, int64_t *n)
{
    return h->ops->member_fallback(h->st, org_id, fallback_org_id, now, n);
}

static inline gh_err gh_store_member_remove(const struct gh_store_handle *h, const char *org_id,
                                            const char *user_id, int64_t now)
{
    return h->ops->member_remove(h->st, org_id, user_id, now);
}

static inline gh_err gh_store_invitation_create(const struct gh_store_handle *h,
                                                const struct gh_invitation *inv,
                                                const char *user_id, const char *invited_by)
{
    return h->ops->invitation_create(h->st, inv, user_id, invited_by);
}

static inline gh_err gh_store_invitation_list_org(const struct gh_store_handle *h,
                                                  const char *org_id, int64_t now, size_t limit,
                                                  size_t offset, gh_invitation_visit_fn fn,
                                                  void *arg)
{
    return h->ops->invitation_list_org(h->st, org_id, now, limit, offset, fn, arg);
}

static inline gh_err gh_store_invitation_list_user(const struct gh_store_handle *h,
                                                   const char *user_id, int64_t now, size_t limit,
                                                   size_t offset, gh_invitation_visit_fn fn,
                                                   void *arg)
{
    return h->ops->invitation_list_user(h->st, user_id, now, limit, offset, fn, arg);
}

static inline gh_err gh_store_invitation_accept(const struct gh_store_handle *h,
                                                const char *user_id, const char *id, int64_t now,
                                                struct gh_invitation *out)
{
    return h->ops->invitation_accept(h->st, user_id, id, now, out);
}

static inline gh_err gh_store_invitation_decline(const struct gh_store_handle *h,
                                                 const char *user_id, const char *id, int64_t now)
{
    return h->ops->invitation_decline(h->st, user_id, id, now);
}

static inline gh_err gh_store_invitation_revoke(const struct gh_store_handle *h, const char *org_id,
                                                const char *id, int64_t now)
{
    return h->ops->invitation_revoke(h->st, org_id, id, now);
}

static inline gh_err gh_store_invitation_purge(const struct gh_store_handle *h, int64_t cutoff,
                                               int64_t *n)
{
    return h->ops->invitation_purge(h->st, cutoff, n);
}

static inline gh_err gh_store_perm_add(const struct gh_store_handle *h, const char *name,
                                       int64_t now)
{
    return h->ops->perm_add(h->st, name, now);
}

static inline gh_err gh_store_perm_list(const struct gh_store_handle *h, gh_name_visit_fn fn,
                                        void *arg)
{
    return h->ops->perm_list(h->st, fn, arg);
}

static inline gh_err gh_store_revocation_feed(const struct gh_store_handle *h, int64_t after,
                                              int64_t purge_before,
                                              void (*fn)(void *arg, const char *user_id), void *arg,
                                              int64_t *last)
{
    return h->ops->revocation_feed(h->st, after, purge_before, fn, arg, last);
}

#include "store/store_apikeys.h"
#include "store/store_audit.h"
#include "store/store_crypto.h"
#include "store/store_tokens.h"
#include "store/store_sso.h"
#include "store/store_blocks.h"

#endif

#ifndef GH_STORE_STORE_H
#define GH_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/*
 * The storage interface. Services see only these typed records and the ops table;
 * no SQL and no backend type leaves a backend. All times are unix seconds (UTC).
 * Every op is safe to call from several threads at once. Ops return GH_ERR_IO when
 * the backend fails (the message goes to the log, never to a client), GH_ERR_BUSY when
 * a lock or a free connection was not had within the busy timeout, and GH_ERR_NOT_FOUND
 * when a record refers to a user, org or role that does not exist.
 */

#define GH_UUID_LEN 36
#define GH_HASH_LEN 32 /* SHA-256 of a refresh token */

struct gh_user {
    char id[GH_UUID_LEN + 1];
    char username[65];
    char email[321];
    char full_name[257];
    char password_hash[256];   /* PHC / crypt(3) string, never a password */
    char primary_org_id[GH_UUID_LEN + 1];
    int disabled;
    int superadmin;
    int64_t token_epoch;       /* bumped to revoke every access token of the user */
    int64_t created_at;
    int64_t updated_at;
};

struct gh_org {
    char id[GH_UUID_LEN + 1];
    char name[129];
    int64_t created_at;
};

/** A user's place in one org: the role's name and its permissions joined with ' '. */
struct gh_membership {
    char org_id[GH_UUID_LEN + 1];
    char org_name[129];
    char role_name[65];
    char permissions[2048];
};

/** A role of one org; system roles ("admin", "member") are made with the org. */
struct gh_role {
    char id[GH_UUID_LEN + 1];
    char org_id[GH_UUID_LEN + 1];
    char name[65];
    char permissions[2048]; /* joined with ' ' */
    int system;
};

/** One member of an org, as the org's member list shows it. */
struct gh_member {
    char user_id[GH_UUID_LEN + 1];
    char username[65];
    char role_name[65];
};

/**
 * An invitation to an org, as its admins or its invitee see it. Which user it is addressed
 * to never leaves the store: an org's admins must not learn whether a user exists.
 */
struct gh_invitation {
    char id[GH_UUID_LEN + 1];
    char org_id[GH_UUID_LEN + 1];
    char org_name[129]; /* the invitee's view only ("" in the org's) */
    char role_name[65];
    char invited_by[65]; /* the inviter's username, the invitee's view only ("": gone) */
    int64_t created_at;
    int64_t expires_at;
};

struct gh_refresh_token {
    char id[GH_UUID_LEN + 1];
    unsigned char hash[GH_HASH_LEN]; /* SHA-256 of the token; the token is never stored */
    char user_id[GH_UUID_LEN + 1];
    char family_id[GH_UUID_LEN + 1]; /* every token rotated from one login shares it */
    char org_id[GH_UUID_LEN + 1];    /* the org the access tokens of this family carry */
    int64_t created_at;
    int64_t expires_at;
};

/** One audit record (API.md "Audit"); empty strings are stored as NULL. */
struct gh_audit_event {
    int64_t ts;
    const char *action;        /* LOGIN, LOGIN_FAILED, ... */
    const char *user_id;
    const char *username;
    const char *org_id;
    const char *resource_type;
    const char *resource_id;
    const char *ip_address;
    const char *user_agent;
    const char *method;
    const char *path;
    int status;
    const char *metadata_json; /* a JSON object as text, or NULL */
};

/** One stored audit record: its place in the chain and its hashes (audit/chain.h). */
struct gh_audit_row {
    int64_t seq;                          /* the record's id, 1, 2, ... never reused */
    struct gh_audit_event ev;             /* strings valid during the visit only */
    int hashed;                           /* 0: prev_hash or hash is missing or not 32 bytes */
    unsigned char prev_hash[GH_HASH_LEN]; /* the previous record's hash */
    unsigned char hash[GH_HASH_LEN];      /* SHA-256 of this record's canonical encoding */
};

/** A signed statement that the chain's record seq had hash at ts. */
#define GH_AUDIT_SIG_LEN 64    /* Ed25519 */
#define GH_AUDIT_KEY_ID_LEN 16 /* hex of the first 8 bytes of SHA-256(public key) */
struct gh_audit_checkpoint {
    int64_t seq;
    unsigned char hash[GH_HASH_LEN];
    int64_t ts;
    unsigned char signature[GH_AUDIT_SIG_LEN];
    char key_id[GH_AUDIT_KEY_ID_LEN + 1];
};

/** The end of the chain, as audit_append and audit_head see it. */
struct gh_audit_head {
    int64_t start;                   /* records up to start predate the chain (legacy) */
    int64_t seq;                     /* the newest record (start when none) */
    unsigned char hash[GH_HASH_LEN]; /* its hash (zeros when none) */
    int64_t checkpoint_seq;          /* the newest checkpoint (0: none) */
    int64_t checkpoint_ts;
};

/** What audit_list selects; NULL strings and 0 times do not filter. */
struct gh_audit_filter {
    const char *user_id;
    const char *action;
    const char *resource_type;
    const char *resource_id;
    const char *org_id;
    int64_t since, until; /* inclusive unix seconds, when has_since / has_until */
    int has_since, has_until;
};

/** An API key as stored: never the key, only its keyed hash and display prefix. */
#define GH_APIKEY_PREFIX_LEN 11 /* "ak_" + 8 characters */
struct gh_api_key {
    char id[GH_UUID_LEN + 1];
    unsigned char hash[GH_HASH_LEN]; /* HMAC-SHA256(pepper, key) */
    char prefix[GH_APIKEY_PREFIX_LEN + 1];
    char user_id[GH_UUID_LEN + 1];
    char org_id[GH_UUID_LEN + 1]; /* the org the key acts in */
    char name[257];               /* 1-64 characters of UTF-8 */
    int has_scopes;               /* 0: the owner's permissions at each use */
    char scopes[2048];            /* permissions joined with ' ' */
    char allowed_ips[1024];       /* CIDRs joined with ',', "" = any address */
    int64_t expires_at;           /* 0 = never */
    int64_t created_at;
    int64_t last_used_at;         /* 0 = never */
    char last_used_ip[64];
    int64_t revoked_at;           /* 0 = live */
};

/** One coalesced use of an API key, for apikey_touch. */
struct gh_api_key_use {
    char id[GH_UUID_LEN + 1];
    int64_t at;
    char ip[64];
};

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
/** Told each user whose access a change altered (the change is also in the revocation feed). */
typedef void (*gh_affected_fn)(void *arg, const char *user_id);

struct gh_store_ops {
    const char *name; /* "sqlite" */

    /* Opens (creating if needed) and applies pending migrations. dsn: a file path for
     * sqlite. busy_timeout_ms bounds waits for locks. */
    gh_err (*open)(const char *dsn, unsigned busy_timeout_ms, struct gh_store **out);
    void (*close)(struct gh_store *st);
    /* GH_OK when the backend answers a trivial query and no write failed with an I/O
     * error (disk full, read-only, I/O) in the last 10 s: readiness reflects that writes
     * fail, without writing on every probe. */
    gh_err (*ping)(struct gh_store *st);

    /* users. Unique username / email (case-insensitive) violations -> GH_ERR_CONFLICT. */
    gh_err (*user_create)(struct gh_store *st, const struct gh_user *u);
    gh_err (*user_get)(struct gh_store *st, const char *id, struct gh_user *out);
    /* login is a username or an email, matched without regard to case. */
    gh_err (*user_find_login)(struct gh_store *st, const char *login, struct gh_user *out);
    gh_err (*user_list)(struct gh_store *st, size_t limit, size_t offset, gh_user_visit_fn fn,
                        void *arg);
    gh_err (*user_count)(struct gh_store *st, int64_t *out);
    /* Replaces the hash; when bump_epoch, also increments token_epoch and revokes every
     * refresh token of the user, in one transaction; *new_epoch gets the user's epoch
     * (unchanged when !bump_epoch). GH_ERR_NOT_FOUND unknown id. */
    gh_err (*user_set_password)(struct gh_store *st, const char *id, const char *hash,
                                int bump_epoch, int64_t now, int64_t *new_epoch);
    /* Sets disabled, increments token_epoch and revokes refresh tokens (one transaction). */
    gh_err (*user_set_disabled)(struct gh_store *st, const char *id, int disabled, int64_t now,
                                int64_t *new_epoch);
    /* Increments token_epoch and revokes every refresh token (logout-all). */
    gh_err (*user_revoke_all)(struct gh_store *st, const char *id, int64_t now,
                              int64_t *new_epoch);

    /* orgs and memberships (the minimum the foundation needs; RBAC extends it). */
    gh_err (*org_create)(struct gh_store *st, const struct gh_org *org,
                         const char *admin_permissions, const char *member_permissions);
    gh_err (*org_find_name)(struct gh_store *st, const char *name, struct gh_org *out);
    /* Adds user to org with the org's system role role_name ("admin" or "member"). */
    gh_err (*member_add)(struct gh_store *st, const char *org_id, const char *user_id,
                         const char *role_name, int64_t now);
    gh_err (*member_get)(struct gh_store *st, const char *org_id, const char *user_id,
                         struct gh_membership *out);
    /* Fills up to max memberships of user, ordered by org name; *n gets the count. */
    gh_err (*member_list_user)(struct gh_store *st, const char *user_id,
                               struct gh_membership *out, size_t max, size_t *n);

    /*
     * RBAC. Every op on an org-owned row takes the org id and matches it in SQL, so a row
     * of another org is GH_ERR_NOT_FOUND. Every change that alters what a user may do
     * appends the user to the revocation feed in the same transaction and tells affected
     * (which may be NULL) about the user, so callers drop cached views at once.
     */
    gh_err (*org_get)(struct gh_store *st, const char *id, struct gh_org *out);
    /* The orgs of user_id (NULL: every org), by name. */
    gh_err (*org_list)(struct gh_store *st, const char *user_id, size_t limit, size_t offset,
                       gh_org_visit_fn fn, void *arg);
    /* GH_ERR_CONFLICT for a name taken (without regard to case). */
    gh_err (*org_rename)(struct gh_store *st, const char *id, const char *name);
    /* Deletes the org, its roles, memberships and API keys, revokes the refresh tokens
     * scoped to it and moves members whose primary org it was to another of theirs. */
    gh_err (*org_delete)(struct gh_store *st, const char *id, int64_t now, gh_affected_fn affected,
                         void *arg);
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
    /* GH_ERR_CONFLICT while members hold the role. */
    gh_err (*role_delete)(struct gh_store *st, const char *org_id, const char *role_id);
    /* The org's members by username. */
    gh_err (*member_list_org)(struct gh_store *st, const char *org_id, size_t limit,
                              size_t offset, gh_member_visit_fn fn, void *arg);
    /* GH_ERR_NOT_FOUND not a member; GH_ERR_INVALID no such role in the org;
     * GH_ERR_CONFLICT when it would leave the org without an admin. */
    gh_err (*member_set_role)(struct gh_store *st, const char *org_id, const char *user_id,
                              const char *role_name, int64_t now);
    /* Also revokes the user's refresh tokens and API keys scoped to the org and moves a
     * primary org away from it. GH_ERR_NOT_FOUND, GH_ERR_CONFLICT (last admin). */
    gh_err (*member_remove)(struct gh_store *st, const char *org_id, const char *user_id,
                            int64_t now);
    /* GH_ERR_NOT_FOUND when user_id is not a member of org_id. */
    gh_err (*user_set_primary_org)(struct gh_store *st, const char *user_id, const char *org_id);
    /* The users who are members of org_id, like user_list. */
    gh_err (*user_list_org)(struct gh_store *st, const char *org_id, size_t limit, size_t offset,
                            gh_user_visit_fn fn, void *arg);
    /* Writes full_name, email, disabled and superadmin of u (by u->id); when revoke, also
     * what user_revoke_all does. GH_ERR_CONFLICT email taken. */
    gh_err (*user_update)(struct gh_store *st, const struct gh_user *u, int revoke, int64_t now);
    /* Deletes the user with every token, key and membership. GH_ERR_CONFLICT when the user
     * is the only admin of an org. */
    gh_err (*user_delete)(struct gh_store *st, const char *id, int64_t now);

    /*
     * Invitations to an org (pending -> accepted | declined | revoked). A pending one past
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

    /* Permissions declared through the API. GH_ERR_CONFLICT when already declared. */
    gh_err (*perm_add)(struct gh_store *st, const char *name, int64_t now);
    gh_err (*perm_list)(struct gh_store *st, gh_name_visit_fn fn, void *arg);

    /* refresh tokens */
    /* The record of a live token (not spent, revoked or past expires_at at now), without
     * changing it: a peek before a refresh that switches org. GH_ERR_NOT_FOUND for an
     * unknown or dead token (the rotation then refuses it, detecting reuse). */
    gh_err (*refresh_get)(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                          int64_t now, struct gh_refresh_token *out);
    gh_err (*refresh_insert)(struct gh_store *st, const struct gh_refresh_token *t);
    /*
     * Spends the token with hash old_hash and inserts next, atomically: exactly one of
     * several concurrent callers with the same old_hash succeeds. The caller fills next's
     * id, hash and times (it cannot know the rest); the backend fills next->user_id,
     * family_id and (unless the caller set it: a switch of org) org_id from the spent
     * token before inserting it (next is written on GH_OK only).
     * On GH_OK *spent gets the spent token's record. Errors:
     * GH_ERR_NOT_FOUND unknown hash; GH_ERR_EXPIRED past expires_at; GH_ERR_REVOKED
     * revoked (family or user); GH_ERR_REUSED already spent: the whole family is then
     * revoked before returning and *spent gets the record (for the audit).
     */
    gh_err (*refresh_rotate)(struct gh_store *st, const unsigned char old_hash[GH_HASH_LEN],
                             struct gh_refresh_token *next, int64_t now,
                             struct gh_refresh_token *spent);
    /* Revokes one token by hash; GH_ERR_NOT_FOUND if unknown. *out gets the record. */
    gh_err (*refresh_revoke)(struct gh_store *st, const unsigned char hash[GH_HASH_LEN],
                             int64_t now, struct gh_refresh_token *out);
    /* Deletes tokens expired before cutoff; *n gets the count. */
    gh_err (*refresh_purge)(struct gh_store *st, int64_t cutoff, int64_t *n);

    /*
     * The revocation feed: every epoch increment above also appends (seq, user_id).
     * Calls fn for each entry with seq > after, in order (at most 1000 per call), and sets
     * *last to the highest seq seen (or the current highest when after < 0, without
     * calling fn). Entries older than purge_before are deleted.
     */
    gh_err (*revocation_feed)(struct gh_store *st, int64_t after, int64_t purge_before,
                              void (*fn)(void *arg, const char *user_id), void *arg,
                              int64_t *last);

    /* API keys. create: GH_ERR_CONFLICT when the user has a live key of that name,
     * GH_ERR_NOT_FOUND for an unknown user or org. */
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
    gh_err (*apikey_revoke)(struct gh_store *st, const char *user_id, const char *id,
                            int64_t now, int64_t *n);
    /* Records last uses (one transaction); unknown ids are skipped. */
    gh_err (*apikey_touch)(struct gh_store *st, const struct gh_api_key_use *uses, size_t n);

    /*
     * The audit chain (audit/chain.h). audit_append appends n records in one transaction
     * that holds the database's write lock from the start (so that processes and
     * threads appending at once serialise): each gets the next sequence number, the
     * hash of the record before it and its own hash. *head gets the chain's end after
     * the append. Nothing is written on failure.
     */
    gh_err (*audit_append)(struct gh_store *st, const struct gh_audit_event *evs, size_t n,
                           struct gh_audit_head *head);
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
};

/** A store: a backend's ops and its state. */
struct gh_store_handle {
    const struct gh_store_ops *ops;
    struct gh_store *st;
};

extern const struct gh_store_ops gh_store_sqlite_ops;

#endif

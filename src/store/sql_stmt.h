#ifndef GH_STORE_SQL_STMT_H
#define GH_STORE_SQL_STMT_H

/*
 * Private to the SQL backends: the names of their statements. Each engine's schema file
 * (sqlite_schema.c, pg_schema.c) gives the text of every one in its dialect, indexed by
 * these names; the ops (sql_<domain>.c) run them by name, the same for every engine.
 */
/** The statements; a connection prepares each once and then only re-binds it. */
enum sq_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PING,
    ST_WRITE_LOCK, /* right after ST_BEGIN: the engine's lock for writers (NULL: BEGIN is it) */
    ST_AUDIT_LOCK, /* the lock that serialises the audit chain's head (NULL: BEGIN is it) */
    ST_USER_INSERT,
    ST_USER_GET,
    ST_USER_FIND,
    ST_USER_CREDENTIALS,
    ST_USER_LIST,
    ST_USER_COUNT,
    ST_USER_SET_PASSWORD,
    ST_USER_SET_DISABLED,
    ST_USER_BUMP_EPOCH,
    ST_ORG_INSERT,
    ST_ROLE_INSERT,
    ST_ORG_FIND_NAME,
    ST_MEMBER_ADD,
    ST_MEMBER_GET,
    ST_MEMBER_LIST_USER,
    ST_REFRESH_INSERT,
    ST_REFRESH_SPEND,
    ST_REFRESH_GET,
    ST_REFRESH_REVOKE,
    ST_REFRESH_REVOKE_FAMILY,
    ST_REFRESH_REVOKE_USER,
    ST_REFRESH_PURGE,
    ST_AUDIT_INSERT,
    ST_AUDIT_HEAD,
    ST_AUDIT_LIST,
    ST_AUDIT_SCAN,
    ST_CHECKPOINT_INSERT,
    ST_CHECKPOINT_LIST,
    ST_AUDIT_PURGE,
    ST_REVOCATION_INSERT,
    ST_REVOCATION_SINCE,
    ST_REVOCATION_LAST,
    ST_REVOCATION_PURGE,
    ST_APIKEY_INSERT,
    ST_APIKEY_FIND,
    ST_APIKEY_LIST,
    ST_APIKEY_REVOKE_ONE,
    ST_APIKEY_REVOKE_ALL,
    ST_APIKEY_TOUCH,
    ST_ORG_GET,
    ST_ORG_LIST_ALL,
    ST_ORG_LIST_USER,
    ST_ORG_RENAME,
    ST_ORG_DELETE,
    ST_ORG_MEMBERS,
    ST_ORG_FEED,
    ST_REFRESH_REVOKE_ORG,
    ST_SESSION_REVOKE_ORG,
    ST_PRIMARY_REASSIGN,
    ST_ROLE_LIST,
    ST_ROLE_GET,
    ST_ROLE_FIND_NAME,
    ST_ROLE_INSERT_CUSTOM,
    ST_ROLE_UPDATE,
    ST_ROLE_DELETE,
    ST_ROLE_MEMBERS,
    ST_ROLE_FEED,
    ST_ROLE_IN_USE,
    ST_MEMBER_LIST_ORG,
    ST_MEMBER_SET_ROLE,
    ST_MEMBER_DELETE,
    ST_MEMBER_BUMP_EPOCH,
    ST_MEMBER_FALLBACK,
    ST_ADMIN_COUNT,
    ST_APIKEY_REVOKE_ORG,
    ST_USER_SET_PRIMARY,
    ST_USER_LIST_ORG,
    ST_USER_UPDATE,
    ST_USER_DELETE,
    ST_PERM_INSERT,
    ST_PERM_LIST,
    ST_INVITATION_INSERT,
    ST_INVITATION_LIST_ORG,
    ST_INVITATION_LIST_USER,
    ST_INVITATION_GET,
    ST_INVITATION_ANSWER,
    ST_INVITATION_DEAD,
    ST_INVITATION_REVOKE,
    ST_INVITATION_PURGE,
    ST_SESSION_INSERT,
    ST_SESSION_GET,
    ST_SESSION_LIST,
    ST_SESSION_TOUCH,
    ST_SESSION_REVOKE,
    ST_SESSION_REVOKE_FAMILY,
    ST_SESSION_REVOKE_USER,
    ST_SESSION_PURGE,
    ST_SESSION_REAUTH,
    ST_REFRESH_REAUTH,
    ST_MFA_GET,
    ST_MFA_PUT,
    ST_MFA_ENABLE,
    ST_MFA_USE_STEP,
    ST_MFA_CODES_CLEAR,
    ST_MFA_CODE_INSERT,
    ST_MFA_CODE_USE,
    ST_MFA_CODES_LEFT,
    ST_MFA_DELETE,
    ST_CHALLENGE_INSERT,
    ST_CHALLENGE_GET,
    ST_CHALLENGE_SPEND,
    ST_CHALLENGE_PURGE,
    ST_DATAKEY_INSERT,
    ST_DATAKEY_LIST,
    ST_SSO_PROVIDER_INSERT,
    ST_SSO_PROVIDER_GET,
    ST_SSO_PROVIDER_LIST,
    ST_SSO_PROVIDER_UPDATE,
    ST_SSO_PROVIDER_DELETE,
    ST_SSO_LINK_INSERT,
    ST_SSO_LINK_FIND,
    ST_SSO_LINK_LIST,
    ST_SSO_LINK_TOUCH,
    ST_SSO_LINK_DELETE,
    ST_SSO_STATE_INSERT,
    ST_SSO_STATE_PURGE,
    ST_SSO_STATE_TAKE,
    ST_VAULT_INSERT,
    ST_VAULT_LATEST,
    ST_VAULT_LIST,
    ST_VAULT_DELETE,
    ST_VAULT_SCAN,
    ST_VAULT_COUNT_BELOW,
    ST_VAULT_REKEY,
    ST_BLOCK_PURGE,
    ST_BLOCK_INSERT,
    ST_BLOCK_GET,
    ST_BLOCK_DELETE,
    ST_BLOCK_LIST,
    ST_BLOCK_BUMP,
    ST_BLOCK_EPOCH,
    ST_COUNT
};
/* The column lists of the row types (sql_<domain>.c), the same in every dialect. */
#define AUDIT_COLS                                                                                 \
    "id, ts, action, user_id, username, org_id, resource_type, resource_id, ip_address, "          \
    "user_agent, method, path, status, metadata, prev_hash, hash"
#define USER_COLS                                                                                  \
    "id, username, email, full_name, coalesce(primary_org_id, ''), disabled, superadmin, "         \
    "token_epoch, created_at, updated_at"
#define SESSION_COLS                                                                               \
    "id, session_hash, user_id, org_id, family_id, method, created_at, last_seen_at, expires_at, " \
    "ip_address, user_agent, auth_time"
#define REFRESH_COLS "id, token_hash, user_id, family_id, org_id, created_at, expires_at, auth_time"
#define APIKEY_COLS                                                                                \
    "id, key_hash, prefix, user_id, org_id, name, scopes, allowed_ips, coalesce(expires_at, 0), "  \
    "created_at, coalesce(last_used_at, 0), coalesce(last_used_ip, ''), coalesce(revoked_at, 0)"
/* An invitation as its invitee sees it (struct gh_invitation's order). */
#define INVITATION_SELECT                                                                          \
    "SELECT i.id, i.org_id, o.name, r.name, coalesce(u.username, ''), i.created_at, "              \
    "i.expires_at FROM org_invitations i JOIN orgs o ON o.id = i.org_id "                          \
    "JOIN roles r ON r.id = i.role_id LEFT JOIN users u ON u.id = i.invited_by "
#define SSO_PROVIDER_COLS                                                                          \
    "name, type, preset, tenant, issuer, authorization_endpoint, token_endpoint, "                 \
    "userinfo_endpoint, client_id, client_secret, token_auth, scopes, claim_subject, "             \
    "claim_email, claim_username, claim_name, default_role, pkce, enabled, auto_create_user, "     \
    "link_by_email, created_at, updated_at, sp_entity_id, idp_metadata, sp_private_key, "          \
    "sp_certificate, allowed_client_ids, trust_email, tokeninfo_endpoint, "                        \
    "idp_metadata_url, idp_metadata_at"
#define SSO_LINK_COLS "id, provider, subject, user_id, email, created_at, last_login_at"
#define SSO_STATE_COLS "state_hash, binding_hash, provider, redirect_to, created_at, expires_at"
#define VAULT_COLS "org_id, name, version, created_at, key_id, sealed"
#define BLOCK_COLS "id, cidr, reason, created_by, expires_at, created_at, automatic"
/* A user's epoch in an org outlives the membership (member_epochs): 0 until a removal. */
#define MEMBER_SELECT                                                                              \
    "SELECT o.id, o.name, r.name, r.permissions, COALESCE(e.epoch, 0) FROM memberships m "         \
    "JOIN orgs o ON o.id = m.org_id JOIN roles r ON r.id = m.role_id "                             \
    "LEFT JOIN member_epochs e ON e.org_id = m.org_id AND e.user_id = m.user_id "

#endif

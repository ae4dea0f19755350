#ifndef GH_STORE_RECORDS_H
#define GH_STORE_RECORDS_H

#include <stdint.h>

/*
 * The typed records of the store interface (store.h): what services read and write, the
 * same for every backend. All times are unix seconds (UTC).
 */

#define GH_UUID_LEN 36
#define GH_HASH_LEN 32 /* SHA-256 of a refresh token */

struct gh_user {
    char id[GH_UUID_LEN + 1];
    char username[65];
    char email[321];
    char full_name[257];
    char primary_org_id[GH_UUID_LEN + 1];
    int disabled;
    int superadmin;
    int64_t token_epoch; /* bumped to revoke every access token of the user */
    int64_t created_at;
    int64_t updated_at;
};

/**
 * What the credential check reads, and only it: display reads (user_get, user_find_login,
 * the lists) never select the password hash. The holder wipes it (sodium_memzero).
 */
#define GH_PASSWORD_HASH_LEN 256 /* PHC / crypt(3) string and its NUL */
struct gh_credentials {
    char user_id[GH_UUID_LEN + 1];
    char password_hash[GH_PASSWORD_HASH_LEN]; /* never a password */
};

struct gh_org {
    char id[GH_UUID_LEN + 1];
    char name[129];
    int64_t created_at;
};

/** A user's place in one org: the role's name and its permissions joined with ' ', and
 * the user's epoch in the org: how many times the user was removed from it. */
struct gh_membership {
    char org_id[GH_UUID_LEN + 1];
    char org_name[129];
    char role_name[65];
    char permissions[2048];
    int64_t epoch;
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
    int64_t auth_time; /* the family's last sign-in or re-authentication; rotation keeps it */
};

/** One audit record (API.md "Audit"); empty strings are stored as NULL. */
struct gh_audit_event {
    int64_t ts;
    const char *action; /* LOGIN, LOGIN_FAILED, ... */
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
    int64_t last_used_at; /* 0 = never */
    char last_used_ip[64];
    int64_t revoked_at; /* 0 = live */
};

/** One coalesced use of an API key, for apikey_touch. */
struct gh_api_key_use {
    char id[GH_UUID_LEN + 1];
    int64_t at;
    char ip[64];
};

/**
 * A browser session (authn/session.c). The gh_sid cookie is never stored, only its
 * SHA-256; id is the public name a user lists and revokes it by.
 */
struct gh_session {
    char id[GH_UUID_LEN + 1];
    unsigned char hash[GH_HASH_LEN]; /* SHA-256 of the session cookie */
    char user_id[GH_UUID_LEN + 1];
    char org_id[GH_UUID_LEN + 1];    /* the org its requests act in */
    char family_id[GH_UUID_LEN + 1]; /* the refresh family of its refresh cookie */
    char method[32];                 /* how it signed in: password, password+totp, backup_code */
    int64_t created_at;
    int64_t last_seen_at; /* coalesced: written at most about once a minute */
    int64_t expires_at;   /* the absolute timeout */
    char ip_address[64];
    char user_agent[256];
    int64_t
        auth_time; /* its sign-in or last re-authentication (0: made before SQLite migration 15) */
};

/** A user's TOTP factor; secret is sealed (never the raw secret). */
struct gh_mfa {
    char user_id[GH_UUID_LEN + 1];
    char secret[256];  /* the sealed secret text */
    int enabled;       /* 0: set up, waiting for its first code */
    int64_t last_step; /* the newest time step accepted: older and equal ones are replays */
    int64_t created_at;
};

#define GH_BACKUP_CODES 10

/** A login waiting for its second factor: the mfa_token, stored as its SHA-256. */
struct gh_mfa_challenge {
    unsigned char hash[GH_HASH_LEN];
    char user_id[GH_UUID_LEN + 1];
    char org_id[GH_UUID_LEN + 1]; /* "" the primary org */
    int64_t created_at;
    int64_t expires_at;
};

/**
 * A data key of the field encryption and the vault (crypto/datakeys.h), as stored: wrapped
 * (AES-256-GCM under a key derived from the master key), never in clear. ids grow: the
 * highest is the current key.
 */
#define GH_WRAPPED_KEY_LEN 60 /* nonce 12 + key 32 + tag 16 */
struct gh_data_key {
    int64_t id; /* 1 .. 2^31-1 */
    unsigned char wrapped[GH_WRAPPED_KEY_LEN];
    int64_t created_at;
};

/**
 * An identity provider Gatehouse signs users in through (authn/sso_providers.h), as
 * stored: every value already validated by the service; client_secret is the sealed
 * enc:v1 text (never the secret itself), "" when there is none. Text fields "" when unset.
 */
#define GH_SSO_NAME_MAX 64
#define GH_SSO_URL_MAX 512
#define GH_SSO_SEALED_MAX 1024
#define GH_SSO_CLIENTS_MAX 8 /* allowed_client_ids: at most this many, each < 257 bytes */
#define GH_SAML_METADATA_MAX 32768
#define GH_SAML_KEY_MAX 4096        /* a PEM private key (RSA up to 4096 bits) */
#define GH_SAML_KEY_SEALED_MAX 5632 /* its enc:v1 text */
#define GH_SAML_CERT_MAX 8192
struct gh_sso_provider {
    char name[GH_SSO_NAME_MAX + 1]; /* [a-z0-9_-], the key: never renamed */
    char type[8];                   /* oidc | oauth2 | saml */
    char preset[16];                /* "" | google | microsoft | okta */
    char tenant[256];               /* microsoft: the tenant; okta: the org's domain */
    char issuer[GH_SSO_URL_MAX + 1];
    char authorization_endpoint[GH_SSO_URL_MAX + 1];
    char token_endpoint[GH_SSO_URL_MAX + 1];
    char userinfo_endpoint[GH_SSO_URL_MAX + 1];
    char client_id[256];
    char client_secret[GH_SSO_SEALED_MAX]; /* sealed */
    char token_auth[24];                   /* client_secret_basic | client_secret_post */
    char scopes[256];                      /* space-separated */
    char claim_subject[64];                /* claim paths (a.b.c) of the userinfo answer */
    char claim_email[64];
    char claim_username[64];
    char claim_name[64];
    char default_role[64];
    int pkce;
    int enabled;
    int auto_create_user;
    int link_by_email;
    int64_t created_at;
    int64_t updated_at;
    /* type saml */
    char sp_entity_id[GH_SSO_URL_MAX + 1];       /* "": the metadata URL (saml_flow.h) */
    char idp_metadata[GH_SAML_METADATA_MAX + 1]; /* the IdP's EntityDescriptor */
    char sp_private_key[GH_SAML_KEY_SEALED_MAX]; /* PEM, sealed */
    char sp_certificate[GH_SAML_CERT_MAX + 1];   /* PEM */
    /* provider-token login: the client ids whose access tokens are taken, space-separated
     * ("": any token the provider accepts; authn/sso_token.h) */
    char allowed_client_ids[GH_SSO_CLIENTS_MAX * 257];
    int trust_email; /* the IdP's email counts as verified (SAML has no email_verified) */
    /* google preset: where to ask which app an access token was issued to (Google's
     * tokeninfo; authn/sso_client.h); "" none */
    char tokeninfo_endpoint[GH_SSO_URL_MAX + 1];
    char idp_metadata_url[GH_SSO_URL_MAX + 1]; /* "": idp_metadata was given inline */
    int64_t idp_metadata_at; /* when idp_metadata was fetched from it (0: never) */
};

/**
 * An outside identity linked to a user (authn/sso_account.h): the provider's subject
 * signs in as user_id. One user may have several; (provider, subject) is unique.
 */
#define GH_SSO_SUBJECT_MAX 255
struct gh_sso_link {
    char id[GH_UUID_LEN + 1];
    char provider[GH_SSO_NAME_MAX + 1];
    char subject[GH_SSO_SUBJECT_MAX + 1];
    char user_id[GH_UUID_LEN + 1];
    char email[321]; /* as the provider said at linking; "" none */
    int64_t created_at;
    int64_t last_login_at;
};

/**
 * A sign-in waiting for the provider (authn/sso_flow.h): the state parameter's SHA-256,
 * the SHA-256 of the browser's gh_sso cookie it is bound to, where to go after; used once.
 */
#define GH_SSO_RETURN_MAX 1024
struct gh_sso_state {
    unsigned char hash[GH_HASH_LEN];
    unsigned char binding[GH_HASH_LEN];
    char provider[GH_SSO_NAME_MAX + 1];
    char redirect_to[GH_SSO_RETURN_MAX + 1];
    int64_t created_at;
    int64_t expires_at;
};

/** A vault item as listed: its newest version, never its value. */
#define GH_VAULT_NAME_MAX 128
struct gh_vault_item {
    char org_id[GH_UUID_LEN + 1];
    char name[GH_VAULT_NAME_MAX + 1];
    int64_t version;    /* 1, 2, ... per (org, name) */
    int64_t updated_at; /* when this version was written */
};

/**
 * One version of a vault value, sealed (crypto/vault.h): XChaCha20-Poly1305 under the
 * org's vault subkey of data key key_id. The store never sees a value in clear.
 */
#define GH_VAULT_VALUE_MAX 65536
#define GH_VAULT_SEALED_MAX (GH_VAULT_VALUE_MAX + 40) /* nonce 24 + tag 16 */
struct gh_vault_entry {
    struct gh_vault_item item;
    int64_t key_id;
    size_t len; /* of sealed */
    unsigned char sealed[GH_VAULT_SEALED_MAX];
};

/**
 * An address block (edge/blocks.h): requests from cidr are refused before routing until
 * expires_at (0: never). cidr is the canonical text ("10.0.0.0/8", "2001:db8::/32"),
 * validated by the service; created_by says who: a user name, "cli", or "alert:RULE" for
 * an alert rule's automatic block (automatic 1).
 */
#define GH_BLOCK_CIDR_MAX 50 /* "ffff:...:ffff/128" is 43, with the NUL */
#define GH_BLOCK_REASON_MAX 256
#define GH_BLOCK_BY_MAX 80
struct gh_address_block {
    char id[GH_UUID_LEN + 1];
    char cidr[GH_BLOCK_CIDR_MAX];
    char reason[GH_BLOCK_REASON_MAX + 1];
    char created_by[GH_BLOCK_BY_MAX];
    int64_t expires_at;
    int64_t created_at;
    int automatic;
};

#endif
